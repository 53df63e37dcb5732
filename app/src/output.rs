//! The command's own output: the handle its tables and JSON go to ([`Out`], the original stdout once the
//! logging module has taken fd 1 for the programs' lines) and its progress on stderr.

use std::io::{self, Write};

/// Where the CLI writes: the original stdout.
pub struct Out(pub(crate) Box<dyn Write + Send>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
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
