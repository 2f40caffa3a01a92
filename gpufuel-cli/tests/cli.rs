//! The `gpufuel` binary: the README's main job, and clear errors for bad input.

use std::process::Command;

fn gpufuel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gpufuel")).args(args).output().expect("the binary runs")
}

#[test]
fn local_runs_a_market_catches_the_dishonest_node_and_conserves_tokens() {
    let out = gpufuel(&["local", "--quiet", "--no-gpu", "--jobs", "6"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("lazy — caught"), "{text}");
    assert!(!text.contains("HONEST BUT SLASHED"), "{text}");
    assert!(text.contains("— conserved"), "{text}");
    assert!(text.contains("result = local GEMM within"), "{text}");
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let out = gpufuel(&["local", "--dishonest", "sneaky"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dishonest behaviour 'sneaky'"));
    let out = gpufuel(&["local", "--jobs", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jobs must be at least 1"));
    let submit = ["job", "submit", "--m", "1", "--k", "1", "--n", "1", "--a", "a", "--b", "b"];
    let out = gpufuel(&[&submit[..], &["--class", "tpu-v9"]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown GPU class 'tpu-v9'; known: 0 (cpu)"));
    let out = gpufuel(&["market", "show", "--program-id", "nope", "--config", "/nonexistent.yml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("program id: \"nope\" is not a base58 address"));
    let out = Command::new(env!("CARGO_BIN_EXE_gpufuel"))
        .args(["market", "show", "--config", "/nonexistent.yml"])
        .env("GPUFUEL_PROGRAM_ID", "0OIl")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GPUFUEL_PROGRAM_ID: \"0OIl\" is not a base58 address"));
}

#[test]
fn the_default_market_parameters_need_no_wallet_or_cluster() {
    let out =
        gpufuel(&["market", "params", "--defaults", "--config", "/nonexistent.yml", "--keypair", "/nonexistent.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let params: gpufuel_core::state::MarketParams = toml::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(params, gpufuel_core::state::MarketParams::default());
}

/// Output into a closed pipe (`gpufuel … | grep -q`) ends the process by SIGPIPE, quietly,
/// instead of a panic.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_gpufuel"))
        .args(["market", "params", "--defaults"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&out.status), Some(libc::SIGPIPE));
}
