"""Translations in the window: ``_()`` in the ``.kv`` rules follows the language as it changes.

Kivy's kv language watches a rule that calls ``_(...)``: it binds the rule to the ``_`` it finds in its
global names, when that object is an ``Observable``. ``tr`` is that object: calling it translates (through
core.i18n), and a change of language (core.i18n.set_language, from the settings) re-evaluates every bound
rule, so the kv texts change at once. Texts set from Python are re-set by their owners, which listen to the
same change: ``tr.fbind("language", callback)`` or ``core.i18n.add_listener``.

Importing this module registers ``_`` for every kv file loaded afterwards; ui modules import it before their
``Builder.load_file``.
"""

from __future__ import annotations

from typing import Any

from kivy.event import Observable
from kivy.lang import global_idmap

from core import i18n

__all__ = ["tr"]


class KvTranslator(Observable):
    """``_`` for kv rules: ``tr("Copy")`` translates; rules calling it are re-run when the language changes."""

    def __init__(self) -> None:
        super().__init__()
        self._observers: dict[int, tuple[Any, tuple, dict]] = {}
        self._next_uid = 1
        self.language = i18n.current_language()
        i18n.add_listener(self._changed)

    def __call__(self, message: str) -> str:
        return i18n._(message)

    # Observable's binding protocol, as kivy.lang.builder uses it for the "_" key of a rule.
    def fbind(self, name: str, func: Any, *largs: Any, **kwargs: Any) -> int:
        uid = self._next_uid
        self._next_uid += 1
        self._observers[uid] = (func, largs, kwargs)
        return uid

    def funbind(self, name: str, func: Any, *largs: Any, **kwargs: Any) -> None:
        for uid, (f, a, k) in list(self._observers.items()):
            if f == func and a == largs and k == kwargs:
                del self._observers[uid]
                return

    def unbind_uid(self, name: str, uid: int) -> None:
        self._observers.pop(uid, None)

    def _changed(self, language: str) -> None:
        self.language = language
        for uid, (func, largs, kwargs) in list(self._observers.items()):
            try:
                func(*largs, None, None, **kwargs)
            except ReferenceError:  # the widget of that rule is gone
                self._observers.pop(uid, None)


tr = KvTranslator()
global_idmap["_"] = tr
