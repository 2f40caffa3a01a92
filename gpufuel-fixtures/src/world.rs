//! The program tests' market: two GPU classes, three nodes, three validators and a submitter.

use gpufuel_chain::{ChainError, ix, local::Wallet};
use gpufuel_core::{
    GpuFuelError,
    instruction::JobSpec,
    state::{MarketParams, NodeSpec},
};
use solana_address::Address;

pub use crate::{CLASS, FUNDS, OTHER_CLASS, REF_PRICE, STAKE};
use crate::{LocalMarket, job_spec, sample_cid};

/// A market with two classes ([`CLASS`], [`OTHER_CLASS`]), three nodes of [`CLASS`] with floors
/// 100, 101 and 102, three validators and a submitter, each staking [`STAKE`] with [`FUNDS`] to
/// spare.
#[derive(Clone)]
pub struct World {
    pub m: LocalMarket,
    pub nodes: Vec<Wallet>,
    pub validators: Vec<Wallet>,
    pub submitter: Wallet,
}

/// An H100-like node of [`CLASS`] with this price floor.
pub fn spec(floor: u64) -> NodeSpec {
    NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: floor }
}

/// A fresh [`World`].
pub fn world() -> World {
    let mut m = LocalMarket::new(MarketParams::default(), &[(CLASS, REF_PRICE, 10), (OTHER_CLASS, 500, 10)]).unwrap();
    let nodes = (0..3).map(|i| m.node(spec(100 + i), STAKE, FUNDS).unwrap()).collect();
    let validators = (0..3).map(|_| m.validator(STAKE, FUNDS).unwrap()).collect();
    let submitter = m.submitter(STAKE, FUNDS).unwrap();
    World { m, nodes, validators, submitter }
}

impl World {
    /// A job of [`CLASS`] with the defaults of [`job_spec`].
    pub fn job_spec(&self, id: u64, max_price: u64) -> JobSpec {
        job_spec(id, CLASS, max_price, self.m.chain.now())
    }

    /// Creates a job, has node `winner` bid `price` (after the others bid more), assigns it.
    pub fn assigned_job(&mut self, id: u64, winner: usize, price: u64) -> Address {
        let job = self.m.create_job(&self.submitter, self.job_spec(id, 2_000)).unwrap();
        let n = &self.nodes[winner];
        self.m.chain.send(&[ix::bid(&n.address(), &job, CLASS, price)], &[&n.keypair]).unwrap();
        self.m.chain.advance(31);
        let assign = self.m.assign_ix(&job).unwrap();
        self.m.chain.send(&[assign], &[&self.nodes[0].keypair]).unwrap();
        job
    }

    /// An assigned job with a submitted result.
    pub fn submitted_job(&mut self, id: u64, winner: usize, price: u64) -> Address {
        let job = self.assigned_job(id, winner, price);
        let n = &self.nodes[winner];
        let ix = ix::submit_result(&n.address(), &job, sample_cid(9), [7; 32]);
        self.m.chain.send(&[ix], &[&n.keypair]).unwrap();
        job
    }

    pub fn attest(&mut self, job: &Address, validator: usize, node: usize, pass: bool) -> Result<u64, ChainError> {
        let v = &self.validators[validator];
        let node = gpufuel_chain::pda::node(&self.nodes[node].address());
        self.m.chain.send(&[ix::attest(&v.address(), job, &node, pass)], &[&v.keypair])
    }

    pub fn assert_conserved(&mut self) {
        let outstanding = self.m.outstanding();
        assert_eq!(self.m.vault_balance(), outstanding, "vault must equal stakes plus open escrows");
    }
}

/// Asserts that a transaction was refused with `expected`.
pub fn refused(result: Result<u64, ChainError>, expected: GpuFuelError) {
    match result {
        Err(e) => assert_eq!(e.program_error(), Some(expected), "got {e}"),
        Ok(_) => panic!("expected {expected:?}, the transaction succeeded"),
    }
}
