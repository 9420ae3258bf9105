//! The load generator: closed loop (a fixed number of callers, each sending its
//! next request as soon as the last is answered: the peak a service sustains)
//! and open loop (requests started on a schedule, whatever the answers do:
//! latency at a given load, measured from each request's scheduled start so a
//! slow answer cannot hide the queue behind it).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Requests answered OK.
    pub ok: u64,
    /// Requests answered with an error.
    pub errors: u64,
    /// Wall time of the measured part of the run.
    pub elapsed: Duration,
    /// Median latency of the OK answers.
    pub p50: Duration,
    /// 99th percentile latency of the OK answers.
    pub p99: Duration,
    /// The first error, to say why there were any.
    pub first_error: Option<String>,
}

impl Stats {
    /// OK answers per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// One request: given its sequence number, answers Ok or an error text.
pub trait Call: Clone + Send + Sync + 'static {
    fn call(&self, seq: u64) -> impl Future<Output = Result<(), String>> + Send;
}

struct Recorder {
    histogram: Histogram<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            ok: 0,
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, outcome: Result<(), String>, latency: Duration) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                let _ = self.histogram.record(micros.clamp(1, 60_000_000));
            }
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }

    fn merge(&mut self, other: Self) {
        let _ = self.histogram.add(&other.histogram);
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn stats(self, elapsed: Duration) -> Stats {
        let quantile = |q| Duration::from_micros(self.histogram.value_at_quantile(q));
        Stats {
            ok: self.ok,
            errors: self.errors,
            elapsed,
            p50: quantile(0.5),
            p99: quantile(0.99),
            first_error: self.first_error,
        }
    }
}

/// `concurrency` callers send back to back for `warmup` (not measured), then `duration`.
pub async fn closed_loop<C: Call>(
    call: C,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Stats {
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let measure_from = started + warmup;
    let stop_at = measure_from + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (call, seq) = (call.clone(), seq.clone());
            tokio::spawn(async move {
                let mut recorder = Recorder::new();
                loop {
                    let sent = Instant::now();
                    if sent >= stop_at {
                        break;
                    }
                    let outcome = call.call(seq.fetch_add(1, Ordering::Relaxed)).await;
                    if sent >= measure_from {
                        recorder.record(outcome, sent.elapsed());
                    }
                }
                recorder
            })
        })
        .collect();
    let mut total = Recorder::new();
    for worker in workers {
        if let Ok(recorder) = worker.await {
            total.merge(recorder);
        }
    }
    total.stats(duration)
}

/// Requests started at `rate` per second for `duration`, each timed from its
/// scheduled start.
pub async fn open_loop<C: Call>(call: C, rate: f64, duration: Duration) -> Stats {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total_requests = (duration.as_secs_f64() * rate) as u64;
    let started = Instant::now();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..total_requests {
        let scheduled = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (call, done_tx) = (call.clone(), done_tx.clone());
        tokio::spawn(async move {
            let outcome = call.call(n).await;
            let _ = done_tx.send((outcome, scheduled.elapsed()));
        });
    }
    drop(done_tx);
    let mut recorder = Recorder::new();
    while let Some((outcome, latency)) = done_rx.recv().await {
        recorder.record(outcome, latency);
    }
    recorder.stats(started.elapsed())
}
