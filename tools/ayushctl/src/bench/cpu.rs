//! CPU time by process during a run: what each preauth costs each service,
//! the load generator and the PostgreSQL server, read from /proc so the
//! figure covers every thread of a process (tokio workers, sqlx's SQLite
//! threads) and needs no profiler.

use std::{collections::BTreeMap, time::Duration};

/// Clock ticks per second of /proc's times: USER_HZ, fixed at 100 by the
/// Linux ABI whatever the kernel's own tick rate.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time used so far by each named process (processes of one name summed).
#[derive(Debug, Clone, Default)]
pub struct Sample(BTreeMap<String, Duration>);

impl Sample {
    /// The CPU time of `pids` (each under its name), of this process as
    /// "load generator", and of every `postgres` process on the machine.
    pub fn take(pids: &[(String, u32)]) -> Self {
        let mut sample = Self::default();
        for (name, pid) in pids {
            sample.add(name, cpu_of(&pid.to_string()));
        }
        sample.add("load generator", cpu_of("self"));
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if pid.bytes().all(|b| b.is_ascii_digit()) && comm.trim() == "postgres" {
                sample.add("PostgreSQL server", cpu_of(&pid));
            }
        }
        sample
    }

    fn add(&mut self, name: &str, cpu: Duration) {
        *self.0.entry(name.to_owned()).or_default() += cpu;
    }

    /// CPU per call since `before`, by process, busiest first, over `calls` calls.
    pub fn per_call_since(&self, before: &Self, calls: u64) -> Vec<(String, Duration)> {
        let mut spent: Vec<(String, Duration)> = self
            .0
            .iter()
            .map(|(name, now)| {
                let then = before.0.get(name).copied().unwrap_or_default();
                (name.clone(), now.saturating_sub(then) / calls.max(1) as u32)
            })
            .filter(|(_, per_call)| !per_call.is_zero())
            .collect();
        spent.sort_by_key(|(_, per_call)| std::cmp::Reverse(*per_call));
        spent
    }
}

/// User plus system CPU time of `/proc/<pid>` (all its threads); zero once
/// it has exited. Fields 14 and 15 of `stat`, counted after the command
/// name, which may itself hold spaces, so from its closing parenthesis.
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name: state is field 3, so utime (14) and stime (15) are 11 and 12.
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / TICKS_PER_SECOND)
}

/// "preauth 1.92 ms, beneficiary-registry 1.10 ms, …; 4.80 ms in all".
pub fn describe(spent: &[(String, Duration)]) -> String {
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let total: f64 = spent.iter().map(|(_, d)| ms(d)).sum();
    let parts: Vec<String> = spent
        .iter()
        .map(|(name, d)| format!("{name} {:.2} ms", ms(d)))
        .collect();
    format!("{}; {total:.2} ms in all", parts.join(", "))
}
