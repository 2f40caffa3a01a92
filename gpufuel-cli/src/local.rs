//! `gpufuel local`: a market in one process with honest and dishonest nodes, a mix of jobs, live
//! progress, and a report that checks what the protocol promises.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use gpufuel_chain::local::Wallet;
use gpufuel_core::{
    class::class_name,
    proof::freivalds::Precision,
    state::{Job, JobState, Node, Validator},
    task::{Task, mlp::Mlp},
};
use gpufuel_exec::{agent::Behaviour, executor::cpu_gemm};
use gpufuel_network::{JobProgress, LocalNetwork, LocalNetworkConfig};
use gpufuel_sdk::{
    JobOptions, JobResult,
    job::{self, Training},
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use solana_address::Address;

use crate::CliResult;

#[derive(clap::Args)]
pub struct Args {
    /// Honest CPU nodes.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Validators.
    #[arg(long, default_value_t = 3)]
    validators: usize,
    /// Dishonest nodes to add: lazy, copying or partial (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', default_value = "lazy")]
    dishonest: Vec<String>,
    /// Jobs to submit (a mix of matrix products and training runs; one is urgent).
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Do not run a node on the GPU even if one is found.
    #[arg(long)]
    no_gpu: bool,
    /// No progress bars (for logs).
    #[arg(long)]
    quiet: bool,
}

/// Deterministic test data in [-1, 1).
fn data(len: usize, salt: usize) -> Vec<f32> {
    (0..len).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

struct Submitted {
    address: Address,
    label: String,
    urgent: bool,
    /// For products: the local result to compare with.
    expected: Option<Vec<f32>>,
    task: Task,
    options: JobOptions,
    /// Whether this job already redoes a slashed one (each is redone once).
    redo: bool,
}

/// Submits a job and gives it a progress bar.
async fn submit(
    net: &LocalNetwork,
    submitter: &Wallet,
    bars: &MultiProgress,
    by_job: &Mutex<HashMap<Address, ProgressBar>>,
    job: Submitted,
) -> Result<Submitted, Box<dyn std::error::Error>> {
    let address = net.submit(submitter, &job.task, job.options).await?;
    let bar = bars.add(ProgressBar::new(100));
    bar.set_style(
        ProgressStyle::with_template("{prefix:<40} [{bar:24}] {msg}").expect("template").progress_chars("=> "),
    );
    bar.set_prefix(format!("{}{}", job.label, if job.urgent { " (urgent)" } else { "" }));
    by_job.lock().expect("bars").insert(address, bar);
    Ok(Submitted { address, ..job })
}

pub async fn run(args: Args) -> CliResult {
    let dishonest: Vec<Behaviour> = args
        .dishonest
        .iter()
        .map(|s| s.trim().parse::<Behaviour>())
        .filter(|b| b != &Ok(Behaviour::Honest))
        .collect::<Result<_, _>>()?;
    if args.jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    let started = Instant::now();
    let bars = MultiProgress::new();
    if args.quiet {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let by_job: Arc<Mutex<HashMap<Address, ProgressBar>>> = Arc::default();
    let progress = {
        let by_job = by_job.clone();
        Arc::new(move |job: Address, done: f32| {
            if let Some(bar) = by_job.lock().expect("bars").get(&job) {
                bar.set_position((done * 100.0) as u64);
            }
        }) as JobProgress
    };
    let config = LocalNetworkConfig {
        nodes: args.nodes,
        validators: args.validators,
        dishonest: dishonest.clone(),
        use_gpu: !args.no_gpu,
        progress: Some(progress),
        ..LocalNetworkConfig::default()
    };
    println!(
        "Starting a local GPUFuel market: embedded chain (LiteSVM + the SBF program + SPL Token), embedded IPFS store"
    );
    let net = LocalNetwork::start(config).await?;
    if let Some(note) = &net.gpu_note {
        println!("  {note}; CPU nodes only");
    }
    for n in &net.nodes {
        let caps = n.executor.capabilities();
        println!(
            "  node {}  {:<8} {} ({})",
            short(&n.wallet.address()),
            n.behaviour.name(),
            caps.device,
            class_name(caps.spec.gpu_class)
        );
    }
    let terms = net.client.market().await?.params.terms;
    println!(
        "  {} validators: committees of {} drawn by stake (quorum {}), appeals to {} (majority of at least {})",
        net.validators.len(),
        terms.committee_size,
        terms.quorum,
        terms.appeal_committee_size,
        terms.appeal_quorum
    );

    let alice = net.submitter(500_000_000).await?;
    let held_before = net.tokens_held();
    let stakes_before: Vec<u64> = stakes(&net).await?;
    let mut jobs = Vec::new();
    let mut repeat: Option<(Task, String)> = None;
    // Every other product goes to the GPU's class when a GPU node runs.
    let gpu_class = net.nodes.iter().map(|n| n.executor.capabilities().spec.gpu_class).find(|&c| c != 0);
    for i in 0..args.jobs {
        let urgent = i == 1;
        let class = gpu_class.filter(|_| i % 3 != 2 && i % 2 == 1).unwrap_or(0);
        let options = JobOptions { urgent, gpu_class: class, gpu_seconds: 20, max_price: 150, ..JobOptions::default() };
        // With a copying node present, the last job repeats the first one's inputs.
        let (task, label, expected) = match (&repeat, i + 1 == args.jobs && dishonest.contains(&Behaviour::Copying)) {
            (Some((task, label)), true) => (task.clone(), format!("{label} (repeat)"), None),
            _ if i % 3 == 2 => {
                let model = Mlp { inputs: 16, hidden: 32 };
                let rows = 512;
                let x = data(rows * 16, i);
                let y: Vec<f32> = (0..rows).map(|r| (x[r * 16] * 1.5 - x[r * 16 + 7]).tanh()).collect();
                let init: Vec<f32> = data(model.params(), i + 100).iter().map(|v| v * 0.2).collect();
                let training = Training { segments: 64, ..Training::new(model) };
                let task = job::iterative_task(net.store.as_ref(), training, &x, &y, &init).await?;
                (task, "train MLP 16-32-1, 256 steps".to_string(), None)
            }
            _ => {
                let n = 64 << (i % 3);
                let (a, b) = (data(n * n, i), data(n * n, i + 50));
                let dims = (n as u32, n as u32, n as u32);
                let task = job::matmul_task(net.store.as_ref(), dims, &a, &b, Precision::F32).await?;
                let on = if class == 0 { String::new() } else { format!(" on {}", class_name(class)) };
                (task, format!("matmul {n}×{n}×{n}{on}"), Some(cpu_gemm(&a, &b, n, n, n)))
            }
        };
        if repeat.is_none() && matches!(task, Task::MatMul(_)) {
            repeat = Some((task.clone(), label.clone()));
        }
        let job = Submitted { address: Address::default(), label, urgent, expected, task, options, redo: false };
        jobs.push(submit(&net, &alice, &bars, &by_job, job).await?);
    }

    let class = 0u8;
    let mut prices = vec![(0i64, net.client.gpu_class(class).await?.ref_price)];
    let t0 = net.chain.now();
    let mut steps = 0;
    loop {
        let mut done = true;
        let mut redo = vec![];
        for j in jobs.iter_mut() {
            let job = net.client.job(&j.address).await?;
            let state = job.job_state()?;
            done &= state.is_terminal();
            // What a submitter does with a slashed job: its escrow came back, so it pays again.
            if state == JobState::Slashed && !j.redo {
                j.redo = true;
                let label = format!("{} (again)", j.label);
                let again = Submitted { label, expected: j.expected.clone(), task: j.task.clone(), ..*j };
                redo.push(again);
                done = false;
            }
            if let Some(bar) = by_job.lock().expect("bars").get(&j.address) {
                bar.set_message(describe(&net, &job, state));
                if state.is_terminal() {
                    bar.set_position(100);
                }
            }
        }
        for job in redo {
            jobs.push(submit(&net, &alice, &bars, &by_job, job).await?);
        }
        let price = net.client.gpu_class(class).await?.ref_price;
        if prices.last().map(|p| p.1) != Some(price) {
            prices.push((net.chain.now() - t0, price));
        }
        if done {
            break;
        }
        if steps > 2_000 {
            return Err("jobs did not finish within 2,000 steps".into());
        }
        net.step().await?;
        steps += 1;
        if !args.quiet {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for bar in by_job.lock().expect("bars").values() {
        bar.finish();
    }
    report(&net, &jobs, &prices, held_before, &stakes_before, started.elapsed(), net.chain.now() - t0).await
}

fn short(a: &Address) -> String {
    let s = a.to_string();
    format!("{}…", &s[..6])
}

fn describe(net: &LocalNetwork, job: &Job, state: JobState) -> String {
    let node = net
        .nodes
        .iter()
        .find(|n| gpufuel_chain::pda::node(net.client.program(), &n.wallet.address()).to_bytes() == job.node)
        .map(|n| format!(" node {} ({})", short(&n.wallet.address()), n.behaviour.name()))
        .unwrap_or_default();
    match state {
        JobState::Open if job.best_bid > 0 => format!("bidding, best {}/s{node}", job.best_bid),
        JobState::Open => "open".into(),
        JobState::Assigned => format!("running at {}/s{node}", job.best_bid),
        JobState::Submitted => {
            let (pass, fail) = job.tally(job.round);
            let round = if job.round == 0 { "committee" } else { "appeal committee" };
            format!("proving: {round} {pass} pass / {fail} fail{node}")
        }
        JobState::Settled => format!("SETTLED at {}/s, votes {}{node}", job.best_bid, votes(job)),
        JobState::Slashed => format!("SLASHED (refunded), votes {}{node}", votes(job)),
        JobState::Unresolved => format!("UNRESOLVED (refunded, no decision), votes {}{node}", votes(job)),
        JobState::Invalid => {
            format!("INVALID TASK (fails for everyone; refunded less the check), votes {}{node}", votes(job))
        }
        s => format!("{s:?}"),
    }
}

/// Pass/fail votes of the deciding round (and of the first, when appealed).
fn votes(job: &Job) -> String {
    let (pass, fail) = job.tally(job.round);
    match job.round {
        0 => format!("{pass}/{fail}"),
        _ => format!("{pass}/{fail} on appeal ({}/{} first)", job.tally(0).0, job.tally(0).1),
    }
}

async fn stakes(net: &LocalNetwork) -> Result<Vec<u64>, Box<dyn std::error::Error>> {
    let mut out = vec![];
    for n in &net.nodes {
        out.push(net.client.node(&n.wallet.address()).await?.header.stake);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn report(
    net: &LocalNetwork,
    jobs: &[Submitted],
    prices: &[(i64, u64)],
    held_before: u64,
    stakes_before: &[u64],
    wall: Duration,
    chain_secs: i64,
) -> CliResult {
    println!("\n== Report ({:.1} s, {chain_secs} s of chain time) ==", wall.as_secs_f64());
    println!("\nJobs");
    let (mut settled, mut slashed) = (0, 0);
    for j in jobs {
        let address = &j.address;
        let job = net.client.job(address).await?;
        let state = job.job_state()?;
        let paid = u64::from(job.gpu_seconds) * job.best_bid + job.premium;
        settled += usize::from(state == JobState::Settled);
        slashed += usize::from(state == JobState::Slashed);
        let mut line = format!(
            "  {:<40} {:<9} {:>4}/s × {:>3} GPU-s{} = {:>6} tokens  {}",
            j.label,
            format!("{state:?}"),
            job.best_bid,
            job.gpu_seconds,
            if j.urgent { format!(" + {} premium", job.premium) } else { String::new() },
            if state == JobState::Settled { paid } else { 0 },
            describe(net, &job, state),
        );
        if let (Some(expected), JobState::Settled) = (&j.expected, state)
            && let JobResult::Tensor { values: c, .. } = job::result(&net.client, net.store.as_ref(), address).await?
        {
            let err = c.iter().zip(expected).map(|(a, b)| ((a - b) / b.abs().max(1.0)).abs()).fold(0f32, f32::max);
            line.push_str(&format!("; result = local GEMM within {err:.1e}"));
        }
        println!("{line}");
    }
    println!("  {settled} settled, {slashed} slashed (escrow refunded), {} other", jobs.len() - settled - slashed);

    println!("\nReference price of class 0 (cpu) over time");
    let trail: Vec<String> = prices.iter().map(|(t, p)| format!("t+{t}s: {p}")).collect();
    println!("  {}", trail.join(" → "));

    println!("\nNodes");
    for (n, before) in net.nodes.iter().zip(stakes_before) {
        let node: Node = net.client.node(&n.wallet.address()).await?;
        let verdict = match (n.behaviour, node.failed_validations) {
            (Behaviour::Honest, 0) => "honest, never slashed".to_string(),
            (Behaviour::Honest, f) => format!("HONEST BUT SLASHED {f} times"),
            (b, 0) => format!("{} — not caught (won no job)", b.name()),
            (b, f) => format!("{} — caught {f} times, stake slashed", b.name()),
        };
        println!(
            "  node {} stake {:>9} → {:>9}  completed {:>2}  failed {:>2}  missed {:>2}  wallet {:>10}  {verdict}",
            short(&n.wallet.address()),
            before,
            node.header.stake,
            node.completed,
            node.failed_validations,
            node.missed_deadlines,
            net.chain.balance(&n.wallet.token),
        );
    }
    println!("\nValidators");
    for v in &net.validators {
        let account = gpufuel_chain::pda::validator(net.client.program(), &v.operator());
        let val: Validator = net.chain.account(&account)?;
        println!(
            "  validator {} votes {:>2}  overruled {}  missed {}  rewards {:>6}  stake {}",
            short(&v.operator()),
            val.votes,
            val.overruled,
            val.missed,
            val.rewards,
            val.header.stake
        );
    }
    let held_after = net.tokens_held();
    println!(
        "\nToken conservation: {held_before} before, {held_after} after — {}",
        if held_before == held_after { "conserved" } else { "NOT CONSERVED" }
    );
    if held_before != held_after {
        return Err("token balances are not conserved".into());
    }
    Ok(())
}
