"""Bad input gets a typed exception with a code and submits nothing."""

import numpy as np
import pytest

import gpufuel


@pytest.fixture
def fresh(net):
    client = net.client()
    return client, client.balance()


def nothing_submitted(client, balance):
    assert client.balance() == balance
    assert client.jobs(mine=True) == []


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.ones((2, 3)), np.ones((4, 2))), {}, "inner dimensions differ"),
        ((np.ones(6), np.ones((3, 2))), {}, "2-D"),
        ((np.ones((2, 3), dtype=np.int64), np.ones((3, 2))), {}, "float dtype"),
        ((np.ones((2, 3), dtype=np.complex64), np.ones((3, 2))), {}, "float dtype"),
        ((["a", "b"], np.ones((3, 2))), {}, "float dtype"),
        ((b"\x00" * 10, np.ones((3, 2))), {"m": 2, "k": 3}, "not 2×3"),
        ((b"\x00" * 24, np.ones((3, 2))), {}, "need the matrix shape"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"gpu_class": "tpu-v9"}, "unknown GPU class"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"gpu_class": 300}, "unknown GPU class"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"gpu_class": 1.5}, "gpu_class must be an int"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"max_price": -5}, "max_price must be an integer from 0"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"gpu_seconds": 2**40}, "gpu_seconds"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"max_price": 0}, "must be positive"),
        ((np.ones((2, 3)), np.ones((3, 2))), {"deadline_secs": -1}, "deadline_secs"),
    ],
)
def test_bad_matmul_arguments(fresh, args, kwargs, match):
    client, balance = fresh
    with pytest.raises(gpufuel.InvalidArgumentError, match=match) as e:
        client.submit_matmul_sync(*args, **kwargs)
    assert e.value.code == "INVALID_ARGUMENT" and isinstance(e.value, ValueError)
    nothing_submitted(client, balance)


async def test_async_submission_validates_before_awaiting(fresh):
    client, balance = fresh
    with pytest.raises(gpufuel.InvalidArgumentError):
        await client.submit_matmul(np.ones((2, 3)), np.ones((2, 3)))
    nothing_submitted(client, balance)


def test_wrong_python_types_raise_type_errors(fresh):
    client, balance = fresh
    with pytest.raises(TypeError):
        client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)), urgent="yes please")
    with pytest.raises(TypeError):
        client.quote(gpu_seconds="ten")
    nothing_submitted(client, balance)


def test_invalid_keys_and_missing_jobs(fresh):
    client, _ = fresh
    with pytest.raises(gpufuel.InvalidArgumentError, match="base58"):
        client.status("not-a-key")
    with pytest.raises(gpufuel.AccountNotFoundError) as e:
        client.status("11111111111111111111111111111111")
    assert e.value.code == "ACCOUNT_NOT_FOUND" and isinstance(e.value, gpufuel.ChainError)


def test_program_refusal_is_typed(fresh):
    client, balance = fresh
    # More escrow than the wallet holds: the program (via the token program) refuses.
    with pytest.raises(gpufuel.ChainError) as e:
        client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)), max_price=10**12, gpu_seconds=10**6)
    assert e.value.code in {"PROGRAM_ERROR", "TRANSACTION_FAILED"}
    nothing_submitted(client, balance)


def test_training_shapes_are_checked(fresh):
    client, balance = fresh
    x = np.ones((10, 3), dtype=np.float32)
    with pytest.raises(gpufuel.InvalidArgumentError, match="match x's rows"):
        client.submit_training_sync(x, np.ones(9), np.ones(10), hidden=2)
    with pytest.raises(gpufuel.InvalidTaskError, match="initial parameters"):
        client.submit_training_sync(x, np.ones(10), np.ones(3), hidden=2)
    nothing_submitted(client, balance)


def test_no_quote_for_a_class_without_nodes(fresh):
    client, _ = fresh
    with pytest.raises(gpufuel.NoQuoteError, match="no node in GPU class 3"):
        client.quote(gpu_class="h100")


def test_bad_network_arguments():
    with pytest.raises(gpufuel.InvalidArgumentError, match="unknown dishonest behaviour"):
        gpufuel.LocalNetwork(dishonest=["sneaky"])
    with pytest.raises(gpufuel.InvalidArgumentError, match="nodes"):
        gpufuel.LocalNetwork(nodes=-1)


def test_connect_without_config_is_a_config_error(tmp_path):
    with pytest.raises(gpufuel.GpuFuelError) as e:
        gpufuel.Client.connect(url="http://127.0.0.1:9", keypair=str(tmp_path / "missing.json"), config=str(tmp_path / "none.yml"))
    assert e.value.code == "CONFIG_ERROR"


def test_connect_with_half_a_pinning_service_is_refused(tmp_path):
    with pytest.raises(gpufuel.InvalidArgumentError, match="both its endpoint and its token"):
        gpufuel.Client.connect(config=str(tmp_path / "none.yml"), pin_endpoint="http://127.0.0.1:9")


def test_connect_with_a_malformed_program_id_is_a_config_error(tmp_path):
    with pytest.raises(gpufuel.GpuFuelError, match="program id") as e:
        gpufuel.Client.connect(url="http://127.0.0.1:9", config=str(tmp_path / "none.yml"), program_id="not-base58!")
    assert e.value.code == "CONFIG_ERROR"


def test_a_new_wallet_must_register_before_it_submits(net):
    client = net.client(5_000_000, register=False)
    assert not client.is_registered()
    with pytest.raises(gpufuel.NotRegisteredError, match=client.address) as e:
        client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)))
    assert e.value.code == "NOT_REGISTERED"
    nothing_submitted(client, 5_000_000)
    with pytest.raises(gpufuel.InvalidArgumentError, match="stake"):
        client.register(stake=-1)
    client.register()  # the market's minimum stake
    client.register(stake=1)  # already registered: nothing moves
    assert client.is_registered() and client.balance() < 5_000_000
    staked = 5_000_000 - client.balance()
    job = client.submit_matmul_sync(np.ones((2, 2)), np.ones((2, 2)))
    assert client.wait_sync(job, timeout=60).state == "Settled" and staked > 0
