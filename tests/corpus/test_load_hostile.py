"""Hostile corpus folders: links that leave the folder, broken links, loops, FIFOs, a README among the
articles, and metadata with terminal escapes or of absurd length. Nothing outside the folder is read,
nothing is dropped without a reason, and what is shown stays one clean line."""

from __future__ import annotations

import os
from pathlib import Path

from corpus.load import META_LIMITS, load_articles

ARTICLE = "Parliament voted to leave the convention. The vote was close."


def write(path: Path, text: str = ARTICLE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_links_leaving_the_corpus_folder_are_listed_and_never_read(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "private"
    write(corpus / "real.txt")
    secret = write(outside / "secret.txt", "The secret password is hunter2. Nobody may read it.")
    write(outside / "folder" / "more.txt", "Another private file. It must stay private.")
    (corpus / "leak.txt").symlink_to(secret)
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "proc.txt").symlink_to("/proc/self/status")
    (corpus / "escape").symlink_to(outside / "folder", target_is_directory=True)
    (corpus / "sneaky.txt").symlink_to(Path("..") / "private" / "secret.txt")  # relative, through ..
    report = load_articles(corpus)
    assert [a.id for a in report.articles] == ["real.txt"]
    assert not any("hunter2" in a.text or "private file" in a.text for a in report.articles)
    reasons = {s.path: s.reason for s in report.skipped}
    for name in ("leak.txt", "passwd.txt", "proc.txt", "escape", "sneaky.txt"):
        assert "outside the corpus folder" in reasons[name], (name, reasons.get(name))


def test_a_link_to_a_file_inside_the_folder_is_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "sub" / "a.txt")
    (corpus / "b.txt").symlink_to(Path("sub") / "a.txt")
    report = load_articles(corpus)
    assert [a.id for a in report.articles] == ["b.txt"]  # sorted first; the same text again is reported
    assert {s.path: s.reason for s in report.skipped} == {"sub/a.txt": "same text as b.txt, indexed once"}


def test_broken_links_loops_and_fifos_are_listed_not_dropped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "real.txt")
    (corpus / "gone.txt").symlink_to(corpus / "deleted.txt")
    (corpus / "loop1.txt").symlink_to(corpus / "loop2.txt")
    (corpus / "loop2.txt").symlink_to(corpus / "loop1.txt")
    os.mkfifo(corpus / "pipe.txt")  # reading it would block the build for ever
    report = load_articles(corpus)
    assert [a.id for a in report.articles] == ["real.txt"]
    reasons = {s.path: s.reason for s in report.skipped}
    assert "broken link" in reasons["gone.txt"]
    assert "loop" in reasons["loop1.txt"] and "loop" in reasons["loop2.txt"]
    assert "not a regular file" in reasons["pipe.txt"] and "FIFO" in reasons["pipe.txt"]


def test_a_sidecar_link_leaving_the_folder_is_not_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt")
    secret = write(tmp_path / "secret.meta.toml", 'title = "hunter2"\n')
    (corpus / "a.meta.toml").symlink_to(secret)
    report = load_articles(corpus)
    assert report.articles[0].meta.title != "hunter2"
    assert "outside the corpus folder" in report.warnings[0].reason


def test_readme_files_in_the_corpus_are_not_articles(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "real.txt")
    write(corpus / "README.md", "# How this folder is organised\n\nPut one article per file. Sidecars hold metadata.")
    write(corpus / "sub" / "readme.txt", "Notes for whoever maintains the corpus. Nothing else.")
    write(corpus / "sub" / "ReadMe", "Plain readme. No suffix.")
    report = load_articles(corpus)
    assert [a.id for a in report.articles] == ["real.txt"]
    assert report.skipped == ()


def test_control_characters_in_metadata_are_removed_and_lengths_capped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt")
    (corpus / "a.meta.toml").write_text(
        'title = "Vote \\u001b]0;pwned\\u0007\\u001b[31mred\\u001b[0m\\nsecond line"\n'
        'outlet = "LRT\\u009b2J"\n'
        f'published_note = "{"n" * 5000}"\n', encoding="utf-8")
    write(corpus / "b.txt", "Another article entirely. About ferries.")
    (corpus / "b.meta.toml").write_text(f'title = "{"Long title " * 500_000}"\n', encoding="utf-8")  # 5.5 MB
    report = load_articles(corpus)
    meta = {a.id: a.meta for a in report.articles}
    assert meta["a.txt"].title == "Vote ]0;pwned[31mred[0m second line"
    assert meta["a.txt"].outlet == "LRT2J"
    for m in meta.values():
        for name, limit in META_LIMITS.items():
            value = getattr(m, name)
            assert value is None or len(value) <= limit
            assert value is None or not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in value)
    assert meta["b.txt"].title.startswith("Long title Long title") and meta["b.txt"].title.endswith("…")
    warned = {w.path: w.reason for w in report.warnings}
    assert warned["b.meta.toml"].startswith("title: 5,49") and "cut to 300" in warned["b.meta.toml"]
    assert "title: control characters removed" in warned["a.meta.toml"]
    assert "published_note: 5,000 characters, cut to 1,000" in warned["a.meta.toml"]
