//! `ballast bench` measures real work: every rebalance it times succeeds, and its JSON says how many it
//! attempted and how many succeeded.

#[tokio::test]
async fn every_timed_rebalance_succeeds() {
    let t = ballast_bench::chain::throughput(3, 4).await.expect("bench setup");
    assert_eq!(t.first_error, None);
    assert_eq!((t.attempted, t.succeeded), (4, 4), "{t:?}");
    assert!(t.secs > 0.0 && t.rebalances_per_sec > 0.0, "{t:?}");
}

#[tokio::test]
async fn the_json_line_carries_attempts_and_successes() {
    let mut buf = Vec::new();
    ballast_bench::chain::run(2, true, &mut buf).await.expect("bench");
    let text = String::from_utf8(buf).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let (attempted, succeeded) = (v["attempted"].as_u64().unwrap(), v["succeeded"].as_u64().unwrap());
    assert_eq!((attempted, succeeded), (2, 2), "{v}");
    assert_eq!(v["rebalances"].as_u64(), Some(succeeded));
    assert!(v["first_error"].is_null(), "{v}");
    assert!(v["rebalances_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(v["sizes"].as_array().unwrap().len(), 4);
    assert_eq!(v["cache"].as_array().unwrap().len(), 4);
    assert!(!v["compute_units"].as_array().unwrap().is_empty());
}

/// A rebalance of a 128-asset vault valued from the cache is five transactions (one bundle): four refresh
/// batches of at most 29 assets and a fifth with the last batch and the trade, each within 64 accounts and
/// 1 232 bytes through lookup tables (room left for the compute-budget program: the heap frame a vault above 16
/// assets asks for, a priority fee). Up to 16 assets, one transaction.
#[test]
fn a_128_asset_rebalance_fits_one_bundle_of_five_transactions() {
    use ballast_bench::chain::{cache_footprint, REFRESH_BATCH};
    assert_eq!(REFRESH_BATCH, 29);
    for (n, txs) in [(16, 1), (32, 2), (64, 3), (128, 5)] {
        let row = cache_footprint(n).expect("footprint");
        eprintln!("{row:?}");
        assert_eq!(row.rebalance_transactions, txs, "{row:?}");
        assert!(row.poke_transactions <= txs, "{row:?}");
        assert!(row.fits, "{row:?}");
        assert!(row.largest.accounts <= 64 && row.largest.v0_bytes <= 1_232, "{row:?}");
        assert!(row.poke.accounts <= 64 && row.poke.v0_bytes <= 1_232, "{row:?}");
    }
}
