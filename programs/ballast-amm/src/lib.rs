//! A small constant-product AMM (x·y = k, fee in bps kept by the pool). It exists so that ballast's
//! demo, tests and simulator swap through a real program by CPI; real deployments reach real AMMs
//! through the same adapter seam in the vault program.
#![allow(clippy::result_large_err)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation))]

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint as LpMint, Token, TokenAccount as LpAccount};
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface};

pub mod math;

declare_id!("ELCB4LRXnxZzkSvVAvAWVUghXK2TBPZ6Pxvu3sTBapsK");

/// Pool PDA: `[POOL_SEED, mint_a, mint_b]` with `mint_a < mint_b`.
pub const POOL_SEED: &[u8] = b"pool";
/// Pool token vault PDA: `[POOL_VAULT_SEED, pool, mint]`.
pub const POOL_VAULT_SEED: &[u8] = b"pool_vault";
/// LP mint PDA: `[LP_MINT_SEED, pool]`.
pub const LP_MINT_SEED: &[u8] = b"lp";
/// Largest swap fee (10 %).
pub const MAX_FEE_BPS: u16 = 1_000;

/// Codes start at 7000 so they never collide with ballast's own (6000+) when ballast calls this AMM.
#[error_code(offset = 7000)]
pub enum AmmError {
    #[msg("Pool mints must be passed sorted: mint_a < mint_b")] // 7000
    MintsNotSorted,
    #[msg("Fee above 1000 bps")] // 7001
    FeeTooHigh,
    #[msg("Token account is not one of this pool's vaults")] // 7002
    WrongPoolVault,
    #[msg("Input and output vault must differ")] // 7003
    SameVault,
    #[msg("Output below the minimum requested")] // 7004
    SlippageExceeded,
    #[msg("Amount must be greater than zero")] // 7005
    ZeroAmount,
    #[msg("Pool has no liquidity")] // 7006
    ZeroLiquidity,
    #[msg("Constant-product invariant would decrease")] // 7007
    InvariantViolated,
    #[msg("Arithmetic overflow")] // 7008
    Overflow,
    #[msg("Liquidity minted below the minimum requested")] // 7009
    LiquidityBelowMinimum,
}

impl AmmError {
    /// Every variant in code order (7000 + index).
    pub const ALL: [AmmError; 10] = [
        AmmError::MintsNotSorted,
        AmmError::FeeTooHigh,
        AmmError::WrongPoolVault,
        AmmError::SameVault,
        AmmError::SlippageExceeded,
        AmmError::ZeroAmount,
        AmmError::ZeroLiquidity,
        AmmError::InvariantViolated,
        AmmError::Overflow,
        AmmError::LiquidityBelowMinimum,
    ];

    /// The variant with this numeric code, if any.
    pub fn from_code(code: u32) -> Option<AmmError> {
        code.checked_sub(7_000).and_then(|i| Self::ALL.get(i as usize).copied())
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Pool {
    pub mint_a: Pubkey,
    pub mint_b: Pubkey,
    pub vault_a: Pubkey,
    pub vault_b: Pubkey,
    pub lp_mint: Pubkey,
    pub fee_bps: u16,
    pub bump: u8,
}

impl Pool {
    fn signer_seeds(&self) -> [&[u8]; 4] {
        [POOL_SEED, self.mint_a.as_ref(), self.mint_b.as_ref(), core::slice::from_ref(&self.bump)]
    }
}

#[event]
pub struct SwapEvent {
    pub pool: Pubkey,
    pub mint_in: Pubkey,
    pub amount_in: u64,
    pub amount_out: u64,
    pub reserve_in_after: u64,
    pub reserve_out_after: u64,
}

#[event]
pub struct LiquidityEvent {
    pub pool: Pubkey,
    pub amount_a: u64,
    pub amount_b: u64,
    pub lp: u64,
    pub added: bool,
}

#[program]
pub mod ballast_amm {
    use super::*;

    /// Creates a pool for a sorted mint pair with a swap fee in bps.
    pub fn create_pool(ctx: Context<CreatePool>, fee_bps: u16) -> Result<()> {
        require!(ctx.accounts.mint_a.key() < ctx.accounts.mint_b.key(), AmmError::MintsNotSorted);
        require!(fee_bps <= MAX_FEE_BPS, AmmError::FeeTooHigh);
        ctx.accounts.pool.set_inner(Pool {
            mint_a: ctx.accounts.mint_a.key(),
            mint_b: ctx.accounts.mint_b.key(),
            vault_a: ctx.accounts.vault_a.key(),
            vault_b: ctx.accounts.vault_b.key(),
            lp_mint: ctx.accounts.lp_mint.key(),
            fee_bps,
            bump: ctx.bumps.pool,
        });
        Ok(())
    }

    /// Adds liquidity in the pool's proportions (any proportions for the first deposit).
    pub fn add_liquidity(ctx: Context<Liquidity>, max_a: u64, max_b: u64, min_lp: u64) -> Result<()> {
        let a = &ctx.accounts;
        let (ra, rb, supply) = (a.vault_a.amount, a.vault_b.amount, a.lp_mint.supply);
        let (lp, amount_a, amount_b) = math::liquidity_in(ra, rb, supply, max_a, max_b).ok_or(AmmError::Overflow)?;
        require!(lp > 0, AmmError::ZeroAmount);
        require!(lp >= min_lp, AmmError::LiquidityBelowMinimum);
        a.move_side(true, true, amount_a)?;
        a.move_side(false, true, amount_b)?;
        let seeds = a.pool.signer_seeds();
        anchor_spl::token::mint_to(
            CpiContext::new_with_signer(
                anchor_spl::token::ID,
                anchor_spl::token::MintTo {
                    mint: a.lp_mint.to_account_info(),
                    to: a.user_lp.to_account_info(),
                    authority: a.pool.to_account_info(),
                },
                &[&seeds],
            ),
            lp,
        )?;
        emit!(LiquidityEvent { pool: a.pool.key(), amount_a, amount_b, lp, added: true });
        Ok(())
    }

    /// Burns LP tokens for the pro-rata reserves (rounded down).
    pub fn remove_liquidity(ctx: Context<Liquidity>, lp: u64, min_a: u64, min_b: u64) -> Result<()> {
        let a = &ctx.accounts;
        require!(lp > 0, AmmError::ZeroAmount);
        let supply = a.lp_mint.supply;
        let amount_a = math::pro_rata(lp, a.vault_a.amount, supply).ok_or(AmmError::Overflow)?;
        let amount_b = math::pro_rata(lp, a.vault_b.amount, supply).ok_or(AmmError::Overflow)?;
        require!(amount_a >= min_a && amount_b >= min_b, AmmError::SlippageExceeded);
        anchor_spl::token::burn(
            CpiContext::new(
                anchor_spl::token::ID,
                anchor_spl::token::Burn {
                    mint: a.lp_mint.to_account_info(),
                    from: a.user_lp.to_account_info(),
                    authority: a.user.to_account_info(),
                },
            ),
            lp,
        )?;
        a.move_side(true, false, amount_a)?;
        a.move_side(false, false, amount_b)?;
        emit!(LiquidityEvent { pool: a.pool.key(), amount_a, amount_b, lp, added: false });
        Ok(())
    }

    /// Swaps exactly `amount_in` for at least `min_out`.
    pub fn swap(ctx: Context<Swap>, amount_in: u64, min_out: u64) -> Result<()> {
        let a = &ctx.accounts;
        let pool = &a.pool;
        let (vin, vout) = (a.vault_in.key(), a.vault_out.key());
        require!(vin == pool.vault_a || vin == pool.vault_b, AmmError::WrongPoolVault);
        require!(vout == pool.vault_a || vout == pool.vault_b, AmmError::WrongPoolVault);
        require!(vin != vout, AmmError::SameVault);
        require!(amount_in > 0, AmmError::ZeroAmount);
        let (r_in, r_out) = (a.vault_in.amount, a.vault_out.amount);
        require!(r_in > 0 && r_out > 0, AmmError::ZeroLiquidity);
        let out = math::swap_out(r_in, r_out, pool.fee_bps, amount_in).ok_or(AmmError::Overflow)?;
        require!(out > 0, AmmError::ZeroAmount);
        require!(out >= min_out, AmmError::SlippageExceeded);

        transfer(
            &a.token_program_in,
            a.user_source.to_account_info(),
            &a.mint_in,
            a.vault_in.to_account_info(),
            a.user.to_account_info(),
            amount_in,
            None,
        )?;
        let seeds = pool.signer_seeds();
        transfer(
            &a.token_program_out,
            a.vault_out.to_account_info(),
            &a.mint_out,
            a.user_destination.to_account_info(),
            pool.to_account_info(),
            out,
            Some(&[&seeds]),
        )?;
        let mut vault_in = a.vault_in.clone();
        let mut vault_out = a.vault_out.clone();
        vault_in.reload()?;
        vault_out.reload()?;
        let k_before = r_in as u128 * r_out as u128;
        let k_after = vault_in.amount as u128 * vault_out.amount as u128;
        require!(k_after >= k_before, AmmError::InvariantViolated);
        emit!(SwapEvent {
            pool: pool.key(),
            mint_in: a.mint_in.key(),
            amount_in,
            amount_out: out,
            reserve_in_after: vault_in.amount,
            reserve_out_after: vault_out.amount,
        });
        Ok(())
    }
}

#[derive(Accounts)]
pub struct CreatePool<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mint::token_program = token_program_a)]
    pub mint_a: Box<InterfaceAccount<'info, Mint>>,
    #[account(mint::token_program = token_program_b)]
    pub mint_b: Box<InterfaceAccount<'info, Mint>>,
    #[account(init, payer = payer, space = 8 + Pool::INIT_SPACE, seeds = [POOL_SEED, mint_a.key().as_ref(), mint_b.key().as_ref()], bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(init, payer = payer, seeds = [POOL_VAULT_SEED, pool.key().as_ref(), mint_a.key().as_ref()], bump,
        token::mint = mint_a, token::authority = pool, token::token_program = token_program_a)]
    pub vault_a: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = payer, seeds = [POOL_VAULT_SEED, pool.key().as_ref(), mint_b.key().as_ref()], bump,
        token::mint = mint_b, token::authority = pool, token::token_program = token_program_b)]
    pub vault_b: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = payer, seeds = [LP_MINT_SEED, pool.key().as_ref()], bump,
        mint::decimals = 6, mint::authority = pool, mint::token_program = token_program)]
    pub lp_mint: Box<Account<'info, LpMint>>,
    pub token_program_a: Interface<'info, TokenInterface>,
    pub token_program_b: Interface<'info, TokenInterface>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

#[derive(Accounts)]
pub struct Liquidity<'info> {
    pub user: Signer<'info>,
    #[account(has_one = mint_a, has_one = mint_b, has_one = vault_a, has_one = vault_b, has_one = lp_mint)]
    pub pool: Box<Account<'info, Pool>>,
    pub mint_a: Box<InterfaceAccount<'info, Mint>>,
    pub mint_b: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub vault_a: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub vault_b: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint_a, token::token_program = token_program_a)]
    pub user_a: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint_b, token::token_program = token_program_b)]
    pub user_b: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub lp_mint: Box<Account<'info, LpMint>>,
    #[account(mut, token::mint = lp_mint)]
    pub user_lp: Box<Account<'info, LpAccount>>,
    pub token_program_a: Interface<'info, TokenInterface>,
    pub token_program_b: Interface<'info, TokenInterface>,
    pub token_program: Program<'info, Token>,
}

impl<'info> Liquidity<'info> {
    /// Moves `amount` of the pool's side a (`side_a`) or b between the user and the pool: into the pool
    /// with the user signing, or out of it with the pool PDA signing.
    fn move_side(&self, side_a: bool, into_pool: bool, amount: u64) -> Result<()> {
        let (user, vault, mint, program) = if side_a {
            (&self.user_a, &self.vault_a, &self.mint_a, &self.token_program_a)
        } else {
            (&self.user_b, &self.vault_b, &self.mint_b, &self.token_program_b)
        };
        if into_pool {
            transfer(
                program,
                user.to_account_info(),
                mint,
                vault.to_account_info(),
                self.user.to_account_info(),
                amount,
                None,
            )
        } else {
            let seeds = self.pool.signer_seeds();
            let pool = self.pool.to_account_info();
            transfer(program, vault.to_account_info(), mint, user.to_account_info(), pool, amount, Some(&[&seeds]))
        }
    }
}

/// `transfer_checked` through the mint's token program; `signer` seeds when the pool PDA signs.
fn transfer<'info>(
    program: &Interface<'info, TokenInterface>,
    from: AccountInfo<'info>,
    mint: &InterfaceAccount<'info, Mint>,
    to: AccountInfo<'info>,
    authority: AccountInfo<'info>,
    amount: u64,
    signer: Option<&[&[&[u8]]]>,
) -> Result<()> {
    let accounts = token_interface::TransferChecked { from, mint: mint.to_account_info(), to, authority };
    let ctx = match signer {
        Some(seeds) => CpiContext::new_with_signer(program.key(), accounts, seeds),
        None => CpiContext::new(program.key(), accounts),
    };
    token_interface::transfer_checked(ctx, amount, mint.decimals)
}

/// Accounts of `swap`. `vault_in`/`vault_out` must be the pool's two vaults (either direction).
#[derive(Accounts)]
pub struct Swap<'info> {
    pub user: Signer<'info>,
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, token::mint = mint_in, token::token_program = token_program_in)]
    pub vault_in: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint_out, token::token_program = token_program_out)]
    pub vault_out: Box<InterfaceAccount<'info, TokenAccount>>,
    pub mint_in: Box<InterfaceAccount<'info, Mint>>,
    pub mint_out: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint_in, token::token_program = token_program_in)]
    pub user_source: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = mint_out, token::token_program = token_program_out)]
    pub user_destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program_in: Interface<'info, TokenInterface>,
    pub token_program_out: Interface<'info, TokenInterface>,
}
