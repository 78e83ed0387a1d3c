"""Fine-tune the bundled MiniLM into a reader: a cross-encoder scoring (question, sentence) pairs.

Fitted on SQuAD train side A only (side B is kept for fitting how its score is combined, and for
choosing thresholds). Positives: the candidate sentence that covers the gold answer. Negatives: the
first-stage ranker's best wrong sentences for the same question, and for unanswerable questions the
sentences that look most like answers. The loss: each pair's label (so the score also says whether a
sentence answers at all), plus each question's positive ranked above its own negatives; with --span-weight,
also where the answer starts and ends among the positive sentence's tokens (measured, not shipped: README,
"Token-level supervision"). Writes a Hugging Face checkpoint per epoch to training/work/reader/.

    .venv/bin/python -m training.train_reader [--epochs 3] [--stop-after 2] [--resume N] [--span-weight W]
"""

from __future__ import annotations

import argparse
import random
import time
import warnings
from pathlib import Path

import numpy as np

from training.common import WORK, gather, side
from training.stage1 import fit_stage1

NEGATIVES = 7
MAX_TOKENS = 128


Item = tuple[str, float, tuple[int, int] | None]  # sentence, label, the answer's offsets in it


def answer_in(question, cand) -> tuple[int, int] | None:
    """The first gold span inside a candidate sentence, as offsets into the sentence's text."""
    if question.source != cand.article_id:
        return None
    return next(((s - cand.start, e - cand.start) for s, e in question.spans if cand.start <= s and e <= cand.end),
                None)


def groups_for(groups, stage1, negatives: int = NEGATIVES) -> list[tuple[str, list[Item]]]:
    """Per question: (question, [(sentence, label, answer span)]): its positives first, then the stage-1
    best negatives (span None)."""
    out = []
    for g in groups:
        if not g.cands:
            continue
        order = np.argsort(-stage1.score(g.features), kind="stable")
        pos = {}
        for i in order:
            if g.labels[i] and g.cands[i].text not in pos:
                pos[g.cands[i].text] = answer_in(g.question, g.cands[i])
        neg = [t for t in dict.fromkeys(g.cands[i].text for i in order if not g.labels[i]) if t not in pos]
        out.append((g.question.question,
                    [(t, 1.0, span) for t, span in pos.items()] + [(t, 0.0, None) for t in neg[:negatives]]))
    return out


def span_targets(enc, spans) -> tuple[list[int], list[int], list[int]]:
    """For each pair whose sentence holds the answer: (row, first token, last token) of the answer among
    the sentence's tokens; pairs whose answer was cut off by truncation are left out."""
    rows, starts, ends = [], [], []
    for row, span in enumerate(spans):
        if span is None:
            continue
        s, e = span
        seq, offsets = enc.sequence_ids(row), enc["offset_mapping"][row].tolist()
        toks = [i for i, (sid, (a, b)) in enumerate(zip(seq, offsets)) if sid == 1 and b > s and a < e]
        if toks:
            rows.append(row)
            starts.append(toks[0])
            ends.append(toks[-1])
    return rows, starts, ends


def reader_module(path: str, span: bool = False):
    """MiniLM with a linear head on the mean of its token vectors (and, with `span`, a head finding the
    answer's first and last token, for training only: the exported reader keeps the pair score alone).

    Mean pooling, not BERT's [CLS] pooler: the bundled model was trained to mean-pool, and its [CLS]
    output barely varies between inputs (a [CLS] head fitted here gave almost the same score to every
    sentence).
    """
    import torch
    from transformers import AutoModel

    class MeanPoolReader(torch.nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, 1)
            self.span = torch.nn.Linear(encoder.config.hidden_size, 2) if span else None

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.forward_all(input_ids, attention_mask, token_type_ids)[0]

        def forward_all(self, input_ids, attention_mask, token_type_ids):
            """The pair's score, and each token's start and end logits (batch, tokens, 2) if it has a span head."""
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            score = self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))[:, 0]
            return score, (self.span(hidden) if self.span is not None else None)

    return MeanPoolReader(AutoModel.from_pretrained(path, attn_implementation="eager"))


def save_reader(model, tok, folder: Path) -> None:
    from safetensors.torch import save_file

    model.encoder.save_pretrained(folder / "encoder")
    tok.save_pretrained(folder / "encoder")
    for name in ("head", "span"):  # a reader trained without --span-weight has no span head
        if (module := getattr(model, name)) is not None:
            save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(folder / f"{name}.safetensors"))


def load_reader(folder: Path):
    from safetensors.torch import load_file

    spans = folder / "span.safetensors"  # only readers trained with --span-weight have one
    model = reader_module(str(folder / "encoder"), span=spans.is_file())
    model.head.load_state_dict(load_file(str(folder / "head.safetensors")))
    if model.span is not None:
        model.span.load_state_dict(load_file(str(spans)))
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3, help="epochs the learning-rate schedule spans")
    ap.add_argument("--stop-after", type=int, default=2,
                    help="stop after this many epochs (the shipped reader: epoch 2 of a 3-epoch schedule)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--pairs", type=int, default=32, help="pairs per batch (whole questions)")
    ap.add_argument("--listwise", type=float, default=1.0,
                    help="weight of the loss ranking each question's positive above its negatives")
    ap.add_argument("--span-weight", type=float, default=0.0,
                    help="weight of the loss for finding the answer's first and last token in sentences that hold "
                         "it (token-level supervision; the exported reader keeps only the pair score)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=str(WORK / "reader"))
    ap.add_argument("--resume", type=int, default=0, metavar="N",
                    help="start from the saved epoch N (its weights; fresh optimiser moments) and go on with the "
                         "same schedule and batch order, so epochs after N match a run that never stopped "
                         "except for those moments")
    args = ap.parse_args()

    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from index.encoder import default_model_path

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    all_groups = gather("train")
    side_a = [g for g in all_groups if side(g.question) == "A"]
    stage1 = fit_stage1([g for g in side_a if g.question.in_scope])
    data = groups_for(side_a, stage1)
    n_pairs = sum(len(items) for _, items in data)
    print(f"{len(data)} questions, {n_pairs} pairs, {sum(l for _, it in data for _, l, _ in it):.0f} positive",
          flush=True)

    out_dir = Path(args.out)
    path = default_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = (load_reader(out_dir / f"epoch{args.resume}").train() if args.resume
             else reader_module(path, span=args.span_weight > 0))
    if args.span_weight and model.span is None:
        ap.error(f"--span-weight: epoch {args.resume} was trained without it")
    # The new heads learn faster than the pretrained layers may move.
    heads = [p for name, p in model.named_parameters() if not name.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": args.lr},
                             {"params": heads, "lr": 20 * args.lr}], weight_decay=0.01)
    per_batch = max(1, args.pairs // (NEGATIVES + 1))
    steps = args.epochs * ((len(data) + per_batch - 1) // per_batch)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    bce = torch.nn.BCEWithLogitsLoss()
    t0 = time.time()
    for epoch in range(min(args.epochs, args.stop_after)):
        model.train()
        order = list(range(len(data)))
        rng.shuffle(order)
        batches = [order[b:b + per_batch] for b in range(0, len(order), per_batch)]
        if epoch < args.resume:  # done before: replay its shuffle and its schedule, train nothing
            with warnings.catch_warnings():  # "scheduler stepped before the optimiser": meant here
                warnings.simplefilter("ignore", UserWarning)
                for _ in batches:
                    sched.step()
            continue
        running = 0.0
        for bi, batch in enumerate(batches):
            qs, texts, labels, spans, sizes = [], [], [], [], []
            for i in batch:
                question, items = data[i]
                qs += [question] * len(items)
                texts += [t for t, _, _ in items]
                labels += [l for _, l, _ in items]
                spans += [sp for _, _, sp in items]
                sizes.append(len(items))
            enc = tok(qs, texts, truncation=True, max_length=MAX_TOKENS, padding=True,
                      return_tensors="pt", return_offsets_mapping=True)
            logits, token_logits = model.forward_all(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            target = torch.tensor(labels)
            loss = bce(logits, target)
            rows, starts, ends = span_targets(enc, spans) if args.span_weight else ([], [], [])
            if rows:
                in_sentence = torch.tensor([[sid == 1 for sid in enc.sequence_ids(r)] for r in rows])
                tl = token_logits[rows].masked_fill(~in_sentence.unsqueeze(-1), -1e4)
                loss = loss + args.span_weight * 0.5 * (
                    torch.nn.functional.cross_entropy(tl[:, :, 0], torch.tensor(starts))
                    + torch.nn.functional.cross_entropy(tl[:, :, 1], torch.tensor(ends)))
            if args.listwise:
                # Each question's positive should beat its own negatives: softmax over the question's pairs.
                parts, at = [], 0
                for n in sizes:
                    lg, lb = logits[at:at + n], target[at:at + n]
                    if lb.sum() > 0 and n > 1:
                        parts.append(torch.logsumexp(lg, 0) - torch.logsumexp(lg[lb > 0], 0))
                    at += n
                if parts:
                    loss = loss + args.listwise * torch.stack(parts).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            running += float(loss.detach())
            if bi % 50 == 49:
                print(f"epoch {epoch} batch {bi + 1}/{len(batches)} loss {running / 50:.4f} "
                      f"{time.time() - t0:.0f}s", flush=True)
                running = 0.0
        save_reader(model, tok, out_dir / f"epoch{epoch + 1}")
        print(f"saved epoch {epoch + 1} after {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
