//! Creating program-derived accounts so that nobody can block the creation by sending lamports to the
//! address first.
//!
//! The system program's `create_account` fails when the target already holds lamports, and Anchor's
//! `init` then switches to an instruction that older clusters (and solana-program-test 3.1) refuse. Anyone
//! can send lamports to any address, so every PDA ballast creates goes through [`create_pda_account`]:
//! top up to rent exemption, `allocate`, `assign` when the address is pre-funded, `create_account`
//! otherwise. An address that already belongs to a program is refused (no re-initialisation).

use anchor_lang::prelude::*;
use anchor_lang::system_program;

use crate::errors::BallastError;

/// Creates `target` (a PDA of `seeds`, signed by this program) with `space` bytes owned by `owner`,
/// paid by `payer`, whether or not the address was pre-funded.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    seeds: &[&[u8]],
    system: &AccountInfo<'info>,
) -> Result<()> {
    require_keys_eq!(*target.owner, system_program::ID, BallastError::AccountAlreadyExists);
    require!(target.data_is_empty(), BallastError::AccountAlreadyExists);
    let rent = Rent::get()?.minimum_balance(space);
    let signer: &[&[&[u8]]] = &[seeds];
    let current = target.lamports();
    if current == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system.key(),
                system_program::CreateAccount { from: payer.clone(), to: target.clone() },
                signer,
            ),
            rent,
            space as u64,
            owner,
        );
    }
    let top_up = rent.saturating_sub(current);
    if top_up > 0 {
        system_program::transfer(
            CpiContext::new(system.key(), system_program::Transfer { from: payer.clone(), to: target.clone() }),
            top_up,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system.key(),
            system_program::Allocate { account_to_allocate: target.clone() },
            signer,
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(system.key(), system_program::Assign { account_to_assign: target.clone() }, signer),
        owner,
    )
}

/// Writes an Anchor account (discriminator + Borsh) into a freshly created account owned by this program.
pub fn write_account<T: AccountSerialize>(target: &AccountInfo, value: &T) -> Result<()> {
    let mut data = target.try_borrow_mut_data()?;
    let mut cursor: &mut [u8] = &mut data;
    value.try_serialize(&mut cursor)
}

/// Grows `target` (an account of this program) to at least `space` bytes, `payer` topping its lamports up to
/// rent exemption. A larger account is left as it is (never shrunk: its rent stays where it is).
pub fn grow_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    system: &AccountInfo<'info>,
) -> Result<()> {
    if target.data_len() >= space {
        return Ok(());
    }
    let top_up = Rent::get()?.minimum_balance(space).saturating_sub(target.lamports());
    if top_up > 0 {
        system_program::transfer(
            CpiContext::new(system.key(), system_program::Transfer { from: payer.clone(), to: target.clone() }),
            top_up,
        )?;
    }
    target.resize(space)?;
    Ok(())
}
