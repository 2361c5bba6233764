//! The progress bar the binary draws for the libraries' long work
//! (`catalog update`, `coverage run`): only on a terminal, on standard error.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lockstep_model::progress::Progress;
use std::io::IsTerminal;

pub struct Bar(ProgressBar);

impl Bar {
    /// A bar drawn when `shown` and standard error is a terminal; hidden
    /// otherwise.
    pub fn new(shown: bool, template: &str) -> Bar {
        let bar = if shown && std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn step(&self, what: &str) {
        // Document ids come from a server: one safe line.
        self.0
            .set_message(lockstep_model::term::one_line(what).into_owned());
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
