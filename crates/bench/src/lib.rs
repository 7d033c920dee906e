//! Measuring wenming, kept out of the product: a synthetic deployment on
//! the demo city (`generate`, `findings`), the raw database baselines the
//! goals are compared with (`baseline`), the load harness (`load`) and the
//! benchmark table (`table`). Reached as the `wenming-bench` binary.

pub mod baseline;
pub mod findings;
pub mod generate;
pub mod load;
pub mod table;
