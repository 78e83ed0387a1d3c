"""The FAISS vector index, chosen by corpus size: exact below a threshold, IVF (or HNSW) above it, self-tuned.

Vectors are L2-normalised, so inner product is cosine. Small corpora use `IndexFlatIP` (exact, no
training, appends are a copy). Above the threshold the default is IVF with float16 codes: half the
memory of float32 (8-bit codes halve it again but cap recall@10 near 0.98 and need 4-8x the probes to
get there), trained in seconds on a sample, appendable without retraining, and its `nprobe` tuned at
build time to reach a target recall@10 against exact search on question-like probe queries.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import faiss
import numpy as np

log = logging.getLogger(__name__)

KINDS = ("flat", "ivf", "hnsw")
NPROBES = (4, 8, 16, 32, 64, 128, 256, 512)
EF_SEARCHES = (16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class AnnInfo:
    """How the vector index was made and how good its search was measured to be; kept in the manifest."""

    kind: str
    params: dict
    recall_at_10: float | None = None  # against exact search, on the tuning queries
    train_s: float = 0.0
    add_s: float = 0.0
    tune_s: float = 0.0

    def as_dict(self) -> dict:
        return {"kind": self.kind, "params": self.params, "recall_at_10": self.recall_at_10,
                "seconds": {"train": round(self.train_s, 3), "add": round(self.add_s, 3), "tune": round(self.tune_s, 3)}}


def choose_kind(n: int, setting: str = "auto", approximate_above: int = 50_000, large: str = "ivf") -> str:
    """The index type for n vectors: the setting, or for "auto" exact search below `approximate_above`."""
    if setting != "auto":
        if setting not in KINDS:
            raise ValueError(f"unknown index type {setting!r}")
        return setting
    return large if n >= approximate_above else "flat"


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: about 2*sqrt(n), a power of two, between 16 and 16384."""
    return int(min(16384, max(16, 2 ** round(math.log2(max(2 * math.sqrt(max(n, 1)), 1))))))


def build_ann(vectors: np.ndarray, kind: str, target_recall: float = 0.97, codec: str = "SQfp16",
              seed: int = 0, queries: np.ndarray | None = None) -> tuple[faiss.Index, AnnInfo]:
    """A trained, filled and tuned index of the given kind over the vectors.

    `queries` (embedded question-like texts, see `probe_questions`) make the tuning honest: questions lie
    farther from the passages than any stored vector does, and need about twice the probes.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind == "flat":
        ann = faiss.IndexFlatIP(dim)
        t = time.perf_counter()
        if n:
            ann.add(vectors)
        return ann, AnnInfo("flat", {}, 1.0, add_s=time.perf_counter() - t)
    if kind == "hnsw":
        ann = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        ann.hnsw.efConstruction = 80
        ann.hnsw.efSearch = 128
        t = time.perf_counter()
        if n:
            ann.add(vectors)
        add_s = time.perf_counter() - t
        recall, tune_s = tune(ann, vectors, target_recall, seed, queries=queries)
        return ann, AnnInfo("hnsw", {"M": 32, "efConstruction": 80, "efSearch": int(ann.hnsw.efSearch)}, recall,
                            0.0, add_s, tune_s)
    if kind == "ivf":
        nlist = ivf_lists(n)
        ann = faiss.index_factory(dim, f"IVF{nlist},{codec}", faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(ann)
        ivf.cp.niter = 10  # k-means converges enough for search long before the default 25 rounds
        ivf.cp.seed = seed
        rng = np.random.default_rng(seed)
        sample = vectors if n <= 40 * nlist else vectors[np.sort(rng.choice(n, 40 * nlist, replace=False))]
        t = time.perf_counter()
        ann.train(sample)
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        ann.add(vectors)
        add_s = time.perf_counter() - t
        recall, tune_s = tune(ann, vectors, target_recall, seed, queries=queries)
        return ann, AnnInfo("ivf", {"nlist": nlist, "codec": codec, "nprobe": int(ivf.nprobe)}, recall, train_s,
                            add_s, tune_s)
    raise ValueError(f"unknown index type {kind!r}")


def tuning_queries(vectors: np.ndarray, count: int = 200, seed: int = 0) -> np.ndarray:
    """Queries that resemble questions: the normalised mean of two random stored vectors, not a stored one."""
    rng = np.random.default_rng(seed + 1)
    a = vectors[rng.integers(0, len(vectors), count)]
    b = vectors[rng.integers(0, len(vectors), count)]
    q = a.astype(np.float32) + b.astype(np.float32)
    return q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)


_STEMS = ("What happened when", "Why did", "Who said", "When did", "What did", "How many", "Where did")


def probe_questions(texts, count: int = 200, seed: int = 0) -> list[str]:
    """Question-like probes made from the passages (a question word and a few words of a random sentence),
    to embed and tune the approximate index against."""
    import random

    rng = random.Random(seed)
    out: list[str] = []
    if not len(texts):
        return out
    for _ in range(count * 3):
        words = str(texts[rng.randrange(len(texts))]).split()
        if len(words) >= 6:
            start = rng.randrange(0, max(1, len(words) - 8))
            out.append(f"{rng.choice(_STEMS)} {' '.join(words[start:start + rng.randint(5, 9)]).rstrip('.!?')}?")
        if len(out) >= count:
            break
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat.search(queries, k)[1]


def recall_at(ann: faiss.Index, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    got = ann.search(queries, k)[1]
    return float(np.mean([len(set(g[g >= 0]) & set(t[t >= 0])) / max(1, min(k, (t >= 0).sum()))
                          for g, t in zip(got, truth)]))


def tune(ann: faiss.Index, vectors: np.ndarray, target: float, seed: int = 0, k: int = 10,
         queries: np.ndarray | None = None) -> tuple[float, float]:
    """Set the smallest nprobe / efSearch reaching the target recall@k (or, when the codes' precision caps
    recall below the target, within 0.005 of the best reached); returns (recall, seconds)."""
    t = time.perf_counter()
    if len(vectors) <= k:
        return 1.0, 0.0
    if queries is None or not len(queries):
        queries = tuning_queries(vectors, seed=seed)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    truth = exact_top(vectors, queries, k)
    ivf = faiss.try_extract_index_ivf(ann)
    if ivf is not None:
        values = [min(p, ivf.nlist) for p in NPROBES if p <= ivf.nlist] or [ivf.nlist]

        def setter(v):
            ivf.nprobe = v
    elif isinstance(ann, faiss.IndexHNSW):
        values = list(EF_SEARCHES)

        def setter(v):
            ann.hnsw.efSearch = v
    else:
        return recall_at(ann, queries, truth, k), time.perf_counter() - t
    tried = []
    for v in values:
        setter(v)
        tried.append((v, recall_at(ann, queries, truth, k)))
        if tried[-1][1] >= target:
            break
        # Compressed codes cap recall below 1: stop once more probing stops paying.
        if len(tried) >= 3 and tried[-1][1] - tried[-3][1] < 0.005:
            break
    best = max(r for _, r in tried)
    floor = target if best >= target else best - 0.005
    v, recall = next((v, r) for v, r in tried if r >= floor)
    setter(v)
    return recall, time.perf_counter() - t


def describe(ann: faiss.Index) -> str:
    ivf = faiss.try_extract_index_ivf(ann)
    if ivf is not None:
        return f"IVF{ivf.nlist} nprobe={ivf.nprobe}"
    if isinstance(ann, faiss.IndexHNSW):
        return f"HNSW efSearch={ann.hnsw.efSearch}"
    return type(ann).__name__


def apply_search_params(ann: faiss.Index, params: dict) -> None:
    """Re-apply the tuned search parameters recorded in the manifest after reading an index file."""
    ivf = faiss.try_extract_index_ivf(ann)
    if ivf is not None and "nprobe" in params:
        ivf.nprobe = int(params["nprobe"])
    if isinstance(ann, faiss.IndexHNSW) and "efSearch" in params:
        ann.hnsw.efSearch = int(params["efSearch"])
