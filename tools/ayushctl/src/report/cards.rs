//! Card reports: coverage by area and policy year, card logins by kind, and
//! a campaign's daily report (also as CSV for the district's e-mail).

use std::path::Path;

use anyhow::Context;
use ayushman_domain::{Money, format_count};
use ayushman_platform::convert::date_to_proto;
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, CoverageLevel,
        beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    common::v1::DateRange,
};
use chrono::NaiveDate;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use tonic::transport::Channel;

use super::{day_label, percent, right_align, share_basis_points, state_name};

type Client = BeneficiaryRegistryServiceClient<Channel>;

fn refused(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", status.message())
}

/// What a coverage report covers.
pub struct CoverageArgs {
    pub state_code: Option<String>,
    pub district_code: Option<String>,
    pub level: CoverageLevel,
    pub scheme_code: Option<String>,
    /// Two policy years to compare, by the year each starts in.
    pub compare_years: Option<(i32, i32)>,
}

/// `Sonpur (10-230-SD3)`, or the code alone when the area has no name.
fn area(name: &str, code: &str) -> String {
    match (name.is_empty(), code.is_empty()) {
        (_, true) => "(not in the area master)".into(),
        (true, false) => code.to_owned(),
        (false, false) => format!("{name} ({code})"),
    }
}

/// Eligible, carded and ABHA-linked people by state, district, sub-division,
/// block or village; with two policy years, the cards held at each year's end.
pub async fn coverage(mut client: Client, args: CoverageArgs) -> anyhow::Result<String> {
    let report = client
        .coverage_report(pb::CoverageReportRequest {
            state_code: args.state_code.unwrap_or_default(),
            district_code: args.district_code.unwrap_or_default(),
            level: args.level as i32,
            scheme_code: args.scheme_code.unwrap_or_default(),
            compare_years: args.compare_years.map(|(first_year, second_year)| {
                pb::PolicyYearComparison {
                    first_year,
                    second_year,
                }
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let years = report.total.as_ref().and_then(|t| t.year_on_year.clone());
    let place = match args.level {
        CoverageLevel::State => "State",
        CoverageLevel::SubDivision => "Sub-division",
        CoverageLevel::Block => "Block",
        CoverageLevel::Village => "Village",
        CoverageLevel::District | CoverageLevel::Unspecified => "District",
    };
    let mut header = vec![
        place.to_owned(),
        "Eligible".into(),
        "Carded".into(),
        "% carded".into(),
        "Self-service".into(),
        "ABHA linked".into(),
    ];
    if let Some(years) = &years {
        header.push(format!("Carded by end {}", years.first_year));
        header.push(format!("Carded by end {}", years.second_year));
        header.push("Change".into());
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header);
    let label = |row: &pb::CoverageRow| match args.level {
        CoverageLevel::State => state_name(&row.state_code),
        CoverageLevel::SubDivision => area(&row.name, &row.sub_division_code),
        CoverageLevel::Block => area(&row.name, &row.block_code),
        CoverageLevel::Village => area(&row.name, &row.village_code),
        CoverageLevel::District | CoverageLevel::Unspecified => area(&row.name, &row.district_code),
    };
    let mut add = |row: &pb::CoverageRow, label: String| {
        let mut cells = vec![
            label,
            format_count(row.eligible),
            format_count(row.carded),
            percent(row.carded_basis_points),
            format_count(row.self_service),
            format_count(row.abha_linked),
        ];
        if let Some(y) = &row.year_on_year {
            cells.push(format_count(y.carded_by_first_year_end));
            cells.push(format_count(y.carded_by_second_year_end));
            cells.push(format!("{:+}", y.change));
        }
        table.add_row(cells);
    };
    for row in &report.rows {
        add(row, label(row));
    }
    if let Some(total) = &report.total {
        add(total, "Total".into());
    }
    right_align(&mut table, 1..9);
    Ok(table.to_string())
}

/// Card logins by kind (active and inactive in the master, how many made
/// cards, cards per login per day, fees) and, with `by_login`, every
/// login's cards per centre and day.
pub async fn operators(
    mut client: Client,
    district_code: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by_login: bool,
) -> anyhow::Result<String> {
    let report = client
        .operator_activity_report(pb::OperatorActivityReportRequest {
            district_code: district_code.unwrap_or_default(),
            dates: Some(DateRange {
                start_date: from.map(date_to_proto),
                end_date: to.map(date_to_proto),
            }),
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner();
    let mut kinds = Table::new();
    kinds.load_style(UTF8_FULL_CONDENSED).set_header([
        "Kind of login",
        "Active logins",
        "Inactive",
        "Made cards",
        "Cards",
        "Cards per login per day",
        "Fees",
    ]);
    for k in &report.by_kind {
        let kind = match pb::OperatorKind::try_from(k.kind).unwrap_or_default() {
            pb::OperatorKind::ChoiceCentre => "Choice centres",
            pb::OperatorKind::Csc => "CSC operators",
            pb::OperatorKind::Other | pb::OperatorKind::Unspecified => "Others",
        };
        kinds.add_row([
            kind.to_owned(),
            format_count(k.active_logins),
            format_count(k.inactive_logins),
            format_count(k.logins_that_carded),
            format_count(k.cards),
            format!("{:.1}", k.cards_per_login_per_day),
            Money::from_paise(k.fees_paise).to_string(),
        ]);
    }
    right_align(&mut kinds, 1..7);
    let mut text = format!(
        "{kinds}\nSelf-service cards: {}; cards by logins not in the operator master: {}; {} cards in all by {} logins",
        format_count(report.self_service_cards),
        format_count(report.unregistered_cards),
        format_count(report.total_cards),
        format_count(report.active_operators),
    );
    if by_login {
        let mut logins = Table::new();
        logins
            .load_style(UTF8_FULL_CONDENSED)
            .set_header(["Day", "Login", "Centre", "District", "Cards"]);
        for row in &report.rows {
            let login = if row.self_service {
                format!("{} (self-service)", row.operator_id)
            } else {
                row.operator_id.clone()
            };
            logins.add_row([
                day_label(row.date),
                login,
                row.centre_id.clone(),
                row.district_code.clone(),
                format_count(row.cards_issued),
            ]);
        }
        right_align(&mut logins, 4..5);
        text = format!("{text}\n\n{logins}");
    }
    Ok(text)
}

/// The newest campaign's id when none is given.
async fn campaign_id(client: &mut Client, given: Option<String>) -> anyhow::Result<String> {
    if let Some(id) = given {
        return Ok(id);
    }
    client
        .list_campaigns(pb::ListCampaignsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner()
        .campaigns
        .first()
        .map(|c| c.campaign_id.clone())
        .context("no campaign yet; create one or pass --campaign-id")
}

/// What to print of a campaign.
pub struct CampaignArgs {
    pub campaign_id: Option<String>,
    /// The day reported; today when not given.
    pub date: Option<NaiveDate>,
    /// The district officer's daily report rather than the day-by-day series.
    pub daily: bool,
    /// Also write the daily report's area table here, as CSV.
    pub csv: Option<std::path::PathBuf>,
}

/// A campaign's progress: its day-by-day series, or (`daily`) the report a
/// district programme coordinator sends each evening.
pub async fn campaign(mut client: Client, args: CampaignArgs) -> anyhow::Result<String> {
    let id = campaign_id(&mut client, args.campaign_id).await?;
    let progress = client
        .campaign_progress(pb::CampaignProgressRequest {
            campaign_id: id,
            date: args.date.map(date_to_proto),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if let Some(path) = &args.csv {
        write_csv(&progress, path)?;
    }
    if args.daily || args.csv.is_some() {
        Ok(daily(&progress))
    } else {
        Ok(series(&progress))
    }
}

fn series(progress: &pb::CampaignProgressResponse) -> String {
    let campaign = progress.campaign.clone().unwrap_or_default();
    let mut days = Table::new();
    days.load_style(UTF8_FULL_CONDENSED).set_header([
        "Day",
        "Cards",
        "Camps active",
        "Run by stand-in",
    ]);
    for day in &progress.days {
        days.add_row([
            day_label(day.date),
            format_count(day.cards_issued),
            format_count(day.active_camps),
            format_count(day.camps_run_by_standby),
        ]);
    }
    right_align(&mut days, 1..4);
    format!(
        "{} ({}, district {})\n{} cards made for the campaign of a target of {}; district carded {} of {} ({})\n\nBy day\n{days}\n\nBy sub-division and block: ayushctl report campaign --daily",
        campaign.name,
        campaign.campaign_id,
        campaign.district_code,
        format_count(progress.cards_issued),
        format_count(campaign.target_cards),
        format_count(progress.carded_now),
        format_count(progress.eligible),
        percent(progress.carded_basis_points),
    )
}

/// The sub-division's name, or its code.
fn sub_division_name(progress: &pb::CampaignProgressResponse, code: &str) -> String {
    progress
        .sub_divisions
        .iter()
        .find(|s| s.sub_division_code == code)
        .map(|s| area(&s.name, code))
        .unwrap_or_else(|| area("", code))
}

fn daily(progress: &pb::CampaignProgressResponse) -> String {
    let campaign = progress.campaign.clone().unwrap_or_default();
    let target: i64 = campaign.target_cards;
    let mut subs = Table::new();
    subs.load_style(UTF8_FULL_CONDENSED).set_header([
        "Sub-division",
        "Eligible",
        "Carded at start",
        "Cards today",
        "Cards to date",
        "Target",
        "% of target",
        "Carded now",
        "% carded",
    ]);
    for s in &progress.sub_divisions {
        subs.add_row([
            area(&s.name, &s.sub_division_code),
            format_count(s.eligible),
            format_count(s.carded_at_start),
            format_count(s.cards_today),
            format_count(s.cards_to_date),
            format_count(s.target_cards),
            percent(share_basis_points(s.cards_to_date, s.target_cards)),
            format_count(s.carded_now),
            percent(s.carded_basis_points),
        ]);
    }
    right_align(&mut subs, 1..9);
    let mut blocks = Table::new();
    blocks.load_style(UTF8_FULL_CONDENSED).set_header([
        "Sub-division",
        "Block",
        "Nodal officer",
        "Cards today",
        "Cards to date",
        "Target",
        "% of target",
        "% carded",
    ]);
    for b in &progress.blocks {
        let officer = b.nodal_officer.as_ref().map_or_else(String::new, |o| {
            format!("{}, {} {}", o.name, o.designation, o.mobile)
                .trim()
                .to_owned()
        });
        blocks.add_row([
            sub_division_name(progress, &b.sub_division_code),
            area(&b.name, &b.block_code),
            officer,
            format_count(b.cards_today),
            format_count(b.cards_to_date),
            format_count(b.target_cards),
            percent(share_basis_points(b.cards_to_date, b.target_cards)),
            percent(b.carded_basis_points),
        ]);
    }
    right_align(&mut blocks, 3..8);
    let mut camps = Table::new();
    camps.load_style(UTF8_FULL_CONDENSED).set_header([
        "Camp",
        "Venue",
        "Block",
        "Assigned operator",
        "Stood in",
        "Cards",
    ]);
    for c in &progress.camps_without_operator {
        camps.add_row([
            c.camp_id.clone(),
            c.venue.clone(),
            c.block_code.clone(),
            c.assigned_operator_id.clone(),
            if c.stood_in.is_empty() {
                "nobody".into()
            } else {
                c.stood_in.join(", ")
            },
            format_count(c.cards_today),
        ]);
    }
    right_align(&mut camps, 5..6);
    let mut mobilisers = Table::new();
    mobilisers.load_style(UTF8_FULL_CONDENSED).set_header([
        "Mobiliser",
        "Self-help group",
        "Families",
        "Cards",
    ]);
    for m in progress.mobilisers.iter().take(10) {
        mobilisers.add_row([
            area(&m.name, &m.mobiliser_id),
            m.group_name.clone(),
            format_count(m.families),
            format_count(m.cards),
        ]);
    }
    right_align(&mut mobilisers, 2..4);
    let block_names = |codes: &[String]| {
        codes
            .iter()
            .map(|code| {
                progress
                    .blocks
                    .iter()
                    .find(|b| &b.block_code == code)
                    .map_or_else(
                        || code.clone(),
                        |b| format!("{} {}", area(&b.name, code), percent(b.carded_basis_points)),
                    )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let camps = if progress.camps_without_operator.is_empty() {
        "Every camp's assigned operator made cards.".to_owned()
    } else {
        format!("Camps whose assigned operator made no card\n{camps}")
    };
    format!(
        "{name} ({id}), district {district}\nDaily report for {day}\n\
         Cards today: {today} (self-service {own_today}); to date: {to_date} (self-service {own_to_date}) of a target of {target} ({of_target})\n\
         District carded: {now} of {eligible} ({share}); at the start {start}\n\n\
         By sub-division\n{subs}\n\nBy block\n{blocks}\n\n\
         Best blocks: {top}\nWeakest blocks: {bottom}\n\n{camps}\n\nMobilisers (most families first)\n{mobilisers}",
        name = campaign.name,
        id = campaign.campaign_id,
        district = campaign.district_code,
        day = day_label(progress.date),
        today = format_count(progress.cards_today),
        own_today = format_count(progress.self_service_today),
        to_date = format_count(progress.cards_to_date),
        own_to_date = format_count(progress.self_service_to_date),
        target = format_count(target),
        of_target = percent(share_basis_points(progress.cards_to_date, target)),
        now = format_count(progress.carded_now),
        eligible = format_count(progress.eligible),
        share = percent(progress.carded_basis_points),
        start = format_count(progress.carded_at_start),
        top = block_names(&progress.top_blocks),
        bottom = block_names(&progress.bottom_blocks),
    )
}

/// The daily report's areas as CSV: the district, each sub-division and each
/// block, one line each.
fn write_csv(progress: &pb::CampaignProgressResponse, path: &Path) -> anyhow::Result<()> {
    let mut out =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    out.write_record([
        "date",
        "level",
        "sub_division",
        "code",
        "name",
        "nodal_officer",
        "eligible",
        "carded_at_start",
        "cards_today",
        "cards_to_date",
        "self_service_to_date",
        "target_cards",
        "carded_now",
        "carded_percent",
    ])?;
    let day = day_label(progress.date);
    let percent_of = |part: i64, whole: i64| {
        let bps = share_basis_points(part, whole);
        format!("{}.{:02}", bps / 100, bps % 100)
    };
    let campaign = progress.campaign.clone().unwrap_or_default();
    out.write_record([
        day.clone(),
        "district".into(),
        String::new(),
        campaign.district_code.clone(),
        String::new(),
        String::new(),
        progress.eligible.to_string(),
        progress.carded_at_start.to_string(),
        progress.cards_today.to_string(),
        progress.cards_to_date.to_string(),
        progress.self_service_to_date.to_string(),
        campaign.target_cards.to_string(),
        progress.carded_now.to_string(),
        percent_of(progress.carded_now, progress.eligible),
    ])?;
    for s in &progress.sub_divisions {
        out.write_record([
            day.clone(),
            "sub-division".into(),
            s.sub_division_code.clone(),
            s.sub_division_code.clone(),
            s.name.clone(),
            String::new(),
            s.eligible.to_string(),
            s.carded_at_start.to_string(),
            s.cards_today.to_string(),
            s.cards_to_date.to_string(),
            s.self_service_to_date.to_string(),
            s.target_cards.to_string(),
            s.carded_now.to_string(),
            percent_of(s.carded_now, s.eligible),
        ])?;
    }
    for b in &progress.blocks {
        out.write_record([
            day.clone(),
            "block".into(),
            b.sub_division_code.clone(),
            b.block_code.clone(),
            b.name.clone(),
            b.nodal_officer
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            b.eligible.to_string(),
            b.carded_at_start.to_string(),
            b.cards_today.to_string(),
            b.cards_to_date.to_string(),
            b.self_service_to_date.to_string(),
            b.target_cards.to_string(),
            b.carded_now.to_string(),
            percent_of(b.carded_now, b.eligible),
        ])?;
    }
    out.flush()?;
    Ok(())
}
