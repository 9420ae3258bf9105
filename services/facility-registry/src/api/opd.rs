//! RecordOpdRegistration, ImportOpdRegistrations, OpdRegistrationReport.

use super::*;

/// Registrations written per transaction by ImportOpdRegistrations: large enough
/// to amortise the commit, small enough to keep memory flat.
const OPD_IMPORT_BATCH: usize = 1000;

/// The fields of one OPD registration, from either the single or the streamed RPC.
struct OpdFields<'a> {
    hfr_id: &'a str,
    visit_date: Option<&'a ayushman_proto::google::r#type::Date>,
    mode: i32,
    abha_number: &'a str,
    token_number: &'a str,
}

/// Validates an OPD registration, reporting every bad field.
fn opd_row(opd: &OpdFields<'_>) -> Result<opd_registration::Model, FieldViolations> {
    let mut violations = FieldViolations::new();
    let hfr = violations.check("hfr_id", HfrId::parse(opd.hfr_id));
    let visit = violations.check(
        "visit_date",
        convert::required_date("visit_date", opd.visit_date)
            .map_err(|_| "is required and must be a real date"),
    );
    if let Some(visit) = visit
        && visit > convert::today_in_india()
    {
        violations.add("visit_date", "is in the future");
    }
    let mode = violations.check(
        "mode",
        convert::required_enum::<pb::OpdRegistrationMode>("mode", opd.mode)
            .map_err(|_| "is required: ABHA Scan & Share or counter"),
    );
    let abha = match mode {
        Some(pb::OpdRegistrationMode::AbhaScanAndShare) => violations
            .check("abha_number", AbhaNumber::parse(opd.abha_number))
            .map(|a| a.to_string()),
        Some(_) if !opd.abha_number.trim().is_empty() => {
            violations.add(
                "abha_number",
                "is only recorded for ABHA Scan & Share registrations",
            );
            None
        }
        _ => None,
    };
    violations.require("token_number", opd.token_number);
    if !violations.is_empty() {
        return Err(violations);
    }
    let visit = visit.unwrap_or_default();
    Ok(opd_registration::Model {
        registration_id: format!("OPD-{}", uuid::Uuid::now_v7().simple()),
        hfr_id: hfr.map(|h| h.to_string()).unwrap_or_default(),
        visit_date: visit,
        visit_month: visit.year() * 100 + visit.month() as i32,
        mode: mode.unwrap_or_default().as_str_name().to_owned(),
        abha_number: abha.unwrap_or_default(),
        token_number: opd.token_number.trim().to_owned(),
        created_at: ayushman_platform::db::now(),
    })
}

/// Stores one batch of an OPD import in its own transaction.
async fn record_batch(
    state: &AppState,
    batch: Vec<opd_registration::Model>,
    summary: &mut pb::ImportOpdRegistrationsResponse,
) -> Result<(), ApiError> {
    if batch.is_empty() {
        return Ok(());
    }
    let size = batch.len() as i64;
    let txn = ayushman_platform::db::begin_write(&state.db).await?;
    let recorded = registry::import_opd_registrations(&txn, batch).await?;
    txn.commit().await?;
    let recorded = i64::try_from(recorded).unwrap_or(size);
    summary.recorded += recorded;
    summary.duplicates += size - recorded;
    Ok(())
}

pub(super) async fn record_opd_registration(
    state: &AppState,
    request: Request<pb::RecordOpdRegistrationRequest>,
) -> Reply<pb::RecordOpdRegistrationResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let opd = OpdFields {
        hfr_id: &request.hfr_id,
        visit_date: request.visit_date.as_ref(),
        mode: request.mode,
        abha_number: &request.abha_number,
        token_number: &request.token_number,
    };
    let row = opd_row(&opd).map_err(ApiError::InvalidArgument)?;
    ensure_facility(&caller, &row.hfr_id)?;
    caller.ensure_facility(&row.hfr_id, "this OPD registration")?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = registry::record_opd_registration(txn, row).await?;
                Ok(pb::RecordOpdRegistrationResponse {
                    registration_id: row.registration_id,
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn import_opd_registrations(
    state: &AppState,
    request: Request<tonic::Streaming<pb::ImportOpdRegistrationsRequest>>,
) -> Reply<pb::ImportOpdRegistrationsResponse> {
    let caller = Caller::of(&request);
    let mut stream = request.into_inner();
    let mut summary = pb::ImportOpdRegistrationsResponse::default();
    let mut known_facilities: std::collections::HashMap<String, bool> =
        std::collections::HashMap::new();
    let mut batch = Vec::with_capacity(OPD_IMPORT_BATCH);
    while let Some(item) = stream.message().await? {
        summary.rows_received += 1;
        let row_number = summary.rows_received;
        let opd = OpdFields {
            hfr_id: &item.hfr_id,
            visit_date: item.visit_date.as_ref(),
            mode: item.mode,
            abha_number: &item.abha_number,
            token_number: &item.token_number,
        };
        let row = match opd_row(&opd).and_then(|row| {
            let mut v = FieldViolations::new();
            v.check("hfr_id", ensure_facility(&caller, &row.hfr_id));
            v.check(
                "hfr_id",
                caller.ensure_facility(&row.hfr_id, "this OPD registration"),
            );
            if v.is_empty() { Ok(row) } else { Err(v) }
        }) {
            Ok(row) => row,
            Err(violations) => {
                summary.rejected += 1;
                summary
                    .rejects
                    .extend(violations.iter().map(|(field, reason)| RowReject {
                        row_number,
                        field: field.to_owned(),
                        reason: reason.to_owned(),
                    }));
                continue;
            }
        };
        let known = match known_facilities.get(&row.hfr_id) {
            Some(known) => *known,
            None => {
                let known = registry::facility_exists(&state.db, &row.hfr_id).await?;
                known_facilities.insert(row.hfr_id.clone(), known);
                known
            }
        };
        if !known {
            summary.rejected += 1;
            summary.rejects.push(RowReject {
                row_number,
                field: "hfr_id".into(),
                reason: format!("no facility with id {}", row.hfr_id),
            });
            continue;
        }
        batch.push(row);
        if batch.len() == OPD_IMPORT_BATCH {
            record_batch(state, std::mem::take(&mut batch), &mut summary).await?;
        }
    }
    record_batch(state, batch, &mut summary).await?;
    Ok(Response::new(summary))
}

pub(super) async fn opd_registration_report(
    state: &AppState,
    request: Request<pb::OpdRegistrationReportRequest>,
) -> Reply<pb::OpdRegistrationReportResponse> {
    let caller = Caller::of(&request);
    let r = request.into_inner();
    let hfr = match convert::optional_text(&r.hfr_id) {
        Some(id) => Some(hfr_id("hfr_id", &id)?),
        None => None,
    };
    let district = convert::optional_text(&r.district_code);
    if let Some(hfr) = &hfr {
        ensure_facility(&caller, hfr)?;
    }
    if let Some(district) = &district {
        caller.ensure_district(district, "district_code")?;
    }
    if hfr.is_none() && district.is_none() {
        return Err(ApiError::invalid(
            "hfr_id",
            "give a facility (hfr_id) or a district (district_code)",
        )
        .into());
    }
    let from = convert::month_number("from_month", r.from_month.as_ref())?;
    let to = convert::month_number("to_month", r.to_month.as_ref())?;
    if to < from {
        return Err(ApiError::invalid("to_month", "is before from_month").into());
    }
    let abha_mode = pb::OpdRegistrationMode::AbhaScanAndShare.as_str_name();
    let lines = registry::opd_report(
        &state.db,
        hfr.as_deref(),
        district.as_deref(),
        from,
        to,
        abha_mode,
    )
    .await?;
    let (total, via_abha) = lines
        .iter()
        .fold((0, 0), |(t, a), l| (t + l.total, a + l.via_abha));
    let rows = lines
        .into_iter()
        .map(|line| pb::OpdReportRow {
            abha_share_basis_points: ayushman_domain::share_basis_points(line.via_abha, line.total),
            hfr_id: line.hfr_id,
            facility_name: line.facility_name,
            month: Some(YearMonth {
                year: line.month / 100,
                month: line.month % 100,
            }),
            total: line.total,
            via_abha: line.via_abha,
        })
        .collect();
    Ok(Response::new(pb::OpdRegistrationReportResponse {
        rows,
        total: Some(pb::OpdReportRow {
            total,
            via_abha,
            abha_share_basis_points: ayushman_domain::share_basis_points(via_abha, total),
            ..Default::default()
        }),
    }))
}
