//! A market on the embedded chain with its participants: the fixture behind the lifecycle demo,
//! the compute-unit benchmark and the program's tests. It remembers every wallet it registered,
//! so it can assemble the accounts of permissionless instructions (assign, draw, settle, expire)
//! and drive committees (commit and reveal with known salts).

use std::collections::HashMap;

use gpufuel_chain::{
    ChainError, LocalChain, PROGRAM_ID, committee,
    ix::{self, SettleAccounts},
    local::Wallet,
    pda,
};
use gpufuel_core::{
    cid::Cid,
    committee::{HEADER_LEN, account_len, vote_commitment},
    instruction::{GpuClassArgs, JobSpec},
    proof::sha256,
    state::{Job, MAX_COMMITTEE, Market, MarketParams, Node, NodeSpec, Phase, Validator, Workload},
};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

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
    /// The chain.
    pub chain: LocalChain,
    /// The market authority (the program's upgrade authority), with a token account.
    pub authority: Wallet,
    /// The validator set account.
    pub validator_set: Address,
    /// Wallets by the address of their staker account (node, validator or submitter PDA).
    wallets: HashMap<Address, (Address, Address)>,
    /// Validator operators' keys by index, to commit and reveal for them.
    validators: HashMap<u32, [u8; 64]>,
}

/// A new validator set account of 64 validators for the deployment at `program`, and the
/// instruction that creates it (paid by `payer`, signed by both).
pub fn validator_set_account(chain: &LocalChain, payer: &Address, program: &Address) -> (Keypair, Instruction) {
    let set = Keypair::new();
    let len = account_len(64);
    let rent = chain.svm().minimum_balance_for_rent_exemption(len);
    let create = solana_system_interface::instruction::create_account(payer, &set.pubkey(), rent, len as u64, program);
    (set, create)
}

/// The salt a [`LocalMarket`] validator commits with on a seat: known, so the tests can reveal.
pub fn salt(job: &Address, seat: u8) -> [u8; 32] {
    sha256(&[b"salt", job.as_ref(), &[seat]])
}

impl LocalMarket {
    /// A new chain with an initialised market (validator set of 64) and the given GPU classes
    /// `(id, ref_price, min_price)`.
    pub fn new(params: MarketParams, classes: &[(u8, u64, u64)]) -> Result<Self, ChainError> {
        let chain = LocalChain::new()?;
        let admin = chain.admin();
        let token = chain.token_account(&admin, &admin.pubkey())?;
        let authority = Wallet { keypair: admin, token };
        let (set, create) = validator_set_account(&chain, &authority.address(), &PROGRAM_ID);
        let init = ix::init_market(&PROGRAM_ID, &authority.address(), &chain.mint(), &set.pubkey(), params);
        chain.send(&[create, init], &[&authority.keypair, &set])?;
        for &(class_id, ref_price, min_price) in classes {
            let args = GpuClassArgs { class_id, ref_price, min_price };
            chain.send(&[ix::add_gpu_class(&PROGRAM_ID, &authority.address(), args)], &[&authority.keypair])?;
        }
        Ok(Self { chain, authority, validator_set: set.pubkey(), wallets: HashMap::new(), validators: HashMap::new() })
    }

    /// An independent copy of the market and its chain (a clone shares the chain).
    pub fn fork(&self) -> Self {
        Self { chain: self.chain.fork(), ..self.clone() }
    }

    /// The market account.
    pub fn market(&self) -> Result<Market, ChainError> {
        self.chain.account::<Market>(&pda::market(&PROGRAM_ID))
    }

    /// Registers a node operator with `stake` staked and `spare` tokens left in its wallet.
    pub fn node(&mut self, spec: NodeSpec, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.chain.send(&[ix::register_node(&PROGRAM_ID, &w.address(), &w.token, spec, stake)], &[&w.keypair])?;
        self.wallets.insert(pda::node(&PROGRAM_ID, &w.address()), (w.address(), w.token));
        Ok(w)
    }

    /// Registers a validator (it can be drawn once [`Self::activate_all`]d).
    pub fn validator(&mut self, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.register_validator(&w, stake)?;
        Ok(w)
    }

    /// Registers an existing wallet (a node operator's, a submitter's) as a validator too.
    pub fn register_validator(&mut self, w: &Wallet, stake: u64) -> Result<(), ChainError> {
        self.chain.send(&[ix::register_validator(&PROGRAM_ID, &w.address(), &w.token, stake)], &[&w.keypair])?;
        let account = pda::validator(&PROGRAM_ID, &w.address());
        let index = self.chain.account::<Validator>(&account)?.index;
        self.wallets.insert(account, (w.address(), w.token));
        self.validators.insert(index, w.keypair.to_bytes());
        Ok(())
    }

    /// Waits out the bonding period and activates every registered validator not yet activated.
    pub fn activate_all(&self) -> Result<(), ChainError> {
        self.chain.advance(self.market()?.params.validator_bonding_secs as i64);
        let payer = self.authority.keypair.insecure_clone();
        for key in self.validators.values() {
            let operator = Keypair::try_from(&key[..]).expect("stored keypair").pubkey();
            if self.chain.account::<Validator>(&pda::validator(&PROGRAM_ID, &operator))?.activated == 0 {
                self.chain.send(&[ix::activate_validator(&PROGRAM_ID, &operator, &self.validator_set)], &[&payer])?;
            }
        }
        Ok(())
    }

    /// Registers a job submitter.
    pub fn submitter(&mut self, stake: u64, spare: u64) -> Result<Wallet, ChainError> {
        let w = self.chain.wallet(stake + spare)?;
        self.chain.send(&[ix::register_submitter(&PROGRAM_ID, &w.address(), &w.token, stake)], &[&w.keypair])?;
        self.wallets.insert(pda::submitter(&PROGRAM_ID, &w.address()), (w.address(), w.token));
        Ok(w)
    }

    /// Creates a job; returns its address.
    pub fn create_job(&mut self, submitter: &Wallet, spec: JobSpec) -> Result<Address, ChainError> {
        self.chain.send(
            &[ix::create_job(&PROGRAM_ID, &submitter.address(), &submitter.token, spec)],
            &[&submitter.keypair],
        )?;
        Ok(pda::job(&PROGRAM_ID, &submitter.address(), spec.job_id))
    }

    /// Decodes a job.
    pub fn job(&self, job: &Address) -> Result<Job, ChainError> {
        self.chain.account::<Job>(job)
    }

    /// The vault's token balance.
    pub fn vault_balance(&self) -> u64 {
        self.chain.balance(&pda::vault(&PROGRAM_ID))
    }

    /// The node leading or running a job, if any.
    fn holder(&self, job: &Address) -> Result<Option<Address>, ChainError> {
        let j = self.job(job)?;
        Ok((j.best_bid != 0).then(|| Address::new_from_array(j.node)))
    }

    /// The bid instruction of `node` on a job (releasing its current leader).
    pub fn bid_ix(&self, node: &Address, job: &Address, price: u64) -> Result<Instruction, ChainError> {
        let j = self.job(job)?;
        Ok(ix::bid(&PROGRAM_ID, node, job, j.gpu_class, price, self.holder(job)?.as_ref()))
    }

    /// The assign instruction for a job's current best bid.
    pub fn assign_ix(&self, job: &Address) -> Result<Instruction, ChainError> {
        let j = self.job(job)?;
        Ok(ix::assign(&PROGRAM_ID, job, &Address::new_from_array(j.node), j.gpu_class))
    }

    /// The cancel instruction of a job's submitter.
    pub fn cancel_ix(&self, submitter: &Wallet, job: &Address) -> Result<Instruction, ChainError> {
        let j = self.job(job)?;
        Ok(ix::cancel(
            &PROGRAM_ID,
            &submitter.address(),
            job,
            j.gpu_class,
            &submitter.token,
            self.holder(job)?.as_ref(),
        ))
    }

    /// Every validator by index, from chain state.
    fn validators_by_index(&self) -> Result<HashMap<u32, (Address, Validator)>, ChainError> {
        self.validators
            .keys()
            .map(|&i| {
                let operator = Keypair::try_from(&self.validators[&i][..]).expect("stored keypair").pubkey();
                let account = pda::validator(&PROGRAM_ID, &operator);
                Ok((i, (account, self.chain.account::<Validator>(&account)?)))
            })
            .collect()
    }

    /// The draw instruction for a job's current round (or the one opening its appeal round),
    /// with the candidates the program will meet, and the seats it will fill.
    pub fn draw_ix(&self, job: &Address) -> Result<(Instruction, Vec<u32>), ChainError> {
        let j = self.job(job)?;
        let node = Address::new_from_array(j.node);
        if j.phase == Phase::Voting as u8 {
            return Ok((ix::draw_committee(&PROGRAM_ID, job, &node, &self.validator_set, &[]), vec![]));
        }
        let hashes =
            self.chain.data(&committee::SLOT_HASHES).ok_or_else(|| ChainError::Account("SlotHashes".into()))?;
        let slot_hash = committee::slot_hash_after(&hashes, j.step_slot)?;
        let data = self.chain.data(&self.validator_set).ok_or_else(|| ChainError::Account("validator set".into()))?;
        let set = gpufuel_core::committee::ValidatorSet {
            total: u64::from_le_bytes(data[8..16].try_into().expect("8 bytes")),
            tree: data[HEADER_LEN..].chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8"))).collect(),
        };
        let owner = self.chain.account::<Node>(&node)?.header.owner;
        let plan = committee::plan(job, &j, slot_hash, &set, &self.validators_by_index()?, owner);
        Ok((ix::draw_committee(&PROGRAM_ID, job, &node, &self.validator_set, &plan.candidates), plan.seats))
    }

    /// The seats of a job's current round: `(seat, operator keypair)`.
    pub fn seats(&self, job: &Address) -> Result<Vec<(u8, Keypair)>, ChainError> {
        let j = self.job(job)?;
        let first = if j.round == 0 { 0 } else { MAX_COMMITTEE };
        Ok(j.round_seats(j.round)
            .iter()
            .enumerate()
            .map(|(i, s)| ((first + i) as u8, Keypair::try_from(&self.validators[&s.validator][..]).expect("keypair")))
            .collect())
    }

    /// The commit instruction of the validator on `seat` voting `pass`, with [`salt`].
    pub fn commit_ix(
        &self,
        job: &Address,
        seat: u8,
        operator: &Address,
        pass: bool,
    ) -> Result<Instruction, ChainError> {
        let round = self.job(job)?.round;
        let commitment = vote_commitment(sha256, &job.to_bytes(), round, seat, pass, &salt(job, seat));
        Ok(ix::commit_vote(&PROGRAM_ID, operator, job, seat, commitment))
    }

    /// The reveal instruction matching [`Self::commit_ix`].
    pub fn reveal_ix(&self, job: &Address, seat: u8, operator: &Address, pass: bool) -> Instruction {
        ix::reveal_vote(&PROGRAM_ID, operator, job, seat, pass, salt(job, seat))
    }

    /// Draws the current round and has every seat commit then reveal the vote `vote(seat)` gives
    /// (`None`: the seat stays silent); returns the units of the draw, commits and reveals.
    pub fn vote_round(&self, job: &Address, vote: impl Fn(usize, &Address) -> Option<bool>) -> Result<u64, ChainError> {
        self.chain.advance(1);
        let payer = self.authority.keypair.insecure_clone();
        let (draw, _) = self.draw_ix(job)?;
        let mut units = self.chain.send(&[draw], &[&payer])?;
        let seats = self.seats(job)?;
        let votes: Vec<Option<bool>> = seats.iter().enumerate().map(|(i, (_, k))| vote(i, &k.pubkey())).collect();
        for ((seat, key), v) in seats.iter().zip(&votes) {
            if let Some(pass) = *v {
                units += self.chain.send(&[self.commit_ix(job, *seat, &key.pubkey(), pass)?], &[key])?;
            }
        }
        if votes.iter().any(Option::is_none) {
            self.chain.advance(self.job(job)?.terms.commit_window_secs as i64);
        }
        for ((seat, key), v) in seats.iter().zip(&votes) {
            if let Some(pass) = *v {
                units += self.chain.send(&[self.reveal_ix(job, *seat, &key.pubkey(), pass)], &[key])?;
            }
        }
        Ok(units)
    }

    /// Lets a job's voting and appeal windows pass.
    pub fn end_windows(&self, job: &Address) {
        let t = self.job(job).expect("job").terms;
        self.chain.advance(i64::from(t.commit_window_secs + t.reveal_window_secs + t.appeal_window_secs) + 1);
    }

    /// The accounts of the settle instruction for a decided job, seats included.
    pub fn settle_accounts(&self, job: &Address) -> Result<SettleAccounts, ChainError> {
        let j = self.job(job)?;
        let node = Address::new_from_array(j.node);
        let submitter = Address::new_from_array(j.submitter);
        let lookup = |account: &Address| {
            self.wallets.get(account).copied().ok_or_else(|| ChainError::Account(account.to_string()))
        };
        let submitter_token = lookup(&pda::submitter(&PROGRAM_ID, &submitter))?.1;
        Ok(SettleAccounts {
            job: *job,
            node,
            submitter,
            gpu_class: j.gpu_class,
            node_token: lookup(&node)?.1,
            submitter_token,
            validator_set: self.validator_set,
            appellant_token: if j.appeal_bond > 0 { Address::new_from_array(j.appellant) } else { submitter_token },
            seats: committee::seat_accounts(&j, &self.validators_by_index()?)?,
        })
    }

    /// The expire instruction for a job (with the node that holds it, if any).
    pub fn expire_ix(&self, job: &Address) -> Result<Instruction, ChainError> {
        let j = self.job(job)?;
        let submitter = Address::new_from_array(j.submitter);
        let token = self
            .wallets
            .get(&pda::submitter(&PROGRAM_ID, &submitter))
            .ok_or_else(|| ChainError::Account(submitter.to_string()))?
            .1;
        Ok(ix::expire(&PROGRAM_ID, &submitter, job, j.gpu_class, &token, self.holder(job)?.as_ref()))
    }

    /// Tokens the program owes: every stake, every validator's rewards, every class's fee pool,
    /// and the escrow and appeal bond of every unfinished job. Equal to the vault balance
    /// whenever tokens are conserved.
    pub fn outstanding(&mut self) -> u64 {
        let accounts = self.chain.svm().get_program_accounts(&PROGRAM_ID);
        accounts.iter().map(|(_, a)| gpufuel_chain::query::owed(&a.data)).sum()
    }
}
