"""The shipped reader: it prefers the sentence that answers, and a damaged model file is refused."""

import json
import shutil
from pathlib import Path

import pytest

from index.reader import OnnxReader, ReaderError

MODELS = Path(__file__).resolve().parents[2] / "models"
pytestmark = pytest.mark.model


def _shipped() -> tuple[Path, Path, str]:
    data = json.loads((MODELS / "answer-model.json").read_text(encoding="utf-8"))
    return MODELS / data["reader"], MODELS / data["tokenizer"], data["reader_sha256"]


def test_the_sentence_that_answers_scores_highest():
    model, tokenizer, digest = _shipped()
    reader = OnnxReader(model, tokenizer, sha256=digest)
    scores = reader.score("Who designed the new bridge?", [
        "The bridge opened to traffic on Monday after four years of work.",
        "It was designed by the engineering firm Halvorsen & Dahl.",
        "Tolls will not be charged on weekends.",
    ])
    assert scores.shape == (3,) and int(scores.argmax()) == 1
    assert reader.score("Who designed the new bridge?", []).shape == (0,)


def test_a_damaged_reader_file_is_refused_with_what_to_do(tmp_path: Path):
    model, tokenizer, digest = _shipped()
    copy = tmp_path / model.name
    shutil.copyfile(model, copy)
    with open(copy, "r+b") as fh:  # one byte changed deep in the weights: the file still loads
        fh.seek(copy.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(ReaderError, match="damaged or was replaced.*make models"):
        OnnxReader(copy, tokenizer, sha256=digest).score("Who?", ["Someone."])


def test_a_missing_reader_file_is_named():
    _, tokenizer, digest = _shipped()
    with pytest.raises(ReaderError, match="cannot be"):
        OnnxReader(Path("/nonexistent/reader.onnx"), tokenizer, sha256=digest).score("Who?", ["Someone."])
