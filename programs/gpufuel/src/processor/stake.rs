//! Top-up, unstake request and withdrawal: one code path for nodes, validators and submitters.

use gpufuel_core::{
    GpuFuelError,
    state::{AccountKind, GpuClass, Market, Node, StakeHeader, Staker, StakerStatus, Submitter, Validator},
};
use pinocchio::{AccountView, Address, ProgramResult, error::ProgramError};

use super::shared::*;

/// The stake header of a node, validator or submitter account, checked like [`load_mut`].
#[inline(always)]
fn load_staker<'a>(program_id: &Address, account: &'a mut AccountView) -> Result<&'a mut StakeHeader, ProgramError> {
    #[inline(always)]
    fn header<'b, T: Staker>(
        program_id: &Address,
        account: &'b mut AccountView,
    ) -> Result<&'b mut StakeHeader, ProgramError> {
        Ok(load_mut::<T>(program_id, account)?.header_mut())
    }
    require(account.owned_by(program_id), GpuFuelError::InvalidAccountOwner)?;
    // SAFETY: a shared look at the first byte; the mutable borrow below starts after it.
    let kind = unsafe { account.borrow_unchecked() }.first().copied();
    match kind {
        Some(k) if k == AccountKind::Node as u8 => header::<Node>(program_id, account),
        Some(k) if k == AccountKind::Validator as u8 => header::<Validator>(program_id, account),
        Some(k) if k == AccountKind::Submitter as u8 => header::<Submitter>(program_id, account),
        _ => Err(err(GpuFuelError::InvalidAccountType)),
    }
}

/// The staker's header, checked to belong to the signing `owner`.
#[inline(always)]
fn owned_staker<'a>(
    program_id: &Address,
    owner: &AccountView,
    account: &'a mut AccountView,
) -> Result<&'a mut StakeHeader, ProgramError> {
    check_signer(owner)?;
    let header = load_staker(program_id, account)?;
    require(owner.address().as_array() == &header.owner, GpuFuelError::Unauthorized)?;
    Ok(header)
}

#[inline(never)]
pub fn top_up(program_id: &Address, accounts: &mut [AccountView], amount: u64) -> ProgramResult {
    let ([owner, market, staker, owner_token, vault, token], rest) = take::<6>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let header = owned_staker(program_id, owner, staker)?;
    require(amount > 0, GpuFuelError::ZeroAmount)?;
    require(header.is_active(), GpuFuelError::StakerExiting)?;
    check_vault(market, vault)?;
    check_token_program(token)?;
    check_token_account(market, owner_token, &header.owner)?;
    header.stake = header.stake.checked_add(amount).ok_or(err(GpuFuelError::Overflow))?;
    let is_validator = header.kind == AccountKind::Validator as u8;
    if is_validator && load::<Validator>(program_id, staker)?.activated == 1 {
        // An activated validator's stake is its weight in the draw: the tree follows.
        let ([set_account], _) = take::<1>(rest)?;
        let index = load::<Validator>(program_id, staker)?.index;
        let mut view = validator_set(program_id, market, set_account, true)?;
        view.set.add(index, amount).map_err(err)?;
        view.store();
    }
    deposit(owner_token, vault, owner, amount)
}

#[inline(never)]
pub fn request_unstake(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([owner, market, staker], rest) = take::<3>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let kind = owned_staker(program_id, owner, staker)?.kind;
    if kind == AccountKind::Node as u8 {
        // A node leaves its class's supply: the class account follows the staker.
        let ([class], _) = take::<1>(rest)?;
        let node = load_mut::<Node>(program_id, staker)?;
        let class = load_mut::<GpuClass>(program_id, class)?;
        require(class.class_id == node.gpu_class, GpuFuelError::UnknownGpuClass)?;
        let idle = node.is_idle();
        begin_exit(&mut node.header, market)?;
        class.nodes = class.nodes.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        if idle {
            class.idle_nodes = class.idle_nodes.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        }
        class.update_price(clock()?.unix_timestamp, market.params.bid_window_secs);
        Ok(())
    } else if kind == AccountKind::Validator as u8 {
        let validator = load_mut::<Validator>(program_id, staker)?;
        begin_exit(&mut validator.header, market)?;
        if validator.activated == 1 {
            // Its stake leaves the draw: no new seat from now on.
            let ([set_account], _) = take::<1>(rest)?;
            let mut view = validator_set(program_id, market, set_account, true)?;
            view.set.sub(validator.index, validator.header.stake).map_err(err)?;
            view.store();
            validator.activated = 0;
        }
        Ok(())
    } else {
        begin_exit(load_staker(program_id, staker)?, market)
    }
}

#[inline(always)]
fn begin_exit(header: &mut StakeHeader, market: &Market) -> ProgramResult {
    require(header.is_active(), GpuFuelError::StakerExiting)?;
    require(header.in_flight == 0, GpuFuelError::StakerActive)?;
    header.status = StakerStatus::Exiting as u8;
    header.unstake_ready_at = add_secs(clock()?.unix_timestamp, market.params.unstake_cooldown_secs)?;
    Ok(())
}

#[inline(never)]
pub fn withdraw(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([owner, market_account, staker, owner_token, vault, token], _) = take::<6>(accounts)?;
    let market = load::<Market>(program_id, market_account)?;
    let header = owned_staker(program_id, owner, staker)?;
    require(header.status == StakerStatus::Exiting as u8, GpuFuelError::NotExiting)?;
    require(header.in_flight == 0, GpuFuelError::StakerActive)?;
    require(clock()?.unix_timestamp >= header.unstake_ready_at, GpuFuelError::CooldownActive)?;
    check_vault(market, vault)?;
    check_token_program(token)?;
    check_token_account(market, owner_token, &header.owner)?;
    let vault = Vault { market, market_account, vault };
    let mut amount = header.stake;
    header.stake = 0;
    if header.kind == AccountKind::Validator as u8 {
        // A leaving validator takes its unclaimed rewards too.
        let validator = load_mut::<Validator>(program_id, staker)?;
        amount = amount.checked_add(validator.rewards).ok_or(err(GpuFuelError::Overflow))?;
        validator.rewards = 0;
    }
    pay_out(&vault, owner_token, amount)?;
    close(staker, owner)
}
