"""Terms are the same whichever thread works them out: questions are analysed in parallel worker threads."""

from __future__ import annotations

import random
import sys
import threading

import pytest

import corpus.text
from corpus.text import terms
from tests.conftest import SHIPPED


@pytest.fixture
def fast_switching():
    """Threads switch every microsecond, so that a shared stemmer's state would be interleaved."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def vocabulary() -> list[str]:
    words = sorted({w for p in SHIPPED.glob("*.txt") for w in corpus.text.words(p.read_text(encoding="utf-8"))})
    # inflected forms too, so that most words go through the stemmer's longer paths
    return words + [w + suffix for w in words[:1500] for suffix in ("ing", "ations", "ness", "fully")]


def test_terms_worked_out_in_parallel_threads_match_one_thread(fast_switching) -> None:
    vocab = vocabulary()
    corpus.text._normalise_word.cache_clear()
    expected = {w: terms(w, keep_stopwords=True) for w in vocab}
    for round_ in range(3):
        corpus.text._normalise_word.cache_clear()
        errors: list[BaseException] = []
        got: list[dict[str, list[str]]] = []

        def work(seed: int) -> None:
            words = list(vocab)
            random.Random(seed).shuffle(words)
            try:
                got.append({w: terms(w, keep_stopwords=True) for w in words})
            except BaseException as exc:  # an IndexError from a stemmer whose state another thread changed
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(round_ * 10 + i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, f"{len(errors)} threads failed, e.g. {errors[0]!r}"
        for result in got:
            wrong = {w: (result[w], expected[w]) for w in vocab if result[w] != expected[w]}
            assert not wrong, f"{len(wrong)} wrong terms, e.g. {list(wrong.items())[:3]}"
        # and what the cache kept for later questions is right too
        cached = {w: terms(w, keep_stopwords=True) for w in vocab}
        assert cached == expected
