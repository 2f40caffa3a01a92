"""Jobs end to end on a local market: numpy in, verified numpy out, asyncio and sync."""

import asyncio

import numpy as np
import pytest

import gpufuel


def rng_matrix(rows, cols, seed):
    return np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)


async def test_matmul_result_is_the_product_asyncio(client):
    a, b = rng_matrix(24, 40, 1), rng_matrix(40, 16, 2)
    before = client.balance()
    job = await client.submit_matmul(a, b, gpu_seconds=4, max_price=500)
    assert isinstance(job, str) and client.status(job).state in {"Open", "Assigned", "Submitted", "Settled"}
    c = await client.result(job, timeout=60)
    assert c.dtype == np.float32 and c.shape == (24, 16)
    # Equal to the local product up to the node's watermark (a few ulps).
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)
    status = client.status(job)
    assert status.state == "Settled" and status.done and status.votes_fail == 0 and status.votes_pass >= 1
    assert client.balance() == before - status.price * 4
    assert job in [j.address for j in client.jobs(mine=True)]


def test_sync_variants_and_float64_and_bytes_inputs(client):
    a64 = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    b = rng_matrix(4, 5, 3)
    job = client.submit_matmul_sync(a64, b.tobytes(), n=5, urgent=True)
    status = client.wait_sync(job, timeout=60)
    assert status.state == "Settled" and status.urgent and status.premium > 0
    np.testing.assert_allclose(client.result_sync(job), a64.astype(np.float32) @ b, rtol=1e-5, atol=1e-5)


async def test_concurrent_submissions_all_settle(client):
    pairs = [(rng_matrix(8, 8, s), rng_matrix(8, 8, s + 50)) for s in range(4)]
    jobs = await asyncio.gather(*(client.submit_matmul(a, b) for a, b in pairs))
    results = await asyncio.gather(*(client.result(j, timeout=120) for j in jobs))
    for (a, b), c in zip(pairs, results):
        np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


async def test_training_returns_the_trained_parameters(client):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] * 0.5 - x[:, 2]).astype(np.float32)
    hidden = 8
    init = (rng.standard_normal(4 * hidden + hidden + hidden + 1) * 0.3).astype(np.float32)
    job = await client.submit_training(x, y, init, hidden=hidden, batch=16, segments=6, steps_per_segment=3)
    params = await client.result(job, timeout=120)
    assert params.shape == init.shape and not np.allclose(params, init)


def test_quote_prices_and_nodes(client, net):
    q = client.quote(gpu_seconds=10)
    assert q.eligible_nodes >= 2 and 0 < q.price_low <= q.price_high and q.escrow == q.price_high * 10
    urgent = client.quote(gpu_seconds=10, urgent=True)
    assert urgent.escrow > q.escrow  # the premium
    prices = dict(client.prices())
    assert prices["cpu"] == q.reference_price
    nodes = client.nodes()
    assert len(nodes) >= 2 and all(n.class_name == "cpu" and n.stake > 0 for n in nodes)


def test_cancel_returns_the_escrow_and_result_says_not_settled(net):
    # No node can run class "h100" work here, so the job stays open until cancelled.
    client = net.client()
    before = client.balance()
    job = client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)), gpu_class="h100")
    assert client.balance() < before
    client.cancel(job)
    assert client.balance() == before
    with pytest.raises(gpufuel.NotSettledError, match="Cancelled") as e:
        client.result_sync(job, timeout=5)
    assert e.value.code == "NOT_SETTLED"
