//! The reliability and security suite (issue 12) over real sockets and real
//! binaries: concurrency, idempotency, crashes, bad input, authorisation,
//! privacy and overload. The fast part runs in `make test`; `make soak` runs
//! the `#[ignore]`d long variants and gathers every figure into
//! docs/RELIABILITY.md.

mod authorisation;
mod bad_input;
mod concurrency;
mod crash;
mod decisions;
mod idempotency;
mod money;
mod overload;
mod privacy;
mod wallet_model;
