//! Transaction logs of natively loaded programs, made to read like a validator's.
//!
//! The local bank runs ballast and the reference AMM as native code. That changes their logs in
//! three ways, which this module undoes so that `@anchor-lang/core`, `@solana/web3.js` and explorers
//! read them as they read a validator's:
//! - `emit!` data would be dropped: ballast's `events::emit` routes it through the syscall stubs, and
//!   [`install_event_stubs`] writes it into the log collector (as a marked `Program log:` line that
//!   [`normalize`] turns into `Program data:`);
//! - every invocation of a native program and every cross-program call from one is logged twice
//!   (once by the caller's stub, once by the callee), with the caller's depth: [`normalize`] keeps one
//!   line per invocation with its real depth;
//! - `msg!` output goes to the process's stdout, so Anchor's `AnchorError occurred` line is missing:
//!   [`normalize`] writes it from the program's error code, as the program itself would have.

use std::sync::{Once, OnceLock};

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine as _;
use solana_sysvar::program_stubs::{set_syscall_stubs, SyscallStubs};

/// Prefix of a `Program log:` line that carries `sol_log_data` fields.
const DATA_MARKER: &str = "\u{1}ballast-data ";

/// The bank's own syscall stubs, once [`install_event_stubs`] replaced them.
static BANK_STUBS: OnceLock<Box<dyn SyscallStubs>> = OnceLock::new();

/// The bank's syscall stubs, with `sol_log_data` written to the transaction's logs.
struct EventStubs;

impl EventStubs {
    fn inner(&self) -> &dyn SyscallStubs {
        // Set right after the swap; a call landing in between waits for it.
        loop {
            if let Some(inner) = BANK_STUBS.get() {
                return inner.as_ref();
            }
            std::hint::spin_loop();
        }
    }
}

impl SyscallStubs for EventStubs {
    // Logging and calls into other programs are the runtime's work: not metered as the program's heap.
    fn sol_log(&self, message: &str) {
        crate::heap_meter::paused(|| self.inner().sol_log(message))
    }
    fn sol_log_data(&self, fields: &[&[u8]]) {
        crate::heap_meter::paused(|| {
            let encoded: Vec<String> =
                fields.iter().map(|f| base64::engine::general_purpose::STANDARD.encode(f)).collect();
            self.inner().sol_log(&format!("{DATA_MARKER}{}", encoded.join(" ")))
        })
    }
    fn sol_log_compute_units(&self) {
        crate::heap_meter::paused(|| self.inner().sol_log_compute_units())
    }
    fn sol_remaining_compute_units(&self) -> u64 {
        self.inner().sol_remaining_compute_units()
    }
    fn sol_invoke_signed(&self, ix: &Instruction, infos: &[AccountInfo], seeds: &[&[&[u8]]]) -> ProgramResult {
        crate::heap_meter::paused(|| self.inner().sol_invoke_signed(ix, infos, seeds))
    }
    fn sol_get_sysvar(&self, id: *const u8, var: *mut u8, offset: u64, length: u64) -> u64 {
        self.inner().sol_get_sysvar(id, var, offset, length)
    }
    fn sol_get_clock_sysvar(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_clock_sysvar(var)
    }
    fn sol_get_epoch_schedule_sysvar(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_epoch_schedule_sysvar(var)
    }
    fn sol_get_fees_sysvar(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_fees_sysvar(var)
    }
    fn sol_get_rent_sysvar(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_rent_sysvar(var)
    }
    fn sol_get_epoch_rewards_sysvar(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_epoch_rewards_sysvar(var)
    }
    fn sol_get_last_restart_slot(&self, var: *mut u8) -> u64 {
        self.inner().sol_get_last_restart_slot(var)
    }
    fn sol_get_epoch_stake(&self, vote: *const u8) -> u64 {
        self.inner().sol_get_epoch_stake(vote)
    }
    unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
        // SAFETY: forwarded unchanged; the caller upholds the stub's contract.
        unsafe { self.inner().sol_memcpy(dst, src, n) }
    }
    unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
        // SAFETY: as above.
        unsafe { self.inner().sol_memmove(dst, src, n) }
    }
    unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
        // SAFETY: as above.
        unsafe { self.inner().sol_memcmp(s1, s2, n, result) }
    }
    unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
        // SAFETY: as above.
        unsafe { self.inner().sol_memset(s, c, n) }
    }
    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        self.inner().sol_get_return_data()
    }
    fn sol_set_return_data(&self, data: &[u8]) {
        self.inner().sol_set_return_data(data)
    }
    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
        self.inner().sol_get_processed_sibling_instruction(index)
    }
    fn sol_get_stack_height(&self) -> u64 {
        self.inner().sol_get_stack_height()
    }
}

/// Wraps the bank's syscall stubs once per process (after the first bank installed its own).
pub fn install_event_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bank = set_syscall_stubs(Box::new(EventStubs));
        let _ = BANK_STUBS.set(bank);
    });
}

fn invoked(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Program ")?;
    let (program, tail) = rest.split_once(' ')?;
    tail.starts_with("invoke [").then_some(program)
}

fn ended(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix("Program ")?;
    let (program, tail) = rest.split_once(' ')?;
    if tail == "success" {
        Some((program, None))
    } else {
        tail.strip_prefix("failed: ").map(|why| (program, Some(why)))
    }
}

/// Anchor's error line for a custom error `code` of `program`, if it is one of ours.
fn anchor_error_line(program: &str, code: u32) -> Option<String> {
    let (name, message) = if program == ballast::ID.to_string() {
        let e = ballast::errors::BallastError::from_code(code)?;
        (e.name(), e.to_string())
    } else if program == ballast_amm::ID.to_string() {
        let e = ballast_amm::AmmError::from_code(code)?;
        (e.name(), e.to_string())
    } else {
        return None;
    };
    Some(format!(
        "Program log: AnchorError occurred. Error Code: {name}. Error Number: {code}. Error Message: {message}."
    ))
}

/// The logs as a validator would write them (see the module documentation).
pub fn normalize(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut stack: Vec<&str> = Vec::new();
    let mut previous_invoke: Option<&str> = None;
    for line in raw {
        if let Some(data) = line.strip_prefix("Program log: ").and_then(|l| l.strip_prefix(DATA_MARKER)) {
            out.push(format!("Program data: {data}"));
            previous_invoke = None;
            continue;
        }
        if let Some(program) = invoked(line) {
            if previous_invoke != Some(program) {
                stack.push(program);
                out.push(format!("Program {program} invoke [{}]", stack.len()));
            }
            previous_invoke = Some(program);
            continue;
        }
        previous_invoke = None;
        if let Some((program, failure)) = ended(line) {
            if stack.last() != Some(&program) {
                continue; // the second report of an invocation that already ended
            }
            let code = failure
                .and_then(|f| f.strip_prefix("custom program error: 0x"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok());
            if let Some(l) = code.and_then(|c| anchor_error_line(program, c)) {
                if !out.last().is_some_and(|prev| prev.contains("AnchorError")) {
                    out.push(l);
                }
            }
            stack.pop();
        }
        out.push(line.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn doubled_invocations_collapse_to_real_depths() {
        let p = ballast::ID.to_string();
        let t = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let raw = lines(&[
            &format!("Program {p} invoke [1]"),
            &format!("Program {p} invoke [1]"),
            &format!("Program {t} invoke [1]"),
            &format!("Program {t} invoke [2]"),
            "Program log: Instruction: TransferChecked",
            &format!("Program {t} success"),
            &format!("Program {t} success"),
            &format!("Program log: {DATA_MARKER}AAEC"),
            &format!("Program {p} success"),
            &format!("Program {p} success"),
        ]);
        assert_eq!(
            normalize(&raw),
            lines(&[
                &format!("Program {p} invoke [1]"),
                &format!("Program {t} invoke [2]"),
                "Program log: Instruction: TransferChecked",
                &format!("Program {t} success"),
                "Program data: AAEC",
                &format!("Program {p} success"),
            ])
        );
    }

    #[test]
    fn a_ballast_failure_gets_anchors_error_line() {
        let p = ballast::ID.to_string();
        let raw = lines(&[
            &format!("Program {p} invoke [1]"),
            &format!("Program {p} invoke [1]"),
            &format!("Program {p} failed: custom program error: 0x178a"),
            &format!("Program {p} failed: custom program error: 0x178a"),
        ]);
        let out = normalize(&raw);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[1],
            "Program log: AnchorError occurred. Error Code: TimelockNotElapsed. Error Number: 6026. Error Message: The timelock has not elapsed yet."
        );
    }
}
