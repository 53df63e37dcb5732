//! The heap a transaction has, enforced on its ballast instructions while the chain processes or simulates it
//! ([`crate::heap_meter::limited`]): which instructions those are, by data and accounts.

use anchor_lang::prelude::Pubkey;
use solana_transaction::versioned::VersionedTransaction;

use crate::chain::Chain;

impl Chain {
    /// The keys ([`crate::heap_meter::instruction_key`]) of `tx`'s ballast instructions, under which the heap it
    /// has is enforced while it is processed or simulated ([`crate::heap_meter::limited`]).
    pub async fn heap_keys(&mut self, tx: &VersionedTransaction) -> Vec<u64> {
        let (writable, readonly) = self.loaded_addresses(tx).await;
        let keys: Vec<Pubkey> =
            tx.message.static_account_keys().iter().chain(&writable).chain(&readonly).copied().collect();
        tx.message
            .instructions()
            .iter()
            .filter(|ix| keys.get(usize::from(ix.program_id_index)) == Some(&ballast::ID))
            .map(|ix| {
                let accounts = ix.accounts.iter().filter_map(|i| keys.get(usize::from(*i)));
                crate::heap_meter::instruction_key(&ix.data, accounts)
            })
            .collect()
    }

    /// What [`crate::heap_meter::limited`] enforces while `tx` is processed or simulated: its ballast instructions'
    /// keys and the heap it has.
    pub async fn heap_scope(&mut self, tx: &VersionedTransaction) -> (Vec<u64>, usize) {
        (self.heap_keys(tx).await, crate::heap_meter::frame_of(tx))
    }
}
