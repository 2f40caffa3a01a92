"""Awaitables end cleanly: a cancelled await stops its wait, and a script exits with status 0
however it leaves the SDK (results are never delivered into a finalizing interpreter, which
CPython answers with a fatal abort)."""

import asyncio
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import numpy as np
    import gpufuel

    async def main(mode):
        net = gpufuel.LocalNetwork(nodes=1, validators=1)
        client = net.client()
        job = await client.submit_matmul(np.ones((8, 8)), np.ones((8, 8)))
        assert (await client.result(job, timeout=60)).shape == (8, 8)
        if mode == "pending":  # a wait nobody awaits: no h100 node, so it never ends
            unawaited = client.wait(await client.submit_matmul(np.ones((2, 2)), np.ones((2, 2)), gpu_class="h100"))
        if mode == "closed":
            net.close()

    asyncio.run(main(sys.argv[1]))
    print("done")
    """
)


@pytest.mark.parametrize("mode", ["closed", "left running", "pending"])
def test_a_script_exits_cleanly(mode, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    for _ in range(4):  # the crash this guards against came at one exit in five
        run = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=120)
        assert (run.returncode, run.stdout.strip()) == (0, "done"), run.stderr


async def test_cancelling_an_await_cancels_the_wait(net):
    client = net.client()
    job = await client.submit_matmul(np.ones((2, 2)), np.ones((2, 2)), gpu_class="h100")  # stays open
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.wait(job, timeout=600), 0.2)
    client.cancel(job)
    assert (await client.wait(job, timeout=10)).state == "Cancelled"
