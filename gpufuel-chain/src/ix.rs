//! Instruction builders, one per program instruction, with the account order documented on
//! [`GpuFuelInstruction`]. Addresses of PDAs are derived here; callers pass wallets and token
//! accounts.

use gpufuel_core::{
    cid::Cid,
    instruction::{GpuClassArgs, GpuFuelInstruction as Ix, JobSpec},
    state::{MarketParams, NodeSpec},
};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::{PROGRAM_ID, pda};

const TOKEN: Address = spl_token_interface::ID;
const SYSTEM: Address = solana_sdk_ids::system_program::ID;

fn writable(address: Address) -> AccountMeta {
    AccountMeta::new(address, false)
}
fn readonly(address: Address) -> AccountMeta {
    AccountMeta::new_readonly(address, false)
}
fn writable_signer(address: Address) -> AccountMeta {
    AccountMeta::new(address, true)
}
fn readonly_signer(address: Address) -> AccountMeta {
    AccountMeta::new_readonly(address, true)
}
fn build(ix: Ix, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts, data: ix.pack() }
}

/// Which staker account an instruction acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A node operator's stake.
    Node,
    /// A validator's stake.
    Validator,
    /// A job submitter's stake.
    Submitter,
}

impl Role {
    /// The staker account of `owner` in this role.
    pub fn account(self, owner: &Address) -> Address {
        match self {
            Role::Node => pda::node(owner),
            Role::Validator => pda::validator(owner),
            Role::Submitter => pda::submitter(owner),
        }
    }
}

/// [`Ix::InitMarket`]: the market and its vault; `treasury` is a token account of `mint`.
pub fn init_market(authority: &Address, mint: &Address, treasury: &Address, params: MarketParams) -> Instruction {
    build(
        Ix::InitMarket(params),
        vec![
            writable_signer(*authority),
            writable(pda::market()),
            readonly(*mint),
            writable(pda::vault()),
            readonly(*treasury),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::UpdateParams`].
pub fn update_params(authority: &Address, params: MarketParams) -> Instruction {
    build(Ix::UpdateParams(params), vec![readonly_signer(*authority), writable(pda::market())])
}

/// [`Ix::AddGpuClass`].
pub fn add_gpu_class(authority: &Address, args: GpuClassArgs) -> Instruction {
    build(
        Ix::AddGpuClass(args),
        vec![
            writable_signer(*authority),
            readonly(pda::market()),
            writable(pda::gpu_class(args.class_id)),
            readonly(SYSTEM),
        ],
    )
}

/// [`Ix::RegisterNode`], staking from `token`.
pub fn register_node(operator: &Address, token: &Address, spec: NodeSpec, stake: u64) -> Instruction {
    build(
        Ix::RegisterNode { spec, stake },
        vec![
            writable_signer(*operator),
            readonly(pda::market()),
            writable(pda::node(operator)),
            writable(pda::gpu_class(spec.gpu_class)),
            writable(*token),
            writable(pda::vault()),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::RegisterValidator`], staking from `token`.
pub fn register_validator(operator: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        Ix::RegisterValidator { stake },
        vec![
            writable_signer(*operator),
            writable(pda::market()),
            writable(pda::validator(operator)),
            writable(*token),
            writable(pda::vault()),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::RegisterSubmitter`], staking from `token`.
pub fn register_submitter(authority: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        Ix::RegisterSubmitter { stake },
        vec![
            writable_signer(*authority),
            readonly(pda::market()),
            writable(pda::submitter(authority)),
            writable(*token),
            writable(pda::vault()),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::TopUp`] of `owner`'s stake in `role`, from `token`.
pub fn top_up(owner: &Address, role: Role, token: &Address, amount: u64) -> Instruction {
    build(
        Ix::TopUp { amount },
        vec![
            readonly_signer(*owner),
            readonly(pda::market()),
            writable(role.account(owner)),
            writable(*token),
            writable(pda::vault()),
            readonly(TOKEN),
        ],
    )
}

/// `gpu_class` is required for a node (it leaves the class's supply) and ignored otherwise.
pub fn request_unstake(owner: &Address, role: Role, gpu_class: u8) -> Instruction {
    let mut accounts = vec![readonly_signer(*owner), readonly(pda::market()), writable(role.account(owner))];
    if role == Role::Node {
        accounts.push(writable(pda::gpu_class(gpu_class)));
    }
    build(Ix::RequestUnstake, accounts)
}

/// [`Ix::Withdraw`] of `owner`'s stake in `role`, to `token`.
pub fn withdraw(owner: &Address, role: Role, token: &Address) -> Instruction {
    build(
        Ix::Withdraw,
        vec![
            writable_signer(*owner),
            readonly(pda::market()),
            writable(role.account(owner)),
            writable(*token),
            writable(pda::vault()),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::Heartbeat`].
pub fn heartbeat(operator: &Address) -> Instruction {
    build(Ix::Heartbeat, vec![readonly_signer(*operator), writable(pda::node(operator))])
}

/// [`Ix::CreateJob`], escrowing from `token`.
pub fn create_job(submitter: &Address, token: &Address, spec: JobSpec) -> Instruction {
    build(
        Ix::CreateJob(spec),
        vec![
            writable_signer(*submitter),
            readonly(pda::market()),
            writable(pda::submitter(submitter)),
            writable(pda::job(submitter, spec.job_id)),
            writable(pda::gpu_class(spec.gpu_class)),
            writable(*token),
            writable(pda::vault()),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::Bid`] by `operator`'s node on `job` (of class `gpu_class`).
pub fn bid(operator: &Address, job: &Address, gpu_class: u8, price: u64) -> Instruction {
    build(
        Ix::Bid { price },
        vec![
            readonly_signer(*operator),
            readonly(pda::market()),
            writable(pda::node(operator)),
            writable(*job),
            writable(pda::gpu_class(gpu_class)),
        ],
    )
}

/// `node` is the best bidder's node account.
pub fn assign(job: &Address, node: &Address, gpu_class: u8) -> Instruction {
    build(Ix::Assign, vec![writable(*job), writable(*node), writable(pda::gpu_class(gpu_class))])
}

/// [`Ix::SubmitResult`] by `operator`'s node.
pub fn submit_result(operator: &Address, job: &Address, result_cid: Cid, commitment: [u8; 32]) -> Instruction {
    build(
        Ix::SubmitResult { result_cid, commitment },
        vec![readonly_signer(*operator), readonly(pda::node(operator)), writable(*job)],
    )
}

/// `node` is the job's assigned node account.
pub fn attest(operator: &Address, job: &Address, node: &Address, pass: bool) -> Instruction {
    build(
        Ix::Attest { pass },
        vec![
            readonly_signer(*operator),
            readonly(pda::market()),
            writable(pda::validator(operator)),
            writable(*job),
            readonly(*node),
        ],
    )
}

/// The parties of a settlement.
#[derive(Debug, Clone)]
pub struct SettleAccounts {
    /// The job.
    pub job: Address,
    /// The assigned node account.
    pub node: Address,
    /// The submitter's wallet.
    pub submitter: Address,
    /// The job's GPU class.
    pub gpu_class: u8,
    /// The node operator's token account.
    pub node_token: Address,
    /// The submitter's token account.
    pub submitter_token: Address,
    /// The market treasury.
    pub treasury: Address,
    /// For each vote in order: the validator's wallet and token account.
    pub voters: Vec<(Address, Address)>,
}

/// [`Ix::Settle`].
pub fn settle(a: &SettleAccounts) -> Instruction {
    let mut accounts = vec![
        readonly(pda::market()),
        writable(a.job),
        writable(a.node),
        writable(pda::submitter(&a.submitter)),
        writable(pda::gpu_class(a.gpu_class)),
        writable(pda::vault()),
        writable(a.node_token),
        writable(a.submitter_token),
        writable(a.treasury),
        readonly(TOKEN),
    ];
    for (operator, token) in &a.voters {
        accounts.push(writable(pda::validator(operator)));
        accounts.push(writable(*token));
    }
    build(Ix::Settle, accounts)
}

/// [`Ix::Cancel`], refunding to `token`.
pub fn cancel(submitter: &Address, job: &Address, gpu_class: u8, token: &Address) -> Instruction {
    build(
        Ix::Cancel,
        vec![
            readonly_signer(*submitter),
            readonly(pda::market()),
            writable(*job),
            writable(pda::submitter(submitter)),
            writable(pda::gpu_class(gpu_class)),
            writable(pda::vault()),
            writable(*token),
            readonly(TOKEN),
        ],
    )
}

/// `node` is the assigned node account, for a job that was assigned.
pub fn expire(
    submitter: &Address,
    job: &Address,
    gpu_class: u8,
    token: &Address,
    node: Option<&Address>,
) -> Instruction {
    let mut accounts = vec![
        readonly(pda::market()),
        writable(*job),
        writable(pda::submitter(submitter)),
        writable(pda::gpu_class(gpu_class)),
        writable(pda::vault()),
        writable(*token),
        readonly(TOKEN),
    ];
    accounts.extend(node.map(|n| writable(*n)));
    build(Ix::Expire, accounts)
}

/// [`Ix::CloseJob`].
pub fn close_job(submitter: &Address, job: &Address) -> Instruction {
    build(Ix::CloseJob, vec![writable_signer(*submitter), writable(*job)])
}
