//! The `gpufuel` CLI on a cluster over JSON-RPC: an embedded surfpool server with the program and
//! a market built by transactions. A node operator's and a validator's agents run as processes;
//! a submitter reads prices, registers, submits, follows, cancels and reads the verified result.
//! An operator manages its stake.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use gpufuel_chain::PROGRAM_ID;
use gpufuel_core::{
    committee::{self, Step},
    instruction::GpuClassArgs,
    state::{JobState, NodeSpec},
    task::tensor::{DType, Tensor},
};
use gpufuel_exec::executor::cpu_gemm;
use gpufuel_fixtures::{CLASS, Cluster, Market, REF_PRICE, STAKE, Surfnet, Wallet};
use solana_address::Address;
use solana_signer::Signer;

/// The CLI as one wallet runs it: a Solana config naming the cluster's URL and websocket (so
/// agents subscribe), its keypair file, and a shared store.
struct Cli {
    flags: Vec<String>,
    /// `$XDG_DATA_HOME`: node journals go there, not under the user's home.
    data: PathBuf,
}

impl Cli {
    fn new(dir: &Path, surfnet: &Surfnet, name: &str, wallet: &Wallet) -> Self {
        let keypair = dir.join(format!("{name}.json"));
        std::fs::write(&keypair, serde_json::to_string(&wallet.keypair.to_bytes().to_vec()).unwrap()).unwrap();
        let config = dir.join(format!("{name}-config.yml"));
        let yaml = format!("json_rpc_url: {}\nwebsocket_url: {}\n", surfnet.url(), surfnet.websocket_url());
        std::fs::write(&config, yaml).unwrap();
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let flags = vec![
            "--keypair".into(),
            path(keypair),
            "--store".into(),
            path(dir.join("store")),
            "-C".into(),
            path(config),
        ];
        Self { flags, data: dir.join("data") }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gpufuel"));
        command.args(args).args(&self.flags).env("XDG_DATA_HOME", &self.data);
        command
    }

    /// Runs to completion; stdout on success, stderr on failure.
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let Output { status, stdout, stderr } = self.command(args).output().expect("the binary runs");
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        if status.success() { Ok(text(stdout)) } else { Err(text(stderr)) }
    }

    /// Starts a long-running agent; it is killed when the guard drops (also on a failed assert).
    fn spawn(&self, args: &[&str], log: &Path) -> Agent {
        let log = std::fs::File::create(log).unwrap();
        let child = self.command(args).stdout(log.try_clone().unwrap()).stderr(log).stdin(Stdio::null()).spawn();
        Agent(child.expect("the agent starts"))
    }
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn f32_file(path: &Path, values: &[f32]) {
    std::fs::write(path, values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()).unwrap();
}

/// Follows a job to its end. The cluster's clock only moves with its slots: jump past the bidding
/// window once a bid is in, and past the appeal window once the committee decided.
async fn follow(surfnet: &Surfnet, market: &Market<'_>, job: &Address, logs: &dyn Fn() -> String) -> JobState {
    let client = market.client();
    let (start, mut advanced) = (Instant::now(), false);
    loop {
        let j = client.job(job).await.unwrap();
        let state = j.job_state().unwrap();
        if state.is_terminal() {
            return state;
        }
        if state == JobState::Open && j.best_bid > 0 && !advanced {
            surfnet.advance(j.bid_close - market.now().await + 1).await;
            advanced = true;
        }
        if state == JobState::Submitted
            && let Ok(Step::Appealable { closes, .. }) = committee::step(&j, market.now().await)
        {
            surfnet.advance(closes - market.now().await + 1).await;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "job still {state:?}\n{}", logs());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_a_job_on_a_cluster_from_submission_to_verified_result() {
    let surfnet = Surfnet::start().await;
    let market = Market::new(&surfnet).await;
    let client = market.client();
    let cpu = GpuClassArgs { class_id: 0, ref_price: 100, min_price: 1 };
    client.add_gpu_class(&market.authority, cpu).await.unwrap();
    let (submitter, operator, validator) =
        (market.wallet(20_000_000).await, market.wallet(20_000_000).await, market.wallet(10_000_000).await);
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &surfnet, "submitter", &submitter);

    let prices = cli.run(&["market", "prices"]).unwrap();
    assert!(prices.contains("cpu        100/GPU-s") && prices.contains("rtx-4090   1000/GPU-s"), "{prices}");

    let (m, k, n) = (4, 3, 2);
    let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| 1.0 - i as f32 * 0.25).collect();
    let (a_file, b_file) = (dir.path().join("a.f32"), dir.path().join("b.f32"));
    f32_file(&a_file, &a);
    f32_file(&b_file, &b);
    let (a_arg, b_arg) = (a_file.to_str().unwrap(), b_file.to_str().unwrap());
    let submit = ["job", "submit", "--m", "4", "--k", "3", "--n", "2", "--a", a_arg, "--b", b_arg];
    let submit = [&submit[..], &["--class", "cpu", "--max-price", "500", "--gpu-seconds", "2"]].concat();

    // A fresh wallet is refused until it registers; registering stakes the market's minimum.
    let refused = cli.run(&submit).unwrap_err();
    assert!(refused.contains("is not registered as a submitter"), "{refused}");
    assert_eq!(market.balance(&submitter.token).await, 20_000_000);
    cli.run(&["job", "register"]).unwrap();
    let minimum = client.market().await.unwrap().params.min_submitter_stake;
    assert_eq!(market.balance(&submitter.token).await, 20_000_000 - minimum);

    // Submit and cancel one job before any node runs: its escrow returns.
    let job: Address = cli.run(&submit).unwrap().trim().parse().unwrap();
    let status = cli.run(&["job", "status", &job.to_string()]).unwrap();
    assert!(status.starts_with("state Open  class cpu"), "{status}");
    cli.run(&["job", "cancel", &job.to_string()]).unwrap();
    assert!(cli.run(&["job", "status", &job.to_string()]).unwrap().starts_with("state Cancelled"));
    assert_eq!(market.balance(&submitter.token).await, 20_000_000 - minimum);

    // Submit another, then start a CPU node and a validator as their operators would.
    let job: Address = cli.run(&submit).unwrap().trim().parse().unwrap();
    let node_log = dir.path().join("node.log");
    let validator_log = dir.path().join("validator.log");
    let mut node = Cli::new(dir.path(), &surfnet, "operator", &operator)
        .spawn(&["node", "run", "--cpu", "--poll", "1", "--floor", "20", "--metrics", "127.0.0.1:0"], &node_log);
    let _validator = Cli::new(dir.path(), &surfnet, "validator", &validator)
        .spawn(&["validator", "run", "--poll", "1"], &validator_log);
    let logs = || {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("node:\n{}\nvalidator:\n{}", read(&node_log), read(&validator_log))
    };

    assert_eq!(follow(&surfnet, &market, &job, &logs).await, JobState::Settled, "{}", logs());

    let out = dir.path().join("c.f32");
    cli.run(&["job", "result", &job.to_string(), out.to_str().unwrap(), "--timeout", "10"]).unwrap();
    let c: Vec<f32> =
        std::fs::read(&out).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    let expected = cpu_gemm(&a, &b, m, k, n);
    assert_eq!(c.len(), expected.len());
    assert!(c.iter().zip(&expected).all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs().max(1.0)), "{c:?} vs {expected:?}");
    let j = client.job(&job).await.unwrap();
    assert_eq!((j.round, j.tally(0)), (0, (1, 0)), "the one-seat committee passed it");
    assert_eq!(market.balance(&submitter.token).await, 20_000_000 - minimum - j.best_bid * 2);
    // The operator's status shows what the job paid it, by the settlement rules.
    let pay = gpufuel_core::settlement::pass_payout(j.escrow, j.best_bid, j.gpu_seconds, j.premium, &j.terms).unwrap();
    let status = Cli::new(dir.path(), &surfnet, "operator", &operator).run(&["node", "status"]).unwrap();
    assert!(
        status.contains(&format!("earnings   {} earned, 0 slashed, over 1 ended jobs on chain", pay.node)),
        "{status}"
    );
    assert!(status.contains(&format!("  {job} Settled   +{}", pay.node)), "{status}");
    assert!(pay.node > 0 && pay.node < j.best_bid * 2, "fees are taken from the gross pay");
    // Its metrics, scraped over HTTP: what it did, and its account as the chain has it.
    let endpoint =
        logs().lines().find_map(|l| l.strip_prefix("metrics    http://")?.strip_suffix("/metrics").map(str::to_string));
    let endpoint = endpoint.expect("the node says where its metrics are");
    // The gauges follow the account at the node's next pass (one a second).
    let mut metrics = scrape(&endpoint);
    for _ in 0..40 {
        if metrics.get("gpufuel_node_completed") == Some(&1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        metrics = scrape(&endpoint);
    }
    let on_chain = client.node(&operator.keypair.pubkey()).await.unwrap();
    assert_eq!(metrics.get("gpufuel_node_stake"), Some(&(on_chain.header.stake as f64)), "{metrics:?}");
    assert_eq!(metrics.get("gpufuel_node_completed"), Some(&1.0), "{metrics:?}");
    assert!(metrics.get("gpufuel_node_submitted_total").is_some_and(|n| *n >= 1.0), "{metrics:?}");
    assert!(metrics.get("gpufuel_node_bids_total").is_some_and(|n| *n >= 1.0), "{metrics:?}");
    // Not on a terminal, the agents log JSON lines: what each pass did, the votes.
    let events = |log: &Path, message: &str| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(log).unwrap();
        let lines = text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        lines.filter(|e| e["target"] == "gpufuel::pass" && e["fields"]["message"] == message).collect()
    };
    let submitted: u64 = events(&node_log, "node pass").iter().filter_map(|e| e["fields"]["submitted"].as_u64()).sum();
    assert_eq!(submitted, 1, "{}", logs());
    let votes = events(&validator_log, "vote committed");
    assert!(
        votes.iter().any(|v| v["fields"]["job"] == job.to_string() && v["fields"]["verdict"] == "Pass"),
        "{}",
        logs()
    );
    // The validator's status: its votes, how many agreed with the outcome, its rewards.
    let v = client.validator(&validator.keypair.pubkey()).await.unwrap();
    let status = Cli::new(dir.path(), &surfnet, "validator", &validator).run(&["validator", "status"]).unwrap();
    let record = format!(
        "record     {} votes ({} with the outcome), 0 overruled, 0 seats missed; {} in rewards to claim",
        v.votes, v.votes, v.rewards
    );
    assert!(v.votes >= 1 && v.rewards > 0 && status.contains(&record), "{status}");

    // An ONNX job: a model and a `.npy` input in, one `.npy` per output out.
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/../gpufuel-fixtures/models/classifier.onnx");
    let values: Vec<f32> = (0..12 * 64).map(|i| ((i * 7919 % 2001) as f32 / 1000.0) - 1.0).collect();
    let x = Tensor::new(DType::F32, vec![12, 1, 8, 8], values.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap();
    let x_file = dir.path().join("x.npy");
    std::fs::write(&x_file, x.to_npy()).unwrap();
    let input = format!("x={}", x_file.display());
    let onnx = [
        "job",
        "submit-onnx",
        model,
        "--input",
        &input,
        "--chunk-rows",
        "4",
        "--max-price",
        "500",
        "--gpu-seconds",
        "2",
    ];
    let before = market.balance(&submitter.token).await;
    let wrong = cli.run(&[&onnx[..3], &["--input", "y=/dev/null"]].concat()).unwrap_err();
    assert!(wrong.contains("x.npy") || wrong.contains("/dev/null"), "{wrong}");
    let renamed = format!("y={}", x_file.display());
    let wrong = cli.run(&[&onnx[..3], &["--input", &renamed]].concat()).unwrap_err();
    assert!(wrong.contains("no input \"y\""), "{wrong}");
    assert_eq!(market.balance(&submitter.token).await, before, "nothing escrowed for refused jobs");
    let job: Address = cli.run(&onnx).unwrap().trim().parse().unwrap();
    assert_eq!(follow(&surfnet, &market, &job, &logs).await, JobState::Settled, "{}", logs());
    let outputs = dir.path().join("outputs");
    cli.run(&["job", "result", &job.to_string(), outputs.to_str().unwrap(), "--timeout", "10"]).unwrap();
    let read = |name: &str| Tensor::from_npy(&std::fs::read(outputs.join(name)).unwrap()).unwrap();
    let (logits, label) = (read("logits.npy"), read("label.npy"));
    assert_eq!((logits.shape.clone(), label.shape.clone()), (vec![12, 10], vec![12]));
    assert!(read("probs.npy").to_f64s().chunks(10).all(|row| (row.iter().sum::<f64>() - 1.0).abs() < 1e-5));
    for (row, &l) in logits.to_f64s().chunks(10).zip(&label.to_f64s()) {
        assert_eq!(row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 as f64, l);
    }

    // The vault holds what the program's accounts say it owes.
    let vault = market.balance(&gpufuel_chain::pda::vault(&PROGRAM_ID)).await;
    let show = cli.run(&["market", "show"]).unwrap();
    assert!(show.contains(&format!("vault      {vault} tokens, owes {vault}: conserved")), "{show}");
    assert!(vault > 0);
    // SIGTERM stops the node, which says how many RPC requests it sent.
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(node.0.id() as i32, libc::SIGTERM) }, 0);
    assert!(node.0.wait().unwrap().success());
    assert!(logs().lines().any(|l| l.starts_with("rpc        ") && l.ends_with("per minute)")), "{}", logs());
}

/// `GET /metrics` on `addr`: the samples of an OpenMetrics text response, by name.
fn scrape(addr: &str) -> std::collections::HashMap<String, f64> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK") && head.contains("application/openmetrics-text"), "{head}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// `node doctor` on this machine: every check reported; the GPU's skipped with the reason where
/// there is none; ONNX Runtime, the RPC endpoint, the wallet, the stake, the store and a
/// Freivalds-checked GEMM passing for a registered node. A wallet without SOL or tokens fails
/// those checks, each with its fix, and the command fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_doctor_reports_every_check_and_the_fixes_for_failures() {
    let surfnet = Surfnet::start().await;
    let market = Market::new(&surfnet).await;
    let operator = market.wallet(STAKE).await;
    let spec = NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: 20 };
    market.client().register_node(&operator.keypair, &operator.token, spec, STAKE).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let doctor = |name: &str, wallet: &Wallet| {
        let out = Cli::new(dir.path(), &surfnet, name, wallet).command(&["node", "doctor"]).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, report, stderr) = doctor("operator", &operator);
    // "mark  name<padding>  detail": names have single spaces, the padding at least two.
    let line = |name: &str| {
        report.lines().find(|l| l.get(6..).and_then(|r| r.split("  ").next()) == Some(name)).map(str::to_string)
    };
    for name in
        ["ONNX Runtime", "RPC endpoint", "wallet SOL", "market", "wallet tokens", "stake", "store", "GEMM on the CPU"]
    {
        assert!(line(name).is_some_and(|l| l.starts_with("ok  ")), "{name}:\n{report}");
    }
    assert!(
        line("stake").unwrap().ends_with(&format!("{STAKE} staked (the market asks at least 1000000)")),
        "{report}"
    );
    assert!(line("GEMM on the CPU").unwrap().contains("GFLOP/s on 512×512×512, checked by Freivalds"), "{report}");
    if let Err(why) = gpufuel_exec::executor::cuda_available() {
        let driver = line("NVIDIA driver").unwrap();
        assert_eq!(
            driver.trim_end(),
            format!("skip  NVIDIA driver               no GPU here: {why}; the node serves the cpu class")
        );
        for name in ["GPU", "cuBLAS", "NVRTC", "ONNX Runtime CUDA provider", "GEMM on the GPU"] {
            assert!(
                line(name).is_some_and(|l| l.starts_with("skip") && l.ends_with("no GPU here")),
                "{name}:\n{report}"
            );
        }
        assert!(ok, "{report}\n{stderr}");
    } else {
        eprintln!("a GPU is here: its checks ran\n{report}");
    }

    let stranger = Wallet { keypair: solana_keypair::Keypair::new(), token: Address::default() };
    let (ok, report, stderr) = doctor("stranger", &stranger);
    assert!(!ok, "{report}");
    assert!(stderr.trim().starts_with("error: ") && stderr.trim().ends_with(" checks failed"), "{stderr}");
    assert!(report.contains("FAIL  wallet SOL"), "{report}");
    assert!(
        report.contains("wallet SOL: send SOL to the wallet (`gpufuel wallet airdrop 1` on a test cluster)"),
        "{report}"
    );
    assert!(report.contains("stake: get GPUFuel tokens into the wallet's token account"), "{report}");
}

/// A node operator's stake from the CLI: status, a top-up, an unstake refused while a job holds
/// the stake (naming it), the cooldown, and the withdrawal; then a submitter's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_top_up_unstake_and_withdraw_their_stake_from_the_cli() {
    let surfnet = Surfnet::start().await;
    let market = Market::new(&surfnet).await;
    let client = market.client();
    let operator = market.wallet(STAKE + 1_000).await;
    let spec = NodeSpec { gpu_class: CLASS, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: 20 };
    client.register_node(&operator.keypair, &operator.token, spec, STAKE).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &surfnet, "operator", &operator);

    let status = cli.run(&["node", "status"]).unwrap();
    let lines = [
        format!("node {} (active)", operator.keypair.pubkey()),
        format!("stake      {STAKE}"),
        "in flight  no jobs".into(),
        "record     0 completed, 0 failed validations, 0 missed deadlines; 0 of 1 GPUs busy".into(),
        format!(
            "price      class {} at {REF_PRICE}/GPU-s, this node's floor 20: a GPU-hour earns {} at the reference, \
             72000 at the floor (before fees)",
            gpufuel_core::class::class_name(CLASS),
            REF_PRICE * 3600
        ),
        "earnings   0 earned, 0 slashed, over 0 ended jobs on chain".into(),
    ];
    assert_eq!(status.lines().collect::<Vec<_>>(), lines, "{status}");
    assert_eq!(cli.run(&["node", "top-up", "600"]).unwrap().trim(), format!("stake {}", STAKE + 600));
    assert_eq!(market.balance(&operator.token).await, 400);
    let over = cli.run(&["node", "top-up", "401"]).unwrap_err();
    assert_eq!(over.trim(), format!("error: the wallet's token account {} holds 400, less than 401", operator.token));
    assert_eq!(market.balance(&operator.token).await, 400);

    // A job whose auction the node leads holds the stake.
    let (submitter, create, _) = market.job_to_create().await;
    market.send(&[create], &submitter.keypair, &[&submitter.keypair]).await.unwrap();
    let job = gpufuel_chain::pda::job(&PROGRAM_ID, &submitter.keypair.pubkey(), 1);
    client.bid(&operator.keypair, &job, 100).await.unwrap();
    let held = cli.run(&["node", "unstake"]).unwrap_err();
    assert!(held.contains(&format!("work in flight holds the stake: job {job}")), "{held}");
    assert!(cli.run(&["node", "status"]).unwrap().contains(&format!("in flight  job {job}")));
    let submitter_cli = Cli::new(dir.path(), &surfnet, "submitter", &submitter);
    let theirs = submitter_cli.run(&["submitter", "status"]).unwrap();
    assert!(theirs.contains(&format!("in flight  job {job}")) && theirs.contains("1 jobs created"), "{theirs}");
    client.cancel(&submitter.keypair, &job, &submitter.token).await.unwrap();

    // Unstaking starts the cooldown; the stake comes back once it is over.
    let active = cli.run(&["node", "withdraw"]).unwrap_err();
    assert!(active.contains("the stake is active: unstake first"), "{active}");
    let cooldown = client.market().await.unwrap().params.unstake_cooldown_secs as i64;
    let started = cli.run(&["node", "unstake"]).unwrap();
    assert!(started.starts_with("unstaking: the stake can be withdrawn in"), "{started}");
    let early = cli.run(&["node", "withdraw"]).unwrap_err();
    assert!(early.contains("the cooldown ends in"), "{early}");
    surfnet.advance(cooldown + 1).await;
    assert!(cli.run(&["node", "status"]).unwrap().contains("(unstaking: the stake can be withdrawn now)"));
    let done = cli.run(&["node", "withdraw"]).unwrap();
    assert_eq!(done.trim(), format!("{} tokens returned to {}", STAKE + 600, operator.token));
    assert_eq!(market.balance(&operator.token).await, STAKE + 1_000);
    assert!(cli.run(&["node", "status"]).is_err(), "the node account is closed");
}

/// The program's upgrade authority creates a market from the CLI: a bad parameters file sends
/// nothing; then a mint, the market, test tokens, a class and a proposed change of parameters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_authority_creates_and_administers_a_market_from_the_cli() {
    let surfnet = Surfnet::start().await;
    let deployer = surfnet.deployer();
    surfnet.fund(&deployer.pubkey()).await;
    let admin = Wallet { keypair: deployer, token: Address::default() };
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path(), &surfnet, "admin", &admin);
    let client = gpufuel_chain::GpuFuelClient::new(surfnet.chain());
    let params = dir.path().join("params.toml");
    let params_arg = params.to_str().unwrap();

    let stranger = Wallet { keypair: solana_keypair::Keypair::new(), token: Address::default() };
    let refused = Cli::new(dir.path(), &surfnet, "stranger", &stranger).run(&["market", "init", "--create-mint"]);
    let expected = format!("only the program's upgrade authority {} may create the market", admin.keypair.pubkey());
    assert!(refused.as_ref().unwrap_err().contains(&expected), "{refused:?}");
    std::fs::write(&params, "bid_window_secs = 20\nurgent_bid_window_secs = 40\n").unwrap();
    let refused = cli.run(&["market", "init", "--create-mint", "--params", params_arg]).unwrap_err();
    assert!(refused.contains("urgent_bid_window_secs must be 1 s to bid_window_secs"), "{refused}");
    assert!(client.market().await.is_err(), "nothing was sent");

    std::fs::write(&params, "bid_window_secs = 20\n[terms]\ncommittee_size = 1\nquorum = 1\n").unwrap();
    let created = cli.run(&["market", "init", "--create-mint", "--params", params_arg, "--capacity", "16"]).unwrap();
    assert!(created.starts_with(&format!("market {}", gpufuel_chain::pda::market(&PROGRAM_ID))), "{created}");
    let again = cli.run(&["market", "init", "--create-mint"]).unwrap_err();
    assert!(again.contains("the market of this deployment exists"), "{again}");
    let market = client.market().await.unwrap();
    assert_eq!((market.params.bid_window_secs, market.params.terms.committee_size), (20, 1));
    assert_eq!(market.params.min_node_stake, gpufuel_core::state::MarketParams::default().min_node_stake);

    let user = solana_keypair::Keypair::new().pubkey();
    let funded = cli.run(&["market", "mint-to", &user.to_string(), "5000"]).unwrap();
    assert!(funded.trim().ends_with("holds 5000"), "{funded}");
    assert_eq!(
        cli.run(&["market", "mint-to", &user.to_string(), "1"]).unwrap().trim().split(' ').next_back(),
        Some("5001")
    );
    cli.run(&["market", "add-class", "h100", "--ref-price", "900", "--min-price", "100"]).unwrap();
    assert_eq!(cli.run(&["market", "prices"]).unwrap().trim(), "h100       900/GPU-s");
    let show = cli.run(&["market", "show"]).unwrap();
    assert!(show.contains("class      h100       900/GPU-s (at least 100), 0 nodes"), "{show}");
    assert!(
        show.contains("jobs       0 open, 0 running, 0 being checked") && show.contains("bid_window_secs = 20"),
        "{show}"
    );

    std::fs::write(&params, "min_job_value = 250\n").unwrap();
    let proposed = cli.run(&["market", "params", "--propose", params_arg]).unwrap();
    assert!(proposed.starts_with("proposed; it can be applied in"), "{proposed}");
    let shown = cli.run(&["market", "params"]).unwrap();
    assert!(shown.contains("# proposed") && shown.contains("min_job_value = 250"), "{shown}");
    assert!(cli.run(&["market", "params", "--apply"]).is_err(), "the timelock has not passed");
    surfnet.advance(market.params.params_timelock_secs as i64 + 1).await;
    cli.run(&["market", "params", "--apply"]).unwrap();
    assert_eq!(client.market().await.unwrap().params.min_job_value, 250);
}

/// `gpufuel program deploy` on a cluster with no Solana CLI: the same binary at a new address,
/// whose market the commands reach with `--program-id` or `GPUFUEL_PROGRAM_ID`, apart from the
/// well-known deployment's; then an upgrade, and the authority made final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_deployed_from_the_cli_has_a_market_of_its_own() {
    let surfnet = Surfnet::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A wallet made and funded with the CLI alone.
    let path = dir.path().join("deployer.json");
    let made =
        Command::new(env!("CARGO_BIN_EXE_gpufuel")).args(["wallet", "new", path.to_str().unwrap()]).output().unwrap();
    let keypair = gpufuel_chain::config::read_keypair(&path).unwrap();
    assert_eq!(String::from_utf8_lossy(&made.stdout).trim(), keypair.pubkey().to_string());
    let again =
        Command::new(env!("CARGO_BIN_EXE_gpufuel")).args(["wallet", "new", path.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists: not overwriting a keypair"));
    let wallet = Wallet { keypair, token: Address::default() };
    let cli = Cli::new(dir.path(), &surfnet, "deployer", &wallet);
    assert!(cli.run(&["wallet", "airdrop", "0"]).unwrap_err().contains("ask for a positive amount"));
    assert_eq!(
        cli.run(&["wallet", "airdrop", "10"]).unwrap().trim(),
        format!("{} holds 10 SOL", wallet.keypair.pubkey())
    );
    let so = dir.path().join("gpufuel_program.so");
    std::fs::write(&so, gpufuel_chain::PROGRAM_SO).unwrap();
    let so = so.to_str().unwrap();

    let deployed = cli.run(&["program", "deploy", so, "--parallel", "8"]).unwrap();
    let keypair = gpufuel_chain::config::read_keypair(&dir.path().join("gpufuel_program-keypair.json")).unwrap();
    let id = keypair.pubkey().to_string();
    assert!(
        deployed.contains(&format!("program {id} deployed (upgrade authority {})", wallet.keypair.pubkey())),
        "{deployed}"
    );
    let again = cli.run(&["program", "deploy", so]).unwrap_err();
    assert!(again.contains(&format!("{id} is deployed already")), "{again}");

    let created = cli.run(&["market", "init", "--create-mint", "--program-id", &id]).unwrap();
    assert!(created.starts_with(&format!("market {}", gpufuel_chain::pda::market(&keypair.pubkey()))), "{created}");
    let with_env = |args: &[&str]| {
        let Output { status, stdout, stderr } = cli.command(args).env("GPUFUEL_PROGRAM_ID", &id).output().unwrap();
        assert!(status.success(), "{}", String::from_utf8_lossy(&stderr));
        String::from_utf8_lossy(&stdout).into_owned()
    };
    with_env(&["market", "add-class", "a100", "--ref-price", "300", "--min-price", "30"]);
    assert_eq!(cli.run(&["market", "prices", "--program-id", &id]).unwrap().trim(), "a100       300/GPU-s");
    assert!(cli.run(&["market", "show"]).is_err(), "the well-known deployment has no market here");

    let upgraded = cli.run(&["program", "upgrade", so, "--program-id", &id]).unwrap();
    assert!(upgraded.contains(&format!("program {id} upgraded")), "{upgraded}");
    assert_eq!(with_env(&["market", "prices"]).trim(), "a100       300/GPU-s", "state survives the upgrade");
    let made_final = cli.run(&["program", "set-authority", "--final", "--program-id", &id]).unwrap();
    assert!(made_final.contains("is final"), "{made_final}");
    assert!(cli.run(&["program", "upgrade", so, "--program-id", &id]).is_err(), "nobody can upgrade it now");
}
