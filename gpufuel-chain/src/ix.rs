//! Instruction builders for the deployment at `program` (SPL style: the first argument), one per
//! program instruction, with the account order documented on
//! [`GpuFuelInstruction`]. Addresses of PDAs are derived here; callers pass wallets, token
//! accounts, and the accounts chain state decides (a job's leader, its committee).

use gpufuel_core::{
    cid::Cid,
    instruction::{GpuClassArgs, GpuFuelInstruction as Ix, JobSpec},
    state::{MarketParams, NodeSpec},
};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::pda;

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
fn build(program: &Address, ix: Ix, accounts: Vec<AccountMeta>) -> Instruction {
    Instruction { program_id: *program, accounts, data: ix.pack() }
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
    /// The staker account of `owner` in this role, at the deployment `program`.
    pub fn account(self, program: &Address, owner: &Address) -> Address {
        match self {
            Role::Node => pda::node(program, owner),
            Role::Validator => pda::validator(program, owner),
            Role::Submitter => pda::submitter(program, owner),
        }
    }
}

/// [`Ix::InitMarket`]: the market and its vault. `authority` must be the program's upgrade
/// authority; `validator_set` a zeroed account of the program's
/// ([`gpufuel_core::committee::account_len`]).
pub fn init_market(
    program: &Address,
    authority: &Address,
    mint: &Address,
    validator_set: &Address,
    params: MarketParams,
) -> Instruction {
    build(
        program,
        Ix::InitMarket(params),
        vec![
            writable_signer(*authority),
            writable(pda::market(program)),
            readonly(*mint),
            writable(pda::vault(program)),
            writable(*validator_set),
            readonly(pda::program_data(program)),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::ProposeParams`].
pub fn propose_params(program: &Address, authority: &Address, params: MarketParams) -> Instruction {
    build(program, Ix::ProposeParams(params), vec![readonly_signer(*authority), writable(pda::market(program))])
}

/// [`Ix::ApplyParams`].
pub fn apply_params(program: &Address) -> Instruction {
    build(program, Ix::ApplyParams, vec![writable(pda::market(program))])
}

/// [`Ix::TransferAuthority`].
pub fn transfer_authority(program: &Address, authority: &Address, new_authority: &Address) -> Instruction {
    build(
        program,
        Ix::TransferAuthority { new_authority: new_authority.to_bytes() },
        vec![readonly_signer(*authority), writable(pda::market(program))],
    )
}

/// [`Ix::AcceptAuthority`].
pub fn accept_authority(program: &Address, new_authority: &Address) -> Instruction {
    build(program, Ix::AcceptAuthority, vec![readonly_signer(*new_authority), writable(pda::market(program))])
}

/// [`Ix::AddGpuClass`].
pub fn add_gpu_class(program: &Address, authority: &Address, args: GpuClassArgs) -> Instruction {
    build(
        program,
        Ix::AddGpuClass(args),
        vec![
            writable_signer(*authority),
            readonly(pda::market(program)),
            writable(pda::gpu_class(program, args.class_id)),
            readonly(SYSTEM),
        ],
    )
}

/// [`Ix::WithdrawFees`] of class `gpu_class` to `destination`.
pub fn withdraw_fees(program: &Address, authority: &Address, gpu_class: u8, destination: &Address) -> Instruction {
    build(
        program,
        Ix::WithdrawFees,
        vec![
            readonly_signer(*authority),
            readonly(pda::market(program)),
            writable(pda::gpu_class(program, gpu_class)),
            writable(pda::vault(program)),
            writable(*destination),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::RegisterNode`], staking from `token`.
pub fn register_node(
    program: &Address,
    operator: &Address,
    token: &Address,
    spec: NodeSpec,
    stake: u64,
) -> Instruction {
    build(
        program,
        Ix::RegisterNode { spec, stake },
        vec![
            writable_signer(*operator),
            readonly(pda::market(program)),
            writable(pda::node(program, operator)),
            writable(pda::gpu_class(program, spec.gpu_class)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::RegisterValidator`], staking from `token`.
pub fn register_validator(program: &Address, operator: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        program,
        Ix::RegisterValidator { stake },
        vec![
            writable_signer(*operator),
            writable(pda::market(program)),
            writable(pda::validator(program, operator)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::RegisterSubmitter`], staking from `token`.
pub fn register_submitter(program: &Address, authority: &Address, token: &Address, stake: u64) -> Instruction {
    build(
        program,
        Ix::RegisterSubmitter { stake },
        vec![
            writable_signer(*authority),
            readonly(pda::market(program)),
            writable(pda::submitter(program, authority)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::ActivateValidator`] of `operator`'s validator.
pub fn activate_validator(program: &Address, operator: &Address, validator_set: &Address) -> Instruction {
    build(
        program,
        Ix::ActivateValidator,
        vec![readonly(pda::market(program)), writable(pda::validator(program, operator)), writable(*validator_set)],
    )
}

/// [`Ix::TopUp`] of `owner`'s stake in `role`, from `token`; `validator_set` for an activated
/// validator (its weight in the draw follows).
pub fn top_up(
    program: &Address,
    owner: &Address,
    role: Role,
    token: &Address,
    amount: u64,
    validator_set: Option<&Address>,
) -> Instruction {
    let mut accounts = vec![
        readonly_signer(*owner),
        readonly(pda::market(program)),
        writable(role.account(program, owner)),
        writable(*token),
        writable(pda::vault(program)),
        readonly(TOKEN),
    ];
    accounts.extend(validator_set.map(|v| writable(*v)));
    build(program, Ix::TopUp { amount }, accounts)
}

/// What follows the staker account in [`Ix::RequestUnstake`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaving {
    /// A node leaves its class's supply.
    Node {
        /// Its GPU class.
        gpu_class: u8,
    },
    /// An activated validator's stake leaves the tree.
    Validator {
        /// The market's validator set.
        validator_set: Address,
    },
    /// A submitter, or a validator never activated: nothing else.
    Alone,
}

/// [`Ix::RequestUnstake`] of `owner`'s stake in `role`.
pub fn request_unstake(program: &Address, owner: &Address, role: Role, leaving: Leaving) -> Instruction {
    let mut accounts =
        vec![readonly_signer(*owner), readonly(pda::market(program)), writable(role.account(program, owner))];
    match leaving {
        Leaving::Node { gpu_class } => accounts.push(writable(pda::gpu_class(program, gpu_class))),
        Leaving::Validator { validator_set } => accounts.push(writable(validator_set)),
        Leaving::Alone => {}
    }
    build(program, Ix::RequestUnstake, accounts)
}

/// [`Ix::Withdraw`] of `owner`'s stake in `role`, to `token`.
pub fn withdraw(program: &Address, owner: &Address, role: Role, token: &Address) -> Instruction {
    build(
        program,
        Ix::Withdraw,
        vec![
            writable_signer(*owner),
            readonly(pda::market(program)),
            writable(role.account(program, owner)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::ClaimRewards`] of `operator`'s validator, to `token`.
pub fn claim_rewards(program: &Address, operator: &Address, token: &Address) -> Instruction {
    build(
        program,
        Ix::ClaimRewards,
        vec![
            readonly_signer(*operator),
            readonly(pda::market(program)),
            writable(pda::validator(program, operator)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::Heartbeat`].
pub fn heartbeat(program: &Address, operator: &Address) -> Instruction {
    build(program, Ix::Heartbeat, vec![readonly_signer(*operator), writable(pda::node(program, operator))])
}

/// [`Ix::CreateJob`], escrowing from `token`.
pub fn create_job(program: &Address, submitter: &Address, token: &Address, spec: JobSpec) -> Instruction {
    build(
        program,
        Ix::CreateJob(spec),
        vec![
            writable_signer(*submitter),
            readonly(pda::market(program)),
            writable(pda::submitter(program, submitter)),
            writable(pda::job(program, submitter, spec.job_id)),
            readonly(pda::gpu_class(program, spec.gpu_class)),
            writable(*token),
            writable(pda::vault(program)),
            readonly(SYSTEM),
            readonly(TOKEN),
        ],
    )
}

/// [`Ix::Bid`] by `operator`'s node on `job` (of class `gpu_class`); `leader` is the node it
/// outbids, if any.
pub fn bid(
    program: &Address,
    operator: &Address,
    job: &Address,
    gpu_class: u8,
    price: u64,
    leader: Option<&Address>,
) -> Instruction {
    let mut accounts = vec![
        readonly_signer(*operator),
        readonly(pda::market(program)),
        writable(pda::node(program, operator)),
        writable(*job),
        writable(pda::gpu_class(program, gpu_class)),
    ];
    accounts.extend(leader.map(|l| writable(*l)));
    build(program, Ix::Bid { price }, accounts)
}

/// [`Ix::Assign`]; `node` is the best bidder's node account.
pub fn assign(program: &Address, job: &Address, node: &Address, gpu_class: u8) -> Instruction {
    build(
        program,
        Ix::Assign,
        vec![
            readonly(pda::market(program)),
            writable(*job),
            writable(*node),
            writable(pda::gpu_class(program, gpu_class)),
        ],
    )
}

/// [`Ix::Acknowledge`] by `operator`'s node.
pub fn acknowledge(program: &Address, operator: &Address, job: &Address) -> Instruction {
    build(
        program,
        Ix::Acknowledge,
        vec![readonly_signer(*operator), readonly(pda::node(program, operator)), writable(*job)],
    )
}

/// [`Ix::Reassign`]; `node` is the assigned node account.
pub fn reassign(program: &Address, job: &Address, node: &Address, gpu_class: u8) -> Instruction {
    build(
        program,
        Ix::Reassign,
        vec![
            readonly(pda::market(program)),
            writable(*job),
            writable(*node),
            writable(pda::gpu_class(program, gpu_class)),
        ],
    )
}

/// [`Ix::SubmitResult`] by `operator`'s node (`invalid_task`: a report that the task fails for
/// everyone).
pub fn submit_result(
    program: &Address,
    operator: &Address,
    job: &Address,
    result_cid: Cid,
    commitment: [u8; 32],
    invalid_task: bool,
) -> Instruction {
    build(
        program,
        Ix::SubmitResult { result_cid, commitment, invalid_task },
        vec![readonly_signer(*operator), readonly(pda::node(program, operator)), writable(*job)],
    )
}

/// [`Ix::DrawCommittee`]: `candidates` are the validator accounts of the draw, in order
/// ([`crate::committee::plan`] computes them; none when it opens the appeal round).
pub fn draw_committee(
    program: &Address,
    job: &Address,
    node: &Address,
    validator_set: &Address,
    candidates: &[Address],
) -> Instruction {
    let mut accounts = vec![readonly(pda::market(program)), writable(*job), readonly(*node), readonly(*validator_set)];
    accounts.extend(candidates.iter().map(|c| writable(*c)));
    build(program, Ix::DrawCommittee, accounts)
}

/// [`Ix::CommitVote`] by `operator`'s validator for `seat`.
pub fn commit_vote(
    program: &Address,
    operator: &Address,
    job: &Address,
    seat: u8,
    commitment: [u8; 32],
) -> Instruction {
    build(
        program,
        Ix::CommitVote { seat, commitment },
        vec![readonly_signer(*operator), readonly(pda::validator(program, operator)), writable(*job)],
    )
}

/// [`Ix::RevealVote`] by `operator`'s validator for `seat`.
pub fn reveal_vote(
    program: &Address,
    operator: &Address,
    job: &Address,
    seat: u8,
    pass: bool,
    salt: [u8; 32],
) -> Instruction {
    build(
        program,
        Ix::RevealVote { seat, pass, salt },
        vec![readonly_signer(*operator), readonly(pda::validator(program, operator)), writable(*job)],
    )
}

/// [`Ix::Appeal`] by `appellant`, posting the bond from `token`.
pub fn appeal(program: &Address, appellant: &Address, job: &Address, token: &Address) -> Instruction {
    build(
        program,
        Ix::Appeal,
        vec![
            readonly_signer(*appellant),
            readonly(pda::market(program)),
            writable(*job),
            writable(*token),
            writable(pda::vault(program)),
            readonly(TOKEN),
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
    /// The market's validator set.
    pub validator_set: Address,
    /// The appellant's token account (the job's `appellant`), or any token account of the mint
    /// when nobody appealed.
    pub appellant_token: Address,
    /// Every drawn seat's validator account, in seat order.
    pub seats: Vec<Address>,
}

/// [`Ix::Settle`].
pub fn settle(program: &Address, a: &SettleAccounts) -> Instruction {
    let mut accounts = vec![
        readonly(pda::market(program)),
        writable(a.job),
        writable(a.node),
        writable(pda::submitter(program, &a.submitter)),
        writable(pda::gpu_class(program, a.gpu_class)),
        writable(pda::vault(program)),
        writable(a.node_token),
        writable(a.submitter_token),
        writable(a.validator_set),
        readonly(TOKEN),
        writable(a.appellant_token),
    ];
    accounts.extend(a.seats.iter().map(|s| writable(*s)));
    build(program, Ix::Settle, accounts)
}

/// [`Ix::Cancel`], refunding to `token`; `leader` is the leading node, if the job has a bid.
pub fn cancel(
    program: &Address,
    submitter: &Address,
    job: &Address,
    gpu_class: u8,
    token: &Address,
    leader: Option<&Address>,
) -> Instruction {
    let mut accounts = vec![
        readonly_signer(*submitter),
        readonly(pda::market(program)),
        writable(*job),
        writable(pda::submitter(program, submitter)),
        writable(pda::gpu_class(program, gpu_class)),
        writable(pda::vault(program)),
        writable(*token),
        readonly(TOKEN),
    ];
    accounts.extend(leader.map(|l| writable(*l)));
    build(program, Ix::Cancel, accounts)
}

/// [`Ix::Expire`]; `node` is the assigned or leading node account, if the job has one.
pub fn expire(
    program: &Address,
    submitter: &Address,
    job: &Address,
    gpu_class: u8,
    token: &Address,
    node: Option<&Address>,
) -> Instruction {
    let mut accounts = vec![
        readonly(pda::market(program)),
        writable(*job),
        writable(pda::submitter(program, submitter)),
        writable(pda::gpu_class(program, gpu_class)),
        writable(pda::vault(program)),
        writable(*token),
        readonly(TOKEN),
    ];
    accounts.extend(node.map(|n| writable(*n)));
    build(program, Ix::Expire, accounts)
}

/// [`Ix::CloseJob`].
pub fn close_job(program: &Address, submitter: &Address, job: &Address) -> Instruction {
    build(program, Ix::CloseJob, vec![writable_signer(*submitter), writable(*job)])
}
