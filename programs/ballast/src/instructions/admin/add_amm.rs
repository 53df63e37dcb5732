use anchor_lang::prelude::*;

use crate::constants::MAX_AMMS;
use crate::errors::BallastError;
use crate::events::AmmWhitelistChangedEvent;
use crate::state::{pause, AmmEntry, Vault};

#[derive(Accounts)]
pub struct AddAmm<'info> {
    pub governance: Signer<'info>,
    #[account(mut, has_one = governance @ BallastError::NotGovernance, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    /// CHECK: any executable program; `validate` checks it is executable and owns `pool`.
    pub amm_program: UncheckedAccount<'info>,
    /// CHECK: the pool's layout belongs to the AMM; `validate` checks its owner is `amm_program`.
    pub pool: UncheckedAccount<'info>,
}

impl AddAmm<'_> {
    pub fn validate(&self) -> Result<()> {
        let vault = &self.vault;
        vault.require_not_paused(pause::GOVERNANCE)?;
        require!(self.amm_program.executable, BallastError::InvalidAmm);
        require_keys_eq!(*self.pool.owner, self.amm_program.key(), BallastError::InvalidAmm);
        require!(vault.amm(&self.amm_program.key(), &self.pool.key()).is_none(), BallastError::AmmAlreadyWhitelisted);
        require!(vault.amms.len() < MAX_AMMS, BallastError::AmmWhitelistFull);
        Ok(())
    }

    /// Approves (AMM program, pool) as a rebalance route.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<AddAmm>) -> Result<()> {
        let (program_id, pool) = (ctx.accounts.amm_program.key(), ctx.accounts.pool.key());
        // The pool's mints, so that instructions know which whitelisted pools price a pair or an asset.
        let (mint_a, mint_b) =
            crate::amm::pool_mints(&program_id, &ctx.accounts.pool)?.unwrap_or((Pubkey::default(), Pubkey::default()));
        let entry = AmmEntry { program_id, pool, mint_a, mint_b };
        let vault = &mut ctx.accounts.vault;
        vault.amms.push(entry);
        vault.seal()?;
        crate::events::emit(AmmWhitelistChangedEvent {
            vault: vault.key(),
            program_id: entry.program_id,
            pool: entry.pool,
            added: true,
        });
        Ok(())
    }
}
