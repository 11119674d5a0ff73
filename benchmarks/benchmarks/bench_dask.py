"""200,000 28x28 images made, convolved, max-pooled and summed: in one process, on dask's
threaded scheduler, and on a two-worker local cluster (the `dask` extra)."""

from __future__ import annotations

from typing import Any

import numpy as np

import stridedconv as sc

from .workloads import EDGES

SHAPE, CHUNKS = (200_000, 28, 28), (10_000, 28, 28)


def _edges_pooled_sum(images: Any) -> Any:
    edges = sc.convolve_grayscale_same(images, EDGES.astype(np.float32))
    return sc.pool(edges[..., None], 2).sum()


class ScaleOut:
    """NumPy in memory, dask threads, and a LocalCluster(n_workers=2, threads_per_worker=1,
    memory_limit='400MiB'); the images are made where they are used (by the workers for the
    cluster, as if read from a store), in chunks of 10,000 for dask."""

    params = (["numpy", "dask-threads", "dask-cluster"],)
    param_names = ("engine",)
    number = 1
    repeat = (3, 5, 60.0)
    timeout = 600

    def setup(self, engine: str) -> None:
        self.client: Any = None
        if engine == "numpy":

            def run() -> Any:
                images = np.random.default_rng(0).random(SHAPE, dtype=np.float32)
                return _edges_pooled_sum(images)

            self.run = run
            return
        try:
            import dask.array as da
            import distributed
        except ImportError:
            raise NotImplementedError("the dask extra is not installed") from None

        def lazy() -> Any:
            images = da.random.default_rng(0).random(SHAPE, dtype=np.float32, chunks=CHUNKS)
            return _edges_pooled_sum(images)

        if engine == "dask-threads":
            self.run = lambda: lazy().compute(scheduler="threads")
            return
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="400MiB", dashboard_address=None
        )
        self.client = distributed.Client(cluster)
        self.run = lambda: lazy().compute()

    def teardown(self, engine: str) -> None:
        if self.client is not None:
            cluster = self.client.cluster
            self.client.close()
            cluster.close()

    def time_run(self, engine: str) -> None:
        self.run()
