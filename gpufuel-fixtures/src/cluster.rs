//! A market built entirely through `Chain` and the careful sender, on any [`Cluster`]: mint,
//! token accounts, market, class, node, validator and submitter are all created by transactions.

use std::time::Duration;

use async_trait::async_trait;
use gpufuel_chain::{
    Chain, ChainError, GpuFuelClient, LocalChain, PROGRAM_ID, ix,
    send::{PriorityFee, SendOptions, send},
};
use gpufuel_core::state::{JobTerms, MarketParams, NodeSpec};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use spl_token_interface::state as token_state;

use crate::{CLASS, LAMPORTS, REF_PRICE, STAKE, Wallet, job_spec};

/// A cluster a market can be built on and wallets funded.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// The chain, through the `Chain` trait.
    fn chain(&self) -> &dyn Chain;
    /// The program's upgrade authority, the one signer that may create the market.
    fn deployer(&self) -> Keypair;
    /// Gives `address` SOL for fees.
    async fn fund(&self, address: &Address);
    /// Moves the cluster's clock forward (LiteSVM's sysvar; surfpool's time-travel cheatcode).
    async fn advance(&self, secs: i64);
}

/// The embedded chain as a cluster.
pub struct Local(pub LocalChain);

#[async_trait]
impl Cluster for Local {
    fn chain(&self) -> &dyn Chain {
        &self.0
    }
    fn deployer(&self) -> Keypair {
        self.0.admin()
    }
    async fn fund(&self, address: &Address) {
        self.0.svm().airdrop(address, LAMPORTS).expect("airdrop");
    }
    async fn advance(&self, secs: i64) {
        self.0.advance(secs);
    }
}

/// Sending options for a local cluster: fast polling, a fixed priority fee.
pub fn options() -> SendOptions {
    SendOptions { poll: Duration::from_millis(20), priority_fee: PriorityFee::Fixed(1), ..SendOptions::default() }
}

/// Creates a rent-exempt account of `len` bytes owned by the token program.
/// A market built entirely through `Chain` + `send`.
pub struct Market<'a> {
    /// Where it runs.
    pub cluster: &'a dyn Cluster,
    /// The market authority (the program's upgrade authority) and mint authority.
    pub authority: Keypair,
    /// The market's mint.
    pub mint: Address,
    /// The market's validator set account.
    pub validator_set: Address,
}

/// The cluster market's parameters: committees of one validator and no bonding period, so a
/// single registered validator decides.
pub fn params() -> MarketParams {
    let d = MarketParams::default();
    let terms = JobTerms { committee_size: 1, quorum: 1, appeal_committee_size: 1, appeal_quorum: 1, ..d.terms };
    MarketParams { validator_bonding_secs: 0, terms, ..d }
}

impl<'a> Market<'a> {
    /// Simulates, sends and confirms; returns the units consumed.
    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Result<u64, ChainError> {
        send(self.cluster.chain(), ixs, payer, signers, &options()).await.map(|s| s.units)
    }

    /// Creates the mint, the market ([`params`]) and class [`CLASS`].
    pub async fn new(cluster: &'a dyn Cluster) -> Market<'a> {
        let authority = cluster.deployer();
        cluster.fund(&authority.pubkey()).await;
        let client = GpuFuelClient::new(cluster.chain()).with_options(options());
        let mint = client.create_mint(&authority, 6).await.expect("mint");
        let mut m = Market { cluster, authority, mint, validator_set: Address::default() };
        m.validator_set = m.client().init_market(&m.authority, &m.mint, params(), 64).await.expect("market");
        let c = m.client();
        let class = gpufuel_core::instruction::GpuClassArgs { class_id: CLASS, ref_price: REF_PRICE, min_price: 10 };
        c.add_gpu_class(&m.authority, class).await.expect("class");
        m
    }

    /// A new token account of the market's mint owned by `owner`.
    pub async fn token_account(&self, owner: &Keypair) -> Address {
        self.client().create_token_account(owner, &owner.pubkey(), &self.mint).await.expect("token account")
    }

    /// A funded wallet holding `tokens`.
    pub async fn wallet(&self, tokens: u64) -> Wallet {
        let key = Keypair::new();
        self.cluster.fund(&key.pubkey()).await;
        let token = self.token_account(&key).await;
        self.client().mint_to(&self.authority, &self.mint, &token, tokens).await.expect("mint to");
        Wallet { keypair: key, token }
    }

    /// A token account's balance.
    pub async fn balance(&self, token: &Address) -> u64 {
        let account = self.cluster.chain().account(token).await.unwrap().expect("token account");
        token_state::Account::unpack(&account.data).unwrap().amount
    }

    /// The client, with [`options`].
    pub fn client(&self) -> GpuFuelClient<&dyn Chain> {
        GpuFuelClient::new(self.cluster.chain()).with_options(options())
    }

    /// A registered node with price floor `floor`.
    pub async fn node(&self, floor: u64) -> Wallet {
        let w = self.wallet(STAKE).await;
        let spec =
            NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: floor };
        self.client().register_node(&w.keypair, &w.token, spec, STAKE).await.expect("node");
        w
    }

    /// A registered, activated validator.
    pub async fn validator(&self) -> Wallet {
        let w = self.wallet(STAKE).await;
        let c = self.client();
        c.register_validator(&w.keypair, &w.token, STAKE).await.expect("validator");
        c.activate_validator(&w.keypair, &w.keypair.pubkey()).await.expect("activate");
        w
    }

    /// A registered submitter with `spare` tokens beyond its stake.
    pub async fn submitter(&self, spare: u64) -> Wallet {
        let w = self.wallet(STAKE + spare).await;
        self.client().register_submitter(&w.keypair, &w.token, STAKE).await.expect("submitter");
        w
    }

    /// The cluster's unix time.
    pub async fn now(&self) -> i64 {
        self.cluster.chain().unix_time().await.unwrap()
    }

    /// A registered submitter, the instruction creating its job 1, and its balance before.
    pub async fn job_to_create(&self) -> (Wallet, Instruction, u64) {
        let submitter = self.submitter(10_000_000).await;
        let spec = job_spec(1, CLASS, 2_000, self.now().await);
        let create = ix::create_job(&PROGRAM_ID, &submitter.keypair.pubkey(), &submitter.token, spec);
        let before = self.balance(&submitter.token).await;
        (submitter, create, before)
    }
}
