use gpufuel_core::{
    GpuFuelError, seeds,
    state::{GpuClass, Market, Node, NodeSpec, Staker, StakerStatus, Submitter, Validator},
};
use pinocchio::{
    AccountView, Address, ProgramResult,
    cpi::{Seed, Signer},
};

use super::shared::*;

/// Accounts every registration takes, after the role-specific ones are split off.
struct Stake<'a> {
    owner: &'a AccountView,
    owner_token: &'a AccountView,
    vault: &'a AccountView,
    system: &'a AccountView,
    token: &'a AccountView,
}

/// Creates the staker account `T` at `[seed, owner]`, fills the shared header and moves the
/// stake into the vault.
#[inline(always)]
fn open_stake<'a, T: Staker>(
    program_id: &Address,
    market: &Market,
    accounts: &Stake,
    account: &'a mut AccountView,
    (seed, stake, min_stake): (&[u8], u64, u64),
) -> Result<&'a mut T, pinocchio::error::ProgramError> {
    check_signer(accounts.owner)?;
    require(stake >= min_stake && stake > 0, GpuFuelError::StakeTooLow)?;
    check_system_program(accounts.system)?;
    check_token_program(accounts.token)?;
    check_vault(market, accounts.vault)?;
    let owner = accounts.owner.address().as_array();
    check_token_account(market, accounts.owner_token, owner)?;

    let bump = canonical_bump(program_id, account, &[seed, owner])?;
    let bump_seed = [bump];
    let signer_seeds = [Seed::from(seed), Seed::from(owner), Seed::from(&bump_seed)];
    let state = create_pda_account::<T>(program_id, accounts.owner, account, &Signer::from(&signer_seeds))?;
    let header = state.header_mut();
    header.bump = bump;
    header.status = StakerStatus::Active as u8;
    header.stake = stake;
    header.owner = *owner;
    deposit(accounts.owner_token, accounts.vault, accounts.owner, stake)?;
    Ok(state)
}

/// `registration`: the node's spec and its stake (one argument: SBF calls take at most five).
#[inline(never)]
pub fn node(program_id: &Address, accounts: &mut [AccountView], registration: &(NodeSpec, u64)) -> ProgramResult {
    let (spec, stake) = (&registration.0, registration.1);
    let ([owner, market, node, class, owner_token, vault, system, token], _) = take::<8>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    require(class.class_id == spec.gpu_class, GpuFuelError::UnknownGpuClass)?;
    require(spec.gpu_count > 0 && spec.vram_mib > 0, GpuFuelError::InvalidGpuSpec)?;
    require(spec.price_floor > 0, GpuFuelError::ZeroAmount)?;
    let accounts = Stake { owner, owner_token, vault, system, token };
    let min = market.params.min_node_stake;
    let node = open_stake::<Node>(program_id, market, &accounts, node, (seeds::NODE, stake, min))?;
    node.price_floor = spec.price_floor;
    node.vram_mib = spec.vram_mib;
    node.gpu_class = spec.gpu_class;
    node.gpu_count = spec.gpu_count;
    node.compute_capability = spec.compute_capability;
    let now = clock()?;
    node.last_heartbeat = now.unix_timestamp;
    class.nodes = class.nodes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    class.idle_nodes = class.idle_nodes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    class.update_price(now.unix_timestamp, market.params.bid_window_secs);
    Ok(())
}

#[inline(never)]
pub fn validator(program_id: &Address, accounts: &mut [AccountView], stake: u64) -> ProgramResult {
    let ([owner, market, validator, owner_token, vault, system, token], _) = take::<7>(accounts)?;
    let market = load_mut::<Market>(program_id, market)?;
    // Indices are positions in the stake tree; the set's capacity bounds them (ActivateValidator
    // refuses an index beyond it).
    let index = market.validator_count.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    let accounts = Stake { owner, owner_token, vault, system, token };
    let min = market.params.min_validator_stake;
    let bonding = market.params.validator_bonding_secs;
    let validator = open_stake::<Validator>(program_id, market, &accounts, validator, (seeds::VALIDATOR, stake, min))?;
    validator.index = index;
    validator.active_from = add_secs(clock()?.unix_timestamp, bonding)?;
    market.validator_count = index;
    Ok(())
}

#[inline(never)]
pub fn submitter(program_id: &Address, accounts: &mut [AccountView], stake: u64) -> ProgramResult {
    let ([owner, market, submitter, owner_token, vault, system, token], _) = take::<7>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let accounts = Stake { owner, owner_token, vault, system, token };
    let min = market.params.min_submitter_stake;
    open_stake::<Submitter>(program_id, market, &accounts, submitter, (seeds::SUBMITTER, stake, min))?;
    Ok(())
}
