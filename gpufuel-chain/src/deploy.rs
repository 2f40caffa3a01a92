//! Deploying and upgrading the program through the upgradeable BPF loader (loader v3), with no
//! Solana CLI.
//!
//! The binary goes into a buffer account written in chunks, several transactions at once, then a
//! deploy (or an upgrade) moves it into the program's data account. The buffer's address derives
//! from the authority and the binary's hash (`create_account_with_seed`), so a write that was
//! interrupted resumes from what the buffer already holds, and no buffer keypair needs keeping.

use futures_util::{StreamExt, stream};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_loader_v3_interface::{
    instruction::{self as loader, UpgradeableLoaderInstruction},
    state::UpgradeableLoaderState,
};
use solana_message::Message;
use solana_sdk_ids::bpf_loader_upgradeable::ID as LOADER;
use solana_signer::Signer;

use crate::{
    Chain, ChainError, pda,
    send::{self, SendOptions, Sent},
};

/// The largest transaction the cluster accepts, in bytes.
const PACKET_DATA_SIZE: usize = 1232;
/// Bytes of a buffer account before the program's (`UpgradeableLoaderState::Buffer`).
const BUFFER_HEADER: usize = UpgradeableLoaderState::size_of_buffer_metadata();

/// A buffer that holds a whole binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// Its address.
    pub address: Address,
    /// Chunks written by this call.
    pub written: usize,
    /// Chunks it already held (an interrupted write resumed).
    pub kept: usize,
}

/// The buffer `authority` writes `so` into: its address and the seed it derives from (the first
/// 32 hex digits of the binary's SHA-256).
pub fn buffer_address(authority: &Address, so: &[u8]) -> (Address, String) {
    let hash = gpufuel_core::proof::sha256(&[so]);
    let seed: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    let address = Address::create_with_seed(authority, &seed, &LOADER).expect("a 32-byte seed is valid");
    (address, seed)
}

/// The most program bytes one write transaction carries: what is left of a packet once the
/// transaction `send` signs (two compute-budget instructions and an empty write) is counted.
pub fn chunk_len(authority: &Address, buffer: &Address) -> usize {
    let ixs = [
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(0),
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(0),
        loader::write(buffer, authority, 0, vec![]),
    ];
    let message = Message::new(&ixs, Some(authority)).serialize().len();
    // One signature, after its short-vec length byte; the write's byte length grows from one
    // short-vec byte to two above 127 bytes.
    PACKET_DATA_SIZE - (1 + 64 + message + 1)
}

/// Creates the buffer for `so` unless it exists, then writes every chunk it does not hold yet,
/// `parallel` transactions at once, calling `progress(done, total)` as chunks land; `authority`
/// pays, signs and may later deploy from it. Errs when the address holds an account that is not
/// this authority's buffer of this length, or when the buffer does not read back as `so`.
pub async fn write_buffer<C: Chain + ?Sized>(
    chain: &C,
    authority: &Keypair,
    so: &[u8],
    options: &SendOptions,
    parallel: usize,
    progress: impl Fn(usize, usize),
) -> Result<Buffer, ChainError> {
    let owner = authority.pubkey();
    let (address, seed) = buffer_address(&owner, so);
    let len = UpgradeableLoaderState::size_of_buffer(so.len());
    if chain.account(&address).await?.is_none() {
        let lamports = chain.rent_exempt_minimum(len).await?;
        let create = solana_system_interface::instruction::create_account_with_seed(
            &owner, &address, &owner, &seed, lamports, len as u64, &LOADER,
        );
        let init = Instruction::new_with_bincode(
            LOADER,
            &UpgradeableLoaderInstruction::InitializeBuffer,
            vec![AccountMeta::new(address, false), AccountMeta::new_readonly(owner, false)],
        );
        send::send(chain, &[create, init], authority, &[], options).await?;
    }
    let data = chain.account(&address).await?.map(|a| a.data).unwrap_or_default();
    if data.len() != len || buffer_authority(&data) != Some(owner) {
        return Err(ChainError::Account(format!("{address} is not {owner}'s buffer of {} bytes", so.len())));
    }
    let step = chunk_len(&owner, &address);
    let chunks: Vec<_> = (0..so.len()).step_by(step).map(|at| (at, &so[at..(at + step).min(so.len())])).collect();
    let missing: Vec<_> =
        chunks.iter().filter(|(at, bytes)| data[BUFFER_HEADER + at..][..bytes.len()] != **bytes).collect();
    let (total, kept) = (chunks.len(), chunks.len() - missing.len());
    progress(kept, total);
    let mut writes = stream::iter(missing.iter().map(|(at, bytes)| {
        let write = loader::write(&address, &owner, *at as u32, bytes.to_vec());
        async move { send::send(chain, &[write], authority, &[], options).await }
    }))
    .buffer_unordered(parallel.max(1));
    let mut done = kept;
    while let Some(sent) = writes.next().await {
        sent?;
        done += 1;
        progress(done, total);
    }
    let written = chain.account(&address).await?.map(|a| a.data).unwrap_or_default();
    if written.get(BUFFER_HEADER..) != Some(so) {
        return Err(ChainError::Account(format!("buffer {address} does not read back as the binary")));
    }
    Ok(Buffer { address, written: missing.len(), kept })
}

/// The authority recorded in a buffer account's data, if any.
fn buffer_authority(data: &[u8]) -> Option<Address> {
    match data.get(..BUFFER_HEADER)? {
        [1, 0, 0, 0, 1, key @ ..] => Some(Address::new_from_array(key.try_into().ok()?)),
        _ => None,
    }
}

/// Deploys the binary in `buffer` at `program`'s address, with room for `max_len` bytes of
/// program (later upgrades up to that size need no extension) and `authority`, the buffer's, as
/// the upgrade authority. The buffer is closed into the program's data account.
pub async fn deploy<C: Chain + ?Sized>(
    chain: &C,
    authority: &Keypair,
    program: &Keypair,
    buffer: &Address,
    max_len: usize,
    options: &SendOptions,
) -> Result<Sent, ChainError> {
    let lamports = chain.rent_exempt_minimum(UpgradeableLoaderState::size_of_program()).await?;
    let (payer, id) = (authority.pubkey(), program.pubkey());
    let ixs = loader::deploy_with_max_program_len(&payer, &id, buffer, &payer, lamports, max_len)
        .map_err(|e| ChainError::Account(format!("deploy: {e}")))?;
    send::send(chain, &ixs, authority, &[program], options).await
}

/// Replaces the program at `program` with the binary of `len` bytes in `buffer`, extending its
/// data account first when the binary outgrew it; `authority` is the upgrade authority and gets
/// the buffer's rent back.
pub async fn upgrade<C: Chain + ?Sized>(
    chain: &C,
    authority: &Keypair,
    program: &Address,
    buffer: &Address,
    len: usize,
    options: &SendOptions,
) -> Result<Sent, ChainError> {
    let owner = authority.pubkey();
    let data = chain.account(&pda::program_data(program)).await?;
    let data = data.ok_or_else(|| ChainError::Account(format!("{program} is not an upgradeable program")))?.data;
    let room = data.len().saturating_sub(UpgradeableLoaderState::size_of_programdata_metadata());
    if len > room {
        let more = u32::try_from(len - room).map_err(|_| ChainError::Account("binary too large".into()))?;
        send::send(chain, &[loader::extend_program(program, Some(&owner), more)], authority, &[], options).await?;
    }
    send::send(chain, &[loader::upgrade(program, buffer, &owner, &owner)], authority, &[], options).await
}

/// Hands the upgrade authority of `program` to `new`, or makes the program final (`None`).
pub async fn set_upgrade_authority<C: Chain + ?Sized>(
    chain: &C,
    authority: &Keypair,
    program: &Address,
    new: Option<&Address>,
    options: &SendOptions,
) -> Result<Sent, ChainError> {
    let ix = loader::set_upgrade_authority(program, &authority.pubkey(), new);
    send::send(chain, &[ix], authority, &[], options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_chunk_fills_a_packet_exactly() {
        let authority = Keypair::new();
        let (buffer, _) = buffer_address(&authority.pubkey(), b"binary");
        let len = chunk_len(&authority.pubkey(), &buffer);
        let size = |bytes: usize| {
            let ixs = [
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(200_000),
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(1_000),
                loader::write(&buffer, &authority.pubkey(), 0, vec![7; bytes]),
            ];
            let tx = solana_transaction::Transaction::new_signed_with_payer(
                &ixs,
                Some(&authority.pubkey()),
                &[&authority],
                solana_hash::Hash::new_unique(),
            );
            bincode::serialize(&tx).unwrap().len()
        };
        assert_eq!(size(len), PACKET_DATA_SIZE);
        assert!(len > 900, "{len}");
    }
}
