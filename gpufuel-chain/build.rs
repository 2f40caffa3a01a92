//! With the `local` feature, embeds the SBF program built by `scripts/build-program.sh` for
//! `LocalChain`, and fails with instructions if it is absent. Without it, nothing to do.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_LOCAL");
    if std::env::var_os("CARGO_FEATURE_LOCAL").is_none() {
        return;
    }
    let so = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/gpufuel_program.so");
    println!("cargo:rerun-if-changed={}", so.display());
    let Ok(path) = so.canonicalize() else {
        eprintln!(
            "\n{} is missing: the embedded chain (feature `local`) needs the on-chain program.\n\
             Build it first with `scripts/build-program.sh` (after `scripts/setup.sh`).\n",
            so.display()
        );
        std::process::exit(1);
    };
    println!("cargo:rustc-env=GPUFUEL_PROGRAM_SO={}", path.display());
}
