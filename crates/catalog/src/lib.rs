//! placeholder until the catalog work lands
