use gpufuel_core::{GpuFuelError, state::Node};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let ([operator, node], _) = take::<2>(accounts)?;
    check_signer(operator)?;
    let node = load_mut::<Node>(program_id, node)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    node.last_heartbeat = clock()?.unix_timestamp;
    Ok(())
}
