//! docs/BENCHMARKS.md: the machine, the date, the commit, and each scenario's
//! figures with its ratio to the baseline and its target. The figures go
//! between two markers; the analysis around them is kept.

use std::{fmt::Write, path::Path};

use anyhow::Context;

use super::{Sizes, load::Stats, scenarios::Results};

const BEGIN: &str = "<!-- results:begin (written by `ayushctl bench`) -->";
const END: &str = "<!-- results:end -->";

fn ms(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    format!(
        "{cores} cores ({model}), {:.1} GiB memory",
        memory_kib as f64 / 1024.0 / 1024.0
    )
}

fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let hash = git(&["rev-parse", "--short", "HEAD"]);
    // Edits under docs/ (this report among them) do not change what was measured.
    let dirty = !git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)docs",
    ])
    .is_empty();
    if dirty {
        format!("{hash} with uncommitted changes")
    } else {
        hash
    }
}

fn row(out: &mut String, name: &str, stats: &Stats, baseline: &Stats, target: &str) {
    let _ = writeln!(
        out,
        "| {name} | {:.0} | {} | {} | {} | {target} |",
        stats.throughput(),
        ms(stats.p50),
        ms(stats.p99),
        ratio(stats.throughput() / baseline.throughput()),
    );
}

/// Two decimals, or three below 0.1 so that small ratios still compare.
fn ratio(value: f64) -> String {
    if value < 0.1 {
        format!("{value:.3}")
    } else {
        format!("{value:.2}")
    }
}

/// The results as Markdown.
pub fn render(results: &Results, sizes: Sizes) -> String {
    let mut out = String::new();
    let b0 = &results.baseline;
    let mode = if sizes.b3_rows == Sizes::FULL.b3_rows {
        "full (`make bench`)"
    } else {
        "quick (`make bench-quick`): smaller sizes, shorter runs"
    };
    let _ = writeln!(
        out,
        "Run {} on {}; commit {}; mode {mode}. The load generator is `ayushctl`, in its own \
         process on the same machine as the services (they share the cores).\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        commit()
    );
    let _ = writeln!(
        out,
        "| scenario | calls/s | p50 | p99 | × B0 calls/s | target |\n|---|---|---|---|---|---|"
    );
    row(
        &mut out,
        "B0 bare tonic unary RPC (64 callers)",
        b0,
        b0,
        "baseline",
    );
    let b1 = &results.verify_peak;
    row(
        &mut out,
        &format!("B1 VerifyEligibility, peak ({} people)", sizes.b1_people),
        b1,
        b0,
        &format!(
            "≥ 0.50 × B0: {}",
            verdict(b1.throughput() >= 0.5 * b0.throughput())
        ),
    );
    let half = &results.verify_half;
    row(
        &mut out,
        &format!(
            "B1 VerifyEligibility at half of peak ({:.0}/s offered)",
            b1.throughput() / 2.0
        ),
        half,
        b0,
        &format!(
            "p99 ≤ 5 ms: {}",
            verdict(half.p99 <= std::time::Duration::from_millis(5))
        ),
    );
    for (backend, stats) in &results.preauth {
        row(
            &mut out,
            &format!("B2 RaisePreauth end to end, {backend} (32 callers)"),
            stats,
            b0,
            &format!("≥ 2,000/s: {}", verdict(stats.throughput() >= 2000.0)),
        );
        if let Some((_, half)) = results.preauth_half.iter().find(|(b, _)| b == backend) {
            row(
                &mut out,
                &format!(
                    "B2 RaisePreauth at half of peak, {backend} ({:.0}/s offered)",
                    stats.throughput() / 2.0
                ),
                half,
                b0,
                &format!(
                    "p99 ≤ 50 ms: {}",
                    verdict(half.p99 <= std::time::Duration::from_millis(50))
                ),
            );
        }
    }
    for (backend, stats) in &results.nhcx {
        let b2 = results
            .preauth
            .iter()
            .find(|(b, _)| b == backend)
            .map_or(f64::NAN, |(_, s)| s.throughput());
        row(
            &mut out,
            &format!("B5 NHCX preauth, submit to on_submit (queued), {backend} (32 callers)"),
            stats,
            b0,
            &format!("{:.2} × B2 on {backend}", stats.throughput() / b2),
        );
    }

    let _ = writeln!(
        out,
        "\n**B3 import** of a generated district through `ImportEligibility` (one client stream, \
         rows validated and written in batches):\n\n| path | rows | seconds | rows/s | × COPY time | target |\n|---|---|---|---|---|---|"
    );
    let copy = results
        .import
        .iter()
        .find(|(path, _, _)| path.starts_with("psql"))
        .map(|(_, _, seconds)| *seconds);
    for (path, rows, seconds) in &results.import {
        let ratio = copy.map_or("–".to_owned(), |c| format!("{:.2}", seconds / c));
        let target = if path.starts_with("psql") {
            "reference".to_owned()
        } else if path.ends_with("PostgreSQL") {
            let within_copy = copy.is_some_and(|c| *seconds <= 1.5 * c);
            format!("≤ 1.5 × COPY: {}", verdict(within_copy))
        } else {
            format!("≤ 60 s: {}", verdict(*seconds <= 60.0))
        };
        let _ = writeln!(
            out,
            "| {path} | {rows} | {seconds:.1} | {:.0} | {ratio} | {target} |",
            *rows as f64 / seconds
        );
    }

    let _ = writeln!(
        out,
        "\n**B4 lookups** as the registry grows (one SQLite registry, 500 calls/s offered of each):\n\n| people | VerifyEligibility p50 | p99 | search by name p50 | p99 | p99 × smallest |\n|---|---|---|---|---|---|"
    );
    let first = results.lookups.first().map(|(_, v, s)| (v.p99, s.p99));
    for (people, verify, search) in &results.lookups {
        let ratio = first.map_or(String::new(), |(v, s)| {
            format!(
                "{:.2} / {:.2}",
                verify.p99.as_secs_f64() / v.as_secs_f64(),
                search.p99.as_secs_f64() / s.as_secs_f64()
            )
        });
        let _ = writeln!(
            out,
            "| {people} | {} | {} | {} | {} | {ratio} |",
            ms(verify.p50),
            ms(verify.p99),
            ms(search.p50),
            ms(search.p99)
        );
    }
    if let (Some((_, v0, s0)), Some((_, v, s))) = (results.lookups.first(), results.lookups.last())
    {
        let met = v.p99.as_secs_f64() <= 1.5 * v0.p99.as_secs_f64()
            && s.p99.as_secs_f64() <= 1.5 * s0.p99.as_secs_f64();
        let _ = writeln!(
            out,
            "\nTarget: p99 at the largest size within 1.5 × the smallest: {}.",
            verdict(met)
        );
    }

    let _ = writeln!(
        out,
        "\n**Memory** (resident set, `VmRSS` once SERVING and `VmHWM` after its load):\n\n| process | idle | peak | idle ≤ 30 MiB |\n|---|---|---|---|"
    );
    for (name, idle, peak) in &results.memory {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            mib(*idle),
            mib(*peak),
            verdict(*idle <= 30 * 1024)
        );
    }
    out
}

/// Replaces the results in `path` (creating it if needed), keeping the rest.
pub fn write(path: &Path, results: &Results, sizes: Sizes) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(path)
        .unwrap_or_else(|_| format!("# Benchmarks\n\n{BEGIN}\n{END}\n"));
    let (before, rest) = existing
        .split_once(BEGIN)
        .with_context(|| format!("{} has no results marker {BEGIN}", path.display()))?;
    let (_, after) = rest
        .split_once(END)
        .with_context(|| format!("{} has no results marker {END}", path.display()))?;
    let text = format!("{before}{BEGIN}\n{}{END}{after}", render(results, sizes));
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}
