"""Lazy data access: random access to one sample vs raw h5py, and memory on a large file.

Two measurements, both printed as markdown tables:

1. **Random access.** For each layout (native sciml with LZF and uncompressed, PDEBench
   single file, PDEBench per-sample groups, The Well), read one sample at a time in a
   random order through ``sciml.data.open(path).field(name)[i]`` and, in alternating
   passes over the same order, the same bytes through a raw h5py slice (``dset[i]`` on an
   open file). Reported: the median time per read of each and their ratio (target:
   sciml <= 2x raw).
2. **Memory.** Write a large file (default 2 GB, one uncompressed 1 MiB sample per chunk)
   with plain h5py, then read every sample once, in random order, in a fresh subprocess
   and report its resident memory: after import and open, and the peak while reading
   (target: peak < 300 MB). The package imports lazily, so reading a file through
   ``sciml.data.open`` loads no torch. Peak is the kernel's ``VmHWM`` of the reading
   process.

Usage::

    python benchmarks/data_access.py            # full run: ~2 GB file in a temp folder
    python benchmarks/data_access.py --quick    # small files, a few seconds
    python benchmarks/data_access.py --size-gb 4 --dir /scratch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

import sciml
from sciml.core.grid import Box, Grid
from sciml.data.hdf5 import write

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------
# files, written with plain h5py except the native ones
# ---------------------------------------------------------------------------------------
def make_files(folder: Path, n: int, t: int, s: int) -> dict[str, tuple[Path, str, str]]:
    """Files of n samples (t, s, s) float32; returns layout -> (path, field, raw key)."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, s, dtype=np.float64)
    data = rng.standard_normal((n, t, s, s)).astype(np.float32)
    grid = Grid.uniform(Box(x=(0, 1), y=(0, 1)), (s, s))
    out = {}
    for name, comp in (("native-lzf", "lzf"), ("native-raw", None)):
        p = folder / f"{name}.h5"
        write(p, {"u": data[..., None]}, grid, times=np.arange(t, dtype=float), compression=comp)
        out[name] = (p, "u", "fields/u")
    p = folder / "pdebench.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("tensor", data=data, chunks=(1, t, s, s))
        f["x-coordinate"], f["y-coordinate"] = x, x
        f["t-coordinate"] = np.arange(t + 1, dtype=float)
    out["pdebench"] = (p, "tensor", "tensor")
    p = folder / "pdebench-groups.h5"
    with h5py.File(p, "w") as f:
        for i in range(n):
            g = f.create_group(f"{i:04d}")
            g["data"] = data[i][..., None]
            g["grid/x"], g["grid/y"], g["grid/t"] = x, x, np.arange(t, dtype=float)
    out["pdebench-groups"] = (p, "data", "{i:04d}/data")
    p = folder / "the_well.h5"
    with h5py.File(p, "w") as f:
        f.attrs.update(
            dataset_name="bench", grid_type="cartesian", n_spatial_dims=2, n_trajectories=n
        )
        d = f.create_group("dimensions")
        d.attrs["spatial_dims"] = ["x", "y"]
        d["time"], d["x"], d["y"] = np.arange(t, dtype=float), x, x
        g = f.create_group("t0_fields")
        g.create_dataset("rho", data=data, chunks=(1, t, s, s))
        g["rho"].attrs.update(sample_varying=True, time_varying=True, dim_varying=[True, True])
    out["the_well"] = (p, "rho", "t0_fields/rho")
    return out


# ---------------------------------------------------------------------------------------
# 1. random access
# ---------------------------------------------------------------------------------------
def time_random_access(path: Path, field: str, raw_key: str, reads: int, seed: int = 0):
    """Median seconds per one-sample read: (sciml, raw h5py).

    The two run in alternating passes over the same random sample order, each through
    its own freshly opened file: HDF5 shares one file object, chunk cache included,
    between handles to the same file in a process, so interleaving read by read would
    let the second reader find the chunk the first had just decoded.
    """
    order = [int(i) for i in np.random.default_rng(seed).integers(0, 2**31, reads)]
    ours: list[float] = []
    raw: list[float] = []
    for _ in range(2):
        ds = sciml.data.open(path)
        arr = ds.field(field)
        n = arr.shape[0]
        arr[0]  # open the handle outside the timing
        for i in order:
            t0 = time.perf_counter()
            arr[i % n]
            ours.append(time.perf_counter() - t0)
        ds.close()
        with h5py.File(path, "r") as f:
            dset = None if "{i" in raw_key else f[raw_key]  # bound once, as a raw loop would
            for i in order:
                t0 = time.perf_counter()
                if dset is None:
                    f[raw_key.format(i=i % n)][()]
                else:
                    dset[i % n]
                raw.append(time.perf_counter() - t0)
    return float(np.median(ours)), float(np.median(raw))


# ---------------------------------------------------------------------------------------
# 2. memory on a large file
# ---------------------------------------------------------------------------------------
def make_large_file(path: Path, size_gb: float, t: int = 16, s: int = 128) -> int:
    """A PDEBench-style file of ~size_gb, one uncompressed 1 MiB sample per chunk."""
    sample_bytes = t * s * s * 4
    n = max(2, round(size_gb * 2**30 / sample_bytes))
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, s)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("tensor", shape=(n, t, s, s), dtype=np.float32, chunks=(1, t, s, s))
        block = 64
        for lo in range(0, n, block):
            k = min(block, n - lo)
            d[lo : lo + k] = rng.random((k, t, s, s), dtype=np.float32)
        f["x-coordinate"], f["y-coordinate"] = x, x
        f["t-coordinate"] = np.arange(t + 1, dtype=float)
    return n


_READER = r"""
import json, sys, types
import numpy as np

def rss_mb(field="VmRSS:"):
    # VmHWM (peak) belongs to this process image; ru_maxrss would carry the parent's
    # peak over fork + exec
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024

path = sys.argv[1]
# sciml imports lazily: reading a file loads neither torch nor the dataset classes
from sciml.data import open as open_dataset
ds = open_dataset(path)
arr = ds.field(ds.fields[0])
start = rss_mb()
total = 0.0
for i in np.random.default_rng(0).permutation(arr.shape[0]):
    total += float(arr[int(i)][0, 0, 0, 0])
peak = rss_mb("VmHWM:")
print(json.dumps({"after_open_mb": start, "peak_mb": peak, "end_mb": rss_mb(),
                  "torch": "torch" in sys.modules, "samples": int(arr.shape[0])}))
"""


def measure_memory(path: Path) -> dict:
    """Run the reader in a fresh interpreter; returns its RSS figures."""
    cmd = [sys.executable, "-c", _READER, str(path)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - t0
    return result


# ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small files, a few seconds")
    parser.add_argument("--size-gb", type=float, default=None, help="large file size (2)")
    parser.add_argument("--reads", type=int, default=None, help="timed reads per layout")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files")
    args = parser.parse_args(argv)
    size_gb = args.size_gb if args.size_gb is not None else (0.03 if args.quick else 2.0)
    reads = args.reads or (50 if args.quick else 400)
    n, t, s = (16, 5, 32) if args.quick else (128, 10, 64)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        print(
            f"## Random access to one sample ({n} samples of ({t}, {s}, {s}) float32, "
            f"{reads} random reads, median)\n"
        )
        print("| layout | sciml (us) | raw h5py (us) | ratio |")
        print("|---|---:|---:|---:|")
        worst = 0.0
        for layout, (path, field, key) in make_files(folder, n, t, s).items():
            ours, raw = time_random_access(path, field, key, reads)
            worst = max(worst, ours / raw)
            print(f"| {layout} | {ours * 1e6:.0f} | {raw * 1e6:.0f} | {ours / raw:.2f} |")
        print(f"\nworst ratio {worst:.2f} (target <= 2)\n")

        big = folder / "large.h5"
        t0 = time.perf_counter()
        n_big = make_large_file(big, size_gb)
        size = os.path.getsize(big) / 2**30
        print(
            f"## Memory reading a {size:.2f} GB file one sample at a time "
            f"({n_big} samples of 1 MiB, written in {time.perf_counter() - t0:.0f} s)\n"
        )
        print("| RSS after open (MB) | peak RSS (MB) | growth (MB) | torch | read time (s) |")
        print("|---:|---:|---:|---|---:|")
        r = measure_memory(big)
        print(
            f"| {r['after_open_mb']:.0f} | {r['peak_mb']:.0f} | "
            f"{r['peak_mb'] - r['after_open_mb']:.0f} | {r['torch']} | {r['seconds']:.1f} |"
        )
        print("\ntarget: peak < 300 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
