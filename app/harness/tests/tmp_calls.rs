use ballast_harness::chain::Chain;
#[tokio::test]
async fn tmp_call_cost() {
    let mut chain = Chain::start().await;
    let key = {
        use solana_signer::Signer;
        chain.payer().pubkey()
    };
    let n = 5000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = chain.clock().await;
    }
    println!("clock: {:.1} us/call", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = chain.account(&key).await;
    }
    println!("account: {:.1} us/call", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    let t = std::time::Instant::now();
    for i in 0..2000u64 {
        let ix = anchor_lang::solana_program::system_instruction::transfer(&key, &key, i + 1);
        chain.send(&[ix], &[]).await.unwrap();
    }
    println!("transfer tx: {:.1} us/tx", t.elapsed().as_secs_f64() * 1e6 / 2000.0);
}
