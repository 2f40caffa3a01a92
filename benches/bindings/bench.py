"""Python side of `gpufuel-bench bindings`: the same calls the Rust side times, through the package.

Prints one JSON line: the median per-call time of a sync quote (µs) and of an awaited matrix
product submission (µs), on a fresh local network like the Rust side's.
"""

import asyncio
import json
import statistics
import sys
import time

import numpy as np

import gpufuel

QUOTES, BATCHES, SUBMITS, SIZE = (int(v) for v in sys.argv[1:5])


async def submissions(client, a, b):
    times = []
    for _ in range(SUBMITS):
        t = time.perf_counter()
        await client.submit_matmul(a, b, gpu_seconds=10)
        times.append(time.perf_counter() - t)
    return times


def main():
    with gpufuel.LocalNetwork(nodes=3, validators=3) as net:
        client = net.client(tokens=1_000_000_000)
        batch = QUOTES // BATCHES
        means = []
        for _ in range(BATCHES):
            t = time.perf_counter()
            for _ in range(batch):
                client.quote(gpu_seconds=10)
            means.append((time.perf_counter() - t) / batch)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((SIZE, SIZE), dtype=np.float32)
        b = rng.standard_normal((SIZE, SIZE), dtype=np.float32)
        submits = asyncio.run(submissions(client, a, b))
    print(json.dumps({"sync_us": statistics.median(means) * 1e6, "submit_us": statistics.median(submits) * 1e6}))


main()
