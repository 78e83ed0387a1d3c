"""The index on disk: manifest, change detection, damage detection, atomic swap, incremental embedding."""

import json
from pathlib import Path

import pytest

from bot.service import Service
from index.build import build_index, staleness
from index.hashing_encoder import HashingEncoder
from index.store import IndexCorrupt, IndexMissing, IndexStore

from tests.conftest import RecordingEncoder, make_settings


def generation(service: Service) -> Path:
    return service.store.current_path()


def test_first_use_builds_an_index_with_a_manifest(fake_service: Service):
    report = fake_service.ensure_index()
    assert report is not None and report.articles == 5 and report.embedded == report.chunks > 0
    manifest = json.loads((generation(fake_service) / "manifest.json").read_text())
    assert manifest["model"] == {"id": "hashing-256", "dim": 256}
    assert manifest["chunking"] == {"target_words": 60, "overlap_sentences": 1}
    assert set(manifest["corpus"]) == {a.id for a in fake_service.load_corpus().articles}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    assert fake_service.ensure_index() is None  # up to date: loaded, not rebuilt


def test_adding_an_article_embeds_only_its_passages(fake_service: Service, corpus_dir: Path):
    first = fake_service.ensure_index()
    (corpus_dir / "005_new.txt").write_text(
        "Estonia said on Monday it would review its own treaties. Officials will decide in June.", encoding="utf-8")
    encoder = fake_service.encoder = RecordingEncoder()
    second = fake_service.ensure_index()
    assert second.articles == 6
    assert second.embedded == second.chunks - first.chunks
    new_text = (corpus_dir / "005_new.txt").read_text(encoding="utf-8")
    assert encoder.calls and all(t in new_text for call in encoder.calls for t in call)
    assert second.reused == first.chunks


def test_changed_article_model_or_chunking_makes_the_index_stale(fake_service: Service, corpus_dir: Path):
    fake_service.ensure_index()
    manifest = fake_service.store.read_manifest()
    report = fake_service.load_corpus()
    cfg = fake_service.build_config
    assert staleness(manifest, report, "hashing-256", cfg) is None
    assert "model changed" in staleness(manifest, report, "other-model", cfg)
    from dataclasses import replace
    assert "chunking" in staleness(manifest, report, "hashing-256", replace(cfg, target_words=99))
    path = corpus_dir / "002_6a22dc8fdb0ad288.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence.", encoding="utf-8")
    assert "1 changed" in staleness(manifest, fake_service.load_corpus(), "hashing-256", cfg)


def test_an_index_without_the_timeline_or_with_an_older_one_is_stale(fake_service: Service):
    from dataclasses import replace

    from index.timeline import TIMELINE_VERSION

    fake_service.ensure_index()
    manifest, report, cfg = fake_service.store.read_manifest(), fake_service.load_corpus(), fake_service.build_config
    assert manifest["timeline"] == TIMELINE_VERSION and fake_service.index.timeline["version"] == TIMELINE_VERSION
    older = dict(manifest, timeline=TIMELINE_VERSION - 1)
    assert staleness(older, report, "hashing-256", cfg) == "the timeline changed (new version)"
    assert staleness(dict(manifest, timeline=None), report, "hashing-256", cfg) == "it lacks the timeline"
    assert staleness(dict(manifest, timeline=None), report, "hashing-256", replace(cfg, timeline=False)) is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest"])
def test_a_damaged_index_is_detected_and_rebuilt_never_served(fake_service: Service, damage: str):
    fake_service.ensure_index()
    gen = generation(fake_service)
    target = gen / "vectors.npy"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        (gen / "chunks.jsonl").unlink()
    else:
        (gen / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        IndexStore(fake_service.store.root).load()
    fresh = Service(fake_service.settings, encoder=HashingEncoder())
    report = fresh.ensure_index()
    assert report is not None and report.chunks > 0  # rebuilt
    assert IndexStore(fake_service.store.root).load().chunks  # and now loads cleanly


def test_a_crash_mid_build_leaves_the_previous_index_serving(fake_service: Service, corpus_dir: Path):
    fake_service.ensure_index()
    before = generation(fake_service)
    (corpus_dir / "005_new.txt").write_text("A new article. It says new things.", encoding="utf-8")

    class Exploding(HashingEncoder):
        def encode(self, texts, progress=None):
            raise OSError("disk on fire")

    with pytest.raises(OSError):
        build_index(fake_service.load_corpus(), Exploding(), fake_service.store, fake_service.build_config)
    assert generation(fake_service) == before
    assert IndexStore(fake_service.store.root).load().chunks
    assert [p.name for p in fake_service.store.root.iterdir() if p.name.endswith(".tmp")] == []


def test_no_index_is_reported_as_missing(tmp_path: Path):
    with pytest.raises(IndexMissing):
        IndexStore(tmp_path / "none").load()


def test_reindex_keeps_answering_from_the_old_index_until_the_swap(tmp_path: Path, corpus_dir: Path):
    service = Service(make_settings(tmp_path, corpus_dir), encoder=HashingEncoder())
    service.ensure_index()
    old = service.index
    (corpus_dir / "005_new.txt").write_text("Latvia said it would stay. Officials agreed.", encoding="utf-8")
    report = service.reindex_sync()
    assert service.index is not old and len(service.index.articles) == 6 == report.articles
