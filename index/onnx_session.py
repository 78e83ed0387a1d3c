"""onnxruntime as citebot runs its models (the embedding model and the reader): on the CPU, one operator at a
time, without busy-waiting between runs."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_session(model_file: Path, threads: int | None = None):
    """An InferenceSession of the model file on `threads` cores (None: all); raises what onnxruntime raises."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # No busy-waiting between runs: the cores are shared with FAISS, BM25 and the event loop.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
