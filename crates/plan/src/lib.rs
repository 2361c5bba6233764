//! placeholder until the plan work lands
