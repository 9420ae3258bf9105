//! The scheme master's demo data: the schemes of docs/examples/schemes.csv
//! (PM-JAY, Vay Vandana, Rajasthan MAA, Bihar's and Chhattisgarh's state
//! schemes), written through CreateScheme/UpdateScheme as a state would.

use anyhow::Context;
use ayushman_proto::beneficiary::v1::beneficiary_registry_service_client::BeneficiaryRegistryServiceClient;
use tonic::transport::Channel;

use crate::import;

/// The demo's schemes, as a state's administrator would keep them.
const SCHEMES_CSV: &str = include_str!("../../../../docs/examples/schemes.csv");

/// Creates or updates every demo scheme; returns their codes in draw order.
pub async fn seed(
    client: &mut BeneficiaryRegistryServiceClient<Channel>,
) -> anyhow::Result<Vec<String>> {
    let (schemes, rejects) = import::scheme_rows(SCHEMES_CSV.as_bytes());
    if let Some(reject) = rejects.first() {
        anyhow::bail!(
            "docs/examples/schemes.csv row {}: {} {}",
            reject.row,
            reject.field,
            reject.reason
        );
    }
    for (_, scheme) in &schemes {
        let code = scheme.scheme_code.clone();
        import::upsert_scheme(client, scheme.clone())
            .await
            .with_context(|| format!("scheme {code}"))?;
    }
    Ok(schemes.into_iter().map(|(_, s)| s.scheme_code).collect())
}
