//! What a withdrawal that skipped assets still owes its owner.

use anchor_lang::prelude::*;

use crate::constants::MAX_ASSETS;

/// PDA `[CLAIM_SEED, vault, owner]`. A withdrawal that skips an asset (a frozen reserve, a broken mint)
/// burns the shares in full and records the skipped asset's pro-rata amount here; the vault keeps the
/// same amount aside (`Asset::owed`), outside its value, deposits and later withdrawals, until
/// `redeem_claim` pays it out.
#[account]
#[derive(InitSpace, Debug)]
pub struct Claim {
    pub vault: Pubkey,
    pub owner: Pubkey,
    pub bump: u8,
    /// Base units owed per asset, in vault asset order.
    pub owed: [u64; MAX_ASSETS],
}

impl Claim {
    /// Size of a claim written when vaults held at most 16 assets (16 amounts): `open_claim` grows one to
    /// today's layout, whose fields start the same way.
    pub const LEGACY_SPACE: usize = 8 + 32 + 32 + 1 + 16 * 8;
}
