//! The reference constant-product AMM on its own: liquidity, swaps, fees, invariant and refusals.

use anchor_lang::prelude::Pubkey;
use ballast_amm::AmmError;
use ballast_client::amm;
use ballast_harness::chain::{custom_error, Chain, TokenProgram};
use solana_program_test::BanksClientError;
use solana_signer::Signer;

struct Pool {
    chain: Chain,
    a: Pubkey,
    b: Pubkey,
    prog_a: TokenProgram,
    prog_b: TokenProgram,
    user_a: Pubkey,
    user_b: Pubkey,
    user_lp: Pubkey,
    key: Pubkey,
}

#[track_caller]
fn assert_amm_err(r: Result<(), BanksClientError>, e: AmmError) {
    let err = r.expect_err("expected failure");
    assert_eq!(custom_error(&err), Some(u32::from(e)), "{err:?}");
}

/// A pool between an SPL Token mint and a Token-2022 mint with 1e12 units of each.
async fn pool(fee_bps: u16) -> Pool {
    let mut chain = Chain::start().await;
    let m1 = (chain.create_mint(6, TokenProgram::Token).await.unwrap(), TokenProgram::Token);
    let m2 = (chain.create_mint(9, TokenProgram::Token2022).await.unwrap(), TokenProgram::Token2022);
    let ((a, prog_a), (b, prog_b)) = if m1.0 < m2.0 { (m1, m2) } else { (m2, m1) };
    let payer = chain.payer().pubkey();
    chain.send(&[amm::create_pool(&payer, &a, &b, &prog_a.id(), &prog_b.id(), fee_bps)], &[]).await.unwrap();
    let key = amm::pool(&a, &b);
    let user_a = chain.create_ata(&payer, &a, prog_a).await.unwrap();
    let user_b = chain.create_ata(&payer, &b, prog_b).await.unwrap();
    chain.mint_to(&a, &user_a, 10_000_000_000_000, prog_a).await.unwrap();
    chain.mint_to(&b, &user_b, 10_000_000_000_000, prog_b).await.unwrap();
    let user_lp = chain.create_ata(&payer, &amm::lp_mint(&key), TokenProgram::Token).await.unwrap();
    let mut p = Pool { chain, a, b, prog_a, prog_b, user_a, user_b, user_lp, key };
    p.liquidity(true, 1_000_000_000_000, 1_000_000_000_000).await.unwrap();
    p
}

impl Pool {
    async fn liquidity(&mut self, add: bool, x: u64, y: u64) -> Result<(), BanksClientError> {
        let payer = self.chain.payer().pubkey();
        let accounts = amm::liquidity_accounts(
            &payer,
            &self.a,
            &self.b,
            &self.user_a,
            &self.user_b,
            &self.user_lp,
            &self.prog_a.id(),
            &self.prog_b.id(),
        );
        let ix = if add { amm::add_liquidity(accounts, x, y, 1) } else { amm::remove_liquidity(accounts, x, 0, 0) };
        self.chain.send(&[ix], &[]).await
    }

    async fn swap(&mut self, a_to_b: bool, amount: u64, min_out: u64) -> Result<(), BanksClientError> {
        let payer = self.chain.payer().pubkey();
        let ix = if a_to_b {
            amm::swap(
                &payer,
                &self.a,
                &self.b,
                &self.user_a,
                &self.user_b,
                &self.prog_a.id(),
                &self.prog_b.id(),
                amount,
                min_out,
            )
        } else {
            amm::swap(
                &payer,
                &self.b,
                &self.a,
                &self.user_b,
                &self.user_a,
                &self.prog_b.id(),
                &self.prog_a.id(),
                amount,
                min_out,
            )
        };
        self.chain.send(&[ix], &[]).await
    }

    async fn reserves(&mut self) -> (u64, u64) {
        let (va, vb) = (amm::pool_vault(&self.key, &self.a), amm::pool_vault(&self.key, &self.b));
        (self.chain.token_amount(&va).await, self.chain.token_amount(&vb).await)
    }
}

#[tokio::test]
async fn swap_pays_constant_product_output_and_k_never_falls() {
    let mut p = pool(30).await;
    let (ra, rb) = p.reserves().await;
    let wallet_b = p.chain.token_amount(&p.user_b).await;
    p.swap(true, 10_000_000_000, 1).await.unwrap();
    let expected = ballast_amm::math::swap_out(ra, rb, 30, 10_000_000_000).unwrap();
    assert_eq!(p.chain.token_amount(&p.user_b).await - wallet_b, expected);
    let (ra2, rb2) = p.reserves().await;
    assert_eq!((ra2, rb2), (ra + 10_000_000_000, rb - expected));
    assert!(ra2 as u128 * rb2 as u128 > ra as u128 * rb as u128);
    // Swapping back leaves the trader with less than they started with: the fee accrues to the pool.
    let wallet_a = p.chain.token_amount(&p.user_a).await;
    p.swap(false, expected, 1).await.unwrap();
    let back = p.chain.token_amount(&p.user_a).await - wallet_a;
    assert!(back < 10_000_000_000 && back > 9_930_000_000, "round trip returned {back}");
    let (ra3, rb3) = p.reserves().await;
    assert!(ra3 as u128 * rb3 as u128 > ra2 as u128 * rb2 as u128);
}

#[tokio::test]
async fn min_out_enforced() {
    let mut p = pool(30).await;
    let (ra, rb) = p.reserves().await;
    let out = ballast_amm::math::swap_out(ra, rb, 30, 1_000_000).unwrap();
    let before = p.reserves().await;
    assert_amm_err(p.swap(true, 1_000_000, out + 1).await, AmmError::SlippageExceeded);
    assert_eq!(p.reserves().await, before);
    p.swap(true, 1_000_000, out).await.unwrap();
    assert_amm_err(p.swap(true, 0, 0).await, AmmError::ZeroAmount);
}

#[tokio::test]
async fn wrong_vault_accounts_refused() {
    let mut p = pool(30).await;
    let payer = p.chain.payer().pubkey();
    // An ordinary token account of mint a posing as the pool's vault a (it would "receive" the input).
    let fake_vault = p.chain.create_ata(&Pubkey::new_unique(), &p.a, p.prog_a).await.unwrap();
    let mut ix = amm::swap(&payer, &p.a, &p.b, &p.user_a, &p.user_b, &p.prog_a.id(), &p.prog_b.id(), 1_000, 0);
    ix.accounts[2].pubkey = fake_vault;
    assert_amm_err(p.chain.send(&[ix], &[]).await, AmmError::WrongPoolVault);
    // The same for the output side: a foreign account of mint b as the pool's vault b.
    let fake_out = p.chain.create_ata(&Pubkey::new_unique(), &p.b, p.prog_b).await.unwrap();
    let mut ix = amm::swap(&payer, &p.a, &p.b, &p.user_a, &p.user_b, &p.prog_a.id(), &p.prog_b.id(), 1_000, 0);
    ix.accounts[3].pubkey = fake_out;
    assert_amm_err(p.chain.send(&[ix], &[]).await, AmmError::WrongPoolVault);
}

#[tokio::test]
async fn pool_creation_checks() {
    let mut chain = Chain::start().await;
    let m1 = chain.create_mint(6, TokenProgram::Token).await.unwrap();
    let m2 = chain.create_mint(6, TokenProgram::Token).await.unwrap();
    let (a, b) = amm::sorted(m1, m2);
    let payer = chain.payer().pubkey();
    let t = anchor_spl::token::ID;
    assert_amm_err(chain.send(&[amm::create_pool(&payer, &b, &a, &t, &t, 30)], &[]).await, AmmError::MintsNotSorted);
    assert_amm_err(chain.send(&[amm::create_pool(&payer, &a, &b, &t, &t, 1_001)], &[]).await, AmmError::FeeTooHigh);
    chain.send(&[amm::create_pool(&payer, &a, &b, &t, &t, 1_000)], &[]).await.unwrap();
}

#[tokio::test]
async fn liquidity_round_trip_is_pro_rata() {
    let mut p = pool(30).await;
    let lp = p.chain.token_amount(&p.user_lp).await;
    assert_eq!(lp, 1_000_000_000_000, "first deposit mints sqrt(a × b)");
    p.swap(true, 50_000_000_000, 1).await.unwrap();
    let (ra, rb) = p.reserves().await;
    let (wa, wb) = (p.chain.token_amount(&p.user_a).await, p.chain.token_amount(&p.user_b).await);
    p.liquidity(false, lp / 4, 0).await.unwrap();
    assert_eq!(p.chain.token_amount(&p.user_a).await - wa, ra / 4);
    assert_eq!(p.chain.token_amount(&p.user_b).await - wb, rb / 4);
}
