//! What the commands print: tables for people, JSON for scripts, questions
//! before destructive changes, and progress bars on a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use ferry_app::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::failure::Failure;

/// A table with a header row; columns are as wide as their widest cell.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self { header: header.to_vec(), rows: Vec::new() }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table, or `empty` when it has no rows.
    pub(crate) fn print(&self, empty: &str) {
        if self.rows.is_empty() {
            say(empty);
            return;
        }
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (i, cell) in cells.enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                if i + 1 < widths.len() {
                    text.push_str(&" ".repeat(width.saturating_sub(cell.chars().count())));
                }
            }
            text.trim_end().to_owned()
        };
        let mut out = vec![line(&mut self.header.iter().copied())];
        for row in &self.rows {
            out.push(line(&mut row.iter().map(String::as_str)));
        }
        say(&out.join("\n"));
    }
}

/// Key-value lines for one object.
pub(crate) fn fields(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let lines: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:<width$}  {v}")).collect();
    say(&lines.join("\n"));
}

/// Pretty JSON on standard output.
pub(crate) fn json(value: &Value) {
    say(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Writes lines to standard output; a closed pipe is not an error worth a panic.
pub(crate) fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// A note for the operator on standard error (not data).
pub(crate) fn note(text: &str) {
    eprintln!("{text}");
}

/// Asks before a destructive change. On a terminal the operator answers;
/// elsewhere `--yes` is required, so that a script never hangs on a question.
pub(crate) fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Failure::Usage(format!("{question} Not on a terminal to ask: add --yes to confirm from a script")));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::Usage(format!("cannot read the answer: {e}; add --yes to confirm")))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// A progress bar on standard error when it is a terminal; silent otherwise.
#[derive(Debug)]
pub(crate) struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar (or a spinner while the total is unknown).
    pub(crate) fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        let bar = Self { bar };
        bar.set_total(None);
        bar.bar.set_message("starting");
        bar
    }

    fn set_total(&self, total: Option<u64>) {
        let template = match total {
            Some(_) => "{msg:>28} [{bar:30}] {pos}/{len} ({eta})",
            None => "{spinner} {msg}: {pos}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_length(total.unwrap_or(0));
        if total.is_none() {
            self.bar.unset_length();
        }
    }

    /// Removes the bar from the terminal.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.bar.set_position(0);
        self.set_total(total);
        self.bar.set_message(name.to_owned());
    }

    fn advance(&self, steps: u64) {
        self.bar.inc(steps);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
