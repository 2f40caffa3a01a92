//! One module per instruction; `shared` holds the account checks and token moves they share.

mod add_gpu_class;
mod appeal;
mod assign;
mod bid;
mod cancel;
mod close_job;
mod create_job;
mod draw_committee;
mod expire;
mod fees;
mod heartbeat;
mod init_market;
mod params;
mod register;
mod settle;
pub mod shared;
mod stake;
mod submit_result;
mod validator;
mod vote;

use gpufuel_core::instruction::GpuFuelInstruction as Ix;
use pinocchio::{AccountView, Address, ProgramResult};

/// Decodes the instruction and runs its handler. Accounts are checked against the program's own
/// address ([`crate::ID`]), so `_program_id` is not needed.
#[inline(always)]
pub fn process_instruction(_program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    let ix = Ix::unpack(data).map_err(shared::err)?;
    match ix {
        Ix::InitMarket(params) => init_market::process(accounts, &params),
        Ix::ProposeParams(params) => params::propose(accounts, &params),
        Ix::ApplyParams => params::apply(accounts),
        Ix::TransferAuthority { new_authority } => params::transfer_authority(accounts, &new_authority),
        Ix::AcceptAuthority => params::accept_authority(accounts),
        Ix::AddGpuClass(args) => add_gpu_class::process(accounts, &args),
        Ix::WithdrawFees => fees::withdraw(accounts),
        Ix::RegisterNode { spec, stake } => register::node(accounts, &spec, stake),
        Ix::RegisterValidator { stake } => register::validator(accounts, stake),
        Ix::RegisterSubmitter { stake } => register::submitter(accounts, stake),
        Ix::ActivateValidator => validator::activate(accounts),
        Ix::TopUp { amount } => stake::top_up(accounts, amount),
        Ix::RequestUnstake => stake::request_unstake(accounts),
        Ix::Withdraw => stake::withdraw(accounts),
        Ix::ClaimRewards => validator::claim_rewards(accounts),
        Ix::Heartbeat => heartbeat::process(accounts),
        Ix::CreateJob(spec) => create_job::process(accounts, &spec),
        Ix::Bid { price } => bid::process(accounts, price),
        Ix::Assign => assign::process(accounts),
        Ix::Acknowledge => assign::acknowledge(accounts),
        Ix::Reassign => assign::reassign(accounts),
        Ix::SubmitResult { result_cid, commitment, invalid_task } => {
            let submission =
                submit_result::Submission { result_cid: &result_cid, commitment: &commitment, invalid_task };
            submit_result::process(accounts, &submission)
        }
        Ix::DrawCommittee => draw_committee::process(accounts),
        Ix::CommitVote { seat, commitment } => vote::commit(accounts, seat, &commitment),
        Ix::RevealVote { seat, pass, salt } => vote::reveal(accounts, &vote::Reveal { seat, pass, salt }),
        Ix::Appeal => appeal::process(accounts),
        Ix::Settle => settle::process(accounts),
        Ix::Cancel => cancel::process(accounts),
        Ix::Expire => expire::process(accounts),
        Ix::CloseJob => close_job::process(accounts),
    }
}
