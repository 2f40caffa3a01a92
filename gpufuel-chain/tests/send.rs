//! The careful sender and typed queries over the `Chain` trait on the embedded chain:
//! simulation refusals, lost transactions, lost responses and insufficient funds, each with
//! balances checked afterwards; queries by state, submitter, node and class; waiting on a job.

use gpufuel_chain::{
    Chain, ChainError, PROGRAM_ID,
    chain::Memcmp,
    ix,
    local::Faults,
    pda,
    query::{self, JobFilter},
    send::{PriorityFee, SendOptions, send},
};
use gpufuel_core::{
    GpuFuelError,
    state::{AccountKind, Job, JobState},
};
use gpufuel_fixtures::world::*;
use std::time::Duration;

fn options() -> SendOptions {
    SendOptions { poll: Duration::from_millis(1), priority_fee: PriorityFee::Fixed(10), ..SendOptions::default() }
}

#[tokio::test]
async fn sends_once_with_a_simulated_unit_limit() {
    let w = world();
    let spec = w.job_spec(1, 2_000);
    let before = w.m.chain.balance(&w.submitter.token);
    let create = ix::create_job(&PROGRAM_ID, &w.submitter.address(), &w.submitter.token, spec);
    let sent = send(&w.m.chain, &[create], &w.submitter.keypair, &[], &options()).await.unwrap();
    assert_eq!(sent.attempts, 1);
    assert!(sent.units > 1_000, "simulation measured {} CU", sent.units);
    let job = w.m.job(&pda::job(&PROGRAM_ID, &w.submitter.address(), 1)).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before - job.escrow);
    assert_eq!(w.m.chain.signature_status(&sent.signature).await.unwrap(), Some(Ok(())));
}

#[tokio::test]
async fn a_transaction_that_would_fail_is_never_sent() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let n = &w.nodes[0];
    let height = w.m.chain.block_height().await.unwrap();
    let lamports = Chain::account(&w.m.chain, &n.address()).await.unwrap().unwrap().lamports;
    // Below the node's floor of 100.
    let err =
        send(&w.m.chain, &[ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 50, None)], &n.keypair, &[], &options())
            .await
            .unwrap_err();
    assert_eq!(err.program_error(), Some(GpuFuelError::BidBelowFloor), "{err}");
    assert_eq!(w.m.chain.block_height().await.unwrap(), height, "nothing was submitted");
    assert_eq!(Chain::account(&w.m.chain, &n.address()).await.unwrap().unwrap().lamports, lamports, "no fee paid");
}

#[tokio::test]
async fn a_lost_transaction_is_resent_after_its_blockhash_expires_and_applied_once() {
    let mut w = world();
    let before = w.m.chain.balance(&w.submitter.token);
    let vault = w.m.vault_balance();
    w.m.chain.inject(Faults { lose: 1, ..Faults::default() });
    let create = ix::create_job(&PROGRAM_ID, &w.submitter.address(), &w.submitter.token, w.job_spec(1, 2_000));
    let sent = send(&w.m.chain, &[create], &w.submitter.keypair, &[], &options()).await.unwrap();
    assert_eq!(sent.attempts, 2);
    let job = w.m.job(&pda::job(&PROGRAM_ID, &w.submitter.address(), 1)).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before - job.escrow, "escrowed exactly once");
    assert_eq!(w.m.vault_balance(), vault + job.escrow);
    w.assert_conserved();
}

#[tokio::test]
async fn a_lost_response_is_not_resent() {
    let mut w = world();
    let before = w.m.chain.balance(&w.submitter.token);
    w.m.chain.inject(Faults { drop_response: 1, ..Faults::default() });
    let create = ix::create_job(&PROGRAM_ID, &w.submitter.address(), &w.submitter.token, w.job_spec(1, 2_000));
    let sent = send(&w.m.chain, &[create], &w.submitter.keypair, &[], &options()).await.unwrap();
    assert_eq!(sent.attempts, 1, "the status showed it landed");
    let job = w.m.job(&pda::job(&PROGRAM_ID, &w.submitter.address(), 1)).unwrap();
    assert_eq!(w.m.chain.balance(&w.submitter.token), before - job.escrow);
    w.assert_conserved();
}

#[tokio::test]
async fn insufficient_funds_is_a_typed_error_and_moves_nothing() {
    let mut w = world();
    let before = w.m.chain.balance(&w.submitter.token);
    let vault = w.m.vault_balance();
    // An escrow far above the submitter's tokens.
    let spec = w.job_spec(1, before);
    let create = ix::create_job(&PROGRAM_ID, &w.submitter.address(), &w.submitter.token, spec);
    let err = send(&w.m.chain, &[create], &w.submitter.keypair, &[], &options()).await.unwrap_err();
    assert!(matches!(err, ChainError::Transaction { .. }), "token program refusal, got {err}");
    assert_eq!(w.m.chain.balance(&w.submitter.token), before);
    assert_eq!(w.m.vault_balance(), vault);
    assert!(Chain::account(&w.m.chain, &pda::job(&PROGRAM_ID, &w.submitter.address(), 1)).await.unwrap().is_none());
    w.assert_conserved();
}

#[tokio::test]
async fn program_accounts_are_filtered_by_kind_and_field() {
    let mut w = world();
    for id in 1..=3 {
        w.m.create_job(&w.submitter, w.job_spec(id, 2_000)).unwrap();
    }
    let jobs =
        w.m.chain
            .program_accounts(&PROGRAM_ID, &[Memcmp { offset: 0, bytes: vec![AccountKind::Job as u8] }])
            .await
            .unwrap();
    assert_eq!(jobs.len(), 3);
    let nodes =
        w.m.chain
            .program_accounts(&PROGRAM_ID, &[Memcmp { offset: 0, bytes: vec![AccountKind::Node as u8] }])
            .await
            .unwrap();
    assert_eq!(nodes.len(), 3);
    // Jobs of this submitter: the submitter key sits at a fixed offset in the job layout.
    let offset = std::mem::offset_of!(Job, submitter);
    let mine = Memcmp { offset, bytes: w.submitter.address().to_bytes().to_vec() };
    let theirs = Memcmp { offset, bytes: w.nodes[0].address().to_bytes().to_vec() };
    assert_eq!(w.m.chain.program_accounts(&PROGRAM_ID, &[mine]).await.unwrap().len(), 3);
    assert!(w.m.chain.program_accounts(&PROGRAM_ID, &[theirs]).await.unwrap().is_empty());
}

#[tokio::test]
async fn typed_queries_by_state_submitter_node_and_class() {
    let mut w = world();
    let open = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let assigned = w.assigned_job(2, 1, 500);
    let chain = &w.m.chain;
    let by_state = query::jobs(chain, &PROGRAM_ID, &[JobFilter::State(JobState::Open)]).await.unwrap();
    assert_eq!(by_state.iter().map(|(a, _)| *a).collect::<Vec<_>>(), vec![open]);
    let node = pda::node(&PROGRAM_ID, &w.nodes[1].address());
    let mine = query::jobs(chain, &PROGRAM_ID, &[JobFilter::Submitter(w.submitter.address()), JobFilter::Node(node)])
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].0, assigned);
    assert_eq!(mine[0].1.state, JobState::Assigned as u8);
    assert_eq!(query::nodes(chain, &PROGRAM_ID, Some(CLASS)).await.unwrap().len(), 3);
    assert!(query::nodes(chain, &PROGRAM_ID, Some(OTHER_CLASS)).await.unwrap().is_empty());
    let classes = query::gpu_classes(chain, &PROGRAM_ID).await.unwrap();
    assert_eq!(classes.len(), 2);
    assert!(matches!(query::job(chain, &PROGRAM_ID, &node).await, Err(ChainError::Account(_))), "a node is not a job");
}

#[tokio::test]
async fn waiting_for_a_job_returns_when_it_changes_or_times_out() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let (chain, s) = (w.m.chain.clone(), w.submitter.clone());
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        chain.send(&[ix::cancel(&PROGRAM_ID, &s.address(), &job, CLASS, &s.token, None)], &[&s.keypair]).unwrap();
    });
    let cancelled = JobState::Cancelled as u8;
    let j = query::wait_for_job(&w.m.chain, &PROGRAM_ID, &job, |j| j.state == cancelled, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(j.state, cancelled);
    cancel.await.unwrap();
    let err = query::wait_for_job(&w.m.chain, &PROGRAM_ID, &job, |j| j.state == 0, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Timeout { .. }), "{err}");
}
