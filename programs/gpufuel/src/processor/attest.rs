use gpufuel_core::{
    GpuFuelError,
    state::{Job, JobState, MAX_VOTERS, Market, Node, VOTE_FAIL, Validator},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView], pass: bool) -> ProgramResult {
    let program_id = &crate::ID;
    let ([operator, market, validator, job, node_account], _) = take::<5>(accounts)?;
    check_signer(operator)?;
    let market = load::<Market>(program_id, market)?;
    let validator = load_mut::<Validator>(program_id, validator)?;
    let owner = operator.address().as_array();
    require(owner == &validator.header.owner, GpuFuelError::Unauthorized)?;
    require(validator.header.is_active(), GpuFuelError::StakerExiting)?;
    require(validator.header.stake >= market.params.min_validator_stake, GpuFuelError::StakeTooLow)?;

    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Submitted)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let node = load::<Node>(program_id, node_account)?;
    require(owner != &node.header.owner && owner != &job.submitter, GpuFuelError::SelfValidation)?;

    let closes_at = add_secs(job.submitted_at, market.params.challenge_window_secs)?;
    let quorum = market.params.quorum;
    let votes = (job.votes_pass + job.votes_fail) as usize;
    require(
        clock()?.unix_timestamp < closes_at && job.votes_pass < quorum && job.votes_fail < quorum && votes < MAX_VOTERS,
        GpuFuelError::VotingClosed,
    )?;
    require(!job.has_voted(validator.index), GpuFuelError::AlreadyVoted)?;

    job.voters[votes] = validator.index | if pass { 0 } else { VOTE_FAIL };
    if pass {
        job.votes_pass += 1
    } else {
        job.votes_fail += 1
    }
    validator.header.in_flight = validator.header.in_flight.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    validator.votes = validator.votes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    Ok(())
}
