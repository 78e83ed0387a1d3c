"""Export a fine-tuned reader checkpoint to ONNX with int8 weights, into models/.

    .venv/bin/python -m training.export_reader [training/work/reader/epoch2]

Writes models/reader-int8.onnx and models/reader-tokenizer.json, and prints how closely the int8 logits
follow the fp32 ones on pairs from the shipped corpus.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from training.common import ROOT, WORK

MODELS = ROOT / "models"
READER_FILE = MODELS / "reader-int8.onnx"
TOKENIZER_FILE = MODELS / "reader-tokenizer.json"


def export(checkpoint: Path, target: Path = READER_FILE, tokenizer_target: Path = TOKENIZER_FILE) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from training.train_reader import load_reader

    model = load_reader(checkpoint)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones((2, 8), dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "reader-fp32.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (sample, sample, torch.zeros_like(sample)), str(fp32),
                              input_names=names, output_names=["logit"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {"logit": {0: "batch"}},
                              opset_version=17, dynamo=False)
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=True, op_types_to_quantize=["MatMul", "Gather"])
        finally:
            logging.disable(logging.NOTSET)
        shutil.copyfile(checkpoint / "encoder" / "tokenizer.json", tokenizer_target)
        compare(fp32, target, tokenizer_target)


def compare(fp32: Path, int8: Path, tokenizer: Path) -> None:
    """Agreement of the int8 and fp32 readers on question/sentence pairs from the shipped corpus."""
    from index.reader import OnnxReader
    from training.common import gather

    groups = gather("dev")
    a, b = OnnxReader(fp32, tokenizer), OnnxReader(int8, tokenizer)
    xs, ys, same_top = [], [], 0
    for g in groups:
        texts = [c.text for c in g.cands[:12]]
        x, y = a.score(g.question.question, texts), b.score(g.question.question, texts)
        xs.append(x)
        ys.append(y)
        same_top += int(np.argmax(x) == np.argmax(y))
    x, y = np.concatenate(xs), np.concatenate(ys)
    print(f"int8 vs fp32 on {len(x)} pairs: correlation {np.corrcoef(x, y)[0, 1]:.4f}, "
          f"mean |difference| {np.abs(x - y).mean():.3f}, same best sentence {same_top}/{len(groups)}; "
          f"{int8.stat().st_size / 1e6:.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", nargs="?", default=str(WORK / "reader" / "epoch2"))
    args = ap.parse_args()
    MODELS.mkdir(exist_ok=True)
    export(Path(args.checkpoint))


if __name__ == "__main__":
    main()
