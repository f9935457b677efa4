"""Read conversations exported by other apps, or by IA_V3 itself, for ``SessionManager.import_file``.

Three kinds of file, told apart by their content rather than their name:

- IA_V3's JSON export (core/export.py, ``format: ia-conversation-export/1``; also the older exports without
  ``format``): the conversation exactly, its images included.
- Open WebUI's chat export (``chat-export-<time>.json``, one chat or "Export All Chats"): a list of chats whose
  ``chat.history.messages`` is a tree (``parentId``/``childrenIds``); the branch ending at ``currentId`` is the
  one on screen and the one imported. Reasoning that Open WebUI folds into the reply as
  ``<details type="reasoning">`` becomes the message's thinking; images sent as ``data:`` URLs come along.
- ChatGPT's ``conversations.json`` (or the export's .zip, or the folder it was unzipped into): a list of
  conversations whose ``mapping`` is a tree of nodes; the branch from ``current_node`` up to the root is
  imported. A reply made of several nodes (thoughts, code run by a tool, its output, the answer) becomes one
  assistant message; images are taken from the files of the export when they are there.

Nothing here writes a file: ``read_export`` returns the conversations found, with their images as bytes, and
what was left out, or raises ImportRefused with a sentence saying why the file cannot be imported.

Modules: ``files`` (reading the file, the .zip, the size limit, the images beside a ChatGPT export),
``detect`` (which kind each item is), ``ia``, ``openwebui``, ``chatgpt`` (one parser each), ``records``
(what they produce and the helpers they share).
"""

from __future__ import annotations

from core.importers.detect import parse_export
from core.importers.files import read_export
from core.importers.records import (
    KINDS,
    MAX_IMPORT_BYTES,
    ImportedConversation,
    ImportResult,
    ParsedExport,
)

__all__ = [
    "KINDS",
    "MAX_IMPORT_BYTES",
    "ImportResult",
    "ImportedConversation",
    "ParsedExport",
    "parse_export",
    "read_export",
]
