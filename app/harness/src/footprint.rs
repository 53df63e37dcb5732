//! How large a transaction is on the wire: its bytes and accounts, legacy and v0 through lookup tables.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::Result;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};

/// Serialized size in bytes of a transaction with `signatures` signatures and this message.
pub fn wire_size(signatures: usize, message: &[u8]) -> usize {
    // short-vec length prefix (1 byte below 128 signatures) + 64 bytes a signature + the message
    1 + 64 * signatures + message.len()
}

/// Wire size and account count of `ixs` as a legacy transaction and as a v0 transaction using `tables`.
pub fn transaction_footprint(
    payer: &Pubkey,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
) -> Result<Footprint> {
    let legacy = solana_message::Message::new(ixs, Some(payer));
    let signatures = legacy.header.num_required_signatures as usize;
    let v0 = v0::Message::try_compile(payer, ixs, tables, Default::default())?;
    Ok(Footprint {
        accounts: legacy.account_keys.len(),
        legacy_bytes: wire_size(signatures, &legacy.serialize()),
        v0_bytes: wire_size(signatures, &VersionedMessage::V0(v0).serialize()),
    })
}

/// See [`transaction_footprint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Footprint {
    pub accounts: usize,
    pub legacy_bytes: usize,
    pub v0_bytes: usize,
}

/// Largest serialized transaction the network accepts.
pub const PACKET_DATA_SIZE: usize = 1232;

/// Most accounts one transaction may name (lookup tables included).
pub const MAX_TX_ACCOUNTS: usize = 64;
