"""Convolve and max-pool 200,000 28x28 images from a zarr store into another, on a local
Dask cluster of two single-threaded workers with 400 MiB each, then check a sample against
in-memory NumPy.

Needs the `dask` extra (``pip install 'stridedconv[dask]'``)::

    python examples/scale_out.py                      # 200,000 images, about 630 MB
    python examples/scale_out.py --images 20000 --out /tmp/scale-out

The images are made by the workers (seeded per chunk) and written to ``OUT/images.zarr``;
the edges, pooled 2x2, go to ``OUT/pooled.zarr``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import stridedconv as sc

EDGES = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="images per chunk")
    parser.add_argument("--out", type=Path, default=None, help="folder of the zarr stores")
    args = parser.parse_args()
    try:
        import dask.array as da
        import distributed
    except ImportError:
        msg = "scale_out needs the dask extra: pip install 'stridedconv[dask]'"
        raise SystemExit(msg) from None
    out = args.out or Path(tempfile.mkdtemp(prefix="stridedconv-scale-out-"))
    out.mkdir(parents=True, exist_ok=True)

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="400MiB", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # The input store, written by the workers chunk by chunk (never whole in memory).
        shape = (args.images, 28, 28)
        images = da.random.default_rng(0).random(
            shape, dtype=np.float32, chunks=(args.chunk, 28, 28)
        )
        images.to_zarr(str(out / "images.zarr"), overwrite=True)
        print(f"{args.images} images ({images.nbytes / 2**20:.0f} MiB) in {out / 'images.zarr'}")

        stored = da.from_zarr(str(out / "images.zarr"))
        edges = sc.convolve_grayscale_same(stored, EDGES)  # lazy: nothing computed yet
        pooled = sc.pool(edges[..., None], 2)  # (m, 14, 14, 1)
        start = time.perf_counter()
        write = client.compute(
            pooled.to_zarr(str(out / "pooled.zarr"), overwrite=True, compute=False)
        )
        distributed.progress(write)
        write.result()
        seconds = time.perf_counter() - start
        print(f"\nconvolved and pooled into {out / 'pooled.zarr'} in {seconds:.1f} s")

    sample = slice(0, min(1000, args.images))
    expected = sc.pool(sc.convolve_grayscale_same(stored[sample].compute(), EDGES)[..., None], 2)
    written = da.from_zarr(str(out / "pooled.zarr"))[sample].compute()
    np.testing.assert_allclose(written, expected, rtol=1e-6, atol=1e-6)
    print(f"the first {sample.stop} results equal in-memory NumPy's")


if __name__ == "__main__":
    main()
