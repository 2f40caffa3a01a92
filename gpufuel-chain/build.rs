//! Embeds the SBF program built by `scripts/build-program.sh`; fails with instructions if absent.
use std::path::PathBuf;

fn main() {
    let so = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/gpufuel_program.so");
    println!("cargo:rerun-if-changed={}", so.display());
    if !so.exists() {
        panic!(
            "\n\n{} is missing: the embedded chain needs the on-chain program.\n\
             Build it first with `scripts/build-program.sh` (after `scripts/setup.sh`).\n\n",
            so.display()
        );
    }
    println!("cargo:rustc-env=GPUFUEL_PROGRAM_SO={}", so.canonicalize().unwrap().display());
}
