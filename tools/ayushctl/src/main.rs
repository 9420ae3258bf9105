//! `ayushctl`: the operator's command line for the Ayushman mesh.

mod bench;
mod import;
mod participants;
mod partners;
mod report;
mod seed;
mod up;

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use ayushman_platform::MeshService;
use ayushman_proto::{
    beneficiary::v1::{
        CoverageLevel, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::YearMonth,
    facility::v1::facility_registry_service_client::FacilityRegistryServiceClient,
    portability::v1::portability_service_client::PortabilityServiceClient,
    preauth::v1::preauth_service_client::PreauthServiceClient,
};
use clap::{Parser, Subcommand};
use tonic::transport::Channel;

#[derive(Parser)]
#[command(name = "ayushctl", version, about = "Operate the Ayushman mesh")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start all seven services locally with demo data, wait until each is SERVING, stop them all on Ctrl-C.
    Up {
        /// Folder holding the service binaries; defaults to ayushctl's own folder.
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Folder for the services' SQLite files and logs.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Added to every default port (e.g. 100 puts the beneficiary registry on 50151).
        #[arg(long, default_value_t = 0)]
        port_offset: u16,
        /// Start with empty databases instead of the demo data.
        #[arg(long)]
        no_seed: bool,
    },
    /// Load the demo dataset into a running mesh (safe to repeat).
    Seed {
        /// How much of the districts to load.
        #[arg(long, value_enum, default_value = "small")]
        scale: seed::beneficiaries::Scale,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Stream an eligibility list (CSV) into the beneficiary registry with a progress bar. Header:
    /// source_list,family_id,member_name,gender,year_of_birth,relation,state_code,district_code,
    /// block_code,village_code,eligibility_category,aadhaar,existing_card_number
    Import {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Register the facilities of a CSV file (header: hfr_id,name,facility_type,ownership,
    /// state_code,district_code,block_code,beds,abdm_enabled,society_name,society_account_id).
    ImportFacilities {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Add or replace catalogue packages from a CSV (header: package_code,name,specialty_code,
    /// base_rate_rupees,reserved_for_public,expected_stay_days,state_rates as 22:85000;08:94500).
    ImportPackages {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Create or change schemes from a CSV (header: scheme_code,name,sponsor,state_code,
    /// cover_kind,cover_rupees,policy_year_start,eligibility_categories,enrolments,
    /// portability_allowed,tops_up_scheme_code,minimum_age_years,draw_order,
    /// reserved_package_codes,network_scheme_code; lists separated by semicolons).
    ImportSchemes {
        /// The CSV file, e.g. docs/examples/schemes.csv.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Create or replace areas from a CSV, parents first (header: code,level,name,parent_code;
    /// level is DISTRICT, SUB_DIVISION, BLOCK or VILLAGE), e.g. docs/examples/locations.csv.
    ImportLocations {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Create or replace card logins from a CSV (header: login_id,name,kind,centre_id,
    /// district_code,block_code,status,fee_per_card_rupees; kind is CHOICE_CENTRE, CSC or
    /// OTHER; status ACTIVE or INACTIVE), e.g. docs/examples/operators.csv.
    ImportOperators {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Create or replace mobilisers (self-help-group workers) from a CSV (header:
    /// mobiliser_id,name,group_name,district_code,block_code,active), e.g.
    /// docs/examples/mobilisers.csv.
    ImportMobilisers {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// The NHCX participant registry: hospitals and payers on the exchange.
    Participant {
        #[command(subcommand)]
        action: Participant,
    },
    /// Print a report as a table.
    Report {
        #[command(subcommand)]
        report: Report,
    },
    /// Run the benchmarks against the release binaries and update docs/BENCHMARKS.md.
    Bench {
        /// Smaller sizes and shorter runs (under two minutes).
        #[arg(long)]
        quick: bool,
        /// PostgreSQL server for the PostgreSQL variants (e.g. postgres://postgres@127.0.0.1:5432/test).
        #[arg(long)]
        postgres: Option<String>,
        /// The report to update.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        report: PathBuf,
    },
    /// The benchmark's baseline server: bare tonic, health only. Prints its address.
    #[command(hide = true)]
    BenchEcho,
    /// B1 alone, for profiling: VerifyEligibility at its peak, and the registry's
    /// health check through the same server stack for comparison.
    #[command(hide = true)]
    BenchVerify {
        /// Seconds of each measured run.
        #[arg(long, default_value_t = 10)]
        secs: u64,
    },
    /// B2 alone, for profiling: RaisePreauth end to end on SQLite, or on PostgreSQL when given.
    #[command(hide = true)]
    BenchPreauth {
        /// PostgreSQL server to run on instead of SQLite.
        #[arg(long)]
        postgres: Option<String>,
        /// Seconds of the measured run.
        #[arg(long, default_value_t = 10)]
        secs: u64,
    },
    /// B3 alone, for profiling: a generated list through ImportEligibility into
    /// SQLite, then into PostgreSQL and through `psql \copy` when given.
    #[command(hide = true)]
    BenchImport {
        /// PostgreSQL server for the PostgreSQL import and the `\copy` reference.
        #[arg(long)]
        postgres: Option<String>,
        /// Rows in the list.
        #[arg(long, default_value_t = 6_00_000)]
        rows: u64,
    },
}

#[derive(Subcommand)]
enum Report {
    /// Eligible, carded, self-carded and ABHA-linked people by state, district,
    /// sub-division, block or village.
    Coverage {
        /// Only this state (census code, e.g. 10).
        #[arg(long)]
        state: Option<String>,
        /// Only this district (e.g. 10-230 for Saran).
        #[arg(long)]
        district: Option<String>,
        /// Rows per state, district, sub-division, block or village.
        #[arg(long, value_enum, default_value = "district")]
        level: Level,
        /// Only people this scheme covers (its policy year then decides the comparison).
        #[arg(long)]
        scheme: Option<String>,
        /// Compare cards held at the end of two policy years, e.g. 2021,2022 for 2021-22 and 2022-23.
        #[arg(long, value_parser = parse_years)]
        compare_years: Option<(i32, i32)>,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Card logins by kind (active logins, cards per login per day, fees).
    Operators {
        /// Only this district.
        #[arg(long)]
        district: Option<String>,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Also list every login's cards per centre and day.
        #[arg(long)]
        by_login: bool,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// A card drive's progress (the newest campaign if no id is given): by day, or with
    /// --daily the district's daily report by sub-division and block.
    Campaign {
        /// The campaign.
        #[arg(long)]
        campaign_id: Option<String>,
        /// The district's daily report: cards today and to date by sub-division and block,
        /// camps whose operator did not come, best and weakest blocks, mobilisers.
        #[arg(long)]
        daily: bool,
        /// The day to report, YYYY-MM-DD [default: today].
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Also write the daily report's sub-divisions and blocks to this CSV file.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// OPD registrations and the ABHA Scan & Share share, by facility and month.
    Opd {
        /// A district code, e.g. 22-414 (Bastar).
        #[arg(long, conflicts_with = "hfr_id", required_unless_present = "hfr_id")]
        district: Option<String>,
        /// One facility's HFR id.
        #[arg(long)]
        hfr_id: Option<String>,
        /// First month, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        from: YearMonth,
        /// Last month, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        to: YearMonth,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Claims by district, month and ownership: amounts, days to pay, penalties.
    Claims {
        /// Only this district (e.g. 22-414).
        #[arg(long)]
        district: Option<String>,
        /// First month, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        from: YearMonth,
        /// Last month, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        to: YearMonth,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// Out-of-state spend: the share of a home state's claim payments that went to
    /// hospitals in other states, by month, treating state and specialty.
    Portability {
        /// The paying home state (census code, e.g. 10 for Bihar).
        #[arg(
            long,
            conflicts_with = "treating_state",
            required_unless_present = "treating_state"
        )]
        home_state: Option<String>,
        /// Instead: what this state's hospitals were paid by other states.
        #[arg(long)]
        treating_state: Option<String>,
        /// First month of payment, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        from: YearMonth,
        /// Last month of payment, YYYY-MM.
        #[arg(long, value_parser = report::parse_month)]
        to: YearMonth,
        #[command(flatten)]
        endpoints: Endpoints,
    },
}

/// Grouping of the coverage report.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Level {
    State,
    District,
    SubDivision,
    Block,
    Village,
}

impl From<Level> for CoverageLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::State => Self::State,
            Level::District => Self::District,
            Level::SubDivision => Self::SubDivision,
            Level::Block => Self::Block,
            Level::Village => Self::Village,
        }
    }
}

/// `2021,2022` into the two years.
fn parse_years(text: &str) -> anyhow::Result<(i32, i32)> {
    let (first, second) = text
        .split_once(',')
        .context("give two years, e.g. 2021,2022")?;
    Ok((
        first.trim().parse().context("first year")?,
        second.trim().parse().context("second year")?,
    ))
}

#[derive(Subcommand)]
enum Participant {
    /// Register a participant, or replace the one with the same code.
    Register {
        /// Participant code on the exchange, e.g. 1000003538@hcx.
        #[arg(long)]
        code: String,
        /// Name, e.g. "Maharani District Hospital, Jagdalpur".
        #[arg(long)]
        name: String,
        /// A payer or TPA instead of a hospital.
        #[arg(long)]
        payer: bool,
        /// The hospital's HFR id (required for a hospital).
        #[arg(long, default_value = "")]
        hfr_id: String,
        /// Base URL of its callback endpoints, e.g. https://his.example.org/hcx.
        #[arg(long)]
        endpoint: String,
        /// PEM file of its X.509 certificate or RSA public key.
        #[arg(long)]
        certificate: PathBuf,
        /// Register it refused until made active again.
        #[arg(long)]
        inactive: bool,
        #[command(flatten)]
        endpoints: Endpoints,
    },
    /// List every participant.
    List {
        #[command(flatten)]
        endpoints: Endpoints,
    },
}

/// Where the services are: on localhost at their default ports shifted by
/// `--port-offset` (as `ayushctl up --port-offset` starts them), unless a
/// service's URL is given.
#[derive(clap::Args)]
struct Endpoints {
    /// Added to every default port (e.g. 100 reaches the beneficiary registry on 50151).
    #[arg(long, default_value_t = 0)]
    port_offset: u16,
    /// The beneficiary registry [default: http://127.0.0.1:50051].
    #[arg(long)]
    beneficiary_url: Option<String>,
    /// The facility registry [default: http://127.0.0.1:50052].
    #[arg(long)]
    facility_url: Option<String>,
    /// The portability service [default: http://127.0.0.1:50055].
    #[arg(long)]
    portability_url: Option<String>,
    /// The preauth service [default: http://127.0.0.1:50053].
    #[arg(long)]
    preauth_url: Option<String>,
    /// The claims service [default: http://127.0.0.1:50054].
    #[arg(long)]
    claims_url: Option<String>,
    /// The NHCX service [default: http://127.0.0.1:50056].
    #[arg(long)]
    nhcx_url: Option<String>,
}

/// A client stream that may run for as long as a district's list takes: its
/// deadline is hours, not the services' default for calls that set none.
fn streaming<S>(stream: S) -> tonic::Request<S> {
    let mut request = tonic::Request::new(stream);
    request.set_timeout(std::time::Duration::from_secs(4 * 3600));
    request
}

async fn connect(url: &str, what: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())?
        .connect()
        .await
        .with_context(|| format!("cannot reach the {what} at {url}"))
}

impl Endpoints {
    /// Each service at the URL `url` gives.
    fn at(url: impl Fn(MeshService) -> String) -> Self {
        Self {
            port_offset: 0,
            beneficiary_url: Some(url(MeshService::BeneficiaryRegistry)),
            facility_url: Some(url(MeshService::FacilityRegistry)),
            portability_url: Some(url(MeshService::Portability)),
            preauth_url: Some(url(MeshService::Preauth)),
            claims_url: Some(url(MeshService::Claims)),
            nhcx_url: Some(url(MeshService::Nhcx)),
        }
    }

    /// Where `service` is.
    fn url(&self, service: MeshService) -> String {
        let given = match service {
            MeshService::BeneficiaryRegistry => &self.beneficiary_url,
            MeshService::FacilityRegistry => &self.facility_url,
            MeshService::Portability => &self.portability_url,
            MeshService::Preauth => &self.preauth_url,
            MeshService::Claims => &self.claims_url,
            MeshService::Nhcx => &self.nhcx_url,
            MeshService::Gateway => &None,
        };
        given.clone().unwrap_or_else(|| {
            format!(
                "http://127.0.0.1:{}",
                service.default_port().saturating_add(self.port_offset)
            )
        })
    }

    async fn beneficiary(&self) -> anyhow::Result<BeneficiaryRegistryServiceClient<Channel>> {
        let url = self.url(MeshService::BeneficiaryRegistry);
        let channel = connect(&url, "beneficiary registry").await?;
        Ok(BeneficiaryRegistryServiceClient::new(channel)
            .max_decoding_message_size(64 * 1024 * 1024))
    }

    async fn facility(&self) -> anyhow::Result<FacilityRegistryServiceClient<Channel>> {
        Ok(FacilityRegistryServiceClient::new(
            connect(
                &self.url(MeshService::FacilityRegistry),
                "facility registry",
            )
            .await?,
        ))
    }

    async fn portability(&self) -> anyhow::Result<PortabilityServiceClient<Channel>> {
        Ok(PortabilityServiceClient::new(
            connect(&self.url(MeshService::Portability), "portability service").await?,
        ))
    }

    async fn claims(
        &self,
    ) -> anyhow::Result<
        ayushman_proto::claims::v1::claims_service_client::ClaimsServiceClient<Channel>,
    > {
        Ok(
            ayushman_proto::claims::v1::claims_service_client::ClaimsServiceClient::new(
                connect(&self.url(MeshService::Claims), "claims service").await?,
            ),
        )
    }

    async fn nhcx(&self) -> anyhow::Result<Channel> {
        connect(&self.url(MeshService::Nhcx), "NHCX service").await
    }

    async fn preauth(&self) -> anyhow::Result<PreauthServiceClient<Channel>> {
        Ok(PreauthServiceClient::new(
            connect(&self.url(MeshService::Preauth), "preauth service").await?,
        ))
    }

    /// Loads what a preauth needs (facilities, agreements, people, packages),
    /// quietly: the benchmark's dataset.
    async fn seed_for_preauths(&self) -> anyhow::Result<()> {
        seed::facilities::seed(&mut self.facility().await?).await?;
        seed::portability::seed(&mut self.portability().await?).await?;
        seed::schemes::seed(&mut self.beneficiary().await?).await?;
        seed::beneficiaries::seed(
            &mut self.beneficiary().await?,
            seed::beneficiaries::Scale::Small,
        )
        .await?;
        seed::packages::seed(&mut self.preauth().await?).await?;
        Ok(())
    }

    /// Loads the whole demo dataset, service by service.
    async fn seed(&self, scale: seed::beneficiaries::Scale) -> anyhow::Result<()> {
        let facilities = seed::facilities::seed(&mut self.facility().await?)
            .await
            .context("seeding the facility registry")?;
        println!("  {facilities}");
        let portability = seed::portability::seed(&mut self.portability().await?)
            .await
            .context("seeding portability")?;
        println!("  {portability}");
        let schemes = seed::schemes::seed(&mut self.beneficiary().await?)
            .await
            .context("seeding the scheme master")?;
        println!("  schemes: {}", schemes.join(", "));
        let people = seed::beneficiaries::seed(&mut self.beneficiary().await?, scale)
            .await
            .context("seeding the beneficiary registry")?;
        println!("  {people}");
        let drives = seed::drives::seed(&mut self.beneficiary().await?, scale)
            .await
            .context("seeding the card drives")?;
        println!("  {drives}");
        let packages = seed::packages::seed(&mut self.preauth().await?)
            .await
            .context("seeding the package catalogue")?;
        println!("  preauth: {packages} packages in the catalogue");
        let claims = seed::claims::seed(&mut self.claims().await?, scale)
            .await
            .context("seeding the claims history")?;
        println!("  {claims}");
        Ok(())
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up {
            bin_dir,
            data_dir,
            port_offset,
            no_seed,
        } => {
            up::run(up::Options {
                bin_dir,
                data_dir,
                port_offset,
                seed: !no_seed,
            })
            .await
        }
        Command::Seed { scale, endpoints } => endpoints.seed(scale).await,
        Command::Participant { action } => match action {
            Participant::Register {
                code,
                name,
                payer,
                hfr_id,
                endpoint,
                certificate,
                inactive,
                endpoints,
            } => {
                participants::register(
                    endpoints.nhcx().await?,
                    participants::Registration {
                        code,
                        name,
                        payer,
                        hfr_id,
                        endpoint,
                        certificate,
                        inactive,
                    },
                )
                .await
            }
            Participant::List { endpoints } => participants::list(endpoints.nhcx().await?).await,
        },
        Command::Bench {
            quick,
            postgres,
            report,
        } => {
            bench::run(bench::Options {
                sizes: if quick {
                    bench::Sizes::QUICK
                } else {
                    bench::Sizes::FULL
                },
                postgres,
                report,
            })
            .await
        }
        Command::BenchEcho => bench::serve_echo().await,
        Command::BenchVerify { secs } => bench::verify_only(secs).await,
        Command::BenchPreauth { postgres, secs } => {
            bench::preauth_only(postgres.as_deref(), secs).await
        }
        Command::BenchImport { postgres, rows } => {
            bench::import_only(postgres.as_deref(), rows).await
        }
        Command::Import { file, endpoints } => {
            let summary = import::eligibility(endpoints.beneficiary().await?, &file).await?;
            println!(
                "{} rows: {} accepted, {} already registered, {} rejected; {} new families",
                summary.rows_received,
                summary.accepted,
                summary.duplicates,
                summary.rejected,
                summary.families_created
            );
            for reject in &summary.rejects {
                println!(
                    "  row {}: {} {}",
                    reject.row_number, reject.field, reject.reason
                );
            }
            anyhow::ensure!(
                summary.rejected == 0,
                "{} of {} rows were not imported",
                summary.rejected,
                summary.rows_received
            );
            Ok(())
        }
        Command::ImportFacilities { file, endpoints } => {
            let outcome = import::facilities(endpoints.facility().await?, &file).await?;
            outcome.print("registered")
        }
        Command::ImportSchemes { file, endpoints } => {
            let outcome = import::schemes(endpoints.beneficiary().await?, &file).await?;
            outcome.print("stored")
        }
        Command::ImportPackages { file, endpoints } => {
            let outcome = import::packages(endpoints.preauth().await?, &file).await?;
            outcome.print("stored")
        }
        Command::ImportLocations { file, endpoints } => {
            let outcome = import::areas(endpoints.beneficiary().await?, &file).await?;
            outcome.print("stored")
        }
        Command::ImportOperators { file, endpoints } => {
            let outcome = import::operators(endpoints.beneficiary().await?, &file).await?;
            outcome.print("stored")
        }
        Command::ImportMobilisers { file, endpoints } => {
            let outcome = import::mobilisers(endpoints.beneficiary().await?, &file).await?;
            outcome.print("stored")
        }
        Command::Report { report } => {
            let table = match report {
                Report::Coverage {
                    state,
                    district,
                    level,
                    scheme,
                    compare_years,
                    endpoints,
                } => {
                    report::coverage(
                        endpoints.beneficiary().await?,
                        report::CoverageArgs {
                            state_code: state,
                            district_code: district,
                            level: level.into(),
                            scheme_code: scheme,
                            compare_years,
                        },
                    )
                    .await?
                }
                Report::Operators {
                    district,
                    from,
                    to,
                    by_login,
                    endpoints,
                } => {
                    report::operators(endpoints.beneficiary().await?, district, from, to, by_login)
                        .await?
                }
                Report::Campaign {
                    campaign_id,
                    daily,
                    date,
                    csv,
                    endpoints,
                } => {
                    report::campaign(
                        endpoints.beneficiary().await?,
                        report::CampaignArgs {
                            campaign_id,
                            date,
                            daily,
                            csv,
                        },
                    )
                    .await?
                }
                Report::Opd {
                    district,
                    hfr_id,
                    from,
                    to,
                    endpoints,
                } => report::opd(endpoints.facility().await?, hfr_id, district, from, to).await?,
                Report::Portability {
                    home_state,
                    treating_state,
                    from,
                    to,
                    endpoints,
                } => {
                    let of = match (home_state, treating_state) {
                        (Some(state), _) => report::SpendOf::HomeState(state),
                        (None, state) => report::SpendOf::TreatingState(state.unwrap_or_default()),
                    };
                    report::portability(endpoints.claims().await?, of, from, to).await?
                }
                Report::Claims {
                    district,
                    from,
                    to,
                    endpoints,
                } => report::claims(endpoints.claims().await?, district, from, to).await?,
            };
            println!("{table}");
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ayushctl: {error:#}");
            ExitCode::FAILURE
        }
    }
}
