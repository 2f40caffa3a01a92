//! Commit–reveal voting: a member commits a hash of its vote and a secret salt, then reveals
//! them, so no member can copy a vote it has not seen; a seat revealed in neither window is a
//! missed vote.

use gpufuel_core::{
    GpuFuelError, committee,
    state::{Job, JobState, MAX_COMMITTEE, Phase, SeatVote, Validator},
};
use pinocchio::{AccountView, Address, ProgramResult, error::ProgramError};

use super::shared::*;

/// The seat of the current round `seat` names, held by the signing operator's validator.
#[inline(always)]
fn member_seat<'a>(
    program_id: &Address,
    accounts: &'a mut [AccountView],
    seat: u8,
) -> Result<(&'a mut Job, usize, [u8; 32]), ProgramError> {
    let ([operator, validator, job_account], _) = take::<3>(accounts)?;
    check_signer(operator)?;
    let validator = load::<Validator>(program_id, validator)?;
    require(operator.address().as_array() == &validator.header.owner, GpuFuelError::Unauthorized)?;
    let job_key = *job_account.address().as_array();
    let job = load_mut::<Job>(program_id, job_account)?;
    require_state(job, JobState::Submitted)?;
    require(job.phase == Phase::Voting as u8, GpuFuelError::WrongPhase)?;
    let (first, count) =
        if job.round == 0 { (0, usize::from(job.seats0)) } else { (MAX_COMMITTEE, usize::from(job.seats1)) };
    let seat = usize::from(seat);
    require((first..first + count).contains(&seat), GpuFuelError::NotOnCommittee)?;
    require(job.seats[seat].validator == validator.index, GpuFuelError::NotOnCommittee)?;
    Ok((job, seat, job_key))
}

/// `vote`: the seat and the vote's commitment (one argument: SBF calls take at most five).
#[inline(never)]
pub fn commit(program_id: &Address, accounts: &mut [AccountView], vote: &(u8, [u8; 32])) -> ProgramResult {
    let (seat, commitment) = (vote.0, &vote.1);
    let (job, seat, _) = member_seat(program_id, accounts, seat)?;
    let now = clock()?;
    require(now.unix_timestamp < job.vote_windows().map_err(err)?.0, GpuFuelError::WindowClosed)?;
    let s = &mut job.seats[seat];
    require(s.vote == SeatVote::Drawn as u8, GpuFuelError::AlreadyVoted)?;
    s.commitment = *commitment;
    s.vote = SeatVote::Committed as u8;
    job.step_slot = now.slot;
    Ok(())
}

/// A revealed vote (one argument: SBF calls take at most five).
pub struct Reveal {
    pub seat: u8,
    pub pass: bool,
    pub salt: [u8; 32],
}

#[inline(never)]
pub fn reveal(program_id: &Address, accounts: &mut [AccountView], vote: &Reveal) -> ProgramResult {
    let Reveal { seat, pass, ref salt } = *vote;
    let (job, seat, job_key) = member_seat(program_id, accounts, seat)?;
    let now = clock()?;
    let (commit_end, reveal_end) = job.vote_windows().map_err(err)?;
    // Reveals open once the commit window ends, or as soon as every seat has committed.
    let open = now.unix_timestamp >= commit_end || job.all_seats_at(SeatVote::Committed);
    require(open && now.unix_timestamp < reveal_end, GpuFuelError::WindowClosed)?;
    let round = job.round;
    let s = &mut job.seats[seat];
    require(s.vote == SeatVote::Committed as u8, GpuFuelError::AlreadyVoted)?;
    let expected = committee::vote_commitment(sha256, &job_key, round, seat as u8, pass, salt);
    require(expected == s.commitment, GpuFuelError::BadReveal)?;
    s.vote = if pass { SeatVote::Pass as u8 } else { SeatVote::Fail as u8 };
    job.step_slot = now.slot;
    if job.all_seats_at(SeatVote::Pass) {
        job.decided_at = now.unix_timestamp;
    }
    Ok(())
}
