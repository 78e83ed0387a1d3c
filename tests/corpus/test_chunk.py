from corpus.chunk import chunk_article
from corpus.load import load_articles
from corpus.models import Article
from corpus.text import sentence_spans

from tests.conftest import SHIPPED


def test_chunks_are_verbatim_slices_on_sentence_boundaries():
    for article in load_articles(SHIPPED).articles:
        chunks = chunk_article(article, target_words=60, overlap_sentences=1)
        starts = {s for s, _ in sentence_spans(article.text, article.quote_start)}
        ends = {e for _, e in sentence_spans(article.text, article.quote_start)}
        assert chunks
        for c in chunks:
            assert c.text == article.text[c.start:c.end]
            assert c.start in starts and c.end in ends
            assert c.article_id == article.id


def test_chunks_overlap_by_the_configured_sentences_and_cover_the_body():
    (article,) = [a for a in load_articles(SHIPPED).articles if a.id.startswith("003")]
    chunks = chunk_article(article, target_words=40, overlap_sentences=1)
    spans = sentence_spans(article.text, article.quote_start)
    for a, b in zip(chunks, chunks[1:]):
        single = sum(1 for s, e in spans if a.start <= s and e <= a.end) == 1
        assert b.start < a.end or single  # one sentence shared, unless the chunk is one sentence
    assert sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end) >= len(chunks) // 2
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s, e in sentence_spans(article.text, article.quote_start):
        assert set(range(s, e)) <= covered
    no_overlap = chunk_article(article, target_words=40, overlap_sentences=0)
    for a, b in zip(no_overlap, no_overlap[1:]):
        assert b.start >= a.end


def test_a_sentence_without_stops_is_cut_so_no_chunk_grows_unbounded():
    article = Article(id="wall.txt", text=" ".join(f"word{i}" for i in range(1000)))
    chunks = chunk_article(article, target_words=50, overlap_sentences=0)
    assert max(len(c.text.split()) for c in chunks) <= 100
    assert all(c.text == article.text[c.start:c.end] for c in chunks)
