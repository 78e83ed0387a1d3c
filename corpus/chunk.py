"""Sentence-aware chunking: runs of whole sentences near a target length, overlapping by whole sentences."""

from __future__ import annotations

import re

from corpus.models import Article, Chunk
from corpus.text import sentence_spans

_WORD_RUN = re.compile(r"\S+")


def chunk_article(article: Article, target_words: int = 60, overlap_sentences: int = 1) -> list[Chunk]:
    """Chunks of about `target_words` words that start and end on sentence boundaries.

    A sentence longer than twice the target is cut at word boundaries so that no chunk grows unbounded.
    """
    if target_words < 5:
        raise ValueError("target_words must be at least 5")
    if overlap_sentences < 0:
        raise ValueError("overlap_sentences must not be negative")
    text = article.text
    units = [piece for s, e in sentence_spans(text, article.body_start) for piece in _split_long(text, s, e, target_words)]
    sizes = [len(_WORD_RUN.findall(text[s:e])) for s, e in units]
    chunks: list[Chunk] = []
    i = fresh = 0  # sentences before `fresh` are already in the previous chunk
    while i < len(units):
        j, words = i, 0
        # Take whole sentences up to the target; always at least one sentence not in the previous chunk.
        while j < len(units) and (j <= fresh or (words < target_words and words + sizes[j] <= target_words * 1.25)):
            words += sizes[j]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(article.id, len(chunks), start, end, text[start:end]))
        if j >= len(units):
            break
        i, fresh = max(i + 1, j - overlap_sentences), j
    return chunks


def _split_long(text: str, start: int, end: int, target_words: int) -> list[tuple[int, int]]:
    words = list(_WORD_RUN.finditer(text, start, end))
    limit = 2 * target_words
    if len(words) <= limit:
        return [(start, end)]
    pieces = []
    for k in range(0, len(words), target_words):
        group = words[k : k + target_words]
        pieces.append((group[0].start(), group[-1].end()))
    return pieces
