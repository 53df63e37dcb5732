//! Events decoded into their types from transaction logs (`Program data:` lines, as Anchor's `emit!` and
//! ballast's `events::emit` write them).

use anchor_lang::{AnchorDeserialize, Discriminator, Event};
use base64::Engine as _;

/// Every event of type `E` in `logs`, in order.
pub fn decode<E: Event + AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<E> {
    logs.iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .filter(|bytes| bytes.starts_with(E::DISCRIMINATOR))
        .filter_map(|bytes| E::deserialize(&mut &bytes[E::DISCRIMINATOR.len()..]).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast::events::PokeEvent;

    #[test]
    fn events_round_trip_through_log_lines() {
        let ev = PokeEvent { vault: Default::default(), vol_bps: vec![1, 2, 3] };
        let line = format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(ev.data()));
        let logs = vec!["Program log: x".to_string(), line, "Program data: AAAA".to_string()];
        let decoded = decode::<PokeEvent>(&logs);
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded[0].vol_bps, vec![1, 2, 3]);
    }
}
