"""Import and export at scale, each beside the least the same work could cost, in one run.

- Import of a ChatGPT export of N conversations (20 messages each, a regenerated branch in each) through
  `SessionManager.import_file`, beside its floor: `json.loads` of the same file plus writing the same
  conversations with `write_conversation` into plain folders (no parsing of the export's tree, no staging,
  no index). The ratio is what reading the export's format, staying all-or-nothing and indexing cost.
- HTML export of one long conversation (200 messages with code) through `SessionManager.export`, beside
  markdown-it rendering the same message texts (no highlighting, no page).

    python bench/import_export.py [--conversations 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import Settings  # noqa: E402
from core.importers import read_export  # noqa: E402
from core.sav_manager import write_conversation  # noqa: E402
from core.session_manager import SessionManager  # noqa: E402
from tests.fixtures.exports import chatgpt_conversation  # noqa: E402

WORDS = str.split("the model reply code python function value list error file test data server token stream")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def chatgpt_export(path: Path, conversations: int, seed: int = 7) -> None:
    """conversations.json with ``conversations`` conversations of about 20 visible messages each."""
    rng = random.Random(seed)
    items = []
    for n in range(conversations):
        conv = chatgpt_conversation(f"Topic {n} {_text(rng, 3)}", conv_id=f"c{n}", image_id=None)
        mapping, parent = conv["mapping"], "a2"
        mapping["a2"]["children"] = []
        for i in range(8):  # eight more exchanges after the sample's own
            for role, words in (("user", 25), ("assistant", 120)):
                node = f"x{i}{role[0]}"
                message = json.loads(json.dumps(mapping["q2" if role == "user" else "a2"]["message"]))
                message["id"] = node
                message["content"]["parts"] = [_text(rng, words)]
                message["create_time"] = conv["create_time"] + 100 + i * 10 + (role == "assistant")
                mapping[node] = {"id": node, "message": message, "parent": parent, "children": []}
                mapping[parent]["children"].append(node)
                parent = node
        conv["current_node"] = parent
        items.append(conv)
    path.write_text(json.dumps(items), encoding="utf-8")


def floor(path: Path, target: Path) -> None:
    """The least an import could do: decode the JSON, write each conversation (as parsed) once."""
    json.loads(path.read_bytes())
    for n, item in enumerate(read_export(path).conversations):  # conversations as they will be written
        folder = target / str(n)
        folder.mkdir(parents=True)
        write_conversation(folder / "conversation.md", item.conversation)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ia_bench_import_"))
    try:
        export = work / "conversations.json"
        chatgpt_export(export, args.conversations)
        size = export.stat().st_size
        parse_only = [timed(lambda: read_export(export)) for _ in range(args.repeat)]
        loads_only = [timed(lambda: json.loads(export.read_bytes())) for _ in range(args.repeat)]
        ours, floors = [], []
        for r in range(args.repeat):
            home = work / f"home{r}"
            sm = SessionManager(Settings(home=home))
            ours.append(timed(lambda sm=sm: sm.import_file(export)))
            count = len(sm.list())
            sm.close()
            floors.append(timed(lambda r=r: floor(export, work / f"floor{r}")))
            shutil.rmtree(home)
            shutil.rmtree(work / f"floor{r}")
        print(f"ChatGPT export: {args.conversations} conversations, {size / 2**20:.1f} MB, {count} imported")
        print(
            f"  read_export (parse only)     {statistics.median(parse_only):6.2f} s   json.loads alone "
            f"{statistics.median(loads_only):6.2f} s"
        )
        print(
            f"  import_file (all or nothing) {statistics.median(ours):6.2f} s   floor (loads + write) "
            f"{statistics.median(floors):6.2f} s   ratio {statistics.median(ours) / statistics.median(floors):.2f}"
        )

        from markdown_it import MarkdownIt

        home = work / "export"
        sm = SessionManager(Settings(home=home))
        conv = sm.create("Long one")
        rng = random.Random(3)
        for i in range(100):
            sm.add_user_message(conv, _text(rng, 30))
            writer = sm.start_reply(conv, "m")
            writer.append(
                _text(rng, 80) + f"\n\n```python\ndef f{i}(x):\n    return x * {i}\n```\n\n" + _text(rng, 40)
            )
            writer.finish(None)
        texts = [m.content for m in sm.load(conv.slug).messages]
        page = [timed(lambda: sm.export(conv.slug, "html", work / "page.html")) for _ in range(args.repeat)]
        md = MarkdownIt("commonmark")
        bare = [timed(lambda: [md.render(t) for t in texts]) for _ in range(args.repeat)]
        sm.close()
        print(
            f"HTML export, 200 messages with code: {statistics.median(page) * 1000:6.0f} ms   "
            f"markdown-it alone {statistics.median(bare) * 1000:6.0f} ms   "
            f"page {(work / 'page.html').stat().st_size / 1024:.0f} KB"
        )
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
