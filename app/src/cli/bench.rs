//! `ballast bench`: prints what `ballast-bench` measures.

use std::io::Write as _;

use anyhow::Result;

/// `ballast bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Rebalances to time for the throughput figure (each set up untimed so the program accepts it; the
    /// command fails, naming the program error, if one is refused).
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Instead: decode, value and plan this many synthetic vault snapshots (3–16 assets) from memory
    /// with the keeper's code, on one core, and print vaults per second.
    #[arg(long)]
    pub keeper: bool,
    /// Synthetic vaults for `--keeper` (3–16 assets, every tenth of 128).
    #[arg(long, default_value_t = 10_000)]
    pub vaults: usize,
    /// Instead: the simulator's speed, simulated steps per second, one simulation at a time and as many
    /// at once as the machine has cores.
    #[arg(long)]
    pub sim: bool,
    /// Instead: load-test `ballast localnet`'s JSON-RPC and websocket pubsub on loopback and print
    /// p50/p99 latencies and errors.
    #[arg(long)]
    pub rpc: bool,
    /// Concurrent clients for `--rpc`.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// JSON-RPC requests per client for `--rpc`.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Transactions each client sends and confirms over `signatureSubscribe` for `--rpc`.
    #[arg(long, default_value_t = 5)]
    pub confirms: usize,
}

impl BenchArgs {
    pub async fn run(self) -> Result<()> {
        if self.keeper {
            self.keeper_bench().await
        } else if self.sim {
            self.sim_bench().await
        } else if self.rpc {
            self.rpc_bench().await
        } else {
            let mut out = crate::logging::capture_program_logs();
            ballast_bench::chain::run(self.iterations, self.json, &mut out).await
        }
    }

    async fn keeper_bench(&self) -> Result<()> {
        let b = ballast_bench::keeper::run(self.vaults, 7).await?;
        if self.json {
            println!("{}", serde_json::to_string(&b)?);
        } else {
            println!(
                "keeper planner: {} synthetic vaults (3–16 assets, every tenth 128) decoded, valued and planned in {:.3} s on one core = {:.0} vaults/s ({} trades, {} holds); the {} of 128 assets: {:.0} vaults/s",
                b.vaults, b.secs, b.vaults_per_sec, b.trades, b.holds, b.vaults_128, b.vaults_128 as f64 / b.secs_128.max(1e-9)
            );
        }
        Ok(())
    }

    async fn sim_bench(&self) -> Result<()> {
        let mut out = crate::logging::capture_program_logs();
        let threads = ballast_sim::parallelism();
        let (steps1, secs1) = ballast_sim::bench(1).await?;
        let (steps_n, secs_n) = ballast_sim::bench(threads).await?;
        let (one, many) = (steps1 as f64 / secs1, steps_n as f64 / secs_n);
        if self.json {
            let v = serde_json::json!({"steps": steps1, "one_thread_steps_per_sec": one, "threads": threads, "steps_per_sec": many});
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "simulator: {steps1} steps (7 strategies × 120 steps): {one:.1} steps/s one at a time, {many:.1} steps/s with {threads} at once")?;
        }
        Ok(())
    }

    async fn rpc_bench(&self) -> Result<()> {
        let opts = ballast_bench::rpc::RpcBenchOptions {
            clients: self.clients,
            requests: self.requests,
            confirms: self.confirms,
        };
        let b = ballast_bench::rpc::run(opts).await?;
        if self.json {
            println!("{}", serde_json::to_string(&b)?);
            return Ok(());
        }
        println!(
            "localnet RPC: {} clients × {} requests in {:.2} s = {:.0} requests/s, {} errors",
            b.clients, b.requests_per_client, b.secs, b.requests_per_sec, b.errors
        );
        for (what, l) in
            [("JSON-RPC request", &b.http), ("subscribe", &b.subscribe), ("send → signature notification", &b.confirm)]
        {
            println!(
                "  {what:<32} n={:<6} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
                l.count, l.p50_ms, l.p99_ms, l.max_ms
            );
        }
        println!("  notifications received: {}", b.notifications);
        for e in &b.first_errors {
            println!("  error: {e}");
        }
        Ok(())
    }
}
