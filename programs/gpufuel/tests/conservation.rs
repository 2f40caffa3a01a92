//! Random instruction sequences by random actors, honest and not: cheap sybil validators, a
//! late validator never bonded, a griefing node bidding 1, a submitter of dust jobs, and a hostile
//! authority proposing the harshest parameters the bounds allow. After every transaction, tokens
//! are conserved (vault = stakes + rewards + fee pools + unfinished escrows and bonds) and every
//! job moved only along a legal transition. `GPUFUEL_PROPTEST_CASES` sets the number of sequences
//! (default 10,000).

use std::{collections::HashMap, sync::OnceLock};

use gpufuel_chain::{
    PROGRAM_ID,
    ix::{self, Leaving, Role},
};
use gpufuel_core::state::{JobState, JobTerms, MarketParams, NodeSpec};
use gpufuel_fixtures::world::*;
use proptest::prelude::*;
use solana_address::Address;

/// Nodes: three honest, then the griefer. Validators: three honest, two sybils, one late.
const NODES: usize = 4;
const VALIDATORS: usize = 6;

#[derive(Debug, Clone)]
enum Action {
    Create {
        price: u64,
        gpu_seconds: u32,
        urgent: bool,
    },
    Bid {
        node: usize,
        job: usize,
        price: u64,
    },
    Advance {
        secs: i64,
    },
    Assign {
        job: usize,
    },
    Acknowledge {
        node: usize,
        job: usize,
    },
    Reassign {
        job: usize,
    },
    Submit {
        node: usize,
        job: usize,
        /// A report that the task fails for everyone instead of a result.
        invalid: bool,
    },
    Draw {
        job: usize,
    },
    Commit {
        validator: usize,
        job: usize,
        seat: u8,
        pass: bool,
    },
    Reveal {
        validator: usize,
        job: usize,
        seat: u8,
        pass: bool,
    },
    Appeal {
        validator: usize,
        job: usize,
    },
    Settle {
        job: usize,
    },
    Cancel {
        job: usize,
    },
    Expire {
        job: usize,
    },
    TopUp {
        node: usize,
        amount: u64,
    },
    Unstake {
        node: usize,
    },
    Withdraw {
        node: usize,
    },
    Activate {
        validator: usize,
    },
    Claim {
        validator: usize,
    },
    Propose {
        hostile: usize,
    },
    Apply,
    /// Create, bid, close, assign, acknowledge and submit in a row (each step may be refused).
    Work {
        node: usize,
        price: u64,
    },
    /// Draw the job's round and have its seats vote: two bits per seat (0 silent, 2 fail, else
    /// pass).
    Vote {
        job: usize,
        pattern: u32,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let job = 0..4usize;
    prop_oneof![
        1 => (1u64..3_000, prop_oneof![Just(1u32), Just(100)], any::<bool>())
            .prop_map(|(price, gpu_seconds, urgent)| Action::Create { price, gpu_seconds, urgent }),
        1 => (0..NODES, job.clone(), prop_oneof![Just(1u64), 50u64..2_500])
            .prop_map(|(node, job, price)| Action::Bid { node, job, price }),
        3 => prop_oneof![Just(1i64), Just(6), Just(31), Just(61), Just(150), Just(4_000)]
            .prop_map(|secs| Action::Advance { secs }),
        1 => job.clone().prop_map(|job| Action::Assign { job }),
        1 => (0..NODES, job.clone()).prop_map(|(node, job)| Action::Acknowledge { node, job }),
        1 => job.clone().prop_map(|job| Action::Reassign { job }),
        1 => (0..NODES, job.clone(), any::<bool>()).prop_map(|(node, job, invalid)| Action::Submit { node, job, invalid }),
        2 => job.clone().prop_map(|job| Action::Draw { job }),
        1 => (0..VALIDATORS, job.clone(), 0..16u8, any::<bool>())
            .prop_map(|(validator, job, seat, pass)| Action::Commit { validator, job, seat, pass }),
        1 => (0..VALIDATORS, job.clone(), 0..16u8, any::<bool>())
            .prop_map(|(validator, job, seat, pass)| Action::Reveal { validator, job, seat, pass }),
        1 => (0..VALIDATORS, job.clone()).prop_map(|(validator, job)| Action::Appeal { validator, job }),
        3 => job.clone().prop_map(|job| Action::Settle { job }),
        1 => job.clone().prop_map(|job| Action::Cancel { job }),
        1 => job.prop_map(|job| Action::Expire { job }),
        1 => (0..NODES, 0u64..1_000).prop_map(|(node, amount)| Action::TopUp { node, amount }),
        1 => (0..NODES).prop_map(|node| Action::Unstake { node }),
        1 => (0..NODES).prop_map(|node| Action::Withdraw { node }),
        1 => (0..VALIDATORS).prop_map(|validator| Action::Activate { validator }),
        1 => (0..VALIDATORS).prop_map(|validator| Action::Claim { validator }),
        1 => (0..2usize).prop_map(|hostile| Action::Propose { hostile }),
        1 => Just(Action::Apply),
        4 => (0..NODES, prop_oneof![Just(1u64), 100u64..2_000]).prop_map(|(node, price)| Action::Work { node, price }),
        4 => (0..4usize, any::<u32>()).prop_map(|(job, pattern)| Action::Vote { job, pattern }),
    ]
}

/// The harshest parameters the bounds allow: maximal fees, covers and slashes; or one-seat
/// committees with one-second windows.
fn hostile(which: usize) -> MarketParams {
    let d = MarketParams::default();
    let terms = match which {
        0 => JobTerms {
            protocol_fee_bps: 1_000,
            validator_fee_bps: 1_000,
            node_cover_bps: 50_000,
            miss_penalty_bps: 50_000,
            slash_submitter_share_bps: 10_000,
            vote_slash_bps: 10_000,
            miss_vote_bps: 10_000,
            appeal_bond_bps: 10_000,
            ..d.terms
        },
        _ => JobTerms {
            committee_size: 1,
            quorum: 1,
            appeal_committee_size: 1,
            appeal_quorum: 1,
            commit_window_secs: 1,
            reveal_window_secs: 1,
            appeal_window_secs: 1,
            assign_grace_secs: 1,
            start_grace_secs: 1,
            ..d.terms
        },
    };
    MarketParams { terms, ..d }
}

fn template() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut w = world();
        let griefer = w.m.node(NodeSpec { price_floor: 1, ..spec(1) }, STAKE, FUNDS).unwrap();
        w.nodes.push(griefer);
        for _ in 0..2 {
            let sybil = w.m.validator(500_000, FUNDS).unwrap();
            w.validators.push(sybil);
        }
        w.m.activate_all().unwrap();
        let late = w.m.validator(500_000, FUNDS).unwrap();
        w.validators.push(late);
        assert_eq!((w.nodes.len(), w.validators.len()), (NODES, VALIDATORS));
        w
    })
}

/// Runs one action; refusals are expected and ignored, everything else is checked by the caller.
fn run(w: &mut World, jobs: &mut Vec<Address>, action: &Action) {
    let Some(job) = (match *action {
        Action::Bid { job, .. }
        | Action::Assign { job }
        | Action::Acknowledge { job, .. }
        | Action::Reassign { job }
        | Action::Submit { job, .. }
        | Action::Draw { job }
        | Action::Commit { job, .. }
        | Action::Reveal { job, .. }
        | Action::Appeal { job, .. }
        | Action::Settle { job }
        | Action::Cancel { job }
        | Action::Expire { job }
        | Action::Vote { job, .. } => jobs.get(job % jobs.len().max(1)).copied(),
        _ => Some(Address::default()),
    }) else {
        return;
    };
    let holder = w.m.job(&job).ok().map(|j| Address::new_from_array(j.node));
    let result = match *action {
        Action::Create { price, gpu_seconds, urgent } => {
            let mut spec = w.job_spec(jobs.len() as u64, price);
            (spec.gpu_seconds, spec.urgent) = (gpu_seconds, urgent);
            w.m.create_job(&w.submitter, spec).map(|job| jobs.push(job)).map(|_| 0)
        }
        Action::Bid { node, price, .. } => match w.m.bid_ix(&w.nodes[node].address(), &job, price) {
            Ok(ix) => w.send(ix, &w.nodes[node]),
            Err(_) => return,
        },
        Action::Advance { secs } => {
            w.m.chain.advance(secs);
            return;
        }
        Action::Assign { .. } => match w.m.assign_ix(&job) {
            Ok(ix) => w.send(ix, &w.nodes[0]),
            Err(_) => return,
        },
        Action::Acknowledge { node, .. } => {
            w.send(ix::acknowledge(&PROGRAM_ID, &w.nodes[node].address(), &job), &w.nodes[node])
        }
        Action::Reassign { .. } => match holder {
            Some(node) => w.send(ix::reassign(&PROGRAM_ID, &job, &node, CLASS), &w.nodes[1]),
            None => return,
        },
        Action::Submit { node, invalid, .. } => {
            let ix = ix::submit_result(
                &PROGRAM_ID,
                &w.nodes[node].address(),
                &job,
                gpufuel_fixtures::sample_cid(1),
                [1; 32],
                invalid,
            );
            w.send(ix, &w.nodes[node])
        }
        Action::Draw { .. } => match w.m.draw_ix(&job) {
            Ok((ix, _)) => w.send(ix, &w.nodes[1]),
            Err(_) => return,
        },
        Action::Commit { validator, seat, pass, .. } => {
            let v = &w.validators[validator];
            match w.m.commit_ix(&job, seat, &v.address(), pass) {
                Ok(ix) => w.send(ix, v),
                Err(_) => return,
            }
        }
        Action::Reveal { validator, seat, pass, .. } => {
            let v = &w.validators[validator];
            w.send(w.m.reveal_ix(&job, seat, &v.address(), pass), v)
        }
        Action::Appeal { validator, .. } => {
            let v = &w.validators[validator];
            w.send(ix::appeal(&PROGRAM_ID, &v.address(), &job, &v.token), v)
        }
        Action::Settle { .. } => match w.m.settle_accounts(&job) {
            Ok(a) => w.send(ix::settle(&PROGRAM_ID, &a), &w.nodes[0]),
            Err(_) => return,
        },
        Action::Cancel { .. } => match w.m.cancel_ix(&w.submitter, &job) {
            Ok(ix) => w.send(ix, &w.submitter),
            Err(_) => return,
        },
        Action::Expire { .. } => match w.m.expire_ix(&job) {
            Ok(ix) => w.send(ix, &w.nodes[1]),
            Err(_) => return,
        },
        Action::TopUp { node, amount } => {
            let n = &w.nodes[node];
            w.send(ix::top_up(&PROGRAM_ID, &n.address(), Role::Node, &n.token, amount, None), n)
        }
        Action::Unstake { node } => {
            let n = &w.nodes[node];
            w.send(ix::request_unstake(&PROGRAM_ID, &n.address(), Role::Node, Leaving::Node { gpu_class: CLASS }), n)
        }
        Action::Withdraw { node } => {
            let n = &w.nodes[node];
            w.send(ix::withdraw(&PROGRAM_ID, &n.address(), Role::Node, &n.token), n)
        }
        Action::Activate { validator } => {
            let v = &w.validators[validator];
            w.send(ix::activate_validator(&PROGRAM_ID, &v.address(), &w.m.validator_set), v)
        }
        Action::Claim { validator } => {
            let v = &w.validators[validator];
            w.send(ix::claim_rewards(&PROGRAM_ID, &v.address(), &v.token), v)
        }
        Action::Propose { hostile: which } => {
            let a = &w.m.authority;
            w.send(ix::propose_params(&PROGRAM_ID, &a.address(), hostile(which)), a)
        }
        Action::Apply => w.send(ix::apply_params(&PROGRAM_ID), &w.nodes[2]),
        Action::Work { .. } => unreachable!("expanded by `steps`"),
        Action::Vote { pattern, .. } => {
            let vote = |seat: usize, _: &Address| match (pattern >> (2 * seat)) & 3 {
                0 => None,
                2 => Some(false),
                _ => Some(true),
            };
            match w.m.vote_round(&job, vote) {
                // Accounts a draw needs are missing: the job is not at a draw.
                Err(gpufuel_chain::ChainError::Account(_)) => return,
                sent => sent,
            }
        }
    };
    if let Err(e) = result {
        // Refusals must be the program's own errors or the token program's (e.g. no funds left).
        assert!(e.program_error().is_some() || matches!(e, gpufuel_chain::ChainError::Transaction { .. }), "{e}");
    }
}

/// The steps an action stands for: [`Action::Work`] is checked one step at a time.
fn steps(action: &Action, jobs: usize) -> Vec<Action> {
    match *action {
        Action::Work { node, price } => vec![
            Action::Create { price: 2_000, gpu_seconds: 100, urgent: false },
            Action::Bid { node, job: jobs, price },
            Action::Advance { secs: 31 },
            Action::Assign { job: jobs },
            Action::Acknowledge { node, job: jobs },
            Action::Submit { node, job: jobs, invalid: false },
        ],
        _ => vec![action.clone()],
    }
}

fn states(w: &World, jobs: &[Address]) -> HashMap<Address, JobState> {
    jobs.iter().filter_map(|j| Some((*j, w.m.job(j).ok()?.job_state().ok()?))).collect()
}

fn cases() -> u32 {
    std::env::var("GPUFUEL_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tokens_are_conserved_and_jobs_move_legally(actions in prop::collection::vec(action(), 1..24)) {
        let mut w = template().fork();
        let mut jobs = vec![];
        for step in &actions {
            for action in &steps(step, jobs.len()) {
                let before = states(&w, &jobs);
                run(&mut w, &mut jobs, action);
                prop_assert_eq!(w.m.vault_balance(), w.m.outstanding(), "after {:?}", action);
                for (job, state) in states(&w, &jobs) {
                    let from = before.get(&job).copied().unwrap_or(JobState::Open);
                    prop_assert!(from.can_move_to(state), "{:?} -> {:?} after {:?}", from, state, action);
                }
            }
        }
    }
}
