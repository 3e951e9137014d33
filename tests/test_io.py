"""Users' files in (arrays, volumes) and estimates out: what is read, and one-line refusals."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import scipy.io
import tifffile

from untrained_cs.io import (
    check_formats,
    content_hash,
    load_volume,
    read_array,
    read_nifti,
    write_estimate,
)


def test_every_container_gives_back_the_array(tmp_path):
    a = np.random.default_rng(0).standard_normal((5, 7))
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "a.npz", A=a)
    scipy.io.savemat(tmp_path / "a.mat", {"A": a})
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["group/A"] = a
    for name in ("a.npy", "a.npz", "a.mat", "a.h5"):
        np.testing.assert_array_equal(read_array(tmp_path / name), a)
    np.testing.assert_array_equal(read_array(tmp_path / "a.h5", key="group/A"), a)


def test_matlab_v73_is_read_in_matlab_order(tmp_path):
    """v7.3 files are HDF5 with MATLAB's column-major arrays (h5py sees the transpose)."""
    a = np.arange(6.0).reshape(2, 3)
    with h5py.File(tmp_path / "v73.mat", "w") as f:
        f["A"] = a.T
        f["A"].attrs["MATLAB_class"] = np.bytes_("double")
    np.testing.assert_array_equal(read_array(tmp_path / "v73.mat"), a)


def test_complex_arrays_are_kept(tmp_path):
    z = np.array([1 + 2j, 3 - 1j])
    np.save(tmp_path / "z.npy", z)
    np.testing.assert_array_equal(read_array(tmp_path / "z.npy"), z)


def _bad_files(tmp_path):
    np.save(tmp_path / "nan.npy", np.array([1.0, np.nan, np.inf]))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    np.savez(tmp_path / "two.npz", a=np.ones(2), b=np.ones(3))
    with open(tmp_path / "pickled.npy", "wb") as f:
        pickle.dump(np.ones(3), f)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    (tmp_path / "a.csv").write_text("1,2")
    return {
        "nan.npy": "has 2 NaN or infinite value",
        "obj.npy": "a pickle",
        "text.npy": "not numbers",
        "two.npz": r"holds 2 arrays \(a, b\); name one with --key",
        "pickled.npy": "a pickle",
        "junk.h5": "could not be read",
        "a.csv": "unsupported file type",
        "missing.npy": "no such file",
    }


def test_bad_files_are_one_line_errors(tmp_path):
    for name, message in _bad_files(tmp_path).items():
        with pytest.raises(ValueError, match=message) as err:
            read_array(tmp_path / name, what="matrix")
        assert "\n" not in str(err.value) and name in str(err.value)
    np.savez(tmp_path / "one.npz", a=np.ones(2))
    with pytest.raises(ValueError, match=r"no array 'b' \(it holds: a\)"):
        read_array(tmp_path / "one.npz", key="b")


def test_content_hash_follows_bytes_not_names(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    np.save(tmp_path / "b.npy", np.ones(3))
    np.save(tmp_path / "c.npy", np.zeros(3))
    assert content_hash(tmp_path / "a.npy") == content_hash(tmp_path / "b.npy")
    assert content_hash(tmp_path / "a.npy") != content_hash(tmp_path / "c.npy")


def test_bundled_volume_and_nifti_round_trip(tmp_path):
    volume, affine = load_volume("brain")
    assert volume.shape == (1, 10, 128, 128) and float(volume.max()) == 1.0
    names = write_estimate(tmp_path, volume.numpy(), ("nifti",), affine)
    assert names == ["estimate.npy", "estimate.nii.gz"]
    back, back_affine = read_nifti(tmp_path / "estimate.nii.gz")
    np.testing.assert_allclose(np.moveaxis(back, 2, 0), volume[0].numpy(), atol=1e-6)
    np.testing.assert_array_equal(back_affine, affine)
    np.testing.assert_array_equal(np.load(tmp_path / "estimate.npy"), volume.numpy())


def test_tiff_is_float_and_channel_last(tmp_path):
    rgb = np.random.default_rng(2).random((3, 6, 5)).astype(np.float32)
    write_estimate(tmp_path, rgb, check_formats(["tiff"], volume=False))
    back = tifffile.imread(tmp_path / "estimate.tiff")
    assert back.dtype == np.float32 and back.shape == (6, 5, 3)
    np.testing.assert_array_equal(back, np.moveaxis(rgb, 0, -1))
    with pytest.raises(ValueError, match="volumes only"):
        check_formats(["nifti"], volume=False)
    with pytest.raises(ValueError, match="unknown save format"):
        check_formats(["jpeg"], volume=False)
