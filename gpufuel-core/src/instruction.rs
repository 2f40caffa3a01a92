//! The instruction set. The data of every instruction is the borsh encoding of
//! [`GpuFuelInstruction`]: a one-byte tag, then the fields. The accounts of each instruction are
//! listed on its variant, numbered in order.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{
    GpuFuelError,
    cid::Cid,
    state::{MarketParams, NodeSpec, Workload},
};

/// What a submitter asks for when creating a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct JobSpec {
    /// Submitter-chosen id, unique per submitter (part of the job's PDA seeds).
    pub job_id: u64,
    /// The kind of work (decides how it is verified).
    pub workload: Workload,
    /// Required GPU class.
    pub gpu_class: u8,
    /// GPUs needed (at least 1).
    pub gpu_count: u8,
    /// Minimum compute capability (major * 10 + minor; 0 for any).
    pub min_compute_capability: u8,
    /// Minimum memory per GPU in MiB.
    pub min_vram_mib: u32,
    /// GPU-seconds billed (at least 1).
    pub gpu_seconds: u32,
    /// Highest acceptable price, base units per GPU-second.
    pub max_price: u64,
    /// Unix time by which the result must be submitted.
    pub deadline: i64,
    /// Pay the urgent premium: short bidding window, immediate assignment of a bid at or under
    /// the reference price, ranked first by node agents.
    pub urgent: bool,
    /// Binary CID of the input.
    pub input_cid: Cid,
}

/// A new GPU class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GpuClassArgs {
    /// The class id (part of the PDA seeds).
    pub class_id: u8,
    /// Starting reference price, base units per GPU-second.
    pub ref_price: u64,
    /// Floor of the reference price (at least 1).
    pub min_price: u64,
}

/// GPUFuel instructions. Each lists its accounts in order, as the SPL token program does.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GpuFuelInstruction {
    /// Creates the market and its vault. Only the program's upgrade authority may, so nobody can
    /// take a fresh deployment's market first.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The authority: the program's upgrade authority (pays rent).
    /// 1. `[writable]` The market PDA.
    /// 2. `[]` The GPUFuel mint (no freeze authority).
    /// 3. `[writable]` The vault PDA (a token account created here).
    /// 4. `[writable]` The validator set: a zeroed account of the program's, sized for its
    ///    capacity ([`crate::committee::account_len`]).
    /// 5. `[]` The program's program data account (upgradeable loader).
    /// 6. `[]` The system program.
    /// 7. `[]` The SPL Token program.
    InitMarket(MarketParams),
    /// Proposes new parameters; they apply after the current timelock ([`Self::ApplyParams`]).
    ///
    /// Accounts:
    /// 0. `[signer]` The authority.
    /// 1. `[writable]` The market.
    ProposeParams(MarketParams),
    /// Puts a proposal whose timelock has elapsed in force (anyone may call).
    ///
    /// Accounts:
    /// 0. `[writable]` The market.
    ApplyParams,
    /// Names the authority's successor, who must accept.
    ///
    /// Accounts:
    /// 0. `[signer]` The authority.
    /// 1. `[writable]` The market.
    TransferAuthority {
        /// The proposed authority.
        new_authority: [u8; 32],
    },
    /// The named successor takes the authority.
    ///
    /// Accounts:
    /// 0. `[signer]` The proposed authority.
    /// 1. `[writable]` The market.
    AcceptAuthority,
    /// Adds a GPU class.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The authority (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The class PDA.
    /// 3. `[]` The system program.
    AddGpuClass(GpuClassArgs),
    /// Pays a class's fee pool (protocol fees, missed-vote penalties) out of the vault.
    ///
    /// Accounts:
    /// 0. `[signer]` The authority.
    /// 1. `[]` The market.
    /// 2. `[writable]` The class.
    /// 3. `[writable]` The vault.
    /// 4. `[writable]` A token account of the mint, receiving the fees.
    /// 5. `[]` The SPL Token program.
    WithdrawFees,
    /// Registers a node and stakes.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The operator (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The node PDA.
    /// 3. `[writable]` The node's GPU class.
    /// 4. `[writable]` The operator's token account (the stake's source).
    /// 5. `[writable]` The vault.
    /// 6. `[]` The system program.
    /// 7. `[]` The SPL Token program.
    RegisterNode {
        /// The node's hardware and price floor.
        spec: NodeSpec,
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Registers a validator and stakes; it can be drawn once activated, after its bonding
    /// period ([`Self::ActivateValidator`]).
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The operator (pays rent).
    /// 1. `[writable]` The market (counts validators).
    /// 2. `[writable]` The validator PDA.
    /// 3. `[writable]` The operator's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The system program.
    /// 6. `[]` The SPL Token program.
    RegisterValidator {
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Registers a job submitter and stakes.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The submitter PDA.
    /// 3. `[writable]` The wallet's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The system program.
    /// 6. `[]` The SPL Token program.
    RegisterSubmitter {
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Puts a bonded validator's stake into the tree committees are drawn from (anyone may call).
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The validator.
    /// 2. `[writable]` The validator set.
    ActivateValidator,
    /// Adds to a stake (node, validator or submitter).
    ///
    /// Accounts:
    /// 0. `[signer]` The owner.
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` The owner's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    /// 6. `[writable]` For an activated validator: the validator set.
    TopUp {
        /// Tokens added.
        amount: u64,
    },
    /// Starts the unstake cooldown; refused while the staker has work in flight.
    ///
    /// Accounts:
    /// 0. `[signer]` The owner.
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` For a node: its GPU class (it leaves the class's supply); for an
    ///    activated validator: the validator set (its stake leaves the tree).
    RequestUnstake,
    /// After the cooldown, returns the whole stake (and a validator's rewards) and closes the
    /// staker account.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The owner (receives the rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` The owner's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    Withdraw,
    /// Pays a validator's rewards out of the vault.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The market.
    /// 2. `[writable]` The validator.
    /// 3. `[writable]` The operator's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    ClaimRewards,
    /// Records that a node is alive.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[writable]` The node.
    Heartbeat,
    /// Creates a job and escrows `max_price * gpu_seconds` plus any urgent premium, under the
    /// market's current job terms.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The submitter account.
    /// 3. `[writable]` The job PDA.
    /// 4. `[]` The job's GPU class.
    /// 5. `[writable]` The wallet's token account (the escrow's source).
    /// 6. `[writable]` The vault.
    /// 7. `[]` The system program.
    /// 8. `[]` The SPL Token program.
    CreateJob(JobSpec),
    /// Bids on an open job. The leader's bid takes its GPUs and locks its cover until it is
    /// outbid; an urgent job is assigned at once to a bid at or under the reference price.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The market.
    /// 2. `[writable]` The operator's node.
    /// 3. `[writable]` The job.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The node currently leading, when there is one (it is released).
    Bid {
        /// Base units per GPU-second.
        price: u64,
    },
    /// Assigns the best bid once bidding has closed (anyone may call). A leader no longer able
    /// to run the job, or past the assign grace period, is released and pays the miss penalty
    /// into the job's escrow, and the auction reopens.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The best bidder's node.
    /// 3. `[writable]` The job's GPU class.
    Assign,
    /// The assigned node starts the job.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The operator's node (assigned to the job).
    /// 2. `[writable]` The job.
    Acknowledge,
    /// Replaces an assigned node that did not acknowledge within the start grace period (anyone
    /// may call): it pays the miss penalty into the escrow, may not bid again, and the auction
    /// reopens.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The assigned node.
    /// 3. `[writable]` The job's GPU class.
    Reassign,
    /// Posts the result CID and the Merkle root of the proof of execution; or, with
    /// `invalid_task`, the CID of a report that the task fails for everyone (a model that does
    /// not load or run), which committees check by running the task themselves: upheld, the job
    /// ends `Invalid` (the escrow refunded less the validators' fee, the node neither paid nor
    /// slashed); refuted, the node is slashed as for a wrong result.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The operator's node (assigned to the job).
    /// 2. `[writable]` The job.
    SubmitResult {
        /// Binary CID of the result manifest (or of the invalid-task report).
        result_cid: Cid,
        /// Merkle root over the result's files ([`crate::task::ResultManifest::commitment`]), or
        /// the report's hash.
        commitment: [u8; 32],
        /// The node reports that the task fails for everyone.
        invalid_task: bool,
    },
    /// Draws the current round's committee from the hash of the first slot after the round's
    /// opening step (anyone may call, once that slot exists).
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[]` The job's node.
    /// 3. `[]` The validator set.
    /// 4. For each seat drawn, in order: `[writable]` its validator ([`crate::committee::draw`]
    ///    tells which).
    DrawCommittee,
    /// A committee member commits its vote.
    ///
    /// Accounts:
    /// 0. `[signer]` The validator's operator.
    /// 1. `[]` The validator.
    /// 2. `[writable]` The job.
    CommitVote {
        /// The seat (index among all of the job's seats).
        seat: u8,
        /// [`crate::committee::vote_commitment`] of the vote.
        commitment: [u8; 32],
    },
    /// A committee member reveals its committed vote.
    ///
    /// Accounts:
    /// 0. `[signer]` The validator's operator.
    /// 1. `[]` The validator.
    /// 2. `[writable]` The job.
    RevealVote {
        /// The seat.
        seat: u8,
        /// The vote: whether the result is valid.
        pass: bool,
        /// The salt committed with it.
        salt: [u8; 32],
    },
    /// Appeals a unanimous first committee's decision within the appeal window, posting a bond:
    /// a larger committee decides again.
    ///
    /// Accounts:
    /// 0. `[signer]` The appellant.
    /// 1. `[]` The market.
    /// 2. `[writable]` The job.
    /// 3. `[writable]` The appellant's token account (pays the bond, and gets it back if the
    ///    appeal changes the outcome or none is reached).
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    Appeal,
    /// Ends a decided job (anyone may call): pays or slashes the node, refunds the submitter, and
    /// rewards or penalises every seat.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The job's node.
    /// 3. `[writable]` The submitter account.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The vault.
    /// 6. `[writable]` The node operator's token account.
    /// 7. `[writable]` The submitter's token account.
    /// 8. `[writable]` The validator set.
    /// 9. `[]` The SPL Token program.
    /// 10. `[writable]` The appellant's token account (the job's `appellant`; any account of the
    ///     mint when there was no appeal).
    /// 11. For each drawn seat in order: `[writable]` its validator.
    Settle,
    /// Cancels an open job and refunds the escrow (releasing its leader).
    ///
    /// Accounts:
    /// 0. `[signer]` The submitter's wallet.
    /// 1. `[]` The market.
    /// 2. `[writable]` The job.
    /// 3. `[writable]` The submitter account.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The vault.
    /// 6. `[writable]` The wallet's token account.
    /// 7. `[]` The SPL Token program.
    /// 8. `[writable]` The leading node, when the job has a bid.
    Cancel,
    /// Expires a job whose deadline passed without a result (anyone may call): refunds the
    /// escrow, with the miss penalty of the node that held it.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The submitter account.
    /// 3. `[writable]` The job's GPU class.
    /// 4. `[writable]` The vault.
    /// 5. `[writable]` The submitter's token account.
    /// 6. `[]` The SPL Token program.
    /// 7. `[writable]` The assigned or leading node, when there is one.
    Expire,
    /// Closes a finished job and returns its rent.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet.
    /// 1. `[writable]` The job.
    CloseJob,
}

/// Reads instruction data field by field, as borsh wrote it (little-endian, in order).
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GpuFuelError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(GpuFuelError::InvalidInstruction)?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, GpuFuelError> {
        Ok(self.bytes::<1>()?[0])
    }
    fn bool(&mut self) -> Result<bool, GpuFuelError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(GpuFuelError::InvalidInstruction),
        }
    }
    fn u32(&mut self) -> Result<u32, GpuFuelError> {
        self.bytes().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, GpuFuelError> {
        self.bytes().map(u64::from_le_bytes)
    }
    fn cid(&mut self) -> Result<Cid, GpuFuelError> {
        Ok(Cid { len: self.u8()?, bytes: self.bytes()? })
    }
    /// `MarketParams` in one copy: a `repr(C)` layout with explicit padding only, every field a
    /// little-endian integer, so its borsh bytes are its memory.
    fn params(&mut self) -> Result<MarketParams, GpuFuelError> {
        let raw = self.bytes::<{ core::mem::size_of::<MarketParams>() }>()?;
        // SAFETY: `raw` has the struct's size; every bit pattern of its integer fields is valid.
        Ok(unsafe { core::ptr::read_unaligned(raw.as_ptr().cast::<MarketParams>()) })
    }
}

impl GpuFuelInstruction {
    /// Decodes instruction data the way the program does, without borsh's generic decoder (code
    /// size on chain): a tag byte, then the fields; trailing bytes are refused. Reads back exactly
    /// what [`GpuFuelInstruction::pack`] writes.
    pub fn unpack(data: &[u8]) -> Result<Self, GpuFuelError> {
        use GpuFuelInstruction as Ix;
        let (&tag, rest) = data.split_first().ok_or(GpuFuelError::InvalidInstruction)?;
        let mut r = Reader(rest);
        let ix = match tag {
            0 => Ix::InitMarket(r.params()?),
            1 => Ix::ProposeParams(r.params()?),
            2 => Ix::ApplyParams,
            3 => Ix::TransferAuthority { new_authority: r.bytes()? },
            4 => Ix::AcceptAuthority,
            5 => Ix::AddGpuClass(GpuClassArgs { class_id: r.u8()?, ref_price: r.u64()?, min_price: r.u64()? }),
            6 => Ix::WithdrawFees,
            7 => {
                let spec = NodeSpec {
                    gpu_class: r.u8()?,
                    gpu_count: r.u8()?,
                    compute_capability: r.u8()?,
                    vram_mib: r.u32()?,
                    price_floor: r.u64()?,
                };
                Ix::RegisterNode { spec, stake: r.u64()? }
            }
            8 => Ix::RegisterValidator { stake: r.u64()? },
            9 => Ix::RegisterSubmitter { stake: r.u64()? },
            10 => Ix::ActivateValidator,
            11 => Ix::TopUp { amount: r.u64()? },
            12 => Ix::RequestUnstake,
            13 => Ix::Withdraw,
            14 => Ix::ClaimRewards,
            15 => Ix::Heartbeat,
            16 => Ix::CreateJob(JobSpec {
                job_id: r.u64()?,
                workload: Workload::try_from(r.u8()?).map_err(|_| GpuFuelError::InvalidInstruction)?,
                gpu_class: r.u8()?,
                gpu_count: r.u8()?,
                min_compute_capability: r.u8()?,
                min_vram_mib: r.u32()?,
                gpu_seconds: r.u32()?,
                max_price: r.u64()?,
                deadline: r.u64()? as i64,
                urgent: r.bool()?,
                input_cid: r.cid()?,
            }),
            17 => Ix::Bid { price: r.u64()? },
            18 => Ix::Assign,
            19 => Ix::Acknowledge,
            20 => Ix::Reassign,
            21 => Ix::SubmitResult { result_cid: r.cid()?, commitment: r.bytes()?, invalid_task: r.bool()? },
            22 => Ix::DrawCommittee,
            23 => Ix::CommitVote { seat: r.u8()?, commitment: r.bytes()? },
            24 => Ix::RevealVote { seat: r.u8()?, pass: r.bool()?, salt: r.bytes()? },
            25 => Ix::Appeal,
            26 => Ix::Settle,
            27 => Ix::Cancel,
            28 => Ix::Expire,
            29 => Ix::CloseJob,
            _ => return Err(GpuFuelError::InvalidInstruction),
        };
        if r.0.is_empty() { Ok(ix) } else { Err(GpuFuelError::InvalidInstruction) }
    }
}

#[cfg(feature = "std")]
impl GpuFuelInstruction {
    /// The instruction data.
    pub fn pack(&self) -> std::vec::Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::JobTerms;
    use proptest::prelude::*;

    fn cid(fill: u8) -> Cid {
        let mut bytes = [fill; 36];
        bytes[..4].copy_from_slice(&[1, 0x55, 0x12, 0x20]);
        Cid::new(&bytes).unwrap()
    }

    proptest! {
        #[test]
        fn unpack_reads_back_what_pack_writes(v: u64, w: u32, b: u8, flag: bool, salt: [u8; 32]) {
            let d = MarketParams::default();
            let terms = JobTerms { appeal_window_secs: w, quorum: b, ..d.terms };
            let params = MarketParams { min_job_value: v, terms, ..d };
            let spec = JobSpec {
                job_id: v,
                workload: Workload::Iterative,
                gpu_class: b,
                gpu_count: b,
                min_compute_capability: b,
                min_vram_mib: w,
                gpu_seconds: w,
                max_price: v,
                deadline: v as i64,
                urgent: flag,
                input_cid: cid(b),
            };
            let node = NodeSpec { gpu_class: b, gpu_count: 1, compute_capability: b, vram_mib: w, price_floor: v };
            let all = [
                GpuFuelInstruction::InitMarket(params),
                GpuFuelInstruction::ProposeParams(params),
                GpuFuelInstruction::ApplyParams,
                GpuFuelInstruction::TransferAuthority { new_authority: salt },
                GpuFuelInstruction::AcceptAuthority,
                GpuFuelInstruction::AddGpuClass(GpuClassArgs { class_id: b, ref_price: v, min_price: v }),
                GpuFuelInstruction::WithdrawFees,
                GpuFuelInstruction::RegisterNode { spec: node, stake: v },
                GpuFuelInstruction::RegisterValidator { stake: v },
                GpuFuelInstruction::RegisterSubmitter { stake: v },
                GpuFuelInstruction::ActivateValidator,
                GpuFuelInstruction::TopUp { amount: v },
                GpuFuelInstruction::RequestUnstake,
                GpuFuelInstruction::Withdraw,
                GpuFuelInstruction::ClaimRewards,
                GpuFuelInstruction::Heartbeat,
                GpuFuelInstruction::CreateJob(spec),
                GpuFuelInstruction::Bid { price: v },
                GpuFuelInstruction::Assign,
                GpuFuelInstruction::Acknowledge,
                GpuFuelInstruction::Reassign,
                GpuFuelInstruction::SubmitResult { result_cid: cid(b), commitment: salt, invalid_task: flag },
                GpuFuelInstruction::DrawCommittee,
                GpuFuelInstruction::CommitVote { seat: b, commitment: salt },
                GpuFuelInstruction::RevealVote { seat: b, pass: flag, salt },
                GpuFuelInstruction::Appeal,
                GpuFuelInstruction::Settle,
                GpuFuelInstruction::Cancel,
                GpuFuelInstruction::Expire,
                GpuFuelInstruction::CloseJob,
            ];
            for ix in all {
                let data = ix.pack();
                prop_assert_eq!(GpuFuelInstruction::unpack(&data), Ok(ix.clone()));
                // One byte short (for a bare tag: no data at all) is refused, as is one byte more.
                prop_assert!(GpuFuelInstruction::unpack(&data[..data.len() - 1]).is_err());
                prop_assert!(GpuFuelInstruction::unpack(&[data.as_slice(), &[0]].concat()).is_err());
            }
        }
    }

    #[test]
    fn bad_tags_and_values_are_refused() {
        assert_eq!(GpuFuelInstruction::unpack(&[]), Err(GpuFuelError::InvalidInstruction));
        assert_eq!(GpuFuelInstruction::unpack(&[30]), Err(GpuFuelError::InvalidInstruction));
        let mut reveal = GpuFuelInstruction::RevealVote { seat: 0, pass: true, salt: [0; 32] }.pack();
        reveal[2] = 2;
        assert_eq!(GpuFuelInstruction::unpack(&reveal), Err(GpuFuelError::InvalidInstruction));
    }
}
