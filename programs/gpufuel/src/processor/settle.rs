use gpufuel_core::{
    GpuFuelError,
    settlement::{self, Outcome},
    state::{Job, JobState, Market, Node, VOTE_FAIL, Validator},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let (
        [market_account, job, node_account, submitter, class, vault, node_token, submitter_token, treasury, token],
        voters,
    ) = take::<10>(accounts)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Submitted)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let node = load_mut::<Node>(program_id, node_account)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token };
    let (submitter, class) = parties.load(market, job)?;
    require(treasury.address().as_array() == &market.treasury, GpuFuelError::InvalidTreasury)?;
    require(treasury.is_writable(), GpuFuelError::AccountNotWritable)?;
    check_token_account(market, node_token, &node.header.owner)?;

    let now = clock()?;
    let window_end = add_secs(job.submitted_at, market.params.challenge_window_secs)?;
    let outcome =
        settlement::outcome(job.votes_pass, job.votes_fail, market.params.quorum, now.unix_timestamp >= window_end);
    let outcome = outcome.ok_or(err(GpuFuelError::NotFinal))?;

    // Amounts first, then state, then transfers: a failed transfer reverts everything.
    let (node_pay, treasury_pay, submitter_pay, per_winner) = match outcome {
        Outcome::Pass => {
            let p = settlement::pass_payout(
                job.escrow,
                job.best_bid,
                job.gpu_seconds,
                job.premium,
                job.votes_pass as u32,
                &market.params,
            )
            .map_err(err)?;
            node.completed = node.completed.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
            job.set_state(JobState::Settled);
            (p.node, p.treasury, p.refund, p.per_validator)
        }
        Outcome::Fail => {
            let s = settlement::slash_payout(node.header.stake, job.votes_fail as u32, &market.params).map_err(err)?;
            node.header.stake -= s.slashed; // slashed <= stake
            node.failed_validations = node.failed_validations.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
            job.set_state(JobState::Slashed);
            let refund = job.escrow.checked_add(s.submitter).ok_or(err(GpuFuelError::Overflow))?;
            (0, 0, refund, s.per_validator)
        }
    };
    node.header.in_flight = node.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    if node.is_idle() {
        class.idle_nodes = class.idle_nodes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    class.update_price(now.slot);
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;

    let vault = Vault { market, market_account, vault };
    pay_out(&vault, node_token, node_pay)?;
    pay_out(&vault, treasury, treasury_pay)?;
    pay_out(&vault, submitter_token, submitter_pay)?;
    pay_validators(&vault, job, voters, (outcome, per_winner))
}

/// Releases every voter's vote and pays those on the winning side. `voters` holds, for each vote
/// in order, the validator account and its operator's token account.
#[inline(always)]
fn pay_validators(
    vault: &Vault,
    job: &Job,
    voters: &mut [AccountView],
    (outcome, per_winner): (Outcome, u64),
) -> ProgramResult {
    let program_id = &crate::ID;
    let votes = job.voter_indices();
    require(voters.len() / 2 == votes.len() && voters.len().is_multiple_of(2), GpuFuelError::VoterMismatch)?;
    for (vote, pair) in votes.iter().zip(voters.chunks_exact_mut(2)) {
        let [validator, token] = pair else { return Err(err(GpuFuelError::VoterMismatch)) };
        let validator = load_mut::<Validator>(program_id, validator)?;
        require(validator.index == vote & !VOTE_FAIL, GpuFuelError::VoterMismatch)?;
        check_token_account(vault.market, token, &validator.header.owner)?;
        validator.header.in_flight = validator.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        let voted_pass = vote & VOTE_FAIL == 0;
        if voted_pass == (outcome == Outcome::Pass) {
            validator.earned = validator.earned.checked_add(per_winner).ok_or(err(GpuFuelError::Overflow))?;
            pay_out(vault, token, per_winner)?;
        } else {
            validator.overruled = validator.overruled.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        }
    }
    Ok(())
}
