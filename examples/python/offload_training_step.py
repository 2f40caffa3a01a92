"""A training script that offloads work to the GPUFuel market and checks what comes back.

It fits a small regression model: the feature projection (a GEMM) and a few SGD steps of the
model run on the network; validators check each result (Freivalds' algorithm, the watermark,
re-executed training segments) before the escrow pays the node, and this script compares the
verified results with its own local computation.

    python examples/python/offload_training_step.py            # a local market in this process
    GPUFUEL_URL=devnet python examples/python/offload_training_step.py   # a cluster (Solana CLI keypair)
"""

import asyncio
import os

import numpy as np

import gpufuel


async def main() -> None:
    network = None if os.environ.get("GPUFUEL_URL") else gpufuel.LocalNetwork(nodes=3, validators=3)
    client = network.client() if network else gpufuel.Client.connect(url=os.environ["GPUFUEL_URL"])
    client.register()  # on a cluster, a wallet's first run stakes the market's minimum; then a no-op
    rng = np.random.default_rng(0)

    # 1. A GEMM: project the raw features (256×512) onto 64 random directions.
    raw = rng.standard_normal((256, 512), dtype=np.float32)
    projection = rng.standard_normal((512, 64), dtype=np.float32) / np.sqrt(512)
    quote = client.quote(gpu_seconds=10)
    print(f"quote: {quote.price_low}-{quote.price_high} per GPU-second, escrow {quote.escrow}, ~{quote.expected_wait_secs} s")
    job = await client.submit_matmul(raw, projection, gpu_seconds=10, max_price=quote.price_high)
    features = await client.result(job, timeout=600)
    error = np.abs(features - raw @ projection).max()
    print(f"GEMM {job[:8]}…: {client.status(job).state}, max |network - local| = {error:.2e}")
    assert error < 1e-3

    # 2. A few training steps of a one-hidden-layer MLP on those features.
    target = (features[:, 0] - 0.5 * features[:, 1]).astype(np.float32)
    hidden = 16
    init = (rng.standard_normal(64 * hidden + 2 * hidden + 1) * 0.1).astype(np.float32)
    job = await client.submit_training(
        features, target, init, hidden=hidden, batch=32, learning_rate=0.05, segments=4, steps_per_segment=8
    )
    params = await client.result(job, timeout=600)
    status = client.status(job)
    print(f"training {job[:8]}…: {status.state}, votes {status.votes_pass}/{status.votes_fail}")
    print(f"parameters moved by {np.abs(params - init).mean():.3e} on average; paid {status.price}/GPU-second")
    if network:
        network.close()


if __name__ == "__main__":
    asyncio.run(main())
