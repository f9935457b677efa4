"""Kivy fixtures for tests/ui: one real Window per test process on the Xvfb display (see kivy_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ensure_display
from tests.ui.kivy_harness import KivyHarness, prepare_kivy_environment

# Before any test module imports Kivy (collecting tests/ui imports ui modules whose dp() sizes open the
# window): a real X display, else SDL opens the window with its invisible offscreen driver; no argv
# parsing, a private KIVY_HOME, quiet logs.
ensure_display()
prepare_kivy_environment()


@pytest.fixture(scope="session")
def kivy_session(x_display: str) -> KivyHarness:
    """The harness around the process' single Kivy Window, created on the test display."""
    return KivyHarness()


@pytest.fixture
def kivy_harness(kivy_session: KivyHarness) -> Iterator[KivyHarness]:
    """The harness with an empty Window for this test; cleared again afterwards."""
    kivy_session.clear()
    yield kivy_session
    kivy_session.clear()
