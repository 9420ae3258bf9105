//! OPD registrations and the ABHA Scan & Share share.

use ayushman_domain::format_count;
use ayushman_proto::{
    common::v1::YearMonth,
    facility::v1::{
        OpdRegistrationReportRequest,
        facility_registry_service_client::FacilityRegistryServiceClient,
    },
};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use tonic::transport::Channel;

use super::{month_label, percent, right_align};

/// OPD registrations and the ABHA Scan & Share share, by facility and month.
pub async fn opd(
    mut client: FacilityRegistryServiceClient<Channel>,
    hfr_id: Option<String>,
    district_code: Option<String>,
    from: YearMonth,
    to: YearMonth,
) -> anyhow::Result<String> {
    let report = client
        .opd_registration_report(OpdRegistrationReportRequest {
            hfr_id: hfr_id.unwrap_or_default(),
            district_code: district_code.unwrap_or_default(),
            from_month: Some(from),
            to_month: Some(to),
        })
        .await
        .map_err(|status| anyhow::anyhow!("{}", status.message()))?
        .into_inner();
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header([
        "Facility",
        "HFR id",
        "Month",
        "Registrations",
        "Via ABHA",
        "ABHA share",
    ]);
    for row in &report.rows {
        let month = month_label(row.month);
        table.add_row([
            row.facility_name.clone(),
            row.hfr_id.clone(),
            month,
            format_count(row.total),
            format_count(row.via_abha),
            percent(row.abha_share_basis_points),
        ]);
    }
    if let Some(total) = report.total {
        table.add_row([
            "Total".into(),
            String::new(),
            String::new(),
            format_count(total.total),
            format_count(total.via_abha),
            percent(total.abha_share_basis_points),
        ]);
    }
    right_align(&mut table, 3..6);
    Ok(table.to_string())
}
