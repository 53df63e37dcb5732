use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::constants::*;
use crate::errors::BallastError;
use crate::events::AssetAddedEvent;
use crate::math::MAX_DECIMALS;
use crate::oracle;
use crate::state::{asset_flags, Asset, AssetParams, Vault, VaultStatus};
use crate::token;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddAssetArgs {
    /// Pyth feed id the pinned oracle account must carry.
    pub feed_id: [u8; 32],
    /// Target weight, ε band and max trade size.
    pub params: AssetParams,
    /// Governance's explicit acknowledgement that the mint has a freeze authority (USDC and USDT do):
    /// that authority can freeze the reserve. Withdrawals can still skip a frozen asset (its amount is
    /// kept for the holder in a claim), but listing such a mint is a decision, so it is off by default.
    pub allow_freeze_authority: bool,
}

#[derive(Accounts)]
pub struct AddAsset<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub governance: Signer<'info>,
    #[account(mut, has_one = governance @ BallastError::NotGovernance, constraint = vault.flight.is_none() @ BallastError::VaultInFlight)]
    pub vault: Box<Account<'info, Vault>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: not yet created; its address is the PDA checked by `seeds`, and the handler creates it
    /// as a token account of `mint` owned by the vault, after every other check passed.
    #[account(mut, seeds = [RESERVE_SEED, vault.key().as_ref(), mint.key().as_ref()], bump)]
    pub reserve: UncheckedAccount<'info>,
    /// The Pyth price update account pinned for this asset (owner and discriminator checked by the type).
    pub oracle: Box<Account<'info, PriceUpdateV2>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl AddAsset<'_> {
    pub fn validate(&self, args: &AddAssetArgs) -> Result<()> {
        let vault = &self.vault;
        require!(vault.status == VaultStatus::Configuring, BallastError::VaultAlreadyActive);
        require!(vault.assets.len() < MAX_ASSETS, BallastError::TooManyAssets);
        require!(vault.asset_index(&self.mint.key()).is_none(), BallastError::DuplicateMint);
        require!(self.mint.decimals <= MAX_DECIMALS, BallastError::UnsupportedDecimals);
        token::check_mint_extensions(&self.mint.to_account_info())?;
        require!(
            self.mint.freeze_authority.is_none() || args.allow_freeze_authority,
            BallastError::FreezeAuthorityNotAcknowledged
        );
        args.params.check()
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<AddAsset>, args: AddAssetArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let limits = accounts.vault.params.oracle_limits();
        let reading = oracle::check_update(&accounts.oracle, &args.feed_id, 0, &limits, now)?;

        let vault_key = accounts.vault.key();
        let mint_key = accounts.mint.key();
        let bump = ctx.bumps.reserve;
        token::create_vault_token_account(
            &accounts.payer.to_account_info(),
            &accounts.reserve.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.vault.to_account_info(),
            &accounts.token_program.to_account_info(),
            &accounts.system_program.to_account_info(),
            &[RESERVE_SEED, vault_key.as_ref(), mint_key.as_ref(), &[bump]],
        )?;

        let mut asset = Asset {
            mint: mint_key,
            reserve: accounts.reserve.key(),
            token_program: accounts.token_program.key(),
            oracle: accounts.oracle.key(),
            feed_id: args.feed_id,
            decimals: accounts.mint.decimals,
            reserve_bump: bump,
            params: args.params,
            last_publish_time: 0,
            last_price: 0,
            last_expo: 0,
            vol: Default::default(),
            rel_vol: Default::default(),
            owed: 0,
            pending_in: 0,
            flags: if accounts.mint.freeze_authority.is_some() {
                asset_flags::FREEZE_AUTHORITY_ACKNOWLEDGED
            } else {
                0
            },
            reserved: [0; 2],
            vesting: 0,
            vesting_from: 0,
            vesting_until: 0,
        };
        let freeze_authority: Option<Pubkey> = accounts.mint.freeze_authority.into();
        oracle::record(&mut asset, &reading, accounts.vault.params.vol_tau_secs)?;
        // The vault's account grows by one asset's room (`Vault::space`), paid by the payer.
        crate::create::grow_account(
            &accounts.payer.to_account_info(),
            &accounts.vault.to_account_info(),
            Vault::space(accounts.vault.assets.len() + 1),
            &accounts.system_program.to_account_info(),
        )?;
        let vault = &mut ctx.accounts.vault;
        let index = u8::try_from(vault.assets.len()).map_err(|_| BallastError::TooManyAssets)?;
        vault.assets.push(asset);
        // The new reserve may not be a fee recipient (its address was known before it existed).
        let fees = vault.params.fees;
        vault.check_fee_recipients(&vault_key, &fees)?;
        vault.seal()?;
        crate::events::emit(AssetAddedEvent {
            vault: vault_key,
            index,
            mint: asset.mint,
            reserve: asset.reserve,
            token_program: asset.token_program,
            oracle: asset.oracle,
            feed_id: asset.feed_id,
            decimals: asset.decimals,
            params: asset.params,
            freeze_authority,
            freeze_authority_acknowledged: args.allow_freeze_authority && freeze_authority.is_some(),
        });
        Ok(())
    }
}
