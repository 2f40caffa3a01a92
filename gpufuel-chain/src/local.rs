//! The embedded chain: LiteSVM in process with the real SBF program (deployed through the
//! upgradeable loader, with an upgrade authority) and SPL Token, a GPUFuel mint, funded wallets,
//! and a clock the caller moves so windows and deadlines can pass, each slot with its own slot
//! hash.
//!
//! A [`LocalChain`] is a handle: clones share one chain, so agents in one process see the same
//! state, as they would on a cluster.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_trait::async_trait;
use borsh::BorshDeserialize;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_address::Address;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_slot_hashes::SlotHashes;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use spl_token_interface::{instruction as token_ix, state::Account as TokenAccount};

use crate::{
    ChainError, PROGRAM_ID, PROGRAM_SO,
    chain::{Chain, Memcmp, Simulation, Status},
};

/// Decimals of the embedded GPUFuel mint.
pub const DECIMALS: u8 = 6;
/// Unix time at which the embedded chain's clock starts.
pub const GENESIS_TIME: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const WALLET_LAMPORTS: u64 = 100_000_000_000;

/// A wallet on the local chain: a keypair and its GPUFuel token account.
pub struct Wallet {
    /// Signs and pays.
    pub keypair: Keypair,
    /// Its GPUFuel token account.
    pub token: Address,
}

impl Clone for Wallet {
    fn clone(&self) -> Self {
        Self { keypair: self.keypair.insecure_clone(), token: self.token }
    }
}

impl Wallet {
    /// The wallet's address.
    pub fn address(&self) -> Address {
        self.keypair.pubkey()
    }
}

/// Block height and signature statuses of the local chain. Only the latest blockhash is valid
/// (LiteSVM's rule), and a new one replaces it after every transaction, so the height counts
/// transactions: a blockhash expires as soon as the next transaction lands.
#[derive(Default)]
struct Ledger {
    height: u64,
    statuses: HashMap<Signature, Status>,
    faults: Faults,
}

impl Ledger {
    /// Ends the current block: a new blockhash replaces the old one, which expires.
    fn next_block(&mut self, svm: &mut LiteSVM) {
        svm.expire_blockhash();
        self.height += 1;
    }
}

/// Failures to inject, for tests of the client's retry logic.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// The next `n` submissions are accepted and then lost: never executed, and their blockhash
    /// expires.
    pub lose: u32,
    /// The next `n` submissions execute, but the caller gets a transport error instead of the
    /// signature (the response was lost).
    pub drop_response: u32,
}

/// LiteSVM with the GPUFuel program and a GPUFuel mint.
#[derive(Clone)]
pub struct LocalChain {
    svm: Arc<Mutex<LiteSVM>>,
    /// What [`Chain`] callers see beyond LiteSVM: block height, signature statuses, faults.
    /// Locked after `svm` when both are needed.
    ledger: Arc<Mutex<Ledger>>,
    mint: Address,
    /// The mint authority and the program's upgrade authority.
    admin: Address,
    admin_key: [u8; 64],
}

impl LocalChain {
    /// Starts a chain with the program deployed, a mint created and the clock at
    /// [`GENESIS_TIME`], slot 1.
    pub fn new() -> Result<Self, ChainError> {
        let mut svm = LiteSVM::new();
        let authority = Keypair::new();
        deploy(&mut svm, &authority.pubkey())?;
        let mut clock = svm.get_sysvar::<Clock>();
        clock.unix_timestamp = GENESIS_TIME;
        clock.slot = 1;
        svm.set_sysvar(&clock);
        svm.set_sysvar(&SlotHashes::new(&[(1, slot_hash(&Hash::default(), 1))]));

        svm.airdrop(&authority.pubkey(), WALLET_LAMPORTS).map_err(|e| ChainError::Account(format!("{:?}", e.err)))?;
        let mint = Keypair::new();
        let rent = svm.minimum_balance_for_rent_exemption(spl_token_interface::state::Mint::LEN);
        let create = solana_system_interface::instruction::create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            rent,
            spl_token_interface::state::Mint::LEN as u64,
            &spl_token_interface::ID,
        );
        let init =
            token_ix::initialize_mint2(&spl_token_interface::ID, &mint.pubkey(), &authority.pubkey(), None, DECIMALS)
                .expect("valid mint instruction");
        let chain = Self {
            svm: Arc::new(Mutex::new(svm)),
            ledger: Arc::default(),
            mint: mint.pubkey(),
            admin: authority.pubkey(),
            admin_key: authority.to_bytes(),
        };
        chain.send(&[create, init], &[&authority, &mint])?;
        Ok(chain)
    }

    /// An independent copy of this chain at its current state (a clone shares the state): what
    /// property tests start each case from.
    pub fn fork(&self) -> Self {
        let height = self.ledger().height;
        Self {
            svm: Arc::new(Mutex::new(self.svm().clone())),
            ledger: Arc::new(Mutex::new(Ledger { height, ..Ledger::default() })),
            ..self.clone()
        }
    }

    /// The GPUFuel mint.
    pub fn mint(&self) -> Address {
        self.mint
    }

    /// The mint authority, also the program's upgrade authority: the only signer that may create
    /// the market.
    pub fn admin(&self) -> Keypair {
        Keypair::try_from(&self.admin_key[..]).expect("stored keypair")
    }

    /// The underlying LiteSVM, for inspection and fault injection in tests.
    pub fn svm(&self) -> MutexGuard<'_, LiteSVM> {
        // A panic while holding the lock cannot leave LiteSVM half-updated in a way later
        // calls would misread (each call is one transaction), so a poisoned lock is reused.
        self.svm.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Injects failures into the next submissions through [`Chain::submit`].
    pub fn inject(&self, faults: Faults) {
        self.ledger().faults = faults;
    }

    /// A new wallet with SOL for fees and a token account holding `tokens` GPUFuel.
    pub fn wallet(&self, tokens: u64) -> Result<Wallet, ChainError> {
        let keypair = Keypair::new();
        self.svm()
            .airdrop(&keypair.pubkey(), WALLET_LAMPORTS)
            .map_err(|e| ChainError::Account(format!("{:?}", e.err)))?;
        let token = self.token_account(&keypair, &keypair.pubkey())?;
        if tokens > 0 {
            self.mint_to(&token, tokens)?;
        }
        Ok(Wallet { keypair, token })
    }

    /// Creates a token account of the GPUFuel mint owned by `owner`, paid by `payer`.
    pub fn token_account(&self, payer: &Keypair, owner: &Address) -> Result<Address, ChainError> {
        self.token_account_of(payer, owner, &self.mint.clone())
    }

    /// Creates a token account of any `mint` owned by `owner`, paid by `payer`.
    pub fn token_account_of(&self, payer: &Keypair, owner: &Address, mint: &Address) -> Result<Address, ChainError> {
        let account = Keypair::new();
        let rent = self.svm().minimum_balance_for_rent_exemption(TokenAccount::LEN);
        let create = solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            rent,
            TokenAccount::LEN as u64,
            &spl_token_interface::ID,
        );
        let init = token_ix::initialize_account3(&spl_token_interface::ID, &account.pubkey(), mint, owner)
            .expect("valid account instruction");
        self.send(&[create, init], &[payer, &account])?;
        Ok(account.pubkey())
    }

    /// Mints `amount` GPUFuel to a token account.
    pub fn mint_to(&self, token: &Address, amount: u64) -> Result<(), ChainError> {
        let ix = token_ix::mint_to(&spl_token_interface::ID, &self.mint, token, &self.admin, &[], amount)
            .expect("valid mint_to");
        self.send(&[ix], &[&self.admin()]).map(|_| ())
    }

    /// Sends a transaction paid by the first signer; returns the compute units it consumed.
    pub fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<u64, ChainError> {
        let payer = signers.first().expect("at least one signer").pubkey();
        let mut svm = self.svm();
        let tx = Transaction::new_signed_with_payer(instructions, Some(&payer), signers, svm.latest_blockhash());
        // A fresh blockhash per transaction lets identical transactions be sent again.
        let result = svm.send_transaction(tx);
        self.ledger().next_block(&mut svm);
        match result {
            Ok(meta) => Ok(meta.compute_units_consumed),
            Err(failed) => Err(ChainError::from_transaction(failed.err, &failed.meta.logs)),
        }
    }

    /// The token balance of a token account (0 if it does not exist).
    pub fn balance(&self, token: &Address) -> u64 {
        self.svm().get_account(token).and_then(|a| TokenAccount::unpack(&a.data).ok()).map_or(0, |a| a.amount)
    }

    /// Decodes a program account.
    pub fn account<T: BorshDeserialize>(&self, address: &Address) -> Result<T, ChainError> {
        let account = self.svm().get_account(address).ok_or_else(|| ChainError::Account(address.to_string()))?;
        if account.owner != PROGRAM_ID {
            return Err(ChainError::Account(address.to_string()));
        }
        T::try_from_slice(&account.data).map_err(|_| ChainError::Account(address.to_string()))
    }

    /// Raw account data, if the account exists.
    pub fn data(&self, address: &Address) -> Option<Vec<u8>> {
        self.svm().get_account(address).map(|a| a.data)
    }

    /// The chain's unix time.
    pub fn now(&self) -> i64 {
        self.svm().get_sysvar::<Clock>().unix_timestamp
    }

    /// Moves the clock forward by `secs` seconds and one slot, whose hash joins SlotHashes (a
    /// hash chain: unpredictable to the program's callers, reproducible for the tests).
    pub fn advance(&self, secs: i64) {
        let mut svm = self.svm();
        let mut clock = svm.get_sysvar::<Clock>();
        clock.unix_timestamp += secs;
        clock.slot += 1;
        svm.set_sysvar(&clock);
        let mut hashes = svm.get_sysvar::<SlotHashes>();
        let previous = hashes.first().map_or_else(Hash::default, |(_, h)| *h);
        hashes.add(clock.slot, slot_hash(&previous, clock.slot));
        svm.set_sysvar(&hashes);
    }
}

/// The hash of slot `slot`, chained on the previous one.
fn slot_hash(previous: &Hash, slot: u64) -> Hash {
    Hash::new_from_array(gpufuel_core::proof::sha256(&[previous.as_ref(), &slot.to_le_bytes()]))
}

/// Deploys the program into `svm` at [`PROGRAM_ID`] (the deployment [`LocalChain`] reads) through the upgradeable loader with
/// `authority` as its upgrade authority.
pub fn deploy(svm: &mut LiteSVM, authority: &Address) -> Result<(), ChainError> {
    deploy_at(svm, &PROGRAM_ID, authority)
}

/// Deploys the same program binary at `program` (a second deployment beside the first, say),
/// with `authority` as its upgrade authority (LiteSVM records none):
/// `UpgradeableLoaderState::ProgramData` is a tag (3, u32), the deploy slot (u64), then
/// `Some(authority)`.
pub fn deploy_at(svm: &mut LiteSVM, program: &Address, authority: &Address) -> Result<(), ChainError> {
    svm.add_program(*program, PROGRAM_SO).map_err(|e| ChainError::Account(format!("program: {e}")))?;
    let address = crate::pda::program_data(program);
    let mut account = svm.get_account(&address).ok_or_else(|| ChainError::Account("program data".into()))?;
    account.data[12] = 1;
    account.data[13..45].copy_from_slice(authority.as_ref());
    svm.set_account(address, account).map_err(|e| ChainError::Account(format!("program data: {e}")))
}

#[async_trait]
impl Chain for LocalChain {
    async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError> {
        let svm = self.svm();
        Ok((svm.latest_blockhash(), self.ledger().height))
    }

    async fn block_height(&self) -> Result<u64, ChainError> {
        Ok(self.ledger().height)
    }

    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError> {
        Ok(match self.svm().simulate_transaction(tx.clone()) {
            Ok(info) => Simulation { units: info.meta.compute_units_consumed, logs: info.meta.logs, error: None },
            Err(failed) => Simulation {
                units: failed.meta.compute_units_consumed,
                logs: failed.meta.logs,
                error: Some(failed.err),
            },
        })
    }

    async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError> {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        let mut svm = self.svm();
        let mut ledger = self.ledger();
        if ledger.faults.lose > 0 {
            ledger.faults.lose -= 1;
            ledger.next_block(&mut svm);
            return Ok(signature);
        }
        let result = svm.send_transaction(tx.clone());
        match result {
            Err(failed)
                if matches!(failed.err, TransactionError::BlockhashNotFound | TransactionError::AlreadyProcessed) =>
            {
                // Refused before execution, as an RPC node's preflight would.
                return Err(ChainError::from_transaction(failed.err, &failed.meta.logs));
            }
            result => {
                ledger.next_block(&mut svm);
                ledger.statuses.insert(signature, result.map(|_| ()).map_err(|f| f.err));
            }
        }
        if ledger.faults.drop_response > 0 {
            ledger.faults.drop_response -= 1;
            return Err(ChainError::Rpc("connection reset before the response".into()));
        }
        Ok(signature)
    }

    async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError> {
        Ok(self.ledger().statuses.get(signature).cloned())
    }

    async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        Ok(self.svm().get_account(address))
    }

    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        let accounts = self.svm().get_program_accounts(program);
        Ok(accounts.into_iter().filter(|(_, a)| filters.iter().all(|f| f.matches(&a.data))).collect())
    }

    async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError> {
        let accounts = self.svm().get_program_accounts(&spl_token_interface::ID);
        let mut mine: Vec<Address> = accounts
            .into_iter()
            .filter(|(_, a)| TokenAccount::unpack(&a.data).is_ok_and(|t| t.owner == *owner && t.mint == *mint))
            .map(|(address, _)| address)
            .collect();
        mine.sort_unstable();
        Ok(mine)
    }

    async fn unix_time(&self) -> Result<i64, ChainError> {
        Ok(self.now())
    }

    async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        Ok(self.svm().minimum_balance_for_rent_exemption(len))
    }

    async fn recent_priority_fees(&self, _writable: &[Address]) -> Result<Vec<u64>, ChainError> {
        // One process, no competition for block space.
        Ok(vec![])
    }
}
