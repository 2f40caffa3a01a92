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

/// Decodes the instruction and runs its handler. Accounts are checked against `program_id`, the
/// address the runtime invoked the program at, so one binary deploys at any address.
#[inline(always)]
pub fn process_instruction(program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    let ix = Ix::unpack(data).map_err(shared::err)?;
    match ix {
        Ix::InitMarket(params) => init_market::process(program_id, accounts, &params),
        Ix::ProposeParams(params) => params::propose(program_id, accounts, &params),
        Ix::ApplyParams => params::apply(program_id, accounts),
        Ix::TransferAuthority { new_authority } => params::transfer_authority(program_id, accounts, &new_authority),
        Ix::AcceptAuthority => params::accept_authority(program_id, accounts),
        Ix::AddGpuClass(args) => add_gpu_class::process(program_id, accounts, &args),
        Ix::WithdrawFees => fees::withdraw(program_id, accounts),
        Ix::RegisterNode { spec, stake } => register::node(program_id, accounts, &(spec, stake)),
        Ix::RegisterValidator { stake } => register::validator(program_id, accounts, stake),
        Ix::RegisterSubmitter { stake } => register::submitter(program_id, accounts, stake),
        Ix::ActivateValidator => validator::activate(program_id, accounts),
        Ix::TopUp { amount } => stake::top_up(program_id, accounts, amount),
        Ix::RequestUnstake => stake::request_unstake(program_id, accounts),
        Ix::Withdraw => stake::withdraw(program_id, accounts),
        Ix::ClaimRewards => validator::claim_rewards(program_id, accounts),
        Ix::Heartbeat => heartbeat::process(program_id, accounts),
        Ix::CreateJob(spec) => create_job::process(program_id, accounts, &spec),
        Ix::Bid { price } => bid::process(program_id, accounts, price),
        Ix::Assign => assign::process(program_id, accounts),
        Ix::Acknowledge => assign::acknowledge(program_id, accounts),
        Ix::Reassign => assign::reassign(program_id, accounts),
        Ix::SubmitResult { result_cid, commitment, invalid_task } => {
            let submission =
                submit_result::Submission { result_cid: &result_cid, commitment: &commitment, invalid_task };
            submit_result::process(program_id, accounts, &submission)
        }
        Ix::DrawCommittee => draw_committee::process(program_id, accounts),
        Ix::CommitVote { seat, commitment } => vote::commit(program_id, accounts, &(seat, commitment)),
        Ix::RevealVote { seat, pass, salt } => vote::reveal(program_id, accounts, &vote::Reveal { seat, pass, salt }),
        Ix::Appeal => appeal::process(program_id, accounts),
        Ix::Settle => settle::process(program_id, accounts),
        Ix::Cancel => cancel::process(program_id, accounts),
        Ix::Expire => expire::process(program_id, accounts),
        Ix::CloseJob => close_job::process(program_id, accounts),
    }
}
