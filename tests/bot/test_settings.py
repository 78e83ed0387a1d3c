"""Settings: one list of encoder backends, and the old name of index.approximate_above still read."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from index.encoder import BACKENDS
from index.encoder_factory import make_encoder
from index.hashing_encoder import HashingEncoder


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "settings.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_hnsw_threshold_is_read_as_approximate_above_with_a_warning(tmp_path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        s = load_settings(settings_file(tmp_path, "[index]\nhnsw_threshold = 1234\n"))
    assert s.index.approximate_above == 1234
    assert "index.hnsw_threshold is now called index.approximate_above" in caplog.text


def test_the_old_name_from_the_environment_too_and_the_new_name_wins(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("CITEBOT_INDEX__HNSW_THRESHOLD", "77")
    assert Settings().index.approximate_above == 77
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        s = load_settings(settings_file(tmp_path, "[index]\napproximate_above = 500\n"))
    assert s.index.approximate_above == 500 and "is ignored" in caplog.text


def test_the_shipped_settings_use_the_new_name() -> None:
    assert load_settings().index.approximate_above == 50_000


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_the_settings_accept_the_factory_builds(backend, tmp_path) -> None:
    assert Settings(model={"backend": backend}).model.backend == backend
    encoder = make_encoder(backend, cache_dir=tmp_path)  # built, not loaded: no model is read yet
    assert isinstance(encoder, HashingEncoder) == (backend == "hashing")


def test_an_unknown_backend_is_refused_naming_the_choices(tmp_path) -> None:
    with pytest.raises(SettingsError, match="model.backend: .*must be one of onnx, torch, hashing"):
        load_settings(settings_file(tmp_path, '[model]\nbackend = "tensorflow"\n'))
