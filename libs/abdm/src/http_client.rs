//! ABDM's registries over HTTP, as ABDM publishes them (docs/OPERATIONS.md
//! names each endpoint):
//!
//! - a session: `POST {gateway}/api/hiecm/gateway/v3/sessions` with the
//!   client id and secret, giving a bearer token kept until shortly before
//!   it expires;
//! - HFR: `POST {hfr}/FacilityManagement/v1.5/facility/search` by `facilityId`;
//! - HPR: `GET {hpr}/v1/search/searchByHprId/{hprId}`;
//! - ABHA: `POST {abha}/v1/search/searchByHealthId` by number or address.
//!
//! Every call carries `REQUEST-ID` (fresh UUID), `TIMESTAMP` (UTC with
//! milliseconds) and `X-CM-ID`. Lookups are repeatable, so a timeout or a 5xx
//! is retried once before the registry is called unavailable; a 404 (or an
//! empty search) is "not found".

use std::time::{Duration, Instant};

use ayushman_platform::outbound::{OutboundClient, OutboundError, retry_transient};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::{
    AbdmSettings, AbhaRecord, FacilityRecord, Lookup, ProfessionalRecord, Registries, Unavailable,
};

const HFR: &str = "Health Facility Registry";
const HPR: &str = "Health Professional Registry";
const ABHA: &str = "ABHA registry";
const GATEWAY: &str = "ABDM gateway";
/// A token this close to its expiry is renewed first.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// See the module documentation.
pub struct HttpRegistries {
    settings: AbdmSettings,
    client: OutboundClient,
    session: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FacilitySearch {
    #[serde(default)]
    facilities: Vec<FacilityHit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FacilityHit {
    facility_id: String,
    facility_name: String,
    #[serde(default)]
    facility_type: Option<String>,
    #[serde(default)]
    ownership: Option<String>,
    #[serde(default)]
    facility_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Professional {
    #[serde(default)]
    hpr_id_number: Option<String>,
    #[serde(default)]
    hpr_id: Option<String>,
    name: String,
    #[serde(default)]
    council_name: Option<String>,
    #[serde(default)]
    registration_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    health_id_number: String,
    #[serde(default)]
    health_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: Option<String>,
}

fn unavailable(registry: &'static str) -> impl Fn(OutboundError) -> Unavailable {
    move |error| Unavailable {
        registry,
        reason: error.to_string(),
    }
}

/// A lookup's answer: found, not found (404), or unavailable.
fn found<T>(
    registry: &'static str,
    answer: Result<T, OutboundError>,
) -> Result<Option<T>, Unavailable> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(OutboundError::Status { status: 404, .. }) => Ok(None),
        Err(error) => Err(unavailable(registry)(error)),
    }
}

impl HttpRegistries {
    /// Clients of the registries in `settings`, each call at most `timeout`.
    pub fn new(settings: AbdmSettings, timeout: Duration) -> Self {
        Self {
            settings,
            client: OutboundClient::new("ABDM", timeout),
            session: Mutex::new(None),
        }
    }

    fn headers(&self, token: Option<&str>) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        put("request-id", uuid::Uuid::new_v4().to_string());
        put(
            "timestamp",
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
        );
        put("x-cm-id", self.settings.cm_id.clone());
        if let Some(token) = token {
            put("authorization", format!("Bearer {token}"));
        }
        headers
    }

    /// A bearer token for the registries, made or reused.
    async fn token(&self) -> Result<String, Unavailable> {
        let mut session = self.session.lock().await;
        if let Some((token, until)) = session.as_ref()
            && Instant::now() + RENEW_BEFORE < *until
        {
            return Ok(token.clone());
        }
        let url = format!(
            "{}/api/hiecm/gateway/v3/sessions",
            self.settings.gateway_url.trim_end_matches('/')
        );
        let body = json!({
            "clientId": self.settings.client_id,
            "clientSecret": self.settings.client_secret.expose_secret(),
            "grantType": "client_credentials",
        });
        let made: Session = retry_transient(2, || {
            self.client
                .post_json("session", &url, &body, self.headers(None))
        })
        .await
        .map_err(unavailable(GATEWAY))?;
        let until = Instant::now() + Duration::from_secs(made.expires_in);
        *session = Some((made.access_token.clone(), until));
        Ok(made.access_token)
    }
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

#[tonic::async_trait]
impl Registries for HttpRegistries {
    async fn facility(&self, hfr_id: &str) -> Result<Lookup<FacilityRecord>, Unavailable> {
        let token = self.token().await?;
        let url = format!(
            "{}/FacilityManagement/v1.5/facility/search",
            base(&self.settings.hfr_url)
        );
        let body = json!({ "facilityId": hfr_id, "page": 1, "resultsPerPage": 1 });
        let answer: Result<FacilitySearch, _> = retry_transient(2, || {
            self.client
                .post_json("facility search", &url, &body, self.headers(Some(&token)))
        })
        .await;
        let hit = found(HFR, answer)?.and_then(|search| {
            search
                .facilities
                .into_iter()
                .find(|f| f.facility_id.eq_ignore_ascii_case(hfr_id))
        });
        Ok(match hit {
            Some(hit) => Lookup::Found(FacilityRecord {
                active: hit.facility_status.as_deref().is_none_or(|s| {
                    !s.eq_ignore_ascii_case("closed") && !s.eq_ignore_ascii_case("rejected")
                }),
                hfr_id: hit.facility_id,
                name: hit.facility_name,
                facility_type: hit.facility_type.unwrap_or_default(),
                ownership: hit.ownership.unwrap_or_default(),
            }),
            None => Lookup::NotFound,
        })
    }

    async fn professional(&self, hpr_id: &str) -> Result<Lookup<ProfessionalRecord>, Unavailable> {
        let token = self.token().await?;
        let url = format!(
            "{}/v1/search/searchByHprId/{hpr_id}",
            base(&self.settings.hpr_url)
        );
        let answer: Result<Professional, _> = retry_transient(2, || {
            let request = self
                .client
                .http()
                .get(&url)
                .headers(self.headers(Some(&token)));
            self.client.json("professional search", request)
        })
        .await;
        Ok(match found(HPR, answer)? {
            Some(p) => Lookup::Found(ProfessionalRecord {
                hpr_id: p
                    .hpr_id_number
                    .or(p.hpr_id)
                    .unwrap_or_else(|| hpr_id.to_owned()),
                name: p.name,
                council: p.council_name.unwrap_or_default(),
                registration_number: p.registration_number.unwrap_or_default(),
            }),
            None => Lookup::NotFound,
        })
    }

    async fn abha(&self, number_or_address: &str) -> Result<Lookup<AbhaRecord>, Unavailable> {
        let token = self.token().await?;
        let url = format!(
            "{}/v1/search/searchByHealthId",
            base(&self.settings.abha_url)
        );
        let body = json!({ "healthId": number_or_address });
        let answer: Result<Account, _> = retry_transient(2, || {
            self.client
                .post_json("ABHA search", &url, &body, self.headers(Some(&token)))
        })
        .await;
        Ok(match found(ABHA, answer)? {
            Some(account) => Lookup::Found(AbhaRecord {
                abha_number: account
                    .health_id_number
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect(),
                abha_address: account.health_id.filter(|a| !a.is_empty()),
                name: account.name,
                active: account
                    .status
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("active")),
            }),
            None => Lookup::NotFound,
        })
    }
}
