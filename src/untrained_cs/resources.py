"""Memory estimates made before anything big is allocated, and the check against what is free.

The estimates are deliberately coarse upper-ish bounds (float32 storage, the activations a
backward pass keeps, Adam's two moments); their job is to refuse a run that cannot fit with
a clear message and a way out, before it spends minutes and then fails.
"""

from __future__ import annotations

import os

import torch

GB = 1024**3
#: refuse when an estimate passes this share of the free memory
HEADROOM = 0.8
#: bytes per stored entry of the dense operators, by registry name
DENSE_BYTES = {"gaussian": 4, "gaussian-bf16": 2}


def free_memory(device: str | torch.device = "cpu") -> int:
    """Bytes this process can still allocate: free GPU memory on CUDA; on the CPU, psutil's
    available memory where psutil is installed (it comes with dask), else Linux's
    MemAvailable, else the free pages."""
    dev = torch.device(device)
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free)
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def operator_bytes(name: str, n: int, m: int) -> int:
    """Storage of a registered operator (dense matrices m x n; others O(n))."""
    if name in DENSE_BYTES:
        return DENSE_BYTES[name] * m * n * 2  # the matrix and one transient copy when drawn
    return 16 * n


def generator_bytes(name: str, n: int, channels: int, layers: int, members: int = 1) -> int:
    """Parameters (with gradient and Adam's moments) and the activations autograd keeps."""
    if name == "dip":
        width, depth = 128, 12
        params = 4 * depth * width * width * 9
        acts = 4 * width * n * depth * 3
    elif name in ("two-layer", "linear"):
        params = 4 * n * channels * 4
        acts = 4 * n * channels * 4
    else:  # deep decoder: 1x1 convolutions, activations at every scale up to n
        params = 4 * layers * channels * channels * 4
        acts = 4 * channels * n * 8 * 4 // 3
    return members * (params + acts)


def mri_bytes(generator: str, n: int, channels: int, layers: int, coils: int) -> dict[str, int]:
    """An MRI reconstruction's memory by part: the k-space and its copies (complex, several
    per coil), and the generator (:func:`generator_bytes`) with its coil-image activations.

    Args:
        generator, channels, layers: the generator; n: pixels of the k-space grid H x W;
        coils: receive coils.
    """
    return {
        "k-space": 16 * 8 * coils * n,
        "generator": generator_bytes(generator, n, channels, layers) + 32 * coils * n,
    }


def check_memory(parts: dict[str, int], hint: str, device: str | torch.device = "cpu") -> None:
    """Raise ``ValueError`` when the parts' sum passes :data:`HEADROOM` of the free memory."""
    need = sum(parts.values())
    free = free_memory(device)
    if need <= HEADROOM * free:
        return
    detail = ", ".join(f"{k} {v / GB:.3g} GB" for k, v in parts.items() if v >= 0.01 * need)
    where = "GPU memory" if torch.device(device).type == "cuda" else "memory"
    raise ValueError(
        f"this run needs about {need / GB:.3g} GB ({detail}) but only {free / GB:.3g} GB of "
        f"{where} are free; {hint}"
    )
