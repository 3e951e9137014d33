"""Jacobian benchmark: `python -m bench.jacobian [--json]` from the repository root.

1. The Figure 4 Jacobian (1D deep decoder, n = 512, 4 layers of 64 channels, last layer
   ReLU(U B C) v: a 512 x 16 384 matrix) by one backward pass per output row — the way it
   was done originally — against :func:`untrained_cs.theory.jacobian.dense_jacobian`
   (vmapped backward passes over chunks of rows), in the same run; the ratio is printed and
   the two matrices are compared.
2. The top-20 singular values of a 2D deep decoder's Jacobian at 128 x 128 (16 384 rows,
   ~21 000 parameters: the dense matrix would take ~1.4 GB), matrix-free by Lanczos on
   J Jᵀ; wall time and the peak resident memory of a fresh process doing only that.

Threads: ``BENCH_THREADS`` (default 1: this 2-core machine is usually shared, and small
kernels run far slower with 2 contended threads).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import sys
import time
from typing import Any

import torch

from untrained_cs.generators.deep_decoder import DeepDecoder
from untrained_cs.theory.jacobian import dense_jacobian, top_singular

THREADS = int(os.environ.get("BENCH_THREADS", "1"))


def figure4_decoder() -> DeepDecoder:
    """The Figure 4 generator: θ = the four 64 x 64 channel mixings (16 384 values)."""
    return DeepDecoder(
        out_shape=(1, 512), channels=64, layers=4, upsample="linear", head="fixed",
        affine=False, sigmoid=False, seed=0,
    )  # fmt: skip


def jacobian_by_rows(gen: DeepDecoder) -> torch.Tensor:
    """The reference: one ``torch.autograd.grad`` per output entry, ``[n, P]``."""
    params = [p for p in gen.parameters() if p.requires_grad]
    out = gen().reshape(-1)
    rows = []
    for i in range(out.numel()):
        grads = torch.autograd.grad(out[i], params, retain_graph=True)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def dense_case() -> dict[str, Any]:
    """Row-by-row backward vs chunked vmapped backward for the 512 x 16 384 Jacobian."""
    gen = figure4_decoder()
    dense_jacobian(gen, chunk_size=8)  # warm up torch.func once (not timed)
    reference, ref_s = _timed(lambda: jacobian_by_rows(gen))
    ours, our_s = _timed(lambda: dense_jacobian(gen, chunk_size=128)[0])
    diff = float((ours - reference).abs().max() / reference.abs().max())
    return {
        "case": "figure4_dense_jacobian",
        "shape": list(ours.shape),
        "reference_s": ref_s,
        "project_s": our_s,
        "speedup": ref_s / our_s,
        "max_rel_difference": diff,
    }


def _top20_worker(queue: Any, threads: int) -> None:
    torch.set_num_threads(threads)
    gen = DeepDecoder(out_shape=(1, 128, 128), channels=64, layers=5, seed=0)
    rows, params = gen.n, gen.num_parameters()
    (sigma, _), seconds = _timed(lambda: top_singular(gen, 20, tol=1e-6))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put(
        {
            "case": "deep_decoder_2d_128_top20",
            "rows": rows,
            "parameters": params,
            "dense_would_need_mb": rows * params * 4 / 2**20,
            "seconds": seconds,
            "peak_rss_mb": peak_kb / 1024,
            "sigma_top5": [float(s) for s in sigma[:5]],
            "sigma_20": float(sigma[-1]),
        }
    )


def top20_case() -> dict[str, Any]:
    """Top-20 singular values at 128 x 128, in a fresh process (clean peak memory)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_top20_worker, args=(queue, THREADS))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def run() -> dict[str, Any]:
    """Both cases; returns ``{"threads", "dense", "top20"}`` and prints the ratio."""
    torch.set_num_threads(THREADS)
    dense = dense_case()
    print(
        f"figure 4 Jacobian {dense['shape'][0]}x{dense['shape'][1]}: row-by-row "
        f"{dense['reference_s']:.2f} s, chunked vmap {dense['project_s']:.2f} s, "
        f"ratio {dense['speedup']:.1f}x (max rel diff {dense['max_rel_difference']:.1e})"
    )
    top = top20_case()
    print(
        f"2D deep decoder 128x128 ({top['rows']} x {top['parameters']}, dense "
        f"{top['dense_would_need_mb']:.0f} MB): top-20 in {top['seconds']:.1f} s, "
        f"peak RSS {top['peak_rss_mb']:.0f} MB"
    )
    return {"threads": THREADS, "dense": dense, "top20": top}


if __name__ == "__main__":
    results = run()
    if "--json" in sys.argv[1:]:
        print(json.dumps(results))
