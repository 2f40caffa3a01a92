use gpufuel_core::{
    GpuFuelError,
    committee::{self, Step},
    settlement::{self, Outcome, SeatResult},
    state::{Job, JobState, MAX_SEATS, Market, Node, Seat, Validator},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// Ends a decided job (anyone may call): the node is paid (pass), slashed by its cover (fail) or
/// neither (unresolved, or an upheld report that the task fails for everyone); the submitter gets the rest of its escrow; every seat's validator is
/// rewarded for voting with the outcome, slashed for voting against it, penalised for not
/// revealing; an appeal's bond returns unless the decision it appealed was upheld.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let (
        [
            market_account,
            job,
            node_account,
            submitter,
            class,
            vault,
            node_token,
            submitter_token,
            set_account,
            token,
            appellant_token,
        ],
        seat_accounts,
    ) = take::<11>(accounts)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Submitted)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let node = load_mut::<Node>(program_id, node_account)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token };
    let (submitter, class) = parties.load(program_id, market, job)?;
    check_token_account(market, node_token, &node.header.owner)?;
    let now = clock()?;
    let Step::Settle(outcome) = committee::step(job, now.unix_timestamp).map_err(err)? else {
        return Err(err(GpuFuelError::NotFinal));
    };

    // Amounts and state first, then transfers: a failed transfer reverts everything.
    release_work(node, class, job)?;
    let (node_pay, refund, mut pot, mut fees) = match outcome {
        // The committee upheld the node's report that the task fails for everyone.
        Some(Outcome::Pass) if job.reports_invalid_task() => {
            let (validators, refund) =
                settlement::invalid_payout(job.escrow, job.best_bid, job.gpu_seconds, job.premium, &job.terms)
                    .map_err(err)?;
            job.set_state(JobState::Invalid);
            (0, refund, validators, 0)
        }
        Some(Outcome::Pass) => {
            let p = settlement::pass_payout(job.escrow, job.best_bid, job.gpu_seconds, job.premium, &job.terms)
                .map_err(err)?;
            node.completed = node.completed.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
            job.set_state(JobState::Settled);
            (p.node, p.refund, p.validators, p.protocol_fee)
        }
        Some(Outcome::Fail) => {
            let s = settlement::slash_payout(job.cover, node.header.stake, &job.terms).map_err(err)?;
            node.header.stake -= s.slashed; // ≤ stake
            node.failed_validations = node.failed_validations.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
            job.set_state(JobState::Slashed);
            let refund = job.escrow.checked_add(s.submitter).ok_or(err(GpuFuelError::Overflow))?;
            (0, refund, s.validators, 0)
        }
        None => {
            job.set_state(JobState::Unresolved);
            (0, job.escrow, 0, 0)
        }
    };
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;

    let mut bond_back = 0;
    if job.appeal_bond > 0 {
        require(appellant_token.address().as_array() == &job.appellant, GpuFuelError::InvalidTokenOwner)?;
        require(appellant_token.is_writable(), GpuFuelError::AccountNotWritable)?;
        let (pass, fail) = job.tally(0);
        let appealed = settlement::first_round(pass, fail, job.terms.quorum);
        if outcome.is_some() && outcome == appealed {
            pot = pot.checked_add(job.appeal_bond).ok_or(err(GpuFuelError::Overflow))?;
        } else {
            bond_back = job.appeal_bond;
        }
    }

    let mut view = validator_set(program_id, market, set_account, true)?;
    let seats: [&[Seat]; 2] = [job.round_seats(0), job.round_seats(1)];
    let drawn = seats[0].len() + seats[1].len();
    require(seat_accounts.len() == drawn, GpuFuelError::VoterMismatch)?;
    let with_outcome = |s: &&Seat| outcome.is_some_and(|o| s.revealed().map(Outcome::of) == Some(o));
    let winners = seats.iter().flat_map(|r| r.iter()).filter(with_outcome).count() as u32;
    // Penalties first (the overruled stakes join the winners' pot), then the winners' shares.
    let mut results = [SeatResult::Neither; MAX_SEATS];
    for (i, (seat, account)) in seats.iter().flat_map(|r| r.iter()).zip(seat_accounts.iter_mut()).enumerate() {
        let v = load_mut::<Validator>(program_id, account)?;
        require(v.index == seat.validator, GpuFuelError::VoterMismatch)?;
        let result = settlement::seat_result(v.header.stake, seat.revealed(), outcome, &job.terms).map_err(err)?;
        let taken = match result {
            SeatResult::Overruled(x) => {
                v.overruled = v.overruled.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
                pot = pot.checked_add(x).ok_or(err(GpuFuelError::Overflow))?;
                x
            }
            SeatResult::Missed(x) => {
                v.missed = v.missed.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
                fees = fees.checked_add(x).ok_or(err(GpuFuelError::Overflow))?;
                x
            }
            SeatResult::Reward | SeatResult::Neither => 0,
        };
        if seat.revealed().is_some() {
            v.votes = v.votes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        }
        if taken > 0 {
            v.header.stake -= taken; // a share of the stake
            if v.activated == 1 {
                view.set.sub(v.index, taken).map_err(err)?;
            }
        }
        v.header.in_flight = v.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        results[i] = result;
    }
    let (per_winner, remainder) = settlement::share(pot, winners);
    fees = fees.checked_add(remainder).ok_or(err(GpuFuelError::Overflow))?;
    for (account, result) in seat_accounts.iter_mut().zip(&results[..drawn]) {
        if *result == SeatResult::Reward {
            let v = load_mut::<Validator>(program_id, account)?;
            v.rewards = v.rewards.checked_add(per_winner).ok_or(err(GpuFuelError::Overflow))?;
        }
    }
    view.store();
    class.fees = class.fees.checked_add(fees).ok_or(err(GpuFuelError::Overflow))?;
    class.update_price(now.unix_timestamp, market.params.bid_window_secs);

    let vault = Vault { market, market_account, vault };
    pay_out(&vault, node_token, node_pay)?;
    if bond_back > 0 {
        pay_out(&vault, appellant_token, bond_back)?;
    }
    pay_out(&vault, submitter_token, refund)
}
