"""Arrays from users' files: ``.npy``, ``.npz``, HDF5 (``.h5``/``.hdf5``) and MATLAB ``.mat``
(v5 through scipy, v7.3 — HDF5 inside — through h5py).

Every reader returns a numeric numpy array (real or complex) and refuses, in one line naming
the file, what it cannot use: a missing file, an unknown suffix, a pickle (never loaded), a
non-numeric or object array, NaN or infinite values, a container with no array or several
arrays and no ``key`` to choose. :func:`content_hash` keys a file by its bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SUFFIXES = (".npy", ".npz", ".h5", ".hdf5", ".mat")


def content_hash(path: str | Path) -> str:
    """The BLAKE2b hash (16 hex digits) of a file's bytes: the same file anywhere, one key."""
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_array(path: str | Path, key: str | None = None, what: str = "array") -> np.ndarray:
    """The numeric array stored in ``path`` (``key`` names it in a container file).

    Args:
        path: a ``.npy``, ``.npz``, ``.h5``/``.hdf5`` or ``.mat`` file.
        key: the array's name in an ``.npz``/HDF5/``.mat`` file (needed when it holds several).
        what: how errors name the array (``"measurements"``, ``"matrix"``, …).

    Raises:
        ValueError: one line naming the file and the problem (see module docstring).
    """
    p, label, suffix = _located(path, what)
    if suffix == ".npy":
        if key is not None:
            raise ValueError(f"{label}: a .npy file holds one array; --key applies to containers")
        array = _npy(p, label)
    elif suffix == ".npz":
        array = _npz(p, key, label)
    elif suffix == ".mat":
        array = _mat(p, key, label)
    else:
        array = _hdf5(p, key, label)
    return checked(array, label)


def array_shape(path: str | Path, key: str | None = None, what: str = "array") -> tuple:
    """The shape and bytes per entry of the array :func:`read_array` would return, read from
    the file's header only (no data loaded): what a memory estimate needs before reading.

    Raises:
        ValueError: as :func:`read_array` for a missing file, an unknown suffix, or a
            container with no array or several and no ``key``.
    """
    p, label, suffix = _located(path, what)
    try:
        if suffix == ".npy":
            return _npy_header(p)
        if suffix == ".npz":
            import zipfile

            with zipfile.ZipFile(p) as archive:
                names = [n[: -len(".npy")] for n in archive.namelist() if n.endswith(".npy")]
                name = _choose(names, key, label)
                with archive.open(name + ".npy") as f:
                    return _header(f)
        import h5py

        if suffix in (".h5", ".hdf5") or h5py.is_hdf5(p):
            with h5py.File(p, "r") as f:
                names = []
                f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
                name = _choose([n for n in names if not n.startswith("#")], key, label)
                data = f[name]
                matlab = data.attrs.get("MATLAB_class") is not None
                shape = tuple(data.shape)[::-1] if matlab else tuple(data.shape)
                return shape, int(data.dtype.itemsize)
        import scipy.io

        found = {n: (tuple(s), c) for n, s, c in scipy.io.whosmat(p)}
        name = _choose(list(found), key, label)
        shape, cls = found[name]
        return shape, MAT_ITEMSIZE.get(cls, 8)
    except (OSError, EOFError, ValueError) as exc:
        if str(exc).startswith(label):
            raise
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None


#: bytes per entry of a MATLAB v5 class (whosmat names classes, not dtypes)
MAT_ITEMSIZE = {"double": 8, "single": 4, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
                "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "logical": 1}  # fmt: skip


def _npy_header(path: Path) -> tuple:
    with open(path, "rb") as f:
        return _header(f)


def _header(f) -> tuple:  # type: ignore[no-untyped-def]
    fmt = np.lib.format
    version = fmt.read_magic(f)
    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = read(f)
    if dtype.hasobject:
        return tuple(shape), 8  # refused when read (a pickle); the estimate is moot
    return tuple(shape), int(dtype.itemsize)


def _located(path: str | Path, what: str) -> tuple[Path, str, str]:
    """The file's path, how errors name it, and its suffix; a missing file or an unknown
    suffix refused."""
    p = Path(path)
    label = f"{what} file {str(p)!r}"
    if not p.is_file():
        raise ValueError(f"{label}: no such file")
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{label}: unsupported file type (use {', '.join(SUFFIXES)})")
    return p, label, suffix


def checked(array: np.ndarray, label: str) -> np.ndarray:
    """``array`` if it is numeric (bool, integer, real or complex float) and finite."""
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise ValueError(f"{label} holds {array.dtype} values, not numbers")
    if array.size == 0:
        raise ValueError(f"{label} holds an empty array {array.shape}")
    if np.issubdtype(array.dtype, np.inexact):
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(f"{label} has {bad} NaN or infinite value(s)")
    return array


def _npy(path: Path, label: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                f"{label} holds Python objects (a pickle), which are never loaded"
            ) from None
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None
    except OSError as exc:
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None


def _choose(names: list[str], key: str | None, label: str) -> str:
    """The one array name to read: ``key`` (which must exist), or the only one there is."""
    if key is not None:
        if key not in names:
            raise ValueError(
                f"{label} has no array {key!r} (it holds: {', '.join(names) or 'none'})"
            )
        return key
    if len(names) != 1:
        listed = ", ".join(names) if names else "none"
        raise ValueError(f"{label} holds {len(names)} arrays ({listed}); name one with --key")
    return names[0]


def _npz(path: Path, key: str | None, label: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            name = _choose(list(archive.files), key, label)
            return _npz_member(archive, name, label)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None


def _npz_member(archive: np.lib.npyio.NpzFile, name: str, label: str) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                f"{label}: {name!r} holds Python objects (a pickle), never loaded"
            ) from None
        raise


def _hdf5(path: Path, key: str | None, label: str) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
            names = [n for n in names if not n.startswith("#")]  # MATLAB's internal refs
            name = _choose(names, key, label)
            data = np.asarray(f[name][()])
            matlab = f[name].attrs.get("MATLAB_class") is not None
    except OSError as exc:
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None
    if data.dtype.names and set(data.dtype.names) >= {"real", "imag"}:  # MATLAB complex
        data = data["real"] + 1j * data["imag"]
    # MATLAB v7.3 stores arrays column-major: h5py sees them transposed
    return data.T if matlab else data


def _mat(path: Path, key: str | None, label: str) -> np.ndarray:
    import h5py
    import scipy.io

    if h5py.is_hdf5(path):  # v7.3: an HDF5 file
        return _hdf5(path, key, label)
    try:
        contents = scipy.io.loadmat(path)
    except (ValueError, OSError, TypeError, NotImplementedError) as exc:
        raise ValueError(f"{label} could not be read: {_first_line(exc)}") from None
    names = [n for n in contents if not n.startswith("__")]
    name = _choose(names, key, label)
    return np.asarray(contents[name])


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
