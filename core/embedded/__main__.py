"""`python -m core.embedded --port PORT [--home DIR] [--host 127.0.0.1]` (installed: `iav3-serve`): serve the
embedded backend's models (bundled, pulled from Hugging Face, IA_HOME/models/*.gguf, Ollama's downloaded
models) in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the embedded server (Ollama API, and the OpenAI API under /v1) and block until Ctrl-C."""
    started_as = Path(sys.argv[0]).name
    parser = argparse.ArgumentParser(
        prog="python -m core.embedded" if started_as == "__main__.py" else started_as,  # or iav3-serve
        description="Serve the bundled models, the GGUF models pulled from Hugging Face, IA_HOME/models/*.gguf and "
        "Ollama's downloaded models (llama.cpp) over the Ollama HTTP API and the OpenAI-compatible API (/v1), "
        "for any Ollama or OpenAI client.",
    )
    parser.add_argument(
        "--port", type=int, default=11434, help="TCP port (default 11434, Ollama's; 0 = any free)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--home", type=Path, default=None, help="IA_HOME whose models (pulled, *.gguf) are served"
    )
    args = parser.parse_args(argv)
    try:
        from core.embedded.llama_engine import LlamaEngine
        from core.embedded.server import EmbeddedServer

        engine = LlamaEngine(args.home)
        cards = engine.list_models()  # reads metadata and digests once, before the server is announced
        server = EmbeddedServer(engine, host=args.host, port=args.port)
        url = server.start()
    except ImportError as exc:
        from core.i18n import _
        from core.locations import extra_install_hint

        print(
            _("The embedded backend is not installed ({error}). {install}.").format(
                error=exc, install=extra_install_hint("embedded")
            ),
            file=sys.stderr,
        )
        return 3
    except (OSError, RuntimeError) as exc:
        from core.i18n import _

        print(
            _("Cannot start the embedded server on {address}: {error}").format(
                address=f"{args.host}:{args.port}", error=exc
            ),
            file=sys.stderr,
        )
        return 3
    print(f"IA_V3 embedded Ollama-compatible server (llama.cpp) at {url}", flush=True)
    for card in cards:
        print(
            f"  {card.name:<24} {card.parameter_size:>6} {card.quantization_level:<8} {card.path}", flush=True
        )
    print(
        f"Use it with OLLAMA_HOST={url}, or as an OpenAI-compatible API at {url}/v1 (Ctrl-C to stop).",
        flush=True,
    )
    try:
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
