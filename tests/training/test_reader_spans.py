"""Token-level supervision for the reader: where the gold answer lies in a sentence, in characters and in tokens."""

import numpy as np

from index.evaluate import EvalQuestion
from index.evidence import Candidate
from training.train_reader import answer_in, span_targets

SENTENCE = "It was designed by the engineering firm Halvorsen & Dahl in 2019."


def _question(spans, source="bridge.txt"):
    return EvalQuestion("q1", "Who designed the bridge?", "fact", ("Halvorsen & Dahl",), source, spans)


def _candidate(start, article="bridge.txt"):
    return Candidate(article, start, start + len(SENTENCE), SENTENCE, None, np.zeros(0, np.float32))


def test_the_gold_span_is_found_relative_to_the_sentence():
    at = 100 + SENTENCE.index("Halvorsen")
    span = answer_in(_question(((at, at + len("Halvorsen & Dahl")),)), _candidate(100))
    assert span is not None and SENTENCE[span[0]:span[1]] == "Halvorsen & Dahl"


def test_no_span_for_another_article_or_an_answer_reaching_outside_the_sentence():
    at = 100 + SENTENCE.index("Halvorsen")
    assert answer_in(_question(((at, at + 16),)), _candidate(100, article="other.txt")) is None
    assert answer_in(_question(((at, at + 16),), source="other.txt"), _candidate(100)) is None
    assert answer_in(_question(((90, 110),)), _candidate(100)) is None  # starts before the sentence


def _tokenizer():
    from transformers import AutoTokenizer

    from index.encoder import default_model_path

    return AutoTokenizer.from_pretrained(default_model_path())


def test_span_targets_are_the_answer_tokens_in_the_sentence_not_in_the_question():
    tok = _tokenizer()
    s = SENTENCE.index("Halvorsen")
    # The question holds the answer's words too: the targets must point into the sentence.
    questions = ["Did Halvorsen & Dahl design it?", "Did Halvorsen & Dahl design it?"]
    enc = tok(questions, [SENTENCE, "Tolls are not charged."], truncation=True, max_length=64, padding=True,
              return_tensors="pt", return_offsets_mapping=True)
    rows, starts, ends = span_targets(enc, [(s, s + len("Halvorsen & Dahl")), None])
    assert rows == [0]  # the pair without an answer has no target
    assert enc.sequence_ids(0)[starts[0]] == 1 and enc.sequence_ids(0)[ends[0]] == 1
    assert tok.decode(enc["input_ids"][0][starts[0]:ends[0] + 1]) == "halvorsen & dahl"


def test_an_answer_cut_off_by_truncation_has_no_target():
    tok = _tokenizer()
    s = SENTENCE.index("2019")
    enc = tok(["Who designed the bridge?"], [SENTENCE], truncation=True, max_length=12,
              return_tensors="pt", return_offsets_mapping=True)
    assert span_targets(enc, [(s, s + 4)]) == ([], [], [])


def test_the_span_head_is_saved_and_loaded_with_the_reader_and_the_score_is_unchanged_by_it(tmp_path):
    import torch

    from index.encoder import default_model_path
    from training.train_reader import load_reader, reader_module, save_reader

    tok = _tokenizer()
    enc = tok(["Who designed the bridge?"], [SENTENCE], return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    for span in (True, False):
        torch.manual_seed(0)
        model = reader_module(default_model_path(), span=span).eval()
        save_reader(model, tok, tmp_path / str(span))
        loaded = load_reader(tmp_path / str(span))
        assert (loaded.span is not None) == span
        with torch.no_grad():
            score, tokens = loaded.forward_all(*args)
            assert torch.allclose(loaded(*args), model(*args)) and torch.equal(loaded(*args), score)
        assert tokens is None if not span else tokens.shape == (1, enc["input_ids"].shape[1], 2)
