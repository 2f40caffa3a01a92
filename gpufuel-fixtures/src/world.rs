//! The program tests' market: two GPU classes, three nodes, three activated validators and a
//! submitter, at the default market parameters.

use gpufuel_chain::{ChainError, PROGRAM_ID, ix, local::Wallet};
use gpufuel_core::{
    GpuFuelError,
    instruction::JobSpec,
    state::{MarketParams, NodeSpec},
};
use solana_address::Address;

pub use crate::{CLASS, FUNDS, OTHER_CLASS, REF_PRICE, STAKE};
use crate::{LocalMarket, job_spec, sample_cid};

/// A market with two classes ([`CLASS`], [`OTHER_CLASS`]), three nodes of [`CLASS`] with floors
/// 100, 101 and 102, three activated validators and a submitter, each staking [`STAKE`] with
/// [`FUNDS`] to spare.
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

/// A fresh [`World`] at the default parameters.
pub fn world() -> World {
    world_with(MarketParams::default())
}

/// A fresh [`World`] at `params`.
pub fn world_with(params: MarketParams) -> World {
    let mut m = LocalMarket::new(params, &[(CLASS, REF_PRICE, 10), (OTHER_CLASS, 500, 10)]).unwrap();
    let nodes = (0..3).map(|i| m.node(spec(100 + i), STAKE, FUNDS).unwrap()).collect();
    let validators = (0..3).map(|_| m.validator(STAKE, FUNDS).unwrap()).collect();
    let submitter = m.submitter(STAKE, FUNDS).unwrap();
    m.activate_all().unwrap();
    World { m, nodes, validators, submitter }
}

impl World {
    /// An independent copy of the world (a clone shares its chain).
    pub fn fork(&self) -> Self {
        Self { m: self.m.fork(), ..self.clone() }
    }

    /// A job of [`CLASS`] with the defaults of [`job_spec`].
    pub fn job_spec(&self, id: u64, max_price: u64) -> JobSpec {
        job_spec(id, CLASS, max_price, self.m.chain.now())
    }

    /// Sends `ix` signed by `signer` (who pays).
    pub fn send(&self, ix: solana_instruction::Instruction, signer: &Wallet) -> Result<u64, ChainError> {
        self.m.chain.send(&[ix], &[&signer.keypair])
    }

    /// Node `node` bids `price` on a job.
    pub fn bid(&self, job: &Address, node: usize, price: u64) -> Result<u64, ChainError> {
        self.send(self.m.bid_ix(&self.nodes[node].address(), job, price)?, &self.nodes[node])
    }

    /// Creates a job, has node `winner` bid `price`, closes the auction, assigns it (sent by
    /// the submitter: anyone may) and has the node acknowledge it.
    pub fn assigned_job(&mut self, id: u64, winner: usize, price: u64) -> Address {
        let job = self.m.create_job(&self.submitter, self.job_spec(id, 2_000)).unwrap();
        self.bid(&job, winner, price).unwrap();
        self.m.chain.advance(31);
        self.send(self.m.assign_ix(&job).unwrap(), &self.submitter).unwrap();
        let n = &self.nodes[winner];
        self.send(ix::acknowledge(&PROGRAM_ID, &n.address(), &job), n).unwrap();
        job
    }

    /// An assigned job with a submitted result.
    pub fn submitted_job(&mut self, id: u64, winner: usize, price: u64) -> Address {
        let job = self.assigned_job(id, winner, price);
        let n = &self.nodes[winner];
        self.send(ix::submit_result(&PROGRAM_ID, &n.address(), &job, sample_cid(9), [7; 32], false), n).unwrap();
        job
    }

    /// Draws the job's current round and has its seats vote `vote(seat)` (see
    /// [`LocalMarket::vote_round`]).
    pub fn vote(&self, job: &Address, vote: impl Fn(usize, &Address) -> Option<bool>) -> u64 {
        self.m.vote_round(job, vote).unwrap()
    }

    /// Settles a job whose windows passed (sent by the submitter: anyone may).
    pub fn settle(&self, job: &Address) -> Result<u64, ChainError> {
        self.m.end_windows(job);
        self.send(ix::settle(&PROGRAM_ID, &self.m.settle_accounts(job)?), &self.submitter)
    }

    pub fn assert_conserved(&mut self) {
        let outstanding = self.m.outstanding();
        assert_eq!(self.m.vault_balance(), outstanding, "vault must equal what the program owes");
    }
}

/// Asserts that a transaction was refused with `expected`.
pub fn refused(result: Result<u64, ChainError>, expected: GpuFuelError) {
    match result {
        Err(e) => assert_eq!(e.program_error(), Some(expected), "got {e}"),
        Ok(_) => panic!("expected {expected:?}, the transaction succeeded"),
    }
}
