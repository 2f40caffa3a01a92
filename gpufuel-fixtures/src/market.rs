//! A market on the embedded chain with its participants: the fixture behind the lifecycle demo,
//! the compute-unit benchmark and the program's tests. It remembers every wallet it registered,
//! so it can assemble the accounts of permissionless instructions (assign, settle, expire).

use std::collections::HashMap;

use gpufuel_core::{
    cid::Cid,
    instruction::{GpuClassArgs, JobSpec},
    state::{AccountKind, Job, JobState, MarketParams, Node, NodeSpec, Submitter, VOTE_FAIL, Validator, Workload},
};
use solana_address::Address;

use gpufuel_chain::{
    ChainError, LocalChain, PROGRAM_ID,
    ix::{self, SettleAccounts},
    local::Wallet,
    pda,
};

/// A job spec with sensible defaults for class `gpu_class`: one GPU, 100 GPU-seconds, an hour
/// to finish, a dummy input CID.
pub fn job_spec(job_id: u64, gpu_class: u8, max_price: u64, now: i64) -> JobSpec {
    JobSpec {
        job_id,
        workload: Workload::MatMul,
        gpu_class,
        gpu_count: 1,
        min_compute_capability: 0,
        min_vram_mib: 8_192,
        gpu_seconds: 100,
        max_price,
        deadline: now + 3_600,
        urgent: false,
        input_cid: sample_cid(job_id as u8),
    }
}

/// A well-formed CIDv1 (raw codec, sha2-256) whose digest is filled with `fill`.
pub fn sample_cid(fill: u8) -> Cid {
    let mut bytes = [fill; 36];
    bytes[..4].copy_from_slice(&[0x01, 0x55, 0x12, 0x20]);
    Cid::new(&bytes).expect("well-formed CID")
}

/// A market on a [`LocalChain`] and its registered participants.
#[derive(Clone)]
pub struct LocalMarket {
    pub chain: LocalChain,
    pub authority: Wallet,
    /// The treasury's token account.
    pub treasury: Address,
    /// Wallets by the address of their staker account (node, validator or submitter PDA).
    wallets: HashMap<Address, (Address, Address)>,
    /// Validator operators by index.
    validators: HashMap<u32, Address>,
}

impl LocalMarket {
    /// A new chain with an initialised market and the given GPU classes `(id, ref_price, min_price)`.
    pub fn new(params: MarketParams, classes: &[(u8, u64, u64)]) -> Result<Self, ChainError> {
        let chain = LocalChain::new()?;
        let authority = chain.wallet(0)?;
        let treasury = chain.token_account(&authority.keypair, &authority.address())?;
        chain
            .send(&[ix::init_market(&authority.address(), &chain.mint(), &treasury, params)], &[&authority.keypair])?;
        for &(class_id, ref_price, min_price) in classes {
            let args = GpuClassArgs { class_id, ref_price, min_price };
            chain.send(&[ix::add_gpu_class(&authority.address(), args)], &[&authority.keypair])?;
        }
        Ok(Self { chain, authority, treasury, wallets: HashMap::new(), validators: HashMap::new() })
    }

    /// Registers a node operator with `stake` staked and `spare` tokens left in its wallet.
    pub fn node(&mut self, spec: NodeSpec, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.chain.send(&[ix::register_node(&w.address(), &w.token, spec, stake)], &[&w.keypair])?;
        self.wallets.insert(pda::node(&w.address()), (w.address(), w.token));
        Ok(w)
    }

    /// Registers a validator.
    pub fn validator(&mut self, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.chain.send(&[ix::register_validator(&w.address(), &w.token, stake)], &[&w.keypair])?;
        let account = pda::validator(&w.address());
        let index = self.chain.account::<Validator>(&account)?.index;
        self.wallets.insert(account, (w.address(), w.token));
        self.validators.insert(index, w.address());
        Ok(w)
    }

    /// Registers a job submitter.
    pub fn submitter(&mut self, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.chain.send(&[ix::register_submitter(&w.address(), &w.token, stake)], &[&w.keypair])?;
        self.wallets.insert(pda::submitter(&w.address()), (w.address(), w.token));
        Ok(w)
    }

    /// Creates a job; returns its address.
    pub fn create_job(&mut self, submitter: &Wallet, spec: JobSpec) -> Result<Address, ChainError> {
        self.chain.send(&[ix::create_job(&submitter.address(), &submitter.token, spec)], &[&submitter.keypair])?;
        Ok(pda::job(&submitter.address(), spec.job_id))
    }

    /// Decodes a job.
    pub fn job(&self, job: &Address) -> Result<Job, ChainError> {
        self.chain.account::<Job>(job)
    }

    /// The vault's token balance.
    pub fn vault_balance(&self) -> u64 {
        self.chain.balance(&pda::vault())
    }

    /// The assign instruction for a job's current best bid.
    pub fn assign_ix(&self, job: &Address) -> Result<solana_instruction::Instruction, ChainError> {
        let j = self.job(job)?;
        Ok(ix::assign(job, &Address::new_from_array(j.node), j.gpu_class))
    }

    /// The accounts of the settle instruction for a submitted job, voters included.
    pub fn settle_accounts(&self, job: &Address) -> Result<SettleAccounts, ChainError> {
        let j = self.job(job)?;
        let node = Address::new_from_array(j.node);
        let submitter = Address::new_from_array(j.submitter);
        let lookup = |account: &Address| {
            self.wallets.get(account).copied().ok_or_else(|| ChainError::Account(account.to_string()))
        };
        let voters = j
            .voter_indices()
            .iter()
            .map(|v| {
                let operator = self
                    .validators
                    .get(&(v & !VOTE_FAIL))
                    .ok_or_else(|| ChainError::Account(format!("validator {v}")))?;
                Ok((*operator, lookup(&pda::validator(operator))?.1))
            })
            .collect::<Result<_, ChainError>>()?;
        Ok(SettleAccounts {
            job: *job,
            node,
            submitter,
            gpu_class: j.gpu_class,
            node_token: lookup(&node)?.1,
            submitter_token: lookup(&pda::submitter(&submitter))?.1,
            treasury: self.treasury,
            voters,
        })
    }

    /// The expire instruction for a job (with its node if it was assigned).
    pub fn expire_ix(&self, job: &Address) -> Result<solana_instruction::Instruction, ChainError> {
        let j = self.job(job)?;
        let submitter = Address::new_from_array(j.submitter);
        let token =
            self.wallets.get(&pda::submitter(&submitter)).ok_or_else(|| ChainError::Account(submitter.to_string()))?.1;
        let node = Address::new_from_array(j.node);
        let assigned = j.state == JobState::Assigned as u8;
        Ok(ix::expire(&submitter, job, j.gpu_class, &token, assigned.then_some(&node)))
    }

    /// Tokens the program owes: every stake plus the escrow of every unfinished job. Equal to the
    /// vault balance whenever tokens are conserved.
    pub fn outstanding(&mut self) -> u64 {
        let accounts = self.chain.svm().get_program_accounts(&PROGRAM_ID);
        accounts
            .iter()
            .map(|(_, a)| match a.data.first().copied() {
                Some(k) if k == AccountKind::Node as u8 => decode::<Node>(&a.data).header.stake,
                Some(k) if k == AccountKind::Validator as u8 => decode::<Validator>(&a.data).header.stake,
                Some(k) if k == AccountKind::Submitter as u8 => decode::<Submitter>(&a.data).header.stake,
                Some(k) if k == AccountKind::Job as u8 => {
                    let job = decode::<Job>(&a.data);
                    if job.job_state().is_ok_and(JobState::is_terminal) { 0 } else { job.escrow }
                }
                _ => 0,
            })
            .sum()
    }
}

fn decode<T: borsh::BorshDeserialize>(data: &[u8]) -> T {
    T::try_from_slice(data).expect("program accounts decode")
}
