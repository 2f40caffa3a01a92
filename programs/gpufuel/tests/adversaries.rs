//! Rational adversaries, each running the attack an earlier review found against the protocol
//! (issue 13): it is refused with a specific program error, or it costs the attacker more than it
//! gains, with exact balances asserted. The threat model in docs/DESIGN-NOTES.md names each
//! defence.
use gpufuel_chain::{
    LocalChain, PROGRAM_ID,
    ix::{self, Leaving, Role},
    local::Wallet,
    pda,
};
use gpufuel_core::{
    GpuFuelError,
    committee::account_len,
    pricing::next_reference_price,
    settlement::{self, Outcome, SeatResult},
    state::{GpuClass, JobState, MarketParams, Node, NodeSpec, Validator},
};
use gpufuel_fixtures::world::*;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

const MIN_VALIDATOR_STAKE: u64 = 500_000;

fn node(w: &World, wallet: &Wallet) -> Node {
    w.m.chain.account(&pda::node(&PROGRAM_ID, &wallet.address())).unwrap()
}

fn validator(w: &World, wallet: &Wallet) -> Validator {
    w.m.chain.account(&pda::validator(&PROGRAM_ID, &wallet.address())).unwrap()
}

fn class(w: &World) -> GpuClass {
    w.m.chain.account(&pda::gpu_class(&PROGRAM_ID, CLASS)).unwrap()
}

/// A validator's stake after settlement, from `stake`: every seat it held (in seat order, both
/// rounds) overruled or missed takes its share of what is left.
fn stake_after(w: &World, job: &Address, index: u32, mut stake: u64, outcome: Option<Outcome>) -> u64 {
    let terms = MarketParams::default().terms;
    for seat in w.m.job(job).unwrap().drawn_seats().filter(|s| s.validator == index) {
        match settlement::seat_result(stake, seat.revealed(), outcome, &terms).unwrap() {
            SeatResult::Overruled(x) | SeatResult::Missed(x) => stake -= x,
            SeatResult::Reward | SeatResult::Neither => {}
        }
    }
    stake
}

/// Whether any of `sybils` was drawn into the job's current round.
fn seated(w: &World, job: &Address, sybils: &[Wallet]) -> bool {
    let indices: Vec<u32> = sybils.iter().map(|s| validator(w, s).index).collect();
    let j = w.m.job(job).unwrap();
    j.round_seats(j.round).iter().any(|s| indices.contains(&s.validator))
}

/// Runs the first committee with `sybils` voting `sybil_vote` and the honest validators the
/// truth; when a sybil sat on it, runs the appeal committee the same way (escalated after a
/// dissent, appealed by an honest validator after a unanimous sybil decision).
fn contested_vote(w: &World, job: &Address, sybils: &[Wallet], sybil_vote: bool, truth: bool) {
    let ops: Vec<Address> = sybils.iter().map(Wallet::address).collect();
    let vote = |_: usize, op: &Address| Some(if ops.contains(op) { sybil_vote } else { truth });
    w.vote(job, vote);
    if seated(w, job, sybils) {
        w.m.chain.advance(1);
        let (pass, fail) = w.m.job(job).unwrap().tally(0);
        if pass == 0 || fail == 0 {
            // The sybils held every seat: an honest validator appeals, as its agent would.
            let v = &w.validators[0];
            w.send(ix::appeal(&PROGRAM_ID, &v.address(), job, &v.token), v).unwrap();
        } else {
            w.send(w.m.draw_ix(job).unwrap().0, &w.submitter).unwrap();
        }
        w.vote(job, vote);
    }
}

// Finding 1: anyone could form the quorum.

#[test]
fn the_old_one_transaction_capture_is_refused_and_late_validators_are_not_drawn() {
    let mut w = world();
    let job = w.submitted_job(1, 0, 500);
    // Two throwaway validators of the submitter's, with keys of their own, registered now.
    let sybils: Vec<Wallet> = (0..2).map(|_| w.m.validator(MIN_VALIDATOR_STAKE, 0).unwrap()).collect();
    let before = w.m.chain.balance(&w.submitter.token);
    // `Commit(V1, fail), Commit(V2, fail), Settle` in one transaction: no committee is drawn yet.
    let ixs = [
        w.m.commit_ix(&job, 0, &sybils[0].address(), false).unwrap(),
        w.m.commit_ix(&job, 1, &sybils[1].address(), false).unwrap(),
        ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()),
    ];
    refused(w.m.chain.send(&ixs, &[&sybils[0].keypair, &sybils[1].keypair]), GpuFuelError::WrongPhase);
    // They cannot bond in time: activation waits out the bonding period.
    let activate = ix::activate_validator(&PROGRAM_ID, &sybils[0].address(), &w.m.validator_set);
    refused(w.send(activate, &sybils[0]), GpuFuelError::NotActivated);
    // The committee is drawn from the activated stake only: they hold no seat and cannot vote.
    w.m.chain.advance(1);
    w.send(w.m.draw_ix(&job).unwrap().0, &w.submitter).unwrap();
    assert!(!seated(&w, &job, &sybils));
    for seat in 0..3 {
        let commit = w.m.commit_ix(&job, seat, &sybils[0].address(), false).unwrap();
        refused(w.send(commit, &sybils[0]), GpuFuelError::NotOnCommittee);
    }
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    w.assert_conserved();
}

#[test]
fn a_submitters_bonded_sybil_validators_lose_stake_failing_an_honest_result() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let sybils: Vec<Wallet> = (0..2).map(|_| w.m.validator(MIN_VALIDATOR_STAKE, 0).unwrap()).collect();
    w.m.activate_all().unwrap();
    // Cheap sybils hold 1 of 31 stake units; keep submitting until one is drawn.
    for id in 1..=100 {
        let job = w.submitted_job(id, 0, 500);
        let stakes: Vec<(u32, u64)> =
            sybils.iter().map(|s| (validator(&w, s).index, validator(&w, s).header.stake)).collect();
        let (node_before, sub_before) = (w.m.chain.balance(&w.nodes[0].token), w.m.chain.balance(&w.submitter.token));
        let escrow = w.m.job(&job).unwrap().escrow;
        w.m.chain.advance(1);
        let (_, plan) = w.m.draw_ix(&job).unwrap();
        let sybil_indices: Vec<u32> = stakes.iter().map(|s| s.0).collect();
        let attacked = plan.iter().any(|i| sybil_indices.contains(i));
        contested_vote(&w, &job, &sybils, false, true);
        w.settle(&job).unwrap();
        // The result stands and the node is paid in full either way.
        assert_eq!(w.m.job(&job).unwrap().state, JobState::Settled as u8);
        let p = settlement::pass_payout(escrow, 500, 100, 0, &terms).unwrap();
        assert_eq!(w.m.chain.balance(&w.nodes[0].token) - node_before, p.node);
        assert_eq!(w.m.chain.balance(&w.submitter.token) - sub_before, p.refund);
        for (s, (index, stake)) in sybils.iter().zip(&stakes) {
            assert_eq!(validator(&w, s).header.stake, stake_after(&w, &job, *index, *stake, Some(Outcome::Pass)));
        }
        w.assert_conserved();
        if attacked {
            // A failed honest job would have brought the submitter at most its payment back plus
            // half the cover: twice the value. Each wrong seat cost half a stake that is at least
            // ten times the value.
            let lost: u64 = sybils.iter().zip(&stakes).map(|(s, (_, st))| st - validator(&w, s).header.stake).sum();
            assert!(lost >= MIN_VALIDATOR_STAKE / 2, "lost {lost}");
            assert!(lost > 2 * (500 * 100));
            return;
        }
    }
    panic!("no sybil was drawn in 100 jobs");
}

#[test]
fn a_nodes_own_validators_are_never_drawn_and_its_sybils_cannot_pass_garbage() {
    let mut w = world();
    let cheat = w.nodes[0].clone();
    // Its own key as a validator: skipped by every draw.
    w.m.chain.mint_to(&cheat.token, STAKE).unwrap();
    w.m.register_validator(&cheat, STAKE).unwrap();
    let sybils: Vec<Wallet> = (0..2).map(|_| w.m.validator(MIN_VALIDATOR_STAKE, 0).unwrap()).collect();
    w.m.activate_all().unwrap();
    let own = validator(&w, &cheat).index;
    for id in 1..=100 {
        let stake_before = node(&w, &cheat).header.stake;
        let job = w.submitted_job(id, 0, 500); // garbage: the honest committee fails it
        let stakes: Vec<(u32, u64)> =
            sybils.iter().map(|s| (validator(&w, s).index, validator(&w, s).header.stake)).collect();
        w.m.chain.advance(1);
        let (_, plan) = w.m.draw_ix(&job).unwrap();
        assert!(!plan.contains(&own), "the node's own validator is drawn again, never seated");
        let attacked = plan.iter().any(|i| stakes.iter().any(|s| s.0 == *i));
        contested_vote(&w, &job, &sybils, true, false);
        w.settle(&job).unwrap();
        assert_eq!(w.m.job(&job).unwrap().state, JobState::Slashed as u8);
        assert_eq!(node(&w, &cheat).header.stake, stake_before - 2 * 500 * 100, "the cover: twice the value");
        for (s, (index, stake)) in sybils.iter().zip(&stakes) {
            assert_eq!(validator(&w, s).header.stake, stake_after(&w, &job, *index, *stake, Some(Outcome::Fail)));
        }
        w.assert_conserved();
        if attacked {
            let lost: u64 = sybils.iter().zip(&stakes).map(|(s, (_, st))| st - validator(&w, s).header.stake).sum();
            assert!(lost >= MIN_VALIDATOR_STAKE / 2, "the sybils lost {lost} besides the node's cover");
            return;
        }
    }
    panic!("no sybil was drawn in 100 jobs");
}

#[test]
fn no_votes_never_pass_the_job_is_refunded_and_silent_seats_pay() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.submitted_job(1, 0, 500);
    let node_stake = node(&w, &w.nodes[0]).header.stake;
    let stakes: Vec<(u32, u64)> =
        w.validators.iter().map(|v| (validator(&w, v).index, validator(&w, v).header.stake)).collect();
    w.vote(&job, |_, _| None);
    // The windows passed with no vote: nothing passes by default; settling is refused.
    refused(w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter), GpuFuelError::NotFinal);
    w.m.chain.advance(i64::from(terms.reveal_window_secs));
    refused(w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter), GpuFuelError::NotFinal);
    w.send(w.m.draw_ix(&job).unwrap().0, &w.submitter).unwrap();
    w.vote(&job, |_, _| None);
    let fees = class(&w).fees;
    w.settle(&job).unwrap();
    assert_eq!(w.m.job(&job).unwrap().state, JobState::Unresolved as u8);
    assert_eq!(w.m.chain.balance(&w.submitter.token), before, "the whole escrow back");
    let n = node(&w, &w.nodes[0]);
    assert_eq!((n.header.stake, n.locked, n.gpus_busy), (node_stake, 0, 0), "neither paid nor slashed");
    let mut missed = 0;
    for (v, (index, stake)) in w.validators.iter().zip(&stakes) {
        let after = stake_after(&w, &job, *index, *stake, None);
        assert_eq!(validator(&w, v).header.stake, after);
        missed += stake - after;
    }
    let seats = w.m.job(&job).unwrap().drawn_seats().count() as u64;
    assert_eq!(seats, 3 + 9, "both committees drawn in full");
    assert!(missed >= seats * STAKE * 9 / 10 * u64::from(terms.miss_vote_bps) / 10_000);
    assert_eq!(class(&w).fees - fees, missed, "missed-vote penalties go to the fee pool");
    w.assert_conserved();
}

#[test]
fn a_lazy_member_cannot_copy_votes_it_has_not_seen() {
    let mut w = world();
    let job = w.submitted_job(1, 0, 500);
    w.m.chain.advance(1);
    w.send(w.m.draw_ix(&job).unwrap().0, &w.submitter).unwrap();
    let seats = w.m.seats(&job).unwrap();
    let (seat, key) = (seats[0].0, seats[0].1.insecure_clone());
    w.m.chain.send(&[w.m.commit_ix(&job, seat, &key.pubkey(), true).unwrap()], &[&key]).unwrap();
    // On chain a committed seat shows a salted hash, not its vote: nothing to copy; and no reveal
    // opens before every seat committed or the commit window ended.
    let s = w.m.job(&job).unwrap().seats[usize::from(seat)];
    assert_eq!((s.vote, s.revealed()), (gpufuel_core::state::SeatVote::Committed as u8, None));
    refused(w.m.chain.send(&[w.m.reveal_ix(&job, seat, &key.pubkey(), true)], &[&key]), GpuFuelError::WindowClosed);
    // A member that commits late, after the window, is refused: it had its chance.
    w.m.chain.advance(30);
    let (late_seat, late) = (seats[1].0, seats[1].1.insecure_clone());
    refused(
        w.m.chain.send(&[w.m.commit_ix(&job, late_seat, &late.pubkey(), true).unwrap()], &[&late]),
        GpuFuelError::WindowClosed,
    );
}

// Finding 2: one node could block a whole class.

#[test]
fn a_griefer_leads_no_more_auctions_than_its_gpus_and_a_lapsed_lead_pays_and_reopens() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let griefer = w.m.node(NodeSpec { price_floor: 1, ..spec(1) }, STAKE, 0).unwrap();
    let a = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let b = w.m.create_job(&w.submitter, w.job_spec(2, 2_000)).unwrap();
    w.send(w.m.bid_ix(&griefer.address(), &a, 1).unwrap(), &griefer).unwrap();
    // One GPU: one lead.
    refused(w.send(w.m.bid_ix(&griefer.address(), &b, 1).unwrap(), &griefer), GpuFuelError::NoFreeGpu);
    // It cannot leave while it leads (a node re-registering elsewhere broke the class counters).
    refused(
        w.send(
            ix::request_unstake(&PROGRAM_ID, &griefer.address(), Role::Node, Leaving::Node { gpu_class: CLASS }),
            &griefer,
        ),
        GpuFuelError::StakerActive,
    );
    // It never assigns; after the grace anyone does, and the auction reopens without it.
    w.m.chain.advance(31 + i64::from(terms.assign_grace_secs));
    let escrow = w.m.job(&a).unwrap().escrow;
    w.send(w.m.assign_ix(&a).unwrap(), &w.submitter).unwrap();
    let j = w.m.job(&a).unwrap();
    let penalty = settlement::miss_penalty(100, STAKE, &terms).unwrap();
    assert_eq!((j.state, j.best_bid, j.escrow), (JobState::Open as u8, 0, escrow + penalty));
    assert_eq!(j.excluded, pda::node(&PROGRAM_ID, &griefer.address()).to_bytes());
    assert!(j.bid_close > w.m.chain.now(), "a new bidding window");
    let g = node(&w, &griefer);
    assert_eq!((g.header.stake, g.gpus_busy, g.locked, g.missed_deadlines), (STAKE - penalty, 0, 0, 1));
    refused(w.send(w.m.bid_ix(&griefer.address(), &a, 1).unwrap(), &griefer), GpuFuelError::ExcludedNode);
    // An honest node takes it; the penalty is the submitter's on settlement (part of the refund).
    w.bid(&a, 1, 600).unwrap();
    w.m.chain.advance(31);
    w.send(w.m.assign_ix(&a).unwrap(), &w.submitter).unwrap();
    assert_eq!(w.m.job(&a).unwrap().state, JobState::Assigned as u8);
    w.assert_conserved();
}

#[test]
fn a_silent_assignee_is_replaced_before_the_deadline_and_each_miss_costs_the_jobs_value() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let silent = w.nodes[0].clone();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    for round in 0..2 {
        let price = 500 + round;
        w.bid(&job, if round == 0 { 0 } else { 2 }, price).unwrap();
        w.m.chain.advance(31);
        w.send(w.m.assign_ix(&job).unwrap(), &w.submitter).unwrap();
        // No acknowledgement: replaceable only after the start grace.
        let holder = w.m.job(&job).unwrap().node;
        let reassign = ix::reassign(&PROGRAM_ID, &job, &Address::new_from_array(holder), CLASS);
        refused(w.send(reassign.clone(), &w.submitter), GpuFuelError::NodeStarted);
        w.m.chain.advance(i64::from(terms.start_grace_secs));
        w.send(reassign, &w.submitter).unwrap();
        assert_eq!(w.m.job(&job).unwrap().state, JobState::Open as u8);
    }
    // Two misses by two nodes each cost the value: a flat penalty, never a share of what is left.
    assert_eq!(node(&w, &w.nodes[2]).header.stake, STAKE - 501 * 100);
    assert_eq!(node(&w, &silent).header.stake, STAKE - 500 * 100);
    // A node that acknowledged cannot be replaced for silence.
    w.bid(&job, 1, 700).unwrap();
    w.m.chain.advance(31);
    w.send(w.m.assign_ix(&job).unwrap(), &w.submitter).unwrap();
    let n = &w.nodes[1];
    w.send(ix::acknowledge(&PROGRAM_ID, &n.address(), &job), n).unwrap();
    w.m.chain.advance(i64::from(terms.start_grace_secs));
    refused(
        w.send(ix::reassign(&PROGRAM_ID, &job, &pda::node(&PROGRAM_ID, &n.address()), CLASS), &w.submitter),
        GpuFuelError::NodeStarted,
    );
    w.assert_conserved();
}

// Finding 3: dust could pump the reference price.

#[test]
fn dust_jobs_are_refused_and_unbid_jobs_are_no_demand() {
    let mut w = world();
    let mut dust = w.job_spec(1, 1);
    dust.gpu_seconds = 1;
    refused(w.m.create_job(&w.submitter, dust).map(|_| 0), GpuFuelError::JobTooSmall);
    let price = class(&w).ref_price;
    // Impossible specs at the minimum value: escrowed, but no node can bid, so no demand.
    for id in 2..22 {
        let mut spec = w.job_spec(id, 1);
        spec.min_vram_mib = u32::MAX;
        w.m.chain.advance(31);
        w.m.create_job(&w.submitter, spec).unwrap();
    }
    let c = class(&w);
    assert_eq!((c.open_jobs, c.ref_price), (0, price));
    w.assert_conserved();
}

#[test]
fn self_bid_pumping_moves_the_price_one_bounded_step_per_window_and_captures_no_urgent_job() {
    let mut w = world();
    let pumper = w.m.node(NodeSpec { gpu_count: 16, ..spec(100) }, STAKE, 0).unwrap();
    let before = class(&w);
    // A burst of self-bid jobs within one window.
    for id in 1..=12 {
        let job = w.m.create_job(&w.submitter, w.job_spec(id, 2_000)).unwrap();
        w.send(w.m.bid_ix(&pumper.address(), &job, 2_000).unwrap(), &pumper).unwrap();
    }
    let after = class(&w);
    assert!(after.ref_price <= before.ref_price + before.ref_price / 8, "{} → {}", before.ref_price, after.ref_price);
    w.m.chain.advance(31);
    w.m.create_job(&w.submitter, w.job_spec(50, 2_000)).unwrap();
    w.send(w.m.bid_ix(&pumper.address(), &pda::job(&PROGRAM_ID, &w.submitter.address(), 50), 2_000).unwrap(), &pumper)
        .unwrap();
    let pumped = class(&w);
    assert_eq!(
        pumped.ref_price,
        next_reference_price(after.ref_price, after.min_price, pumped.open_jobs, pumped.idle_nodes)
    );
    // A victim's urgent job: the pumper bids the pumped reference; it is still an auction, and an
    // honest node's lower bid takes it.
    let mut spec = w.job_spec(99, 2_000);
    spec.urgent = true;
    let victim = w.m.create_job(&w.submitter, spec).unwrap();
    w.send(w.m.bid_ix(&pumper.address(), &victim, pumped.ref_price.min(2_000)).unwrap(), &pumper).unwrap();
    assert_eq!(w.m.job(&victim).unwrap().state, JobState::Open as u8);
    w.bid(&victim, 0, 300).unwrap();
    w.m.chain.advance(5);
    w.send(w.m.assign_ix(&victim).unwrap(), &w.submitter).unwrap();
    let j = w.m.job(&victim).unwrap();
    assert_eq!((j.best_bid, j.node), (300, pda::node(&PROGRAM_ID, &w.nodes[0].address()).to_bytes()));
    w.assert_conserved();
}

#[test]
fn overdue_demand_stops_counting_once_anyone_expires_it() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    w.bid(&job, 0, 500).unwrap();
    assert_eq!(class(&w).open_jobs, 1);
    w.m.chain.advance(3_601);
    w.send(w.m.expire_ix(&job).unwrap(), &w.nodes[1]).unwrap();
    assert_eq!(class(&w).open_jobs, 0);
    w.assert_conserved();
}

// Finding 4: the authority could freeze or confiscate.

#[test]
fn parameters_that_could_lock_or_confiscate_are_refused() {
    let w = world();
    let a = &w.m.authority;
    let d = MarketParams::default();
    let mut cases = vec![
        MarketParams { unstake_cooldown_secs: u64::MAX, ..d },
        MarketParams { bid_window_secs: i64::MAX as u64, ..d },
        MarketParams { params_timelock_secs: 0, ..d },
        MarketParams { min_job_value: 0, ..d },
    ];
    for t in [
        gpufuel_core::state::JobTerms { protocol_fee_bps: 9_999, ..d.terms },
        gpufuel_core::state::JobTerms { node_cover_bps: 0, ..d.terms },
        gpufuel_core::state::JobTerms { node_cover_bps: 60_000, ..d.terms },
        gpufuel_core::state::JobTerms { commit_window_secs: u32::MAX, ..d.terms },
        gpufuel_core::state::JobTerms { appeal_quorum: 1, ..d.terms },
        gpufuel_core::state::JobTerms { quorum: 0, ..d.terms },
    ] {
        cases.push(MarketParams { terms: t, ..d });
    }
    for params in cases {
        refused(w.send(ix::propose_params(&PROGRAM_ID, &a.address(), params), a), GpuFuelError::InvalidParams);
    }
}

#[test]
fn a_change_waits_for_the_timelock_and_never_applies_to_jobs_already_created() {
    let mut w = world();
    let a = w.m.authority.clone();
    let old = w.submitted_job(1, 0, 500);
    let terms = w.m.job(&old).unwrap().terms;
    let mut raised = MarketParams::default();
    raised.terms.protocol_fee_bps = 1_000;
    w.send(ix::propose_params(&PROGRAM_ID, &a.address(), raised), &a).unwrap();
    refused(w.send(ix::apply_params(&PROGRAM_ID), &w.submitter), GpuFuelError::Timelocked);
    w.m.chain.advance(3_600);
    w.send(ix::apply_params(&PROGRAM_ID), &w.submitter).unwrap();
    assert_eq!(w.m.market().unwrap().params.terms.protocol_fee_bps, 1_000);
    // The old job settles at the 2% it was created under.
    w.vote(&old, |_, _| Some(true));
    let fees = class(&w).fees;
    let before = w.m.chain.balance(&w.nodes[0].token);
    w.settle(&old).unwrap();
    let p = settlement::pass_payout(2_000 * 100, 500, 100, 0, &terms).unwrap();
    assert_eq!(w.m.chain.balance(&w.nodes[0].token) - before, p.node);
    assert_eq!(class(&w).fees - fees, p.protocol_fee + settlement::share(p.validators, 3).1);
    assert_eq!(p.protocol_fee, 500 * 100 * 2 / 100);
    // A new job carries the new terms.
    let new = w.m.create_job(&w.submitter, w.job_spec(2, 2_000)).unwrap();
    assert_eq!(w.m.job(&new).unwrap().terms.protocol_fee_bps, 1_000);
    w.assert_conserved();
}

#[test]
fn the_authority_moves_in_two_steps_and_only_it_withdraws_the_fee_pools() {
    let mut w = world();
    let a = w.m.authority.clone();
    let next = w.m.chain.wallet(0).unwrap();
    let stranger = w.m.chain.wallet(0).unwrap();
    w.send(ix::transfer_authority(&PROGRAM_ID, &a.address(), &next.address()), &a).unwrap();
    refused(w.send(ix::accept_authority(&PROGRAM_ID, &stranger.address()), &stranger), GpuFuelError::Unauthorized);
    // Until accepted, the old authority still rules.
    assert_eq!(w.m.market().unwrap().authority, a.address().to_bytes());
    w.send(ix::accept_authority(&PROGRAM_ID, &next.address()), &next).unwrap();
    assert_eq!(w.m.market().unwrap().authority, next.address().to_bytes());
    refused(
        w.send(ix::propose_params(&PROGRAM_ID, &a.address(), MarketParams::default()), &a),
        GpuFuelError::Unauthorized,
    );
    // Fees accrue in the class's pool, inside the vault: nobody outside can close it.
    let job = w.submitted_job(1, 0, 500);
    w.vote(&job, |_, _| Some(true));
    w.settle(&job).unwrap();
    let fees = class(&w).fees;
    assert!(fees > 0);
    refused(
        w.send(ix::withdraw_fees(&PROGRAM_ID, &stranger.address(), CLASS, &stranger.token), &stranger),
        GpuFuelError::Unauthorized,
    );
    w.send(ix::withdraw_fees(&PROGRAM_ID, &next.address(), CLASS, &next.token), &next).unwrap();
    assert_eq!((w.m.chain.balance(&next.token), class(&w).fees), (fees, 0));
    w.assert_conserved();
}

#[test]
fn init_market_is_the_upgrade_authoritys_and_a_freezable_mint_is_refused() {
    let chain = LocalChain::new().unwrap();
    let create_set = |payer: &Keypair, set: &Keypair| {
        let len = account_len(8);
        let rent = chain.svm().minimum_balance_for_rent_exemption(len);
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &set.pubkey(),
            rent,
            len as u64,
            &PROGRAM_ID,
        )
    };
    // Front-running the deployment: anyone else is refused.
    let squatter = chain.wallet(0).unwrap();
    let set = Keypair::new();
    let init = ix::init_market(&PROGRAM_ID, &squatter.address(), &chain.mint(), &set.pubkey(), MarketParams::default());
    let result = chain.send(&[create_set(&squatter.keypair, &set), init], &[&squatter.keypair, &set]);
    refused(result, GpuFuelError::NotUpgradeAuthority);
    // The upgrade authority with a mint someone can freeze: refused (frozen stakes could not leave).
    let admin = chain.admin();
    let mint = Keypair::new();
    let rent = chain.svm().minimum_balance_for_rent_exemption(82);
    let create_mint = solana_system_interface::instruction::create_account(
        &admin.pubkey(),
        &mint.pubkey(),
        rent,
        82,
        &spl_token_interface::ID,
    );
    let init_mint = spl_token_interface::instruction::initialize_mint2(
        &spl_token_interface::ID,
        &mint.pubkey(),
        &admin.pubkey(),
        Some(&admin.pubkey()),
        6,
    )
    .unwrap();
    chain.send(&[create_mint, init_mint], &[&admin, &mint]).unwrap();
    let set = Keypair::new();
    let init = ix::init_market(&PROGRAM_ID, &admin.pubkey(), &mint.pubkey(), &set.pubkey(), MarketParams::default());
    refused(chain.send(&[create_set(&admin, &set), init], &[&admin, &set]), GpuFuelError::FreezableMint);
    // The right authority and mint succeed.
    let set = Keypair::new();
    let init = ix::init_market(&PROGRAM_ID, &admin.pubkey(), &chain.mint(), &set.pubkey(), MarketParams::default());
    chain.send(&[create_set(&admin, &set), init], &[&admin, &set]).unwrap();
}

// Finding 5: the lower ones.

#[test]
fn program_accounts_are_rent_exempt_by_the_rent_sysvar() {
    let mut w = world();
    let job = w.submitted_job(1, 0, 500);
    for address in [
        job,
        pda::node(&PROGRAM_ID, &w.nodes[0].address()),
        pda::validator(&PROGRAM_ID, &w.validators[0].address()),
        pda::market(&PROGRAM_ID),
    ] {
        let account = w.m.chain.svm().get_account(&address).unwrap();
        let minimum = w.m.chain.svm().minimum_balance_for_rent_exemption(account.data.len());
        assert!(account.lamports >= minimum, "{address}: {} < {minimum}", account.lamports);
    }
}

/// Submits node 0's report that job `id`'s task fails for everyone, has every seat vote
/// `upheld`, settles, and returns the job as it was before settlement.
fn reported_invalid(w: &mut World, id: u64, upheld: bool) -> (Address, gpufuel_core::state::Job) {
    let job = w.assigned_job(id, 0, 500);
    let n = &w.nodes[0];
    w.send(ix::submit_result(&PROGRAM_ID, &n.address(), &job, gpufuel_fixtures::sample_cid(9), [7; 32], true), n)
        .unwrap();
    w.vote(&job, |_, _| Some(upheld));
    let before = w.m.job(&job).unwrap();
    w.settle(&job).unwrap();
    (job, before)
}

#[test]
fn an_upheld_invalid_task_report_refunds_less_the_check_and_a_refuted_one_slashes() {
    let terms = MarketParams::default().terms;
    let mut w = world();
    let (submitter_before, node_before) = (w.m.chain.balance(&w.submitter.token), node(&w, &w.nodes[0]));
    let rewards = |w: &World| w.validators.iter().map(|v| validator(w, v).rewards).sum::<u64>();
    let (rewards_before, fees_before) = (rewards(&w), class(&w).fees);
    let (job, j) = reported_invalid(&mut w, 1, true);
    assert_eq!(w.m.job(&job).unwrap().state, JobState::Invalid as u8);
    let (check, refund) = settlement::invalid_payout(j.escrow, 500, j.gpu_seconds, j.premium, &terms).unwrap();
    assert_eq!(refund, j.escrow - check);
    assert_eq!(w.m.chain.balance(&w.submitter.token), submitter_before - check, "the escrow back less the check");
    let n = node(&w, &w.nodes[0]);
    assert_eq!((n.header.stake, n.locked, n.gpus_busy), (node_before.header.stake, 0, 0), "neither paid nor slashed");
    assert_eq!((n.completed, n.failed_validations), (node_before.completed, 0));
    assert_eq!(rewards(&w) - rewards_before + class(&w).fees - fees_before, check, "the validators' fee, shared");
    w.assert_conserved();

    // A node claiming a working task fails: the committee runs it, refutes the claim, and the
    // node loses its cover as for a wrong result.
    let mut w = world();
    let (job, j) = reported_invalid(&mut w, 2, false);
    assert_eq!(w.m.job(&job).unwrap().state, JobState::Slashed as u8);
    let slash = settlement::slash_payout(j.cover, node_before.header.stake, &terms).unwrap();
    assert_eq!(node(&w, &w.nodes[0]).header.stake, node_before.header.stake - slash.slashed);
    assert_eq!(node(&w, &w.nodes[0]).failed_validations, 1);
    w.assert_conserved();
}
