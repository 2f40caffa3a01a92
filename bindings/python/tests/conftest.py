import pytest

import gpufuel


@pytest.fixture(scope="module")
def net():
    """A local market (2 CPU nodes, 2 validators) running in the background."""
    with gpufuel.LocalNetwork(nodes=2, validators=2) as network:
        yield network


@pytest.fixture
def client(net):
    return net.client()
