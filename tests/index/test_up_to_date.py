"""A reindex with nothing to do says so and keeps the generation being served; any real change rebuilds."""

from pathlib import Path

from bot.terminal import format_build
from bot.render import build_report_text
from bot.service import Service


def generations(service: Service) -> list[str]:
    return sorted(p.name for p in service.store.root.glob("gen-*"))


def test_nothing_changed_keeps_the_current_generation(fake_service: Service):
    first = fake_service.reindex_sync()
    before = (fake_service.store.root / "CURRENT").read_bytes()
    again = fake_service.reindex_sync()
    assert again.up_to_date and not first.up_to_date
    assert again.generation == first.generation and generations(fake_service) == [first.generation]
    assert (fake_service.store.root / "CURRENT").read_bytes() == before
    assert (again.articles, again.chunks, again.embedded) == (first.articles, first.chunks, 0)
    assert format_build(again).startswith("Index up to date: nothing changed")
    assert build_report_text(again).startswith("Up to date: nothing changed")
    assert "Reindexed 5 articles" in build_report_text(first)


def test_an_edited_sidecar_or_text_is_a_change(fake_service: Service, corpus_dir: Path):
    first = fake_service.reindex_sync()
    sidecar = corpus_dir / "004_79896ee4f2c82973.meta.toml"
    sidecar.write_text(sidecar.read_text(encoding="utf-8") + 'author = "Marieke de Vries"\n', encoding="utf-8")
    second = fake_service.reindex_sync()
    assert not second.up_to_date and second.generation != first.generation and second.embedded == 0
    assert fake_service.index.articles["004_79896ee4f2c82973.txt"].meta.author == "Marieke de Vries"
    assert fake_service.ensure_index() is None  # and the new metadata counts as up to date afterwards
    article = corpus_dir / "000_f639dc0ee243de40.txt"
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence here.", encoding="utf-8")
    assert not fake_service.reindex_sync().up_to_date
