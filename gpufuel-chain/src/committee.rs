//! Committees as clients see them: the stake tree and the slot hashes read from chain, and the
//! validator accounts a `DrawCommittee` needs, found by running the program's own draw
//! ([`gpufuel_core::committee::draw`]) on the same state.

use std::{cell::RefCell, collections::HashMap};

use gpufuel_core::{
    committee::{self, Eligible, HEADER_LEN, ValidatorSet},
    proof::sha256,
    state::{Job, MAX_APPEAL_COMMITTEE, MAX_COMMITTEE, Validator},
};
use solana_address::Address;

use crate::{Chain, ChainError, query};

/// The SlotHashes sysvar's address.
pub const SLOT_HASHES: Address = solana_sdk_ids::sysvar::slot_hashes::ID;

/// The stake tree of the validator set account at `address`.
pub async fn validator_set<C: Chain + ?Sized>(
    chain: &C,
    address: &Address,
) -> Result<ValidatorSet<Vec<u64>>, ChainError> {
    let account = chain.account(address).await?.ok_or_else(|| ChainError::Account(address.to_string()))?;
    let bad = || ChainError::Account(format!("validator set {address}"));
    let (header, tree) = account.data.split_at_checked(HEADER_LEN).ok_or_else(bad)?;
    let total = u64::from_le_bytes(header[8..16].try_into().map_err(|_| bad())?);
    let tree = tree.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))).collect();
    Ok(ValidatorSet { total, tree })
}

/// The hash of the first slot after `slot` in SlotHashes data (newest first), as the program
/// reads it: `Ok(None)` once it has left the sysvar, an error while no later slot exists.
pub fn slot_hash_after(data: &[u8], slot: u64) -> Result<Option<[u8; 32]>, ChainError> {
    let bad = || ChainError::Account("SlotHashes sysvar".into());
    let count = u64::from_le_bytes(data.get(..8).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let entries: Vec<(u64, [u8; 32])> = data[8..]
        .chunks_exact(40)
        .take(count)
        .map(|e| (u64::from_le_bytes(e[..8].try_into().expect("8 bytes")), e[8..].try_into().expect("32 bytes")))
        .collect();
    let later = entries.iter().take_while(|(s, _)| *s > slot).count();
    match later {
        0 => Err(ChainError::Account(format!("no slot after {slot} yet"))),
        n if n == entries.len() && entries[n - 1].0 != slot + 1 => Ok(None),
        n => Ok(Some(entries[n - 1].1)),
    }
}

/// Every validator by market index: its account and its state.
pub async fn validators_by_index<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
) -> Result<HashMap<u32, (Address, Validator)>, ChainError> {
    Ok(query::validators(chain, program, None).await?.into_iter().map(|(a, v)| (v.index, (a, v))).collect())
}

/// The draw the program will make for `job`, from the same state: the candidate accounts to pass
/// (in draw order) and the seats they fill.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Validator accounts, one per candidate whose stake covers the job.
    pub candidates: Vec<Address>,
    /// The validator indices seated.
    pub seats: Vec<u32>,
}

/// Candidates as the program meets them: stake-eligible ones consume an account; the job's own
/// parties are skipped.
struct Recorder<'a> {
    validators: &'a HashMap<u32, (Address, Validator)>,
    min_stake: u64,
    excluded: [[u8; 32]; 2],
    candidates: RefCell<Vec<Address>>,
}

impl Eligible for Recorder<'_> {
    fn eligible(&self, index: u32, stake: u64) -> bool {
        if stake < self.min_stake {
            return false;
        }
        let Some((address, v)) = self.validators.get(&index) else { return false };
        self.candidates.borrow_mut().push(*address);
        !self.excluded.contains(&v.header.owner)
    }
}

/// The draw `DrawCommittee` makes for the job at `job_address` in its current round, given the
/// slot hash after its step (`None`: evicted, nobody is drawn).
pub fn plan(
    job_address: &Address,
    job: &Job,
    slot_hash: Option<[u8; 32]>,
    set: &ValidatorSet<Vec<u64>>,
    validators: &HashMap<u32, (Address, Validator)>,
    node_owner: [u8; 32],
) -> Plan {
    let Some(slot_hash) = slot_hash else { return Plan::default() };
    let seed = committee::committee_seed(sha256, &slot_hash, &job_address.to_bytes(), &job.commitment);
    let seats = if job.round == 0 {
        usize::from(job.terms.committee_size).min(MAX_COMMITTEE)
    } else {
        usize::from(job.terms.appeal_committee_size).min(MAX_APPEAL_COMMITTEE)
    };
    let recorder = Recorder {
        validators,
        min_stake: job.value().unwrap_or(u64::MAX),
        excluded: [node_owner, job.submitter],
        candidates: RefCell::default(),
    };
    let mut out = vec![0u32; seats];
    let filled = committee::draw(sha256, &seed, job.round, set, &recorder, &mut out);
    out.truncate(filled);
    Plan { candidates: recorder.candidates.into_inner(), seats: out }
}

/// The validator accounts of a job's drawn seats, in seat order (what `Settle` takes).
pub fn seat_accounts(job: &Job, validators: &HashMap<u32, (Address, Validator)>) -> Result<Vec<Address>, ChainError> {
    job.drawn_seats()
        .map(|s| {
            validators
                .get(&s.validator)
                .map(|(a, _)| *a)
                .ok_or_else(|| ChainError::Account(format!("validator {}", s.validator)))
        })
        .collect()
}
