//! Keeps the command's own output clean. Natively loaded programs print their logs (`msg!`) with
//! `println!` to file descriptor 1; the CLI moves those to stderr and writes its tables and JSON to the
//! original stdout through a separate handle.

use std::fs::File;
use std::io::{self, Write};

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

/// Duplicates stdout for the CLI's own output and points fd 1 (used by program logs) at stderr.
/// Falls back to plain stdout if the descriptors cannot be duplicated.
pub fn program_logs_to_stderr() -> Out {
    use std::os::fd::FromRawFd;
    io::stdout().flush().ok();
    // SAFETY: plain descriptor duplication; `saved` is a fresh descriptor owned by the returned File.
    unsafe {
        let saved = libc::dup(1);
        if saved < 0 || libc::dup2(2, 1) < 0 {
            return Out(Box::new(io::stdout()));
        }
        Out(Box::new(File::from_raw_fd(saved)))
    }
}
