//! The program's addresses (canonical PDAs) for a deployment at `program`.
use gpufuel_core::seeds;
use solana_address::Address;

fn find(program: &Address, seeds: &[&[u8]]) -> Address {
    Address::find_program_address(seeds, program).0
}

/// The market.
pub fn market(program: &Address) -> Address {
    find(program, &[seeds::MARKET])
}
/// The vault holding every stake and escrow.
pub fn vault(program: &Address) -> Address {
    find(program, &[seeds::VAULT])
}
/// A GPU class.
pub fn gpu_class(program: &Address, class_id: u8) -> Address {
    find(program, &[seeds::GPU_CLASS, &[class_id]])
}
/// A node operator's node account.
pub fn node(program: &Address, operator: &Address) -> Address {
    find(program, &[seeds::NODE, operator.as_ref()])
}
/// A validator's account.
pub fn validator(program: &Address, operator: &Address) -> Address {
    find(program, &[seeds::VALIDATOR, operator.as_ref()])
}
/// A submitter's account.
pub fn submitter(program: &Address, authority: &Address) -> Address {
    find(program, &[seeds::SUBMITTER, authority.as_ref()])
}
/// A job.
pub fn job(program: &Address, submitter: &Address, job_id: u64) -> Address {
    find(program, &[seeds::JOB, submitter.as_ref(), &job_id.to_le_bytes()])
}
/// The upgradeable loader's program data account of the deployment at `program` (it records the
/// upgrade authority, the only signer `InitMarket` accepts).
pub fn program_data(program: &Address) -> Address {
    Address::find_program_address(&[program.as_ref()], &solana_sdk_ids::bpf_loader_upgradeable::ID).0
}
