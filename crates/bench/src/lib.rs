//! Measuring wenming, kept out of the product: a synthetic deployment on
//! the demo city (`generate`, `findings`), the raw database baselines the
//! goals are compared with (`baseline`), the load harness (`load`) and the
//! benchmark table (`table`), and the evidence archive at size
//! (`evidence`), the projection at size (`projection`, `scoring`), held-open
//! connections (`idle`). Reached as the `wenming-bench` binary.

pub mod baseline;
pub mod evidence;
pub mod findings;
pub mod generate;
pub mod idle;
pub mod load;
pub mod projection;
pub mod scoring;
pub mod survey;
pub mod table;
