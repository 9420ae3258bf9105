//! The scenarios: B0 bare tonic baseline, B1 VerifyEligibility, B2 RaisePreauth
//! end to end (SQLite and PostgreSQL), B3 district-scale import against COPY,
//! B4 lookups as the registry grows, B5 the same preauths submitted over NHCX,
//! and each service's memory.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use ayushman_platform::MeshService;
use ayushman_proto::{
    beneficiary::v1::{
        NameQuery, SearchBeneficiariesRequest, VerifyEligibilityRequest,
        beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
        search_beneficiaries_request::Query,
    },
    facility::v1::{
        ListProfessionalsRequest, facility_registry_service_client::FacilityRegistryServiceClient,
    },
    preauth::v1::{
        PackageChoice, PreauthStatus, RaisePreauthRequest,
        preauth_service_client::PreauthServiceClient,
    },
};
use sea_orm::{ConnectionTrait, Database};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::{
    Options, Sizes, cpu, data,
    load::{self, Call, Stats},
    processes::{self, Echo, Service},
};

/// Connections the load generator opens to a service: enough that one
/// connection's I/O task is never the bottleneck on two cores.
const CONNECTIONS: usize = 4;
/// Callers in a closed-loop run.
const CONCURRENCY: usize = 64;
/// Callers of RaisePreauth, each a saga over four services.
const PREAUTH_CONCURRENCY: usize = 32;
/// Discarded start of every closed-loop run.
const WARMUP: Duration = Duration::from_secs(2);

/// Everything measured, for the report.
pub struct Results {
    pub baseline: Stats,
    pub verify_peak: Stats,
    pub verify_half: Stats,
    pub preauth: Vec<(&'static str, Stats)>,
    /// B2 by backend at half of its peak, offered on a fixed schedule.
    pub preauth_half: Vec<(&'static str, Stats)>,
    /// B5 by backend, measured on B2's mesh.
    pub nhcx: Vec<(&'static str, Stats)>,
    pub import: Vec<(&'static str, u64, f64)>,
    pub lookups: Vec<(u64, Stats, Stats)>,
    /// (service, idle KiB, peak KiB).
    pub memory: Vec<(String, u64, u64)>,
}

#[derive(Clone)]
struct Clients<T>(Arc<Vec<T>>);

impl<T: Clone> Clients<T> {
    async fn connect(url: &str, make: impl Fn(Channel) -> T) -> anyhow::Result<Self> {
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            let channel = Channel::from_shared(url.to_owned())?
                .tcp_nodelay(true)
                .connect()
                .await
                .with_context(|| format!("connect {url}"))?;
            clients.push(make(channel));
        }
        Ok(Self(Arc::new(clients)))
    }

    fn pick(&self, seq: u64) -> T {
        self.0[(seq % self.0.len() as u64) as usize].clone()
    }
}

#[derive(Clone)]
struct HealthCall(Clients<HealthClient<Channel>>);

impl Call for HealthCall {
    async fn call(&self, seq: u64) -> Result<(), String> {
        self.0
            .pick(seq)
            .check(HealthCheckRequest::default())
            .await
            .map(drop)
            .map_err(|s| s.to_string())
    }
}

#[derive(Clone)]
struct VerifyCall {
    clients: Clients<BeneficiaryRegistryServiceClient<Channel>>,
    people: u64,
}

impl Call for VerifyCall {
    async fn call(&self, seq: u64) -> Result<(), String> {
        // A large odd stride visits people all over the table, not one page.
        let person = seq.wrapping_mul(2_654_435_761) % self.people;
        self.clients
            .pick(seq)
            .verify_eligibility(VerifyEligibilityRequest {
                card_number: data::card(person),
                ..Default::default()
            })
            .await
            .map(drop)
            .map_err(|s| s.to_string())
    }
}

#[derive(Clone)]
struct SearchCall(Clients<BeneficiaryRegistryServiceClient<Channel>>);

impl Call for SearchCall {
    async fn call(&self, seq: u64) -> Result<(), String> {
        let name = data::FIRST_NAMES[(seq % data::FIRST_NAMES.len() as u64) as usize];
        self.0
            .pick(seq)
            .search_beneficiaries(SearchBeneficiariesRequest {
                query: Some(Query::Name(NameQuery {
                    name_prefix: name[..4].into(),
                    district_code: data::DISTRICT.into(),
                })),
                page_size: 20,
                ..Default::default()
            })
            .await
            .map(drop)
            .map_err(|s| s.to_string())
    }
}

/// The package every benchmark preauth asks for: coronary angiography at
/// ₹12,000, so that the demo district's families keep cover for about forty
/// preauths each (a ₹90,000 stent ran them dry within a run of 20,000).
pub(super) const BENCH_PACKAGE: &str = "MC003";

#[derive(Clone)]
struct RaiseCall {
    clients: Clients<PreauthServiceClient<Channel>>,
    cards: Arc<Vec<String>>,
    hfr_id: String,
    hpr_id: String,
    run: String,
}

impl RaiseCall {
    fn new_run() -> String {
        format!("bench-{}", ayushman_platform::ids::new_id("RUN"))
    }

    /// The same call under keys of a new run: each phase numbers its calls
    /// from zero, and the peak's keys again would measure repeats, which
    /// answer from the stored preauth instead of raising one.
    fn in_new_run(&self) -> Self {
        Self {
            run: Self::new_run(),
            ..self.clone()
        }
    }
}

impl Call for RaiseCall {
    async fn call(&self, seq: u64) -> Result<(), String> {
        let card = &self.cards[(seq % self.cards.len() as u64) as usize];
        let today =
            ayushman_platform::convert::date_to_proto(ayushman_platform::convert::today_in_india());
        let preauth = self
            .clients
            .pick(seq)
            .raise_preauth(RaisePreauthRequest {
                idempotency_key: format!("{}-{seq}", self.run),
                card_number: card.clone(),
                hfr_id: self.hfr_id.clone(),
                treating_hpr_id: self.hpr_id.clone(),
                packages: vec![PackageChoice {
                    package_code: BENCH_PACKAGE.into(),
                    add_on_codes: Vec::new(),
                }],
                admission_date: Some(today),
                ..Default::default()
            })
            .await
            .map_err(|s| s.to_string())?
            .into_inner()
            .preauth
            .ok_or("a reply without its preauth")?;
        // A refused preauth is cheaper than a raised one: counted as done it
        // would flatter the figure.
        if preauth.status() == PreauthStatus::Raised {
            Ok(())
        } else {
            Err(format!(
                "preauth {} is {}: {}",
                preauth.preauth_id,
                preauth.status().as_str_name(),
                preauth.failure_reason
            ))
        }
    }
}

fn progress(what: &str) {
    println!("{what}");
}

fn line(stats: &Stats) -> String {
    format!(
        "{:>9.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
        stats.throughput(),
        stats.p50.as_secs_f64() * 1e3,
        stats.p99.as_secs_f64() * 1e3,
        stats.errors
    )
}

fn require_no_errors(what: &str, stats: &Stats) -> anyhow::Result<()> {
    if stats.ok == 0 || stats.errors * 100 > stats.ok {
        bail!(
            "{what}: {} errors of {} calls; first: {}",
            stats.errors,
            stats.ok + stats.errors,
            stats.first_error.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}

/// A scratch folder for one scenario's SQLite files, removed with the value.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> anyhow::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("ayushman-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fresh PostgreSQL databases for one scenario, dropped afterwards.
struct PgDatabases {
    admin_url: String,
    names: Vec<String>,
}

impl PgDatabases {
    async fn create(admin_url: &str, names: &[&str]) -> anyhow::Result<Self> {
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("connect {admin_url}"))?;
        let mut created = Vec::new();
        for name in names {
            let database = format!("bench_{}_{}", name.replace('-', "_"), std::process::id());
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{database}\""))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{database}\""))
                .await?;
            created.push(database);
        }
        Ok(Self {
            admin_url: admin_url.to_owned(),
            names: created,
        })
    }

    /// The admin URL with its database swapped for the scenario's, its
    /// parameters (`?sslmode=…`) kept.
    fn url(&self, index: usize) -> String {
        let name = &self.names[index];
        ayushman_platform::db::url_of_database(&self.admin_url, name)
            .unwrap_or_else(|| format!("{}/{name}", self.admin_url))
    }

    async fn drop_all(self) {
        if let Ok(admin) = Database::connect(&self.admin_url).await {
            for name in &self.names {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            }
        }
    }
}

pub async fn run_all(options: &Options) -> anyhow::Result<Results> {
    let sizes = options.sizes;
    let run = Duration::from_secs(sizes.run_secs);
    let latency = Duration::from_secs(sizes.latency_secs);

    progress("B0  bare tonic unary RPC (grpc.health.v1 Check, no middleware)");
    let echo = Echo::start().await?;
    let baseline = load::closed_loop(
        HealthCall(Clients::connect(&echo.url(), HealthClient::new).await?),
        CONCURRENCY,
        WARMUP,
        run,
    )
    .await;
    require_no_errors("B0", &baseline)?;
    println!("    {}", line(&baseline));
    let mut memory = vec![(
        "baseline (bare tonic)".to_owned(),
        echo.memory().0,
        echo.memory().1,
    )];
    drop(echo);

    let (verify_peak, verify_half, lookups, registry_memory) =
        lookups_as_the_registry_grows(sizes, run, latency).await?;
    memory.push(registry_memory);

    let mut preauth = Vec::new();
    let mut preauth_half = Vec::new();
    let mut nhcx = Vec::new();
    let sqlite = raise_preauths("SQLite", None, run, latency).await?;
    preauth.push(("SQLite", sqlite.peak));
    preauth_half.push(("SQLite", sqlite.half));
    nhcx.push(("SQLite", sqlite.nhcx));
    memory.extend(sqlite.memory);
    if let Some(url) = &options.postgres {
        let postgres = raise_preauths("PostgreSQL", Some(url), run, latency).await?;
        preauth.push(("PostgreSQL", postgres.peak));
        preauth_half.push(("PostgreSQL", postgres.half));
        nhcx.push(("PostgreSQL", postgres.nhcx));
    }

    let import = import_at_district_scale(sizes.b3_rows, options.postgres.as_deref()).await?;

    Ok(Results {
        baseline,
        verify_peak,
        verify_half,
        preauth,
        preauth_half,
        nhcx,
        import,
        lookups,
        memory,
    })
}

/// B1's peak on a registry of the quick size, and the same server's health
/// check (its whole stack, no database).
pub async fn verify_alone(run: Duration) -> anyhow::Result<()> {
    let scratch = Scratch::new("verify")?;
    let registry =
        processes::start(MeshService::BeneficiaryRegistry, &scratch.0, None, &[]).await?;
    let clients = Clients::connect(&registry.url(), BeneficiaryRegistryServiceClient::new).await?;
    let people = Sizes::QUICK.b1_people;
    data::import(&mut clients.pick(0), 0, people, "bench-verify").await?;
    let processes = [registry.process()];
    let health = HealthCall(Clients::connect(&registry.url(), HealthClient::new).await?);
    let (health, spent) = closed_loop_costed(health, CONCURRENCY, run, &processes).await;
    println!("health {}", line(&health));
    println!("    CPU per call: {}", cpu::describe(&spent));
    let verify = VerifyCall { clients, people };
    let (peak, spent) = closed_loop_costed(verify, CONCURRENCY, run, &processes).await;
    println!("verify {}", line(&peak));
    println!("    CPU per call: {}", cpu::describe(&spent));
    Ok(())
}

/// A closed loop, and the CPU each of `processes` spent per call while it
/// was measured (after the warm-up).
async fn closed_loop_costed<C: Call>(
    call: C,
    concurrency: usize,
    run: Duration,
    processes: &[(String, u32)],
) -> (Stats, Vec<(String, Duration)>) {
    let (stats, before) = tokio::join!(load::closed_loop(call, concurrency, WARMUP, run), async {
        tokio::time::sleep(WARMUP).await;
        cpu::Sample::take(processes)
    });
    let spent = cpu::Sample::take(processes).per_call_since(&before, stats.ok + stats.errors);
    (stats, spent)
}

/// B2 (peak and half of it) and B5 on one backend, nothing else.
pub async fn raise_preauths_alone(postgres: Option<&str>, run: Duration) -> anyhow::Result<()> {
    let backend = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    raise_preauths(backend, postgres, run, run).await.map(drop)
}

/// B3 (and its `\copy` reference when PostgreSQL is given) at `rows`, nothing else.
pub async fn import_alone(postgres: Option<&str>, rows: u64) -> anyhow::Result<()> {
    import_at_district_scale(rows, postgres).await.map(drop)
}

type Lookups = (Stats, Stats, Vec<(u64, Stats, Stats)>, (String, u64, u64));

/// B1 at the first size, then B4 at every size of one growing registry.
async fn lookups_as_the_registry_grows(
    sizes: Sizes,
    run: Duration,
    latency: Duration,
) -> anyhow::Result<Lookups> {
    let scratch = Scratch::new("registry")?;
    let registry =
        processes::start(MeshService::BeneficiaryRegistry, &scratch.0, None, &[]).await?;
    let idle = registry.memory().0;
    let clients = Clients::connect(&registry.url(), |c| {
        BeneficiaryRegistryServiceClient::new(c).max_decoding_message_size(16 << 20)
    })
    .await?;
    let mut importer = clients.pick(0);
    let mut loaded = 0;
    let mut b1 = None;
    let mut lookups = Vec::new();
    for size in sizes.b4_people {
        progress(&format!("B4  importing people {loaded}..{size}"));
        let seconds = data::import(&mut importer, loaded, size, &format!("bench-{size}")).await?;
        println!(
            "    {} rows in {seconds:.1} s ({:.0} rows/s)",
            size - loaded,
            (size - loaded) as f64 / seconds
        );
        loaded = size;
        let verify = VerifyCall {
            clients: clients.clone(),
            people: size,
        };
        if b1.is_none() {
            progress(&format!("B1  VerifyEligibility peak, {size} people"));
            let peak = load::closed_loop(verify.clone(), CONCURRENCY, WARMUP, run).await;
            require_no_errors("B1", &peak)?;
            println!("    {}", line(&peak));
            let rate = peak.throughput() / 2.0;
            progress(&format!(
                "B1  VerifyEligibility at half of peak ({rate:.0}/s)"
            ));
            let half = load::open_loop(verify.clone(), rate, latency).await;
            require_no_errors("B1 half", &half)?;
            println!("    {}", line(&half));
            b1 = Some((peak, half));
        }
        // The same moderate rate at every size, so only the size changes.
        let rate = 500.0;
        progress(&format!("B4  lookups at {size} people, {rate}/s each"));
        let verified = load::open_loop(verify, rate, latency).await;
        require_no_errors("B4 verify", &verified)?;
        let searched = load::open_loop(SearchCall(clients.clone()), rate, latency).await;
        require_no_errors("B4 search", &searched)?;
        println!(
            "    verify {}\n    search {}",
            line(&verified),
            line(&searched)
        );
        lookups.push((size, verified, searched));
    }
    let (peak, half) = b1.context("B1 ran")?;
    let memory = (
        format!(
            "{} (B1/B4, {} people)",
            MeshService::BeneficiaryRegistry.name(),
            sizes.b4_people[2]
        ),
        idle,
        registry.memory().1,
    );
    Ok((peak, half, lookups, memory))
}

/// What B2 and B5 measured on one backend.
struct PreauthRun {
    /// B2 with its closed loop of callers.
    peak: Stats,
    /// B2 offered at half of that peak on a fixed schedule.
    half: Stats,
    /// B5 on the same mesh.
    nhcx: Stats,
    /// Each service's (name, idle KiB, peak KiB).
    memory: Vec<(String, u64, u64)>,
}

/// B2: RaisePreauth across the registry, facility registry, portability and
/// preauth on the demo dataset, at its peak and then at half of it for
/// `latency`; then B5, the same preauths submitted by a hospital over NHCX.
async fn raise_preauths(
    backend: &'static str,
    postgres: Option<&str>,
    run: Duration,
    latency: Duration,
) -> anyhow::Result<PreauthRun> {
    progress(&format!(
        "B2  RaisePreauth end to end on {backend}: starting the mesh"
    ));
    let scratch = Scratch::new(&format!("preauth-{backend}"))?;
    let order = [
        MeshService::BeneficiaryRegistry,
        MeshService::FacilityRegistry,
        MeshService::Portability,
        MeshService::Preauth,
        MeshService::Claims,
        MeshService::Gateway,
        MeshService::Nhcx,
    ];
    let databases = match postgres {
        Some(url) => Some(PgDatabases::create(url, &order.map(|s| s.name())).await?),
        None => None,
    };
    let mut running: Vec<Service> = Vec::new();
    for (index, service) in order.into_iter().enumerate() {
        let url = databases.as_ref().map(|d| d.url(index));
        let peers: Vec<&Service> = running
            .iter()
            .filter(|r| service.calls().contains(&r.service))
            .collect();
        let started = processes::start(service, &scratch.0, url.as_deref(), &peers).await?;
        running.push(started);
    }
    let idle: Vec<(String, u64)> = running
        .iter()
        .map(|s| (format!("{} (B2 mesh)", s.service.name()), s.memory().0))
        .collect();
    let endpoint = |service: MeshService| {
        running
            .iter()
            .find(|s| s.service == service)
            .map(Service::url)
            .unwrap_or_default()
    };
    progress("    loading the demo dataset");
    let endpoints = crate::Endpoints::at(endpoint);
    endpoints
        .seed_for_preauths()
        .await
        .context("seeding the demo dataset")?;
    // Saran's district hospital and its treating doctor.
    let hfr_id = "IN1030000001".to_owned();
    let hpr_id = FacilityRegistryServiceClient::new(
        Channel::from_shared(endpoints.url(MeshService::FacilityRegistry))?
            .connect()
            .await?,
    )
    .list_professionals(ListProfessionalsRequest {
        hfr_id: hfr_id.clone(),
        ..Default::default()
    })
    .await?
    .into_inner()
    .professionals
    .first()
    .map(|p| p.hpr_id.clone())
    .context("the Saran district hospital has no doctor")?;
    let cards = Arc::new(crate::seed::beneficiaries::saran_family_cards());
    let call = RaiseCall {
        clients: Clients::connect(
            &endpoints.url(MeshService::Preauth),
            PreauthServiceClient::new,
        )
        .await?,
        cards: cards.clone(),
        hfr_id: hfr_id.clone(),
        hpr_id: hpr_id.clone(),
        run: RaiseCall::new_run(),
    };
    call.call(u64::MAX)
        .await
        .map_err(|error| anyhow::anyhow!("a first RaisePreauth failed: {error}"))?;
    progress(&format!(
        "B2  RaisePreauth on {backend}, {PREAUTH_CONCURRENCY} callers"
    ));
    let processes: Vec<(String, u32)> = running.iter().map(Service::process).collect();
    let (stats, spent) =
        closed_loop_costed(call.clone(), PREAUTH_CONCURRENCY, run, &processes).await;
    require_no_errors("B2", &stats)?;
    println!("    {}", line(&stats));
    println!("    CPU per preauth: {}", cpu::describe(&spent));
    let rate = stats.throughput() / 2.0;
    progress(&format!(
        "B2  RaisePreauth on {backend} at half of peak ({rate:.0}/s)"
    ));
    let half = load::open_loop(call.in_new_run(), rate, latency).await;
    require_no_errors("B2 half", &half)?;
    println!("    {}", line(&half));
    let hospital =
        super::hospital::start(&endpoints.url(MeshService::Nhcx), cards, hfr_id, hpr_id).await?;
    hospital
        .call(u64::MAX)
        .await
        .map_err(|error| anyhow::anyhow!("a first NHCX preauth failed: {error}"))?;
    progress(&format!(
        "B5  NHCX preauth submit to on_submit on {backend}, {PREAUTH_CONCURRENCY} callers"
    ));
    let nhcx = load::closed_loop(hospital, PREAUTH_CONCURRENCY, WARMUP, run).await;
    require_no_errors("B5", &nhcx)?;
    println!("    {}", line(&nhcx));
    let memory = running
        .iter()
        .zip(idle)
        .map(|(service, (name, idle))| (name, idle, service.memory().1))
        .collect();
    drop(running);
    if let Some(databases) = databases {
        databases.drop_all().await;
    }
    Ok(PreauthRun {
        peak: stats,
        half,
        nhcx,
        memory,
    })
}

/// B3: a Saran-sized list through ImportEligibility into SQLite and
/// PostgreSQL, and the same rows through `psql \copy` into the registry's
/// own `beneficiaries` table (same columns, same indexes).
async fn import_at_district_scale(
    rows: u64,
    postgres: Option<&str>,
) -> anyhow::Result<Vec<(&'static str, u64, f64)>> {
    let mut results = Vec::new();
    progress(&format!("B3  importing {rows} people into SQLite"));
    {
        let scratch = Scratch::new("import-sqlite")?;
        let registry =
            processes::start(MeshService::BeneficiaryRegistry, &scratch.0, None, &[]).await?;
        let mut client = BeneficiaryRegistryServiceClient::new(
            Channel::from_shared(registry.url())?.connect().await?,
        );
        let seconds = data::import(&mut client, 0, rows, "bench-b3").await?;
        println!("    {seconds:.1} s ({:.0} rows/s)", rows as f64 / seconds);
        results.push(("ImportEligibility, SQLite", rows, seconds));
    }
    let Some(url) = postgres else {
        return Ok(results);
    };
    progress(&format!("B3  importing {rows} people into PostgreSQL"));
    {
        let scratch = Scratch::new("import-postgres")?;
        let databases = PgDatabases::create(url, &["import"]).await?;
        let registry = processes::start(
            MeshService::BeneficiaryRegistry,
            &scratch.0,
            Some(&databases.url(0)),
            &[],
        )
        .await?;
        let mut client = BeneficiaryRegistryServiceClient::new(
            Channel::from_shared(registry.url())?.connect().await?,
        );
        let seconds = data::import(&mut client, 0, rows, "bench-b3").await?;
        println!("    {seconds:.1} s ({:.0} rows/s)", rows as f64 / seconds);
        results.push(("ImportEligibility, PostgreSQL", rows, seconds));
        drop(registry);
        databases.drop_all().await;
    }
    progress(&format!("B3  psql \\copy of the same {rows} rows"));
    let seconds = copy_with_psql(url, rows).await?;
    println!("    {seconds:.1} s ({:.0} rows/s)", rows as f64 / seconds);
    results.push(("psql \\copy, PostgreSQL", rows, seconds));
    Ok(results)
}

async fn copy_with_psql(url: &str, rows: u64) -> anyhow::Result<f64> {
    let scratch = Scratch::new("copy")?;
    let csv = scratch.0.join("people.csv");
    data::write_csv(&csv, rows)?;
    let databases = PgDatabases::create(url, &["copy"]).await?;
    let target = databases.url(0);
    // The registry's own table, made by its migrations, with every index it has.
    let registry = processes::start(
        MeshService::BeneficiaryRegistry,
        &scratch.0,
        Some(&target),
        &[],
    )
    .await?;
    drop(registry);
    let started = Instant::now();
    psql(
        &target,
        &[
            "-c",
            &format!(
                "\\copy beneficiaries ({}) FROM '{}' WITH (FORMAT csv)",
                data::CSV_COLUMNS,
                csv_path(&csv)
            ),
        ],
    )?;
    let seconds = started.elapsed().as_secs_f64();
    databases.drop_all().await;
    Ok(seconds)
}

fn csv_path(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

fn psql(url: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = std::process::Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q"])
        .args(args)
        .output()
        .context("run psql (make bench installs postgresql-client)")?;
    if !output.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}
