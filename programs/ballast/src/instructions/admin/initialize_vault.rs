use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::errors::BallastError;
use crate::events::VaultInitializedEvent;
use crate::math::SHARE_DECIMALS;
use crate::state::{Vault, VaultParams, VaultStatus};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeVaultArgs {
    /// Distinguishes several vaults made by the same creator (part of the vault PDA seeds).
    pub vault_id: u64,
    /// Governance authority (typically a multisig). Adds assets, activates, proposes changes.
    pub governance: Pubkey,
    /// Optional guardian that may only pause; `Pubkey::default()` for none.
    pub guardian: Pubkey,
    /// Vault parameters. A zero timelock is allowed here and only here.
    pub params: VaultParams,
}

#[derive(Accounts)]
#[instruction(args: InitializeVaultArgs)]
pub struct InitializeVault<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(
        init,
        payer = creator,
        space = 8 + Vault::INIT_SPACE,
        seeds = [VAULT_SEED, creator.key().as_ref(), &args.vault_id.to_le_bytes()],
        bump,
    )]
    pub vault: Box<Account<'info, Vault>>,
    #[account(
        init,
        payer = creator,
        seeds = [SHARE_MINT_SEED, vault.key().as_ref()],
        bump,
        mint::decimals = SHARE_DECIMALS,
        mint::authority = vault,
        mint::token_program = token_program,
    )]
    pub share_mint: Box<Account<'info, Mint>>,
    /// Receives the never-redeemable shares minted by the first deposit.
    #[account(
        init,
        payer = creator,
        seeds = [LOCKED_SHARES_SEED, vault.key().as_ref()],
        bump,
        token::mint = share_mint,
        token::authority = vault,
        token::token_program = token_program,
    )]
    pub locked_shares: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeVault<'_> {
    pub fn validate(&self, args: &InitializeVaultArgs) -> Result<()> {
        require!(args.governance != Pubkey::default(), BallastError::InvalidGovernance);
        args.params.check(true)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<InitializeVault>, args: InitializeVaultArgs) -> Result<()> {
        let vault = &mut ctx.accounts.vault;
        vault.set_inner(Vault {
            version: Vault::VERSION,
            bump: ctx.bumps.vault,
            share_mint_bump: ctx.bumps.share_mint,
            locked_shares_bump: ctx.bumps.locked_shares,
            status: VaultStatus::Configuring,
            paused: 0,
            creator: ctx.accounts.creator.key(),
            vault_id: args.vault_id,
            governance: args.governance,
            pending_governance: Pubkey::default(),
            guardian: args.guardian,
            share_mint: ctx.accounts.share_mint.key(),
            locked_shares: ctx.accounts.locked_shares.key(),
            params: args.params,
            pending_params: None,
            assets: Vec::new(),
            amms: Vec::new(),
            last_rebalance_slot: 0,
            schedule: None,
            cppi_floor_per_share: args.params.cppi_floor(),
            reserved: [0; 128],
        });
        vault.invariant()?;
        emit!(VaultInitializedEvent {
            vault: vault.key(),
            creator: vault.creator,
            vault_id: vault.vault_id,
            governance: vault.governance,
            guardian: vault.guardian,
            share_mint: vault.share_mint,
            params: vault.params,
        });
        Ok(())
    }
}
