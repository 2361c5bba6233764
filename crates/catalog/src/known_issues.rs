//! Known-issues database. (Filled in by the known-issues work.)
