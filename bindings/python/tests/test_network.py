"""The local network: tokens are conserved across a job."""

import numpy as np


def test_tokens_are_conserved(net):
    held = net.tokens_held()
    client = net.client(tokens=2_000_000)
    job = client.submit_matmul_sync(np.eye(4), np.eye(4))
    client.wait_sync(job, timeout=60)
    # The new wallet's tokens are the only ones added.
    assert net.tokens_held() == held + 2_000_000
