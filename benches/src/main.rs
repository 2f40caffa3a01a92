//! GPUFuel benchmark harness. `cargo run --release -p gpufuel-bench -- <name>` prints a table
//! and writes `target/bench/<name>.json`.
//!
//! - `cu`: compute units of every instruction and of the whole job lifecycle (create job, 3
//!   bids, assign, acknowledge, submit result, draw a committee of 3, 3 commits, 3 reveals,
//!   settle) on the real SBF program in LiteSVM, a draw from 10,000 validators, the account
//!   sizes and the program's size.
//! - `lifecycle`: the same lifecycle printed step by step with every balance (the README demo).
//! - `chain`: job lifecycles per second through the typed client on the embedded chain.
//! - `matching`: the matching engine at 1k to 1M open jobs against 10k nodes.
//! - `agents`: the cluster requests a node's and a validator's agents make per minute with
//!   1,000 open jobs.
//! - `proofs`: proof-of-execution costs against the work they check, and the dishonest-node
//!   simulation.
//! - `exec`: the node agent's overhead per job against the raw compute; CUDA GEMM through the
//!   executor against cuBLAS where a GPU exists.
//! - `bindings`: the Python and Node packages' added time per sync call and per async job
//!   submission, against the Rust client in the same run.
//! - `onnx`: an ONNX job through the node agent and a validator against ONNX Runtime called
//!   directly on the same model and batch; detection and false rejections over simulated jobs.
//! - `operators`: a pool of two devices against one (two GPUs where there are, else two CPU
//!   executors).

mod agents;
mod bindings;
mod capture;
mod chain;
mod exec;
mod matching;
mod onnx;
mod operators;
mod proofs;
mod simulation;

use std::{collections::BTreeMap, fs, path::Path};

use gpufuel_chain::{
    ChainError, PROGRAM_ID,
    ix::{self, Leaving, Role},
    local::Wallet,
    pda,
};
use gpufuel_core::{
    instruction::GpuClassArgs,
    state::{AccountData, GpuClass, Job, Market, MarketParams, Node, NodeSpec, Submitter, Validator},
};
use gpufuel_fixtures::{LocalMarket, job_spec, sample_cid};
use serde_json::json;
use solana_signer::Signer;

const CLASS: u8 = 1;
const STAKE: u64 = 10_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("cu") => cu(),
        Some("lifecycle") => Ok(lifecycle(true).map(|_| ())?),
        Some("chain") => chain::run(),
        Some("matching") => matching::run(),
        Some("proofs") => proofs::run(),
        Some("exec") => exec::run(),
        Some("bindings") => bindings::run(),
        Some("onnx") => onnx::run(),
        Some("agents") => agents::run(),
        Some("operators") => operators::run(),
        _ => {
            Err("usage: gpufuel-bench <cu|lifecycle|chain|matching|proofs|exec|bindings|onnx|agents|operators>".into())
        }
    }
}

fn spec(floor: u64) -> NodeSpec {
    NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: floor }
}

/// Runs the lifecycle on a fresh market; returns the CU of each step. Prints balances if `show`.
fn lifecycle(show: bool) -> Result<Vec<(&'static str, u64)>, ChainError> {
    let mut m = LocalMarket::new(MarketParams::default(), &[(CLASS, 1_000, 10)])?;
    let nodes: Vec<Wallet> = (0..3).map(|i| m.node(spec(100 + i), STAKE, 0)).collect::<Result<_, _>>()?;
    let validators: Vec<Wallet> = (0..3).map(|_| m.validator(STAKE, 0)).collect::<Result<_, _>>()?;
    m.activate_all()?;
    let submitter = m.submitter(STAKE, 1_000_000)?;
    let print = |m: &LocalMarket, step: &str, cu: u64| {
        if show {
            let b = |t| m.chain.balance(t);
            let rewards: Vec<u64> = validators
                .iter()
                .map(|v| {
                    m.chain.account::<Validator>(&pda::validator(&PROGRAM_ID, &v.address())).map_or(0, |v| v.rewards)
                })
                .collect();
            let fees = m.chain.account::<GpuClass>(&pda::gpu_class(&PROGRAM_ID, CLASS)).map_or(0, |c| c.fees);
            println!(
                "{step:<26} {cu:>6} CU | submitter {:>8} node {:>8} rewards {rewards:?} fees {fees:>5} vault {:>9}",
                b(&submitter.token),
                b(&nodes[1].token),
                m.vault_balance()
            );
        }
    };
    let mut steps = vec![];
    print(&m, "registered", 0);
    let spec = job_spec(1, CLASS, 2_000, m.chain.now());
    let cu = m
        .chain
        .send(&[ix::create_job(&PROGRAM_ID, &submitter.address(), &submitter.token, spec)], &[&submitter.keypair])?;
    let job = pda::job(&PROGRAM_ID, &submitter.address(), 1);
    steps.push(("create_job", cu));
    print(&m, "create job (escrow)", cu);
    for (i, price) in [(0usize, 900u64), (2, 800), (1, 600)] {
        let n = &nodes[i];
        let cu = m.chain.send(&[m.bid_ix(&n.address(), &job, price)?], &[&n.keypair])?;
        steps.push(("bid", cu));
        print(&m, &format!("bid {price} by node {i}"), cu);
    }
    m.chain.advance(31);
    let cu = m.chain.send(&[m.assign_ix(&job)?], &[&nodes[0].keypair])?;
    steps.push(("assign", cu));
    print(&m, "assign to node 1", cu);
    let cu = m.chain.send(&[ix::acknowledge(&PROGRAM_ID, &nodes[1].address(), &job)], &[&nodes[1].keypair])?;
    steps.push(("acknowledge", cu));
    let cu = m.chain.send(
        &[ix::submit_result(&PROGRAM_ID, &nodes[1].address(), &job, sample_cid(2), [9; 32], false)],
        &[&nodes[1].keypair],
    )?;
    steps.push(("submit_result", cu));
    print(&m, "submit result", cu);
    m.chain.advance(1);
    let cu = m.chain.send(&[m.draw_ix(&job)?.0], &[&nodes[0].keypair])?;
    steps.push(("draw_committee", cu));
    print(&m, "draw committee (3 seats)", cu);
    let seats = m.seats(&job)?;
    for (seat, key) in &seats {
        let cu = m.chain.send(&[m.commit_ix(&job, *seat, &key.pubkey(), true)?], &[key])?;
        steps.push(("commit_vote", cu));
    }
    print(&m, "3 commits", 0);
    for (seat, key) in &seats {
        let cu = m.chain.send(&[m.reveal_ix(&job, *seat, &key.pubkey(), true)], &[key])?;
        steps.push(("reveal_vote", cu));
    }
    print(&m, "3 reveals (pass)", 0);
    m.end_windows(&job);
    let cu = m.chain.send(&[ix::settle(&PROGRAM_ID, &m.settle_accounts(&job)?)], &[&nodes[0].keypair])?;
    steps.push(("settle", cu));
    print(&m, "settle after the appeal window", cu);
    if show {
        let conserved = m.vault_balance() == m.outstanding();
        println!("vault holds exactly the stakes, rewards, fee pools and open escrows: {conserved}");
    }
    Ok(steps)
}

/// CU of the instructions outside the lifecycle, each measured once on a prepared market.
fn other_instructions() -> Result<Vec<(&'static str, u64)>, ChainError> {
    let mut out = vec![];
    let mut m = LocalMarket::new(MarketParams::default(), &[])?;
    let a = m.authority.clone();
    out.push((
        "propose_params",
        m.chain.send(&[ix::propose_params(&PROGRAM_ID, &a.address(), MarketParams::default())], &[&a.keypair])?,
    ));
    m.chain.advance(3_600);
    out.push(("apply_params", m.chain.send(&[ix::apply_params(&PROGRAM_ID)], &[&a.keypair])?));
    let args = GpuClassArgs { class_id: CLASS, ref_price: 1_000, min_price: 10 };
    out.push(("add_gpu_class", m.chain.send(&[ix::add_gpu_class(&PROGRAM_ID, &a.address(), args)], &[&a.keypair])?));
    let w = m.chain.wallet(3 * STAKE)?;
    out.push((
        "register_node",
        m.chain.send(&[ix::register_node(&PROGRAM_ID, &w.address(), &w.token, spec(100), STAKE)], &[&w.keypair])?,
    ));
    out.push((
        "register_validator",
        m.chain.send(&[ix::register_validator(&PROGRAM_ID, &w.address(), &w.token, STAKE)], &[&w.keypair])?,
    ));
    m.chain.advance(10);
    let activate = ix::activate_validator(&PROGRAM_ID, &w.address(), &m.validator_set);
    out.push(("activate_validator", m.chain.send(&[activate], &[&w.keypair])?));
    out.push((
        "register_submitter",
        m.chain.send(&[ix::register_submitter(&PROGRAM_ID, &w.address(), &w.token, STAKE / 2)], &[&w.keypair])?,
    ));
    let top_up = ix::top_up(&PROGRAM_ID, &w.address(), Role::Submitter, &w.token, 1_000, None);
    out.push(("top_up", m.chain.send(&[top_up], &[&w.keypair])?));
    out.push(("heartbeat", m.chain.send(&[ix::heartbeat(&PROGRAM_ID, &w.address())], &[&w.keypair])?));
    let job = m.create_job(&w, job_spec(1, CLASS, 500, m.chain.now()))?;
    out.push(("cancel", m.chain.send(&[m.cancel_ix(&w, &job)?], &[&w.keypair])?));
    out.push(("close_job", m.chain.send(&[ix::close_job(&PROGRAM_ID, &w.address(), &job)], &[&w.keypair])?));
    let job = m.create_job(&w, job_spec(2, CLASS, 500, m.chain.now()))?;
    m.chain.send(&[m.bid_ix(&w.address(), &job, 400)?], &[&w.keypair])?;
    m.chain.advance(31);
    m.chain.send(&[m.assign_ix(&job)?], &[&w.keypair])?;
    m.chain.advance(120);
    let reassign = ix::reassign(&PROGRAM_ID, &job, &pda::node(&PROGRAM_ID, &w.address()), CLASS);
    out.push(("reassign", m.chain.send(&[reassign], &[&a.keypair])?));
    m.chain.advance(3_600);
    let expire = ix::expire(&PROGRAM_ID, &w.address(), &job, CLASS, &w.token, None);
    out.push(("expire", m.chain.send(&[expire], &[&w.keypair])?));
    out.push((
        "request_unstake",
        m.chain.send(
            &[ix::request_unstake(&PROGRAM_ID, &w.address(), Role::Node, Leaving::Node { gpu_class: CLASS })],
            &[&w.keypair],
        )?,
    ));
    m.chain.advance(3_600);
    out.push((
        "withdraw",
        m.chain.send(&[ix::withdraw(&PROGRAM_ID, &w.address(), Role::Node, &w.token)], &[&w.keypair])?,
    ));
    // An appealed decision, the rewards it paid, and the fees it left.
    let mut w = gpufuel_fixtures::world::world();
    let job = w.submitted_job(1, 0, 500);
    w.vote(&job, |_, _| Some(true));
    let v = w.validators[0].clone();
    out.push(("appeal", w.send(ix::appeal(&PROGRAM_ID, &v.address(), &job, &v.token), &v)?));
    w.m.chain.advance(1);
    w.vote(&job, |_, _| Some(true));
    w.settle(&job)?;
    let claimer = w
        .validators
        .iter()
        .find(|v| {
            w.m.chain.account::<Validator>(&pda::validator(&PROGRAM_ID, &v.address())).is_ok_and(|a| a.rewards > 0)
        })
        .cloned()
        .ok_or_else(|| ChainError::Account("no rewarded validator".into()))?;
    out.push(("claim_rewards", w.send(ix::claim_rewards(&PROGRAM_ID, &claimer.address(), &claimer.token), &claimer)?));
    let a = w.m.authority.clone();
    out.push((
        "withdraw_fees",
        w.send(ix::withdraw_fees(&PROGRAM_ID, &a.address(), gpufuel_fixtures::CLASS, &a.token), &a)?,
    ));
    let next = w.m.chain.wallet(0)?;
    out.push(("transfer_authority", w.send(ix::transfer_authority(&PROGRAM_ID, &a.address(), &next.address()), &a)?));
    out.push(("accept_authority", w.send(ix::accept_authority(&PROGRAM_ID, &next.address()), &next)?));
    // init_market on a fresh chain (with the validator set account created beside it).
    let chain = gpufuel_chain::LocalChain::new()?;
    let admin = chain.admin();
    let set = solana_keypair::Keypair::new();
    let len = gpufuel_core::committee::account_len(64);
    let rent = chain.svm().minimum_balance_for_rent_exemption(len);
    let create = solana_system_interface::instruction::create_account(
        &admin.pubkey(),
        &set.pubkey(),
        rent,
        len as u64,
        &gpufuel_chain::PROGRAM_ID,
    );
    let init = ix::init_market(&PROGRAM_ID, &admin.pubkey(), &chain.mint(), &set.pubkey(), MarketParams::default());
    let units = chain.send(&[create, init], &[&admin, &set])?;
    out.insert(0, ("init_market", units));
    Ok(out)
}

/// Validators in the set [`draw_at_scale`] draws from.
const AT_SCALE: u32 = 10_000;

/// CU of a three-seat draw from a set of `n` activated validators of equal stake. The validator
/// accounts and the stake tree are written straight into LiteSVM (registering 10,000 by
/// transaction would measure nothing more); the draw itself goes through the client, which
/// finds its candidates by running the program's draw on the same state.
fn draw_at_scale(n: u32) -> Result<u64, Box<dyn std::error::Error>> {
    use gpufuel_core::{
        committee::{HEADER_LEN, ValidatorSet, account_len},
        state::{AccountKind, StakeHeader, StakerStatus},
    };
    let mut w = gpufuel_fixtures::world::world();
    let job = w.submitted_job(1, 0, 500);
    let mut set = ValidatorSet { total: 0, tree: vec![0u64; n as usize] };
    for v in &w.validators {
        let v = w.m.chain.account::<Validator>(&pda::validator(&PROGRAM_ID, &v.address()))?;
        set.add(v.index, v.header.stake)?;
    }
    let first = w.validators.len() as u32 + 1;
    let mut svm = w.m.chain.svm();
    let lamports = svm.minimum_balance_for_rent_exemption(Validator::LEN);
    for index in first..=n {
        let owner = solana_address::Address::new_unique();
        let header = StakeHeader {
            kind: AccountKind::Validator as u8,
            bump: 255,
            status: StakerStatus::Active as u8,
            _pad: 0,
            in_flight: 0,
            stake: STAKE,
            unstake_ready_at: 0,
            owner: owner.to_bytes(),
        };
        let v = Validator {
            header,
            rewards: 0,
            active_from: 0,
            index,
            votes: 0,
            overruled: 0,
            missed: 0,
            activated: 1,
            _pad: [0; 7],
        };
        let data = borsh::to_vec(&v)?;
        let account = solana_account::Account {
            lamports,
            data,
            owner: gpufuel_chain::PROGRAM_ID,
            executable: false,
            rent_epoch: 0,
        };
        svm.set_account(pda::validator(&PROGRAM_ID, &owner), account)?;
        set.add(index, STAKE)?;
    }
    let mut data = vec![0u8; account_len(n)];
    data[0] = AccountKind::ValidatorSet as u8;
    data[4..8].copy_from_slice(&n.to_le_bytes());
    data[8..16].copy_from_slice(&set.total.to_le_bytes());
    for (i, leaf) in set.tree.iter().enumerate() {
        data[HEADER_LEN + 8 * i..HEADER_LEN + 8 * i + 8].copy_from_slice(&leaf.to_le_bytes());
    }
    let lamports = svm.minimum_balance_for_rent_exemption(data.len());
    let account =
        solana_account::Account { lamports, data, owner: gpufuel_chain::PROGRAM_ID, executable: false, rent_epoch: 0 };
    svm.set_account(w.m.validator_set, account)?;
    drop(svm);
    w.m.chain.advance(1);
    let client = gpufuel_chain::GpuFuelClient::new(w.m.chain.clone());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let sent = runtime.block_on(client.draw_committee(&w.submitter.keypair, &job))?;
    let seated = w.m.job(&job)?.seats0;
    if seated != 3 {
        return Err(format!("{seated} of 3 seats filled from {n} validators").into());
    }
    Ok(sent.units)
}

fn cu() -> Result<(), Box<dyn std::error::Error>> {
    let steps = lifecycle(false)?;
    let total: u64 = steps.iter().map(|(_, cu)| cu).sum();
    let mut instructions: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, cu) in other_instructions()?.into_iter().chain(steps.iter().copied()) {
        let e = instructions.entry(name).or_default();
        *e = (*e).max(cu);
    }
    let token_cpi = [
        "init_market",
        "register_node",
        "register_validator",
        "register_submitter",
        "top_up",
        "withdraw",
        "create_job",
        "settle",
        "cancel",
        "expire",
        "appeal",
        "claim_rewards",
        "withdraw_fees",
    ];
    println!("{:<20} {:>8}  token CPI / target", "instruction", "CU");
    for (name, cu) in &instructions {
        let cpi = token_cpi.contains(name);
        let verdict = if cpi {
            "yes"
        } else if *cu <= 3_000 {
            "no, <= 3000 met"
        } else {
            "no, > 3000 MISSED"
        };
        println!("{name:<20} {cu:>8}  {verdict}");
    }
    println!(
        "{:<20} {:>8}  target <= 60000: {}",
        "lifecycle_total",
        total,
        if total <= 60_000 { "met" } else { "MISSED" }
    );
    let accounts = BTreeMap::from([
        ("Market", Market::LEN),
        ("GpuClass", GpuClass::LEN),
        ("Node", Node::LEN),
        ("Validator", Validator::LEN),
        ("Submitter", Submitter::LEN),
        ("Job", Job::LEN),
    ]);
    for (name, len) in &accounts {
        println!("account {name:<12} {len:>5} bytes");
    }
    let at_scale = draw_at_scale(AT_SCALE)?;
    println!("{:<20} {at_scale:>8}  three seats from {AT_SCALE} validators", "draw_committee_10k");
    let program_bytes = gpufuel_chain::PROGRAM_SO.len();
    println!(
        "program {program_bytes} bytes (target <= 131072: {})",
        if program_bytes <= 131_072 { "met" } else { "MISSED" }
    );
    write_json(
        "cu",
        &json!({
            "instructions": instructions,
            "lifecycle_total": total,
            "accounts": accounts,
            "program_bytes": program_bytes,
            "draw_committee_10k": at_scale,
        }),
    )
}

/// The middle value of `v` (the upper one of an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Writes `target/bench/<name>.json`.
pub(crate) fn write_json(name: &str, value: &serde_json::Value) -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    fs::create_dir_all(&path)?;
    fs::write(path.join(format!("{name}.json")), serde_json::to_string_pretty(value)?)?;
    println!("wrote target/bench/{name}.json");
    Ok(())
}
