//! Progress of long work, reported by the libraries and drawn by the binary:
//! a library never touches the terminal itself (the binary decides whether
//! standard error is one and how a bar looks).

/// Receives progress. Every method has a default that does nothing, so
/// [`Silent`] is the whole implementation for tests and for callers that
/// show nothing.
pub trait Progress: Sync {
    /// `total` steps are about to be done.
    fn start(&self, _total: u64) {}
    /// The step about to be done, in a few words (a document id).
    fn step(&self, _what: &str) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
    /// All done (or given up).
    fn finish(&self) {}
}

/// Shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
