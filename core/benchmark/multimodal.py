"""Vision suite for multimodal models: images drawn by code (Pillow) with known answers, scored exactly.

Public API:
    VisionProblem(task_id, prompt, image_b64, answer, scorer, tier)    # scorer: "number" | "colour" | "text"
    vision_suite(seed: int = 0, count: int = 24) -> dict[str, VisionProblem]   # deterministic from the seed
    score_answer(problem: VisionProblem, reply: str) -> bool
    normalise_answer(reply: str) -> str
    write_vision_suite(path, seed=0, count=24, image_dir=None) -> Path;  load_vision_suite(path) -> dict
Record format (JSONL): task_id, kind="vision", prompt, images=[base64 PNG], answer, scorer, tier; the runner
sends ``images`` with the prompt. Scoring: the reply is normalised (thinking removed, lower case, punctuation
dropped, number words as digits); a number or colour answer must contain exactly one number (one palette
colour) and it must equal the answer; a text answer must contain the expected word as a whole token.
"""

from __future__ import annotations

import base64
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from core.benchmark.extraction import clean_reply
from core.benchmark.problems import read_jsonl, write_jsonl
from core.errors import BenchmarkError

__all__ = [
    "PALETTE",
    "VisionProblem",
    "load_vision_suite",
    "normalise_answer",
    "score_answer",
    "vision_suite",
    "write_vision_suite",
]

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
    word = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(4, 6)))
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


def normalise_answer(reply: str) -> str:
    """Lower case, thinking and punctuation removed, number words turned into digits, spaces collapsed."""
    text = clean_reply(reply).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    words = [_NUMBER_WORDS.get(word, word) for word in text.split()]
    return " ".join(words)


def score_answer(problem: VisionProblem, reply: str) -> bool:
    """Exact scoring after normalisation (see the module docstring)."""
    tokens = normalise_answer(reply).split()
    if problem.scorer == "number":
        numbers = [token for token in tokens if token.isdigit()]
        return len(numbers) == 1 and int(numbers[0]) == int(problem.answer)
    if problem.scorer == "colour":
        colours = [token for token in tokens if token in PALETTE or token == "violet"]
        colours = ["purple" if token == "violet" else token for token in colours]
        return len(set(colours)) == 1 and colours[0] == problem.answer
    if problem.scorer == "text":
        return problem.answer.lower() in tokens
    raise BenchmarkError(f"{problem.task_id}: unknown scorer {problem.scorer!r} (use {', '.join(_SCORERS)}).")


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
            raise BenchmarkError(f"{path}, record {index}: not a vision problem (missing {error}).") from None
        if problem.scorer not in _SCORERS:
            raise BenchmarkError(f"{path}, record {index}: unknown scorer {problem.scorer!r}.")
        problems[problem.task_id] = problem
    return problems
