//! What the local network's test files share: a network of CPU nodes, a job's state and its node.
#![allow(dead_code)] // each test file uses a part of it

use gpufuel_core::state::{Job, JobState, Node};
use gpufuel_exec::agent::Behaviour;
use gpufuel_network::{LocalNetwork, LocalNetworkConfig};
use solana_address::Address;

/// A network of `nodes` honest CPU nodes plus the `dishonest` ones.
pub async fn network(nodes: usize, dishonest: Vec<Behaviour>) -> LocalNetwork {
    let config = LocalNetworkConfig { nodes, dishonest, use_gpu: false, ..LocalNetworkConfig::default() };
    LocalNetwork::start(config).await.expect("network starts")
}

pub fn state(net: &LocalNetwork, job: &Address) -> JobState {
    net.chain.account::<Job>(job).unwrap().job_state().unwrap()
}

/// The node a job is assigned to.
pub fn node_of(net: &LocalNetwork, job: &Address) -> Node {
    let j = net.chain.account::<Job>(job).unwrap();
    net.chain.account::<Node>(&Address::new_from_array(j.node)).unwrap()
}
