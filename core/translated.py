"""Tables of texts marked for translation at import time and read in the interface's language.

A table made when a module is imported cannot hold translations (the language may change later): its values
are the English texts, marked with ``N_()``, and reading one translates it then::

    TIERS = TranslatedTable({"small": N_("a small machine")})
    TIERS["small"]  # "une petite machine" under set_language("fr")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from core.i18n import _

__all__ = ["TranslatedTable"]


class TranslatedTable(Mapping[str, str]):
    """A read-only mapping whose values are marked English texts, given in the interface's language;
    ``source(key)`` is the English text itself."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)

    def __getitem__(self, key: str) -> str:
        return _(self._texts[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def source(self, key: str) -> str:
        return self._texts[key]
