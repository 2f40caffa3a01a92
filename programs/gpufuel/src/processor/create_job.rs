use gpufuel_core::{
    GpuFuelError,
    instruction::JobSpec,
    seeds, settlement,
    state::{GpuClass, JOB_URGENT, Job, JobState, Market, Submitter},
};
use pinocchio::{
    AccountView, Address, ProgramResult,
    cpi::{Seed, Signer},
};

use super::shared::*;

#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView], spec: &JobSpec) -> ProgramResult {
    let ([owner, market, submitter, job, class, owner_token, vault, system, token], _) = take::<9>(accounts)?;
    check_signer(owner)?;
    let market = load::<Market>(program_id, market)?;
    let submitter = load_mut::<Submitter>(program_id, submitter)?;
    let owner_key = owner.address().as_array();
    require(owner_key == &submitter.header.owner, GpuFuelError::Unauthorized)?;
    require(submitter.header.is_active(), GpuFuelError::StakerExiting)?;
    require(submitter.header.stake >= market.params.min_submitter_stake, GpuFuelError::StakeTooLow)?;
    let class = load::<GpuClass>(program_id, class)?;
    require(class.class_id == spec.gpu_class, GpuFuelError::UnknownGpuClass)?;
    require(spec.gpu_count > 0, GpuFuelError::InvalidGpuSpec)?;
    require(spec.gpu_seconds > 0 && spec.max_price > 0, GpuFuelError::ZeroAmount)?;
    spec.input_cid.validate().map_err(err)?;

    let now = clock()?;
    let window = if spec.urgent { market.params.urgent_bid_window_secs } else { market.params.bid_window_secs };
    let bid_close = add_secs(now.unix_timestamp, window)?;
    require(spec.deadline > bid_close, GpuFuelError::InvalidDeadline)?;
    let escrow = settlement::escrow(spec.max_price, spec.gpu_seconds, spec.urgent, &market.params).map_err(err)?;

    check_system_program(system)?;
    check_token_program(token)?;
    check_vault(market, vault)?;
    check_token_account(market, owner_token, owner_key)?;

    let id = spec.job_id.to_le_bytes();
    let bump = canonical_bump(program_id, job, &[seeds::JOB, owner_key, &id])?;
    let bump_seed = [bump];
    let signer_seeds = [Seed::from(seeds::JOB), Seed::from(owner_key), Seed::from(&id), Seed::from(&bump_seed)];
    let state = create_pda_account::<Job>(program_id, owner, job, &Signer::from(&signer_seeds))?;
    state.set_state(JobState::Open);
    state.bump = bump;
    state.workload = spec.workload as u8;
    state.gpu_class = spec.gpu_class;
    state.gpu_count = spec.gpu_count;
    state.min_compute_capability = spec.min_compute_capability;
    state.flags = if spec.urgent { JOB_URGENT } else { 0 };
    state.job_id = spec.job_id;
    state.deadline = spec.deadline;
    state.bid_close = bid_close;
    state.max_price = spec.max_price;
    state.escrow = escrow.total;
    state.premium = escrow.premium;
    state.gpu_seconds = spec.gpu_seconds;
    state.min_vram_mib = spec.min_vram_mib;
    state.submitter = *owner_key;
    state.input_cid = spec.input_cid;
    // The market's terms now are the job's for its whole life.
    state.terms = market.params.terms;

    submitter.header.in_flight = submitter.header.in_flight.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    submitter.jobs_created = submitter.jobs_created.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    // Demand counts the job once a node bids on it (`Bid`): a job nobody can or will run moves
    // no price.
    deposit(owner_token, vault, owner, escrow.total)
}
