//! The compiled programs every embedded chain loads beside ballast's native ones: the real Raydium CP-Swap
//! (CPMM) and Orca Whirlpools builds (`tests/fixtures/dex/`, provenance and sha256 in its README), run in the
//! SBF VM and metered as on a cluster, with the mainnet accounts they need.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use solana_account::Account;
use solana_program_test::ProgramTest;

/// The Raydium CPMM program's compiled build (mainnet id `CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C`).
pub const RAYDIUM_CPMM_SO: &[u8] = include_bytes!("../../../tests/fixtures/dex/raydium_cp_swap.so");
/// The Orca Whirlpools program's compiled build (id `whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc`).
pub const WHIRLPOOL_SO: &[u8] = include_bytes!("../../../tests/fixtures/dex/whirlpool.so");
/// Raydium's mainnet `AmmConfig` index 0 (0.25 % trade fee) and the create-pool fee receiver, as
/// `solana account --output json` writes them.
const RAYDIUM_ACCOUNTS: [&str; 2] = [
    include_str!("../../../tests/fixtures/dex/D4FPEruKEHrG5TenZ2mpDGEfu1iUvTiqBxvpU8HLBvC2.json"),
    include_str!("../../../tests/fixtures/dex/DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8.json"),
];

/// The Rent sysvar (some DEX instructions still take it as an account).
pub const RENT_SYSVAR: Pubkey = Pubkey::from_str_const("SysvarRent111111111111111111111111111111111");

/// The (non-upgradeable) BPF loader that owns the programs' executable accounts.
pub const BPF_LOADER: Pubkey = Pubkey::from_str_const("BPFLoader2111111111111111111111111111111111");

/// Loads both DEX programs (as the BPF loader's executable accounts, exactly as `ProgramTest::add_program`
/// does for a `.so`) and Raydium's two mainnet accounts into a test validator before it starts.
pub fn add_to(pt: &mut ProgramTest) {
    for (id, elf) in [(crate::client::dex::raydium::ID, RAYDIUM_CPMM_SO), (crate::client::dex::orca::ID, WHIRLPOOL_SO)]
    {
        pt.add_account(
            id,
            Account {
                lamports: solana_sysvar::rent::Rent::default().minimum_balance(elf.len()).max(1),
                data: elf.to_vec(),
                owner: BPF_LOADER,
                executable: true,
                rent_epoch: 0,
            },
        );
    }
    for json in RAYDIUM_ACCOUNTS {
        let (address, account) = account_from_json(json).expect("the fixture accounts parse");
        pt.add_account(address, account);
    }
}

/// An account in the JSON form of `solana account --output json`.
pub fn account_from_json(json: &str) -> anyhow::Result<(Pubkey, Account)> {
    let v: serde_json::Value = serde_json::from_str(json)?;
    let field = |name: &str| v["account"][name].clone();
    let address: Pubkey = v["pubkey"].as_str().ok_or_else(|| anyhow::anyhow!("pubkey"))?.parse()?;
    let data_field = field("data");
    let data = data_field[0].as_str().ok_or_else(|| anyhow::anyhow!("data"))?;
    Ok((
        address,
        Account {
            lamports: field("lamports").as_u64().ok_or_else(|| anyhow::anyhow!("lamports"))?,
            data: base64::engine::general_purpose::STANDARD.decode(data)?,
            owner: field("owner").as_str().ok_or_else(|| anyhow::anyhow!("owner"))?.parse()?,
            executable: field("executable").as_bool().unwrap_or(false),
            rent_epoch: 0,
        },
    ))
}
