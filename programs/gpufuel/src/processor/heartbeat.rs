use gpufuel_core::{GpuFuelError, state::Node};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([operator, node], _) = take::<2>(accounts)?;
    check_signer(operator)?;
    let node = load_mut::<Node>(program_id, node)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    node.last_heartbeat = clock()?.unix_timestamp;
    Ok(())
}
