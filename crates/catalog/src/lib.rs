//! Catalog: which updates exist for which product and what supersedes what.

pub mod known_issues;
