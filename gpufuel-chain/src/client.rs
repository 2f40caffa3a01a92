//! [`GpuFuelClient`]: every GPUFuel instruction for each role, with typed arguments and results,
//! over any [`Chain`]. Accounts a caller cannot be expected to know (PDAs, the assigned node,
//! a draw's candidates, settlement's seats and token accounts) are derived from chain state.

use gpufuel_core::{
    cid::Cid,
    committee as core_committee,
    instruction::{GpuClassArgs, JobSpec},
    matching::{MatchingEngine, NodeOffer, OpenJob},
    proof::sha256,
    quote::{self as quoting, Quote, QuoteRequest, Windows},
    state::{GpuClass, Job, JobState, Market, MarketParams, Node, NodeSpec, Phase, Submitter, Validator},
};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;

use crate::{
    Chain, ChainError, committee,
    ix::{self, Leaving, Role, SettleAccounts},
    pda,
    query::{self, JobFilter},
    send::{self, SendOptions, Sent},
};

/// A node's track record, as the program keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reputation {
    /// Jobs settled in the node's favour.
    pub completed: u32,
    /// Jobs whose result validators rejected.
    pub failed_validations: u32,
    /// Jobs that expired while assigned to it.
    pub missed_deadlines: u32,
}

/// The GPUFuel client for every role (admin, submitter, node operator, validator).
pub struct GpuFuelClient<C> {
    chain: C,
    program: Address,
    options: SendOptions,
}

impl<C: Chain> GpuFuelClient<C> {
    /// A client of the deployment at [`crate::PROGRAM_ID`], sending with [`SendOptions::default`].
    pub fn new(chain: C) -> Self {
        Self { chain, program: crate::PROGRAM_ID, options: SendOptions::default() }
    }

    /// The same client for the deployment at `program` (the same binary deployed elsewhere).
    pub fn with_program(self, program: Address) -> Self {
        Self { program, ..self }
    }

    /// The address of the deployment it talks to.
    pub fn program(&self) -> &Address {
        &self.program
    }

    /// The same client with other send options.
    pub fn with_options(self, options: SendOptions) -> Self {
        Self { options, ..self }
    }

    /// The chain it talks to.
    pub fn chain(&self) -> &C {
        &self.chain
    }

    async fn send(&self, ixs: &[Instruction], payer: &Keypair) -> Result<Sent, ChainError> {
        send::send(&self.chain, ixs, payer, &[], &self.options).await
    }

    /// Sends instructions paid by `payer` (and signed by it), as every method here does.
    pub async fn send_instructions(&self, ixs: &[Instruction], payer: &Keypair) -> Result<Sent, ChainError> {
        self.send(ixs, payer).await
    }

    // Reads.

    /// The market: authority, mint, validator set, parameters (and any pending change).
    pub async fn market(&self) -> Result<Market, ChainError> {
        query::account(&self.chain, &self.program, &pda::market(&self.program)).await
    }

    /// A GPU class with its reference price.
    pub async fn gpu_class(&self, class_id: u8) -> Result<GpuClass, ChainError> {
        query::account(&self.chain, &self.program, &pda::gpu_class(&self.program, class_id)).await
    }

    /// Reference prices of every class, `(class id, base units per GPU-second)`.
    pub async fn prices(&self) -> Result<Vec<(u8, u64)>, ChainError> {
        Ok(self.gpu_classes().await?.into_iter().map(|c| (c.class_id, c.ref_price)).collect())
    }

    /// A quote for a job from the market now: the class's reference price and its open jobs and
    /// active nodes (a node's GPUs are busy with the auctions it leads and the jobs it runs).
    pub async fn quote(&self, request: &QuoteRequest) -> Result<Quote, ChainError> {
        let class_id = request.requirements.gpu_class;
        let class = self.gpu_class(class_id).await?;
        let params = self.market().await?.params;
        let windows =
            Windows { bid_window_secs: params.bid_window_secs, urgent_bid_window_secs: params.urgent_bid_window_secs };
        let mut jobs = self.jobs(&[JobFilter::State(JobState::Open)]).await?;
        jobs.extend(self.jobs(&[JobFilter::State(JobState::Assigned)]).await?);
        jobs.retain(|(_, j)| j.gpu_class == class_id);
        let mut engine = MatchingEngine::new();
        engine.extend_jobs(jobs.iter().filter_map(|(a, j)| OpenJob::from_account(a.to_bytes(), j)));
        for (address, node) in self.nodes(Some(class_id)).await? {
            if let Some(offer) = NodeOffer::from_account(address.to_bytes(), &node) {
                engine.upsert_node(offer);
            }
        }
        Ok(quoting::quote(&engine, &class, windows, request)?)
    }

    /// A job.
    pub async fn job(&self, job: &Address) -> Result<Job, ChainError> {
        query::job(&self.chain, &self.program, job).await
    }

    /// Jobs matching every filter.
    pub async fn jobs(&self, filters: &[JobFilter]) -> Result<Vec<(Address, Job)>, ChainError> {
        query::jobs(&self.chain, &self.program, filters).await
    }

    /// Waits until the job satisfies `done` ([`query::wait_for_job`]).
    pub async fn wait_for_job(
        &self,
        job: &Address,
        done: impl Fn(&Job) -> bool,
        timeout: std::time::Duration,
    ) -> Result<Job, ChainError> {
        query::wait_for_job(&self.chain, &self.program, job, done, timeout).await
    }

    /// Every GPU class, in class order.
    pub async fn gpu_classes(&self) -> Result<Vec<GpuClass>, ChainError> {
        let mut classes: Vec<_> =
            query::gpu_classes(&self.chain, &self.program).await?.into_iter().map(|(_, c)| c).collect();
        classes.sort_unstable_by_key(|c| c.class_id);
        Ok(classes)
    }

    /// Node accounts, of one GPU class or all.
    pub async fn nodes(&self, gpu_class: Option<u8>) -> Result<Vec<(Address, Node)>, ChainError> {
        query::nodes(&self.chain, &self.program, gpu_class).await
    }

    /// Validator accounts.
    pub async fn validators(&self) -> Result<Vec<(Address, Validator)>, ChainError> {
        query::validators(&self.chain, &self.program, None).await
    }

    /// The node of an operator.
    pub async fn node(&self, operator: &Address) -> Result<Node, ChainError> {
        query::account(&self.chain, &self.program, &pda::node(&self.program, operator)).await
    }

    /// The submitter account of a wallet.
    pub async fn submitter(&self, owner: &Address) -> Result<Submitter, ChainError> {
        query::account(&self.chain, &self.program, &pda::submitter(&self.program, owner)).await
    }

    /// A node's reputation counters.
    pub async fn reputation(&self, operator: &Address) -> Result<Reputation, ChainError> {
        let n = self.node(operator).await?;
        Ok(Reputation {
            completed: n.completed,
            failed_validations: n.failed_validations,
            missed_deadlines: n.missed_deadlines,
        })
    }

    /// The first token account of `mint` (the market's) owned by `owner`.
    async fn token_of(&self, owner: &Address, mint: &Address) -> Result<Address, ChainError> {
        let accounts = self.chain.token_accounts(owner, mint).await?;
        accounts.first().copied().ok_or_else(|| ChainError::Account(format!("GPUFuel token account of {owner}")))
    }

    /// The first GPUFuel token account (of the market's mint) that `owner` holds.
    pub async fn token_account(&self, owner: &Address) -> Result<Address, ChainError> {
        let mint = Address::new_from_array(self.market().await?.mint);
        self.token_of(owner, &mint).await
    }

    // Tokens.

    /// Creates an SPL mint (no freeze authority) with `payer` as its mint authority; for test
    /// clusters, where the market's token is made up. Returns its address.
    pub async fn create_mint(&self, payer: &Keypair, decimals: u8) -> Result<Address, ChainError> {
        let authority = payer.pubkey();
        self.create_token_owned(payer, spl_token_interface::state::Mint::LEN, |mint| {
            spl_token_interface::instruction::initialize_mint2(
                &spl_token_interface::ID,
                mint,
                &authority,
                None,
                decimals,
            )
        })
        .await
    }

    /// Creates a token account of `mint` owned by `owner`, paid by `payer`. Returns its address.
    pub async fn create_token_account(
        &self,
        payer: &Keypair,
        owner: &Address,
        mint: &Address,
    ) -> Result<Address, ChainError> {
        self.create_token_owned(payer, spl_token_interface::state::Account::LEN, |account| {
            spl_token_interface::instruction::initialize_account3(&spl_token_interface::ID, account, mint, owner)
        })
        .await
    }

    /// Mints `amount` of `mint` to `token`; `authority` is the mint authority.
    pub async fn mint_to(
        &self,
        authority: &Keypair,
        mint: &Address,
        token: &Address,
        amount: u64,
    ) -> Result<Sent, ChainError> {
        let ix = spl_token_interface::instruction::mint_to(
            &spl_token_interface::ID,
            mint,
            token,
            &authority.pubkey(),
            &[],
            amount,
        )
        .map_err(|e| ChainError::Account(e.to_string()))?;
        self.send(&[ix], authority).await
    }

    /// Creates a rent-exempt account of `len` bytes owned by the token program at a new address,
    /// initialised by `init(address)` in the same transaction paid by `payer`. Returns it.
    async fn create_token_owned<E: std::fmt::Display>(
        &self,
        payer: &Keypair,
        len: usize,
        init: impl FnOnce(&Address) -> Result<Instruction, E>,
    ) -> Result<Address, ChainError> {
        let account = Keypair::new();
        let rent = self.chain.rent_exempt_minimum(len).await?;
        let create = solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            rent,
            len as u64,
            &spl_token_interface::ID,
        );
        let init = init(&account.pubkey()).map_err(|e| ChainError::Account(e.to_string()))?;
        send::send(&self.chain, &[create, init], payer, &[&account], &self.options).await?;
        Ok(account.pubkey())
    }

    // Admin.

    /// The program's upgrade authority, from its ProgramData account (`None` once the program
    /// is immutable): the one signer `InitMarket` accepts.
    pub async fn upgrade_authority(&self) -> Result<Option<Address>, ChainError> {
        let data = self.chain.account(&pda::program_data(&self.program)).await?.map(|a| a.data).unwrap_or_default();
        // UpgradeableLoaderState::ProgramData: tag 3 (u32), slot (u64), Option<authority>.
        match (data.get(..4), data.get(12), data.get(13..45)) {
            (Some([3, 0, 0, 0]), Some(1), Some(key)) => {
                Ok(Some(Address::try_from(key).map_err(|e| ChainError::Account(e.to_string()))?))
            }
            (Some([3, 0, 0, 0]), Some(0), _) => Ok(None),
            _ => Err(ChainError::Account(format!("program data {}", pda::program_data(&self.program)))),
        }
    }

    /// Creates the market (once per deployment) with a validator set for `capacity` validators:
    /// the set's account is created in the same transaction (a program cannot allocate one that
    /// large). `authority` must be the program's upgrade authority. Returns the set's address.
    pub async fn init_market(
        &self,
        authority: &Keypair,
        mint: &Address,
        params: MarketParams,
        capacity: u32,
    ) -> Result<Address, ChainError> {
        let set = Keypair::new();
        let len = core_committee::account_len(capacity);
        let rent = self.chain.rent_exempt_minimum(len).await?;
        let create = solana_system_interface::instruction::create_account(
            &authority.pubkey(),
            &set.pubkey(),
            rent,
            len as u64,
            &self.program,
        );
        let init = ix::init_market(&self.program, &authority.pubkey(), mint, &set.pubkey(), params);
        send::send(&self.chain, &[create, init], authority, &[&set], &self.options).await?;
        Ok(set.pubkey())
    }

    /// Proposes new parameters; they apply after the timelock ([`Self::apply_params`]).
    pub async fn propose_params(&self, authority: &Keypair, params: MarketParams) -> Result<Sent, ChainError> {
        self.send(&[ix::propose_params(&self.program, &authority.pubkey(), params)], authority).await
    }

    /// Puts a proposal whose timelock elapsed in force (anyone may).
    pub async fn apply_params(&self, payer: &Keypair) -> Result<Sent, ChainError> {
        self.send(&[ix::apply_params(&self.program)], payer).await
    }

    /// Names the authority's successor.
    pub async fn transfer_authority(&self, authority: &Keypair, new_authority: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::transfer_authority(&self.program, &authority.pubkey(), new_authority)], authority).await
    }

    /// The named successor takes the authority.
    pub async fn accept_authority(&self, new_authority: &Keypair) -> Result<Sent, ChainError> {
        self.send(&[ix::accept_authority(&self.program, &new_authority.pubkey())], new_authority).await
    }

    /// Adds a GPU class.
    pub async fn add_gpu_class(&self, authority: &Keypair, args: GpuClassArgs) -> Result<Sent, ChainError> {
        self.send(&[ix::add_gpu_class(&self.program, &authority.pubkey(), args)], authority).await
    }

    /// Pays a class's fee pool to `destination`, a token account of the mint.
    pub async fn withdraw_fees(
        &self,
        authority: &Keypair,
        gpu_class: u8,
        destination: &Address,
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::withdraw_fees(&self.program, &authority.pubkey(), gpu_class, destination)], authority).await
    }

    // Stakes, for every role.

    /// Registers a node operator with its GPU spec, staking from `token`.
    pub async fn register_node(
        &self,
        operator: &Keypair,
        token: &Address,
        spec: NodeSpec,
        stake: u64,
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::register_node(&self.program, &operator.pubkey(), token, spec, stake)], operator).await
    }

    /// Registers a validator.
    pub async fn register_validator(
        &self,
        operator: &Keypair,
        token: &Address,
        stake: u64,
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::register_validator(&self.program, &operator.pubkey(), token, stake)], operator).await
    }

    /// Registers a job submitter.
    pub async fn register_submitter(&self, owner: &Keypair, token: &Address, stake: u64) -> Result<Sent, ChainError> {
        self.send(&[ix::register_submitter(&self.program, &owner.pubkey(), token, stake)], owner).await
    }

    /// The validator of an operator.
    pub async fn validator(&self, operator: &Address) -> Result<Validator, ChainError> {
        query::account(&self.chain, &self.program, &pda::validator(&self.program, operator)).await
    }

    /// The market's validator set, when `operator` is an activated validator (its stake moves
    /// the tree).
    async fn activated_set(&self, operator: &Address, role: Role) -> Result<Option<Address>, ChainError> {
        if role != Role::Validator || self.validator(operator).await?.activated == 0 {
            return Ok(None);
        }
        Ok(Some(Address::new_from_array(self.market().await?.validator_set)))
    }

    /// Adds to a stake.
    pub async fn top_up(&self, owner: &Keypair, role: Role, token: &Address, amount: u64) -> Result<Sent, ChainError> {
        let set = self.activated_set(&owner.pubkey(), role).await?;
        self.send(&[ix::top_up(&self.program, &owner.pubkey(), role, token, amount, set.as_ref())], owner).await
    }

    /// Starts the unstake cooldown (refused while the staker has work in flight).
    pub async fn request_unstake(&self, owner: &Keypair, role: Role) -> Result<Sent, ChainError> {
        let leaving = match (role, self.activated_set(&owner.pubkey(), role).await?) {
            (Role::Node, _) => Leaving::Node { gpu_class: self.node(&owner.pubkey()).await?.gpu_class },
            (_, Some(validator_set)) => Leaving::Validator { validator_set },
            _ => Leaving::Alone,
        };
        self.send(&[ix::request_unstake(&self.program, &owner.pubkey(), role, leaving)], owner).await
    }

    /// Puts a bonded validator's stake into the draw (anyone may, once its bonding ended).
    pub async fn activate_validator(&self, payer: &Keypair, operator: &Address) -> Result<Sent, ChainError> {
        let set = Address::new_from_array(self.market().await?.validator_set);
        self.send(&[ix::activate_validator(&self.program, operator, &set)], payer).await
    }

    /// Pays the validator's rewards to `token`.
    pub async fn claim_rewards(&self, operator: &Keypair, token: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::claim_rewards(&self.program, &operator.pubkey(), token)], operator).await
    }

    /// After the cooldown, returns the stake to `token` and closes the staker account.
    pub async fn withdraw(&self, owner: &Keypair, role: Role, token: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::withdraw(&self.program, &owner.pubkey(), role, token)], owner).await
    }

    // Submitter.

    /// Creates a job, escrowing from `token`; returns its address.
    pub async fn create_job(&self, submitter: &Keypair, token: &Address, spec: JobSpec) -> Result<Address, ChainError> {
        self.send(&[ix::create_job(&self.program, &submitter.pubkey(), token, spec)], submitter).await?;
        Ok(pda::job(&self.program, &submitter.pubkey(), spec.job_id))
    }

    /// Cancels an open job; the escrow returns to `token`.
    pub async fn cancel(&self, submitter: &Keypair, job: &Address, token: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        let leader = holder(&j);
        self.send(
            &[ix::cancel(&self.program, &submitter.pubkey(), job, j.gpu_class, token, leader.as_ref())],
            submitter,
        )
        .await
    }

    /// Expires a job past its deadline (anyone may): refund plus the miss penalty of the node
    /// that held it.
    pub async fn expire(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        let submitter = Address::new_from_array(j.submitter);
        let mint = Address::new_from_array(self.market().await?.mint);
        let token = self.token_of(&submitter, &mint).await?;
        let node = holder(&j);
        self.send(&[ix::expire(&self.program, &submitter, job, j.gpu_class, &token, node.as_ref())], payer).await
    }

    /// Closes a finished job account, returning its rent to the submitter.
    pub async fn close_job(&self, submitter: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::close_job(&self.program, &submitter.pubkey(), job)], submitter).await
    }

    // Node operator.

    /// Records that the node is alive.
    pub async fn heartbeat(&self, operator: &Keypair) -> Result<Sent, ChainError> {
        self.send(&[ix::heartbeat(&self.program, &operator.pubkey())], operator).await
    }

    /// Bids on an open job, releasing the leader it outbids.
    pub async fn bid(&self, operator: &Keypair, job: &Address, price: u64) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        let leader = holder(&j);
        self.send(&[ix::bid(&self.program, &operator.pubkey(), job, j.gpu_class, price, leader.as_ref())], operator)
            .await
    }

    /// Ends an auction whose bidding closed (anyone may): assigns its leader, or reopens it.
    pub async fn assign(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        self.send(&[ix::assign(&self.program, job, &Address::new_from_array(j.node), j.gpu_class)], payer).await
    }

    /// The assigned node starts the job.
    pub async fn acknowledge(&self, operator: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::acknowledge(&self.program, &operator.pubkey(), job)], operator).await
    }

    /// Replaces an assigned node silent past its start grace (anyone may).
    pub async fn reassign(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        self.send(&[ix::reassign(&self.program, job, &Address::new_from_array(j.node), j.gpu_class)], payer).await
    }

    /// Posts the result's CID and its proof commitment.
    pub async fn submit_result(
        &self,
        operator: &Keypair,
        job: &Address,
        result: Cid,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::submit_result(&self.program, &operator.pubkey(), job, result, commitment, false)], operator)
            .await
    }

    /// Reports that `job`'s task fails for everyone: `report` is the CID of the
    /// [`InvalidReport`](gpufuel_core::task::InvalidReport) and `commitment` its hash.
    pub async fn report_invalid_task(
        &self,
        operator: &Keypair,
        job: &Address,
        report: Cid,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::submit_result(&self.program, &operator.pubkey(), job, report, commitment, true)], operator)
            .await
    }

    // Committees.

    /// Draws the job's current committee, or opens the appeal round after an undecided first one
    /// (anyone may). Errs while the slot it is drawn from has not been produced yet.
    pub async fn draw_committee(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        let set = Address::new_from_array(self.market().await?.validator_set);
        let node = Address::new_from_array(j.node);
        let candidates = if j.phase == Phase::Voting as u8 { vec![] } else { self.plan(job, &j).await?.candidates };
        self.send(&[ix::draw_committee(&self.program, job, &node, &set, &candidates)], payer).await
    }

    /// The draw the program will make for the job now (its candidates and seats).
    pub async fn plan(&self, job: &Address, j: &Job) -> Result<committee::Plan, ChainError> {
        let hashes = self.chain.account(&committee::SLOT_HASHES).await?;
        let hashes = hashes.ok_or_else(|| ChainError::Account("SlotHashes sysvar".into()))?;
        let slot_hash = committee::slot_hash_after(&hashes.data, j.step_slot)?;
        let set =
            committee::validator_set(&self.chain, &Address::new_from_array(self.market().await?.validator_set)).await?;
        let validators = committee::validators_by_index(&self.chain, &self.program).await?;
        let node_owner =
            query::account::<Node, _>(&self.chain, &self.program, &Address::new_from_array(j.node)).await?.header.owner;
        Ok(committee::plan(job, j, slot_hash, &set, &validators, node_owner))
    }

    /// Commits `operator`'s vote on `seat` with a secret `salt`.
    pub async fn commit_vote(
        &self,
        operator: &Keypair,
        job: &Address,
        (seat, round): (u8, u8),
        pass: bool,
        salt: &[u8; 32],
    ) -> Result<Sent, ChainError> {
        let commitment = core_committee::vote_commitment(sha256, &job.to_bytes(), round, seat, pass, salt);
        self.send(&[ix::commit_vote(&self.program, &operator.pubkey(), job, seat, commitment)], operator).await
    }

    /// Reveals the vote committed on `seat`.
    pub async fn reveal_vote(
        &self,
        operator: &Keypair,
        job: &Address,
        seat: u8,
        pass: bool,
        salt: [u8; 32],
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::reveal_vote(&self.program, &operator.pubkey(), job, seat, pass, salt)], operator).await
    }

    /// Appeals a unanimous first committee's decision, posting the bond from `token`.
    pub async fn appeal(&self, appellant: &Keypair, job: &Address, token: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::appeal(&self.program, &appellant.pubkey(), job, token)], appellant).await
    }

    /// Settles a decided job (anyone may): pays or slashes, refunds, rewards and penalises seats.
    pub async fn settle(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let accounts = self.settle_accounts(job).await?;
        self.send(&[ix::settle(&self.program, &accounts)], payer).await
    }

    async fn settle_accounts(&self, job: &Address) -> Result<SettleAccounts, ChainError> {
        let j = self.job(job).await?;
        let node = Address::new_from_array(j.node);
        let operator =
            Address::new_from_array(query::account::<Node, _>(&self.chain, &self.program, &node).await?.header.owner);
        let submitter = Address::new_from_array(j.submitter);
        let market = self.market().await?;
        let mint = Address::new_from_array(market.mint);
        let validators = committee::validators_by_index(&self.chain, &self.program).await?;
        let submitter_token = self.token_of(&submitter, &mint).await?;
        let appellant_token = if j.appeal_bond > 0 { Address::new_from_array(j.appellant) } else { submitter_token };
        Ok(SettleAccounts {
            job: *job,
            node,
            submitter,
            gpu_class: j.gpu_class,
            node_token: self.token_of(&operator, &mint).await?,
            submitter_token,
            validator_set: Address::new_from_array(market.validator_set),
            appellant_token,
            seats: committee::seat_accounts(&j, &validators)?,
        })
    }
}

/// The node leading or running a job, if any.
fn holder(job: &Job) -> Option<Address> {
    (job.best_bid != 0).then(|| Address::new_from_array(job.node))
}
