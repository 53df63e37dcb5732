//! The README's first command: the demo runs on the embedded chain and ends in the documented state.

use ballast_app::demo::{self, DemoOptions};

#[tokio::test]
async fn demo_runs_and_reports_drift() {
    let out = demo::run(&DemoOptions { json: true }).await.expect("demo");
    let r = &out.report;
    assert_eq!(r.symbols, vec!["SOL", "BTC", "USDC"]);
    assert!(r.holdings.iter().all(|h| *h > 0));
    assert_eq!(r.targets_bps, vec![4_000, 3_000, 3_000]);
    // SOL rallied 20 % from target weights: 48/(48+30+30) = 44.44 %.
    assert_eq!(r.weights_bps, vec![4_444, 2_777, 2_777]);
    assert_eq!(r.drift_bps, vec![444, -223, -223]);
    assert_eq!(r.max_abs_drift_bps, 444);
    assert_eq!(out.steps.len(), 4);
    assert!(r.share_supply > ballast::math::LOCKED_SHARES);
}
