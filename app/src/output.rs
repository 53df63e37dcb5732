//! Keeps the command's own output clean. Natively loaded programs print their logs (`msg!`, Anchor's
//! `AnchorError thrown in …` lines) with `println!` to file descriptor 1. The CLI writes its tables and JSON
//! to the original stdout through a separate handle ([`Out`]) and reads what the programs print from a pipe:
//! refusals the command expects and already reports ([`expect_refusals`]) are shown only with
//! `RUST_LOG=debug`; every other program log line goes to stderr, loud.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, Write};
use std::sync::{Mutex, OnceLock, RwLock};

/// Where the CLI writes: the original stdout.
pub struct Out(Box<dyn Write + Send>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// The original stdout, once fd 1 was pointed at the program-log pipe.
static SAVED_STDOUT: OnceLock<i32> = OnceLock::new();
/// The thread forwarding program logs, joined by [`finish`].
static FORWARDER: Mutex<Option<std::thread::JoinHandle<()>>> = Mutex::new(None);
/// Error names whose `AnchorError` lines are expected (shown only at debug level).
static EXPECTED: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());

/// Refusals (ballast error names) the command provokes on purpose and reports itself: their program log lines
/// are shown only with `RUST_LOG=debug`.
pub fn expect_refusals(names: impl IntoIterator<Item = String>) {
    if let Ok(mut e) = EXPECTED.write() {
        e.extend(names);
    }
}

/// Whether a program log line is shown: always at debug level, otherwise unless it is an expected refusal.
pub fn shown(line: &str, debug: bool, expected: &BTreeSet<String>) -> bool {
    if debug {
        return true;
    }
    let code = line.split("Error Code: ").nth(1).and_then(|r| r.split('.').next());
    !(line.starts_with("AnchorError") && code.is_some_and(|c| expected.contains(c)))
}

fn debug_logging() -> bool {
    std::env::var("RUST_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace"))
}

/// Points fd 1 (used by program logs) at a pipe whose lines are filtered to stderr, and returns a handle on
/// the original stdout for the CLI's own output. Falls back to plain stdout if the descriptors cannot be
/// duplicated.
pub fn program_logs_to_stderr() -> Out {
    use std::os::fd::FromRawFd;
    io::stdout().flush().ok();
    let saved = *SAVED_STDOUT.get_or_init(|| redirect().unwrap_or(-1));
    // SAFETY: plain descriptor duplication; the duplicate is a fresh descriptor owned by the returned File.
    let mine = if saved < 0 { -1 } else { unsafe { libc::dup(saved) } };
    if mine < 0 {
        return Out(Box::new(io::stdout()));
    }
    // SAFETY: `mine` is a valid descriptor nobody else owns.
    Out(Box::new(unsafe { File::from_raw_fd(mine) }))
}

/// Saves stdout, points fd 1 at a pipe and starts the forwarder; returns the saved stdout.
fn redirect() -> Option<i32> {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: plain descriptor calls on descriptors this function owns.
    unsafe {
        let saved = libc::dup(1);
        if saved < 0 || libc::pipe(fds.as_mut_ptr()) < 0 {
            return None;
        }
        if libc::dup2(fds[1], 1) < 0 {
            return None;
        }
        libc::close(fds[1]);
        let reader = io::BufReader::new(File::from_raw_fd(fds[0]));
        let debug = debug_logging();
        let handle = std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let show = EXPECTED.read().map(|e| shown(&line, debug, &e)).unwrap_or(true);
                if show {
                    eprintln!("{line}");
                }
            }
        });
        if let Ok(mut f) = FORWARDER.lock() {
            *f = Some(handle);
        }
        Some(saved)
    }
}

/// Forwards what the programs printed before the command ends: fd 1 goes back to stderr, the pipe closes and
/// the forwarder drains it.
pub fn finish() {
    io::stdout().flush().ok();
    if SAVED_STDOUT.get().is_some_and(|fd| *fd >= 0) {
        // SAFETY: replaces fd 1 (the pipe's only write end) with a copy of stderr.
        unsafe {
            libc::dup2(2, 1);
        }
    }
    if let Some(handle) = FORWARDER.lock().ok().and_then(|mut f| f.take()) {
        let _ = handle.join();
    }
}

/// Progress of a long command on stderr: a bar (or a spinner when the total is unknown) on a terminal,
/// one plain line per step otherwise (logs and CI output stay free of control codes).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: Option<u64>,
    done: u64,
}

impl Progress {
    pub fn new(total: Option<u64>) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template =
                if total.is_some() { "{bar:30} {pos}/{len} {elapsed} {msg}" } else { "{spinner} {elapsed} {msg}" };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, total, done: 0 }
    }

    /// One step done (`what` names it).
    pub fn step(&mut self, what: &str) {
        self.done += 1;
        match &self.bar {
            Some(bar) => {
                bar.set_message(what.to_string());
                bar.inc(1);
            }
            None => match self.total {
                Some(n) => eprintln!("[{}/{n}] {what}", self.done),
                None => eprintln!("{what}"),
            },
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_refusals_are_quiet_unless_debugging() {
        let expected: BTreeSet<String> = ["CooldownNotElapsed".to_string()].into();
        let cooldown = "AnchorError thrown in programs/ballast/src/instructions/keeper/trade.rs:22. Error Code: CooldownNotElapsed. Error Number: 6065. Error Message: Rebalance cooldown has not elapsed.";
        let slippage = "AnchorError thrown in programs/ballast/src/checks.rs:40. Error Code: SlippageExceeded. Error Number: 6070. Error Message: …";
        assert!(!shown(cooldown, false, &expected));
        assert!(shown(cooldown, true, &expected));
        assert!(shown(slippage, false, &expected), "an unexpected refusal stays loud");
        assert!(shown("Program log: something else", false, &expected));
    }
}
