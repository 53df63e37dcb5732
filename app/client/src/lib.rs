//! ballast-client: PDA finders, instruction builders, account decoding, error names and the one
//! off-chain rebalance planner ([`planner`]). Pure: no chain, no RPC client, no server, so the keeper,
//! the harness, the simulator, the demo and the tests all build and plan transactions the same way.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use ballast::constants::*;
use ballast::instructions::*;
use ballast::state::{AmmEntry, BandMode, Claim, DepositRequest, TargetMode, Vault, VaultParams};

pub mod decode;
pub mod describe;
pub mod dex;
pub mod discover;
pub mod events;
pub mod planner;
pub mod pyth;

/// PDA finders (seeds come from `ballast::constants`).
pub mod pda {
    use super::*;

    pub fn vault(creator: &Pubkey, vault_id: u64) -> Pubkey {
        Pubkey::find_program_address(&[VAULT_SEED, creator.as_ref(), &vault_id.to_le_bytes()], &ballast::ID).0
    }
    pub fn share_mint(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[SHARE_MINT_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn locked_shares(vault: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[LOCKED_SHARES_SEED, vault.as_ref()], &ballast::ID).0
    }
    pub fn reserve(vault: &Pubkey, mint: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[RESERVE_SEED, vault.as_ref(), mint.as_ref()], &ballast::ID).0
    }
    pub fn claim(vault: &Pubkey, owner: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[CLAIM_SEED, vault.as_ref(), owner.as_ref()], &ballast::ID).0
    }
    pub fn deposit_request(vault: &Pubkey, depositor: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[DEPOSIT_REQUEST_SEED, vault.as_ref(), depositor.as_ref()], &ballast::ID).0
    }
}

/// Decodes a vault account (checks the discriminator).
pub fn decode_vault(data: &[u8]) -> anyhow::Result<Vault> {
    Ok(Vault::try_deserialize(&mut &data[..])?)
}

/// Decodes a deposit request account (checks the discriminator).
pub fn decode_deposit_request(data: &[u8]) -> anyhow::Result<DepositRequest> {
    Ok(DepositRequest::try_deserialize(&mut &data[..])?)
}

/// Decodes a claim account (checks the discriminator).
pub fn decode_claim(data: &[u8]) -> anyhow::Result<Claim> {
    Ok(Claim::try_deserialize(&mut &data[..])?)
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData, remaining: Vec<AccountMeta>) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction { program_id: ballast::ID, accounts: metas, data: data.data() }
}

pub fn initialize_vault(creator: &Pubkey, args: InitializeVaultArgs) -> Instruction {
    let vault = pda::vault(creator, args.vault_id);
    ix(
        ballast::accounts::InitializeVault {
            creator: *creator,
            vault,
            share_mint: pda::share_mint(&vault),
            locked_shares: pda::locked_shares(&vault),
            token_program: spl_token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitializeVault { args },
        vec![],
    )
}

#[allow(clippy::too_many_arguments)]
pub fn add_asset(
    payer: &Pubkey,
    governance: &Pubkey,
    vault: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
    oracle: &Pubkey,
    args: AddAssetArgs,
) -> Instruction {
    ix(
        ballast::accounts::AddAsset {
            payer: *payer,
            governance: *governance,
            vault: *vault,
            mint: *mint,
            reserve: pda::reserve(vault, mint),
            oracle: *oracle,
            token_program: *token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::AddAsset { args },
        vec![],
    )
}

pub fn activate_vault(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ActivateVault {}, vec![])
}

fn govern(governance: &Pubkey, vault: &Pubkey) -> ballast::accounts::Governed {
    ballast::accounts::Governed { governance: *governance, vault: *vault }
}

pub fn propose_params(governance: &Pubkey, vault: &Pubkey, args: ProposeParamsArgs) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ProposeParams { args }, vec![])
}

pub fn execute_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ExecuteParams {}, vec![])
}

pub fn cancel_params(governance: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::CancelParams {}, vec![])
}

pub fn schedule_weights(governance: &Pubkey, vault: &Pubkey, args: ScheduleWeightsArgs) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::ScheduleWeights { args }, vec![])
}

/// `poke`: refresh oracle readings and volatility estimates (anyone).
pub fn poke(vault_key: &Pubkey, vault: &Vault) -> Instruction {
    ix(
        ballast::accounts::Poke { vault: *vault_key, share_mint: vault.share_mint },
        ballast::instruction::Poke {},
        valuation_accounts(vault),
    )
}

pub fn transfer_governance(governance: &Pubkey, vault: &Pubkey, new_governance: Pubkey) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::TransferGovernance { new_governance }, vec![])
}

pub fn accept_governance(pending: &Pubkey, vault: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::AcceptGovernance { pending_governance: *pending, vault: *vault },
        ballast::instruction::AcceptGovernance {},
        vec![],
    )
}

pub fn set_pause(authority: &Pubkey, vault: &Pubkey, flags: u8) -> Instruction {
    ix(
        ballast::accounts::SetPause { authority: *authority, vault: *vault },
        ballast::instruction::SetPause { flags },
        vec![],
    )
}

pub fn add_amm(governance: &Pubkey, vault: &Pubkey, amm_program: &Pubkey, pool: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::AddAmm { governance: *governance, vault: *vault, amm_program: *amm_program, pool: *pool },
        ballast::instruction::AddAmm {},
        vec![],
    )
}

pub fn remove_amm(governance: &Pubkey, vault: &Pubkey, entry: AmmEntry) -> Instruction {
    ix(govern(governance, vault), ballast::instruction::RemoveAmm { entry }, vec![])
}

/// `[mint, reserve, user]` per asset, as `deposit` and `withdraw` expect.
pub fn transfer_legs(vault: &Vault, user_accounts: &[Pubkey]) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .zip(user_accounts)
        .flat_map(|(a, user)| {
            [
                AccountMeta::new_readonly(a.mint, false),
                AccountMeta::new(a.reserve, false),
                AccountMeta::new(*user, false),
            ]
        })
        .collect()
}

/// `[oracle, reserve]` per asset, as `request_deposit`, `settle_deposit`, `rebalance` and `poke` expect.
pub fn valuation_accounts(vault: &Vault) -> Vec<AccountMeta> {
    vault
        .assets
        .iter()
        .flat_map(|a| [AccountMeta::new_readonly(a.oracle, false), AccountMeta::new_readonly(a.reserve, false)])
        .collect()
}

pub fn deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    depositor_shares: &Pubkey,
    user_accounts: &[Pubkey],
    args: DepositArgs,
) -> Instruction {
    ix(
        ballast::accounts::Deposit {
            depositor: *depositor,
            vault: *vault_key,
            share_mint: vault.share_mint,
            depositor_shares: *depositor_shares,
            token_program: spl_token::ID,
            token_2022_program: spl_token_2022::ID,
        },
        ballast::instruction::Deposit { args },
        transfer_legs(vault, user_accounts),
    )
}

/// `request_deposit`: escrow `args.amount` of one asset; shares go to `shares_destination` at settlement.
pub fn request_deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    shares_destination: &Pubkey,
    depositor_token: &Pubkey,
    args: RequestDepositArgs,
) -> Instruction {
    let asset = vault.assets[args.asset_index as usize];
    ix(
        ballast::accounts::RequestDeposit {
            depositor: *depositor,
            vault: *vault_key,
            share_mint: vault.share_mint,
            request: pda::deposit_request(vault_key, depositor),
            shares_destination: *shares_destination,
            mint: asset.mint,
            reserve: asset.reserve,
            depositor_token: *depositor_token,
            asset_token_program: asset.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::RequestDeposit { args },
        valuation_accounts(vault),
    )
}

/// `settle_deposit` of `request` (anyone signs as `settler`).
pub fn settle_deposit(settler: &Pubkey, vault_key: &Pubkey, vault: &Vault, request: &DepositRequest) -> Instruction {
    ix(
        ballast::accounts::SettleDeposit {
            settler: *settler,
            vault: *vault_key,
            request: pda::deposit_request(vault_key, &request.depositor),
            depositor: request.depositor,
            share_mint: vault.share_mint,
            locked_shares: vault.locked_shares,
            shares_destination: request.shares_destination,
            token_program: spl_token::ID,
        },
        ballast::instruction::SettleDeposit {},
        valuation_accounts(vault),
    )
}

/// `cancel_deposit`: refund an expired request to `refund_to`.
pub fn cancel_deposit(
    depositor: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    request: &DepositRequest,
    refund_to: &Pubkey,
) -> Instruction {
    let asset = vault.assets[request.asset_index as usize];
    ix(
        ballast::accounts::CancelDeposit {
            depositor: *depositor,
            vault: *vault_key,
            request: pda::deposit_request(vault_key, depositor),
            mint: asset.mint,
            reserve: asset.reserve,
            refund_to: *refund_to,
            asset_token_program: asset.token_program,
        },
        ballast::instruction::CancelDeposit {},
        vec![],
    )
}

/// `open_claim` for `owner` (paid by `payer`).
pub fn open_claim(payer: &Pubkey, vault_key: &Pubkey, owner: &Pubkey) -> Instruction {
    ix(
        ballast::accounts::OpenClaim {
            payer: *payer,
            vault: *vault_key,
            claim: pda::claim(vault_key, owner),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::OpenClaim { owner: *owner },
        vec![],
    )
}

/// `redeem_claim` of one asset to `destination`.
pub fn redeem_claim(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    asset_index: u8,
    destination: &Pubkey,
) -> Instruction {
    let asset = vault.assets[asset_index as usize];
    ix(
        ballast::accounts::RedeemClaim {
            owner: *owner,
            vault: *vault_key,
            claim: pda::claim(vault_key, owner),
            mint: asset.mint,
            reserve: asset.reserve,
            destination: *destination,
            asset_token_program: asset.token_program,
        },
        ballast::instruction::RedeemClaim { asset_index },
        vec![],
    )
}

pub fn withdraw(
    owner: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    owner_shares: &Pubkey,
    destinations: &[Pubkey],
    args: WithdrawArgs,
) -> Instruction {
    ix(
        ballast::accounts::Withdraw {
            owner: *owner,
            vault: *vault_key,
            share_mint: vault.share_mint,
            owner_shares: *owner_shares,
            claim: (args.skip_mask != 0).then(|| pda::claim(vault_key, owner)),
            token_program: spl_token::ID,
            token_2022_program: spl_token_2022::ID,
        },
        ballast::instruction::Withdraw { args },
        transfer_legs(vault, destinations),
    )
}

/// `rebalance` through the reference AMM's pool (`pool_vault_in` / `pool_vault_out`: its vaults of the sold
/// and the bought mint). Remaining accounts: `[oracle, reserve]` per asset, then the pool's vaults.
#[allow(clippy::too_many_arguments)]
pub fn rebalance(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_bounty_account: &Pubkey,
    amm_program: &Pubkey,
    pool: &Pubkey,
    pool_vault_in: &Pubkey,
    pool_vault_out: &Pubkey,
    args: RebalanceArgs,
) -> Instruction {
    let extra = vec![AccountMeta::new(*pool_vault_in, false), AccountMeta::new(*pool_vault_out, false)];
    rebalance_through(keeper, vault_key, vault, keeper_bounty_account, amm_program, pool, extra, args)
}

/// `rebalance` through any whitelisted pool: `adapter_accounts` are the accounts its adapter takes after
/// the pool (see `ballast::amm` and [`dex::adapter_accounts`]).
#[allow(clippy::too_many_arguments)]
pub fn rebalance_through(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_bounty_account: &Pubkey,
    amm_program: &Pubkey,
    pool: &Pubkey,
    adapter_accounts: Vec<AccountMeta>,
    args: RebalanceArgs,
) -> Instruction {
    let sell = vault.assets[args.sell_index as usize];
    let buy = vault.assets[args.buy_index as usize];
    let mut remaining = valuation_accounts(vault);
    remaining.extend(adapter_accounts);
    ix(
        ballast::accounts::Rebalance {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            buy_mint: buy.mint,
            sell_reserve: sell.reserve,
            buy_reserve: buy.reserve,
            keeper_bounty_account: *keeper_bounty_account,
            amm_program: *amm_program,
            pool: *pool,
            sell_token_program: sell.token_program,
            buy_token_program: buy.token_program,
            share_mint: vault.share_mint,
        },
        ballast::instruction::Rebalance { args },
        remaining,
    )
}

/// `rebalance_begin`: the sold asset goes to `destination` (the keeper's account for its route). Remaining
/// accounts: `[oracle, reserve]` per asset.
pub fn rebalance_begin(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    destination: &Pubkey,
    args: RebalanceArgs,
) -> Instruction {
    let sell = vault.assets[args.sell_index as usize];
    ix(
        ballast::accounts::RebalanceBegin {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            sell_reserve: sell.reserve,
            destination: *destination,
            sell_token_program: sell.token_program,
            share_mint: vault.share_mint,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ballast::instruction::RebalanceBegin { args },
        valuation_accounts(vault),
    )
}

/// `rebalance_end` of a flash rebalance that sold asset `sell_index`; the bounty goes to `bounty_account`.
/// Remaining accounts: every reserve in vault order.
pub fn rebalance_end(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    sell_index: u8,
    bounty_account: &Pubkey,
) -> Instruction {
    let sell = vault.assets[sell_index as usize];
    ix(
        ballast::accounts::RebalanceEnd {
            keeper: *keeper,
            vault: *vault_key,
            sell_mint: sell.mint,
            sell_reserve: sell.reserve,
            keeper_bounty_account: *bounty_account,
            sell_token_program: sell.token_program,
            share_mint: vault.share_mint,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ballast::instruction::RebalanceEnd {},
        vault.assets.iter().map(|a| AccountMeta::new_readonly(a.reserve, false)).collect(),
    )
}

/// `transfer_checked` of `amount` of `mint` (under `token_program`, SPL Token or Token-2022) from `from`
/// (owned by `owner`) to `to`.
pub fn token_transfer(
    token_program: &Pubkey,
    mint: &Pubkey,
    decimals: u8,
    from: &Pubkey,
    to: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Instruction {
    let mut ix = spl_token_2022::instruction::transfer_checked(
        &spl_token_2022::ID,
        from,
        mint,
        to,
        owner,
        &[],
        amount,
        decimals,
    )
    .expect("transfer_checked accepts the Token-2022 program id");
    // The instruction layout is the same for both token programs.
    ix.program_id = *token_program;
    ix
}

/// A flash rebalance in which the keeper pays the vault itself: `rebalance_begin` sends `args.amount_in` of
/// the sold asset to `keeper_sell_account`, `middle` runs (the keeper's own route, e.g. a swap into
/// `keeper_buy_account`; empty when the keeper pays from inventory), the keeper transfers `pay` of the
/// bought asset from `keeper_buy_account` into the vault's reserve, and `rebalance_end` reconciles. The
/// keeper keeps whatever its route returned beyond `pay`; the program holds `pay` to the auction's price.
#[allow(clippy::too_many_arguments)]
pub fn flash_paying(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    args: RebalanceArgs,
    keeper_sell_account: &Pubkey,
    keeper_buy_account: &Pubkey,
    pay: u64,
    middle: Vec<Instruction>,
) -> Vec<Instruction> {
    let buy = vault.assets[args.buy_index as usize];
    let mut ixs = vec![rebalance_begin(keeper, vault_key, vault, keeper_sell_account, args)];
    ixs.extend(middle);
    ixs.push(token_transfer(
        &buy.token_program,
        &buy.mint,
        buy.decimals,
        keeper_buy_account,
        &buy.reserve,
        keeper,
        pay,
    ));
    ixs.push(rebalance_end(keeper, vault_key, vault, args.sell_index, keeper_sell_account));
    ixs
}

/// How a planned trade reaches its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteMode {
    /// `rebalance`: the program swaps through the whitelisted AMM's adapter.
    #[default]
    Direct,
    /// `rebalance_begin` → the keeper's own swap instructions → `rebalance_end`.
    Flash,
}

/// The instructions that execute a planned candidate in `mode`. For `Flash` the keeper's token account of
/// the sold asset (`keeper_sell_account`, which also receives the bounty) takes the sold amount, the route's
/// pool swaps it with the keeper as user and pays the vault's reserve of the bought asset directly.
pub fn execute_along(
    mode: RouteMode,
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    keeper_sell_account: &Pubkey,
    candidate: &planner::Candidate,
) -> Option<Vec<Instruction>> {
    match mode {
        RouteMode::Direct => Some(vec![rebalance_along(keeper, vault_key, vault, keeper_sell_account, candidate)?]),
        RouteMode::Flash => {
            let r = &candidate.request;
            let (sell, buy) = (vault.assets.get(r.sell)?, vault.assets.get(r.buy)?);
            let args = RebalanceArgs {
                sell_index: r.sell as u8,
                buy_index: r.buy as u8,
                amount_in: candidate.plan.amount_in,
                min_out: r.min_out,
            };
            let input = dex::Leg { mint: sell.mint, token_program: sell.token_program, account: *keeper_sell_account };
            let output = dex::Leg { mint: buy.mint, token_program: buy.token_program, account: buy.reserve };
            let route = &candidate.route;
            let swap = dex::swap_instruction(
                &route.pool,
                &route.kind,
                keeper,
                &input,
                &output,
                candidate.plan.amount_in,
                r.min_out,
            )?;
            Some(vec![
                rebalance_begin(keeper, vault_key, vault, keeper_sell_account, args),
                swap,
                rebalance_end(keeper, vault_key, vault, args.sell_index, keeper_sell_account),
            ])
        }
    }
}

/// The instructions sysvar (`Sysvar1nstructions1111111111111111111111111`).
pub const INSTRUCTIONS_SYSVAR: Pubkey = Pubkey::from_str_const("Sysvar1nstructions1111111111111111111111111");

/// Builders for the reference AMM.
pub mod amm {
    use super::*;
    use ballast_amm::{LP_MINT_SEED, POOL_SEED, POOL_VAULT_SEED};

    fn amm_ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
        Instruction { program_id: ballast_amm::ID, accounts: accounts.to_account_metas(None), data: data.data() }
    }

    /// Sorts a mint pair the way pools are keyed.
    pub fn sorted(a: Pubkey, b: Pubkey) -> (Pubkey, Pubkey) {
        if a < b {
            (a, b)
        } else {
            (b, a)
        }
    }

    pub fn pool(mint_a: &Pubkey, mint_b: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[POOL_SEED, mint_a.as_ref(), mint_b.as_ref()], &ballast_amm::ID).0
    }
    pub fn pool_vault(pool: &Pubkey, mint: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[POOL_VAULT_SEED, pool.as_ref(), mint.as_ref()], &ballast_amm::ID).0
    }
    pub fn lp_mint(pool: &Pubkey) -> Pubkey {
        Pubkey::find_program_address(&[LP_MINT_SEED, pool.as_ref()], &ballast_amm::ID).0
    }

    /// `mint_a < mint_b` required.
    pub fn create_pool(
        payer: &Pubkey,
        mint_a: &Pubkey,
        mint_b: &Pubkey,
        program_a: &Pubkey,
        program_b: &Pubkey,
        fee_bps: u16,
    ) -> Instruction {
        let pool = pool(mint_a, mint_b);
        amm_ix(
            ballast_amm::accounts::CreatePool {
                payer: *payer,
                mint_a: *mint_a,
                mint_b: *mint_b,
                pool,
                vault_a: pool_vault(&pool, mint_a),
                vault_b: pool_vault(&pool, mint_b),
                lp_mint: lp_mint(&pool),
                token_program_a: *program_a,
                token_program_b: *program_b,
                token_program: spl_token::ID,
                system_program: anchor_lang::system_program::ID,
            },
            ballast_amm::instruction::CreatePool { fee_bps },
        )
    }

    /// Accounts of `add_liquidity` / `remove_liquidity`.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidity_accounts(
        user: &Pubkey,
        mint_a: &Pubkey,
        mint_b: &Pubkey,
        user_a: &Pubkey,
        user_b: &Pubkey,
        user_lp: &Pubkey,
        program_a: &Pubkey,
        program_b: &Pubkey,
    ) -> ballast_amm::accounts::Liquidity {
        let pool = pool(mint_a, mint_b);
        ballast_amm::accounts::Liquidity {
            user: *user,
            pool,
            mint_a: *mint_a,
            mint_b: *mint_b,
            vault_a: pool_vault(&pool, mint_a),
            vault_b: pool_vault(&pool, mint_b),
            user_a: *user_a,
            user_b: *user_b,
            lp_mint: lp_mint(&pool),
            user_lp: *user_lp,
            token_program_a: *program_a,
            token_program_b: *program_b,
            token_program: spl_token::ID,
        }
    }

    pub fn add_liquidity(
        accounts: ballast_amm::accounts::Liquidity,
        max_a: u64,
        max_b: u64,
        min_lp: u64,
    ) -> Instruction {
        amm_ix(accounts, ballast_amm::instruction::AddLiquidity { max_a, max_b, min_lp })
    }

    pub fn remove_liquidity(
        accounts: ballast_amm::accounts::Liquidity,
        lp: u64,
        min_a: u64,
        min_b: u64,
    ) -> Instruction {
        amm_ix(accounts, ballast_amm::instruction::RemoveLiquidity { lp, min_a, min_b })
    }

    /// Exact-in swap of `mint_in` for `mint_out` in the pool of that pair.
    #[allow(clippy::too_many_arguments)]
    pub fn swap(
        user: &Pubkey,
        mint_in: &Pubkey,
        mint_out: &Pubkey,
        source: &Pubkey,
        destination: &Pubkey,
        program_in: &Pubkey,
        program_out: &Pubkey,
        amount_in: u64,
        min_out: u64,
    ) -> Instruction {
        let (a, b) = sorted(*mint_in, *mint_out);
        let pool = pool(&a, &b);
        amm_ix(
            ballast_amm::accounts::Swap {
                user: *user,
                pool,
                vault_in: pool_vault(&pool, mint_in),
                vault_out: pool_vault(&pool, mint_out),
                mint_in: *mint_in,
                mint_out: *mint_out,
                user_source: *source,
                user_destination: *destination,
                token_program_in: *program_in,
                token_program_out: *program_out,
            },
            ballast_amm::instruction::Swap { amount_in, min_out },
        )
    }
}

/// Name of a custom program error code: ballast's (6000+) or the reference AMM's (7000+).
pub fn code_name(code: u32) -> String {
    if let Some(e) = ballast::errors::BallastError::from_code(code) {
        return e.name();
    }
    match ballast_amm::AmmError::from_code(code) {
        Some(e) => format!("AMM {}", e.name()),
        None => format!("custom error {code}"),
    }
}

/// `rebalance` along a planned candidate's route (reference AMM: the route's vaults of the sold and
/// bought asset as the adapter's accounts), bounty to `bounty_account`.
pub fn rebalance_along(
    keeper: &Pubkey,
    vault_key: &Pubkey,
    vault: &Vault,
    bounty_account: &Pubkey,
    candidate: &planner::Candidate,
) -> Option<Instruction> {
    let r = &candidate.request;
    let route = &candidate.route;
    Some(rebalance_through(
        keeper,
        vault_key,
        vault,
        bounty_account,
        &route.program_id,
        &route.pool,
        route.adapter_accounts(vault, r.sell, r.buy)?,
        RebalanceArgs { sell_index: r.sell as u8, buy_index: r.buy as u8, amount_in: r.amount_in, min_out: r.min_out },
    ))
}

/// Sensible defaults: 1 % slippage cap reached by a 60 s rebalance auction that starts at fair value,
/// 60 s oracle age, 2 % confidence cap (rebalances: 5 s and 1 %), 1-day timelock, fixed bands and
/// targets, 1-hour volatility time constant, single-asset deposits with a 10 bps fee plus 60 bps of the
/// part the vault must trade, settled 6 s after the request (fresh readings only) within 60 s.
pub fn default_params() -> VaultParams {
    VaultParams {
        slippage_cap_bps: 100,
        oracle_max_age_secs: 60,
        oracle_max_conf_bps: 200,
        rebalance_cooldown_slots: 10,
        bounty_bps: 5,
        bounty_cap_value: 5_000_000,
        timelock_secs: 86_400,
        band_mode: BandMode::Fixed,
        target_mode: TargetMode::Fixed,
        vol_tau_secs: 3_600,
        deposit_fee_bps: 10,
        deposit_delay_secs: 6,
        deposit_window_secs: 60,
        rebalance_max_age_secs: 5,
        rebalance_max_conf_bps: 100,
        flash_enabled: true,
        auction_secs: 60,
        trade_cost_bps: 60,
    }
}
