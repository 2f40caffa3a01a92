//! The job lifecycle on the real SBF program and SPL Token, with every balance asserted.
use gpufuel_chain::{ix, ix::Role, pda};
use gpufuel_core::{
    GpuFuelError, settlement,
    state::{Job, JobState, Node, Submitter},
};
use gpufuel_fixtures::world::*;

fn state(w: &World, job: &solana_address::Address) -> u8 {
    w.m.job(job).unwrap().state
}

#[test]
fn happy_path_pays_node_validators_treasury_and_refunds_the_rest() {
    let mut w = world();
    let params = gpufuel_core::state::MarketParams::default();
    let sub_before = w.m.chain.balance(&w.submitter.token);
    let vault_before = w.m.vault_balance();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let escrow = 2_000 * 100;
    assert_eq!(w.m.chain.balance(&w.submitter.token), sub_before - escrow);
    assert_eq!(w.m.vault_balance(), vault_before + escrow);
    w.assert_conserved();

    for (i, price) in [(0, 900), (1, 700), (2, 600)] {
        let n = &w.nodes[i];
        w.m.chain.send(&[ix::bid(&n.address(), &job, CLASS, price)], &[&n.keypair]).unwrap();
        assert_eq!(w.m.vault_balance(), vault_before + escrow, "bids move no tokens");
    }
    refused(w.m.chain.send(&[w.m.assign_ix(&job).unwrap()], &[&w.nodes[0].keypair]), GpuFuelError::BiddingOpen);
    w.m.chain.advance(31);
    w.m.chain.send(&[w.m.assign_ix(&job).unwrap()], &[&w.nodes[0].keypair]).unwrap();
    let j: Job = w.m.job(&job).unwrap();
    assert_eq!(
        (j.state, j.best_bid, j.node),
        (JobState::Assigned as u8, 600, pda::node(&w.nodes[2].address()).to_bytes())
    );
    assert_ne!(j.seed, [0; 32], "assignment fixes the watermark seed");

    let n = &w.nodes[2];
    w.m.chain
        .send(&[ix::submit_result(&n.address(), &job, gpufuel_fixtures::sample_cid(3), [5; 32])], &[&n.keypair])
        .unwrap();
    w.attest(&job, 0, 2, true).unwrap();
    refused(
        w.m.chain.send(&[ix::settle(&w.m.settle_accounts(&job).unwrap())], &[&w.nodes[0].keypair]),
        GpuFuelError::NotFinal,
    );
    w.attest(&job, 1, 2, true).unwrap();

    let before: Vec<u64> =
        [&w.nodes[2].token, &w.validators[0].token, &w.validators[1].token, &w.m.treasury, &w.submitter.token]
            .iter()
            .map(|t| w.m.chain.balance(t))
            .collect();
    w.m.chain.send(&[ix::settle(&w.m.settle_accounts(&job).unwrap())], &[&w.nodes[0].keypair]).unwrap();
    let p = settlement::pass_payout(escrow, 600, 100, 0, 2, &params).unwrap();
    let after: Vec<u64> =
        [&w.nodes[2].token, &w.validators[0].token, &w.validators[1].token, &w.m.treasury, &w.submitter.token]
            .iter()
            .map(|t| w.m.chain.balance(t))
            .collect();
    assert_eq!(after[0] - before[0], p.node);
    assert_eq!(after[1] - before[1], p.per_validator);
    assert_eq!(after[2] - before[2], p.per_validator);
    assert_eq!(after[3] - before[3], p.treasury);
    assert_eq!(after[4] - before[4], p.refund);
    assert_eq!(p.node + 2 * p.per_validator + p.treasury + p.refund, escrow);
    assert_eq!(p.node + 2 * p.per_validator + p.treasury, 60_000);
    assert_eq!(w.m.vault_balance(), vault_before);
    assert_eq!(state(&w, &job), JobState::Settled as u8);
    assert_eq!(w.m.chain.account::<Node>(&pda::node(&w.nodes[2].address())).unwrap().completed, 1);
    w.assert_conserved();

    // Settled once only; then the submitter reclaims the job's rent.
    refused(
        w.m.chain.send(&[ix::settle(&w.m.settle_accounts(&job).unwrap())], &[&w.nodes[0].keypair]),
        GpuFuelError::InvalidJobState,
    );
    w.m.chain.send(&[ix::close_job(&w.submitter.address(), &job)], &[&w.submitter.keypair]).unwrap();
    assert!(w.m.chain.data(&job).is_none_or(|d| d.is_empty()));
}

#[test]
fn cancel_before_assignment_refunds_everything() {
    let mut w = world();
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let n = &w.nodes[0];
    w.m.chain.send(&[ix::bid(&n.address(), &job, CLASS, 500)], &[&n.keypair]).unwrap();
    w.m.chain
        .send(&[ix::cancel(&w.submitter.address(), &job, CLASS, &w.submitter.token)], &[&w.submitter.keypair])
        .unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    assert_eq!(state(&w, &job), JobState::Cancelled as u8);
    w.assert_conserved();
    // Not after assignment.
    let job = w.assigned_job(2, 0, 500);
    refused(
        w.m.chain.send(&[ix::cancel(&w.submitter.address(), &job, CLASS, &w.submitter.token)], &[&w.submitter.keypair]),
        GpuFuelError::InvalidJobState,
    );
}

#[test]
fn expiry_refunds_and_penalises_the_assigned_node() {
    let mut w = world();
    let params = gpufuel_core::state::MarketParams::default();
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.assigned_job(1, 1, 500);
    refused(w.m.chain.send(&[w.m.expire_ix(&job).unwrap()], &[&w.nodes[0].keypair]), GpuFuelError::DeadlineNotReached);
    w.m.chain.advance(3_600);
    w.m.chain.send(&[w.m.expire_ix(&job).unwrap()], &[&w.nodes[0].keypair]).unwrap();
    let penalty = settlement::miss_penalty(STAKE, &params).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before + penalty);
    let node: Node = w.m.chain.account(&pda::node(&w.nodes[1].address())).unwrap();
    assert_eq!((node.header.stake, node.missed_deadlines, node.header.in_flight), (STAKE - penalty, 1, 0));
    assert_eq!(state(&w, &job), JobState::Expired as u8);
    w.assert_conserved();

    // An open job without bids expires with a plain refund.
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.m.create_job(&w.submitter, w.job_spec(2, 2_000)).unwrap();
    w.m.chain.advance(3_601);
    w.m.chain.send(&[w.m.expire_ix(&job).unwrap()], &[&w.nodes[0].keypair]).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    w.assert_conserved();
}

#[test]
fn failing_quorum_slashes_the_node_and_refunds_the_submitter() {
    let mut w = world();
    let params = gpufuel_core::state::MarketParams::default();
    let before = w.m.chain.balance(&w.submitter.token);
    let job = w.submitted_job(1, 0, 500);
    w.attest(&job, 0, 0, false).unwrap();
    w.attest(&job, 1, 0, true).unwrap();
    w.attest(&job, 2, 0, false).unwrap();
    let v = [
        w.m.chain.balance(&w.validators[0].token),
        w.m.chain.balance(&w.validators[1].token),
        w.m.chain.balance(&w.validators[2].token),
    ];
    w.m.chain.send(&[ix::settle(&w.m.settle_accounts(&job).unwrap())], &[&w.nodes[1].keypair]).unwrap();
    let s = settlement::slash_payout(STAKE, 2, &params).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before + s.submitter);
    assert_eq!(w.m.chain.balance(&w.validators[0].token), v[0] + s.per_validator);
    assert_eq!(w.m.chain.balance(&w.validators[1].token), v[1], "the overruled validator earns nothing");
    assert_eq!(w.m.chain.balance(&w.validators[2].token), v[2] + s.per_validator);
    let node: Node = w.m.chain.account(&pda::node(&w.nodes[0].address())).unwrap();
    assert_eq!((node.header.stake, node.failed_validations), (STAKE - s.slashed, 1));
    assert_eq!(state(&w, &job), JobState::Slashed as u8);
    w.assert_conserved();
}

#[test]
fn unstaking_is_refused_while_active_and_waits_for_the_cooldown() {
    let mut w = world();
    let job = w.assigned_job(1, 0, 500);
    let n = &w.nodes[0];
    refused(
        w.m.chain.send(&[ix::request_unstake(&n.address(), Role::Node, CLASS)], &[&n.keypair]),
        GpuFuelError::StakerActive,
    );
    refused(
        w.m.chain.send(&[ix::request_unstake(&w.submitter.address(), Role::Submitter, 0)], &[&w.submitter.keypair]),
        GpuFuelError::StakerActive,
    );
    w.m.chain.advance(3_600);
    w.m.chain.send(&[w.m.expire_ix(&job).unwrap()], &[&w.nodes[1].keypair]).unwrap();

    let s = &w.submitter;
    w.m.chain.send(&[ix::request_unstake(&s.address(), Role::Submitter, 0)], &[&s.keypair]).unwrap();
    refused(
        w.m.chain.send(&[ix::withdraw(&s.address(), Role::Submitter, &s.token)], &[&s.keypair]),
        GpuFuelError::CooldownActive,
    );
    refused(w.m.create_job(&w.submitter, w.job_spec(9, 2_000)).map(|_| 0), GpuFuelError::StakerExiting);
    w.m.chain.advance(3_600);
    let before = w.m.chain.balance(&s.token);
    let stake = w.m.chain.account::<Submitter>(&pda::submitter(&s.address())).unwrap().header.stake;
    w.m.chain.send(&[ix::withdraw(&s.address(), Role::Submitter, &s.token)], &[&s.keypair]).unwrap();
    assert_eq!(w.m.chain.balance(&s.token), before + stake);
    assert!(w.m.chain.account::<Submitter>(&pda::submitter(&s.address())).is_err(), "account closed");
    w.assert_conserved();
}

#[test]
fn urgent_job_is_assigned_at_once_to_a_bid_at_the_reference_price() {
    let mut w = world();
    let mut spec = w.job_spec(1, 2_000);
    spec.urgent = true;
    let job = w.m.create_job(&w.submitter, spec).unwrap();
    let j = w.m.job(&job).unwrap();
    assert_eq!(j.premium, 2_000 * 100 / 4, "25% premium escrowed");
    let n = &w.nodes[0];
    w.m.chain.send(&[ix::bid(&n.address(), &job, CLASS, 1_500)], &[&n.keypair]).unwrap();
    assert_eq!(state(&w, &job), JobState::Open as u8, "above the reference price: normal bidding");
    let n = &w.nodes[1];
    w.m.chain.send(&[ix::bid(&n.address(), &job, CLASS, 900)], &[&n.keypair]).unwrap();
    assert_eq!(state(&w, &job), JobState::Assigned as u8);
    w.assert_conserved();
}

#[test]
fn reference_price_follows_demand() {
    let mut w = world();
    let class = pda::gpu_class(CLASS);
    let price = |w: &World| w.m.chain.account::<gpufuel_core::state::GpuClass>(&class).unwrap();
    let mut prices = vec![];
    for id in 0..10 {
        w.m.chain.advance(1);
        w.m.create_job(&w.submitter, w.job_spec(id, 2_000)).unwrap();
        prices.push(price(&w).ref_price);
    }
    assert_eq!((price(&w).open_jobs, price(&w).idle_nodes), (10, 3));
    assert!(prices[0] < REF_PRICE, "1 open job against 3 idle nodes lowers the price");
    assert!(prices[3..].windows(2).all(|p| p[1] > p[0]), "more open jobs than idle nodes raises it: {prices:?}");
    assert!(prices.windows(2).all(|p| p[1].abs_diff(p[0]) <= p[0] / 8), "each step is bounded by 12.5%");
}
