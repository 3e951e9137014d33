"""``python -m bench.coil_maps``: ESPIRiT maps against the true ones on the embedded slice.

The dipy T1 slice (128², 8 simulated coils), undersampled at 4x and 8x (random and
equispaced masks, fastMRI's centre fractions). Per setting: the relative error of the
maps ESPIRiT estimates from the fully sampled centre (after aligning each pixel's phase,
over the pixels with signal), and the PSNR of SENSE reconstructions with the true and with
the estimated maps: TV with the oracle weight and the minimum-norm solution. Prints one
JSON row per setting.

``python -m bench.coil_maps --decoder``: the same rows with the default MRI deep decoder
(SENSE) fitted with the true and with the estimated maps, beside the baselines.

``python -m bench.coil_maps --devices``: ESPIRiT's seconds on the CPU and, where there is
one, the GPU, for a fastMRI-sized slice (scikit-image's Shepp-Logan phantom at 320², 16
simulated coils, 4x equispaced centre of 26 columns), and how far the GPU's maps are from
the CPU's (the maps' relative error after aligning each pixel's phase).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.mri import espirit_maps, map_error
from untrained_cs.mri.data import default_image, simulate
from untrained_cs.mri.problem import MRIProblem, make_problem
from untrained_cs.pipeline import run
from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec


def problem(data, acceleration: float, kind: str) -> MRIProblem:
    spec = ProblemSpec(MRISignal(), MRIMeasurement(acceleration, mask=kind, model="sense"))
    mri = make_problem(data, acceleration, None, kind, 1, "sense")
    return MRIProblem(spec, mri.target, mri.operator, mri.y, 0.0, mri.data_range, mri=mri)


def devices() -> int:
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    image = torch.from_numpy(resize(shepp_logan_phantom(), (320, 320), anti_aliasing=True))
    data = simulate(image, 16, None, seed=0)
    where = data.target > 0.1 * data.target.max()
    found: dict[str, torch.Tensor] = {}
    for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        kspace = data.kspace.to(device)
        espirit_maps(kspace, center_columns=26)  # warm-up (kernels, the GPU's context)
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        maps, _ = espirit_maps(kspace, center_columns=26)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = round(time.perf_counter() - start, 3)
        name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
        row = {"device": name, "slice": [16, 320, 320], "seconds": seconds}
        found[device] = maps.cpu()
        row["map_error_vs_true"] = round(map_error(found[device], data.maps, where), 4)
        if device == "cuda":
            row["map_difference_vs_cpu"] = float(map_error(found["cuda"], found["cpu"], where))
        print(json.dumps(row), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coil_maps", description=__doc__)
    parser.add_argument("--devices", action="store_true", help="time ESPIRiT per device")
    parser.add_argument("--decoder", action="store_true",
                        help="also fit the default MRI decoder with both maps")  # fmt: skip
    args = parser.parse_args(argv)
    if args.devices:
        return devices()
    data = simulate(default_image(128), 8, None, seed=0)
    truth = data.maps
    assert truth is not None
    where = data.target > 0.1 * data.target.max()
    for acceleration in (4.0, 8.0):
        for kind in ("random", "equispaced"):
            row: dict = {"acceleration": acceleration, "mask": kind}
            start = time.perf_counter()
            estimated = problem(dataclasses.replace(data, maps=None), acceleration, kind)
            row["espirit_seconds"] = round(time.perf_counter() - start, 2)
            maps = estimated.mri.operator.maps  # type: ignore[union-attr]
            row["map_error"] = round(map_error(maps, truth, where), 4)
            known = problem(data, acceleration, kind)
            for name in ("tv", "min_norm"):
                for label, p in (("true", known), ("estimated", estimated)):
                    rec = run(p, Solver(name, "oracle"), device="cpu")
                    row[f"{name}_{label}_maps_psnr"] = round(rec.metrics["psnr"], 2)
            for label, p in (("true", known), ("estimated", estimated)) if args.decoder else ():
                rec = run(p, GeneratorFit(), device="cpu")
                row[f"decoder_{label}_maps_psnr"] = round(rec.metrics["psnr"], 2)
                row[f"decoder_{label}_maps_seconds"] = round(rec.metrics["seconds"], 1)
                row[f"decoder_{label}_maps_stop"] = rec.metrics["stop_reason"]
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
