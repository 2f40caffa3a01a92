//! The GPUFuel on-chain program: a GPU compute market with staking, escrowed jobs, bidding,
//! validator attestations, settlement and slashing. Encodings and rules come from
//! [`gpufuel_core`]; this crate checks accounts and moves tokens.
#![no_std]

// The native build (for sharing types and tests) links std for its panic handler; the SBF build
// has its own below.
#[cfg(not(target_arch = "bpf"))]
extern crate std;

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

pub mod processor;

#[cfg(target_arch = "bpf")]
mod entrypoint {
    // The most accounts an instruction takes: a settlement's 11 and 16 seats, a draw's candidates.
    pinocchio::program_entrypoint!(crate::processor::process_instruction, 64);
    pinocchio::default_allocator!();
    pinocchio::nostd_panic_handler!();
}
