//! A guard a client puts last in a transaction that composes several steps (an in-kind withdrawal, then
//! swaps of each piece into one token): the transaction fails unless the token account ends with at least
//! `min_balance`, so the whole exit has one overall minimum however its steps went. Reads only; changes
//! nothing.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::BallastError;

#[derive(Accounts)]
pub struct AssertMinBalance<'info> {
    /// Any token account (SPL Token or Token-2022).
    pub token_account: InterfaceAccount<'info, TokenAccount>,
}

impl AssertMinBalance<'_> {
    pub fn handler(ctx: Context<AssertMinBalance>, min_balance: u64) -> Result<()> {
        let balance = ctx.accounts.token_account.amount;
        if balance < min_balance {
            crate::events::log(&format!("balance {balance} below the minimum {min_balance}"));
            return err!(BallastError::BalanceBelowMinimum);
        }
        Ok(())
    }
}
