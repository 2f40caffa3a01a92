use gpufuel_core::{
    GpuFuelError,
    instruction::GpuClassArgs,
    seeds,
    state::{GpuClass, Market},
};
use pinocchio::{
    AccountView, Address, ProgramResult,
    cpi::{Seed, Signer},
};

use super::shared::*;

#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView], args: &GpuClassArgs) -> ProgramResult {
    let ([authority, market, class, system], _) = take::<4>(accounts)?;
    check_signer(authority)?;
    let market = load::<Market>(program_id, market)?;
    require(authority.address().as_array() == &market.authority, GpuFuelError::Unauthorized)?;
    check_system_program(system)?;
    let GpuClassArgs { class_id, ref_price, min_price } = *args;
    require(min_price > 0, GpuFuelError::ZeroAmount)?;
    require(ref_price >= min_price, GpuFuelError::InvalidParams)?;

    let id = [class_id];
    let bump = canonical_bump(program_id, class, &[seeds::GPU_CLASS, &id])?;
    let bump_seed = [bump];
    let signer_seeds = [Seed::from(seeds::GPU_CLASS), Seed::from(&id), Seed::from(&bump_seed)];
    let state = create_pda_account::<GpuClass>(program_id, authority, class, &Signer::from(&signer_seeds))?;
    state.bump = bump;
    state.class_id = class_id;
    state.ref_price = ref_price;
    state.min_price = min_price;
    state.last_update_at = clock()?.unix_timestamp;
    Ok(())
}
