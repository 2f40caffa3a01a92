//! The program's addresses (canonical PDAs).
use gpufuel_core::seeds;
use solana_address::Address;

use crate::PROGRAM_ID;

fn find(seeds: &[&[u8]]) -> Address {
    Address::find_program_address(seeds, &PROGRAM_ID).0
}

/// The market.
pub fn market() -> Address {
    find(&[seeds::MARKET])
}
/// The vault holding every stake and escrow.
pub fn vault() -> Address {
    find(&[seeds::VAULT])
}
/// A GPU class.
pub fn gpu_class(class_id: u8) -> Address {
    find(&[seeds::GPU_CLASS, &[class_id]])
}
/// A node operator's node account.
pub fn node(operator: &Address) -> Address {
    find(&[seeds::NODE, operator.as_ref()])
}
/// A validator's account.
pub fn validator(operator: &Address) -> Address {
    find(&[seeds::VALIDATOR, operator.as_ref()])
}
/// A submitter's account.
pub fn submitter(authority: &Address) -> Address {
    find(&[seeds::SUBMITTER, authority.as_ref()])
}
/// A job.
pub fn job(submitter: &Address, job_id: u64) -> Address {
    find(&[seeds::JOB, submitter.as_ref(), &job_id.to_le_bytes()])
}
/// The upgradeable loader's program data account of the GPUFuel program (it records the upgrade
/// authority, the only signer `InitMarket` accepts).
pub fn program_data() -> Address {
    program_data_of(&PROGRAM_ID)
}
/// The program data account of a deployment at `program`.
pub fn program_data_of(program: &Address) -> Address {
    Address::find_program_address(&[program.as_ref()], &solana_sdk_ids::bpf_loader_upgradeable::ID).0
}
