//! One module per instruction; `shared` holds the account checks and token moves they share.

mod add_gpu_class;
mod assign;
mod attest;
mod bid;
mod cancel;
mod close_job;
mod create_job;
mod expire;
mod heartbeat;
mod init_market;
mod register;
mod settle;
pub mod shared;
mod stake;
mod submit_result;
mod update_params;

use borsh::BorshDeserialize;
use gpufuel_core::{GpuFuelError, instruction::GpuFuelInstruction as Ix};
use pinocchio::{AccountView, Address, ProgramResult};

/// Decodes the instruction and runs its handler. Accounts are checked against the program's own
/// address ([`crate::ID`]), so `_program_id` is not needed.
#[inline(always)]
pub fn process_instruction(_program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    let ix = Ix::try_from_slice(data).map_err(|_| shared::err(GpuFuelError::InvalidInstruction))?;
    match ix {
        Ix::InitMarket(params) => init_market::process(accounts, &params),
        Ix::UpdateParams(params) => update_params::process(accounts, &params),
        Ix::AddGpuClass(args) => add_gpu_class::process(accounts, &args),
        Ix::RegisterNode { spec, stake } => register::node(accounts, &spec, stake),
        Ix::RegisterValidator { stake } => register::validator(accounts, stake),
        Ix::RegisterSubmitter { stake } => register::submitter(accounts, stake),
        Ix::TopUp { amount } => stake::top_up(accounts, amount),
        Ix::RequestUnstake => stake::request_unstake(accounts),
        Ix::Withdraw => stake::withdraw(accounts),
        Ix::Heartbeat => heartbeat::process(accounts),
        Ix::CreateJob(spec) => create_job::process(accounts, &spec),
        Ix::Bid { price } => bid::process(accounts, price),
        Ix::Assign => assign::process(accounts),
        Ix::SubmitResult { result_cid, commitment } => submit_result::process(accounts, &result_cid, &commitment),
        Ix::Attest { pass } => attest::process(accounts, pass),
        Ix::Settle => settle::process(accounts),
        Ix::Cancel => cancel::process(accounts),
        Ix::Expire => expire::process(accounts),
        Ix::CloseJob => close_job::process(accounts),
    }
}
