//! CreatePartner, GetPartner, ListPartners, SetPartnerScopes.

use ayushman_domain::{HfrId, StateCode};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest},
};
use ayushman_proto::gateway::v1::{self as pb, PartnerKind, PartnerStatus};
use sea_orm::ConnectionTrait;
use tonic::{Request, Response};

use super::Reply;
use crate::{
    AppState,
    partners::{self, IdentityProvider, NewPartner},
    store::{entities::partner, queries},
};

/// A partner as the contracts show it, with its client certificates.
async fn partner_to_proto(
    db: &impl ConnectionTrait,
    row: partner::Model,
) -> Result<pb::Partner, ApiError> {
    let certificates = queries::certificates_of(db, &row.partner_id).await?;
    let hfr_ids = row.hfr_ids();
    Ok(pb::Partner {
        kind: PartnerKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        scopes: row
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        status: PartnerStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
        identity_provider: (!row.oidc_issuer.is_empty()).then_some(pb::IdentityProvider {
            issuer: row.oidc_issuer,
            audience: row.oidc_audience,
            jwks_url: row.oidc_jwks_url,
        }),
        partner_id: row.partner_id,
        name: row.name,
        home_state_code: row.home_state_code,
        rate_limit_per_second: row.rate_limit_per_second,
        rate_limit_burst: row.rate_limit_burst,
        hfr_ids,
        client_certificate_sha256: certificates,
    })
}

fn is_url(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://")) && text.len() > 8
}

/// The identity provider of a new partner, each problem into `v`.
fn identity_provider(
    v: &mut FieldViolations,
    given: Option<&pb::IdentityProvider>,
) -> Option<IdentityProvider> {
    let given = given?;
    let field = |name: &str| format!("partner.identity_provider.{name}");
    let (issuer, audience, jwks_url) = (
        given.issuer.trim(),
        given.audience.trim(),
        given.jwks_url.trim(),
    );
    if !is_url(issuer) {
        v.add(
            field("issuer"),
            "is required: the https:// URL its tokens name as iss",
        );
    }
    v.require(&field("audience"), audience);
    if !is_url(jwks_url) {
        v.add(
            field("jwks_url"),
            "is required: the https:// URL of its signing keys",
        );
    }
    Some(IdentityProvider {
        issuer: issuer.to_owned(),
        audience: audience.to_owned(),
        jwks_url: jwks_url.to_owned(),
    })
}

pub(super) async fn create_partner(
    state: &AppState,
    request: Request<pb::CreatePartnerRequest>,
) -> Reply<pb::CreatePartnerResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let given = request.partner.clone().unwrap_or_default();
    let mut v = FieldViolations::new();
    v.require("partner.name", &given.name);
    if given.name.len() > 200 {
        v.add("partner.name", "must be at most 200 characters");
    }
    let kind = v.check(
        "partner.kind",
        convert::required_enum::<PartnerKind>("partner.kind", given.kind)
            .map_err(|_| "is required: state portal, hospital HIS, insurer or TPA"),
    );
    let home_state = if given.home_state_code.trim().is_empty() {
        None
    } else {
        v.check(
            "partner.home_state_code",
            StateCode::parse(given.home_state_code.trim()),
        )
    };
    let scopes = v.check("partner.scopes", partners::normalise_scopes(&given.scopes));
    let defaults = &state.settings;
    let rate = match given.rate_limit_per_second {
        0 => defaults.default_rate_limit_per_second,
        rate => rate,
    };
    let burst = match given.rate_limit_burst {
        0 => defaults.default_rate_limit_burst,
        burst => burst,
    };
    if !(1..=100_000).contains(&rate) {
        v.add(
            "partner.rate_limit_per_second",
            "must be between 1 and 100000 (0 for the default)",
        );
    }
    if !(1..=100_000).contains(&burst) {
        v.add(
            "partner.rate_limit_burst",
            "must be between 1 and 100000 (0 for the default)",
        );
    }
    let mut hfr_ids = Vec::new();
    for (i, hfr) in given.hfr_ids.iter().enumerate() {
        if let Some(hfr) = v.check(&format!("partner.hfr_ids[{i}]"), HfrId::parse(hfr)) {
            hfr_ids.push(hfr.to_string());
        }
    }
    match kind {
        Some(PartnerKind::HospitalHis) if given.hfr_ids.is_empty() => v.add(
            "partner.hfr_ids",
            "is required for a hospital's system: the HFR ids it acts for",
        ),
        Some(kind) if kind != PartnerKind::HospitalHis && !given.hfr_ids.is_empty() => v.add(
            "partner.hfr_ids",
            "binds a hospital's system (PARTNER_KIND_HOSPITAL_HIS) only",
        ),
        _ => {}
    }
    let mut certificates = Vec::new();
    for (i, sha256) in given.client_certificate_sha256.iter().enumerate() {
        let sha256 = sha256.trim().to_ascii_lowercase();
        if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            certificates.push(sha256);
        } else {
            v.add(
                format!("partner.client_certificate_sha256[{i}]"),
                "must be the certificate's SHA-256 as 64 hex digits",
            );
        }
    }
    let provider = identity_provider(&mut v, given.identity_provider.as_ref());
    v.into_result()?;
    let (Some(kind), Some(scopes)) = (kind, scopes) else {
        return Err(ApiError::internal("validated fields missing").into());
    };
    let new = NewPartner {
        name: given.name,
        kind,
        home_state,
        rate_limit_per_second: rate,
        rate_limit_burst: burst,
        hfr_ids,
        certificates,
        identity_provider: provider,
    };
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = partners::create(txn, new, scopes).await?;
                Ok(pb::CreatePartnerResponse {
                    partner: Some(partner_to_proto(txn, row).await?),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn get_partner(
    state: &AppState,
    request: Request<pb::GetPartnerRequest>,
) -> Reply<pb::GetPartnerResponse> {
    let id = convert::required_text("partner_id", &request.get_ref().partner_id)?;
    let row = partners::get(&state.db, &id).await?;
    Ok(Response::new(pb::GetPartnerResponse {
        partner: Some(partner_to_proto(&state.db, row).await?),
    }))
}

pub(super) async fn list_partners(
    state: &AppState,
    request: Request<pb::ListPartnersRequest>,
) -> Reply<pb::ListPartnersResponse> {
    let r = request.into_inner();
    let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
    let home_state = convert::optional_text(&r.home_state_code);
    let rows = queries::list_partners(
        &state.db,
        home_state.as_deref(),
        page.after.as_deref(),
        page.size,
    )
    .await
    .map_err(ApiError::from)?;
    let (rows, next_page_token) = page.finish(rows, |p| p.partner_id.clone());
    let mut partners = Vec::with_capacity(rows.len());
    for row in rows {
        partners.push(partner_to_proto(&state.db, row).await?);
    }
    Ok(Response::new(pb::ListPartnersResponse {
        partners,
        next_page_token,
    }))
}

pub(super) async fn set_partner_scopes(
    state: &AppState,
    request: Request<pb::SetPartnerScopesRequest>,
) -> Reply<pb::SetPartnerScopesResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let id = convert::required_text("partner_id", &request.partner_id)?;
    let scopes = partners::normalise_scopes(&request.scopes)
        .map_err(|reason| ApiError::invalid("scopes", reason))?;
    let reply = state
        .idempotency
        .keyed_by(&caller, &request)?
        .once(&state.db, |txn| {
            Box::pin(async move {
                let row = partners::set_scopes(txn, &id, scopes).await?;
                Ok(pb::SetPartnerScopesResponse {
                    partner: Some(partner_to_proto(txn, row).await?),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}
