//! [`GpuFuelClient`]: every GPUFuel instruction for each role, with typed arguments and results,
//! over any [`Chain`]. Accounts a caller cannot be expected to know (PDAs, the assigned node,
//! the treasury, the voters and their token accounts) are derived from chain state.

use gpufuel_core::{
    cid::Cid,
    instruction::{GpuClassArgs, JobSpec},
    matching::{MatchingEngine, NodeOffer, OpenJob},
    quote::{self as quoting, Quote, QuoteRequest, Windows},
    state::{GpuClass, Job, JobState, Market, MarketParams, Node, NodeSpec, VOTE_FAIL},
};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    Chain, ChainError,
    ix::{self, Role, SettleAccounts},
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
    options: SendOptions,
}

impl<C: Chain> GpuFuelClient<C> {
    /// A client sending with [`SendOptions::default`].
    pub fn new(chain: C) -> Self {
        Self { chain, options: SendOptions::default() }
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

    // Reads.

    /// The market: authority, mint, vault, treasury, parameters.
    pub async fn market(&self) -> Result<Market, ChainError> {
        query::account(&self.chain, &pda::market()).await
    }

    /// A GPU class with its reference price.
    pub async fn gpu_class(&self, class_id: u8) -> Result<GpuClass, ChainError> {
        query::account(&self.chain, &pda::gpu_class(class_id)).await
    }

    /// Reference prices of every class, `(class id, base units per GPU-second)`.
    pub async fn prices(&self) -> Result<Vec<(u8, u64)>, ChainError> {
        let mut prices: Vec<_> =
            query::gpu_classes(&self.chain).await?.into_iter().map(|(_, c)| (c.class_id, c.ref_price)).collect();
        prices.sort_unstable();
        Ok(prices)
    }

    /// A quote for a job from the market now: the class's reference price and its open jobs and
    /// active nodes (a node's GPUs are busy with the jobs it runs or leads the bidding on).
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
        for (address, node) in query::nodes(&self.chain, Some(class_id)).await? {
            let busy = jobs.iter().filter(|(_, j)| j.node == address.to_bytes()).count();
            if let Some(offer) = NodeOffer::from_account(address.to_bytes(), &node, busy.min(255) as u8) {
                engine.upsert_node(offer);
            }
        }
        Ok(quoting::quote(&engine, &class, windows, request)?)
    }

    /// A job.
    pub async fn job(&self, job: &Address) -> Result<Job, ChainError> {
        query::job(&self.chain, job).await
    }

    /// Jobs matching every filter.
    pub async fn jobs(&self, filters: &[JobFilter]) -> Result<Vec<(Address, Job)>, ChainError> {
        query::jobs(&self.chain, filters).await
    }

    /// The node of an operator.
    pub async fn node(&self, operator: &Address) -> Result<Node, ChainError> {
        query::account(&self.chain, &pda::node(operator)).await
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

    // Admin.

    /// Creates the market (once per deployment); `treasury` is a token account of `mint`.
    pub async fn init_market(
        &self,
        authority: &Keypair,
        mint: &Address,
        treasury: &Address,
        params: MarketParams,
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::init_market(&authority.pubkey(), mint, treasury, params)], authority).await
    }

    /// Replaces the market parameters.
    pub async fn update_params(&self, authority: &Keypair, params: MarketParams) -> Result<Sent, ChainError> {
        self.send(&[ix::update_params(&authority.pubkey(), params)], authority).await
    }

    /// Adds a GPU class.
    pub async fn add_gpu_class(&self, authority: &Keypair, args: GpuClassArgs) -> Result<Sent, ChainError> {
        self.send(&[ix::add_gpu_class(&authority.pubkey(), args)], authority).await
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
        self.send(&[ix::register_node(&operator.pubkey(), token, spec, stake)], operator).await
    }

    /// Registers a validator.
    pub async fn register_validator(
        &self,
        operator: &Keypair,
        token: &Address,
        stake: u64,
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::register_validator(&operator.pubkey(), token, stake)], operator).await
    }

    /// Registers a job submitter.
    pub async fn register_submitter(&self, owner: &Keypair, token: &Address, stake: u64) -> Result<Sent, ChainError> {
        self.send(&[ix::register_submitter(&owner.pubkey(), token, stake)], owner).await
    }

    /// Adds to a stake.
    pub async fn top_up(&self, owner: &Keypair, role: Role, token: &Address, amount: u64) -> Result<Sent, ChainError> {
        self.send(&[ix::top_up(&owner.pubkey(), role, token, amount)], owner).await
    }

    /// Starts the unstake cooldown (refused while the staker has active work).
    pub async fn request_unstake(&self, owner: &Keypair, role: Role) -> Result<Sent, ChainError> {
        let class = match role {
            Role::Node => self.node(&owner.pubkey()).await?.gpu_class,
            _ => 0,
        };
        self.send(&[ix::request_unstake(&owner.pubkey(), role, class)], owner).await
    }

    /// After the cooldown, returns the stake to `token` and closes the staker account.
    pub async fn withdraw(&self, owner: &Keypair, role: Role, token: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::withdraw(&owner.pubkey(), role, token)], owner).await
    }

    // Submitter.

    /// Creates a job, escrowing from `token`; returns its address.
    pub async fn create_job(&self, submitter: &Keypair, token: &Address, spec: JobSpec) -> Result<Address, ChainError> {
        self.send(&[ix::create_job(&submitter.pubkey(), token, spec)], submitter).await?;
        Ok(pda::job(&submitter.pubkey(), spec.job_id))
    }

    /// Cancels an open job; the escrow returns to `token`.
    pub async fn cancel(&self, submitter: &Keypair, job: &Address, token: &Address) -> Result<Sent, ChainError> {
        let class = self.job(job).await?.gpu_class;
        self.send(&[ix::cancel(&submitter.pubkey(), job, class, token)], submitter).await
    }

    /// Expires a job past its deadline (anyone may): refund plus, if it was assigned, the node's
    /// penalty to the submitter.
    pub async fn expire(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        let submitter = Address::new_from_array(j.submitter);
        let mint = Address::new_from_array(self.market().await?.mint);
        let token = self.token_of(&submitter, &mint).await?;
        let node = Address::new_from_array(j.node);
        let assigned = j.state == JobState::Assigned as u8;
        self.send(&[ix::expire(&submitter, job, j.gpu_class, &token, assigned.then_some(&node))], payer).await
    }

    /// Closes a finished job account, returning its rent to the submitter.
    pub async fn close_job(&self, submitter: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        self.send(&[ix::close_job(&submitter.pubkey(), job)], submitter).await
    }

    // Node operator.

    /// Records that the node is alive.
    pub async fn heartbeat(&self, operator: &Keypair) -> Result<Sent, ChainError> {
        self.send(&[ix::heartbeat(&operator.pubkey())], operator).await
    }

    /// Bids on an open job (an urgent job is assigned at once at or under the reference price).
    pub async fn bid(&self, operator: &Keypair, job: &Address, price: u64) -> Result<Sent, ChainError> {
        let class = self.job(job).await?.gpu_class;
        self.send(&[ix::bid(&operator.pubkey(), job, class, price)], operator).await
    }

    /// Assigns a job to its best bidder once bidding has closed (anyone may).
    pub async fn assign(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let j = self.job(job).await?;
        self.send(&[ix::assign(job, &Address::new_from_array(j.node), j.gpu_class)], payer).await
    }

    /// Posts the result's CID and its proof commitment.
    pub async fn submit_result(
        &self,
        operator: &Keypair,
        job: &Address,
        result: Cid,
        commitment: [u8; 32],
    ) -> Result<Sent, ChainError> {
        self.send(&[ix::submit_result(&operator.pubkey(), job, result, commitment)], operator).await
    }

    // Validator.

    /// Votes on a submitted result.
    pub async fn attest(&self, validator: &Keypair, job: &Address, pass: bool) -> Result<Sent, ChainError> {
        let node = Address::new_from_array(self.job(job).await?.node);
        self.send(&[ix::attest(&validator.pubkey(), job, &node, pass)], validator).await
    }

    /// Settles a decided job (anyone may): pays or slashes, refunds, pays the voters.
    pub async fn settle(&self, payer: &Keypair, job: &Address) -> Result<Sent, ChainError> {
        let accounts = self.settle_accounts(job).await?;
        self.send(&[ix::settle(&accounts)], payer).await
    }

    async fn settle_accounts(&self, job: &Address) -> Result<SettleAccounts, ChainError> {
        let j = self.job(job).await?;
        let node = Address::new_from_array(j.node);
        let operator = Address::new_from_array(query::account::<Node, _>(&self.chain, &node).await?.header.owner);
        let submitter = Address::new_from_array(j.submitter);
        let market = self.market().await?;
        let mint = Address::new_from_array(market.mint);
        let mut voters = vec![];
        for v in j.voter_indices() {
            let found = query::validators(&self.chain, Some(v & !VOTE_FAIL)).await?;
            let (_, validator) = found.first().ok_or_else(|| ChainError::Account(format!("validator {v}")))?;
            let owner = Address::new_from_array(validator.header.owner);
            voters.push((owner, self.token_of(&owner, &mint).await?));
        }
        Ok(SettleAccounts {
            job: *job,
            node,
            submitter,
            gpu_class: j.gpu_class,
            node_token: self.token_of(&operator, &mint).await?,
            submitter_token: self.token_of(&submitter, &mint).await?,
            treasury: Address::new_from_array(market.treasury),
            voters,
        })
    }
}
