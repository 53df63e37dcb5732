//! Mints and token accounts on the embedded chain: SPL Token and Token-2022 mints (with extensions),
//! associated token accounts, minting.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_spl::associated_token::spl_associated_token_account;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use anyhow::{anyhow, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::{Chain, MintExtension, MintSpec, TokenProgram};

impl Chain {
    /// Creates a mint with `decimals` under `program`, mint authority = payer.
    pub async fn create_mint(&mut self, decimals: u8, program: TokenProgram) -> Result<Pubkey> {
        self.create_mint_with(decimals, program, None).await
    }

    /// Creates a Token-2022 mint carrying a transfer-fee extension (bps, max fee).
    pub async fn create_mint_with_transfer_fee(&mut self, decimals: u8, fee_bps: u16, max_fee: u64) -> Result<Pubkey> {
        self.create_mint_with(
            decimals,
            TokenProgram::Token2022,
            Some(MintExtension::TransferFee { bps: fee_bps, max_fee }),
        )
        .await
    }

    /// Creates a mint under `program`, optionally with one Token-2022 extension; mint authority = payer.
    pub async fn create_mint_with(
        &mut self,
        decimals: u8,
        program: TokenProgram,
        ext: Option<MintExtension>,
    ) -> Result<Pubkey> {
        let spec = MintSpec { decimals, program, extensions: ext.into_iter().collect(), freeze_authority: None };
        self.create_mint_at(&Keypair::new(), &spec).await
    }

    /// Creates the mint described by `spec` at the address of `mint` (mint authority = payer). Creating
    /// again at the address of a closed mint is how a close authority re-creates it.
    pub async fn create_mint_at(&mut self, mint: &Keypair, spec: &MintSpec) -> Result<Pubkey> {
        use spl_token_2022::extension::ExtensionType;
        let payer = self.payer_key();
        let space = if spec.extensions.is_empty() && spec.program == TokenProgram::Token {
            spl_token::state::Mint::LEN
        } else {
            let kinds: Vec<ExtensionType> = spec.extensions.iter().map(|e| e.kind()).collect();
            ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(&kinds)?
        };
        let rent = self.ctx.genesis_config().rent.minimum_balance(space);
        let mut ixs = vec![anchor_lang::solana_program::system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent,
            space as u64,
            &spec.program.id(),
        )];
        let (id, m, who) = (spec.program.id(), mint.pubkey(), payer);
        for ext in &spec.extensions {
            ixs.push(match *ext {
                MintExtension::TransferFee { bps, max_fee } => {
                    spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &id,
                        &m,
                        Some(&who),
                        Some(&who),
                        bps,
                        max_fee,
                    )?
                }
                MintExtension::TransferHook { program: hook } => {
                    spl_token_2022::extension::transfer_hook::instruction::initialize(&id, &m, Some(who), Some(hook))?
                }
                MintExtension::PermanentDelegate { delegate } => {
                    spl_token_2022::instruction::initialize_permanent_delegate(&id, &m, &delegate)?
                }
                MintExtension::CloseAuthority { authority } => {
                    spl_token_2022::instruction::initialize_mint_close_authority(&id, &m, authority.as_ref())?
                }
            });
        }
        ixs.push(spl_token_2022::instruction::initialize_mint2(
            &id,
            &m,
            &who,
            spec.freeze_authority.as_ref(),
            spec.decimals,
        )?);
        self.send(&ixs, &[mint]).await.map_err(|e| anyhow!("create mint: {e}"))?;
        Ok(mint.pubkey())
    }

    /// Creates (idempotently) the associated token account of `owner` for `mint`.
    pub async fn create_ata(&mut self, owner: &Pubkey, mint: &Pubkey, program: TokenProgram) -> Result<Pubkey> {
        let address = ballast_client::pda::ata(owner, mint, &program.id());
        if self.account(&address).await.is_some() {
            return Ok(address);
        }
        let ix = spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            &self.payer_key(),
            owner,
            mint,
            &program.id(),
        );
        self.send(&[ix], &[]).await.map_err(|e| anyhow!("create ata: {e}"))?;
        Ok(address)
    }

    /// Mints `amount` to `to` (payer is the mint authority of mints made by [`Chain::create_mint`]).
    pub async fn mint_to(&mut self, mint: &Pubkey, to: &Pubkey, amount: u64, program: TokenProgram) -> Result<()> {
        let ix = self.mint_to_ix(mint, to, amount, program)?;
        self.send(&[ix], &[]).await.map_err(|e| anyhow!("mint_to: {e}"))
    }

    /// The payer's `mint_to` instruction, to send in the same transaction as what uses the tokens: a
    /// mint alone repeats itself (the same amount to the same account) and a repeated message waits for
    /// the bank's next blockhash (a fifth of a second).
    pub fn mint_to_ix(&self, mint: &Pubkey, to: &Pubkey, amount: u64, program: TokenProgram) -> Result<Instruction> {
        Ok(spl_token_2022::instruction::mint_to(&program.id(), mint, to, &self.payer_key(), &[], amount)?)
    }
}
