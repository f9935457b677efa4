"""The Hugging Face stand-in (tests/fixtures/hf_hub.py) is checked with huggingface_hub itself: the model info
with file metadata, the paged tree listing, downloads through the resolve redirect to another host (the token
is not sent there), huggingface_hub's own resume with a Range request after the connection is cut, a renamed
repository's relative redirect, and the errors of a gated or missing repository. So the pull tests that use
the stand-in speak to the Hub as the real client does."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.fixtures.hf_hub import HubFile, HubRepo

hf = pytest.importorskip("huggingface_hub", reason="huggingface_hub checks the stand-in")

WEIGHTS = bytes(range(256)) * 4096  # 1 MiB


def _repo(hub, **kwargs) -> HubRepo:
    return hub.add(
        HubRepo(
            "someone/Tiny-GGUF",
            [
                HubFile("README.md", b"# Tiny\n", lfs=False),
                HubFile("Tiny-Q4_K_M.gguf", b"GGUF" + WEIGHTS),
                HubFile("Tiny-Q8_0.gguf", b"GGUF" + WEIGHTS[::-1]),
                HubFile("extra/mmproj-Tiny-F16.gguf", b"GGUF projector"),
            ],
            **kwargs,
        )
    )


def test_model_info_and_the_paged_tree_give_sizes_and_lfs_sha256(hf_hub):
    repo = _repo(hf_hub)
    hf_hub.page_size = 2  # four files and a folder: three pages joined by Link headers
    api = hf.HfApi(endpoint=hf_hub.url)
    info = api.model_info(repo.repo_id, files_metadata=True)
    assert info.sha == repo.commit and info.id == repo.repo_id
    siblings = {s.rfilename: s for s in info.siblings}
    q4 = repo.file("Tiny-Q4_K_M.gguf")
    assert siblings["Tiny-Q4_K_M.gguf"].size == q4.size == len(WEIGHTS) + 4
    assert siblings["Tiny-Q4_K_M.gguf"].lfs.sha256 == hashlib.sha256(b"GGUF" + WEIGHTS).hexdigest()
    assert siblings["README.md"].lfs is None
    tree = {f.path: f for f in api.list_repo_tree(repo.repo_id, recursive=True)}
    assert set(tree) == {
        "README.md",
        "Tiny-Q4_K_M.gguf",
        "Tiny-Q8_0.gguf",
        "extra",
        "extra/mmproj-Tiny-F16.gguf",
    }
    assert tree["Tiny-Q8_0.gguf"].lfs.sha256 == repo.file("Tiny-Q8_0.gguf").sha256
    assert len(hf_hub.seen("hub", "GET", "/tree/")) == 3


def test_download_follows_the_redirect_to_the_cdn_and_resumes_a_cut_connection(hf_hub, tmp_path: Path):
    big = b"GGUF" + bytes(range(256)) * (96 * 1024)  # 24 MiB: huggingface_hub writes in 10 MiB chunks
    repo = hf_hub.add(HubRepo("someone/Big-GGUF", [HubFile("Big-Q4_K_M.gguf", big)]))
    hf_hub.cut_after = 12_000_000
    path = hf.hf_hub_download(repo.repo_id, "Big-Q4_K_M.gguf", endpoint=hf_hub.url, cache_dir=tmp_path)
    assert Path(path).read_bytes() == big
    gets = hf_hub.file_requests()
    assert len(gets) == 2 and "range" not in gets[0].headers
    assert gets[1].headers["range"] == f"bytes={10 * 1024 * 1024}-"  # resumed after its last whole chunk
    heads = hf_hub.seen("hub", "HEAD", "/resolve/")
    assert heads and heads[0].path == f"/{repo.repo_id}/resolve/main/Big-Q4_K_M.gguf"


def test_a_renamed_repository_redirects_relatively_and_a_gated_one_needs_the_token(hf_hub, tmp_path: Path):
    _repo(hf_hub, renamed_from="someone/Old-Name", gated=True)
    with pytest.raises(hf.errors.GatedRepoError):
        hf.hf_hub_download("someone/Old-Name", "Tiny-Q8_0.gguf", endpoint=hf_hub.url, cache_dir=tmp_path)
    path = hf.hf_hub_download(
        "someone/Old-Name", "Tiny-Q8_0.gguf", endpoint=hf_hub.url, cache_dir=tmp_path, token=hf_hub.token
    )
    assert Path(path).read_bytes() == b"GGUF" + WEIGHTS[::-1]
    assert any(r.path.startswith("/someone/Old-Name/") for r in hf_hub.seen("hub"))
    assert all("authorization" not in r.headers for r in hf_hub.seen("cdn"))  # the token stays on the Hub
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.HfApi(endpoint=hf_hub.url).model_info("nobody/nothing")
