//! The real Kubo core for tests: the Python of the venv that holds it (`scripts/kubo-env.sh`) and
//! the test-only front over it (`gpufuel-store/tests/kubo/kubo_front.py`: the Kubo RPC API, and
//! the Pinning Service API at `/pins` with [`PIN_TOKEN`]).

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

/// The Kubo helpers' directory.
pub const KUBO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../gpufuel-store/tests/kubo");

/// The bearer token of the front's Pinning Service API.
pub const PIN_TOKEN: &str = "test-token";

/// The Python of the venv holding the real Kubo core. Missing outside CI: the caller skips with a
/// printed reason; in CI (`CI` set) a missing core fails the test.
pub fn kubo_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("GPUFUEL_KUBO_PYTHON").map(PathBuf::from),
        std::env::var_os("GPUFUEL_TOOLS").map(|t| PathBuf::from(t).join("kubo-venv/bin/python")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gpufuel-tools/kubo-venv/bin/python")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the real Kubo core: run scripts/kubo-env.sh");
        eprintln!("SKIPPED: the real Kubo core is not installed (run scripts/kubo-env.sh)");
    }
    found
}

/// A Python command for the Kubo helpers, run in the temp directory: the Kubo core writes its
/// log (kubo.log) to the working directory.
pub fn kubo(python: &Path) -> Command {
    let mut command = Command::new(python);
    command.current_dir(std::env::temp_dir());
    command
}

/// A Kubo RPC endpoint: `GPUFUEL_KUBO_API`, or the test-only front over the real Kubo core, which
/// also serves the Pinning Service API (pin requests fail after 1 s without the content).
pub struct Endpoint {
    /// The RPC API's base URL (the Pinning Service API's too, for the front).
    pub api: String,
    front: Option<Child>,
}

impl Endpoint {
    /// A real node's (`GPUFUEL_KUBO_API`), else a new front; `None` (printed) without the core.
    pub fn start() -> Option<Self> {
        if let Some(api) = std::env::var_os("GPUFUEL_KUBO_API") {
            return Some(Self { api: api.to_string_lossy().into_owned(), front: None });
        }
        Self::front()
    }

    /// A new front over the real Kubo core; `None` (printed) without the core.
    pub fn front() -> Option<Self> {
        let python = kubo_python()?;
        let mut child = kubo(&python)
            .arg(format!("{KUBO_DIR}/kubo_front.py"))
            .arg("--stdin-eof-exits")
            .args(["--pin-token", PIN_TOKEN, "--pin-timeout", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the front starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("the front's first line");
        let port = line.trim().strip_prefix("LISTENING ").unwrap_or_else(|| panic!("front said {line:?}"));
        Some(Self { api: format!("http://127.0.0.1:{port}"), front: Some(child) })
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(child) = &mut self.front {
            let _ = child.stdin.take().map(|mut s| s.flush());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
