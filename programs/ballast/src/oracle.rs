//! Reads a pinned Pyth PriceUpdateV2 account and applies every oracle check. The checks themselves
//! (age, sign, confidence, monotonic publish time, exponent range) are the pure
//! `math::oracle_validity`; this file adds the account-level ones (pinned key, owner, layout,
//! verification level, feed id).

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use crate::errors::{BallastError, MathResultExt};
use crate::math::{self, OracleLimits, OracleReading, OracleValidity};
use crate::state::Asset;

/// Checks a decoded PriceUpdateV2 against an asset's pinned feed and the vault's limits.
pub fn check_update(
    update: &PriceUpdateV2,
    feed_id: &[u8; 32],
    last_publish_time: i64,
    limits: &OracleLimits,
    now: i64,
) -> Result<OracleReading> {
    let reading = verified_reading(update, feed_id)?;
    check_reading(&reading, last_publish_time, limits, now)?;
    Ok(reading)
}

/// The reading of a fully verified update of `feed_id`; no limits applied yet.
pub fn verified_reading(update: &PriceUpdateV2, feed_id: &[u8; 32]) -> Result<OracleReading> {
    require!(update.verification_level == VerificationLevel::Full, BallastError::OracleNotFullyVerified);
    let m = &update.price_message;
    require!(m.feed_id == *feed_id, BallastError::OracleWrongFeed);
    Ok(reading_of(m))
}

/// The checks of a reading under `limits` at `now` (`math::oracle_validity`), each failure by its own error.
pub fn check_reading(reading: &OracleReading, last_publish_time: i64, limits: &OracleLimits, now: i64) -> Result<()> {
    match math::oracle_validity(reading, now, last_publish_time, limits) {
        OracleValidity::Valid => Ok(()),
        OracleValidity::NonPositive => err!(BallastError::OracleNonPositivePrice),
        OracleValidity::ExponentOutOfRange => err!(BallastError::OracleExponentOutOfRange),
        OracleValidity::WentBackInTime => err!(BallastError::OraclePublishTimeWentBack),
        OracleValidity::InFuture => err!(BallastError::OraclePublishTimeInFuture),
        OracleValidity::Stale => err!(BallastError::OracleStale),
        OracleValidity::TooUncertain => err!(BallastError::OracleConfidenceTooWide),
    }
}

/// The fields of a Pyth price message the vault uses: the price, its EMA, their confidences, the exponent and
/// the publish time (one conversion for the program, the keeper and the tools).
pub fn reading_of(m: &pyth_solana_receiver_sdk::price_update::PriceFeedMessage) -> OracleReading {
    OracleReading {
        price: m.price,
        conf: m.conf,
        expo: m.exponent,
        publish_time: m.publish_time,
        ema_price: m.ema_price,
        ema_conf: m.ema_conf,
    }
}

/// Reads the asset's pinned oracle from an account passed by the caller.
pub fn read_asset_price(info: &AccountInfo, asset: &Asset, limits: &OracleLimits, now: i64) -> Result<OracleReading> {
    let reading = read_asset_reading(info, asset)?;
    check_reading(&reading, asset.last_publish_time, limits, now)?;
    Ok(reading)
}

/// The asset's pinned oracle's reading, with every account-level check (pinned key, owner, layout,
/// verification level, feed id) and no limits applied yet.
pub fn read_asset_reading(info: &AccountInfo, asset: &Asset) -> Result<OracleReading> {
    require_keys_eq!(info.key(), asset.oracle, BallastError::OracleAccountMismatch);
    require_keys_eq!(*info.owner, pyth_solana_receiver_sdk::ID, BallastError::OracleWrongOwner);
    let data = info.try_borrow_data()?;
    let update = PriceUpdateV2::try_deserialize(&mut &data[..]).map_err(|_| error!(BallastError::OracleInvalidData))?;
    verified_reading(&update, &asset.feed_id)
}

/// Records a reading as the asset's newest (publish time never goes back: checked above) and folds it
/// into the asset's volatility estimate.
pub fn record(asset: &mut Asset, reading: &OracleReading, vol_tau_secs: u32) -> Result<()> {
    asset.observe(reading, vol_tau_secs).or_math_err()
}
