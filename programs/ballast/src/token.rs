//! Token helpers: the only place that builds transfer and share-mint CPIs, reads token accounts from
//! remaining accounts, and decides which Token-2022 mint extensions a vault accepts.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_interface::{self, TokenAccount};

use crate::errors::BallastError;
use crate::state::Vault;

/// Token-2022 mint extensions a vault accepts: none of them changes the amount a transfer moves, lets a
/// third party move or freeze vault funds, or blocks transfers. `MintCloseAuthority` passes only when
/// nobody holds it: a mint that can be closed (at zero supply) can be re-created at the same address with
/// a permanent delegate, a transfer fee or a hook, and drain whatever is deposited afterwards. (SPL Token
/// mints can never be closed.)
pub fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    use anchor_spl::token_2022::spl_token_2022::extension::mint_close_authority::MintCloseAuthority;
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    for ext in state.get_extension_types()? {
        match ext {
            ExtensionType::MintCloseAuthority => {
                let close = state.get_extension::<MintCloseAuthority>()?;
                require!(Option::<Pubkey>::from(close.close_authority).is_none(), BallastError::MintCloseAuthoritySet);
            }
            ExtensionType::TransferFeeConfig => return err!(BallastError::TransferFeeMintNotSupported),
            ExtensionType::TransferHook => return err!(BallastError::TransferHookMintNotSupported),
            ExtensionType::MetadataPointer
            | ExtensionType::TokenMetadata
            | ExtensionType::GroupPointer
            | ExtensionType::TokenGroup
            | ExtensionType::GroupMemberPointer
            | ExtensionType::TokenGroupMember
            | ExtensionType::InterestBearingConfig => {}
            _ => return err!(BallastError::UnsupportedMintExtension),
        }
    }
    Ok(())
}

/// Decodes a token account passed as a remaining account, checking that its owner program is
/// `token_program` and that it holds `mint`.
pub fn load_token_account<'info>(
    info: &AccountInfo<'info>,
    token_program: &Pubkey,
    mint: &Pubkey,
) -> Result<TokenAccount> {
    require_keys_eq!(*info.owner, *token_program, BallastError::WrongTokenProgram);
    let data = info.try_borrow_data()?;
    let account = TokenAccount::try_deserialize(&mut &data[..])?;
    require_keys_eq!(account.mint, *mint, BallastError::TokenAccountMintMismatch);
    Ok(account)
}

/// `transfer_checked` through whichever token program owns the mint; `signer` seeds when the vault
/// PDA is the authority.
#[allow(clippy::too_many_arguments)]
pub fn transfer<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    decimals: u8,
    signer: Option<&[&[&[u8]]]>,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let accounts = token_interface::TransferChecked {
        from: from.clone(),
        mint: mint.clone(),
        to: to.clone(),
        authority: authority.clone(),
    };
    let ctx = match signer {
        Some(seeds) => CpiContext::new_with_signer(token_program.key(), accounts, seeds),
        None => CpiContext::new(token_program.key(), accounts),
    };
    token_interface::transfer_checked(ctx, amount, decimals)
}

/// Mints `amount` vault shares to `to`, the vault PDA signing as mint authority (share mints are always
/// classic SPL Token). Minting zero does nothing.
pub fn mint_shares<'info>(
    share_mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    vault: &Account<'info, Vault>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let signer = vault.signer();
    let seeds = signer.seeds();
    let accounts =
        anchor_spl::token::MintTo { mint: share_mint.clone(), to: to.clone(), authority: vault.to_account_info() };
    anchor_spl::token::mint_to(CpiContext::new_with_signer(anchor_spl::token::ID, accounts, &[&seeds]), amount)
}

/// Picks the token program account matching an asset's recorded program id.
pub fn program_for<'a, 'info>(
    asset_program: &Pubkey,
    token: &'a AccountInfo<'info>,
    token_2022: &'a AccountInfo<'info>,
) -> Result<&'a AccountInfo<'info>> {
    if *asset_program == token.key() {
        Ok(token)
    } else if *asset_program == token_2022.key() {
        Ok(token_2022)
    } else {
        err!(BallastError::WrongTokenProgram)
    }
}

/// Creates a token account at its PDA (`seeds`: a reserve, a withdrawal escrow), owned by `token_program`,
/// for `mint`, with the vault PDA as authority. Works even if someone pre-funded the address with lamports.
#[allow(clippy::too_many_arguments)]
pub fn create_vault_token_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    token_program: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    seeds: &[&[u8]],
) -> Result<()> {
    use anchor_spl::token_2022::spl_token_2022::state::Account as AccountState;

    let space = if *mint.owner == anchor_spl::token_2022::ID {
        let data = mint.try_borrow_data()?;
        let state = StateWithExtensions::<MintState>::unpack(&data)?;
        let required = ExtensionType::get_required_init_account_extensions(&state.get_extension_types()?);
        ExtensionType::try_calculate_account_len::<AccountState>(&required)?
    } else {
        anchor_spl::token::TokenAccount::LEN
    };
    crate::create::create_pda_account(payer, account, space, token_program.key, seeds, system_program)?;
    token_interface::initialize_account3(CpiContext::new(
        token_program.key(),
        token_interface::InitializeAccount3 { account: account.clone(), mint: mint.clone(), authority: vault.clone() },
    ))
}
