"""Every file of an index generation, and the CURRENT pointer, truncated, bit-flipped, emptied, padded or
deleted while the bot is stopped: detected on start (checksums in the manifest) and rebuilt, never served
wrong. Counts what was detected out of what was tried."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.service import Service
from index.hashing_encoder import HashingEncoder
from index.store import CURRENT, IndexStore, StoreError
from tests.conftest import make_settings
from tests.botproc import ROOT, bot_env
from tests.reliability.common import FIGURES

QUESTION = "When did the Lithuanian parliament vote to leave the Convention on Cluster Munitions?"


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "delete":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncate-1":
        path.write_bytes(data[:-1])
    elif how == "append":
        path.write_bytes(data + b"\n{}")
    elif how.startswith("flip"):
        where = {"flip-first": 0, "flip-middle": len(data) // 2, "flip-last": len(data) - 1}[how]
        b = bytearray(data)
        b[where] ^= 0x10  # changes a byte without making it whitespace-equivalent
        path.write_bytes(bytes(b))
    else:
        raise ValueError(how)


HOWS = ["delete", "empty", "truncate", "truncate-1", "append", "flip-first", "flip-middle", "flip-last"]
POINTER = {
    "delete": None, "empty": "", "garbage": "not a generation\n", "other generation": "gen-19990101T000000-abcdef\n",
    "path escape": "../../etc\n", "absolute": "/etc\n", "dot dot gen": "gen-../../x\n",
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path, dict]:
    """A built index (hashing encoder, shipped articles), with what a correct load returns."""
    tmp = tmp_path_factory.mktemp("pristine")
    corpus = tmp / "articles"
    shutil.copytree(ROOT / "corpus" / "articles", corpus)
    service = Service(make_settings(tmp, corpus), encoder=HashingEncoder())
    service.ensure_index()
    idx = service.index
    truth = {"keys": list(idx.chunk_keys), "articles": sorted(idx.articles), "gen": idx.path.name,
             "answer": service.ask_sync(QUESTION).answer}
    return tmp, corpus, truth


def fresh_copy(pristine, tmp_path: Path) -> tuple[Service, Path]:
    src, corpus, _ = pristine
    shutil.copytree(src / "var", tmp_path / "var")
    return Service(make_settings(tmp_path, corpus), encoder=HashingEncoder()), tmp_path / "var" / "index"


def check_recovery(service: Service, root: Path, truth: dict, reason: str = "the index is damaged (") -> None:
    """Start as the bot does: the damage is noticed (`reason` says why it is rebuilt), the index rebuilt, and what
    is served is right."""
    notes: list[str] = []
    report = service.ensure_index(notify=notes.append)
    assert report is not None and notes and notes[0].startswith(f"Building the index: {reason}"), notes
    assert list(service.index.chunk_keys) == truth["keys"]
    assert sorted(service.index.articles) == truth["articles"]
    assert service.ask_sync(QUESTION).answer == truth["answer"]
    IndexStore(root).load(verify=True)


def generation_files(pristine) -> list[str]:
    src, _, truth = pristine
    manifest = json.loads((src / "var" / "index" / truth["gen"] / "manifest.json").read_text())
    return ["manifest.json", *sorted(manifest["files"])]


def test_every_file_of_a_generation_damaged_in_every_way_is_detected_and_rebuilt(pristine, tmp_path) -> None:
    tried = detected = 0
    files = generation_files(pristine)
    assert len(files) >= 6
    for name in files:
        for how in HOWS:
            case = tmp_path / f"{name}-{how}"
            service, root = fresh_copy(pristine, case)
            damage(root / pristine[2]["gen"] / name, how)
            tried += 1
            try:
                IndexStore(root).load(verify=True)
            except StoreError:
                detected += 1
            else:
                pytest.fail(f"{name} {how}: served without complaint")
            check_recovery(service, root, pristine[2])
            shutil.rmtree(case)
    FIGURES["index damage"].update(generation_files=f"{detected}/{tried} detected ({len(files)} files x "
                                                    f"{len(HOWS)} damages), all rebuilt and answered correctly")
    assert detected == tried


def test_a_damaged_current_pointer_is_detected_and_rebuilt(pristine, tmp_path) -> None:
    tried = detected = 0
    for label, text in POINTER.items():
        service, root = fresh_copy(pristine, tmp_path / label.replace(" ", "_"))
        if text is None:
            (root / CURRENT).unlink()
        else:
            (root / CURRENT).write_text(text)
        tried += 1
        try:
            IndexStore(root).load(verify=True)
        except StoreError:
            detected += 1
        check_recovery(service, root, pristine[2], "no index yet." if text is None else "the index is damaged (")
    FIGURES["index damage"]["CURRENT pointer"] = f"{detected}/{tried} detected, all rebuilt"
    assert detected == tried


def test_every_single_byte_flip_of_a_data_file_is_detected(pristine, tmp_path) -> None:
    """Bit flips at 64 spread positions of each data file (the manifest is checked separately below)."""
    service, root = fresh_copy(pristine, tmp_path / "flips")
    gen = root / pristine[2]["gen"]
    tried = detected = 0
    for name in generation_files(pristine)[1:]:
        path = gen / name
        original = path.read_bytes()
        for k in range(64):
            b = bytearray(original)
            b[k * len(b) // 64] ^= 1 << (k % 8)
            path.write_bytes(bytes(b))
            tried += 1
            try:
                IndexStore(root).load(verify=True)
            except StoreError:
                detected += 1
        path.write_bytes(original)
    FIGURES["index damage"]["single-bit flips in data files"] = f"{detected}/{tried} detected"
    assert detected == tried


def manifest_flip_outcomes(pristine, tmp_path) -> tuple[int, int, list[str]]:
    """Flip bit 0 of every byte of manifest.json: (tried, detected on start, undetected keys)."""
    service, root = fresh_copy(pristine, tmp_path / "manifest")
    path = root / pristine[2]["gen"] / "manifest.json"
    original = path.read_bytes()
    good = json.loads(original)
    corpus = service.load_corpus()
    from index.build import staleness

    tried = detected = 0
    missed: set[str] = set()
    for i in range(len(original)):
        b = bytearray(original)
        b[i] ^= 1
        path.write_bytes(bytes(b))
        tried += 1
        try:
            manifest = IndexStore(root).read_manifest()
            stale = staleness(manifest, corpus, service.encoder.model_id, service.build_config)
            IndexStore(root).load(verify=True)
        except StoreError:
            detected += 1
            continue
        if stale is not None:
            detected += 1
            continue
        missed |= {k for k in good if manifest.get(k) != good[k]} or {"(equivalent JSON)"}
    path.write_bytes(original)
    return tried, detected, sorted(missed)


def test_every_bit_flip_in_the_manifest_is_detected(pristine, tmp_path) -> None:
    tried, detected, missed = manifest_flip_outcomes(pristine, tmp_path)
    FIGURES["index damage"]["bit flips in manifest.json"] = (f"{detected}/{tried} detected on start; undetected "
                                                             f"ones changed {', '.join(missed)}")
    assert detected == tried, missed


def test_a_damaged_index_is_reported_by_the_command_line_and_rebuilt(pristine, tmp_path) -> None:
    """The real process: one line on stderr says the index is damaged, then it is rebuilt and answers."""
    src, corpus, truth = pristine
    shutil.copytree(src / "var", tmp_path / "var")
    damage(tmp_path / "var" / "index" / truth["gen"] / "vectors.npy", "flip-middle")
    r = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", QUESTION], cwd=ROOT,
                       env=bot_env(tmp_path / "var", corpus), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "the index is damaged" in r.stderr and "vectors.npy" in r.stderr and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["answer"] == truth["answer"]
    assert os.path.exists(tmp_path / "var" / "index" / "CURRENT")
