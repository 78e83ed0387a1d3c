"""How the answer path scales with the corpus: latency, memory, build speed and ANN recall at 1k .. 1M passages.

    .venv/bin/python benchmarks/bench_scale.py                         # 1k,10k,100k,1M (about 15-25 min)
    .venv/bin/python benchmarks/bench_scale.py --sizes 1k,10k --skip-append --skip-embed-compare   # quick

The corpus is generated from the shipped articles: their sentences, each in many variants (names,
numbers, dates and months swapped), recombined into passages. What is real at each size:

* 1k and 10k: everything. Articles are written to files and indexed by the production `build_index`
  with the production encoder (embeddings computed for real).
* 100k and 1M: passage texts, the BM25 index (built from the passages' real term counts), the FAISS
  index (trained, filled and tuned by the production `index.ann.build_ann`), the files on disk and the
  loading are real; the passage *vectors* are synthetic: the normalised sum of the real embeddings of
  the passage's sentences plus a little noise (the fidelity of this is measured at 10k and printed);
  the stored sentence vectors are those real sentence embeddings.

At every size the query path is the production one, in a fresh process that loads the index from disk:
question -> encoder -> FAISS + BM25 -> fusion -> `index.answer.Composer` -> answer. Rows of one run are
comparable; the machine is shared, so absolute numbers are noisy.

One script of about 730 lines, on purpose: the generator, the build and serve workers (each run in a process of
its own, so that memory is measured per process) and the report share one result format and are run as one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEV = ROOT / "benchmarks" / "questions" / "dev.jsonl"

import numpy as np  # noqa: E402

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000, "1M": 1_000_000}
REAL_EMBED_MAX = 20_000  # sizes above this use synthetic passage vectors

PLACES = ("Vilnius Kaunas Riga Tallinn Warsaw Gdansk Tartu Klaipeda Minsk Kyiv Lviv Odesa Helsinki Oslo Bergen "
          "Prague Brno Krakow Poznan Siauliai Daugavpils Narva Turku Tampere Gothenburg Malmo").split()
FIRST = "Asta Jonas Rima Tomas Egle Mindaugas Laura Darius Ieva Paulius Marta Andrius Greta Karolis Ona".split()
LAST = ("Kazlauskas Petraitis Jankauskiene Stankevicius Vasiliauskas Zukauskas Butkus Paulauskas Urbonas "
        "Kavaliauskas Navickas Ramanauskas Sakalauskas Balciunas Mazeika").split()
MONTHS = ("January February March April May June July August September October November December").split()
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_NUM = re.compile(r"\b\d{1,3}(?:,\d{3})*\b")
_MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\b")


def rss_now_mb(kind: str = "VmRSS") -> float:
    """Resident memory now; RssAnon is the process's own, RssFile the file pages it has mapped (page cache)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(kind + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def ms(values):
    return f"{statistics.median(values):.1f} / {pct(values, 95):.1f}"


# -- corpus generation -----------------------------------------------------------------------------------

class Generator:
    """Variant sentences of the shipped articles, and passages/articles recombined from them."""

    def __init__(self, variants: int = 60, seed: int = 0) -> None:
        from corpus.load import load_articles
        from corpus.text import sentence_spans

        rng = random.Random(seed)
        report = load_articles(ROOT / "corpus" / "articles", 2_000_000)
        self.base: list[list[int]] = []  # per shipped article: the ids of its base sentences, in order
        self.variants: list[list[str]] = []  # base sentence id -> its variants (variant 0 is the original)
        for a in report.articles:
            ids = []
            for s, e in sentence_spans(a.text, a.body_start):
                text = " ".join(a.text[s:e].split())
                ids.append(len(self.variants))
                self.variants.append([text] + [self._vary(text, rng) for _ in range(variants - 1)])
            self.base.append(ids)
        self.flat: list[str] = [v for vs in self.variants for v in vs]  # variant id -> text
        self.offset = np.cumsum([0] + [len(vs) for vs in self.variants])[:-1]  # base id -> first variant id
        self.words = np.array([len(t.split()) for t in self.flat])

    @staticmethod
    def _vary(text: str, rng: random.Random) -> str:
        people = {}

        def name(m):
            if rng.random() < 0.35:
                return m.group()
            key = m.group()
            if key not in people:
                people[key] = (rng.choice(PLACES) if " " not in key else f"{rng.choice(FIRST)} {rng.choice(LAST)}")
            return people[key]

        text = _NAME.sub(name, text)
        text = _YEAR.sub(lambda m: str(rng.randint(1995, 2030)), text)
        text = _NUM.sub(lambda m: str(rng.randint(2, 999)) if not _YEAR.fullmatch(m.group()) else m.group(), text)
        return _MONTH.sub(lambda m: rng.choice(MONTHS), text)

    def passages(self, n: int, seed: int = 1, target_words: int = 60) -> tuple[list[str], np.ndarray]:
        """n passages of consecutive sentences of one article, each sentence a random variant; and the
        (n x 6) variant ids they are made of (-1 pads)."""
        rng = np.random.default_rng(seed)
        arts = rng.integers(0, len(self.base), n)
        ids = np.full((n, 6), -1, dtype=np.int64)
        texts = []
        for i, a in enumerate(arts):
            base = self.base[a]
            j = int(rng.integers(0, len(base)))
            words, k = 0, 0
            while k < 6 and words < target_words:
                b = base[(j + k) % len(base)]
                v = self.offset[b] + int(rng.integers(0, len(self.variants[b])))
                ids[i, k] = v
                words += self.words[v]
                k += 1
            texts.append(" ".join(self.flat[v] for v in ids[i, :k]))
        return texts, ids

    def article(self, rng: random.Random, sentences: int = 20) -> str:
        base = rng.choice(self.base)
        j = rng.randrange(len(base))
        out = []
        for k in range(sentences):
            b = base[(j + k) % len(base)]
            out.append(rng.choice(self.variants[b]))
            if k % 4 == 3:
                out.append("\n\n")
        return " ".join(out).replace(" \n\n ", "\n\n").strip() + "\n"


def questions(gen: Generator, count: int, seed: int = 2) -> list[str]:
    """The dev questions, then questions made from random variant sentences (their leading words)."""
    from index.evaluate import read_questions

    out = [q.question for q in read_questions(DEV)] if DEV.exists() else []
    rng = random.Random(seed)
    stems = ("What happened when", "Why did", "Who said", "When did", "What did", "How many")
    while len(out) < count:
        words = rng.choice(gen.flat).rstrip(".!?\"”").split()
        if len(words) < 6:
            continue
        start = rng.randrange(0, max(1, len(words) - 8))
        out.append(f"{rng.choice(stems)} {' '.join(words[start:start + rng.randint(5, 9)])}?")
    return out


def write_articles(gen: Generator, folder: Path, count: int, seed: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        (folder / f"{i:06d}.txt").write_text(gen.article(rng), encoding="utf-8")


# -- workers (each in its own process, so that peak RSS is its own) --------------------------------------

def _encoder(backend: str, cache: Path):
    from index.encoder_factory import make_encoder

    return make_encoder(backend, cache_dir=cache)


def build_worker(size: int, work: Path, cache: Path) -> dict:
    """Generate a corpus of about `size` passages and index it; returns figures."""
    from corpus.load import load_articles
    from index.ann import build_ann, probe_questions, recall_at
    from index.build import BuildConfig, bm25_from_counts, build_index, count_terms
    from index.store import IndexStore

    out: dict = {"size": size}
    gen = Generator()
    enc = _encoder("onnx", cache)
    store = IndexStore(work / "index")
    qs = questions(gen, 220)
    qv = enc.encode(qs)
    np.save(work / "qvecs.npy", qv)
    (work / "questions.json").write_text(json.dumps(qs))
    if size <= REAL_EMBED_MAX:
        # Real: articles on disk, the production build with real embeddings.
        rng = random.Random(5)
        from corpus.chunk import chunk_article
        from corpus.models import Article

        per = statistics.mean(len(chunk_article(Article("x", gen.article(rng)))) for _ in range(40))
        write_articles(gen, work / "articles", max(1, round(size / per)))
        t = time.perf_counter()
        report = load_articles(work / "articles", 2_000_000)
        out["load_articles_s"] = time.perf_counter() - t
        enc.encode(["warm"])
        b = build_index(report, enc, store, BuildConfig())
        out.update(passages=b.chunks, build_s=b.seconds, build_timings=b.timings, index_type=b.index_type,
                   vectors="real")
        out["build_passages_per_s"] = b.chunks / b.seconds
        loaded = store.load()
        vec32 = np.asarray(loaded.vectors, dtype=np.float32)
        if size >= 10_000:
            # How close are the synthetic vectors used at larger sizes to real ones? Same passages, both ways.
            texts, ids = gen.passages(2000, seed=9)
            real = enc.encode(texts)
            synth = synthetic_vectors(gen, ids, _sentence_vectors(gen, enc, work))
            out["synthetic_vs_real_cos"] = float(np.median((real * synth).sum(1)))
            # Forced IVF on the real vectors: the recall the production tuning gives on real data.
            ann, info = build_ann(vec32, "ivf", queries=enc.encode(probe_questions(
                [c.text for c in loaded.chunks], seed=17)))
            out["ivf_on_real_vectors"] = {"params": info.params, "tuned_recall": info.recall_at_10,
                                          "question_recall": recall_at(ann, qv, _exact(vec32, qv))}
    else:
        # Synthetic vectors, everything else real.
        t = time.perf_counter()
        texts, ids = gen.passages(size)
        out["generate_s"] = time.perf_counter() - t
        sv = _sentence_vectors(gen, enc, work)
        t0 = time.perf_counter()
        vectors = synthetic_vectors(gen, ids, sv)
        out["synth_vectors_s"] = time.perf_counter() - t0
        t = time.perf_counter()
        counts = passage_counts(gen, ids)
        vocab = dict(gen_vocab(gen))
        bm25 = bm25_from_counts(vocab, counts)
        lex_s = time.perf_counter() - t
        # check: counts from sentences equal counts from the passages' texts (on a sample)
        sample_vocab = dict(vocab)
        sample = count_terms(texts[:2000], sample_vocab)
        out["counts_check_max_diff"] = float(abs(sample - counts[:2000]).max()) if len(sample_vocab) == len(vocab) else -1
        t = time.perf_counter()
        sentences = synthetic_sentences(ids, sv)
        out["synth_sentences_s"] = time.perf_counter() - t
        # the answer path splits passages with sentence_spans; where that disagrees with the generator's
        # sentences it embeds the passage's sentences itself (a real cost, counted in the latency)
        from corpus.text import sentence_spans
        out["sentence_split_agreement"] = float(np.mean([len(sentence_spans(t)) == c for t, c in
                                                          zip(texts[:2000], (ids[:2000] >= 0).sum(1))]))
        out.update(assemble_and_write(store, texts, vectors, sentences, bm25, counts, enc, lex_s, out))
        vec32 = vectors
        del texts
    out["passages"] = out.get("passages") or len(vec32)
    loaded_manifest = store.read_manifest()
    out["ann"] = loaded_manifest.get("ann")
    out["index_type"] = loaded_manifest["index_type"]
    if loaded_manifest["index_type"] != "flat":
        import faiss

        from index.ann import apply_search_params

        ann = faiss.read_index(str(store.current_path() / "vectors.faiss"))
        apply_search_params(ann, loaded_manifest["ann"]["params"])
        out["question_recall_at_10"] = recall_at(ann, qv, _exact(vec32, qv))
    else:
        out["question_recall_at_10"] = 1.0
    out["disk_mb"] = sum(f.stat().st_size for f in store.current_path().iterdir()) / 2**20
    out["disk_files_mb"] = {f.name: round(f.stat().st_size / 2**20, 1) for f in store.current_path().iterdir()}
    out["build_peak_rss_mb"] = peak_rss_mb()
    return out


def _exact(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    from index.ann import exact_top

    return exact_top(vectors, queries, k)


def _sentence_vectors(gen: Generator, enc, work: Path) -> np.ndarray:
    path = work.parent / "sentence_vectors.npy"
    if path.exists():
        return np.load(path)
    sv = enc.encode(gen.flat)
    np.save(path, sv)
    return sv


def synthetic_sentences(ids: np.ndarray, sv: np.ndarray):
    """Each generated passage's sentence vectors: the real embeddings of the sentences it is made of."""
    from index.sentences import SentenceVectors, quantize

    codes, scales = quantize(sv)
    used = ids >= 0
    flat = ids[used]  # row-major: passage by passage, sentences in order
    ptr = np.concatenate([[0], np.cumsum(used.sum(axis=1), dtype=np.int64)]).astype(np.int64)
    return SentenceVectors(ptr, codes[flat], scales[flat])


NOISE = 0.3  # relative noise on synthetic vectors: breaks ties between near-identical generated passages


def synthetic_vectors(gen: Generator, ids: np.ndarray, sv: np.ndarray, noise: float = NOISE,
                      seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((len(ids), sv.shape[1]), dtype=np.float32)
    for b in range(0, len(ids), 100_000):
        part = ids[b:b + 100_000]
        acc = np.zeros((len(part), sv.shape[1]), dtype=np.float32)
        for k in range(part.shape[1]):
            col = part[:, k]
            ok = col >= 0
            acc[ok] += sv[col[ok]]
        acc /= np.linalg.norm(acc, axis=1, keepdims=True)
        acc += rng.normal(0, noise / np.sqrt(sv.shape[1]), acc.shape).astype(np.float32)
        out[b:b + len(part)] = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    return out


_VOCAB_CACHE: dict = {}


def gen_vocab(gen: Generator) -> dict[str, int]:
    if "vocab" not in _VOCAB_CACHE:
        from index.build import count_terms

        vocab: dict[str, int] = {}
        _VOCAB_CACHE["counts"] = count_terms(gen.flat, vocab)
        _VOCAB_CACHE["vocab"] = vocab
    return _VOCAB_CACHE["vocab"]


def passage_counts(gen: Generator, ids: np.ndarray):
    """Passage x term counts as (passage x sentence) @ (sentence x term): what tokenising the texts gives."""
    from scipy import sparse

    gen_vocab(gen)
    s_counts = _VOCAB_CACHE["counts"]
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    cols = ids.ravel()
    ok = cols >= 0
    p = sparse.csr_matrix((np.ones(ok.sum(), np.float32), (rows[ok], cols[ok])), shape=(len(ids), len(gen.flat)))
    return (p @ s_counts).tocsr()


def assemble_and_write(store, texts, vectors, sentences, bm25, counts, enc, lex_s, out) -> dict:
    """The rest of a build for generated passages: chunk records, the FAISS index, the files, the manifest."""
    from corpus.models import ArticleMeta, Chunk
    from index.ann import build_ann, choose_kind, probe_questions
    from index.build import BuildConfig
    from index.store import ArticleRecord, write_generation

    cfg = BuildConfig()
    t = time.perf_counter()
    chunks, records = [], []
    per_article = 10
    for a in range(0, len(texts), per_article):
        aid = f"gen/{a // per_article:07d}.txt"
        pos = 0
        for o, text in enumerate(texts[a:a + per_article]):
            chunks.append(Chunk(aid, o, pos, pos + len(text), text))
            pos += len(text) + 1
        records.append(ArticleRecord(aid, "0" * 64, ArticleMeta(title=f"Generated article {a // per_article}",
                                                               published="2024-07-18")))
    records_s = time.perf_counter() - t
    kind = choose_kind(len(chunks), cfg.index_type, cfg.approximate_above)
    t = time.perf_counter()
    probes = enc.encode(probe_questions(texts, seed=17)) if kind != "flat" else None  # as build_index does
    ann, info = build_ann(vectors, kind, cfg.target_recall, cfg.ivf_codec, queries=probes)
    ann_s = time.perf_counter() - t
    stored = vectors.astype(np.float16) if kind != "flat" else vectors
    t = time.perf_counter()
    with store.writing() as tmp:
        write_generation(tmp, chunks, records, stored, ann, bm25, sentences, None, term_counts=counts)
        manifest = {"model": {"id": enc.model_id, "dim": vectors.shape[1]}, "chunking": cfg.chunking(),
                    "index_type": kind, "index_type_setting": cfg.index_type,
                    "ann": dict(info.as_dict(), trained_on=len(chunks), appended=0),
                    "vectors_dtype": str(stored.dtype), "corpus": {},
                    "sentences": {"rows": int(sentences.ptr[-1]), "dtype": "int8"},
                    "counts": {"articles": len(records), "chunks": len(chunks)}, "timeline": None}
        store.commit(tmp, manifest)
    write_s = time.perf_counter() - t
    total = out["synth_vectors_s"] + out["synth_sentences_s"] + lex_s + records_s + ann_s + write_s
    return {"build_s": total, "build_timings": {"lexical index": lex_s, "records": records_s, "vector index": ann_s,
                                               "sentence vectors": out["synth_sentences_s"], "write": write_s}, "build_passages_per_s": len(chunks) / total,
            "vectors": "synthetic", "passages": len(chunks)}


def serve_worker(work: Path, cache: Path) -> dict:
    """Load the index from disk as the bot does and answer the questions; latency and memory."""
    from index.answer import AnswerModel, Composer
    from index.evaluate import read_questions, score
    from index.search import Searcher
    from index.store import IndexStore

    base_rss = rss_now_mb()
    enc = _encoder("onnx", cache)
    enc.encode(["warm"])
    t = time.perf_counter()
    index = IndexStore(work / "index").load(verify=True)
    load_s = time.perf_counter() - t
    searcher = Searcher(index, enc)
    composer = Composer(searcher, AnswerModel.load(ROOT / "models" / "answer-model.json"))
    from index.search import top_positive
    qs = json.loads((work / "questions.json").read_text())
    for q in qs[:20]:
        composer.answer(q)
    total, embed, search, ann, bm25_top, bm25_all = [], [], [], [], [], []
    answers = []
    for q in qs:
        t0 = time.perf_counter()
        answers.append(composer.answer(q))
        total.append((time.perf_counter() - t0) * 1000)
    for q in qs:
        t0 = time.perf_counter()
        query = searcher.parse(q)
        t1 = time.perf_counter()
        searcher.passages(query)
        t2 = time.perf_counter()
        index.ann.search(query.vector[None, :], 40)
        t3 = time.perf_counter()
        top_positive(index.bm25.scores_for(list(query.weights)), 40)
        t4 = time.perf_counter()
        index.bm25.scores_for(list(query.weights))
        t5 = time.perf_counter()
        embed.append((t1 - t0) * 1000)
        search.append((t2 - t1) * 1000)
        ann.append((t3 - t2) * 1000)
        bm25_top.append((t4 - t3) * 1000)
        bm25_all.append((t5 - t4) * 1000)
    compose = [a - b - c for a, b, c in zip(total, embed, search)]
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for q in qs[:60]:
        composer.answer(q)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
    profile = [line for line in buf.getvalue().splitlines() if line.strip()][-15:]
    dev = read_questions(DEV).questions if DEV.exists() else []
    hit3 = score(dev, [a.outcome() for a in answers[:len(dev)]]).hit_at_3 if dev else None
    return {"load_s": load_s, "answer_ms": total, "embed_ms": embed, "search_ms": search, "ann_ms": ann,
            "bm25_top_ms": bm25_top, "bm25_scores_ms": bm25_all, "compose_ms": compose,
            "abstained": sum(a.abstained for a in answers), "questions": len(qs), "dev_hit_at_3": hit3,
            "profile": profile,
            "rss_before_mb": base_rss, "serving_rss_mb": rss_now_mb(), "serving_anon_mb": rss_now_mb("RssAnon"),
            "serving_file_mb": rss_now_mb("RssFile"), "peak_rss_mb": peak_rss_mb()}


ENCODERS = ("torch fp32", "onnx fp32", "onnx int8 (production)")


def embed_worker(cache: Path, count: int, name: str, out: Path) -> dict:
    """Passages/s of one encoder on ~80-word passages, in a process of its own (no other runtime loaded)."""
    from index.torch_encoder import SentenceTransformerEncoder
    from index.onnx_encoder import OnnxEncoder

    gen = Generator()
    texts, _ = gen.passages(count, seed=11, target_words=80)
    enc = {"torch fp32": lambda: SentenceTransformerEncoder(),
           "onnx fp32": lambda: OnnxEncoder(cache_dir=cache, quantisation="fp32"),
           "onnx int8 (production)": lambda: OnnxEncoder(cache_dir=cache)}[name]()
    enc.encode(texts[:8])
    t = time.perf_counter()
    vecs = enc.encode(texts)
    rate = len(texts) / (time.perf_counter() - t)
    query = []
    for q in ("When did Lithuania leave the convention?", "Who is the defence minister?") * 10:
        t = time.perf_counter()
        enc.encode([q])
        query.append((time.perf_counter() - t) * 1000)
    np.save(out, vecs)
    return {"rate": rate, "query_ms": statistics.median(query), "words": float(np.mean([len(x.split()) for x in texts])),
            "passages": len(texts)}


def embed_compare(cache: Path, count: int, work: Path, rounds: int = 3) -> dict:
    """Each encoder in turn, in fresh processes, `rounds` times: rates of the same run, comparable."""
    work.mkdir(parents=True, exist_ok=True)
    rates = {k: [] for k in ENCODERS}
    query = {k: [] for k in ENCODERS}
    info = {}
    for _ in range(rounds):
        for k in ENCODERS:
            res = run_worker("embed", str(cache), str(count), k, str(work / f"{ENCODERS.index(k)}.npy"))
            rates[k].append(res["rate"])
            query[k].append(res["query_ms"])
            info = res
    ref = np.load(work / "0.npy")
    cos = {k: (np.load(work / f"{i}.npy") * ref).sum(1) for i, k in enumerate(ENCODERS)}
    return {"words": info["words"], "passages": info["passages"], "rates": rates,
            "query_ms": {k: statistics.median(v) for k, v in query.items()},
            "cos_min": {k: float(v.min()) for k, v in cos.items()}, "cos_mean": {k: float(v.mean()) for k, v in cos.items()}}


def append_worker(work: Path, cache: Path, articles: int) -> dict:
    """Add one article to an `articles`-article corpus: only its passages embedded, the indexes appended."""
    from corpus.load import load_articles
    from index.build import BuildConfig, bm25_append, build_index, count_terms
    from index.store import IndexStore

    gen = Generator()
    enc = _encoder("onnx", cache)
    enc.encode(["warm"])

    class SeedEncoder:  # the real model's id with made-up vectors: seeds the big index without hours of embedding
        model_id = enc.model_id
        dim = enc.dim

        def encode(self, texts, progress=None):
            rng = np.random.default_rng(len(texts))
            v = rng.normal(size=(len(texts), self.dim)).astype(np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    folder = work / "articles"
    write_articles(gen, folder, articles)
    store = IndexStore(work / "index")
    cfg = BuildConfig()
    t = time.perf_counter()
    first = build_index(load_articles(folder, 2_000_000), SeedEncoder(), store, cfg)
    seed_s = time.perf_counter() - t
    (folder / "new-article.txt").write_text(gen.article(random.Random(99)), encoding="utf-8")
    t = time.perf_counter()
    report = load_articles(folder, 2_000_000)
    load_s = time.perf_counter() - t
    added = build_index(report, enc, store, cfg)
    texts = [c.text for c in store.load(verify=False).chunks]
    t = time.perf_counter()
    bm25_append(None, {}, texts)
    bm25_full_s = time.perf_counter() - t
    t = time.perf_counter()
    count_terms(texts, {})
    tokenise_s = time.perf_counter() - t
    return {"articles": articles, "passages": first.chunks, "index_type": first.index_type, "seed_build_s": seed_s,
            "seed_timings": first.timings, "load_articles_s": load_s, "append_s": added.seconds,
            "appended": added.appended, "embedded": added.embedded, "append_timings": added.timings,
            "bm25_full_rebuild_s": bm25_full_s, "tokenise_all_s": tokenise_s,
            "peak_rss_mb": peak_rss_mb()}


def dev_worker(data: Path) -> dict:
    """Dev-set quality with production settings (default config, temporary data folder)."""
    os.environ["CITEBOT_DATA__DIR"] = str(data)
    from bot.service import Service
    from bot.settings import load_settings
    from index.evaluate import read_questions, score

    service = Service(load_settings())
    qs = read_questions(DEV)
    service.ensure_index()
    rep = score(qs, [service.ask_sync(q.question) for q in qs])
    return {"hit_at_1": rep.hit_at_1, "hit_at_3": rep.hit_at_3, "mrr": rep.mrr, "model_id": service.encoder.model_id,
            "abstained_out_of_scope": rep.abstained_out_of_scope, "wrong_abstentions": rep.wrong_abstentions}


# -- orchestration ----------------------------------------------------------------------------------------

def run_worker(*args: str) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1",
                                   TRANSFORMERS_OFFLINE="1"))
    if proc.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t
    print(f"  [{args[0]} {' '.join(a for a in args[1:] if not a.startswith('/'))} done in {out['wall_s']:.0f}s]",
          file=sys.stderr, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description="Scaling benchmark; prints markdown tables.")
    ap.add_argument("--sizes", default="1k,10k,100k,1M", help="passage counts, e.g. 1k,10k (default 1k,10k,100k,1M)")
    ap.add_argument("--append-articles", type=int, default=10_000, help="corpus size for the add-one-article test")
    ap.add_argument("--skip-append", action="store_true")
    ap.add_argument("--skip-embed-compare", action="store_true")
    ap.add_argument("--embed-passages", type=int, default=192)
    ap.add_argument("--work", help="keep generated data here (default: a temporary folder, removed)")
    ap.add_argument("--json", help="also write all raw figures to this file")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "build":
            res = build_worker(int(rest[0]), Path(rest[1]), Path(rest[2]))
        elif kind == "serve":
            res = serve_worker(Path(rest[0]), Path(rest[1]))
        elif kind == "embed":
            res = embed_worker(Path(rest[0]), int(rest[1]), rest[2], Path(rest[3]))
        elif kind == "append":
            res = append_worker(Path(rest[0]), Path(rest[1]), int(rest[2]))
        else:
            res = dev_worker(Path(rest[0]))
        print(json.dumps(res))
        return 0

    sizes = [SIZES.get(s, None) or int(s) for s in args.sizes.split(",")]
    root = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="citebot-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    cache = root / "models"
    started = time.perf_counter()
    results: dict = {"sizes": {}}
    try:
        results["dev"] = run_worker("dev", str(root / "dev"))
        if not args.skip_embed_compare:
            results["embed"] = embed_compare(cache, args.embed_passages, root / "embed")
        for n in sizes:
            work = root / f"n{n}"
            if work.exists():
                shutil.rmtree(work)
            work.mkdir()
            b = run_worker("build", str(n), str(work), str(cache))
            s = run_worker("serve", str(work), str(cache))
            results["sizes"][n] = {"build": b, "serve": s}
            shutil.rmtree(work / "articles", ignore_errors=True)
            if not args.work:
                shutil.rmtree(work / "index", ignore_errors=True)
        if not args.skip_append:
            work = root / "append"
            if work.exists():
                shutil.rmtree(work)
            work.mkdir()
            results["append"] = run_worker("append", str(work), str(cache), str(args.append_articles))
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.work:
            shutil.rmtree(root, ignore_errors=True)
    results["total_s"] = time.perf_counter() - started
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    report(results)
    return 0


def report(r: dict) -> None:
    print(f"# citebot scaling benchmark ({os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f}, "
          f"total {r['total_s'] / 60:.1f} min)\n")
    print("## Answer latency (warm, question in -> composed answer out, no Discord), ms p50 / p95\n")
    print("| passages | vectors | index | answer | embed question | search (FAISS+BM25+fusion) | compose | "
          "FAISS alone | BM25 top alone | BM25 all-scores alone | abstained |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, row in r["sizes"].items():
        b, s = row["build"], row["serve"]
        ann = b.get("ann") or {}
        params = ann.get("params", {})
        desc = b["index_type"] + (f" nlist={params['nlist']} nprobe={params['nprobe']} {params.get('codec', '')}"
                                  if "nlist" in params else "")
        print(f"| {b['passages']:,} | {b['vectors']} | {desc} | **{ms(s['answer_ms'])}** | {ms(s['embed_ms'])} | "
              f"{ms(s['search_ms'])} | {ms(s['compose_ms'])} | {ms(s['ann_ms'])} | {ms(s['bm25_top_ms'])} | "
              f"{ms(s['bm25_scores_ms'])} | {s['abstained']}/{s['questions']} |")
    print("\n## Build, memory, disk, recall\n")
    print("| passages | build | passages/s | build steps (s) | build peak RSS | index load | serving RSS (anon + file) | "
          "serving peak RSS | on disk | recall@10 vs exact (questions) | dev hit@3 in this corpus |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, row in r["sizes"].items():
        b, s = row["build"], row["serve"]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in b["build_timings"].items() if v >= 0.05)
        print(f"| {b['passages']:,} | {b['build_s']:.1f} s | {b['build_passages_per_s']:,.0f} | {steps} | "
              f"{b['build_peak_rss_mb']:,.0f} MB | {s['load_s']:.1f} s | {s['serving_rss_mb']:,.0f} MB "
              f"({s.get('serving_anon_mb', 0):,.0f} + {s.get('serving_file_mb', 0):,.0f}) | "
              f"{s['peak_rss_mb']:,.0f} MB | {b['disk_mb']:,.0f} MB | {b['question_recall_at_10']:.3f} | "
              f"{s['dev_hit_at_3']:.2f} |")
    notes = []
    for n, row in r["sizes"].items():
        b = row["build"]
        if "synthetic_vs_real_cos" in b:
            notes.append(f"at {b['passages']:,} passages: synthetic vs real vector of the same passage, median cosine "
                         f"{b['synthetic_vs_real_cos']:.3f}; IVF forced on the real vectors: "
                         f"{b['ivf_on_real_vectors']['params']}, recall@10 on questions "
                         f"{b['ivf_on_real_vectors']['question_recall']:.3f} (tuning queries "
                         f"{b['ivf_on_real_vectors']['tuned_recall']:.3f})")
        if b.get("ann", {}).get("recall_at_10") is not None and b["index_type"] != "flat":
            notes.append(f"at {b['passages']:,}: build-time tuning recall@10 {b['ann']['recall_at_10']:.3f}; "
                         f"files (MB) {b['disk_files_mb']}")
        if "sentence_split_agreement" in b:
            notes.append(f"at {b['passages']:,}: stored sentence vectors are the real embeddings of the generator's "
                         f"sentences; the answer path's sentence split agrees on {b['sentence_split_agreement']:.1%} "
                         "of passages (the others' sentences are embedded per question, as an index without them would)")
        if "counts_check_max_diff" in b:
            notes.append(f"at {b['passages']:,}: BM25 counts from sentences vs tokenised texts, max difference "
                         f"{b['counts_check_max_diff']:g} (0 = identical)")
    for line in notes:
        print(f"- {line}")
    big = max(r["sizes"]) if r["sizes"] else None
    if big is not None:
        s = r["sizes"][big]["serve"]
        print(f"\n## Where an answer's time goes at {r['sizes'][big]['build']['passages']:,} passages (cProfile, 60 "
              "answers, by own time)\n")
        print("```")
        print("\n".join(s["profile"]))
        print("```")
    if "embed" in r:
        e = r["embed"]
        base = statistics.median(e["rates"]["torch fp32"])
        print(f"\n## Embedding throughput ({e['passages']} passages of ~{e['words']:.0f} words; 3 rounds, each encoder in "
              "a fresh process, taking turns)\n")
        print("| encoder | passages/s (median) | rounds | vs torch | 1 query p50 | min / mean cosine to torch |")
        print("|---|---|---|---|---|---|")
        for k, v in e["rates"].items():
            print(f"| {k} | {statistics.median(v):.1f} | {', '.join(f'{x:.0f}' for x in v)} | "
                  f"x{statistics.median(v) / base:.2f} | {e['query_ms'][k]:.1f} ms | "
                  f"{e['cos_min'][k]:.4f} / {e['cos_mean'][k]:.4f} |")
    if "append" in r:
        a = r["append"]
        print(f"\n## Adding one article to a {a['articles']:,}-article corpus ({a['passages']:,} passages, "
              f"{a['index_type']})\n")
        print(f"- build_index: **{a['append_s']:.2f} s** (appended={a['appended']}, {a['embedded']} passages embedded); "
              f"steps: " + ", ".join(f"{k} {v:.2f}" for k, v in a["append_timings"].items()))
        print(f"- before it, reading the {a['articles']:,} article files (load_articles): {a['load_articles_s']:.2f} s")
        print(f"- for comparison: BM25 rebuilt from all texts {a['bm25_full_rebuild_s']:.1f} s (tokenising alone "
              f"{a['tokenise_all_s']:.1f} s); the seeding full build (vectors made up) {a['seed_build_s']:.1f} s: "
              + ", ".join(f"{k} {v:.1f}" for k, v in a["seed_timings"].items()))
    d = r["dev"]
    print(f"\n## Dev set, production settings ({d['model_id']})\n\nhit@1 {d['hit_at_1']:.2f}, hit@3 {d['hit_at_3']:.2f}, "
          f"MRR {d['mrr']:.3f}, out-of-scope abstained {d['abstained_out_of_scope']}, wrong abstentions "
          f"{d['wrong_abstentions']}")


if __name__ == "__main__":
    raise SystemExit(main())
