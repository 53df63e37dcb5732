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
    assert!(!v["compute_units"].as_array().unwrap().is_empty());
}
