//! placeholder until the collect work lands
