//! Pyth PriceUpdateV2 accounts in the real on-chain layout (Anchor discriminator + Borsh), owned by the
//! Pyth receiver program, so the program's own decoding path is exercised.

use anchor_lang::AccountSerialize;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};

pub use pyth_solana_receiver_sdk::ID as RECEIVER_PROGRAM_ID;

/// The fields of a price update that tests and the demo vary.
#[derive(Debug, Clone, Copy)]
pub struct PriceSpec {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub verification: VerificationLevel,
    /// Pyth's EMA of the price and its confidence (same exponent).
    pub ema_price: i64,
    pub ema_conf: u64,
}

impl PriceSpec {
    /// A fully verified price with the given mantissa and exponent and a 0.05 % confidence interval, its EMA
    /// at the same price (a price that has held long enough for the EMA to reach it).
    pub fn new(feed_id: [u8; 32], price: i64, expo: i32, publish_time: i64) -> Self {
        let conf = (price.unsigned_abs() / 2_000).max(1);
        Self {
            feed_id,
            price,
            conf,
            expo,
            publish_time,
            verification: VerificationLevel::Full,
            ema_price: price,
            ema_conf: conf,
        }
    }

    /// The same update with its EMA at `ema_price` (confidence 0.05 % of it).
    pub fn with_ema(self, ema_price: i64) -> Self {
        Self { ema_price, ema_conf: (ema_price.unsigned_abs() / 2_000).max(1), ..self }
    }
}

/// Serialised account data of a PriceUpdateV2 (length `PriceUpdateV2::LEN`).
pub fn encode(spec: &PriceSpec) -> Vec<u8> {
    let update = PriceUpdateV2 {
        write_authority: anchor_lang::prelude::Pubkey::default(),
        verification_level: spec.verification,
        price_message: PriceFeedMessage {
            feed_id: spec.feed_id,
            price: spec.price,
            conf: spec.conf,
            exponent: spec.expo,
            publish_time: spec.publish_time,
            prev_publish_time: spec.publish_time.saturating_sub(1),
            ema_price: spec.ema_price,
            ema_conf: spec.ema_conf,
        },
        posted_slot: 0,
    };
    let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
    update.try_serialize(&mut data).expect("serialise PriceUpdateV2");
    data.resize(PriceUpdateV2::LEN, 0);
    data
}

/// A deterministic feed id for a symbol (real deployments pin Pyth's published ids).
pub fn feed_id(symbol: &str) -> [u8; 32] {
    let mut id = [0u8; 32];
    for (i, b) in symbol.bytes().enumerate().take(32) {
        id[i] = b;
    }
    id[31] = 0xba;
    id
}
