//! How much every `ballast` command says besides its own output, decided in one place.
//!
//! - Quiet (the default): the command's own output, our warnings and errors, a program error nobody
//!   expected (by name) and dependencies' errors. No dependency's info or warning lines (the embedded chain's
//!   banks client alone logs a few hundred tarpc lines a second at info), no raw program logs.
//! - `-v`: our info lines too, with what the programs print; `-vv`: our debug lines, with the refusals a
//!   command provokes on purpose.
//! - `BALLAST_LOG` or `RUST_LOG`: exactly that filter (`RUST_LOG=debug` shows everything, dependencies too).
//!
//! Natively loaded programs print with `println!` to fd 1: [`capture_program_logs`] points fd 1 at a pipe,
//! hands the command the original stdout ([`crate::output::Out`]) and turns each line of the pipe into a log
//! event under the target [`PROGRAMS`]: a refusal the command expects at debug, anything else a program printed at info, and an
//! unexpected program error once more as an error with its name.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, Write};
use std::sync::{Mutex, OnceLock, RwLock};

/// The target of the programs' own lines.
pub const PROGRAMS: &str = "ballast::programs";

/// How loud the commands are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verbosity {
    /// Neither `-v` nor a log variable.
    Quiet,
    /// `-v` (1: our info lines) or `-vv` (2 and up: our debug lines).
    Verbose(u8),
    /// `BALLAST_LOG` or `RUST_LOG`, as written.
    Filter(String),
}

impl Verbosity {
    /// From the `-v` count and the log variables (`BALLAST_LOG` first, then `RUST_LOG`; empty means unset).
    pub fn new(verbose: u8, ballast_log: Option<String>, rust_log: Option<String>) -> Verbosity {
        let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        match set(ballast_log).or(set(rust_log)) {
            Some(filter) => Verbosity::Filter(filter),
            None if verbose > 0 => Verbosity::Verbose(verbose),
            None => Verbosity::Quiet,
        }
    }

    /// From `-v` and this process's environment.
    pub fn from_env(verbose: u8) -> Verbosity {
        Verbosity::new(verbose, std::env::var("BALLAST_LOG").ok(), std::env::var("RUST_LOG").ok())
    }

    /// The `tracing` filter. `output` are the targets whose info lines are the command's output (the keeper's
    /// log is what it does). Our crates are all named `ballast…`, and a directive covers every target it
    /// prefixes.
    pub fn filter(&self, output: &[&str]) -> String {
        match self {
            Verbosity::Filter(f) => f.clone(),
            Verbosity::Verbose(1) => "error,ballast=info".into(),
            Verbosity::Verbose(_) => "error,ballast=debug".into(),
            Verbosity::Quiet => {
                let mut f = String::from("error,ballast=warn");
                for target in output {
                    f.push_str(&format!(",{target}=info"));
                }
                f
            }
        }
    }
}

/// Installs the log subscriber of the process: stderr, filtered as `verbosity` says, colours only on a
/// terminal. It also receives the `log` crate's records (the embedded chain's), under the same filter. A
/// second call changes nothing.
pub fn init(verbosity: &Verbosity, output: &[&str]) {
    use std::io::IsTerminal;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let _ = subscriber(verbosity, output, io::stderr, io::stderr().is_terminal()).try_init();
}

/// The subscriber [`init`] installs, writing to `writer`.
pub fn subscriber<W>(verbosity: &Verbosity, output: &[&str], writer: W, ansi: bool) -> impl tracing::Subscriber
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::builder().parse_lossy(verbosity.filter(output)))
        .with_writer(writer)
        .with_ansi(ansi)
        .finish()
}

/// Which program errors a command provokes on purpose and reports itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Every one (a server: its clients' refusals are answered to them).
    pub all: bool,
    /// These error names.
    pub names: BTreeSet<String>,
}

static EXPECTED: RwLock<Expected> = RwLock::new(Expected { all: false, names: BTreeSet::new() });
/// The thread turning program lines into log events, joined by [`finish`].
static FORWARDER: Mutex<Option<std::thread::JoinHandle<()>>> = Mutex::new(None);
/// The original stdout, once fd 1 was pointed at the program-log pipe (negative: it could not be).
static SAVED_STDOUT: OnceLock<i32> = OnceLock::new();

/// Refusals (error names) the command provokes on purpose and reports itself: logged at debug.
pub fn expect_refusals(names: impl IntoIterator<Item = String>) {
    if let Ok(mut e) = EXPECTED.write() {
        e.names.extend(names);
    }
}

/// Every program error is expected (a server: a client's refusal is the client's answer, not the server's news).
pub fn expect_every_refusal() {
    if let Ok(mut e) = EXPECTED.write() {
        e.all = true;
    }
}

/// One line a natively loaded program printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramLine<'a> {
    /// A refusal the command expects.
    Expected,
    /// Another program error: its name and message.
    Error { name: &'a str, message: &'a str },
    /// Anything else.
    Other,
}

/// The name and message of an Anchor error line (`AnchorError thrown in …`, `AnchorError caused by account:
/// …`, `AnchorError occurred.`, `ProgramError occurred.`), each `… Error Code: <name>. Error Number: <n>.
/// Error Message: <message>.`.
fn error_fields(line: &str) -> Option<(&str, &str)> {
    if !(line.starts_with("AnchorError") || line.starts_with("ProgramError")) {
        return None;
    }
    let (_, rest) = line.split_once("Error Code: ")?;
    let (name, rest) = rest.split_once(". ").unwrap_or((rest.trim_end_matches('.'), ""));
    let message = rest.split_once("Error Message: ").map(|(_, m)| m.trim_end_matches('.')).unwrap_or("");
    Some((name, message))
}

/// What a program's line is, given the refusals the command expects.
pub fn classify<'a>(line: &'a str, expected: &Expected) -> ProgramLine<'a> {
    match error_fields(line) {
        Some((name, _)) if expected.all || expected.names.contains(name) => ProgramLine::Expected,
        Some((name, message)) => ProgramLine::Error { name, message },
        None => ProgramLine::Other,
    }
}

/// Logs a program's line as [`classify`] says.
pub fn emit(line: &str, expected: &Expected) {
    match classify(line, expected) {
        ProgramLine::Expected => tracing::debug!(target: PROGRAMS, "{line}"),
        ProgramLine::Other => tracing::info!(target: PROGRAMS, "{line}"),
        ProgramLine::Error { name, message } => {
            tracing::info!(target: PROGRAMS, "{line}");
            tracing::error!(target: PROGRAMS, "program error {name}: {message}");
        }
    }
}

/// The command's output handle: the original stdout, with what the programs print on fd 1 logged as the
/// module documentation says (plain stdout if the descriptors cannot be duplicated). Call [`finish`] before
/// the command's result is printed.
pub fn capture_program_logs() -> crate::output::Out {
    use std::os::fd::FromRawFd;
    io::stdout().flush().ok();
    let saved = *SAVED_STDOUT.get_or_init(|| redirect().unwrap_or(-1));
    // SAFETY: plain descriptor duplication; the duplicate is a fresh descriptor owned by the returned File.
    let mine = if saved < 0 { -1 } else { unsafe { libc::dup(saved) } };
    if mine < 0 {
        return crate::output::Out(Box::new(io::stdout()));
    }
    // SAFETY: `mine` is a valid descriptor nobody else owns.
    crate::output::Out(Box::new(unsafe { File::from_raw_fd(mine) }))
}

/// Saves stdout, points fd 1 at a pipe and starts the thread that logs its lines; returns the saved stdout.
fn redirect() -> Option<i32> {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: plain descriptor calls on descriptors this function owns; the reader owns the read end.
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
        let handle = std::thread::Builder::new()
            .name("program-logs".into())
            .spawn(move || {
                for line in reader.lines().map_while(Result::ok) {
                    match EXPECTED.read() {
                        Ok(expected) => emit(&line, &expected),
                        Err(_) => emit(&line, &Expected::default()),
                    }
                }
            })
            .ok()?;
        if let Ok(mut f) = FORWARDER.lock() {
            *f = Some(handle);
        }
        Some(saved)
    }
}

/// Logs what the programs printed before the command ends: fd 1 goes back to stderr, the pipe closes and its
/// reader drains it.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_s_filter_wins_then_verbose_then_quiet() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(Verbosity::new(0, None, None), Verbosity::Quiet);
        assert_eq!(Verbosity::new(0, None, some("  ")), Verbosity::Quiet, "an empty RUST_LOG is unset");
        assert_eq!(Verbosity::new(2, None, None), Verbosity::Verbose(2));
        assert_eq!(Verbosity::new(1, None, some("error")), Verbosity::Filter("error".into()));
        assert_eq!(Verbosity::new(0, some("debug"), some("error")), Verbosity::Filter("debug".into()));
    }

    #[test]
    fn quiet_keeps_dependencies_to_errors_and_ours_to_warnings() {
        assert_eq!(Verbosity::Quiet.filter(&[]), "error,ballast=warn");
        assert_eq!(Verbosity::Quiet.filter(&["ballast_keeper"]), "error,ballast=warn,ballast_keeper=info");
        assert_eq!(Verbosity::Verbose(1).filter(&["ballast_keeper"]), "error,ballast=info");
        assert_eq!(Verbosity::Verbose(3).filter(&[]), "error,ballast=debug");
        assert_eq!(Verbosity::Filter("tarpc=info".into()).filter(&["x"]), "tarpc=info");
    }

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What a command logs at `verbosity`: dependency and own lines, and three program lines (an expected
    /// refusal, an unexpected error, a plain message).
    fn logged(verbosity: Verbosity) -> String {
        let buf = Buffer::default();
        let writer = buf.clone();
        let sub = subscriber(&verbosity, &["ballast_keeper"], move || writer.clone(), false);
        let expected = Expected { all: false, names: ["CooldownNotElapsed".to_string()].into() };
        tracing::subscriber::with_default(sub, || {
            tracing::info!(target: "tarpc::client", "SendRequest");
            tracing::warn!(target: "tarpc::client", "OpenTelemetry subscriber not installed");
            tracing::error!(target: "tarpc::server", "connection lost");
            tracing::info!(target: "ballast_localnet::localnet", "prices moved");
            tracing::debug!(target: "ballast_localnet::localnet", "tick");
            tracing::warn!(target: "ballast_localnet::localnet", "price step failed");
            tracing::info!(target: "ballast_keeper::jobs", "rebalanced");
            emit("AnchorError thrown in a.rs:1. Error Code: CooldownNotElapsed. Error Number: 6065. Error Message: Cooldown.", &expected);
            emit("AnchorError thrown in b.rs:2. Error Code: SlippageExceeded. Error Number: 6070. Error Message: Slippage exceeded.", &expected);
            emit("largest payout now: 5 base units of asset 0", &expected);
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn each_verbosity_shows_what_it_says() {
        let quiet = logged(Verbosity::Quiet);
        assert!(!quiet.contains("SendRequest") && !quiet.contains("OpenTelemetry"), "{quiet}");
        assert!(quiet.contains("connection lost"), "a dependency's error shows: {quiet}");
        assert!(!quiet.contains("prices moved") && quiet.contains("price step failed"), "{quiet}");
        assert!(quiet.contains("rebalanced"), "the keeper's info lines are its output: {quiet}");
        assert!(quiet.contains("program error SlippageExceeded: Slippage exceeded"), "{quiet}");
        assert!(!quiet.contains("AnchorError") && !quiet.contains("largest payout"), "no raw program lines: {quiet}");
        assert_eq!(quiet.lines().count(), 4, "{quiet}");

        let verbose = logged(Verbosity::Verbose(1));
        assert!(verbose.contains("prices moved") && verbose.contains("largest payout"), "{verbose}");
        assert!(verbose.contains("Error Code: SlippageExceeded"), "{verbose}");
        assert!(!verbose.contains("CooldownNotElapsed") && !verbose.contains("tick"), "{verbose}");
        assert!(!verbose.contains("SendRequest") && !verbose.contains("OpenTelemetry"), "{verbose}");
        assert!(logged(Verbosity::Verbose(2)).contains("CooldownNotElapsed"), "-vv shows expected refusals");

        let asked = logged(Verbosity::Filter("tarpc=info".into()));
        assert!(asked.contains("SendRequest") && !asked.contains("rebalanced"), "{asked}");
        let everything = logged(Verbosity::Filter("debug".into()));
        assert!(everything.contains("tick") && everything.contains("CooldownNotElapsed"), "{everything}");
    }

    #[test]
    fn program_lines_are_classified_by_error_name() {
        let expected = Expected { all: false, names: ["CooldownNotElapsed".to_string()].into() };
        let cooldown = "AnchorError thrown in programs/ballast/src/instructions/keeper/trade.rs:22. Error Code: CooldownNotElapsed. Error Number: 6065. Error Message: Rebalance cooldown has not elapsed.";
        let seeds = "AnchorError caused by account: vault. Error Code: ConstraintSeeds. Error Number: 2006. Error Message: A seeds constraint was violated.";
        let program = "ProgramError occurred. Error Code: InvalidArgument. Error Number: 8589934592. Error Message: The arguments provided to a program instruction were invalid.";
        assert_eq!(classify(cooldown, &expected), ProgramLine::Expected);
        assert_eq!(
            classify(seeds, &expected),
            ProgramLine::Error { name: "ConstraintSeeds", message: "A seeds constraint was violated" }
        );
        assert_eq!(
            classify(program, &expected),
            ProgramLine::Error {
                name: "InvalidArgument",
                message: "The arguments provided to a program instruction were invalid"
            }
        );
        assert_eq!(classify("Left:", &expected), ProgramLine::Other);
        assert_eq!(classify("largest payout now: 5 base units of asset 0", &expected), ProgramLine::Other);
        let every = Expected { all: true, ..Default::default() };
        assert_eq!(classify(seeds, &every), ProgramLine::Expected);
        assert_eq!(classify("Right:", &every), ProgramLine::Other);
    }
}
