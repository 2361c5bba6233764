//! Where a fact came from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A file and a 1-based line number (0 when the fact has no single line, such
/// as a whole JSON document). Cheap to clone: the path is shared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    pub file: Arc<str>,
    pub line: u32,
}

impl SourceRef {
    pub fn new(file: impl Into<Arc<str>>, line: u32) -> Self {
        Self {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}
