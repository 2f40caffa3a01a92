//! Protocol errors. The program returns them as `ProgramError::Custom(code)`; clients map the code
//! back with [`GpuFuelError::from_code`].

/// Every way a GPUFuel instruction can be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[repr(u32)]
pub enum GpuFuelError {
    #[error("instruction data is malformed")]
    InvalidInstruction = 6000,
    #[error("a required signature is missing")]
    MissingSignature,
    #[error("an account is not owned by the expected program")]
    InvalidAccountOwner,
    #[error("an account holds another account type")]
    InvalidAccountType,
    #[error("an account that must be writable is read-only")]
    AccountNotWritable,
    #[error("too few accounts for this instruction")]
    NotEnoughAccounts,
    #[error("the account is already initialized")]
    AlreadyInitialized,
    #[error("the address is not the canonical PDA for its seeds")]
    InvalidPda,
    #[error("the signer is not allowed to perform this action")]
    Unauthorized,
    #[error("the token program is not SPL Token")]
    InvalidTokenProgram,
    #[error("the system program address is wrong")]
    InvalidSystemProgram,
    #[error("the vault is not the market's vault")]
    InvalidVault,
    #[error("the treasury is not the market's treasury")]
    InvalidTreasury,
    #[error("the token account has the wrong mint")]
    InvalidMint,
    #[error("the token account does not belong to the expected owner")]
    InvalidTokenOwner,
    #[error("a market parameter is out of range")]
    InvalidParams,
    #[error("the GPU class does not exist or does not match")]
    UnknownGpuClass,
    #[error("the GPU spec is invalid (zero VRAM or GPU count)")]
    InvalidGpuSpec,
    #[error("an amount or price is zero")]
    ZeroAmount,
    #[error("arithmetic overflow")]
    Overflow,
    #[error("the stake is below the market minimum")]
    StakeTooLow,
    #[error("the staker is leaving the market")]
    StakerExiting,
    #[error("the staker has not requested to unstake")]
    NotExiting,
    #[error("the staker has an active job or vote")]
    StakerActive,
    #[error("the unstake cooldown has not elapsed")]
    CooldownActive,
    #[error("the deadline is in the past or before the bidding window closes")]
    InvalidDeadline,
    #[error("the CID is not a valid binary CIDv0 or CIDv1 with a sha2-256 multihash")]
    InvalidCid,
    #[error("the job is not in a state that allows this")]
    InvalidJobState,
    #[error("the node does not satisfy the job's requirements")]
    RequirementsNotMet,
    #[error("the bid is below the node's price floor")]
    BidBelowFloor,
    #[error("the bid is above the job's maximum price")]
    BidAboveMax,
    #[error("the bid does not beat the best bid")]
    BidNotBetter,
    #[error("the bidding window is closed")]
    BiddingClosed,
    #[error("the bidding window is still open")]
    BiddingOpen,
    #[error("the job has no bid")]
    NoBid,
    #[error("the node is not the one assigned to this job")]
    WrongNode,
    #[error("the job's deadline has passed")]
    DeadlinePassed,
    #[error("the job's deadline has not passed")]
    DeadlineNotReached,
    #[error("a validator may not attest a job it ran or submitted")]
    SelfValidation,
    #[error("the validator already voted on this job")]
    AlreadyVoted,
    #[error("voting on this job is closed")]
    VotingClosed,
    #[error("the job has neither a quorum nor an elapsed challenge window")]
    NotFinal,
    #[error("the validator accounts do not match the job's voters")]
    VoterMismatch,
    #[error("the account is not aligned for in-place access")]
    Misaligned,
}

impl GpuFuelError {
    /// The first and last codes, for mapping custom program errors back.
    const FIRST: u32 = GpuFuelError::InvalidInstruction as u32;
    const LAST: u32 = GpuFuelError::Misaligned as u32;

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
