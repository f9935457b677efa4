"""Core's messages read in French under set_language("fr"), with their placeholders filled, through the real
components that raise them: a closed port, the real embedded server (scripted engine) behind the real
`ollama` client, a damaged conversation.md, an export that is not JSON, a config.toml with a wrong value.

Each message is translated when it is made (the error raised, the verdict judged), not when its module is
imported: the same call gives English again once the language is back to English.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from config import Settings, load_settings
from core import i18n
from core.attachments import describe_size
from core.benchmark.evaluate import SelfcheckReport
from core.context_meter import ContextUse
from core.errors import (
    CapabilityMissing,
    ConfigError,
    ConversationCorrupt,
    ImportRefused,
    ModelNotFound,
    ServerUnreachable,
    StreamStalled,
)
from core.export import FORMATS
from core.machine import GIB, MachineResources, fits
from core.model_records import ModelInfo
from core.models import ModelManager
from core.ollama_client import OllamaClient
from core.recommended import TIERS, recommend
from core.session_manager import SessionManager

NBSP = "\u00a0"


@pytest.fixture
def french():
    i18n.set_language("fr")
    yield
    i18n.set_language("en")


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connections to it are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def sm(ia_home: Path):
    manager = SessionManager(Settings(home=ia_home, save_throttle_s=0.05))
    yield manager
    manager.close()


def _unreachable(port: int) -> ServerUnreachable:
    with (
        OllamaClient(f"127.0.0.1:{port}", connect_timeout=2) as client,
        pytest.raises(ServerUnreachable) as info,
    ):
        client.list_models()
    return info.value


def test_server_unreachable_reads_in_french_with_its_host(french, closed_port) -> None:
    message = str(_unreachable(closed_port))
    host = f"http://127.0.0.1:{closed_port}"
    assert message.startswith(f"Impossible de joindre Ollama à {host}{NBSP}: est-il lancé{NBSP}?"), message
    assert "`ollama serve`" in message and "le moteur intégré (--embedded)" in message
    assert "{" not in message and "Cannot" not in message


def test_model_not_found_reads_in_french_with_the_model_named(french, scripted_server) -> None:
    with OllamaClient(scripted_server.url, connect_timeout=2) as client, pytest.raises(ModelNotFound) as info:
        ModelManager(client).show("nope:1b")
    message = str(info.value)
    assert message == (
        f"Le modèle 'nope:1b' n’est pas installé sur ce serveur{NBSP}: téléchargez-le avec /pull nope:1b "
        "(ou `ollama pull nope:1b`), ou choisissez-en un autre avec /models."
    )


def test_conversation_corrupt_reads_in_french_with_the_path_and_the_reason(
    french, sm: SessionManager
) -> None:
    conv = sm.create("Will break")
    sm.add_user_message(conv, "first message")
    path = sm.settings.sav_dir / conv.slug / "conversation.md"
    path.write_bytes(path.read_bytes().replace(b"first message", b"first \xff message"))
    with pytest.raises(ConversationCorrupt) as info:
        sm.load(conv.slug)
    message = str(info.value)
    assert message.startswith(
        f"Impossible de lire {path}{NBSP}: ce n’est pas de l’UTF-8 valide (octet invalide"
    )
    assert message.endswith(
        "Le fichier n’a pas été modifié ; corrigez-le dans un éditeur ou déplacez-le.".replace(
            " ;", NBSP + ";"
        )
    )


def test_an_import_refused_reads_in_french_with_its_reason_and_advice(
    french, sm: SessionManager, tmp_path
) -> None:
    path = tmp_path / "notes.json"
    path.write_text("hello, this is not an export", encoding="utf-8")
    with pytest.raises(ImportRefused) as info:
        sm.import_file(path)
    message = str(info.value)
    assert message == (
        f"Impossible d’importer {path}{NBSP}: ce n’est pas du JSON (il commence par 'hello, this is not an export'). "
        f"Rien n’a été importé{NBSP}; choisissez un export JSON d’IA_V3, un export de chat Open WebUI (.json) ou "
        "le conversations.json de ChatGPT (ou le .zip envoyé par ChatGPT)."
    )
    assert sm.list() == []


def test_a_config_error_reads_in_french_with_the_file_and_the_value(french, ia_home: Path) -> None:
    (ia_home / "config.toml").write_text('language = "de"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(env={"IA_HOME": str(ia_home)})
    assert str(info.value) == (
        f"Réglage incorrect dans {ia_home / 'config.toml'}{NBSP}: 'language' doit valoir auto, en ou fr, pas 'de'."
    )
    (ia_home / "config.toml").write_text('language = "fr"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(env={"IA_HOME": str(ia_home), "OLLAMA_HOST": "http://[bad"})
    assert "l’environnement" in str(info.value) and "n’est pas une adresse de serveur" in str(info.value)


def test_messages_are_translated_when_raised_not_when_imported(closed_port, ia_home: Path) -> None:
    """The modules were imported in English; the language chosen at the time of the failure is the one
    its message is written in, both ways, including texts marked in import-time tables (N_)."""
    i18n.set_language("en")
    english = str(_unreachable(closed_port))
    assert english.startswith("Cannot reach Ollama at ")
    i18n.set_language("fr")
    try:
        assert str(_unreachable(closed_port)).startswith("Impossible de joindre Ollama à ")
        vision = str(CapabilityMissing("tiny", "vision"))  # its advice comes from a table made at import
        assert (
            vision
            == f"Le modèle 'tiny' ne gère pas la vision{NBSP}: retirez l’image, ou choisissez un modèle doté de la vision."
        )
        stalled = str(StreamStalled(2.5, "first token"))
        assert f"pendant 2,5 s (premier jeton){NBSP};" in stalled and "first_token_timeout" in stalled
        assert TIERS["small"] == "une petite machine"
    finally:
        i18n.set_language("en")
    assert str(_unreachable(closed_port)) == english
    assert str(CapabilityMissing("tiny", "vision")).endswith(
        "remove the image, or choose a model with vision."
    )
    assert str(StreamStalled(2.5, "first token")).startswith(
        "The server sent nothing for 2.5 s (first token);"
    )
    assert TIERS["small"] == "a small machine"


def test_what_core_returns_for_the_screens_reads_in_french(french, sm: SessionManager, tmp_path) -> None:
    """Not only errors: the context meter, fit verdicts, recommendations, sizes and import notes."""
    assert ContextUse(1234, 4096, True).label() == f"1{NBSP}234 / 4{NBSP}096 jetons · 30 %"
    assert ContextUse(1, None, False).label() == "≈ 1 jeton"
    over = ContextUse(500, 256, True).label()
    assert over.endswith(
        "contexte dépassé : les messages les plus anciens seront coupés".replace(" :", NBSP + ":")
    )
    res = MachineResources(ram_total=16 * GIB, ram_available=int(3.5 * GIB), cpu_count=8, cpu_name="x")
    assert res.summary() == "16 Gio de RAM (3,5 Gio libres) · 8 cœurs de processeur · pas de GPU"
    tight = fits(ModelInfo("m", int(2.2 * GIB), "", None, "", "", ""), res)
    assert tight.fits and tight.tight and tight.label == "juste"
    assert tight.reason.startswith("demande environ 3,1 Gio") and tight.gpu.endswith("aucun GPU trouvé")
    tier, entries = recommend(res, backend="ollama", gpu_usable=False)
    assert tier == "small" and entries[0].model.good_at == "conversation et raisonnement"
    assert describe_size(812) == "812 octets" and describe_size(100 * 1024) == "100,0 ko"
    assert FORMATS["html"] == "page web (HTML)" and "md" in FORMATS
    check = SelfcheckReport(
        total=2, passed=1, failures=[("t/1", "failed")], isolation="bwrap", duration_s=1.25
    )
    assert check.describe() == (
        "autovérification : 1/2 solutions de référence réussies (isolement bwrap, 1,2 s)\n  ÉCHEC t/1 : failed"
    ).replace(" :", NBSP + ":")

    export = {
        "format": "ia-conversation-export/1",
        "title": "Bonjour",
        "created": "2026-12-04T10:00:00+00:00",
        "messages": [
            {"role": "user", "content": "salut", "created": "2026-12-04T10:00:00+00:00", "images": ["a.png"]},
            {"role": "assistant", "content": "bonjour", "created": "2026-12-04T10:00:01+00:00"},
        ],
        "attachments": {},
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([export, {"what": "else"}]), encoding="utf-8")
    result = sm.import_file(path)
    assert result.source == "export IA_V3"
    assert result.skipped == ["l’élément 2 n’est pas une conversation"]
    assert result.notes == [
        "1 image n’a pas pu être reprise (absente de l’export, ou dans un format que cette application ne lit pas)"
    ]
