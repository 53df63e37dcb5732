//! What a person sees first, from the built `ballast` binary: with no `RUST_LOG`, `ballast localnet` prints
//! its short banner and nothing else (no dependency's log lines, no program logs), `-v` adds our own info
//! lines (still no dependency's), and `ballast demo` prints its tables and nothing on stderr.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A free loopback address (bound and released; the localnet binds it again right after).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port")
}

fn ballast() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballast"));
    cmd.env_remove("RUST_LOG").env_remove("BALLAST_LOG").stdin(Stdio::null());
    cmd
}

/// Collects a stream's lines (stdout and stderr interleave as they arrive) into `lines`.
fn collect(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            lines.lock().unwrap().push(line);
        }
    })
}

/// Runs `ballast localnet <extra>` with price steps every second until its banner is out, then `linger`
/// longer (the slot ticker, price steps and the banks client at work), kills it and returns every line it
/// printed on stdout and stderr.
fn localnet_screen(extra: &[&str], linger: Duration) -> Vec<String> {
    let (rpc, ws) = (free_addr(), free_addr());
    let mut child: Child = ballast()
        .args(["localnet", "--addr", &rpc.to_string(), "--ws-addr", &ws.to_string(), "--step-secs", "1"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ballast localnet");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let readers =
        [collect(child.stdout.take().unwrap(), lines.clone()), collect(child.stderr.take().unwrap(), lines.clone())];
    let started = Instant::now();
    while !lines.lock().unwrap().iter().any(|l| l.starts_with("run a keeper")) {
        assert!(started.elapsed() < Duration::from_secs(180), "no banner: {:#?}", lines.lock().unwrap());
        assert!(child.try_wait().unwrap().is_none(), "localnet exited: {:#?}", lines.lock().unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(linger);
    child.kill().expect("kill localnet");
    child.wait().expect("reap localnet");
    for r in readers {
        r.join().unwrap();
    }
    let out = lines.lock().unwrap().clone();
    out
}

fn noisy(line: &str) -> bool {
    ["INFO", "WARN", "tarpc", "AnchorError"].iter().any(|n| line.contains(n))
}

#[test]
fn localnet_first_screen_is_the_short_banner() {
    let screen = localnet_screen(&[], Duration::from_secs(5));
    let text = screen.join("\n");
    assert!(screen.len() <= 25, "{} lines on the first screen:\n{}", screen.len(), first(&screen));
    for expected in ["(JSON-RPC)", "websocket pubsub on ws://", "dashboard on http://", "demo vault ", "run a keeper: "]
    {
        assert!(text.contains(expected), "no {expected:?} in the banner:\n{text}");
    }
    let noise: Vec<&String> = screen.iter().filter(|l| noisy(l)).collect();
    assert!(
        noise.is_empty(),
        "{} lines of log noise on the first screen, first: {:#?}",
        noise.len(),
        &noise[..noise.len().min(5)]
    );
}

#[test]
fn localnet_verbose_adds_our_info_lines_only() {
    let screen = localnet_screen(&["-v"], Duration::from_secs(3));
    assert!(screen.iter().any(|l| l.contains("prices moved")), "-v shows our info lines:\n{}", first(&screen));
    let deps: Vec<&String> = screen.iter().filter(|l| l.contains("tarpc") || l.contains("solana_")).collect();
    assert!(deps.is_empty(), "-v shows {} dependency lines, first: {:#?}", deps.len(), &deps[..deps.len().min(5)]);
}

#[test]
fn demo_prints_its_tables_and_nothing_on_stderr() {
    let out = ballast().arg("demo").output().expect("run ballast demo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stderr.trim().is_empty(), "stderr of the demo: {stderr}");
    assert!(stdout.contains("sell SOL → USDC"), "{stdout}");
    assert!(!stdout.contains("AnchorError"));
}

/// The first lines of a long screen, for a failure message.
fn first(screen: &[String]) -> String {
    screen.iter().take(30).map(|l| format!("{l}\n")).collect()
}
