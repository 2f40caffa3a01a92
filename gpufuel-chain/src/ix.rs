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

fn w(address: Address) -> AccountMeta {
    AccountMeta::new(address, false)
}
fn r(address: Address) -> AccountMeta {
    AccountMeta::new_readonly(address, false)
}
fn ws(address: Address) -> AccountMeta {
    AccountMeta::new(address, true)
}
fn rs(address: Address) -> AccountMeta {
    AccountMeta::new_readonly(address, true)
}
fn build(ix: Ix, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts, data: ix.pack() }
}

/// Which staker account an instruction acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Node,
    Validator,
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

pub fn init_market(authority: &Address, mint: &Address, treasury: &Address, params: MarketParams) -> Instruction {
    build(
        Ix::InitMarket(params),
        vec![ws(*authority), w(pda::market()), r(*mint), w(pda::vault()), r(*treasury), r(SYSTEM), r(TOKEN)],
    )
}

pub fn update_params(authority: &Address, params: MarketParams) -> Instruction {
    build(Ix::UpdateParams(params), vec![rs(*authority), w(pda::market())])
}

pub fn add_gpu_class(authority: &Address, args: GpuClassArgs) -> Instruction {
    build(Ix::AddGpuClass(args), vec![ws(*authority), r(pda::market()), w(pda::gpu_class(args.class_id)), r(SYSTEM)])
}

pub fn register_node(operator: &Address, token: &Address, spec: NodeSpec, stake: u64) -> Instruction {
    build(
        Ix::RegisterNode { spec, stake },
        vec![
            ws(*operator),
            r(pda::market()),
            w(pda::node(operator)),
            w(pda::gpu_class(spec.gpu_class)),
            w(*token),
            w(pda::vault()),
            r(SYSTEM),
            r(TOKEN),
        ],
    )
}

pub fn register_validator(operator: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        Ix::RegisterValidator { stake },
        vec![
            ws(*operator),
            w(pda::market()),
            w(pda::validator(operator)),
            w(*token),
            w(pda::vault()),
            r(SYSTEM),
            r(TOKEN),
        ],
    )
}

pub fn register_submitter(authority: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        Ix::RegisterSubmitter { stake },
        vec![
            ws(*authority),
            r(pda::market()),
            w(pda::submitter(authority)),
            w(*token),
            w(pda::vault()),
            r(SYSTEM),
            r(TOKEN),
        ],
    )
}

pub fn top_up(owner: &Address, role: Role, token: &Address, amount: u64) -> Instruction {
    build(
        Ix::TopUp { amount },
        vec![rs(*owner), r(pda::market()), w(role.account(owner)), w(*token), w(pda::vault()), r(TOKEN)],
    )
}

/// `gpu_class` is required for a node (it leaves the class's supply) and ignored otherwise.
pub fn request_unstake(owner: &Address, role: Role, gpu_class: u8) -> Instruction {
    let mut accounts = vec![rs(*owner), r(pda::market()), w(role.account(owner))];
    if role == Role::Node {
        accounts.push(w(pda::gpu_class(gpu_class)));
    }
    build(Ix::RequestUnstake, accounts)
}

pub fn withdraw(owner: &Address, role: Role, token: &Address) -> Instruction {
    build(
        Ix::Withdraw,
        vec![ws(*owner), r(pda::market()), w(role.account(owner)), w(*token), w(pda::vault()), r(TOKEN)],
    )
}

pub fn heartbeat(operator: &Address) -> Instruction {
    build(Ix::Heartbeat, vec![rs(*operator), w(pda::node(operator))])
}

pub fn create_job(submitter: &Address, token: &Address, spec: JobSpec) -> Instruction {
    build(
        Ix::CreateJob(spec),
        vec![
            ws(*submitter),
            r(pda::market()),
            w(pda::submitter(submitter)),
            w(pda::job(submitter, spec.job_id)),
            w(pda::gpu_class(spec.gpu_class)),
            w(*token),
            w(pda::vault()),
            r(SYSTEM),
            r(TOKEN),
        ],
    )
}

pub fn bid(operator: &Address, job: &Address, gpu_class: u8, price: u64) -> Instruction {
    build(
        Ix::Bid { price },
        vec![rs(*operator), r(pda::market()), w(pda::node(operator)), w(*job), w(pda::gpu_class(gpu_class))],
    )
}

/// `node` is the best bidder's node account.
pub fn assign(job: &Address, node: &Address, gpu_class: u8) -> Instruction {
    build(Ix::Assign, vec![w(*job), w(*node), w(pda::gpu_class(gpu_class))])
}

pub fn submit_result(operator: &Address, job: &Address, result_cid: Cid, commitment: [u8; 32]) -> Instruction {
    build(Ix::SubmitResult { result_cid, commitment }, vec![rs(*operator), r(pda::node(operator)), w(*job)])
}

/// `node` is the job's assigned node account.
pub fn attest(operator: &Address, job: &Address, node: &Address, pass: bool) -> Instruction {
    build(Ix::Attest { pass }, vec![rs(*operator), r(pda::market()), w(pda::validator(operator)), w(*job), r(*node)])
}

/// The parties of a settlement.
#[derive(Debug, Clone)]
pub struct SettleAccounts {
    pub job: Address,
    /// The assigned node account.
    pub node: Address,
    /// The submitter's wallet.
    pub submitter: Address,
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

pub fn settle(a: &SettleAccounts) -> Instruction {
    let mut accounts = vec![
        r(pda::market()),
        w(a.job),
        w(a.node),
        w(pda::submitter(&a.submitter)),
        w(pda::gpu_class(a.gpu_class)),
        w(pda::vault()),
        w(a.node_token),
        w(a.submitter_token),
        w(a.treasury),
        r(TOKEN),
    ];
    for (operator, token) in &a.voters {
        accounts.push(w(pda::validator(operator)));
        accounts.push(w(*token));
    }
    build(Ix::Settle, accounts)
}

pub fn cancel(submitter: &Address, job: &Address, gpu_class: u8, token: &Address) -> Instruction {
    build(
        Ix::Cancel,
        vec![
            rs(*submitter),
            r(pda::market()),
            w(*job),
            w(pda::submitter(submitter)),
            w(pda::gpu_class(gpu_class)),
            w(pda::vault()),
            w(*token),
            r(TOKEN),
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
        r(pda::market()),
        w(*job),
        w(pda::submitter(submitter)),
        w(pda::gpu_class(gpu_class)),
        w(pda::vault()),
        w(*token),
        r(TOKEN),
    ];
    accounts.extend(node.map(|n| w(*n)));
    build(Ix::Expire, accounts)
}

pub fn close_job(submitter: &Address, job: &Address) -> Instruction {
    build(Ix::CloseJob, vec![ws(*submitter), w(*job)])
}
