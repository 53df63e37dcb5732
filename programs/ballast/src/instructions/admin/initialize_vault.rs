use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token};

use crate::constants::*;
use crate::create::{create_pda_account, write_account};
use crate::errors::BallastError;
use crate::events::VaultInitializedEvent;
use crate::math::SHARE_DECIMALS;
use crate::state::{FeeState, Vault, VaultParams, VaultStatus};

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

/// The three accounts are created by the handler (not Anchor's `init`) so that lamports sent to their
/// addresses beforehand cannot block the vault's creation (see `create.rs`).
#[derive(Accounts)]
#[instruction(args: InitializeVaultArgs)]
pub struct InitializeVault<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,
    /// CHECK: created here at the PDA checked by `seeds` and written as a `Vault`; an existing account is
    /// refused by `create_pda_account`.
    #[account(mut, seeds = [VAULT_SEED, creator.key().as_ref(), &args.vault_id.to_le_bytes()], bump)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: created here at the PDA checked by `seeds` and initialised as an SPL Token mint (6 decimals,
    /// mint authority = vault, no freeze authority).
    #[account(mut, seeds = [SHARE_MINT_SEED, vault.key().as_ref()], bump)]
    pub share_mint: UncheckedAccount<'info>,
    /// CHECK: created here at the PDA checked by `seeds` and initialised as a token account of the share
    /// mint owned by the vault; receives the never-redeemable shares minted by the first deposit.
    #[account(mut, seeds = [LOCKED_SHARES_SEED, vault.key().as_ref()], bump)]
    pub locked_shares: UncheckedAccount<'info>,
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
        let a = &ctx.accounts;
        let (creator, vault_key) = (a.creator.key(), a.vault.key());
        let id = args.vault_id.to_le_bytes();
        let (payer, system) = (a.creator.to_account_info(), a.system_program.to_account_info());
        let b = &ctx.bumps;

        create_pda_account(
            &payer,
            &a.vault.to_account_info(),
            Vault::space(0),
            &crate::ID,
            &[VAULT_SEED, creator.as_ref(), &id, &[b.vault]],
            &system,
        )?;
        a.create_share_accounts(&vault_key, b.share_mint, b.locked_shares)?;

        let vault = Vault {
            version: Vault::VERSION,
            bump: b.vault,
            share_mint_bump: b.share_mint,
            locked_shares_bump: b.locked_shares,
            status: VaultStatus::Configuring,
            paused: 0,
            creator,
            vault_id: args.vault_id,
            governance: args.governance,
            pending_governance: Pubkey::default(),
            guardian: args.guardian,
            share_mint: a.share_mint.key(),
            locked_shares: a.locked_shares.key(),
            params: args.params,
            pending_params: None,
            assets: Vec::new(),
            amms: Vec::new(),
            last_rebalance_slot: 0,
            schedule: None,
            cppi_floor_per_share: args.params.cppi_floor(),
            episode_bounty_paid: 0,
            flight: None,
            auction_started_at: 0,
            auction_seen_at: 0,
            auction_sold_ppm: 0,
            fees: FeeState::default(),
            rel_vol_time: 0,
            valuation_seq: 0,
            reserved: [0; 44],
        };
        vault.check_fee_recipients(&vault_key, &vault.params.fees)?;
        vault.invariant()?;
        write_account(&a.vault.to_account_info(), &vault)?;
        crate::events::emit(VaultInitializedEvent {
            vault: vault_key,
            creator,
            vault_id: vault.vault_id,
            governance: vault.governance,
            guardian: vault.guardian,
            share_mint: vault.share_mint,
            params: vault.params,
        });
        Ok(())
    }
}

impl InitializeVault<'_> {
    /// The share mint (6 decimals, the vault its authority) and the vault-owned account of the locked shares,
    /// at their PDAs; the creator pays the rent.
    fn create_share_accounts(&self, vault_key: &Pubkey, share_mint_bump: u8, locked_shares_bump: u8) -> Result<()> {
        let (payer, system) = (self.creator.to_account_info(), self.system_program.to_account_info());
        create_pda_account(
            &payer,
            &self.share_mint.to_account_info(),
            anchor_spl::token::Mint::LEN,
            &token::ID,
            &[SHARE_MINT_SEED, vault_key.as_ref(), &[share_mint_bump]],
            &system,
        )?;
        token::initialize_mint2(
            CpiContext::new(token::ID, token::InitializeMint2 { mint: self.share_mint.to_account_info() }),
            SHARE_DECIMALS,
            vault_key,
            None,
        )?;
        create_pda_account(
            &payer,
            &self.locked_shares.to_account_info(),
            anchor_spl::token::TokenAccount::LEN,
            &token::ID,
            &[LOCKED_SHARES_SEED, vault_key.as_ref(), &[locked_shares_bump]],
            &system,
        )?;
        token::initialize_account3(CpiContext::new(
            token::ID,
            token::InitializeAccount3 {
                account: self.locked_shares.to_account_info(),
                mint: self.share_mint.to_account_info(),
                authority: self.vault.to_account_info(),
            },
        ))
    }
}
