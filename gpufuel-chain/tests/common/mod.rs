//! Shared setup for the program tests: a market with two GPU classes, three nodes, three
//! validators and a submitter.
#![allow(dead_code)]

use gpufuel_chain::{
    ChainError, LocalMarket, ix,
    local::Wallet,
    market::{default_params, job_spec},
};
use gpufuel_core::{GpuFuelError, instruction::JobSpec, state::NodeSpec};
use solana_address::Address;

pub const CLASS: u8 = 1;
pub const OTHER_CLASS: u8 = 2;
pub const REF_PRICE: u64 = 1_000;
pub const STAKE: u64 = 10_000_000;
pub const FUNDS: u64 = 100_000_000;

#[derive(Clone)]
pub struct World {
    pub m: LocalMarket,
    pub nodes: Vec<Wallet>,
    pub validators: Vec<Wallet>,
    pub submitter: Wallet,
}

pub fn spec(floor: u64) -> NodeSpec {
    NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: floor }
}

pub fn world() -> World {
    let mut m = LocalMarket::new(default_params(), &[(CLASS, REF_PRICE, 10), (OTHER_CLASS, 500, 10)]).unwrap();
    let nodes = (0..3).map(|i| m.node(spec(100 + i), STAKE, FUNDS).unwrap()).collect();
    let validators = (0..3).map(|_| m.validator(STAKE, FUNDS).unwrap()).collect();
    let submitter = m.submitter(STAKE, FUNDS).unwrap();
    World { m, nodes, validators, submitter }
}

impl World {
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
        let ix = ix::submit_result(&n.address(), &job, gpufuel_chain::market::sample_cid(9), [7; 32]);
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
