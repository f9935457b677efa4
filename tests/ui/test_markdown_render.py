"""Markdown → display blocks, Pygments → markup, and the splitting that keeps Labels under the texture limit."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.highlight import highlight_markup
from ui.markdown_render import Block, MarkdownStream, render_blocks, split_lines, split_markup

PALETTE = {"link": "#0000ff", "inline_code": "#aa0000"}
TAG = re.compile(r"\[/?(b|i|u|s|color|font|size|ref)(=[^\]]*)?\]")


def plain(markup: str) -> str:
    """What a Label shows for `markup`: tags removed, escapes decoded."""
    return TAG.sub("", markup).replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")


def balanced(markup: str) -> bool:
    stack: list[str] = []
    for m in TAG.finditer(markup):
        name = m.group(1)
        if m.group(0).startswith("[/"):
            if not stack or stack[-1] != name:
                return False
            stack.pop()
        else:
            stack.append(name)
    return not stack


def test_headings_become_heading_blocks() -> None:
    blocks = render_blocks("# Title\n\n### Third *level*\n", PALETTE)
    assert [(b.kind, b.style) for b in blocks] == [("text", "h1"), ("text", "h3")]
    assert blocks[0].markup == "Title"
    assert blocks[1].markup == "Third [i]level[/i]"


def test_emphasis_strike_inline_code_and_links() -> None:
    (block,) = render_blocks("a *b* **c** ~~d~~ `e[0]` [site](https://example.com/x)", PALETTE)
    assert block.style == "p"
    assert "[i]b[/i]" in block.markup
    assert "[b]c[/b]" in block.markup
    assert "[s]d[/s]" in block.markup
    assert "[font=RobotoMono][color=#aa0000]e&bl;0&br;[/color][/font]" in block.markup
    assert "[ref=https://example.com/x][color=#0000ff][u]site[/u][/color][/ref]" in block.markup
    assert plain(block.markup) == "a b c d e[0] site"


def test_lists_merge_into_one_block_with_bullets_numbers_and_nesting() -> None:
    (block,) = render_blocks("- one\n- two\n  1. first\n  2. second\n- three\n", PALETTE)
    assert block.style == "list"
    assert plain(block.markup).split("\n") == ["• one", "• two", "    1. first", "    2. second", "• three"]


def test_ordered_list_keeps_its_start_number() -> None:
    (block,) = render_blocks("3. c\n4. d\n", PALETTE)
    assert plain(block.markup).split("\n") == ["3. c", "4. d"]


def test_quote_is_a_quote_block() -> None:
    blocks = render_blocks("> quoted **text**\n> more\n\nafter\n", PALETTE)
    assert [(b.kind, b.style) for b in blocks] == [("text", "quote"), ("text", "p")]
    assert plain(blocks[0].markup) == "quoted text\nmore"


def test_table_is_aligned_monospace_with_bold_header() -> None:
    (block,) = render_blocks("| Name | Qty |\n|:-----|----:|\n| apple | 3 |\n| kiwi | 12 |\n", PALETTE)
    assert block.kind == "table"
    lines = plain(block.markup).split("\n")
    assert lines == ["Name  | Qty", "------+----", "apple |   3", "kiwi  |  12"]
    assert block.markup.startswith("[b]Name [/b]")


def test_fenced_and_indented_code_blocks_keep_exact_code() -> None:
    text = "```python\nx = [1] & 2\n\n# end\n```\n\n    indented()\n"
    blocks = render_blocks(text, PALETTE)
    assert blocks == [
        Block("code", code="x = [1] & 2\n\n# end", lang="python"),
        Block("code", code="indented()", lang=""),
    ]


def test_rule_and_raw_html_shown_as_text() -> None:
    blocks = render_blocks("above\n\n---\n\n<b>not markup</b>\n", PALETTE)
    assert [b.kind for b in blocks] == ["text", "rule", "text"]
    assert plain(blocks[2].markup) == "<b>not markup</b>"


def test_markup_in_source_text_is_escaped_not_interpreted() -> None:
    (block,) = render_blocks(r"[b]not bold[/b] & \[color=#ff0000\] x", PALETTE)
    assert "[b]" not in block.markup
    assert block.markup == "&bl;b&br;not bold&bl;/b&br; &amp; &bl;color=#ff0000&br; x"


def test_highlight_colors_python_tokens() -> None:
    markup = highlight_markup("def f(x):\n    return 1\n", "python", "friendly")
    assert re.search(r"\[color=#[0-9a-f]{6}\](\[b\])?def", markup)
    assert re.search(r"\[color=#[0-9a-f]{6}\](\[b\])?return", markup)
    assert plain(markup) == "def f(x):\n    return 1\n"


def test_highlight_escapes_brackets_and_ampersands() -> None:
    code = 'a = x[0] & y["[b]"]  # [i]not italic[/i] &amp;\n'
    markup = highlight_markup(code, "python", "monokai")
    assert '[b]"' not in markup and "[i]not" not in markup
    assert "&bl;" in markup and "&br;" in markup and "&amp;amp;" in markup
    assert plain(markup) == code
    assert balanced(markup)


def test_highlight_unknown_language_is_plain_escaped_text() -> None:
    markup = highlight_markup("some [text] & more", "no-such-language", "friendly")
    assert markup == "some &bl;text&br; &amp; more"


def test_stream_gives_the_same_blocks_as_one_render() -> None:
    pieces = [
        "# T\n",
        "para *a*\n",
        "- i\n",
        "\n",
        "```py\n",
        "x=[1]\n",
        "```\n",
        "> q\n",
        "| a |\n|---|\n| 1 |\n",
    ]
    rng = random.Random(7)
    for _ in range(40):
        text = "".join(rng.choice(pieces) + rng.choice(["", "\n", " word "]) for _ in range(60))
        stream = MarkdownStream(PALETTE)
        pos = 0
        while pos < len(text):
            pos = min(len(text), pos + rng.randint(1, 12))
            _, tail = stream.update(text[:pos])
        assert stream.final + tail == render_blocks(text, PALETTE)


def test_stream_parses_only_the_tail() -> None:
    stream = MarkdownStream(PALETTE)
    paras = [f"Paragraph {i} with some words.\n\n" for i in range(200)]
    new_final, tail = stream.update("".join(paras) + "last one still com")
    # the last complete paragraph stays in the tail until a complete line starts another block
    assert len(new_final) == 199
    assert [plain(b.markup) for b in tail] == ["Paragraph 199 with some words.", "last one still com"]
    assert stream.offset == len("".join(paras[:199]))
    new_final, tail = stream.update("".join(paras) + "last one still coming\n\nnext")
    assert [plain(b.markup) for b in new_final] == ["Paragraph 199 with some words."]
    assert [plain(b.markup) for b in tail] == ["last one still coming", "next"]
    assert len(stream.final) == 200


def test_stream_appends_plain_words_without_parsing_and_shows_what_a_parse_would() -> None:
    """Plain words added to the last line skip markdown-it (MarkdownStream.appended counts them); at every
    step, received word by word or character by character, the tail is exactly what parsing it gives, also
    where one more character changes the structure ("1" + ".", "-" + " item", "**" closing, an entity,
    a CJK run in a fallback font)."""
    atoms = ["word", "a", "1", "1.", "2)", "-", "*", "**", "_", "`", "#", "##", ">", "|", "---", "===", "[x]"]
    atoms += [
        "(y)",
        "&",
        "&amp;",
        "\\",
        "~~",
        "<a>",
        "  ",
        " ",
        "\n",
        "\n\n",
        "    ",
        "```",
        "é",
        "日本",
        "!",
    ]
    rng = random.Random(11)
    texts = [
        "A paragraph with **bold** words and `code()` then plain words that go on.\n\n- item one\n- item two",
        "see 1.\n1. x\n\nTitle\n---\nword a >\n\n> quote goes on\n\n## Title here ##\n\ntext 日本 more",
    ]
    texts += [
        "".join(rng.choice(atoms) + rng.choice(["", " ", " ", "\n"]) for _ in range(60)) for _ in range(60)
    ]
    appended = 0
    for text in texts:
        for pieces in (list(text), re.findall(r"\s*\S+|\s+$", text)):
            stream = MarkdownStream(PALETTE)
            shown = ""
            for piece in pieces:
                shown += piece
                _, tail = stream.update(shown)
                assert tail == render_blocks(shown[stream.offset :], PALETTE), repr(shown)
            appended += stream.appended
    assert appended > 300  # the fast path was taken, and often


def test_half_received_line_does_not_end_a_list_early() -> None:
    stream = MarkdownStream(PALETTE)
    stream.update("- item\n*")  # "*" could be a new list; it is the start of "*word*"
    new_final, tail = stream.update("- item\n*word*\n")
    assert new_final == [] and stream.final == []
    assert plain(tail[0].markup) == "• item\nword"


def test_split_markup_reopens_tags_across_pieces() -> None:
    markup = "[b]" + "\n".join(f"line {i} [i]x[/i]" for i in range(10)) + "[/b]"
    pieces = split_markup(markup, max_chars=10_000, max_lines=4)
    assert len(pieces) == 3
    assert all(balanced(p) and p.startswith("[b]") and p.endswith("[/b]") for p in pieces)
    assert "\n".join(plain(p) for p in pieces) == plain(markup)


def test_split_markup_cuts_one_enormous_word_outside_escapes() -> None:
    markup = "&bl;" * 3000
    pieces = split_markup(markup, max_chars=500, max_lines=10)
    assert len(pieces) > 1
    assert all(re.fullmatch(r"(&bl;)+", p) for p in pieces)
    assert "".join(pieces) == markup


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["word", "[b]bold", "[/b]", "[i]it", "[/i]", "&amp;", "&bl;", " ", "\n", "x" * 90]),
        max_size=400,
    ),
    max_chars=st.integers(min_value=20, max_value=400),
    max_lines=st.integers(min_value=1, max_value=8),
)
def test_split_markup_keeps_text_and_bounds_each_piece(
    words: list[str], max_chars: int, max_lines: int
) -> None:
    # build well-formed markup: close every [b]/[i] that was opened, drop stray closers
    out, stack = [], []
    for w in words:
        if w in ("[/b]", "[/i]"):
            if stack and stack[-1] == w:
                out.append(stack.pop())
            continue
        if w.startswith("[b]") or w.startswith("[i]"):
            stack.append("[/b]" if w.startswith("[b]") else "[/i]")
        out.append(w)
    markup = "".join(out) + "".join(reversed(stack))
    pieces = split_markup(markup, max_chars, max_lines)
    assert all(balanced(p) for p in pieces)
    joined = "".join(plain(p) for p in pieces)
    assert joined.replace("\n", "").replace(" ", "") == plain(markup).replace("\n", "").replace(" ", "")
    for p in pieces:
        assert len(plain(p)) <= 2 * max_chars + 10
        assert plain(p).count("\n") <= max_lines


@pytest.mark.parametrize("limit", [5, 40])
def test_split_lines_keeps_code_and_bounds_pieces(limit: int) -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(200))
    pieces = split_lines(code, max_chars=10_000, max_lines=limit)
    assert "\n".join(pieces) == code
    assert all(p.count("\n") < limit for p in pieces)


def test_split_lines_wraps_one_huge_line() -> None:
    pieces = split_lines("a" * 10_000, max_chars=1500, max_lines=30)
    assert "".join(pieces) == "a" * 10_000
    assert all(len(p) <= 1500 for p in pieces)
