//! The job lifecycle on the real SBF program and SPL Token, with every balance asserted: auctions,
//! assignment, committees (draw, commit, reveal, appeal window), settlement, expiry, unstaking.
use gpufuel_chain::{
    PROGRAM_ID,
    ix::{self, Leaving, Role},
    pda,
};
use gpufuel_core::{
    GpuFuelError,
    settlement::{self, Outcome, SeatResult},
    state::{GpuClass, JobState, MarketParams, Node, NodeSpec, Phase, Submitter, Validator},
};
use gpufuel_fixtures::world::*;
use solana_address::Address;

fn state(w: &World, job: &Address) -> u8 {
    w.m.job(job).unwrap().state
}

fn validator(w: &World, i: usize) -> Validator {
    w.m.chain.account(&pda::validator(&PROGRAM_ID, &w.validators[i].address())).unwrap()
}

fn class(w: &World) -> GpuClass {
    w.m.chain.account(&pda::gpu_class(&PROGRAM_ID, CLASS)).unwrap()
}

/// How many seats of the job (both rounds) validator `i` holds.
fn seats_of(w: &World, job: &Address, i: usize) -> u64 {
    let index = validator(w, i).index;
    w.m.job(job).unwrap().drawn_seats().filter(|s| s.validator == index).count() as u64
}

#[test]
fn happy_path_pays_the_node_the_committee_and_the_fee_pool_and_refunds_the_rest() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let sub_before = w.m.chain.balance(&w.submitter.token);
    let vault_before = w.m.vault_balance();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let escrow = 2_000 * 100;
    assert_eq!(w.m.chain.balance(&w.submitter.token), sub_before - escrow);
    assert_eq!(w.m.vault_balance(), vault_before + escrow);
    w.assert_conserved();

    for (i, price) in [(0, 900), (1, 700), (2, 600)] {
        w.bid(&job, i, price).unwrap();
        assert_eq!(w.m.vault_balance(), vault_before + escrow, "bids move no tokens");
    }
    let leader: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[2].address())).unwrap();
    let outbid: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[0].address())).unwrap();
    assert_eq!((leader.gpus_busy, leader.locked), (1, 2 * 60_000), "the leader holds a GPU and its cover");
    assert_eq!((outbid.gpus_busy, outbid.locked), (0, 0), "an outbid node gets them back");
    refused(w.send(w.m.assign_ix(&job).unwrap(), &w.nodes[0]), GpuFuelError::BiddingOpen);
    w.m.chain.advance(31);
    w.send(w.m.assign_ix(&job).unwrap(), &w.nodes[0]).unwrap();
    let j = w.m.job(&job).unwrap();
    assert_eq!(
        (j.state, j.best_bid, j.node, j.cover),
        (JobState::Assigned as u8, 600, pda::node(&PROGRAM_ID, &w.nodes[2].address()).to_bytes(), 120_000)
    );
    assert_ne!(j.seed, [0; 32], "assignment fixes the watermark seed");

    let n = &w.nodes[2];
    w.send(ix::acknowledge(&PROGRAM_ID, &n.address(), &job), n).unwrap();
    w.send(ix::submit_result(&PROGRAM_ID, &n.address(), &job, gpufuel_fixtures::sample_cid(3), [5; 32], false), n)
        .unwrap();
    assert_eq!(w.m.job(&job).unwrap().phase, Phase::Drawing as u8);
    refused(w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter), GpuFuelError::NotFinal);
    w.vote(&job, |_, _| Some(true));
    // Unanimous, but appealable for the appeal window.
    refused(w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter), GpuFuelError::NotFinal);

    let node_before = w.m.chain.balance(&w.nodes[2].token);
    let sub_before = w.m.chain.balance(&w.submitter.token);
    let fees_before = class(&w).fees;
    let rewards_before: Vec<u64> = (0..3).map(|i| validator(&w, i).rewards).collect();
    w.settle(&job).unwrap();
    let p = settlement::pass_payout(escrow, 600, 100, 0, &terms).unwrap();
    let (per_seat, remainder) = settlement::share(p.validators, 3);
    assert_eq!((p.node, p.protocol_fee, p.validators, p.refund), (57_000, 1_200, 1_800, 140_000));
    assert_eq!(w.m.chain.balance(&w.nodes[2].token) - node_before, p.node);
    assert_eq!(w.m.chain.balance(&w.submitter.token) - sub_before, p.refund);
    assert_eq!(class(&w).fees - fees_before, p.protocol_fee + remainder);
    for (i, before) in rewards_before.iter().enumerate() {
        assert_eq!(validator(&w, i).rewards - before, per_seat * seats_of(&w, &job, i), "validator {i}");
    }
    assert_eq!(state(&w, &job), JobState::Settled as u8);
    let node: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[2].address())).unwrap();
    assert_eq!((node.completed, node.gpus_busy, node.locked, node.header.in_flight), (1, 0, 0, 0));
    w.assert_conserved();

    // A seated validator claims its rewards in tokens.
    let (i, v) = (0..3).map(|i| (i, validator(&w, i))).find(|(_, v)| v.rewards > 0).unwrap();
    let before = w.m.chain.balance(&w.validators[i].token);
    let op = &w.validators[i];
    w.send(ix::claim_rewards(&PROGRAM_ID, &op.address(), &op.token), op).unwrap();
    assert_eq!(w.m.chain.balance(&w.validators[i].token) - before, v.rewards);
    assert_eq!(validator(&w, i).rewards, 0);
    w.assert_conserved();

    // Settled once only; then the submitter reclaims the job's rent.
    refused(
        w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter),
        GpuFuelError::InvalidJobState,
    );
    w.send(ix::close_job(&PROGRAM_ID, &w.submitter.address(), &job), &w.submitter).unwrap();
    assert!(w.m.chain.data(&job).is_none_or(|d| d.is_empty()));
}

#[test]
fn cancel_before_assignment_refunds_everything_and_frees_the_leader() {
    let mut w = world();
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    w.bid(&job, 0, 500).unwrap();
    w.send(w.m.cancel_ix(&w.submitter, &job).unwrap(), &w.submitter).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    assert_eq!(state(&w, &job), JobState::Cancelled as u8);
    let node: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[0].address())).unwrap();
    assert_eq!((node.gpus_busy, node.locked), (0, 0));
    assert_eq!(class(&w).open_jobs, 0);
    w.assert_conserved();
    // Not after assignment.
    let job = w.assigned_job(2, 0, 500);
    refused(w.send(w.m.cancel_ix(&w.submitter, &job).unwrap(), &w.submitter), GpuFuelError::InvalidJobState);
}

#[test]
fn expiry_refunds_and_penalises_the_assigned_node_by_the_jobs_value() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.assigned_job(1, 1, 500);
    refused(w.send(w.m.expire_ix(&job).unwrap(), &w.nodes[0]), GpuFuelError::DeadlineNotReached);
    w.m.chain.advance(3_600);
    w.send(w.m.expire_ix(&job).unwrap(), &w.nodes[0]).unwrap();
    let penalty = settlement::miss_penalty(500 * 100, STAKE, &terms).unwrap();
    assert_eq!(penalty, 50_000, "the job's value, not a share of the stake");
    assert_eq!(w.m.chain.balance(&w.submitter.token), before + penalty);
    let node: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[1].address())).unwrap();
    assert_eq!((node.header.stake, node.missed_deadlines, node.gpus_busy), (STAKE - penalty, 1, 0));
    assert_eq!(state(&w, &job), JobState::Expired as u8);
    w.assert_conserved();

    // An open job without bids expires with a plain refund.
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.m.create_job(&w.submitter, w.job_spec(2, 2_000)).unwrap();
    w.m.chain.advance(3_601);
    w.send(w.m.expire_ix(&job).unwrap(), &w.nodes[0]).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    w.assert_conserved();
}

#[test]
fn a_unanimous_fail_slashes_the_nodes_cover_and_refunds_the_submitter() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.submitted_job(1, 0, 500);
    w.vote(&job, |_, _| Some(false));
    let rewards_before: Vec<u64> = (0..3).map(|i| validator(&w, i).rewards).collect();
    let fees_before = class(&w).fees;
    w.settle(&job).unwrap();
    let s = settlement::slash_payout(2 * 50_000, STAKE, &terms).unwrap();
    assert_eq!((s.slashed, s.submitter, s.validators), (100_000, 50_000, 50_000), "twice the value, split");
    assert_eq!(w.m.chain.balance(&w.submitter.token), before + s.submitter);
    let (per_seat, remainder) = settlement::share(s.validators, 3);
    for (i, before) in rewards_before.iter().enumerate() {
        assert_eq!(validator(&w, i).rewards - before, per_seat * seats_of(&w, &job, i));
    }
    assert_eq!(class(&w).fees - fees_before, remainder);
    let node: Node = w.m.chain.account(&pda::node(&PROGRAM_ID, &w.nodes[0].address())).unwrap();
    assert_eq!((node.header.stake, node.failed_validations), (STAKE - s.slashed, 1));
    assert_eq!(state(&w, &job), JobState::Slashed as u8);
    w.assert_conserved();
}

#[test]
fn a_dissent_goes_to_the_appeal_committee_whose_majority_decides_and_overrules_the_dissenter() {
    let mut w = world();
    let terms = MarketParams::default().terms;
    let job = w.submitted_job(1, 0, 500);
    // Round 0: the first seat passes the result, the others fail it.
    w.vote(&job, |seat, _| Some(seat == 0));
    let dissenter = w.m.job(&job).unwrap().seats[0].validator;
    refused(w.send(ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap()), &w.submitter), GpuFuelError::NotFinal);
    // Escalation opens round 1, drawn by a later call; everyone fails it there.
    w.m.chain.advance(1);
    w.send(w.m.draw_ix(&job).unwrap().0, &w.submitter).unwrap();
    let j = w.m.job(&job).unwrap();
    assert_eq!((j.round, j.phase), (1, Phase::Drawing as u8));
    w.vote(&job, |_, _| Some(false));
    let j = w.m.job(&job).unwrap();
    assert_eq!((j.round, j.seats1), (1, 9));
    let stakes: Vec<(u32, u64)> = (0..3).map(|i| validator(&w, i)).map(|v| (v.index, v.header.stake)).collect();
    w.settle(&job).unwrap();
    assert_eq!(state(&w, &job), JobState::Slashed as u8);
    let j = w.m.job(&job).unwrap();
    // Every round-0 seat voted, so only the dissent costs: half the stake once per dissenting seat
    // (stakes compound per seat).
    for (i, (index, stake)) in stakes.into_iter().enumerate() {
        let dissents = j.round_seats(0).iter().filter(|s| s.validator == index && s.revealed() == Some(true)).count();
        let mut expected = stake;
        for _ in 0..dissents {
            let SeatResult::Overruled(x) =
                settlement::seat_result(expected, Some(true), Some(Outcome::Fail), &terms).unwrap()
            else {
                panic!("overruled")
            };
            expected -= x;
        }
        assert_eq!(validator(&w, i).header.stake, expected, "validator {i}");
        if index == dissenter {
            assert!(expected < stake, "the dissenter lost stake");
            assert!(validator(&w, i).overruled >= 1);
        }
    }
    w.assert_conserved();
}

#[test]
fn unstaking_is_refused_while_active_and_waits_for_the_cooldown() {
    let mut w = world();
    let job = w.assigned_job(1, 0, 500);
    let n = &w.nodes[0];
    refused(
        w.send(ix::request_unstake(&PROGRAM_ID, &n.address(), Role::Node, Leaving::Node { gpu_class: CLASS }), n),
        GpuFuelError::StakerActive,
    );
    refused(
        w.send(ix::request_unstake(&PROGRAM_ID, &w.submitter.address(), Role::Submitter, Leaving::Alone), &w.submitter),
        GpuFuelError::StakerActive,
    );
    w.m.chain.advance(3_600);
    w.send(w.m.expire_ix(&job).unwrap(), &w.nodes[1]).unwrap();

    let s = &w.submitter;
    w.send(ix::request_unstake(&PROGRAM_ID, &s.address(), Role::Submitter, Leaving::Alone), s).unwrap();
    refused(
        w.send(ix::withdraw(&PROGRAM_ID, &s.address(), Role::Submitter, &s.token), s),
        GpuFuelError::CooldownActive,
    );
    refused(w.m.create_job(&w.submitter, w.job_spec(9, 2_000)).map(|_| 0), GpuFuelError::StakerExiting);
    w.m.chain.advance(3_600);
    let before = w.m.chain.balance(&s.token);
    let stake = w.m.chain.account::<Submitter>(&pda::submitter(&PROGRAM_ID, &s.address())).unwrap().header.stake;
    w.send(ix::withdraw(&PROGRAM_ID, &s.address(), Role::Submitter, &s.token), s).unwrap();
    assert_eq!(w.m.chain.balance(&s.token), before + stake);
    assert!(w.m.chain.account::<Submitter>(&pda::submitter(&PROGRAM_ID, &s.address())).is_err(), "account closed");
    w.assert_conserved();
}

#[test]
fn an_urgent_job_is_a_short_auction_with_a_premium_and_the_lowest_bid_wins() {
    let mut w = world();
    let mut spec = w.job_spec(1, 2_000);
    spec.urgent = true;
    let job = w.m.create_job(&w.submitter, spec).unwrap();
    let j = w.m.job(&job).unwrap();
    assert_eq!(j.premium, 2_000 * 100 / 4, "25% premium escrowed");
    assert_eq!(j.bid_close - w.m.chain.now(), 5, "the urgent bidding window");
    w.bid(&job, 0, 900).unwrap();
    w.bid(&job, 1, 700).unwrap();
    assert_eq!(state(&w, &job), JobState::Open as u8, "no first-come assignment, even under the reference price");
    refused(w.send(w.m.assign_ix(&job).unwrap(), &w.submitter), GpuFuelError::BiddingOpen);
    w.m.chain.advance(5);
    w.send(w.m.assign_ix(&job).unwrap(), &w.submitter).unwrap();
    let j = w.m.job(&job).unwrap();
    assert_eq!(
        (j.state, j.best_bid, j.node),
        (JobState::Assigned as u8, 700, pda::node(&PROGRAM_ID, &w.nodes[1].address()).to_bytes())
    );
    assert_eq!(j.value(), Some(700 * 100 + 50_000), "the premium is part of what the node earns");
    w.assert_conserved();
}

#[test]
fn the_reference_price_follows_bid_on_demand_one_bounded_step_per_window() {
    let mut w = world();
    let big = w.m.node(NodeSpec { gpu_count: 16, ..spec(100) }, STAKE, FUNDS).unwrap();
    // Jobs nobody bids on are no demand.
    for id in 0..5 {
        w.m.chain.advance(31);
        w.m.create_job(&w.submitter, w.job_spec(100 + id, 2_000)).unwrap();
    }
    assert_eq!(class(&w).open_jobs, 0);
    let mut prices = vec![class(&w).ref_price];
    for id in 0..10 {
        w.m.chain.advance(31);
        let job = w.m.create_job(&w.submitter, w.job_spec(id, 2_000)).unwrap();
        w.send(w.m.bid_ix(&big.address(), &job, 1_000).unwrap(), &big).unwrap();
        prices.push(class(&w).ref_price);
    }
    assert_eq!((class(&w).open_jobs, class(&w).idle_nodes), (10, 3));
    assert!(prices[1] < REF_PRICE, "1 open job against 3 idle nodes lowers the price: {prices:?}");
    assert!(prices[5..].windows(2).all(|p| p[1] > p[0]), "more open jobs than idle nodes raises it: {prices:?}");
    assert!(prices.windows(2).all(|p| p[1].abs_diff(p[0]) <= p[0] / 8), "each step is bounded by 12.5%");
    // Within a window, more demand moves nothing.
    let held = class(&w).ref_price;
    for id in 20..23 {
        let job = w.m.create_job(&w.submitter, w.job_spec(id, 2_000)).unwrap();
        w.send(w.m.bid_ix(&big.address(), &job, 1_000).unwrap(), &big).unwrap();
    }
    assert_eq!(class(&w).ref_price, held);
    w.assert_conserved();
}
