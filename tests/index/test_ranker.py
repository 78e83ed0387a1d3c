"""Fitted linear models: JSON round trip, checks on load, and the shipped answer model's file."""

import json
import math

import numpy as np
import pytest

from bot.settings import PROJECT_ROOT
from index.answer import AnswerModel
from index.ranker import LinearModel, ModelFileError


def model() -> LinearModel:
    return LinearModel.from_standardised(("a", "b"), [2.0, -1.0], 0.5, [1.0, 0.0], [2.0, 1.0])


def test_score_is_the_standardised_weighted_sum():
    x = np.array([[3.0, 1.0], [1.0, 0.0]])
    assert model().score(x) == pytest.approx([0.5 + 2.0 * 1.0 - 1.0 * 1.0, 0.5])
    assert model().probability(x)[1] == pytest.approx(1 / (1 + math.exp(-0.5)))


def test_json_round_trip_and_feature_check():
    data = json.loads(json.dumps(model().as_json()))
    back = LinearModel.from_json(data, ("a", "b"))
    assert back.features == ("a", "b") and back.score(np.ones((1, 2))) == pytest.approx(model().score(np.ones((1, 2))))
    with pytest.raises(ModelFileError, match="differ"):
        LinearModel.from_json(data, ("a", "c"))
    data["features"]["a"]["scale"] = 0
    with pytest.raises(ModelFileError, match="positive"):
        LinearModel.from_json(data)


def test_the_shipped_answer_model_loads_and_names_its_reader():
    m = AnswerModel.load(PROJECT_ROOT / "models" / "answer-model.json")
    assert m.reader_file.is_file() and m.tokenizer_file.is_file()
    assert 0 < m.threshold < 1 and m.read >= 1


def test_a_damaged_model_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "answer-model.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        AnswerModel.load(bad)
    bad.write_text('{"stage1": {}}', encoding="utf-8")
    with pytest.raises(ModelFileError, match="not an answer model"):
        AnswerModel.load(bad)
    with pytest.raises(ModelFileError, match="cannot be read"):
        AnswerModel.load(tmp_path / "missing.json")
