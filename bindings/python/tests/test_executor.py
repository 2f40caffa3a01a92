"""Python functions as nodes' executors, and the dishonest case they must not get away with."""

import asyncio

import numpy as np
import pytest

import gpufuel


def test_a_numpy_function_is_the_workload_of_a_node():
    calls = []

    def numpy_gemm(work):
        assert work.kind == "matmul" and work.a.shape == (work.m, work.k) and work.b.shape == (work.k, work.n)
        calls.append((work.m, work.k, work.n))
        return work.a @ work.b

    # The only node serves class "a100", so the job can only go to the Python executor.
    with gpufuel.LocalNetwork(nodes=0, validators=2) as net:
        operator = net.add_node(numpy_gemm, gpu_class="a100", vram_mib=40_960)
        client = net.client()
        a, b = np.full((5, 7), 0.5, dtype=np.float32), np.arange(21, dtype=np.float32).reshape(7, 3)
        job = client.submit_matmul_sync(a, b, gpu_class="a100", min_vram_mib=40_000)
        np.testing.assert_allclose(client.result_sync(job, timeout=60), a @ b, rtol=1e-5)
        assert calls == [(5, 7, 3)]
        (node,) = client.nodes()
        assert node.operator == operator and node.class_name == "a100" and node.completed == 1


def test_an_async_executor_serves_a_job():
    async def executor(work):
        await asyncio.sleep(0.01)  # awaiting another service, say
        return work.a @ work.b

    with gpufuel.LocalNetwork(nodes=0, validators=1) as net:
        net.add_node(executor, gpu_class="h200")
        client = net.client()
        a, b = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), np.ones((4, 2), dtype=np.float32)
        job = client.submit_matmul_sync(a, b, gpu_class="h200")
        np.testing.assert_allclose(client.result_sync(job, timeout=60), a @ b, rtol=1e-5, atol=1e-6)


def test_an_executor_that_returns_garbage_is_slashed_and_the_submitter_refunded():
    with gpufuel.LocalNetwork(nodes=0, validators=2) as net:
        net.add_node(lambda work: np.zeros((work.m, work.n)), gpu_class="h100")
        client = net.client()
        before = client.balance()
        job = client.submit_matmul_sync(np.ones((4, 4)), np.ones((4, 4)), gpu_class="h100")
        status = client.wait_sync(job, timeout=60)
        assert status.state == "Slashed" and status.votes_fail >= 1
        assert client.balance() > before  # escrow back plus a share of the slashed stake
        with pytest.raises(gpufuel.NotSettledError, match="Slashed"):
            client.result_sync(job)


def test_a_raising_executor_fails_the_run_without_crashing():
    def broken(work):
        raise RuntimeError("out of GPU memory")

    with gpufuel.LocalNetwork(nodes=0, validators=1) as net:
        net.add_node(broken, gpu_class="rtx-4090")
        client = net.client()
        job = client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)), gpu_class="rtx-4090", deadline_secs=60)
        status = client.wait_sync(job, timeout=60)
        assert status.state == "Expired"


def test_executor_must_be_callable(net):
    with pytest.raises(gpufuel.InvalidArgumentError, match="callable"):
        net.add_node("not a function")
