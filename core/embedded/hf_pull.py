"""Pulls from Hugging Face: `/api/pull` of `hf.co/{user}/{repo}[:{quant}]` (Ollama's syntax) downloads one GGUF.

The Hub is spoken to as huggingface_hub speaks to it, at `HF_ENDPOINT` (default https://huggingface.co), with
`HF_TOKEN` as a bearer token when set:
1. `GET /api/models/{repo}/revision/main` names the commit (`sha`); 401/403 mean gated or private, 404 none;
2. `GET /api/models/{repo}/tree/{commit}?recursive=true&expand=false`, page after page (`Link: rel="next"`),
   lists the files with their size and, for LFS files, their sha256 (`lfs.oid`);
3. the GGUF of the asked quantisation is chosen (Q4_K_M when none is named; vision projectors `mmproj*` are
   left out), then `GET /{repo}/resolve/{commit}/{path}` is followed through its redirects (to a CDN: the
   Authorization header is not sent to another host) and read with `Range: bytes=N-` to resume.

The download lands in IA_V3's store (IA_HOME/models, Ollama's layout) as `blobs/sha256-<hex>-partial`, kept
when the pull is cancelled or fails, so the next pull of that file resumes where it stopped; a connection
cut mid-file is resumed at once (up to `retries` times in a row without progress). The finished file's
sha256 is checked against the Hub's; a mismatch removes the partial file and fails the pull. Progress lines
are Ollama's (its API reference, "Pull a Model"): "pulling manifest", then `pulling <12 hex>` with digest, total and
completed about every 60 ms, "verifying sha256 digest", "writing manifest", ["removing unused layers"],
"success". The model is then listed as `hf.co/{user}/{repo}:{quant}` (`:latest` when no quantisation was
named), as Ollama lists it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from core.embedded.engine import ErrorLine, Progress, PullEvent
from core.embedded.model_store import LAYER_MODEL, ModelName, ModelStore, parse_name
from core.embedded.scripted_pull import MANIFEST_MISSING
from core.errors import StorageWriteError
from core.fileio import english_reason

__all__ = [
    "DEFAULT_QUANT",
    "HF_HOSTS",
    "HfName",
    "HfPull",
    "PullError",
    "RepoFile",
    "choose_file",
    "file_quant",
    "hf_endpoint",
    "parse_hf_name",
]

HF_HOSTS = ("hf.co", "huggingface.co")
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_QUANT = "Q4_K_M"
# When no quantisation is named: Q4_K_M, else the nearest in quality and size.
_PREFERENCE = [
    "Q4_K_M", "Q4_K_S", "Q4_K", "Q4_0", "IQ4_XS", "IQ4_NL", "Q5_K_M", "Q5_K_S", "Q5_0", "Q6_K", "Q8_0",
    "Q3_K_L", "Q3_K_M", "Q3_K_S", "BF16", "F16", "Q2_K", "F32",
]  # fmt: skip
_OTHER_QUANTS = (
    "Q4_1", "Q5_1", "Q5_K", "Q3_K", "Q2_K_S", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "IQ1_S", "IQ1_M", "IQ2_XXS",
    "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "IQ3_XS", "IQ3_S", "IQ3_M", "TQ1_0", "TQ2_0", "MXFP4", "Q2_K_XL",
    "Q3_K_XL", "Q4_K_XL", "Q5_K_XL", "Q6_K_XL", "Q8_K_XL",
)  # fmt: skip
_QUANTS = sorted({*_PREFERENCE, *_OTHER_QUANTS}, key=len, reverse=True)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_PACE_S = 0.06  # Ollama reports a layer's progress about every 60 ms


def hf_endpoint() -> str:
    """The Hub's address: HF_ENDPOINT, as huggingface_hub reads it, else https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class HfName:
    """`hf.co/{user}/{repo}:{tag}`; the tag is a quantisation, or "latest" (the default choice)."""

    host: str
    user: str
    repo: str
    tag: str

    @property
    def repo_id(self) -> str:
        return f"{self.user}/{self.repo}"

    @property
    def model_name(self) -> ModelName:
        return ModelName(self.host, self.user, self.repo, self.tag)

    @property
    def display(self) -> str:
        return self.model_name.display

    @property
    def quant(self) -> str | None:
        return None if self.tag.lower() == "latest" else self.tag


def parse_hf_name(text: str) -> HfName | None:
    """`hf.co/user/repo[:quant]` (or huggingface.co/…) as an HfName; None for any other name."""
    name = parse_name(text)
    if name is None or name.host.lower() not in HF_HOSTS or text.count("/") != 2:
        return None
    return HfName(name.host.lower(), name.namespace, name.model, name.tag)


@dataclass(frozen=True)
class RepoFile:
    """A file of the repository as the tree listing gives it."""

    path: str
    size: int
    sha256: str | None  # lfs.oid; None for a file stored in git itself

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class PullError(Exception):
    """A pull that cannot go on; its text is the error line the client receives."""


def file_quant(filename: str) -> str | None:
    """The quantisation a GGUF file name states (`Llama-3.2-1B-Instruct-Q4_K_M.gguf` → Q4_K_M), or None."""
    stem = _SPLIT.sub("", filename)
    stem = stem[:-5] if stem.lower().endswith(".gguf") else stem
    upper = stem.upper()
    for quant in _QUANTS:  # longest first: Q4_K_M before Q4_K
        for match in re.finditer(re.escape(quant), upper):
            before = upper[match.start() - 1] if match.start() else "-"
            after = upper[match.end()] if match.end() < len(upper) else "-"
            if before in "-._" and after in "-._":
                return quant
    return None


def choose_file(files: list[RepoFile], quant: str | None, repo: str) -> RepoFile:
    """The GGUF to download for `quant` (None: Q4_K_M, else the nearest); PullError saying what exists."""
    ggufs = [f for f in files if f.name.lower().endswith(".gguf") and "mmproj" not in f.name.lower()]
    if not ggufs:
        raise PullError(
            f"{repo} has no GGUF file on Hugging Face: the embedded backend runs GGUF models only"
        )
    by_quant: dict[str, list[RepoFile]] = {}
    for f in ggufs:
        by_quant.setdefault(file_quant(f.name) or "", []).append(f)
    named = sorted(q for q in by_quant if q)
    if quant is not None:
        matches = by_quant.get(quant.upper()) or [
            f for f in ggufs if f.name.rsplit(".", 1)[0].upper() == quant.upper()
        ]
        if not matches:
            raise PullError(
                f"{repo} has no {quant} GGUF file on Hugging Face (it has: {', '.join(named) or 'unnamed files'})"
            )
    else:
        chosen = next((q for q in _PREFERENCE if q in by_quant), None)
        matches = by_quant[chosen] if chosen else sorted(ggufs, key=lambda f: f.size)
    pick = sorted(matches, key=lambda f: (len(f.path), f.path))[0]
    split = _SPLIT.search(pick.name)
    if split is not None:
        raise PullError(
            f"{repo}'s {file_quant(pick.name) or pick.name} GGUF is split into {int(split.group(2))} files; the "
            "embedded backend pulls single-file GGUFs only: pick a smaller quantisation"
            + (f" ({', '.join(q for q in named if q != file_quant(pick.name))})" if len(named) > 1 else "")
        )
    if pick.sha256 is None:
        raise PullError(
            f"{repo}'s {pick.path} is not stored with Git LFS, so Hugging Face publishes no sha256 for it; "
            "the embedded backend only installs files it can verify"
        )
    return pick


class HfPull:
    """One pull of `name` into `store`; `lines()` yields its progress lines and stops once `cancel` is set."""

    def __init__(
        self,
        name: HfName,
        store: ModelStore,
        cancel: threading.Event,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        on_installed: Callable[[], None] | None = None,
        retries: int = 5,
        read_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.store = store
        self.cancel = cancel
        self.endpoint = (endpoint or hf_endpoint()).rstrip("/")
        self.token = token if token is not None else (os.environ.get("HF_TOKEN") or None)
        self.on_installed = on_installed
        self.retries = retries
        self.read_timeout = read_timeout

    def lines(self) -> Iterator[PullEvent]:
        yield Progress("pulling manifest")
        headers = {"User-Agent": "ia-v3 (embedded backend; huggingface_hub-compatible)"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = httpx.Timeout(self.read_timeout, connect=10.0)
        with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client:
            try:
                commit, files = self._listing(client)
                if self.cancel.is_set():
                    return
                chosen = choose_file(files, self.name.quant, self.name.display.rsplit(":", 1)[0])
                yield from self._download(client, commit, chosen)
                if self.cancel.is_set():
                    return
                yield Progress("verifying sha256 digest")
                self._verify(chosen)
            except PullError as exc:
                yield ErrorLine(str(exc))
                return
        yield Progress("writing manifest")
        previous = self.store.find(self.name.model_name)
        config = {
            "model_format": "gguf",
            "file_type": file_quant(chosen.name) or "",
            "source": {
                "endpoint": self.endpoint,
                "repo": self.name.repo_id,
                "revision": commit,
                "file": chosen.path,
            },
        }
        layer = {"mediaType": LAYER_MODEL, "digest": f"sha256:{chosen.sha256}", "size": chosen.size}
        try:
            self.store.write_manifest(self.name.model_name, config, [layer])
        except StorageWriteError as exc:  # in English: an Ollama API error line, whatever the app's language
            cause = exc.__cause__
            reason = english_reason(cause) if isinstance(cause, OSError) else exc.reason
            yield ErrorLine(f"cannot write the manifest in {self.store.root}: {reason}")
            return
        except OSError as exc:  # the store is read-only
            yield ErrorLine(f"cannot write the manifest in {self.store.root}: {exc.strerror or exc}")
            return
        if previous is not None:
            stale = set(previous.blobs) - {layer["digest"]}
            if stale:
                yield Progress("removing unused layers")
                self.store.prune(stale)
        if self.on_installed is not None:
            self.on_installed()
        yield Progress("success")

    # --- the Hub's API -------------------------------------------------------------------------------

    def _get_json(
        self, client: httpx.Client, url: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise PullError(
                f"cannot reach Hugging Face at {self.endpoint} ({type(exc).__name__}: {exc}); check the network, "
                "or HF_ENDPOINT"
            ) from exc
        if response.status_code in (401, 403, 404):
            raise self._refused(response)
        if response.status_code != 200:
            raise PullError(
                f"Hugging Face answered HTTP {response.status_code} for {url}: {response.text[:200]}"
            )
        return response

    def _refused(self, response: httpx.Response) -> PullError:
        """A 401/403/404 worded by what the Hub says it is (X-Error-Code, as huggingface_hub reads it): the Hub
        answers 401 RepoNotFound for a repository that does not exist and for a private one alike."""
        status, code = response.status_code, response.headers.get("X-Error-Code", "")
        page = f"{self.endpoint}/{self.name.repo_id}"
        token = (
            "HF_TOKEN is refused: check it, then" if self.token else "set HF_TOKEN to a token of yours and"
        )
        if code == "GatedRepo" or (status == 403 and code != "RepoNotFound"):
            return PullError(
                f"{self.name.repo_id} is gated on Hugging Face (HTTP {status}): {token} accept the model's terms "
                f"on {page}"
            )
        private = "" if self.token else f"; if it is private, {token.split(' and')[0]}"
        return PullError(
            f"{MANIFEST_MISSING} (no repository {self.name.repo_id} at {self.endpoint}{private})"
        )

    def _listing(self, client: httpx.Client) -> tuple[str, list[RepoFile]]:
        info = self._get_json(client, f"{self.endpoint}/api/models/{self.name.repo_id}/revision/main")
        try:
            commit = str(info.json()["sha"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PullError(
                f"Hugging Face's model info for {self.name.repo_id} has no commit ({exc})"
            ) from exc
        files: list[RepoFile] = []
        url: str | None = f"{self.endpoint}/api/models/{self.name.repo_id}/tree/{commit}"
        params: dict[str, str] | None = {"recursive": "true", "expand": "false"}
        while url:
            page = self._get_json(client, url, params)
            try:
                for entry in page.json():
                    if entry.get("type") == "file":
                        lfs = entry.get("lfs") or {}
                        files.append(RepoFile(str(entry["path"]), int(entry["size"]), lfs.get("oid") or None))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise PullError(
                    f"Hugging Face's file list for {self.name.repo_id} cannot be read ({exc})"
                ) from exc
            url, params = page.links.get("next", {}).get("url"), None
        return commit, files

    # --- the download --------------------------------------------------------------------------------

    def _partial(self, file: RepoFile) -> tuple[str, Path, Path]:
        digest = f"sha256:{file.sha256}"
        blob = self.store.blob_path(digest)
        return digest, blob, blob.with_name(blob.name + "-partial")

    def _download(self, client: httpx.Client, commit: str, file: RepoFile) -> Iterator[Progress]:
        digest, blob, partial = self._partial(file)
        status = f"pulling {file.sha256[:12]}"  # type: ignore[index]
        size = file.size
        if os.path.isfile(blob) and os.path.getsize(blob) == size:  # already here: one line, as Ollama
            yield Progress(status, digest, size, size)
            return
        url = f"{self.endpoint}/{self.name.repo_id}/resolve/{commit}/{quote(file.path)}"
        try:
            os.makedirs(os.path.dirname(partial), exist_ok=True)
            done = os.path.getsize(partial) if os.path.isfile(partial) else 0
            if done > size:
                os.truncate(partial, 0)
                done = 0
        except OSError as exc:
            raise PullError(f"cannot write in {self.store.blobs}: {exc.strerror or exc}") from exc
        yield Progress(status, digest, size, done)
        failures = 0
        last = time.monotonic()
        while done < size:
            if self.cancel.is_set():
                return
            headers = {"Range": f"bytes={done}-"} if done else {}
            before = done
            try:
                with client.stream("GET", url, headers=headers) as response:
                    if response.status_code in (401, 403):
                        response.read()
                        raise self._refused(response)
                    done = self._start(response, url, partial, done, size)
                    with open(partial, "ab") as out:
                        for chunk in response.iter_bytes():  # as received: a cut loses nothing
                            if self.cancel.is_set():
                                return
                            out.write(chunk)
                            done += len(chunk)
                            if done > size:
                                break
                            if time.monotonic() - last >= _PACE_S:
                                last = time.monotonic()
                                yield Progress(status, digest, size, done)
                if done < size:
                    raise httpx.RemoteProtocolError("the server ended the file early")
                if done > size:
                    os.truncate(partial, 0)
                    raise PullError(
                        f"Hugging Face sent more than the {size} bytes of {file.path}; pull it again"
                    )
            except httpx.TransportError as exc:
                failures = 0 if done > before else failures + 1
                if failures > self.retries:
                    raise PullError(
                        f"the download of {file.path} from {self.endpoint} keeps failing ({type(exc).__name__}: "
                        f"{exc}); {done} of {size} bytes are kept: pull it again to resume"
                    ) from exc
                if self.cancel.wait(min(0.2 * 2**failures, 5.0)):
                    return
            except OSError as exc:  # a full disk, a folder gone: the partial file stays for a later pull
                raise PullError(
                    f"cannot write {partial}: {exc.strerror or exc}; free some space and pull again to resume"
                ) from exc
        yield Progress(status, digest, size, done)

    @staticmethod
    def _start(response: httpx.Response, url: str, partial: Path, done: int, size: int) -> int:
        """Check the answer to a (ranged) GET; returns where the bytes it carries start in the file."""
        if response.status_code == 416 and done >= size:
            return done
        if response.status_code not in (200, 206):
            response.read()
            raise PullError(f"Hugging Face answered HTTP {response.status_code} for {url}")
        if response.status_code == 200:  # the whole file (no range asked, or the server ignored it)
            if done:
                os.truncate(partial, 0)
            return 0
        match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != done:
            raise httpx.RemoteProtocolError(
                f"asked for bytes {done}- but the answer's Content-Range is {response.headers.get('Content-Range')!r}"
            )
        return done

    def _verify(self, file: RepoFile) -> None:
        digest, blob, partial = self._partial(file)
        if os.path.isfile(blob) and not os.path.isfile(partial):
            return  # was already present: not downloaded again, not verified again (as Ollama)
        sha = hashlib.sha256()
        try:
            with open(partial, "rb") as handle:
                while block := handle.read(1 << 20):
                    sha.update(block)
        except OSError as exc:
            raise PullError(f"cannot read {partial}: {exc.strerror or exc}") from exc
        got = f"sha256:{sha.hexdigest()}"
        if got != digest:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise PullError(f"digest mismatch, file must be downloaded again: want {digest}, got {got}")
        os.replace(partial, blob)
