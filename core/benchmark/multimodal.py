"""Vision suite for multimodal models: images drawn by code (Pillow) with known answers, scored exactly.

Public API:
    VisionProblem(task_id, prompt, image_b64, answer, scorer, tier)    # scorer: "number" | "colour" | "text"
    vision_suite(seed: int = 0, count: int = 24) -> dict[str, VisionProblem]   # deterministic from the seed
    check_answer(problem, reply) -> (passed, result)   # result: "passed" | "failed: expected 3, got 5"
    score_answer(problem: VisionProblem, reply: str) -> bool
    normalise_answer(reply: str) -> str;  answer_text(reply) -> str   # the answer kept in samples.jsonl
    check_known_answers(problems) -> list[(task_id, why)]      # selfcheck: known answers pass, wrong ones fail
    write_vision_suite(path, seed=0, count=24, image_dir=None) -> Path;  load_vision_suite(path) -> dict
    python -m core.benchmark.multimodal OUT.jsonl [--seed N] [--count N] [--images DIR]
Record format (JSONL): task_id, kind="vision", prompt, images=[base64 PNG], answer, scorer, tier; the runner
sends ``images`` with the prompt in one chat message (the suite `multimodal`, or such a file as --problems).
Scoring: the reply is normalised (thinking removed, lower case, punctuation dropped, number words as
digits); a number or colour answer must contain exactly one number (one palette colour) and it must equal
the answer; a text answer must contain the expected word as a whole word (number words left as they are,
the word to read may be SEVEN). Nothing is ever executed.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from core.benchmark.extraction import clean_reply
from core.benchmark.problems import VISION_SUITE, read_jsonl, write_jsonl
from core.errors import BenchmarkError
from core.i18n import _

__all__ = [
    "PALETTE",
    "SUITE_NAME",
    "VisionProblem",
    "answer_text",
    "check_answer",
    "check_known_answers",
    "load_vision_suite",
    "main",
    "normalise_answer",
    "score_answer",
    "vision_suite",
    "write_vision_suite",
    "wrong_answer",
]

SUITE_NAME = VISION_SUITE  # "multimodal": vision_suite() with its default seed and count

PALETTE = {
    "red": (220, 30, 30),
    "green": (30, 160, 60),
    "blue": (40, 70, 220),
    "yellow": (240, 210, 20),
    "orange": (245, 140, 20),
    "purple": (130, 50, 170),
    "black": (0, 0, 0),
}
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
}
_SIZE = 384
_SCORERS = ("number", "colour", "text")


@dataclass(frozen=True)
class VisionProblem:
    """One image question with a single correct, exactly scored answer."""

    task_id: str
    prompt: str
    image_b64: str
    answer: str
    scorer: str
    tier: str = "easy"

    def to_record(self) -> dict[str, Any]:
        """JSONL record; ``images`` holds the base64 PNG as the Ollama API expects."""
        return {
            "task_id": self.task_id,
            "kind": "vision",
            "prompt": self.prompt,
            "images": [self.image_b64],
            "answer": self.answer,
            "scorer": self.scorer,
            "tier": self.tier,
        }

    @property
    def kind(self) -> str:
        """ "vision": the runner sends the image with the question and scores the answer as text."""
        return "vision"

    @property
    def images(self) -> list[str]:
        """Images to send with the prompt (base64 PNG), as Ollama's ``images`` field takes them."""
        return [self.image_b64]

    @property
    def image_bytes(self) -> bytes:
        """The PNG image."""
        return base64.b64decode(self.image_b64)


def _png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _free_boxes(rng: random.Random, count: int, size: int) -> list[tuple[int, int, int, int]]:
    """``count`` non-overlapping squares of side ``size`` on a grid, so shapes never touch."""
    cells = _SIZE // (size + 16)
    slots = rng.sample([(r, c) for r in range(cells) for c in range(cells)], count)
    boxes = []
    for row, col in slots:
        x, y = col * (size + 16) + 8, row * (size + 16) + 8
        boxes.append((x, y, x + size, y + size))
    return boxes


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], colour: str) -> None:
    fill = PALETTE[colour]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    else:
        x0, y0, x1, y1 = box
        draw.polygon([((x0 + x1) // 2, y0), (x1, y1), (x0, y1)], fill=fill)


def _count_problem(rng: random.Random, task_id: str) -> VisionProblem:
    shape = rng.choice(["circle", "square", "triangle"])
    count = rng.randint(1, 7)
    others = rng.randint(0, 3)
    image = Image.new("RGB", (_SIZE, _SIZE), "white")
    draw = ImageDraw.Draw(image)
    boxes = _free_boxes(rng, count + others, 60)
    other_shapes = [s for s in ("circle", "square", "triangle") if s != shape]
    for index, box in enumerate(boxes):
        _draw_shape(
            draw, shape if index < count else rng.choice(other_shapes), box, rng.choice(list(PALETTE))
        )
    prompt = f"How many {shape}s are in this image? Answer with a single number."
    return VisionProblem(
        task_id, prompt, _png(image), str(count), "number", "easy" if others == 0 else "medium"
    )


def _colour_problem(rng: random.Random, task_id: str) -> VisionProblem:
    colour = rng.choice(list(PALETTE))
    shape = rng.choice(["circle", "square", "triangle"])
    image = Image.new("RGB", (_SIZE, _SIZE), "white")
    draw = ImageDraw.Draw(image)
    _draw_shape(draw, shape, (80, 80, 304, 304), colour)
    prompt = f"What colour is the {shape} in this image? Answer with one word."
    return VisionProblem(task_id, prompt, _png(image), colour, "colour", "easy")


def _text_problem(rng: random.Random, task_id: str) -> VisionProblem:
    word = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _letter in range(rng.randint(4, 6)))
    image = Image.new("RGB", (_SIZE, _SIZE // 2), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=64)
    draw.text((_SIZE // 2, _SIZE // 4), word, fill="black", font=font, anchor="mm")
    prompt = "What word is written in this image? Answer with the word only."
    return VisionProblem(task_id, prompt, _png(image), word.lower(), "text", "hard")


def vision_suite(seed: int = 0, count: int = 24) -> dict[str, VisionProblem]:
    """``count`` problems cycling through counting, colour naming and reading; same seed, same bytes."""
    rng = random.Random(seed)
    makers = (_count_problem, _colour_problem, _text_problem)
    problems = {}
    for index in range(count):
        task_id = f"ia_vision/{index}"
        problems[task_id] = makers[index % len(makers)](rng, task_id)
    return problems


def _words(reply: str) -> list[str]:
    """Lower-case words of the reply, thinking and punctuation removed."""
    return re.sub(r"[^\w\s]", " ", clean_reply(reply).lower()).split()


def normalise_answer(reply: str) -> str:
    """Lower case, thinking and punctuation removed, number words turned into digits, spaces collapsed."""
    return " ".join(_NUMBER_WORDS.get(word, word) for word in _words(reply))


def answer_text(reply: str) -> str:
    """The answer as kept in a sample (`completion`): the reply without thinking, trimmed."""
    return clean_reply(reply).strip()


def _shown(items: Sequence[str]) -> str:
    return ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")


def _found(values: list[str], nothing: str, several: str) -> str:
    """What a reply held instead of the answer: nothing, its one value, or several of them."""
    if not values:
        return nothing
    return values[0] if len(values) == 1 else f"{several} ({_shown(values)})"


def check_answer(problem: VisionProblem, reply: str) -> tuple[bool, str]:
    """(passed, result): "passed", or "failed: expected X, got Y" saying what the reply held instead."""
    tokens = normalise_answer(reply).split()
    if not tokens:
        return False, f"failed: expected {problem.answer}, got an empty reply"
    if problem.scorer == "number":
        numbers = [token for token in tokens if token.isdigit()]
        if len(numbers) == 1 and int(numbers[0]) == int(problem.answer):
            return True, "passed"
        return (
            False,
            f"failed: expected {problem.answer}, got {_found(numbers, 'no number', 'several numbers')}",
        )
    if problem.scorer == "colour":
        colours = [
            "purple" if token == "violet" else token
            for token in tokens
            if token in PALETTE or token == "violet"
        ]
        if len(set(colours)) == 1 and colours[0] == problem.answer:
            return True, "passed"
        got = _found(list(dict.fromkeys(colours)), "no colour of the palette", "several colours")
        return False, f"failed: expected {problem.answer}, got {got}"
    if problem.scorer == "text":
        words = _words(reply)  # no number words turned into digits: the word to read may be SEVEN
        if problem.answer.lower() in words:
            return True, "passed"
        text = " ".join(words)
        return (
            False,
            f"failed: expected {problem.answer}, got {text[:60] + ('...' if len(text) > 60 else '')!r}",
        )
    raise BenchmarkError(
        _("{task}: unknown scorer {scorer} (use {choices}).").format(
            task=problem.task_id, scorer=repr(problem.scorer), choices=", ".join(_SCORERS)
        )
    )


def score_answer(problem: VisionProblem, reply: str) -> bool:
    """Exact scoring after normalisation (see the module docstring)."""
    return check_answer(problem, reply)[0]


def wrong_answer(problem: VisionProblem) -> str:
    """A plausible answer that must fail (selfcheck): the next number, another colour, the word with a letter changed."""
    if problem.scorer == "number":
        return str(int(problem.answer) + 1)
    if problem.scorer == "colour":
        return next(colour for colour in PALETTE if colour != problem.answer)
    word = problem.answer
    return ("x" if word[:1] != "x" else "y") + word[1:]


def check_known_answers(problems: Mapping[str, VisionProblem]) -> list[tuple[str, str]]:
    """Selfcheck of a vision suite: each image is a readable PNG, its known answer (bare and in a sentence)
    scores as passed, and a wrong answer fails. Returns (task_id, what is wrong) for each problem that does not."""
    failures = []
    for problem in problems.values():
        try:
            with Image.open(io.BytesIO(problem.image_bytes)) as image:
                image.verify()
        except Exception as exc:  # binascii, PIL and OS errors all mean the same: no usable image
            failures.append((problem.task_id, f"the image cannot be read ({type(exc).__name__}: {exc})"))
            continue
        for reply in (problem.answer, f"The answer is {problem.answer}."):
            passed, result = check_answer(problem, reply)
            if not passed:
                failures.append((problem.task_id, f"the known answer {reply!r} does not pass ({result})"))
        wrong = wrong_answer(problem)
        if check_answer(problem, wrong)[0]:
            failures.append((problem.task_id, f"the wrong answer {wrong!r} passes"))
    return failures


def write_vision_suite(
    path: str | Path, seed: int = 0, count: int = 24, image_dir: str | Path | None = None
) -> Path:
    """Write the suite as JSONL (and, if asked, each image as ``<n>.png`` in ``image_dir`` to look at)."""
    problems = vision_suite(seed, count)
    if image_dir is not None:
        folder = Path(image_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for problem in problems.values():
            (folder / f"{problem.task_id.split('/')[-1]}.png").write_bytes(problem.image_bytes)
    return write_jsonl(path, [problem.to_record() for problem in problems.values()])


def _answer_fits(problem: VisionProblem) -> bool:
    """Whether the scorer can ever accept the answer (a digit string, a palette colour, one word)."""
    if problem.scorer == "number":
        return problem.answer.isdigit()
    if problem.scorer == "colour":
        return problem.answer in PALETTE
    return _words(problem.answer) == [problem.answer.lower()]


def load_vision_suite(path: str | Path) -> dict[str, VisionProblem]:
    """Read a suite written by write_vision_suite; BenchmarkError naming the record on a bad one."""
    problems = {}
    for index, record in enumerate(read_jsonl(path), start=1):
        try:
            images = record["images"]
            problem = VisionProblem(
                task_id=record["task_id"],
                prompt=record["prompt"],
                image_b64=images[0],
                answer=str(record["answer"]),
                scorer=record["scorer"],
                tier=record.get("tier", "easy"),
            )
        except (KeyError, IndexError, TypeError) as error:
            raise BenchmarkError(
                _("{path}, record {index}: not a vision problem (missing {field}).").format(
                    path=path, index=index, field=error
                )
            ) from None
        if problem.scorer not in _SCORERS:
            raise BenchmarkError(
                _("{path}, record {index}: unknown scorer {scorer}.").format(
                    path=path, index=index, scorer=repr(problem.scorer)
                )
            )
        if not _answer_fits(problem):
            raise BenchmarkError(
                _(
                    "{path}, record {index}: answer {answer} cannot be scored as a {scorer} "
                    "(a number needs digits, a colour one of {colours}, a text one word)."
                ).format(
                    path=path,
                    index=index,
                    answer=repr(problem.answer),
                    scorer=problem.scorer,
                    colours=", ".join(PALETTE),
                )
            )
        if problem.task_id in problems:
            raise BenchmarkError(
                _("{path}, record {index}: task_id {task} appears twice.").format(
                    path=path, index=index, task=repr(problem.task_id)
                )
            )
        problems[problem.task_id] = problem
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Write the vision suite as JSONL (for `main_benchmark.py run --problems FILE`), images optional."""
    parser = argparse.ArgumentParser(
        prog="python -m core.benchmark.multimodal", description="Write the vision suite as a JSONL file."
    )
    parser.add_argument("out", type=Path, help="the .jsonl (or .jsonl.gz) file to write")
    parser.add_argument("--seed", type=int, default=0, help="another seed draws other images (default 0)")
    parser.add_argument("--count", type=int, default=24, help="number of problems (default 24)")
    parser.add_argument("--images", type=Path, help="also save each image as <n>.png in this folder")
    args = parser.parse_args(argv)
    path = write_vision_suite(args.out, seed=args.seed, count=args.count, image_dir=args.images)
    print(f"{args.count} vision problems written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
