"""Fine-tune the bundled MiniLM into a reader: a cross-encoder scoring (question, sentence) pairs.

Fitted on SQuAD train side A only (side B is kept for fitting how its score is combined, and for
choosing thresholds). Positives: the candidate sentence that covers the gold answer. Negatives: the
first-stage ranker's best wrong sentences for the same question, and for unanswerable questions the
sentences that look most like answers. Writes a Hugging Face checkpoint to training/work/reader/.

    .venv/bin/python training/train_reader.py [--epochs 2]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from training.common import WORK, gather, side
from training.stage1 import fit_stage1

NEGATIVES = 6
MAX_TOKENS = 128


def pairs_for(groups, stage1, negatives: int = NEGATIVES, rng: random.Random | None = None):
    """(question, sentence, label) triples: every positive, and the stage-1 best negatives."""
    out = []
    for g in groups:
        if not g.cands:
            continue
        order = np.argsort(-stage1.score(g.features))
        seen = set()
        pos = [g.cands[i].text for i in order if g.labels[i]]
        neg = [g.cands[i].text for i in order if not g.labels[i]]
        for text in pos:
            if text not in seen:
                seen.add(text)
                out.append((g.question.question, text, 1.0))
        for text in neg:
            if len(seen) >= len(pos) + negatives:
                break
            if text not in seen:
                seen.add(text)
                out.append((g.question.question, text, 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from index.encoder import default_model_path

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    _, groups = gather("train")
    side_a = [g for g in groups if side(g.question) == "A"]
    stage1 = fit_stage1([g for g in side_a if g.question.in_scope])
    data = pairs_for(side_a, stage1)
    print(f"{len(data)} pairs from {len(side_a)} questions, {sum(d[2] for d in data):.0f} positive", flush=True)

    path = default_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(data) + args.batch - 1) // args.batch)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    lengths = [len(tok(q, s, truncation=True, max_length=MAX_TOKENS)["input_ids"]) for q, s, _ in data]
    out_dir = WORK / "reader"
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        model.train()
        # Batches of similar length (little padding), in random order.
        idx = sorted(range(len(data)), key=lambda i: (lengths[i], rng.random()))
        batches = [idx[b:b + args.batch] for b in range(0, len(idx), args.batch)]
        rng.shuffle(batches)
        running = 0.0
        for bi, batch in enumerate(batches):
            enc = tok([data[i][0] for i in batch], [data[i][1] for i in batch], truncation=True,
                      max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            labels = torch.tensor([data[i][2] for i in batch])
            loss = loss_fn(model(**enc).logits.squeeze(-1), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            running += float(loss)
            if bi % 50 == 49:
                print(f"epoch {epoch} batch {bi + 1}/{len(batches)} loss {running / 50:.4f} "
                      f"{time.time() - t0:.0f}s", flush=True)
                running = 0.0
        model.save_pretrained(out_dir / f"epoch{epoch + 1}")
        tok.save_pretrained(out_dir / f"epoch{epoch + 1}")
        print(f"saved epoch {epoch + 1} after {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
