//! placeholder until the coverage work lands
