"""Extraction quality on the fixture pages: citebot's extraction (trafilatura) against readability-lxml.

    .venv/bin/python benchmarks/extraction_quality.py          # needs: pip install readability-lxml (or .[bench])

For each page in tests/fixtures/web/expected.json it counts the phrases of the main text kept, the pieces of
boilerplate (navigation, related links, cookie banners, comments, newsletter boxes, footers) dropped, and
the metadata fields found correctly (title, author, date, outlet, language, canonical URL). The cookie-wall
page counts as handled when nothing is stored from it. Counts, not a score: both tools see the same pages.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.html import extract_article  # noqa: E402
from corpus.errors import CorpusError  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "web"
BASE = "http://127.0.0.1:8000"
META_FIELDS = ("title", "author", "published", "outlet", "language", "canonical_url")


def norm(text: str) -> str:
    return " ".join(text.split())


def ours(html: str) -> tuple[str, dict]:
    try:
        ex = extract_article(html, url=BASE + "/page")
    except CorpusError:
        return "", {}
    return ex.text, {f: getattr(ex.meta, f) for f in META_FIELDS}


def trafilatura_defaults(html: str) -> tuple[str, dict]:
    """trafilatura on its own, default precision, without citebot's guards (for comparison)."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=BASE + "/page", with_metadata=True, include_comments=False)
    if doc is None:
        return "", {}
    return doc.text or "", {"title": doc.title, "author": doc.author, "published": doc.date, "outlet": doc.sitename}


def readability(html: str) -> tuple[str, dict]:
    import lxml.html
    from readability import Document

    doc = Document(html)
    text = lxml.html.fromstring(doc.summary()).text_content()
    return text, {"title": doc.short_title()}


def main() -> int:
    expected = {k: v for k, v in json.loads((FIXTURES / "expected.json").read_text()).items() if not k.startswith("_")}
    tools = {"citebot (trafilatura 2, favor_precision)": ours, "trafilatura 2 alone, defaults": trafilatura_defaults}
    if importlib.util.find_spec("readability"):
        tools["readability-lxml"] = readability
    else:
        print("readability-lxml is not installed: pip install readability-lxml (or the project's [bench] extra)")
    wall = (FIXTURES / "cookiewall.html").read_text()
    print(f"{'extractor':<42} {'main text kept':>15} {'boilerplate dropped':>20} {'metadata found':>15} "
          f"{'cookie wall refused':>20}")
    for name, fn in tools.items():
        kept = dropped = meta_ok = 0
        keep_total = drop_total = meta_total = 0
        misses: list[str] = []
        for page, want in expected.items():
            html = (FIXTURES / page).read_text().replace("{base}", BASE)
            text, meta = fn(html)
            text = norm(text)
            for phrase in want["keep"]:
                keep_total += 1
                if norm(phrase) in text:
                    kept += 1
                else:
                    misses.append(f"{page}: lost {phrase!r}")
            for phrase in want["drop"]:
                drop_total += 1
                if norm(phrase) not in text:
                    dropped += 1
                else:
                    misses.append(f"{page}: kept boilerplate {phrase!r}")
            for field, value in want["meta"].items():
                meta_total += 1
                value = value.replace("{base}", BASE) if isinstance(value, str) else value
                meta_ok += meta.get(field) == value
        refused = not norm(fn(wall)[0])
        print(f"{name:<42} {f'{kept}/{keep_total}':>15} {f'{dropped}/{drop_total}':>20} "
              f"{f'{meta_ok}/{meta_total}':>15} {'yes' if refused else 'no':>20}")
        for m in misses:
            print(f"    {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
