//! placeholder until the check work lands
