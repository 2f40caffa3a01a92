//! Protocol errors. The program returns them as `ProgramError::Custom(code)`; clients map the code
//! back with [`GpuFuelError::from_code`].

/// Every way a GPUFuel instruction can be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum GpuFuelError {
    /// Instruction data is malformed.
    #[error("instruction data is malformed")]
    InvalidInstruction = 6000,
    /// A required signature is missing.
    #[error("a required signature is missing")]
    MissingSignature,
    /// An account is not owned by the expected program.
    #[error("an account is not owned by the expected program")]
    InvalidAccountOwner,
    /// An account holds another account type.
    #[error("an account holds another account type")]
    InvalidAccountType,
    /// An account that must be writable is read-only.
    #[error("an account that must be writable is read-only")]
    AccountNotWritable,
    /// Too few accounts for this instruction.
    #[error("too few accounts for this instruction")]
    NotEnoughAccounts,
    /// The account is already initialized.
    #[error("the account is already initialized")]
    AlreadyInitialized,
    /// The address is not the canonical PDA for its seeds.
    #[error("the address is not the canonical PDA for its seeds")]
    InvalidPda,
    /// The signer is not allowed to perform this action.
    #[error("the signer is not allowed to perform this action")]
    Unauthorized,
    /// The token program is not SPL Token.
    #[error("the token program is not SPL Token")]
    InvalidTokenProgram,
    /// The system program address is wrong.
    #[error("the system program address is wrong")]
    InvalidSystemProgram,
    /// The vault is not the market's vault.
    #[error("the vault is not the market's vault")]
    InvalidVault,
    /// The token account has the wrong mint.
    #[error("the token account has the wrong mint")]
    InvalidMint,
    /// The token account does not belong to the expected owner.
    #[error("the token account does not belong to the expected owner")]
    InvalidTokenOwner,
    /// A market parameter is out of range.
    #[error("a market parameter is out of range")]
    InvalidParams,
    /// The GPU class does not exist or does not match.
    #[error("the GPU class does not exist or does not match")]
    UnknownGpuClass,
    /// The GPU spec is invalid (zero VRAM or GPU count).
    #[error("the GPU spec is invalid (zero VRAM or GPU count)")]
    InvalidGpuSpec,
    /// An amount or price is zero.
    #[error("an amount or price is zero")]
    ZeroAmount,
    /// Arithmetic overflow.
    #[error("arithmetic overflow")]
    Overflow,
    /// The stake is below the market minimum.
    #[error("the stake is below the market minimum")]
    StakeTooLow,
    /// The staker is leaving the market.
    #[error("the staker is leaving the market")]
    StakerExiting,
    /// The staker has not requested to unstake.
    #[error("the staker has not requested to unstake")]
    NotExiting,
    /// The staker has an active job or vote.
    #[error("the staker has an active job or vote")]
    StakerActive,
    /// The unstake cooldown has not elapsed.
    #[error("the unstake cooldown has not elapsed")]
    CooldownActive,
    /// The deadline is in the past or before the bidding window closes.
    #[error("the deadline is in the past or before the bidding window closes")]
    InvalidDeadline,
    /// The CID is not a valid binary CIDv0 or CIDv1 with a sha2-256 multihash.
    #[error("the CID is not a valid binary CIDv0 or CIDv1 with a sha2-256 multihash")]
    InvalidCid,
    /// The job is not in a state that allows this.
    #[error("the job is not in a state that allows this")]
    InvalidJobState,
    /// The node does not satisfy the job's requirements.
    #[error("the node does not satisfy the job's requirements")]
    RequirementsNotMet,
    /// The bid is below the node's price floor.
    #[error("the bid is below the node's price floor")]
    BidBelowFloor,
    /// The bid is above the job's maximum price.
    #[error("the bid is above the job's maximum price")]
    BidAboveMax,
    /// The bid does not beat the best bid.
    #[error("the bid does not beat the best bid")]
    BidNotBetter,
    /// The bidding window is closed.
    #[error("the bidding window is closed")]
    BiddingClosed,
    /// The bidding window is still open.
    #[error("the bidding window is still open")]
    BiddingOpen,
    /// The job has no bid.
    #[error("the job has no bid")]
    NoBid,
    /// The node is not the one assigned to this job.
    #[error("the node is not the one assigned to this job")]
    WrongNode,
    /// The job's deadline has passed.
    #[error("the job's deadline has passed")]
    DeadlinePassed,
    /// The job's deadline has not passed.
    #[error("the job's deadline has not passed")]
    DeadlineNotReached,
    /// The validator already voted on this job.
    #[error("the validator already voted on this job")]
    AlreadyVoted,
    /// Voting on this job is closed.
    #[error("voting on this job is closed")]
    VotingClosed,
    /// The job is not decided yet: its committee is still to be drawn or voting, its first
    /// decision is still appealable, or it must be escalated to the appeal committee.
    #[error("the job is not decided yet (drawing, voting, appealable or to be escalated)")]
    NotFinal,
    /// The validator accounts do not match the job's voters.
    #[error("the validator accounts do not match the job's voters")]
    VoterMismatch,
    /// The account is not aligned for in-place access.
    #[error("the account is not aligned for in-place access")]
    Misaligned,
    /// An account holds a value the program never writes (an unknown state or workload byte).
    #[error("an account holds a value the program never writes")]
    CorruptAccount,
    /// The job's budget is below the market's minimum job value.
    #[error("the job's budget is below the market's minimum job value")]
    JobTooSmall,
    /// The node's free stake does not cover the job.
    #[error("the node's free stake does not cover the job's value")]
    InsufficientCover,
    /// The node has no free GPU for the job.
    #[error("the node has no free GPU for the job")]
    NoFreeGpu,
    /// The node left this job and may not bid on it again.
    #[error("the node left this job and may not bid on it again")]
    ExcludedNode,
    /// The assigned node is within its grace period, or acknowledged the job.
    #[error("the assigned node is within its grace period or acknowledged the job")]
    NodeStarted,
    /// The job's verification is not at this step.
    #[error("the job's verification is not at this step")]
    WrongPhase,
    /// The slot hash the committee is drawn from is not available yet, or no longer.
    #[error("the slot hash the committee is drawn from is not available")]
    SlotHashUnavailable,
    /// The validator does not hold this seat.
    #[error("the validator does not hold this seat")]
    NotOnCommittee,
    /// The step is outside its window.
    #[error("the window for this step is not open")]
    WindowClosed,
    /// A revealed vote does not match its commitment.
    #[error("the revealed vote does not match its commitment")]
    BadReveal,
    /// The validator is not activated (or its bonding period has not ended).
    #[error("the validator is not activated or still bonding")]
    NotActivated,
    /// The validator set is full, or an account is not the market's validator set.
    #[error("the validator set is full or not the market's")]
    InvalidValidatorSet,
    /// No change is proposed, or its timelock has not elapsed.
    #[error("no parameter change is proposed or its timelock has not elapsed")]
    Timelocked,
    /// The signer is not the program's upgrade authority.
    #[error("the signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    /// The mint has a freeze authority, which could freeze the vault.
    #[error("the mint has a freeze authority")]
    FreezableMint,
}

impl GpuFuelError {
    /// The first and last codes, for mapping custom program errors back.
    const FIRST: u32 = GpuFuelError::InvalidInstruction as u32;
    const LAST: u32 = GpuFuelError::FreezableMint as u32;

    /// The custom error code the program returns.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The error for a custom program error code, if it is one of ours.
    pub fn from_code(code: u32) -> Option<Self> {
        if (Self::FIRST..=Self::LAST).contains(&code) {
            // SAFETY: the enum is `repr(u32)` with contiguous discriminants FIRST..=LAST.
            Some(unsafe { core::mem::transmute::<u32, GpuFuelError>(code) })
        } else {
            None
        }
    }
}

/// A stable, upper-case name for each kind of failure (`PROGRAM_ERROR`, `STORE_ERROR`, …): what
/// the Python exception classes and the JavaScript errors' `code` are keyed by. Every layer's
/// error type implements it, so the bindings map any error the same way.
pub trait ErrorCode {
    /// The code.
    fn code(&self) -> &'static str;
}
