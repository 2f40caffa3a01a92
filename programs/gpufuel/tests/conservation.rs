//! Random instruction sequences by random actors. After every transaction, tokens are conserved
//! (vault = stakes + unfinished escrows) and every job moved only along a legal transition.
//! `GPUFUEL_PROPTEST_CASES` sets the number of sequences (default 10,000).

use std::{collections::HashMap, sync::OnceLock};

use gpufuel_chain::{ix, ix::Role};
use gpufuel_core::state::JobState;
use gpufuel_fixtures::world::*;
use proptest::prelude::*;
use solana_address::Address;

#[derive(Debug, Clone)]
enum Action {
    Create { price: u64, urgent: bool },
    Bid { node: usize, job: usize, price: u64 },
    Advance { secs: i64 },
    Assign { job: usize },
    Submit { node: usize, job: usize },
    Attest { validator: usize, job: usize, pass: bool },
    Settle { job: usize },
    Cancel { job: usize },
    Expire { job: usize },
    TopUp { node: usize, amount: u64 },
    Unstake { node: usize },
    Withdraw { node: usize },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1u64..3_000, any::<bool>()).prop_map(|(price, urgent)| Action::Create { price, urgent }),
        (0..3usize, 0..4usize, 50u64..2_500).prop_map(|(node, job, price)| Action::Bid { node, job, price }),
        prop_oneof![Just(1i64), Just(31), Just(150), Just(4_000)].prop_map(|secs| Action::Advance { secs }),
        (0..4usize).prop_map(|job| Action::Assign { job }),
        (0..3usize, 0..4usize).prop_map(|(node, job)| Action::Submit { node, job }),
        (0..3usize, 0..4usize, any::<bool>()).prop_map(|(validator, job, pass)| Action::Attest {
            validator,
            job,
            pass
        }),
        (0..4usize).prop_map(|job| Action::Settle { job }),
        (0..4usize).prop_map(|job| Action::Cancel { job }),
        (0..4usize).prop_map(|job| Action::Expire { job }),
        (0..3usize, 0u64..1_000).prop_map(|(node, amount)| Action::TopUp { node, amount }),
        (0..3usize).prop_map(|node| Action::Unstake { node }),
        (0..3usize).prop_map(|node| Action::Withdraw { node }),
    ]
}

fn template() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(world)
}

/// Runs one action; refusals are expected and ignored, everything else is checked by the caller.
fn run(w: &mut World, jobs: &mut Vec<Address>, action: &Action) {
    let pick = |jobs: &Vec<Address>, i: usize| jobs.get(i % jobs.len().max(1)).copied();
    let result = match *action {
        Action::Create { price, urgent } => {
            let mut spec = w.job_spec(jobs.len() as u64, price);
            spec.urgent = urgent;
            let r = w.m.create_job(&w.submitter, spec).map(|job| jobs.push(job));
            r.map(|_| 0)
        }
        Action::Bid { node, job, price } => match pick(jobs, job) {
            Some(job) => {
                w.m.chain.send(&[ix::bid(&w.nodes[node].address(), &job, CLASS, price)], &[&w.nodes[node].keypair])
            }
            None => return,
        },
        Action::Advance { secs } => {
            w.m.chain.advance(secs);
            return;
        }
        Action::Assign { job } => match pick(jobs, job).and_then(|j| w.m.assign_ix(&j).ok()) {
            Some(ix) => w.m.chain.send(&[ix], &[&w.nodes[0].keypair]),
            None => return,
        },
        Action::Submit { node, job } => match pick(jobs, job) {
            Some(job) => {
                let ix = ix::submit_result(&w.nodes[node].address(), &job, gpufuel_fixtures::sample_cid(1), [1; 32]);
                w.m.chain.send(&[ix], &[&w.nodes[node].keypair])
            }
            None => return,
        },
        Action::Attest { validator, job, pass } => match pick(jobs, job).and_then(|j| w.m.job(&j).ok().map(|d| (j, d)))
        {
            Some((job, data)) => {
                let v = &w.validators[validator];
                w.m.chain
                    .send(&[ix::attest(&v.address(), &job, &Address::new_from_array(data.node), pass)], &[&v.keypair])
            }
            None => return,
        },
        Action::Settle { job } => match pick(jobs, job).and_then(|j| w.m.settle_accounts(&j).ok()) {
            Some(a) => w.m.chain.send(&[ix::settle(&a)], &[&w.nodes[0].keypair]),
            None => return,
        },
        Action::Cancel { job } => match pick(jobs, job) {
            Some(job) => {
                let s = &w.submitter;
                w.m.chain.send(&[ix::cancel(&s.address(), &job, CLASS, &s.token)], &[&s.keypair])
            }
            None => return,
        },
        Action::Expire { job } => match pick(jobs, job).and_then(|j| w.m.expire_ix(&j).ok()) {
            Some(ix) => w.m.chain.send(&[ix], &[&w.nodes[1].keypair]),
            None => return,
        },
        Action::TopUp { node, amount } => {
            let n = &w.nodes[node];
            w.m.chain.send(&[ix::top_up(&n.address(), Role::Node, &n.token, amount)], &[&n.keypair])
        }
        Action::Unstake { node } => {
            let n = &w.nodes[node];
            w.m.chain.send(&[ix::request_unstake(&n.address(), Role::Node, CLASS)], &[&n.keypair])
        }
        Action::Withdraw { node } => {
            let n = &w.nodes[node];
            w.m.chain.send(&[ix::withdraw(&n.address(), Role::Node, &n.token)], &[&n.keypair])
        }
    };
    if let Err(e) = result {
        // Refusals must be the program's own errors or the token program's (e.g. no funds left).
        assert!(e.program_error().is_some() || matches!(e, gpufuel_chain::ChainError::Transaction { .. }), "{e}");
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
    fn tokens_are_conserved_and_jobs_move_legally(actions in prop::collection::vec(action(), 1..12)) {
        let mut w = template().clone();
        let mut jobs = vec![];
        for action in &actions {
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
