//! gRPC handlers of `BeneficiaryRegistryService`: validate and translate the
//! request, call a use case, translate the answer back.

use std::collections::BTreeSet;

use ayushman_domain::{Aadhaar, AbhaAddress, AbhaNumber, Money, StateCode};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    caller::state_of_district,
    convert::{self, PageRequest, today_in_india},
    db, ids,
    lifecycle::Actor,
};
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_server::BeneficiaryRegistryService,
    },
    common::v1::{Actor as ProtoActor, ActorKind, DateRange, Gender, Location, RowReject},
    google::r#type::Date,
};
use chrono::NaiveDate;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    AppState,
    kyc::KycRequest,
    registry::{self, Carding},
    reports::{self, FullCampaign},
    schemes::Scheme,
    store::{
        entities::{beneficiary, camp, campaign, family, ledger_entry, wallet},
        queries::{self, ActivityFilter, Search},
    },
    wallet::{self as wallets, BlockRequest, Movement},
};

/// The `BeneficiaryRegistryService` implementation.
pub struct BeneficiaryRegistryApi {
    /// Database, schemes, KYC provider and limits shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

/// Rows written per transaction by ImportEligibility.
const IMPORT_BATCH: usize = 1000;

fn district(state_code: &str, district_code: &str) -> Result<(), String> {
    let well_formed = district_code.len() == 6
        && district_code.starts_with(state_code)
        && district_code.as_bytes()[2] == b'-'
        && district_code[3..].bytes().all(|b| b.is_ascii_digit());
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "unknown district {district_code:?}: district codes look like {state_code}-230 and start with the state code"
        ))
    }
}

fn date_or_today(field: &str, date: Option<&Date>) -> Result<NaiveDate, ApiError> {
    Ok(convert::date_from_proto(field, date)?.unwrap_or_else(today_in_india))
}

fn abha_display(digits: &str) -> String {
    AbhaNumber::parse(digits)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| digits.to_owned())
}

fn beneficiary_to_proto(row: beneficiary::Model) -> pb::Beneficiary {
    pb::Beneficiary {
        beneficiary_id: row.beneficiary_id,
        family_id: row.family_id,
        name: row.name,
        gender: Gender::from_str_name(&row.gender).unwrap_or_default() as i32,
        year_of_birth: row.year_of_birth,
        relation: pb::Relation::from_str_name(&row.relation).unwrap_or_default() as i32,
        location: Some(Location {
            state_code: row.state_code,
            district_code: row.district_code,
            block_code: row.block_code,
            village_code: row.village_code,
        }),
        source_list: pb::SourceList::from_str_name(&row.source_list).unwrap_or_default() as i32,
        eligibility_category: row.eligibility_category,
        scheme_codes: row
            .scheme_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        aadhaar_last4: row.aadhaar_last4,
        abha_number: row
            .abha_number
            .as_deref()
            .map(abha_display)
            .unwrap_or_default(),
        abha_address: row.abha_address.unwrap_or_default(),
        card_number: row.card_number.unwrap_or_default(),
        card_status: pb::CardStatus::from_str_name(&row.card_status).unwrap_or_default() as i32,
        card_issued_at: row.card_issued_at.map(convert::timestamp_to_proto),
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

fn wallet_to_proto(row: wallet::Model) -> pb::Wallet {
    pb::Wallet {
        available_paise: row.available_paise(),
        wallet_id: row.wallet_id,
        family_id: row.family_id,
        scheme_code: row.scheme_code,
        kind: pb::WalletKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        policy_year_start: Some(convert::date_to_proto(row.policy_year_start)),
        cover_paise: row.cover_paise,
        blocked_paise: row.blocked_paise,
        consumed_paise: row.consumed_paise,
    }
}

fn ledger_to_proto(row: ledger_entry::Model) -> pb::LedgerEntry {
    pb::LedgerEntry {
        entry_id: row.entry_id,
        wallet_id: row.wallet_id,
        kind: pb::LedgerEntryKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        amount_paise: row.amount_paise,
        preauth_id: row.preauth_id,
        claim_id: row.claim_id,
        reason: row.reason,
        actor: Some(ProtoActor {
            actor_id: row.actor_id,
            kind: ActorKind::from_str_name(&row.actor_kind).unwrap_or_default() as i32,
            display_name: String::new(),
        }),
        trace_id: row.trace_id,
        available_after_paise: row.available_after_paise,
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

fn scheme_to_proto(scheme: &Scheme) -> pb::Scheme {
    pb::Scheme {
        scheme_code: scheme.code.into(),
        name: scheme.name.into(),
        sponsor: scheme.sponsor as i32,
        state_code: scheme.state_code.into(),
        cover_kind: scheme.cover_kind as i32,
        cover_per_family_paise: scheme.cover.paise(),
        policy_year_start: Some(Date {
            year: 0,
            month: scheme.year_start.month() as i32,
            day: scheme.year_start.day() as i32,
        }),
        eligibility_categories: scheme.categories.iter().map(|c| (*c).to_owned()).collect(),
        portability_allowed: scheme.portability_allowed,
        tops_up_scheme_code: scheme.tops_up.into(),
        minimum_age_years: scheme.minimum_age,
    }
}

fn campaign_to_proto((row, camps): FullCampaign) -> pb::Campaign {
    let range = |from: NaiveDate, until: NaiveDate| DateRange {
        start_date: Some(convert::date_to_proto(from)),
        end_date: Some(convert::date_to_proto(until)),
    };
    pb::Campaign {
        campaign_id: row.campaign_id,
        name: row.name,
        state_code: row.state_code.clone(),
        district_code: row.district_code.clone(),
        dates: Some(range(row.start_date, row.end_date)),
        status: pb::CampaignStatus::from_str_name(&row.status).unwrap_or_default() as i32,
        target_cards: row.target_cards,
        camps: camps
            .into_iter()
            .map(|c| pb::Camp {
                camp_id: c.camp_id,
                venue: c.venue,
                location: Some(Location {
                    state_code: row.state_code.clone(),
                    district_code: row.district_code.clone(),
                    block_code: c.block_code,
                    village_code: c.village_code,
                }),
                operator_id: c.operator_id,
                standby_operator_id: c.standby_operator_id,
                dates: Some(range(c.start_date, c.end_date)),
            })
            .collect(),
        created_at: Some(convert::timestamp_to_proto(row.created_at)),
    }
}

impl BeneficiaryRegistryApi {
    /// PERMISSION_DENIED when the caller may not act on this person's state.
    /// PERMISSION_DENIED unless the caller may see the wallet's family.
    async fn ensure_wallet_in_scope(
        &self,
        caller: &Caller,
        wallet_id: &str,
    ) -> Result<(), ApiError> {
        if caller.state_scope().is_none() {
            return Ok(());
        }
        let wallet = queries::find_wallet(&self.state.db, wallet_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no wallet {wallet_id}")))?;
        let (family, _) = registry::family(&self.state.db, &wallet.family_id).await?;
        caller.ensure_state(&family.state_code, &format!("wallet {wallet_id}"))
    }

    async fn ensure_person_in_scope(
        &self,
        caller: &Caller,
        beneficiary_id: &str,
    ) -> Result<(), ApiError> {
        if caller.state_scope().is_some() {
            let person = registry::get(&self.state.db, beneficiary_id).await?;
            caller.ensure_state(&person.state_code, &format!("beneficiary {beneficiary_id}"))?;
        }
        Ok(())
    }

    /// Validates one eligibility row into the family and person to store.
    fn eligibility_row(
        &self,
        caller: &Caller,
        row: &pb::EligibilityRow,
    ) -> Result<(family::Model, beneficiary::Model), FieldViolations> {
        let mut v = FieldViolations::new();
        let source = convert::required_enum::<pb::SourceList>("source_list", row.source_list)
            .map_err(|_| "is required: SECC, NFSA or state list");
        let source = v.check("source_list", source);
        v.require("family_id", &row.family_id);
        v.require("member_name", &row.member_name);
        v.max_chars("member_name", &row.member_name, 120);
        v.max_chars("family_id", &row.family_id, 64);
        let gender = v.check(
            "gender",
            convert::required_enum::<Gender>("gender", row.gender).map_err(|_| "is required"),
        );
        let this_year = chrono::Datelike::year(&today_in_india());
        if !(1900..=this_year).contains(&row.year_of_birth) {
            v.add(
                "year_of_birth",
                format!("must be a year from 1900 to {this_year}"),
            );
        }
        let relation = v.check(
            "relation",
            convert::required_enum::<pb::Relation>("relation", row.relation)
                .map_err(|_| "is required"),
        );
        let location = row.location.clone().unwrap_or_default();
        let state = v.check(
            "location.state_code",
            StateCode::parse(&location.state_code),
        );
        if let Some(state) = state {
            v.check(
                "location.district_code",
                district(&state.code(), location.district_code.trim()),
            );
            v.check(
                "location.state_code",
                caller.ensure_state(&state.code(), "this row"),
            );
        }
        let aadhaar = match row.aadhaar.trim() {
            "" => None,
            text => v.check("aadhaar", Aadhaar::parse(text)),
        };
        let schemes = match (state, source) {
            (Some(state), Some(source)) => v.check(
                "eligibility_category",
                self.state.catalogue.schemes_for_row(
                    &state.code(),
                    source,
                    row.eligibility_category.trim(),
                ),
            ),
            _ => None,
        };
        if !v.is_empty() {
            return Err(v);
        }
        let now = db::now();
        let (source, state) = (
            source.unwrap_or_default().as_str_name().to_owned(),
            state.map(|s| s.code()).unwrap_or_default(),
        );
        let family = family::Model {
            family_id: row.family_id.trim().to_owned(),
            source_list: source.clone(),
            state_code: state.clone(),
            district_code: location.district_code.trim().to_owned(),
            block_code: location.block_code.trim().to_owned(),
            village_code: location.village_code.trim().to_owned(),
            created_at: now,
        };
        let card = convert::optional_text(&row.existing_card_number);
        let person = beneficiary::Model {
            beneficiary_id: ids::new_id("BEN"),
            family_id: family.family_id.clone(),
            name: row.member_name.trim().to_owned(),
            name_key: row.member_name.trim().to_lowercase(),
            gender: gender.unwrap_or_default().as_str_name().to_owned(),
            year_of_birth: row.year_of_birth,
            relation: relation.unwrap_or_default().as_str_name().to_owned(),
            state_code: state,
            district_code: family.district_code.clone(),
            block_code: family.block_code.clone(),
            village_code: family.village_code.clone(),
            source_list: source,
            eligibility_category: row.eligibility_category.trim().to_owned(),
            scheme_codes: schemes.unwrap_or_default().join(","),
            aadhaar_digest: aadhaar
                .as_ref()
                .map(|a| a.digest(self.state.hmac_key()).as_str().to_owned()),
            aadhaar_last4: aadhaar.as_ref().map(Aadhaar::last4).unwrap_or_default(),
            abha_number: None,
            abha_address: None,
            card_status: if card.is_some() {
                pb::CardStatus::Issued
            } else {
                pb::CardStatus::NotIssued
            }
            .as_str_name()
            .to_owned(),
            card_number: card,
            card_issued_at: None,
            created_at: now,
        };
        Ok((family, person))
    }

    async fn family_wallets(
        &self,
        members: &[beneficiary::Model],
        only: Option<&str>,
        date: NaiveDate,
    ) -> Result<Vec<pb::Wallet>, ApiError> {
        let Some(first) = members.first() else {
            return Ok(Vec::new());
        };
        let mut codes = BTreeSet::new();
        for member in members {
            for scheme in
                self.state
                    .catalogue
                    .schemes_of(&member.scheme_codes, member.year_of_birth, date)
            {
                codes.insert(scheme.code);
            }
        }
        let mut wallets = Vec::new();
        for code in codes
            .into_iter()
            .filter(|code| only.is_none_or(|o| o == *code))
        {
            if let Some(scheme) = self.state.catalogue.get(code) {
                wallets.push(wallet_to_proto(
                    wallets::view(&self.state.db, &first.family_id, scheme, date).await?,
                ));
            }
        }
        Ok(wallets)
    }

    fn campaign_rows(
        &self,
        c: &pb::Campaign,
        id: String,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<FullCampaign, ApiError> {
        let mut v = FieldViolations::new();
        v.require("campaign.name", &c.name);
        let state = v.check("campaign.state_code", StateCode::parse(&c.state_code));
        if let Some(state) = state {
            v.check(
                "campaign.district_code",
                district(&state.code(), c.district_code.trim()),
            );
        }
        let dates = c.dates.unwrap_or_default();
        let start = v.check(
            "campaign.dates.start_date",
            convert::required_date("campaign.dates.start_date", dates.start_date.as_ref())
                .map_err(|_| "is required"),
        );
        let end = v.check(
            "campaign.dates.end_date",
            convert::required_date("campaign.dates.end_date", dates.end_date.as_ref())
                .map_err(|_| "is required"),
        );
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            v.add("campaign.dates.end_date", "is before start_date");
        }
        if c.target_cards < 0 {
            v.add("campaign.target_cards", "cannot be negative");
        }
        let status = match convert::optional_enum::<pb::CampaignStatus>("campaign.status", c.status)
        {
            Ok(Some(status)) => status,
            Ok(None) if start.is_some_and(|s| s > today_in_india()) => pb::CampaignStatus::Planned,
            Ok(None) => pb::CampaignStatus::Active,
            Err(_) => {
                v.add("campaign.status", "is not a known status");
                pb::CampaignStatus::Planned
            }
        };
        let mut camps = Vec::new();
        for (i, camp) in c.camps.iter().enumerate() {
            let field = |name: &str| format!("campaign.camps[{i}].{name}");
            v.require(&field("venue"), &camp.venue);
            v.require(&field("operator_id"), &camp.operator_id);
            let camp_dates = camp.dates.unwrap_or_default();
            let from = convert::date_from_proto(
                &field("dates.start_date"),
                camp_dates.start_date.as_ref(),
            );
            let until =
                convert::date_from_proto(&field("dates.end_date"), camp_dates.end_date.as_ref());
            let location = camp.location.clone().unwrap_or_default();
            camps.push(camp::Model {
                camp_id: convert::optional_text(&camp.camp_id)
                    .unwrap_or_else(|| ids::new_id("CAMP")),
                campaign_id: id.clone(),
                venue: camp.venue.trim().to_owned(),
                block_code: location.block_code.trim().to_owned(),
                village_code: location.village_code.trim().to_owned(),
                operator_id: camp.operator_id.trim().to_owned(),
                standby_operator_id: camp.standby_operator_id.trim().to_owned(),
                start_date: v
                    .check(
                        &field("dates.start_date"),
                        from.map_err(|_| "must be a real date"),
                    )
                    .flatten()
                    .or(start)
                    .unwrap_or_default(),
                end_date: v
                    .check(
                        &field("dates.end_date"),
                        until.map_err(|_| "must be a real date"),
                    )
                    .flatten()
                    .or(end)
                    .unwrap_or_default(),
            });
        }
        v.into_result()?;
        let row = campaign::Model {
            campaign_id: id,
            name: c.name.trim().to_owned(),
            state_code: state.map(|s| s.code()).unwrap_or_default(),
            district_code: c.district_code.trim().to_owned(),
            start_date: start.unwrap_or_default(),
            end_date: end.unwrap_or_default(),
            status: status.as_str_name().to_owned(),
            target_cards: c.target_cards,
            created_at,
        };
        Ok((row, camps))
    }
}

fn basis_points(part: i64, whole: i64) -> i32 {
    if whole <= 0 {
        return 0;
    }
    i32::try_from((i128::from(part) * 20_000 + i128::from(whole)) / (i128::from(whole) * 2))
        .unwrap_or(i32::MAX)
}

fn coverage_row(line: &reports::CoverageLine) -> pb::CoverageRow {
    pb::CoverageRow {
        state_code: line.state_code.clone(),
        district_code: line.district_code.clone(),
        block_code: line.block_code.clone(),
        eligible: line.eligible,
        carded: line.carded,
        carded_basis_points: basis_points(line.carded, line.eligible),
        abha_linked: line.abha_linked,
    }
}

#[tonic::async_trait]
impl BeneficiaryRegistryService for BeneficiaryRegistryApi {
    async fn list_schemes(
        &self,
        request: Request<pb::ListSchemesRequest>,
    ) -> Reply<pb::ListSchemesResponse> {
        let state = convert::optional_text(&request.get_ref().state_code);
        let schemes = self
            .state
            .catalogue
            .all()
            .iter()
            .filter(|s| {
                state
                    .as_deref()
                    .is_none_or(|state| s.state_code.is_empty() || s.state_code == state)
            })
            .map(scheme_to_proto)
            .collect();
        Ok(Response::new(pb::ListSchemesResponse { schemes }))
    }

    async fn get_scheme(
        &self,
        request: Request<pb::GetSchemeRequest>,
    ) -> Reply<pb::GetSchemeResponse> {
        let code = convert::required_text("scheme_code", &request.get_ref().scheme_code)?
            .to_ascii_uppercase();
        let scheme = self
            .state
            .catalogue
            .get(&code)
            .ok_or_else(|| ApiError::NotFound(format!("no scheme {code}")))?;
        Ok(Response::new(pb::GetSchemeResponse {
            scheme: Some(scheme_to_proto(scheme)),
        }))
    }

    async fn import_eligibility(
        &self,
        request: Request<Streaming<pb::ImportEligibilityRequest>>,
    ) -> Reply<pb::ImportEligibilityResponse> {
        use pb::import_eligibility_request::Item;
        let caller = Caller::of(&request);
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(pb::ImportEligibilityRequest {
                item: Some(Item::Header(header)),
            }) => header,
            _ => {
                return Err(ApiError::invalid(
                    "header",
                    "the first message must be the import header",
                )
                .into());
            }
        };
        let keyed = self
            .state
            .idempotency
            .keyed_as(
                &caller,
                "ImportEligibility",
                &header.idempotency_key,
                &header,
            )
            .map_err(|_| ApiError::invalid("header.idempotency_key", "is required"))?;
        if let Some(reply) = keyed.recall(&self.state.db).await? {
            return Ok(Response::new(reply));
        }
        let mut summary = pb::ImportEligibilityResponse::default();
        let writer = registry::ImportWriter::start(self.state.db.clone());
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        while let Some(message) = stream.message().await? {
            let Some(Item::Row(row)) = message.item else {
                return Err(
                    ApiError::invalid("header", "only the first message may be a header").into(),
                );
            };
            summary.rows_received += 1;
            match self.eligibility_row(&caller, &row) {
                Ok(valid) => batch.push(valid),
                Err(violations) => {
                    summary.rejected += 1;
                    let row_number = summary.rows_received;
                    summary
                        .rejects
                        .extend(violations.iter().map(|(field, reason)| RowReject {
                            row_number,
                            field: field.to_owned(),
                            reason: reason.to_owned(),
                        }));
                }
            }
            if batch.len() == IMPORT_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
                if !writer.write(full).await {
                    break;
                }
            }
        }
        writer.write(batch).await;
        let written = writer.finish().await?;
        summary.accepted = written.accepted as i64;
        summary.duplicates = written.duplicates as i64;
        summary.families_created = written.families_created as i64;
        tracing::info!(file = %header.file_name, received = summary.rows_received, accepted = summary.accepted, duplicates = summary.duplicates, rejected = summary.rejected, "eligibility imported");
        // Rows are written batch by batch, each idempotent by its natural key;
        // the summary is kept when the last batch is in.
        let reply = keyed
            .once(&self.state.db, |_| Box::pin(async move { Ok(summary) }))
            .await?;
        Ok(Response::new(reply))
    }

    async fn search_beneficiaries(
        &self,
        request: Request<pb::SearchBeneficiariesRequest>,
    ) -> Reply<pb::SearchBeneficiariesResponse> {
        use pb::search_beneficiaries_request::Query;
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let search = match r.query {
            Some(Query::Name(name)) => {
                let mut v = FieldViolations::new();
                if name.name_prefix.trim().chars().count() < 3 {
                    v.add("name.name_prefix", "must have at least 3 characters");
                }
                v.require("name.district_code", &name.district_code);
                v.into_result()?;
                caller.ensure_district(name.district_code.trim(), "name.district_code")?;
                Search::NamePrefix {
                    name_key_prefix: name.name_prefix.trim().to_lowercase(),
                    district_code: name.district_code.trim().to_owned(),
                }
            }
            Some(Query::FamilyId(id)) => Search::Family(convert::required_text("family_id", &id)?),
            Some(Query::Aadhaar(text)) => {
                let aadhaar = Aadhaar::parse(&text)
                    .map_err(|e| ApiError::invalid("aadhaar", e.reason().to_owned()))?;
                Search::Column(
                    beneficiary::Column::AadhaarDigest,
                    aadhaar.digest(self.state.hmac_key()).as_str().to_owned(),
                )
            }
            Some(Query::Abha(text)) if text.contains('@') => {
                let address = AbhaAddress::parse(&text)
                    .map_err(|e| ApiError::invalid("abha", e.reason().to_owned()))?;
                Search::Column(
                    beneficiary::Column::AbhaAddress,
                    address.as_str().to_owned(),
                )
            }
            Some(Query::Abha(text)) => {
                let number = AbhaNumber::parse(&text)
                    .map_err(|e| ApiError::invalid("abha", e.reason().to_owned()))?;
                Search::Column(beneficiary::Column::AbhaNumber, number.digits())
            }
            Some(Query::CardNumber(card)) => Search::Column(
                beneficiary::Column::CardNumber,
                convert::required_text("card_number", &card)?,
            ),
            None => {
                return Err(ApiError::invalid(
                    "query",
                    "set one of name, family_id, aadhaar, abha or card_number",
                )
                .into());
            }
        };
        let mut rows = queries::search(&self.state.db, &search, page.after.as_deref(), page.size)
            .await
            .map_err(ApiError::from)?;
        // A state partner sees its own state's people only.
        if let Some(own) = caller.state_scope() {
            rows.retain(|b| b.state_code == own);
        }
        let (rows, next_page_token) = page.finish(rows, |b| search.page_key(b));
        Ok(Response::new(pb::SearchBeneficiariesResponse {
            beneficiaries: rows.into_iter().map(beneficiary_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_beneficiary(
        &self,
        request: Request<pb::GetBeneficiaryRequest>,
    ) -> Reply<pb::GetBeneficiaryResponse> {
        let id = convert::required_text("beneficiary_id", &request.get_ref().beneficiary_id)?;
        let row = registry::get(&self.state.db, &id).await?;
        Caller::of(&request).ensure_state(&row.state_code, &format!("beneficiary {id}"))?;
        Ok(Response::new(pb::GetBeneficiaryResponse {
            beneficiary: Some(beneficiary_to_proto(row)),
        }))
    }

    async fn get_family(
        &self,
        request: Request<pb::GetFamilyRequest>,
    ) -> Reply<pb::GetFamilyResponse> {
        let id = convert::required_text("family_id", &request.get_ref().family_id)?;
        let (row, members) = registry::family(&self.state.db, &id).await?;
        Caller::of(&request).ensure_state(&row.state_code, &format!("family {id}"))?;
        let wallets = self
            .family_wallets(&members, None, today_in_india())
            .await?;
        Ok(Response::new(pb::GetFamilyResponse {
            family: Some(pb::Family {
                family_id: row.family_id,
                source_list: pb::SourceList::from_str_name(&row.source_list).unwrap_or_default()
                    as i32,
                location: Some(Location {
                    state_code: row.state_code,
                    district_code: row.district_code,
                    block_code: row.block_code,
                    village_code: row.village_code,
                }),
                members: members.into_iter().map(beneficiary_to_proto).collect(),
                wallets,
            }),
        }))
    }

    async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Reply<pb::IssueCardResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("beneficiary_id", &request.beneficiary_id);
        let aadhaar = v.check("aadhaar", Aadhaar::parse(&request.aadhaar));
        let method = v.check(
            "kyc_method",
            convert::required_enum::<pb::KycMethod>("kyc_method", request.kyc_method)
                .map_err(|_| "is required: OTP, biometric or face"),
        );
        let operator = request.operator.clone().unwrap_or_default();
        v.require("operator.actor_id", &operator.actor_id);
        v.require("centre_id", &request.centre_id);
        v.into_result()?;
        let (Some(aadhaar), Some(method)) = (aadhaar, method) else {
            return Err(ApiError::internal("validated fields missing").into());
        };
        self.ensure_person_in_scope(&caller, request.beneficiary_id.trim())
            .await?;
        let digest = aadhaar.digest(self.state.hmac_key());
        let kyc = KycRequest {
            aadhaar,
            listed_name: String::new(),
            method,
        };
        let state = self.state.clone();
        let body = request.clone();
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let carding = Carding {
                        operator_id: operator.actor_id.trim(),
                        centre_id: body.centre_id.trim(),
                        campaign_id: body.campaign_id.trim(),
                    };
                    let (person, outcome) = registry::issue_card(
                        txn,
                        state.kyc.as_ref(),
                        body.beneficiary_id.trim(),
                        kyc,
                        digest,
                        &carding,
                    )
                    .await?;
                    Ok(pb::IssueCardResponse {
                        beneficiary: Some(beneficiary_to_proto(person)),
                        kyc: Some(pb::KycResult {
                            verified: outcome.verified,
                            name_on_record: outcome.name_on_record,
                            failure_reason: outcome.failure_reason,
                            provider_reference: outcome.reference,
                        }),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn link_abha(
        &self,
        request: Request<pb::LinkAbhaRequest>,
    ) -> Reply<pb::LinkAbhaResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("beneficiary_id", &request.beneficiary_id);
        let number = v.check("abha_number", AbhaNumber::parse(&request.abha_number));
        let address = match request.abha_address.trim() {
            "" => None,
            text => v.check("abha_address", AbhaAddress::parse(text)),
        };
        v.into_result()?;
        let Some(number) = number else {
            return Err(ApiError::internal("validated ABHA missing").into());
        };
        let id = request.beneficiary_id.trim().to_owned();
        self.ensure_person_in_scope(&caller, &id).await?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let person = registry::link_abha(txn, &id, number, address).await?;
                    Ok(pb::LinkAbhaResponse {
                        beneficiary: Some(beneficiary_to_proto(person)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn verify_eligibility(
        &self,
        request: Request<pb::VerifyEligibilityRequest>,
    ) -> Reply<pb::VerifyEligibilityResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let date = date_or_today("treatment_date", r.treatment_date.as_ref())?;
        let person = match (
            convert::optional_text(&r.beneficiary_id),
            convert::optional_text(&r.card_number),
        ) {
            (Some(id), _) => registry::get(&self.state.db, &id).await?,
            (None, Some(card)) => registry::get_by_card(&self.state.db, &card).await?,
            (None, None) => {
                return Err(ApiError::invalid(
                    "beneficiary_id",
                    "give beneficiary_id or card_number",
                )
                .into());
            }
        };
        caller.ensure_state(
            &person.state_code,
            &format!("beneficiary {}", person.beneficiary_id),
        )?;
        let only = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
        let answers = wallets::verify(
            &self.state.db,
            &self.state.catalogue,
            &person,
            only.as_deref(),
            date,
        )
        .await?;
        let schemes = answers
            .into_iter()
            .map(|answer| pb::SchemeEligibility {
                scheme_code: answer.scheme.code.into(),
                eligible: answer.reason.is_none(),
                reason: answer.reason.unwrap_or_default() as i32,
                wallets: vec![wallet_to_proto(answer.wallet)],
                portability_allowed: answer.scheme.portability_allowed,
            })
            .collect();
        Ok(Response::new(pb::VerifyEligibilityResponse {
            home_state_code: person.state_code.clone(),
            beneficiary: Some(beneficiary_to_proto(person)),
            schemes,
        }))
    }

    async fn get_balance(
        &self,
        request: Request<pb::GetBalanceRequest>,
    ) -> Reply<pb::GetBalanceResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let date = date_or_today("as_of_date", r.as_of_date.as_ref())?;
        let family_id = match (
            convert::optional_text(&r.family_id),
            convert::optional_text(&r.beneficiary_id),
        ) {
            (Some(id), _) => id,
            (None, Some(id)) => registry::get(&self.state.db, &id).await?.family_id,
            (None, None) => {
                return Err(
                    ApiError::invalid("family_id", "give family_id or beneficiary_id").into(),
                );
            }
        };
        let (family, members) = registry::family(&self.state.db, &family_id).await?;
        caller.ensure_state(&family.state_code, &format!("family {family_id}"))?;
        let only = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
        if let Some(code) = &only
            && self.state.catalogue.get(code).is_none()
        {
            return Err(ApiError::invalid("scheme_code", format!("unknown scheme {code}")).into());
        }
        Ok(Response::new(pb::GetBalanceResponse {
            wallets: self.family_wallets(&members, only.as_deref(), date).await?,
        }))
    }

    async fn block_amount(
        &self,
        request: Request<pb::BlockAmountRequest>,
    ) -> Reply<pb::BlockAmountResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("beneficiary_id", &request.beneficiary_id);
        v.require("scheme_code", &request.scheme_code);
        v.require("preauth_id", &request.preauth_id);
        v.amount("amount_paise", request.amount_paise);
        let date = v.check(
            "treatment_date",
            date_or_today("treatment_date", request.treatment_date.as_ref())
                .map_err(|_| "must be a real date"),
        );
        v.into_result()?;
        let actor = Actor::named(request.actor.as_ref());
        let state = self.state.clone();
        let body = request.clone();
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let scheme = body.scheme_code.trim().to_ascii_uppercase();
                    let block = BlockRequest {
                        beneficiary_id: body.beneficiary_id.trim(),
                        scheme_code: &scheme,
                        preauth_id: body.preauth_id.trim(),
                        amount: Money::from_paise(body.amount_paise),
                        treatment_date: date.unwrap_or_default(),
                    };
                    let reason = if body.reason.is_empty() {
                        "preauth raised"
                    } else {
                        body.reason.as_str()
                    };
                    let (wallet, entry) = wallets::block(
                        txn,
                        &state.catalogue,
                        &block,
                        &Movement {
                            reason,
                            actor: &actor,
                        },
                    )
                    .await?;
                    Ok(pb::BlockAmountResponse {
                        wallet: Some(wallet_to_proto(wallet)),
                        entry: Some(ledger_to_proto(entry)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn release_amount(
        &self,
        request: Request<pb::ReleaseAmountRequest>,
    ) -> Reply<pb::ReleaseAmountResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let preauth_id = convert::required_text("preauth_id", &request.preauth_id)?;
        if request.amount_paise != 0 {
            let mut v = FieldViolations::new();
            v.amount("amount_paise", request.amount_paise);
            v.into_result().map_err(|_| {
                ApiError::invalid(
                    "amount_paise",
                    "must be positive (or 0 to release everything still held) and at most ₹10,00,00,000",
                )
            })?;
        }
        let actor = Actor::named(request.actor.as_ref());
        let body = request.clone();
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let amount =
                        (body.amount_paise > 0).then(|| Money::from_paise(body.amount_paise));
                    let reason = if body.reason.is_empty() {
                        "released"
                    } else {
                        body.reason.as_str()
                    };
                    let (wallet, entry) = wallets::release(
                        txn,
                        &preauth_id,
                        amount,
                        body.claim_id.trim(),
                        &Movement {
                            reason,
                            actor: &actor,
                        },
                    )
                    .await?;
                    Ok(pb::ReleaseAmountResponse {
                        wallet: Some(wallet_to_proto(wallet)),
                        entry: entry.map(ledger_to_proto),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn consume_amount(
        &self,
        request: Request<pb::ConsumeAmountRequest>,
    ) -> Reply<pb::ConsumeAmountResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let mut v = FieldViolations::new();
        v.require("preauth_id", &request.preauth_id);
        v.require("claim_id", &request.claim_id);
        v.amount("amount_paise", request.amount_paise);
        v.into_result()?;
        let actor = Actor::named(request.actor.as_ref());
        let body = request.clone();
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let reason = if body.reason.is_empty() {
                        "claim approved"
                    } else {
                        body.reason.as_str()
                    };
                    let movement = Movement {
                        reason,
                        actor: &actor,
                    };
                    let amount = Money::from_paise(body.amount_paise);
                    let (wallet, entries) = wallets::consume(
                        txn,
                        body.preauth_id.trim(),
                        body.claim_id.trim(),
                        amount,
                        body.release_remainder,
                        &movement,
                    )
                    .await?;
                    Ok(pb::ConsumeAmountResponse {
                        wallet: Some(wallet_to_proto(wallet)),
                        entries: entries.into_iter().map(ledger_to_proto).collect(),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn list_ledger_entries(
        &self,
        request: Request<pb::ListLedgerEntriesRequest>,
    ) -> Reply<pb::ListLedgerEntriesResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let wallet_id = convert::required_text("wallet_id", &r.wallet_id)?;
        self.ensure_wallet_in_scope(&caller, &wallet_id).await?;
        let page = PageRequest::parse(r.page_size, &r.page_token, 100, 1000)?;
        let rows = queries::ledger_of(&self.state.db, &wallet_id, page.after.as_deref(), page.size)
            .await
            .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |e| e.entry_id.clone());
        Ok(Response::new(pb::ListLedgerEntriesResponse {
            entries: rows.into_iter().map(ledger_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn reconcile_wallet(
        &self,
        request: Request<pb::ReconcileWalletRequest>,
    ) -> Reply<pb::ReconcileWalletResponse> {
        let wallet_id = convert::required_text("wallet_id", &request.get_ref().wallet_id)?;
        self.ensure_wallet_in_scope(&Caller::of(&request), &wallet_id)
            .await?;
        let reconciliation = wallets::reconcile(&self.state.db, &wallet_id).await?;
        let consistent = reconciliation.consistent();
        let sums = reconciliation.sums;
        Ok(Response::new(pb::ReconcileWalletResponse {
            wallet: Some(wallet_to_proto(reconciliation.wallet)),
            ledger_blocked_paise: sums.ledger_blocked,
            ledger_consumed_paise: sums.ledger_consumed,
            held_by_preauths_paise: sums.held_by_preauths,
            consumed_by_preauths_paise: sums.consumed_by_preauths,
            ledger_entries: sums.ledger_entries,
            consistent,
        }))
    }

    async fn coverage_report(
        &self,
        request: Request<pb::CoverageReportRequest>,
    ) -> Reply<pb::CoverageReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let state =
            caller.scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?;
        if let Some(code) = &state {
            StateCode::parse(code)
                .map_err(|e| ApiError::invalid("state_code", e.reason().to_owned()))?;
        }
        let district = convert::optional_text(&r.district_code);
        if let Some(code) = &district {
            caller.ensure_district(code, "district_code")?;
        }
        let scheme = convert::optional_text(&r.scheme_code).map(|s| s.to_ascii_uppercase());
        if let Some(code) = &scheme
            && self.state.catalogue.get(code).is_none()
        {
            return Err(ApiError::invalid("scheme_code", format!("unknown scheme {code}")).into());
        }
        let lines = reports::coverage(
            &self.state.db,
            r.level(),
            state.as_deref(),
            district.as_deref(),
            scheme.as_deref(),
        )
        .await?;
        let total = lines.iter().fold(reports::CoverageLine::default(), |t, l| {
            reports::CoverageLine {
                eligible: t.eligible + l.eligible,
                carded: t.carded + l.carded,
                abha_linked: t.abha_linked + l.abha_linked,
                ..t
            }
        });
        Ok(Response::new(pb::CoverageReportResponse {
            rows: lines.iter().map(coverage_row).collect(),
            total: Some(coverage_row(&total)),
        }))
    }

    async fn operator_activity_report(
        &self,
        request: Request<pb::OperatorActivityReportRequest>,
    ) -> Reply<pb::OperatorActivityReportResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        if let Some(code) = convert::optional_text(&r.district_code) {
            caller.ensure_district(&code, "district_code")?;
        }
        let dates = r.dates.unwrap_or_default();
        let filter = ActivityFilter {
            district_code: convert::optional_text(&r.district_code),
            centre_id: convert::optional_text(&r.centre_id),
            operator_id: convert::optional_text(&r.operator_id),
            campaign_id: convert::optional_text(&r.campaign_id),
            from: convert::date_from_proto("dates.start_date", dates.start_date.as_ref())?,
            until: convert::date_from_proto("dates.end_date", dates.end_date.as_ref())?,
        };
        let mut lines = reports::operator_activity(&self.state.db, &filter).await?;
        if let Some(own) = caller.state_scope() {
            lines.retain(|l| state_of_district(&l.district_code) == own);
        }
        let active_operators = lines
            .iter()
            .map(|l| l.operator_id.as_str())
            .collect::<BTreeSet<_>>()
            .len() as i64;
        let total_cards = lines.iter().map(|l| l.cards).sum();
        let rows = lines
            .into_iter()
            .map(|l| pb::OperatorActivityRow {
                date: Some(convert::date_to_proto(l.date)),
                operator_id: l.operator_id,
                centre_id: l.centre_id,
                district_code: l.district_code,
                cards_issued: l.cards,
            })
            .collect();
        Ok(Response::new(pb::OperatorActivityReportResponse {
            rows,
            active_operators,
            total_cards,
        }))
    }

    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Reply<pb::CreateCampaignResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let campaign = request
            .campaign
            .clone()
            .ok_or_else(|| ApiError::invalid("campaign", "is required"))?;
        caller.ensure_district(campaign.district_code.trim(), "campaign.district_code")?;
        let full = self.campaign_rows(&campaign, ids::ordered_id("CMP"), db::now())?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let full = reports::save_campaign(txn, full, false).await?;
                    Ok(pb::CreateCampaignResponse {
                        campaign: Some(campaign_to_proto(full)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_campaign(
        &self,
        request: Request<pb::GetCampaignRequest>,
    ) -> Reply<pb::GetCampaignResponse> {
        let id = convert::required_text("campaign_id", &request.get_ref().campaign_id)?;
        let campaign = reports::get_campaign(&self.state.db, &id).await?;
        Caller::of(&request).ensure_state(&campaign.0.state_code, &format!("campaign {id}"))?;
        Ok(Response::new(pb::GetCampaignResponse {
            campaign: Some(campaign_to_proto(campaign)),
        }))
    }

    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> Reply<pb::ListCampaignsResponse> {
        let caller = Caller::of(&request);
        let r = request.into_inner();
        let page = PageRequest::parse(r.page_size, &r.page_token, 50, 500)?;
        let status = convert::optional_enum::<pb::CampaignStatus>("status", r.status)?
            .map(|s| s.as_str_name());
        let (state, district) = (
            caller.scoped_state_filter(convert::optional_text(&r.state_code), "state_code")?,
            convert::optional_text(&r.district_code),
        );
        if let Some(code) = &district {
            caller.ensure_district(code, "district_code")?;
        }
        let rows = queries::list_campaigns(
            &self.state.db,
            state.as_deref(),
            district.as_deref(),
            status,
            page.after.as_deref(),
            page.size,
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = page.finish(rows, |c| c.campaign_id.clone());
        let mut campaigns = Vec::with_capacity(rows.len());
        for row in rows {
            campaigns.push(campaign_to_proto(
                reports::get_campaign(&self.state.db, &row.campaign_id).await?,
            ));
        }
        Ok(Response::new(pb::ListCampaignsResponse {
            campaigns,
            next_page_token,
        }))
    }

    async fn update_campaign(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> Reply<pb::UpdateCampaignResponse> {
        const PATHS: [&str; 5] = ["name", "dates", "status", "target_cards", "camps"];
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let changes = request
            .campaign
            .clone()
            .ok_or_else(|| ApiError::invalid("campaign", "is required"))?;
        let id = convert::required_text("campaign.campaign_id", &changes.campaign_id)?;
        let paths = request
            .update_mask
            .clone()
            .map(|m| m.paths)
            .unwrap_or_default();
        if paths.is_empty() {
            return Err(ApiError::invalid(
                "update_mask",
                format!("name the fields to change: {}", PATHS.join(", ")),
            )
            .into());
        }
        if let Some(unknown) = paths.iter().find(|p| !PATHS.contains(&p.as_str())) {
            return Err(ApiError::invalid(
                "update_mask",
                format!(
                    "{unknown} cannot be changed; changeable: {}",
                    PATHS.join(", ")
                ),
            )
            .into());
        }
        let (stored, camps) = reports::get_campaign(&self.state.db, &id).await?;
        caller.ensure_state(&stored.state_code, &format!("campaign {id}"))?;
        let mut merged = campaign_to_proto((stored.clone(), camps));
        for path in &paths {
            match path.as_str() {
                "name" => merged.name = changes.name.clone(),
                "dates" => merged.dates = changes.dates,
                "status" => merged.status = changes.status,
                "target_cards" => merged.target_cards = changes.target_cards,
                _ => merged.camps = changes.camps.clone(),
            }
        }
        let full = self.campaign_rows(&merged, id, stored.created_at)?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    let full = reports::save_campaign(txn, full, true).await?;
                    Ok(pb::UpdateCampaignResponse {
                        campaign: Some(campaign_to_proto(full)),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn cancel_campaign(
        &self,
        request: Request<pb::CancelCampaignRequest>,
    ) -> Reply<pb::CancelCampaignResponse> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let id = convert::required_text("campaign_id", &request.campaign_id)?;
        let (stored, _) = reports::get_campaign(&self.state.db, &id).await?;
        caller.ensure_state(&stored.state_code, &format!("campaign {id}"))?;
        let reply = self
            .state
            .idempotency
            .keyed_by(&caller, &request)?
            .once(&self.state.db, |txn| {
                Box::pin(async move {
                    Ok(pb::CancelCampaignResponse {
                        campaign: Some(campaign_to_proto(
                            reports::cancel_campaign(txn, &id).await?,
                        )),
                    })
                })
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn campaign_progress(
        &self,
        request: Request<pb::CampaignProgressRequest>,
    ) -> Reply<pb::CampaignProgressResponse> {
        let id = convert::required_text("campaign_id", &request.get_ref().campaign_id)?;
        let progress = reports::progress(&self.state.db, &id).await?;
        Caller::of(&request)
            .ensure_state(&progress.campaign.0.state_code, &format!("campaign {id}"))?;
        let (eligible, carded_at_start, carded_now) =
            progress.blocks.iter().fold((0, 0, 0), |(e, s, n), b| {
                (e + b.eligible, s + b.carded_at_start, n + b.carded_now)
            });
        Ok(Response::new(pb::CampaignProgressResponse {
            campaign: Some(campaign_to_proto(progress.campaign)),
            eligible,
            carded_at_start,
            carded_now,
            cards_issued: progress.cards_issued,
            carded_basis_points: basis_points(carded_now, eligible),
            days: progress
                .days
                .into_iter()
                .map(|d| pb::CampaignDay {
                    date: Some(convert::date_to_proto(d.date)),
                    cards_issued: d.cards,
                    active_camps: d.active_camps,
                    camps_run_by_standby: d.camps_run_by_standby,
                })
                .collect(),
            blocks: progress
                .blocks
                .into_iter()
                .map(|b| pb::CampaignBlockProgress {
                    block_code: b.block_code,
                    eligible: b.eligible,
                    carded_at_start: b.carded_at_start,
                    carded_now: b.carded_now,
                })
                .collect(),
        }))
    }
}
