//! `accrue_fees` (permissionless): accrues the running fees up to now on fresh oracle readings (the
//! performance fee is crystallised only on readings a rebalance could use that agree with their Pyth EMA,
//! each asset valued at the lower of its price and its EMA at their lower confidence bounds: a one-print
//! spike does not crystallise a fee), then mints every fee share owed into the recipients' share accounts
//! by weight. Also the shared steps every valuing instruction runs first ([`fee_mark`], [`accrue`]).

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token};

use crate::errors::{BallastError, MathResultExt};
use crate::events::FeesDistributed;
use crate::instructions::accounts::{PricedReserves, ValuationSource};
use crate::math::{self, Rounding};
use crate::state::{FeeMark, Vault};
use crate::token as tok;

/// Remaining accounts: `[oracle_i, reserve_i]` for every asset in vault order (or the vault's valuation cache,
/// refreshed in the same slot), then the share account of
/// every fee recipient with a weight, in the vault's recipient order.
#[derive(Accounts)]
pub struct AccrueFees<'info> {
    #[account(mut, has_one = share_mint, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    pub token_program: Program<'info, Token>,
}

/// What the performance fee may be measured on with these readings (`FeeMark::Priced`): the vault with every
/// asset at the lower of its price and its EMA, at the lower confidence bound (the fee is charged on it) and
/// at mid (the mark is set at it), the vault at its own prices' mid (where an entrant comes in),
/// and whether every price is within `max_ema_divergence_bps` of its EMA (only then is the fee crystallised:
/// a gain counts only once it is on both and the EMA has followed it).
pub fn fee_mark(vault: &Vault, valuation: &PricedReserves) -> Result<FeeMark> {
    let nav_at = |price: &dyn Fn(&math::OracleReading) -> math::MathResult<math::UsdPrice>| -> Result<u128> {
        let positions = vault
            .assets
            .iter()
            .zip(&valuation.balances)
            .zip(&valuation.readings)
            .map(|((a, balance), r)| {
                Ok(math::AssetPosition { balance: *balance, decimals: a.decimals, price: price(r)? })
            })
            .collect::<math::MathResult<Vec<_>>>()
            .or_math_err()?;
        let values = math::position_values(&positions, Rounding::Floor).or_math_err()?;
        math::total_value(&values).or_math_err()
    };
    let charge = nav_at(&|r| r.low_of_spot_and_ema())?;
    let mark = nav_at(&|r| r.mid_of_spot_and_ema())?;
    let spot = nav_at(&|r| Ok(r.bounds()?.mid))?;
    let agreed =
        math::OracleReading::first_divergent(&valuation.readings, vault.params.max_ema_divergence_bps).is_none();
    Ok(FeeMark::Priced { navs: math::fees::FeeNavs { charge, mark }, spot, agreed })
}

/// Accrues the running fees of `vault` (with `minted` shares in the mint) up to the clock, measured on
/// `mark`, and emits what was charged (and a deferred performance fee).
pub fn accrue(vault: &mut Account<Vault>, minted: u64, clock: &Clock, mark: FeeMark) -> Result<()> {
    let accrued = vault.accrue_fees(minted, clock.unix_timestamp, clock.slot, mark)?;
    crate::events::emit_fees(vault.key(), &accrued, vault.fees.pending_shares);
    Ok(())
}

impl AccrueFees<'_> {
    pub fn validate(&self) -> Result<()> {
        self.vault.require_active()
    }

    #[access_control(ctx.accounts.validate())]
    pub fn handler<'info>(ctx: Context<'info, AccrueFees<'info>>) -> Result<()> {
        let clock = Clock::get()?;
        let n = ctx.accounts.vault.assets.len();
        let vault_key = ctx.accounts.vault.key();
        let (source, recipients) = ValuationSource::split(n, ctx.remaining_accounts)?;
        let fresh = ctx.accounts.vault.params.rebalance_oracle_limits();
        let valuation = source.load(&mut ctx.accounts.vault, &vault_key, &clock, &fresh)?;
        let minted = ctx.accounts.share_mint.supply;
        // On readings that do not agree with their EMA the performance fee is deferred (`FeesAccrued` says
        // so); in-kind deposits still enter, marked at the entry price of these readings.
        let mark = fee_mark(&ctx.accounts.vault, &valuation)?;
        accrue(&mut ctx.accounts.vault, minted, &clock, mark)?;
        ctx.accounts.distribute(recipients)?;
        ctx.accounts.vault.seal()
    }
}

impl<'info> AccrueFees<'info> {
    /// Mints the owed fee shares into the recipients' accounts by weight (rounding remainders stay owed). The
    /// accounts must be the recipients' own, in order (`FeeRecipientMismatch`); a recipient whose account is
    /// no longer a share account the vault does not own (closed since, say) is skipped and its part is
    /// withheld for it (`FeeState::withheld`: paid when its account takes shares again, never split among the
    /// others), so one recipient never blocks the others or a change of recipients (which needs this
    /// instruction first).
    fn distribute(&mut self, accounts: &[AccountInfo<'info>]) -> Result<()> {
        let vault = &self.vault;
        let recipients = vault.params.fees.recipients;
        let used: Vec<usize> = (0..recipients.len()).filter(|i| recipients[*i].weight_bps > 0).collect();
        let pending = vault.fees.pending_shares;
        if pending == 0 || used.is_empty() {
            return Ok(());
        }
        require!(accounts.len() == used.len(), BallastError::FeeRecipientMismatch);
        // What was withheld stays its recipient's; the rest is split by weight.
        let mut withheld = vault.fees.withheld;
        let kept: u64 = withheld.iter().sum();
        let weights: Vec<u16> = used.iter().map(|i| recipients[*i].weight_bps).collect();
        let parts = math::fees::split_by_weights(pending.saturating_sub(kept), &weights).or_math_err()?;
        let share_mint = self.share_mint.to_account_info();
        let mut minted_parts = Vec::with_capacity(parts.len());
        for ((slot, info), part) in used.iter().zip(accounts).zip(&parts) {
            require_keys_eq!(info.key(), recipients[*slot].account, BallastError::FeeRecipientMismatch);
            let valid = tok::load_token_account(info, &anchor_spl::token::ID, &self.share_mint.key())
                .is_ok_and(|account| account.owner != vault.key() && info.key() != vault.locked_shares);
            let due = part.checked_add(withheld[*slot]).ok_or(BallastError::MathOverflow)?;
            if valid {
                tok::mint_shares(&share_mint, info, vault, due)?;
                withheld[*slot] = 0;
                minted_parts.push(due);
            } else {
                withheld[*slot] = due;
                minted_parts.push(0);
            }
        }
        let parts = minted_parts;
        let minted: u64 = parts.iter().sum();
        let used: Vec<_> = used.iter().map(|i| recipients[*i]).collect();
        let vault = &mut self.vault;
        vault.fees.withheld = withheld;
        vault.fees.pending_shares = pending.checked_sub(minted).ok_or(BallastError::MathOverflow)?;
        crate::events::emit(FeesDistributed {
            vault: vault.key(),
            recipients: used.iter().map(|r| r.account).collect(),
            shares: parts,
            pending_shares: vault.fees.pending_shares,
        });
        Ok(())
    }
}
