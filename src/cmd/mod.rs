//! One module per subcommand. Each parses its own flags (clap `Args`) and
//! calls the stages; none of them holds pipeline logic.

pub mod inventory;
pub mod catalog;
pub mod collector;
pub mod coverage;
pub mod known_issues;
pub mod snapshot;
