"""Trained models saved as folders of ``.npy`` files and opened memory-mapped (no Django).

Layout under a model folder (``MODEL_DIR/<model name>``)::

    v-20261204T221500-1a2b/   one trained version: an .npy per array, meta.json
    CURRENT                   the name of the version to serve

Training writes a new version under a temporary name, renames it into place, then
replaces ``CURRENT`` (write a temporary file, ``os.replace``): both steps are atomic, so
a reader sees the old version or the new one, never half of one. Workers map the arrays
read-only, so every worker of a machine shares one copy through the page cache. The
newest ``KEEP_VERSIONS`` versions stay on disk: a worker that read ``CURRENT`` just before
a newer one appeared can still open what it read (and a mapped file stays readable even
once deleted, on POSIX).
"""
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommendations.engine.models.scored_ease import ScoredEase, SparseWeights

POINTER = "CURRENT"
KEEP_VERSIONS = 3
SPARSE = ("watched", "liked")
SPARSE_PARTS = ("indptr", "targets", "weights")


@dataclass(frozen=True)
class Loaded:
    """A version as read from disk: its name, the model and what training noted."""

    version: str
    model: ScoredEase
    meta: dict


def new_version_name() -> str:
    return time.strftime("v-%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def publish(model: ScoredEase, folder: Path, meta: dict) -> str:
    """Save ``model`` as a new version under ``folder``, make it current, drop old ones."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    version = new_version_name()
    tmp = folder / f".{version}.tmp"
    tmp.mkdir()
    try:
        for name in ScoredEase.ARRAYS:
            _save(tmp / f"{name}.npy", getattr(model, name))
        for part in SPARSE:
            for piece in SPARSE_PARTS:
                _save(tmp / f"{part}_{piece}.npy", getattr(getattr(model, part), piece))
        params = {name: getattr(model, name) for name in ScoredEase.PARAMS}
        (tmp / "meta.json").write_text(json.dumps({**meta, "version": version,
                                                   "params": params}, indent=1))
        os.replace(tmp, folder / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer_tmp = folder / f".{POINTER}.{version}.tmp"
    pointer_tmp.write_text(version)
    os.replace(pointer_tmp, folder / POINTER)
    _remove_old_versions(folder)
    return version


def _save(path: Path, array: np.ndarray) -> None:
    np.save(path, np.ascontiguousarray(array), allow_pickle=False)


def current_version(folder: Path) -> str | None:
    """The version ``CURRENT`` names, None before the first training."""
    try:
        return (Path(folder) / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def load(folder: Path, version: str) -> Loaded:
    """Open a version with its arrays mapped read-only."""
    path = Path(folder) / version
    meta = json.loads((path / "meta.json").read_text())

    def mapped(name):
        return np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)

    model = ScoredEase(**meta["params"])
    for name in ScoredEase.ARRAYS:
        setattr(model, name, mapped(name))
    for part in SPARSE:
        setattr(model, part, SparseWeights(**{piece: mapped(f"{part}_{piece}")
                                              for piece in SPARSE_PARTS}))
    return Loaded(version=version, model=model, meta=meta)


def _remove_old_versions(folder: Path) -> None:
    versions = sorted(p for p in folder.glob("v-*") if p.is_dir())
    for old in versions[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in folder.glob(".*.tmp"):  # left by a training that was killed
        if time.time() - stale.stat().st_mtime > 24 * 3600:
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
