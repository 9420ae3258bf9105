//! `ayushctl bench`: the benchmark scenarios of issue 11 against the real
//! binaries on loopback, with this process as the load generator, written up
//! in docs/BENCHMARKS.md with ratios to a bare tonic baseline measured in the
//! same run.

mod cpu;
mod data;
mod hospital;
mod load;
mod processes;
mod report;
mod scenarios;

use std::path::PathBuf;

pub use processes::serve_echo;

/// How big and how long.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Seconds of each measured closed-loop run.
    pub run_secs: u64,
    /// Seconds of each latency (open-loop) run.
    pub latency_secs: u64,
    /// People in the registry for B1.
    pub b1_people: u64,
    /// Registry sizes of B4, smallest first.
    pub b4_people: [u64; 3],
    /// Rows of the B3 import.
    pub b3_rows: u64,
}

impl Sizes {
    /// The figures: a Saran-sized import, 10 million people.
    pub const FULL: Self = Self {
        run_secs: 15,
        latency_secs: 10,
        b1_people: 1_00_000,
        b4_people: [1_00_000, 10_00_000, 1_00_00_000],
        b3_rows: 28_95_434,
    };
    /// Everyday use, under two minutes.
    pub const QUICK: Self = Self {
        run_secs: 4,
        latency_secs: 3,
        b1_people: 20_000,
        b4_people: [20_000, 60_000, 1_20_000],
        b3_rows: 60_000,
    };
}

/// What `ayushctl bench` was asked.
pub struct Options {
    pub sizes: Sizes,
    /// Where the PostgreSQL variants run (a server URL ending in a database the
    /// benchmark may create databases from); `None` skips them.
    pub postgres: Option<String>,
    /// The report to update.
    pub report: PathBuf,
}

/// Runs B1 alone, and a health check through the registry's stack, and
/// prints their lines (for profiling a change).
pub async fn verify_only(secs: u64) -> anyhow::Result<()> {
    scenarios::verify_alone(std::time::Duration::from_secs(secs)).await
}

/// Runs B2 (and B5 on its mesh) alone and prints their lines (for profiling a change).
pub async fn preauth_only(postgres: Option<&str>, secs: u64) -> anyhow::Result<()> {
    scenarios::raise_preauths_alone(postgres, std::time::Duration::from_secs(secs)).await
}

/// Runs B3 alone at `rows` and prints its lines (for profiling a change).
pub async fn import_only(postgres: Option<&str>, rows: u64) -> anyhow::Result<()> {
    scenarios::import_alone(postgres, rows).await
}

/// Runs every scenario and writes the report.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let results = scenarios::run_all(&options).await?;
    report::write(&options.report, &results, options.sizes)?;
    println!("\nwritten to {}", options.report.display());
    Ok(())
}
