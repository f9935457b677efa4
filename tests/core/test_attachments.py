"""Files attached to a message: reading with a limit and clear refusals, the fenced block, finding it again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.attachments import (
    MAX_FILE_BYTES,
    Attachment,
    AttachmentRefused,
    file_block,
    language_for,
    message_with_files,
    read_attachment,
    split_attachments,
)
from core.sav_manager import extract_code_blocks


def test_a_code_file_is_read_with_its_language_and_line_count(tmp_path: Path) -> None:
    path = tmp_path / "add.py"
    path.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    found = read_attachment(path)
    assert found == Attachment(name="add.py", lang="python", text="def add(a, b):\n    return a + b\n")
    assert found.lines == 2 and found.label == "add.py · 2 lines"
    assert Attachment("one", "", "x").label == "one · 1 line"
    assert Attachment("empty", "", "").lines == 0


def test_crlf_and_a_byte_order_mark_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\xef\xbb\xbfline one\r\nline two\r\n")
    assert read_attachment(path).text == "line one\nline two\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.py", "Cannot attach missing.py: the file does not exist."),
        (lambda d: d, "it is a folder (attach the files in it one by one)."),
        (lambda d: _write(d / "blob.bin", b"GIF\x00\x01"), "Cannot attach blob.bin: it is a binary file, not text."),
        (lambda d: _write(d / "latin.txt", "café".encode("latin-1")), "Cannot attach latin.txt: it is not UTF-8 text."),
        (
            lambda d: _write(d / "big.log", b"x" * (MAX_FILE_BYTES + 1)),
            "Cannot attach big.log: it is too big (100.0 KB; the limit is 100.0 KB).",
        ),
        (
            lambda d: _write(d / "huge.log", b"y" * (3 * 1024 * 1024)),
            "Cannot attach huge.log: it is too big (3.0 MB; the limit is 100.0 KB).",
        ),
    ],
)  # fmt: skip
def test_files_that_cannot_be_attached_are_refused_with_the_reason(
    tmp_path: Path, make, message: str
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        read_attachment(make(tmp_path))
    assert message in str(refused.value)


def test_the_limit_is_a_parameter(tmp_path: Path) -> None:
    path = _write(tmp_path / "ten.txt", b"0123456789")
    assert read_attachment(path, max_bytes=10).text == "0123456789"
    with pytest.raises(AttachmentRefused, match="too big .10 bytes; the limit is 9 bytes"):
        read_attachment(path, max_bytes=9)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="Linux's /proc")
def test_a_file_whose_read_fails_is_refused() -> None:
    # /proc/self/mem is a regular file whose read fails with EIO, even for root.
    with pytest.raises(
        AttachmentRefused, match=r"Cannot attach mem: it cannot be read \(Input/output error\)"
    ):
        read_attachment("/proc/self/mem")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "secret.txt", b"x")
    path.chmod(0)
    try:
        with pytest.raises(AttachmentRefused, match="secret.txt: it cannot be read"):
            read_attachment(path)
    finally:
        path.chmod(0o600)


def test_a_special_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(AttachmentRefused, match="pipe: it is not a regular file"):
        read_attachment(fifo)


def test_the_block_names_the_file_and_its_fence_outlasts_any_backtick_run() -> None:
    text = "print('```')\n````\n"
    block = file_block("demo.py", text)
    assert block == f'File: demo.py\n`````python file="demo.py"\n{text}`````'
    # A Markdown parser (ours, and any CommonMark viewer) sees one code block holding the file, named.
    (token,) = [t for t in MarkdownIt("commonmark").parse(block) if t.type == "fence"]
    assert token.content == text and token.info == 'python file="demo.py"'
    assert [(b.lang, b.code) for b in extract_code_blocks(block)] == [("python", text)]


def test_a_name_with_a_backtick_gets_a_tilde_fence() -> None:
    block = file_block("odd`name.md", "~~~\ntext\n")
    assert block.split("\n")[1] == '~~~~markdown file="odd`name.md"'
    (token,) = [t for t in MarkdownIt("commonmark").parse(block) if t.type == "fence"]
    assert token.content == "~~~\ntext\n"


def test_a_file_without_a_last_line_end_gets_one_before_the_fence() -> None:
    block = file_block("a.txt", "no newline")
    assert block.endswith("no newline\n```")
    assert split_attachments(block) == [Attachment("a.txt", "", "no newline\n")]


def test_message_with_files_puts_the_text_first_and_split_finds_everything_again() -> None:
    files = [Attachment("a.py", "python", "x = 1\n"), Attachment("b.json", "json", "{}\n")]
    content = message_with_files("Compare these:", files)
    assert content.startswith("Compare these:\n\nFile: a.py\n")
    assert split_attachments(content) == ["Compare these:", *files]
    assert split_attachments(message_with_files("   ", files)) == files
    assert split_attachments("no files here\nFile: x") == ["no files here\nFile: x"]
    assert split_attachments("") == []


def test_look_alikes_are_left_as_text() -> None:
    unclosed = 'File: a.py\n````python file="a.py"\nnever closed'
    wrong_name = 'File: b.py\n```python file="a.py"\nx\n```'
    bad_json = 'File: a.py\n```python file="a.py\\q"\nx\n```'
    for text in (unclosed, wrong_name, bad_json):
        assert split_attachments(text) == [text]


def test_language_comes_from_the_name() -> None:
    assert language_for("main.rs") == "rust"
    assert language_for("Makefile") == "make"
    assert language_for("notes.txt") == ""
    assert language_for("data.unknown-extension") == ""


names = st.text(min_size=1, max_size=30).filter(lambda n: "/" not in n)
texts = st.text().map(lambda t: t.replace("\r", ""))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.lists(st.tuples(names, texts), max_size=3))
def test_any_names_and_texts_come_back(typed: str, raw: list[tuple[str, str]]) -> None:
    files = [Attachment(name, language_for(name), text) for name, text in raw]
    parts = split_attachments(message_with_files(typed, files))
    found = [p for p in parts if isinstance(p, Attachment)]
    assert [(f.name, f.lang) for f in found] == [(f.name, f.lang) for f in files]
    assert [f.text for f in found] == [t if not t or t.endswith("\n") else t + "\n" for _, t in raw]
    shown = typed.strip("\n") if files else typed  # text alone is left as it is
    assert [p for p in parts if isinstance(p, str)] == ([shown] if typed.strip() else [])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
