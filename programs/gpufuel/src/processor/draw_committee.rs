use core::cell::{Cell, RefCell};

use gpufuel_core::{
    GpuFuelError,
    committee::{self, Step},
    state::{Job, JobState, MAX_APPEAL_COMMITTEE, MAX_COMMITTEE, Market, Node, Phase, SeatVote, Validator},
};
use pinocchio::{AccountView, Address, ProgramResult, error::ProgramError};

use super::shared::*;

/// Draws the current round's committee (anyone may call), or, when the first committee's voting
/// ended without a unanimous decision, opens the appeal round, to be drawn by a later call from
/// a slot hash nobody knows yet.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market, job_account, node, set_account], candidates) = take::<4>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let job_key = *job_account.address().as_array();
    let job = load_mut::<Job>(program_id, job_account)?;
    require_state(job, JobState::Submitted)?;
    let now = clock()?;
    if job.phase == Phase::Voting as u8 {
        let escalate = committee::step(job, now.unix_timestamp).map_err(err)? == Step::Escalate;
        require(job.round == 0 && escalate, GpuFuelError::WrongPhase)?;
        job.round = 1;
        job.phase = Phase::Drawing as u8;
        job.step_slot = now.slot;
        return Ok(());
    }
    require(node.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let node_owner = load::<Node>(program_id, node)?.header.owner;
    let view = validator_set(program_id, market, set_account, false)?;
    let (seats, base) = match job.round {
        0 => (usize::from(job.terms.committee_size).min(MAX_COMMITTEE), 0),
        _ => (usize::from(job.terms.appeal_committee_size).min(MAX_APPEAL_COMMITTEE), MAX_COMMITTEE),
    };
    let mut drawn = [0u32; MAX_APPEAL_COMMITTEE];
    // A slot hash already gone from the sysvar (nobody drew for 512 slots) draws nobody: the
    // round ends undecided, never with a committee someone could have picked.
    let filled = match slot_hash_after(job.step_slot)? {
        None => 0,
        Some(slot_hash) => {
            job.committee_seed = committee::committee_seed(sha256, &slot_hash, &job_key, &job.commitment);
            let value = job.value().ok_or(err(GpuFuelError::Overflow))?;
            let eligible = Candidates {
                program_id,
                accounts: RefCell::new(candidates),
                next: Cell::new(0),
                failed: RefCell::new(None),
                min_stake: value,
                excluded: [node_owner, job.submitter],
            };
            let filled =
                committee::draw(sha256, &job.committee_seed, job.round, &view.set, &eligible, &mut drawn[..seats]);
            if let Some(e) = eligible.failed.take() {
                return Err(e);
            }
            filled
        }
    };
    for (i, &validator) in drawn[..filled].iter().enumerate() {
        let seat = &mut job.seats[base + i];
        seat.validator = validator;
        seat.vote = SeatVote::Drawn as u8;
    }
    if job.round == 0 {
        job.seats0 = filled as u8
    } else {
        job.seats1 = filled as u8
    }
    job.phase = Phase::Voting as u8;
    job.drawn_at = now.unix_timestamp;
    job.decided_at = 0;
    job.step_slot = now.slot;
    Ok(())
}

/// The validator accounts a draw's caller passed, one per candidate whose stake covers the job,
/// in draw order: each is checked against the candidate's index; one of the job's own parties is
/// skipped; a seated validator counts the seat as work in flight (it cannot unstake before the
/// job is settled).
struct Candidates<'a> {
    program_id: &'a Address,
    accounts: RefCell<&'a mut [AccountView]>,
    next: Cell<usize>,
    failed: RefCell<Option<ProgramError>>,
    min_stake: u64,
    excluded: [[u8; 32]; 2],
}

impl Candidates<'_> {
    fn seat(&self, index: u32) -> Result<bool, ProgramError> {
        let mut accounts = self.accounts.borrow_mut();
        let i = self.next.get();
        let account = accounts.get_mut(i).ok_or(err(GpuFuelError::NotEnoughAccounts))?;
        self.next.set(i + 1);
        let validator = load_mut::<Validator>(self.program_id, account)?;
        require(validator.index == index, GpuFuelError::VoterMismatch)?;
        if self.excluded.contains(&validator.header.owner) {
            return Ok(false);
        }
        validator.header.in_flight = validator.header.in_flight.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        Ok(true)
    }
}

impl committee::Eligible for Candidates<'_> {
    fn eligible(&self, index: u32, stake: u64) -> bool {
        if stake < self.min_stake || self.failed.borrow().is_some() {
            return false;
        }
        self.seat(index).unwrap_or_else(|e| {
            self.failed.replace(Some(e));
            false
        })
    }
}
