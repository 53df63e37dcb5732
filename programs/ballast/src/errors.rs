use anchor_lang::prelude::*;

use crate::math::MathError;

/// Declares `BallastError` (Anchor's `#[error_code]`) together with `BallastError::ALL`, so that clients
/// can turn a numeric code back into a name without a second list to keep in sync.
macro_rules! ballast_errors {
    ($($(#[$meta:meta])* $variant:ident,)*) => {
        /// Every error ballast returns. Codes are `6000 + index`; only ever append.
        #[error_code]
        pub enum BallastError {
            $($(#[$meta])* $variant,)*
        }

        impl BallastError {
            /// Every variant in code order.
            pub const ALL: &'static [BallastError] = &[$(BallastError::$variant,)*];
        }
    };
}

ballast_errors! {
    // ---- configuration (6000..) ----
    #[msg("Too many assets: a vault holds at most MAX_ASSETS (16)")] // 6000
    TooManyAssets,
    #[msg("Too few assets: a vault needs at least 2 assets before activation")] // 6001
    TooFewAssets,
    #[msg("Target weights must each be positive and sum to exactly 10000 bps")] // 6002
    WeightsDoNotSum,
    #[msg("This mint is already an asset of the vault")] // 6003
    DuplicateMint,
    #[msg("Band (epsilon) out of bounds: must be within [MIN_BAND_BPS, MAX_BAND_BPS]")] // 6004
    BandOutOfBounds,
    #[msg("Max trade bps out of bounds: must be within [1, 10000]")] // 6005
    MaxTradeOutOfBounds,
    #[msg("Slippage cap out of bounds: must be within [1, 300] bps")] // 6006
    SlippageOutOfBounds,
    #[msg("Oracle max age out of bounds: must be within [1, 3600] seconds")] // 6007
    OracleMaxAgeOutOfBounds,
    #[msg("Oracle confidence cap out of bounds: must be within [1, 1000] bps")] // 6008
    OracleConfOutOfBounds,
    #[msg("Rebalance cooldown too long")] // 6009
    CooldownOutOfBounds,
    #[msg("Keeper bounty too high: at most MAX_BOUNTY_BPS of the trade")] // 6010
    BountyOutOfBounds,
    #[msg("Timelock out of bounds: at most 30 days, and 0 is only allowed when set at initialisation")] // 6011
    TimelockOutOfBounds,
    #[msg("Token decimals above 18 are not supported")] // 6012
    UnsupportedDecimals,
    #[msg("Token-2022 mint with a transfer fee is not supported: vault accounting needs exact transfer amounts")] // 6013
    TransferFeeMintNotSupported,
    #[msg("Token-2022 mint with a transfer hook is not supported")] // 6014
    TransferHookMintNotSupported,
    #[msg("Token-2022 mint extension not on the allowlist (e.g. permanent delegate, non-transferable, pausable, default frozen)")] // 6015
    UnsupportedMintExtension,
    #[msg("Asset parameter list length does not match the vault's asset count")] // 6016
    AssetCountMismatch,
    #[msg("The vault is still being configured: add its assets and activate it first")] // 6017
    VaultNotActive,
    #[msg("The vault is already active: its asset list is fixed")] // 6018
    VaultAlreadyActive,

    // ---- authority (6019..) ----
    #[msg("Signer is not the vault's governance")] // 6019
    NotGovernance,
    #[msg("Signer is not the pending governance")] // 6020
    NotPendingGovernance,
    #[msg("No governance transfer is pending")] // 6021
    NoPendingGovernance,
    #[msg("Signer is neither governance nor guardian")] // 6022
    NotGovernanceOrGuardian,
    #[msg("The guardian may only add pause flags; governance must lift them")] // 6023
    GuardianCannotUnpause,

    // ---- governance flow (6024..) ----
    #[msg("A parameter change is already pending: execute or cancel it first")] // 6024
    ParamsChangeAlreadyPending,
    #[msg("No parameter change is pending")] // 6025
    NoParamsChangePending,
    #[msg("The timelock has not elapsed yet")] // 6026
    TimelockNotElapsed,
    #[msg("Governance actions are paused")] // 6027
    GovernancePaused,
    #[msg("Deposits are paused (withdrawals still work)")] // 6028
    DepositsPaused,
    #[msg("Rebalancing is paused")] // 6029
    RebalancePaused,
    #[msg("The AMM whitelist is full")] // 6030
    AmmWhitelistFull,
    #[msg("This AMM program and pool are already whitelisted")] // 6031
    AmmAlreadyWhitelisted,
    #[msg("This AMM program and pool are not whitelisted")] // 6032
    AmmNotWhitelisted,
    #[msg("Unknown pause flag bits")] // 6033
    InvalidPauseFlags,

    // ---- oracle (6034..) ----
    #[msg("Oracle account is not owned by the Pyth receiver program")] // 6034
    OracleWrongOwner,
    #[msg("Oracle account is not the one pinned for this asset")] // 6035
    OracleAccountMismatch,
    #[msg("Oracle feed id does not match the asset's pinned feed id")] // 6036
    OracleWrongFeed,
    #[msg("Oracle update is not fully verified")] // 6037
    OracleNotFullyVerified,
    #[msg("Oracle price is stale: refresh the price update and retry")] // 6038
    OracleStale,
    #[msg("Oracle price is zero or negative")] // 6039
    OracleNonPositivePrice,
    #[msg("Oracle confidence interval is too wide relative to the price")] // 6040
    OracleConfidenceTooWide,
    #[msg("Oracle publish time is older than one this vault already used")] // 6041
    OraclePublishTimeWentBack,
    #[msg("Oracle exponent outside the supported range")] // 6042
    OracleExponentOutOfRange,
    #[msg("Oracle account data could not be decoded as a PriceUpdateV2")] // 6043
    OracleInvalidData,

    // ---- accounts (6044..) ----
    #[msg("Wrong number of remaining accounts for this vault's assets")] // 6044
    WrongRemainingAccounts,
    #[msg("Mint account does not match the vault's asset at this position")] // 6045
    MintMismatch,
    #[msg("Reserve account does not match the vault's reserve at this position")] // 6046
    ReserveMismatch,
    #[msg("Token account has the wrong mint")] // 6047
    TokenAccountMintMismatch,
    #[msg("Token account is not owned by the expected authority")] // 6048
    TokenAccountOwnerMismatch,
    #[msg("Account is not owned by the asset's token program")] // 6049
    WrongTokenProgram,
    #[msg("Asset index out of range")] // 6050
    AssetIndexOutOfRange,

    // ---- deposits / withdrawals (6051..) ----
    #[msg("Deposit would mint zero shares: deposit more")] // 6051
    ZeroShares,
    #[msg("Shares minted are below the minimum requested (slippage)")] // 6052
    SharesBelowMinimum,
    #[msg("First deposit too small: it must be worth more than the locked seed shares (1 USD)")] // 6053
    FirstDepositTooSmall,
    #[msg("An amount paid out is below the minimum requested")] // 6054
    AmountBelowMinimum,
    #[msg("Withdrawal would pay out nothing: burn more shares")] // 6055
    ZeroWithdrawal,
    #[msg("Amount must be greater than zero")] // 6056
    ZeroAmount,
    #[msg("The vault holds nothing to be proportional to: the first deposit must be deposit_single")] // 6057
    EmptyVaultNeedsSingleDeposit,
    #[msg("Amount list length does not match the vault's asset count")] // 6058
    AmountsLengthMismatch,

    // ---- math (6059..) ----
    #[msg("Arithmetic overflow")] // 6059
    MathOverflow,
    #[msg("Division by zero (empty vault, zero price or zero supply)")] // 6060
    DivideByZero,
    #[msg("Balance changed by an unexpected amount during a transfer")] // 6061
    UnexpectedBalanceChange,
    #[msg("The same account was passed twice where distinct accounts are required")] // 6062
    DuplicateAccount,
    #[msg("Governance and new governance must be a real address")] // 6063
    InvalidGovernance,
    #[msg("AMM pool account is not owned by the AMM program, or the program is not executable")] // 6064
    InvalidAmm,

    // ---- rebalance (6065..) ----
    #[msg("Rebalance cooldown has not elapsed: retry after last_rebalance_slot + cooldown")] // 6065
    CooldownNotElapsed,
    #[msg("Sell and buy asset must differ")] // 6066
    SameAsset,
    #[msg("Rebalance not needed: both assets are inside their bands")] // 6067
    RebalanceNotNeeded,
    #[msg("Rebalance goes the wrong way: sell an overweight asset for an underweight one")] // 6068
    RebalanceWrongDirection,
    #[msg("Rebalance too small: after capping at the targets nothing would be traded")] // 6069
    RebalanceTooSmall,
    #[msg("This AMM program has no adapter in ballast")] // 6070
    AmmNotSupported,
    #[msg("An AMM account may not be a vault reserve or the vault itself")] // 6071
    AmmAccountNotAllowed,
    #[msg("The swap took a different amount than the vault sent")] // 6072
    SwapInputMismatch,
    #[msg("The swap returned less than the minimum output")] // 6073
    SwapOutputBelowMinimum,
    #[msg("A vault reserve not part of the trade changed during the swap")] // 6074
    ReserveChangedUnexpectedly,
    #[msg("The trade did not reduce the vault's total drift")] // 6075
    DriftNotReduced,

    // ---- adaptive targets and bands (6076..) ----
    #[msg("Volatility time constant out of bounds: 60 s to 30 days")] // 6076
    VolTauOutOfBounds,
    #[msg("Volatility band settings out of bounds: reference > 0, min <= max within the band bounds, conf multiplier <= 100")] // 6077
    BandModeOutOfBounds,
    #[msg("CPPI settings out of bounds: multiplier 1..=100000 bps, caps <= 10000 bps, safe asset must exist")] // 6078
    CppiOutOfBounds,
    #[msg("Weight schedule invalid: one weight per asset, end slot after start slot and in the future")] // 6079
    ScheduleInvalid,
    #[msg("Share mint is not this vault's")] // 6080
    ShareMintMismatch,

    // ---- funds safety (6081..) ----
    #[msg("Mint has a close authority: it could be closed and re-created with other extensions; only mints nobody can close are listed")] // 6081
    MintCloseAuthoritySet,
    #[msg("Mint has a freeze authority: governance must acknowledge it explicitly (allow_freeze_authority) to list it")] // 6082
    FreezeAuthorityNotAcknowledged,
    #[msg("Oracle publish time is ahead of the cluster clock by more than the allowed skew")] // 6083
    OraclePublishTimeInFuture,
    #[msg("The share supply changed during the swap")] // 6084
    ShareSupplyChanged,
    #[msg("Skip mask names an asset the vault does not have")] // 6085
    InvalidSkipMask,
    #[msg("Skipping assets needs your claim account: open it with open_claim first")] // 6086
    ClaimAccountRequired,
    #[msg("Nothing is owed to this claim for that asset")] // 6087
    NothingToRedeem,
    #[msg("Deposit request cannot settle yet: wait until the settlement delay has passed; every oracle reading must be published after it")] // 6088
    DepositRequestTooEarly,
    #[msg("Deposit request expired: it can only be cancelled (full refund)")] // 6089
    DepositRequestExpired,
    #[msg("Deposit request has not expired yet: a keeper settles it; cancel is possible after expiry")] // 6090
    DepositRequestNotExpired,
    #[msg("A deposit request of yours is already open on this vault: wait for it to settle or cancel it after expiry")] // 6091
    DepositRequestAlreadyOpen,
    #[msg("Shares must go to the account named in the deposit request")] // 6092
    SharesDestinationMismatch,
    #[msg("Deposit terms out of bounds: fee 5..=500 bps, trade cost 1..=1000 bps, delay 6..=300 s, window 10..=3600 s")] // 6093
    DepositTermsOutOfBounds,
    #[msg("Rebalance oracle limits out of bounds: max age 1..=oracle max age (and <= 10 s), confidence cap 1..=oracle confidence cap (and <= 200 bps)")] // 6094
    RebalanceOracleOutOfBounds,
    #[msg("Input lists have different lengths")] // 6095
    LengthMismatch,
    #[msg("The account to create already exists")] // 6096
    AccountAlreadyExists,
    #[msg("Every target weight must be positive (a zero target would leave the asset unmanaged)")] // 6097
    ZeroTargetWeight,
    #[msg("More shares to burn than the vault has issued")] // 6098
    SharesExceedSupply,

    // ---- flash rebalance (6099..) ----
    #[msg("A flash rebalance of this vault is in progress in this transaction: nothing else may touch the vault until rebalance_end")] // 6099
    VaultInFlight,
    #[msg("Flash rebalancing is turned off for this vault (governance parameter flash_enabled)")] // 6100
    FlashRebalanceDisabled,
    #[msg("rebalance_begin needs a rebalance_end for the same vault later in the same transaction")] // 6101
    FlashEndMissing,
    #[msg("rebalance_begin and rebalance_end must be top-level instructions of the transaction, not reached by CPI")] // 6102
    FlashNotTopLevel,
    #[msg("No flash rebalance of this vault is in progress")] // 6103
    FlashNotInProgress,
    #[msg("The sold asset may not be sent to a vault reserve")] // 6104
    FlashDestinationNotAllowed,

    // ---- best execution (6105..) ----
    #[msg("No rebalance auction is running (none open, or not seen out of band within the heartbeat): send poke to open it, then trade once the auction price reaches your route")] // 6105
    AuctionNotStarted,
    #[msg("Auction duration out of bounds: 10 to 3600 seconds, and at least 2 s per bps of the slippage cap (a step of at most 0.5 bps a second)")] // 6106
    AuctionOutOfBounds,

    // ---- real AMM adapters (6107..) ----
    #[msg("The AMM pool does not trade the two assets of this rebalance (its mints are other assets)")] // 6107
    AmmPoolMintMismatch,
    #[msg("An AMM account is not the pool's own (vault, config, observation, oracle or authority): pass the accounts the pool names")] // 6108
    AmmPoolAccountMismatch,
    #[msg("A Whirlpool tick array passed for the swap belongs to another pool (or is not a tick array)")] // 6109
    AmmTickArrayMismatch,
    #[msg("The AMM pool has swaps disabled (pool status): use another route")] // 6110
    AmmPoolSwapDisabled,
    #[msg("This AMM adapter supports only SPL Token legs for this pool (the Whirlpool v1 swap): use a flash rebalance for Token-2022 assets")] // 6111
    AmmTokenProgramNotSupported,
    #[msg("Fee out of bounds: management at most 500 bps a year, performance 3000 bps, entry and exit 100 bps each")] // 6112
    FeeOutOfBounds,
    #[msg("Fee recipients invalid: with a management or performance fee, the used recipients' weights must sum to 10000 bps, each a distinct, named account")] // 6113
    FeeRecipientsInvalid,
    #[msg("A fee recipient may not be the vault's own account: not the vault, its share mint, its locked shares or a reserve")] // 6114
    FeeRecipientIsVault,
    #[msg("With a performance fee, an in-kind deposit needs the fee crystallised in the same slot: send accrue_fees (fresh readings) first in the same transaction")] // 6115
    FeeAccrualStale,
    #[msg("A fee change applies from its execution only: send accrue_fees first in the same transaction")] // 6116
    FeeAccrualRequired,
    #[msg("The fee recipients' share accounts must be passed in the order of the vault's fee recipients")] // 6117
    FeeRecipientMismatch,
    #[msg("Only a lowering of fee rates (same recipients) applies without the timelock: propose the change instead")] // 6118
    FeeNotLowered,

    // ---- evidence and resets (6119..) ----
    #[msg("Auction heartbeat out of bounds: longer than the rebalance readings' max age, at most 120 s and at most the auction's duration")] // 6119
    AuctionHeartbeatOutOfBounds,
    #[msg("Trade cost below what the auction can reach: trade_cost_bps must be at least slippage_cap_bps + bounty_bps")] // 6120
    TradeCostBelowAuction,
    #[msg("EMA divergence bound out of bounds: 10..=5000 bps")] // 6121
    EmaDivergenceOutOfBounds,
    #[msg("A price is too far from its Pyth EMA for this step (max_ema_divergence_bps): wait for the EMA to catch up or for the print to revert")] // 6122
    OracleDivergence,
    #[msg("A fee recipient must be a token account of the vault's share mint that the vault does not own: pass each recipient's account, in order")] // 6123
    FeeRecipientNotShareAccount,

    // ---- single-asset withdrawals (6124..) ----
    #[msg("Withdrawal request cannot settle yet: wait until the settlement delay has passed; every oracle reading must be published after it")] // 6124
    WithdrawRequestTooEarly,
    #[msg("Withdrawal request expired: it can only be cancelled (your shares come back)")] // 6125
    WithdrawRequestExpired,
    #[msg("Withdrawal request has not expired yet: a keeper settles it; cancel is possible after expiry")] // 6126
    WithdrawRequestNotExpired,
    #[msg("A withdrawal request of yours is already open on this vault: wait for it to settle or cancel it after expiry")] // 6127
    WithdrawRequestAlreadyOpen,
    #[msg("The payout must go to the token account named in the withdrawal request")] // 6128
    PayoutDestinationMismatch,
    #[msg("Payout too large for this asset now: it would force more than one max-size rebalance trade or exceed the reserve; the program log says the largest payout possible now (withdraw fewer shares, another asset, or in kind)")] // 6129
    WithdrawalTooLarge,
    #[msg("Single-asset withdrawals are paused (in-kind withdraw always works)")] // 6130
    ExitsPaused,
    #[msg("The token account ended the transaction below the minimum you set: nothing happened (raise your slippage or retry)")] // 6131
    BalanceBelowMinimum,
    #[msg("A single-asset withdrawal pays your associated token account of the asset (anyone can create it, so nobody can block a settlement by closing it): pass that account")] // 6132
    PayoutNotToOwnersTokenAccount,
    #[msg("Pool divergence bound out of bounds: 10..=1000 bps")] // 6133
    PoolDivergenceOutOfBounds,
    #[msg("A whitelisted pool prices an asset too far from its oracle (max_pool_divergence_bps): the flow waits until the pools and the oracle agree again (the log names the pool)")] // 6134
    PoolPriceDivergence,
    #[msg("A valuation cache entry was not refreshed in this slot: send refresh_valuation for every asset in the same slot as the instruction (the log names the asset)")] // 6135
    ValuationStale,
    #[msg("The vault changed after the valuation cache was refreshed (a deposit, withdrawal, trade or other update in between): refresh again (the log names the asset)")] // 6136
    ValuationOutdated,
    #[msg("refresh_valuation must be a top-level instruction of its transaction, not called by another program")] // 6137
    RefreshByCpi,
    #[msg("Assets out of range for a refresh: first + count must not exceed the vault's assets, and count must be at least 1")] // 6138
    RefreshOutOfRange,
    #[msg("The valuation cache passed belongs to another vault")] // 6139
    ValuationCacheMismatch,
    #[msg("The valuation cache holds this asset's reserve balance but its oracle reading was refused when refreshed (the log names the asset and the reason): refresh again once the feed passes the vault's oracle limits")] // 6140
    ValuationReadingRefused,
    #[msg("The parameter change is still being staged: append the remaining assets' parameters (append_params) or cancel it")] // 6141
    ParamsStillStaging,
    #[msg("No parameter change is being staged: start one with stage_params")] // 6142
    NoParamsStaging,
    #[msg("Staged asset parameters must continue where the staged change ends: first must equal the number of assets staged so far")] // 6143
    ParamsStageOutOfOrder,
    #[msg("This part continues another staged parameter change: its staged_hash does not match the change staged now (cancelled and staged again?); rebuild it from the staged change")] // 6144
    StagedParamsMismatch,
}

impl BallastError {
    /// The variant with this numeric code (6000 + index), if any.
    pub fn from_code(code: u32) -> Option<BallastError> {
        code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET).and_then(|i| Self::ALL.get(i as usize).copied())
    }
}

impl From<crate::math::rebalance::Refusal> for BallastError {
    fn from(r: crate::math::rebalance::Refusal) -> Self {
        use crate::math::rebalance::Refusal;
        match r {
            Refusal::SameAsset => BallastError::SameAsset,
            Refusal::IndexOutOfRange => BallastError::AssetIndexOutOfRange,
            Refusal::WrongDirection => BallastError::RebalanceWrongDirection,
            Refusal::NotNeeded => BallastError::RebalanceNotNeeded,
            Refusal::TooSmall => BallastError::RebalanceTooSmall,
            Refusal::Math(m) => m.into(),
        }
    }
}

impl From<MathError> for BallastError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::Overflow => BallastError::MathOverflow,
            MathError::LengthMismatch => BallastError::LengthMismatch,
            MathError::DivideByZero => BallastError::DivideByZero,
            MathError::ExponentOutOfRange => BallastError::OracleExponentOutOfRange,
            MathError::DecimalsOutOfRange => BallastError::UnsupportedDecimals,
            MathError::SharesExceedSupply => BallastError::SharesExceedSupply,
        }
    }
}

/// `?`-friendly conversion of pure-math results into Anchor errors.
pub trait MathResultExt<T> {
    fn or_math_err(self) -> Result<T>;
}

impl<T> MathResultExt<T> for core::result::Result<T, MathError> {
    /// The error carries the file and line of the call site (not of this function), so the program log
    /// says which computation failed.
    #[track_caller]
    fn or_math_err(self) -> Result<T> {
        let at = core::panic::Location::caller();
        self.map_err(|e| {
            let err: BallastError = e.into();
            anchor_lang::error::Error::from(err)
                .with_source(anchor_lang::error::Source { filename: at.file(), line: at.line() })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_to_names() {
        for (i, e) in BallastError::ALL.iter().enumerate() {
            let code = anchor_lang::error::ERROR_CODE_OFFSET + i as u32;
            assert_eq!(u32::from(*e), code);
            assert_eq!(BallastError::from_code(code).map(|x| x.name()), Some(e.name()));
        }
        assert!(BallastError::from_code(5_999).is_none());
        assert!(BallastError::from_code(6_000 + BallastError::ALL.len() as u32).is_none());
        assert_eq!(BallastError::from_code(6_065).unwrap().name(), "CooldownNotElapsed");
    }

    #[test]
    fn math_errors_keep_their_meaning() {
        let cases = [
            (MathError::Overflow, BallastError::MathOverflow),
            (MathError::LengthMismatch, BallastError::LengthMismatch),
            (MathError::DivideByZero, BallastError::DivideByZero),
            (MathError::ExponentOutOfRange, BallastError::OracleExponentOutOfRange),
            (MathError::DecimalsOutOfRange, BallastError::UnsupportedDecimals),
            (MathError::SharesExceedSupply, BallastError::SharesExceedSupply),
        ];
        for (m, b) in cases {
            assert_eq!(u32::from(BallastError::from(m)), u32::from(b));
        }
    }

    #[test]
    fn math_errors_report_the_call_site() {
        let r: Result<()> = Err(MathError::Overflow).or_math_err();
        let line = line!() - 1;
        match r {
            Err(anchor_lang::error::Error::AnchorError(e)) => match e.error_origin {
                Some(anchor_lang::error::ErrorOrigin::Source(s)) => {
                    assert_eq!((s.filename, s.line), (file!(), line));
                }
                other => panic!("no source: {other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }
}
