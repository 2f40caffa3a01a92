"""Node and validator agents built from a client, as an operator runs them over RPC."""

import pytest

import gpufuel


def test_agents_on_a_client(net):
    # An operator's and a validator's agents built from a client (as over RPC).
    operator = net.client(tokens=50_000_000)
    agent = gpufuel.NodeAgent(operator, executor=lambda w: w.a @ w.b, gpu_class="h200", floor=15)
    assert agent.tick()["errors"] == 0 and agent.running() == 0
    assert any(n.operator == operator.address and n.class_name == "h200" for n in operator.nodes())
    validator = gpufuel.ValidatorAgent(net.client(tokens=50_000_000))
    votes, settled, expired = validator.tick()
    assert min(votes, settled, expired) >= 0
    with pytest.raises(gpufuel.InvalidArgumentError, match="pricing"):
        gpufuel.NodeAgent(net.client(), pricing="cheap")
