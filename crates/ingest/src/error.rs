use lockstep_model::term::one_line;
use std::fmt;

/// An input that could not be read: which file, which line (1-based; 0 when
/// the problem is the file as a whole) and what the parser expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub path: String,
    pub line: u32,
    pub expected: String,
    /// A short excerpt of what was found instead, when it helps.
    pub found: Option<String>,
}

impl IngestError {
    pub fn new(path: impl Into<String>, line: u32, expected: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line,
            expected: expected.into(),
            found: None,
        }
    }

    pub fn found(mut self, found: impl AsRef<str>) -> Self {
        // Excerpts are for humans: cap them so a 1 GB line does not flood
        // the terminal (they are shown escaped, `{:?}`).
        let f: String = found.as_ref().chars().take(80).collect();
        self.found = Some(f);
        self
    }
}

/// The longest `expected` text shown: parser messages may quote a value.
const MAX_EXPECTED: usize = 400;

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths and parser messages carry input text: one line each, no
        // terminal controls (messages go to terminals and reports).
        let path = one_line(&self.path);
        let mut expected = one_line(&self.expected);
        if let Some((cut, _)) = expected.char_indices().nth(MAX_EXPECTED) {
            expected = format!("{}…", &expected[..cut]).into();
        }
        if self.line > 0 {
            write!(f, "{path}:{}: expected {expected}", self.line)?;
        } else {
            write!(f, "{path}: expected {expected}")?;
        }
        if let Some(found) = &self.found {
            write!(f, ", found {found:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for IngestError {}

/// Something lockstep read but the user should know about, because it
/// shapes the verdicts: a hotfix list cut short, two captures of one host
/// that disagree (and which one was used for what). Loading goes on and
/// the exit code does not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestWarning {
    pub path: String,
    /// 1-based; 0 when the warning is about the file as a whole.
    pub line: u32,
    pub message: String,
}

impl IngestWarning {
    pub fn new(path: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for IngestWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.path, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
