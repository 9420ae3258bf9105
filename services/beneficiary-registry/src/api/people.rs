//! People and cards: ImportEligibility, SearchBeneficiaries, GetBeneficiary,
//! GetFamily, IssueCard, LinkAbha, EnrolSeniorCitizen.

use ayushman_domain::{Aadhaar, AbhaAddress, AbhaNumber, StateCode, india_time::start_of_day};
use ayushman_platform::{
    ApiError, Caller, FieldViolations,
    convert::{self, PageRequest, today_in_india},
    db, ids,
};
use ayushman_proto::{
    beneficiary::v1 as pb,
    common::v1::{Actor, Gender, Location, Role, RowReject},
};
use secrecy::SecretString;
use tonic::{Request, Response, Streaming};

use super::{Reply, beneficiary_to_proto, ensure_person_in_scope, wallet::family_wallets};
use crate::{
    AppState, areas,
    kyc::{KycOutcome, KycRequest},
    registry::{self, Carding},
    schemes::Catalogue,
    store::{
        entities::{beneficiary, family},
        queries::{self, Search},
    },
};

/// Who makes a card, where and how.
struct CardMaker {
    operator_id: String,
    centre_id: String,
    channel: pb::CardChannel,
}

/// Who makes a card: the user the gateway authenticated for a partner's
/// call, else the operator the request names. A beneficiary channel's user
/// always makes their own card (self-service), and only they may: no centre,
/// e-KYC by OTP or face. Inside the mesh, `self_service` says so. An
/// operator's card needs a centre. Problems go into `v`.
fn card_maker(
    v: &mut FieldViolations,
    caller: &Caller,
    request: (Option<&Actor>, &str, bool),
    method: Option<pb::KycMethod>,
) -> CardMaker {
    let (named, centre_id, self_service) = request;
    let named = named.map(|a| a.actor_id.trim()).unwrap_or_default();
    let centre_id = centre_id.trim().to_owned();
    let (operator_id, channel) = match caller.user() {
        Some(user) if user.roles.contains(&Role::Beneficiary) => {
            (user.user_id.clone(), pb::CardChannel::SelfService)
        }
        Some(user) => {
            if self_service {
                v.add(
                    "self_service",
                    "only a beneficiary channel's user makes self-service cards; operators card people at a centre",
                );
            }
            (user.user_id.clone(), pb::CardChannel::Operator)
        }
        None if self_service => (named.to_owned(), pb::CardChannel::SelfService),
        None => {
            v.require("operator.actor_id", named);
            (named.to_owned(), pb::CardChannel::Operator)
        }
    };
    if channel == pb::CardChannel::Operator {
        v.require("centre_id", &centre_id);
    } else {
        if !centre_id.is_empty() {
            v.add(
                "centre_id",
                "a self-service card is made at no centre; leave it empty",
            );
        }
        if method == Some(pb::KycMethod::AadhaarBiometric) {
            v.add(
                "kyc_method",
                "a self-service card is verified by Aadhaar OTP or face authentication",
            );
        }
    }
    CardMaker {
        operator_id,
        centre_id,
        channel,
    }
}

/// The state of `location`, checking its state and district codes and that
/// the caller may act for `what` there; each problem goes into `v`.
fn home_of(
    v: &mut FieldViolations,
    caller: &Caller,
    location: &Location,
    what: &str,
) -> Option<StateCode> {
    let state = v.check(
        "location.state_code",
        StateCode::parse(&location.state_code),
    )?;
    v.check(
        "location.district_code",
        areas::check_district(&state.code(), location.district_code.trim()),
    );
    v.check(
        "location.state_code",
        caller.ensure_state(&state.code(), what),
    );
    Some(state)
}

/// Rows written per transaction by ImportEligibility. PostgreSQL streams
/// them through COPY, where a larger batch spreads the staging table's cost
/// over more rows; on SQLite a commit writes every page the batch touched,
/// and a larger batch touches each index page for more rows at once. A
/// batch holds the file's write lock, for about half a second at this size.
const IMPORT_BATCH_ROWS: usize = 10_000;

/// Validates one eligibility row into the family and person to store.
fn eligibility_row(
    hmac_key: &[u8],
    catalogue: &Catalogue,
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
        convert::required_enum::<pb::Relation>("relation", row.relation).map_err(|_| "is required"),
    );
    let location = row.location.clone().unwrap_or_default();
    let state = home_of(&mut v, caller, &location, "this row");
    let aadhaar = match row.aadhaar.trim() {
        "" => None,
        text => v.check("aadhaar", Aadhaar::parse(text)),
    };
    let schemes = match (state, source) {
        (Some(state), Some(source)) => v.check(
            "eligibility_category",
            catalogue.schemes_for_row(&state.code(), source, row.eligibility_category.trim()),
        ),
        _ => None,
    };
    let card = convert::optional_text(&row.existing_card_number);
    let card_issued_at =
        match convert::date_from_proto("card_issued_on", row.card_issued_on.as_ref()) {
            Ok(Some(day)) if day > today_in_india() => {
                v.add("card_issued_on", "is in the future");
                None
            }
            Ok(day) => day.filter(|_| card.is_some()).map(start_of_day),
            Err(_) => {
                v.add("card_issued_on", "must be a real date");
                None
            }
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
    let person = beneficiary::Model {
        beneficiary_id: ids::ordered_id("BEN"),
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
            .map(|a| a.digest(hmac_key).as_str().to_owned()),
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
        card_channel: if card.is_some() {
            pb::CardChannel::Imported.as_str_name().to_owned()
        } else {
            String::new()
        },
        card_number: card,
        card_issued_at,
        card_mobiliser_id: String::new(),
        created_at: now,
    };
    Ok((family, person))
}

pub(super) async fn import_eligibility(
    state: &AppState,
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
            return Err(
                ApiError::invalid("header", "the first message must be the import header").into(),
            );
        }
    };
    let keyed = state
        .idempotency
        .keyed_as(
            &caller,
            "ImportEligibility",
            &header.idempotency_key,
            &header,
        )
        .map_err(|_| ApiError::invalid("header.idempotency_key", "is required"))?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let mut summary = pb::ImportEligibilityResponse::default();
    let writer = registry::ImportWriter::start(state.db.clone());
    let mut batch = Vec::with_capacity(IMPORT_BATCH_ROWS);
    while let Some(message) = stream.message().await? {
        let Some(Item::Row(row)) = message.item else {
            return Err(
                ApiError::invalid("header", "only the first message may be a header").into(),
            );
        };
        summary.rows_received += 1;
        match eligibility_row(state.hmac_key(), &catalogue, &caller, &row) {
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
        if batch.len() == IMPORT_BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH_ROWS));
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
        .once(&state.db, |_| Box::pin(async move { Ok(summary) }))
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn search_beneficiaries(
    state: &AppState,
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
                aadhaar.digest(state.hmac_key()).as_str().to_owned(),
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
    let mut rows = queries::search(&state.db, &search, page.after.as_deref(), page.size)
        .await
        .map_err(ApiError::from)?;
    // A state partner sees its own state's people only.
    if let Some(own) = caller.state_scope() {
        rows.retain(|b| b.state_code == own);
    }
    let (rows, next_page_token) = page.finish(rows, |b| search.page_key(b));
    let catalogue = state.schemes.catalogue(&state.db).await?;
    Ok(Response::new(pb::SearchBeneficiariesResponse {
        beneficiaries: rows
            .into_iter()
            .map(|row| beneficiary_to_proto(row, &catalogue))
            .collect(),
        next_page_token,
    }))
}

pub(super) async fn get_beneficiary(
    state: &AppState,
    request: Request<pb::GetBeneficiaryRequest>,
) -> Reply<pb::GetBeneficiaryResponse> {
    let id = convert::required_text("beneficiary_id", &request.get_ref().beneficiary_id)?;
    let row = registry::get(&state.db, &id).await?;
    Caller::of(&request).ensure_state(&row.state_code, &format!("beneficiary {id}"))?;
    let catalogue = state.schemes.catalogue(&state.db).await?;
    Ok(Response::new(pb::GetBeneficiaryResponse {
        beneficiary: Some(beneficiary_to_proto(row, &catalogue)),
    }))
}

pub(super) async fn get_family(
    state: &AppState,
    request: Request<pb::GetFamilyRequest>,
) -> Reply<pb::GetFamilyResponse> {
    let id = convert::required_text("family_id", &request.get_ref().family_id)?;
    let (row, members) = registry::family(&state.db, &id).await?;
    Caller::of(&request).ensure_state(&row.state_code, &format!("family {id}"))?;
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let wallets = family_wallets(state, &catalogue, &members, None, today_in_india()).await?;
    Ok(Response::new(pb::GetFamilyResponse {
        family: Some(pb::Family {
            family_id: row.family_id,
            source_list: pb::SourceList::from_str_name(&row.source_list).unwrap_or_default() as i32,
            location: Some(Location {
                state_code: row.state_code,
                district_code: row.district_code,
                block_code: row.block_code,
                village_code: row.village_code,
            }),
            members: members
                .into_iter()
                .map(|row| beneficiary_to_proto(row, &catalogue))
                .collect(),
            wallets,
        }),
    }))
}

pub(super) async fn issue_card(
    state: &AppState,
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
    let maker = card_maker(
        &mut v,
        &caller,
        (
            request.operator.as_ref(),
            &request.centre_id,
            request.self_service,
        ),
        method,
    );
    proof_of_kyc(&mut v, state, &request.kyc_proof);
    v.into_result()?;
    let (Some(aadhaar), Some(method)) = (aadhaar, method) else {
        return Err(ApiError::internal("validated fields missing").into());
    };
    let id = request.beneficiary_id.trim().to_owned();
    ensure_person_in_scope(state, &caller, &id).await?;
    let digest = aadhaar.digest(state.hmac_key());
    let (campaign_id, mobiliser_id) = (
        request.campaign_id.trim().to_owned(),
        request.mobiliser_id.trim().to_owned(),
    );
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    // e-KYC is asked before any write transaction opens: a slow provider
    // never holds the database.
    let carding = Carding {
        operator_id: &maker.operator_id,
        centre_id: &maker.centre_id,
        campaign_id: &campaign_id,
        mobiliser_id: &mobiliser_id,
        channel: maker.channel,
    };
    let (person, _) = registry::check_card(&state.db, &id, &digest, &carding).await?;
    let outcome = verified(state, &aadhaar, method, &request.kyc_proof, &person.name, 0).await?;
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let reply = keyed
        .once(&state.db, |txn| {
            Box::pin(async move {
                let carding = Carding {
                    operator_id: &maker.operator_id,
                    centre_id: &maker.centre_id,
                    campaign_id: &campaign_id,
                    mobiliser_id: &mobiliser_id,
                    channel: maker.channel,
                };
                let person =
                    registry::record_card(txn, &id, &aadhaar, &digest, &outcome, &carding).await?;
                Ok(pb::IssueCardResponse {
                    beneficiary: Some(beneficiary_to_proto(person, &catalogue)),
                    kyc: Some(kyc_result(outcome)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

/// e-KYC of `aadhaar`; FAILED_PRECONDITION with the provider's reason when it
/// does not verify, UNAVAILABLE when the provider cannot be asked.
/// The proof of the e-KYC method, required when the provider needs one.
fn proof_of_kyc(v: &mut FieldViolations, state: &AppState, proof: &str) {
    if state.kyc.needs_proof() && proof.trim().is_empty() {
        v.add(
            "kyc_proof",
            "is required: the OTP the person received, or the PID block of the capture",
        );
    }
}

/// What e-KYC says of the person presenting `aadhaar` with `proof`.
async fn verified(
    state: &AppState,
    aadhaar: &Aadhaar,
    method: pb::KycMethod,
    proof: &str,
    listed_name: &str,
    stated_year_of_birth: i32,
) -> Result<KycOutcome, ApiError> {
    let request = KycRequest {
        aadhaar: aadhaar.clone(),
        listed_name: listed_name.to_owned(),
        method,
        proof: SecretString::from(proof.trim().to_owned()),
        stated_year_of_birth,
    };
    let outcome = state.kyc.verify(&request).await.map_err(|e| {
        ApiError::Unavailable(format!(
            "the e-KYC service cannot be reached ({e}); retry later"
        ))
    })?;
    if !outcome.verified {
        return Err(ApiError::FailedPrecondition(format!(
            "e-KYC failed: {}",
            outcome.failure_reason
        )));
    }
    Ok(outcome)
}

fn kyc_result(outcome: KycOutcome) -> pb::KycResult {
    pb::KycResult {
        verified: outcome.verified,
        name_on_record: outcome.name_on_record,
        failure_reason: outcome.failure_reason,
        provider_reference: outcome.reference,
        year_of_birth: outcome.year_of_birth,
    }
}

/// The ABHA account ABDM has for `number`, checked before anything is
/// written: it exists, is active, and (when given) `address` is its address.
async fn abha_confirmed(
    state: &AppState,
    number: &AbhaNumber,
    address: Option<&AbhaAddress>,
) -> Result<(), ApiError> {
    use ayushman_abdm::Lookup;
    let account = match state
        .abdm
        .abha(&number.to_string())
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?
    {
        Lookup::Found(account) => account,
        Lookup::NotFound => {
            return Err(ApiError::FailedPrecondition(format!(
                "the ABHA registry has no account {number}; check the number on the ABHA card"
            )));
        }
    };
    if !account.active {
        return Err(ApiError::FailedPrecondition(format!(
            "ABHA {number} is not active in the ABHA registry"
        )));
    }
    if let (Some(address), Some(registered)) = (address, &account.abha_address)
        && registered != address.as_str()
    {
        return Err(ApiError::FailedPrecondition(format!(
            "ABHA {number} has the address {registered} in the ABHA registry, not {address}"
        )));
    }
    Ok(())
}

pub(super) async fn link_abha(
    state: &AppState,
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
    ensure_person_in_scope(state, &caller, &id).await?;
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    abha_confirmed(state, &number, address.as_ref()).await?;
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let reply = keyed
        .once(&state.db, |txn| {
            Box::pin(async move {
                let person = registry::link_abha(txn, &id, number, address).await?;
                Ok(pb::LinkAbhaResponse {
                    beneficiary: Some(beneficiary_to_proto(person, &catalogue)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn enrol_senior_citizen(
    state: &AppState,
    request: Request<pb::EnrolSeniorCitizenRequest>,
) -> Reply<pb::EnrolSeniorCitizenResponse> {
    let caller = Caller::of(&request);
    let request = request.into_inner();
    let mut v = FieldViolations::new();
    let aadhaar = v.check("aadhaar", Aadhaar::parse(&request.aadhaar));
    let method = v.check(
        "kyc_method",
        convert::required_enum::<pb::KycMethod>("kyc_method", request.kyc_method)
            .map_err(|_| "is required: OTP, biometric or face"),
    );
    v.require("name", &request.name);
    v.max_chars("name", &request.name, 120);
    let gender = v.check(
        "gender",
        convert::required_enum::<Gender>("gender", request.gender).map_err(|_| "is required"),
    );
    let today = today_in_india();
    let age = chrono::Datelike::year(&today) - request.year_of_birth;
    if !(1900..=chrono::Datelike::year(&today)).contains(&request.year_of_birth) {
        v.add("year_of_birth", "must be a real year of birth");
    }
    let location = request.location.clone().unwrap_or_default();
    let home = home_of(&mut v, &caller, &location, "this person");
    let maker = card_maker(
        &mut v,
        &caller,
        (
            request.operator.as_ref(),
            &request.centre_id,
            request.self_service,
        ),
        method,
    );
    proof_of_kyc(&mut v, state, &request.kyc_proof);
    v.into_result()?;
    let (Some(aadhaar), Some(method), Some(gender), Some(home)) = (aadhaar, method, gender, home)
    else {
        return Err(ApiError::internal("validated fields missing").into());
    };
    let catalogue = state.schemes.catalogue(&state.db).await?;
    let senior = catalogue
        .all()
        .iter()
        .find(|s| {
            s.is_active()
                && s.enrolments.iter().any(|e| {
                    e.source == pb::SourceList::Age70Plus
                        && (e.state.is_empty() || e.state == home.code())
                })
        })
        .ok_or_else(|| {
            ApiError::FailedPrecondition(format!(
                "no scheme enrols citizens by age in state {}",
                home.code()
            ))
        })?
        .clone();
    if age < senior.minimum_age {
        return Err(ApiError::invalid(
            "year_of_birth",
            format!(
                "{} covers people aged {} and over",
                senior.code, senior.minimum_age
            ),
        )
        .into());
    }
    let keyed = state.idempotency.keyed_by(&caller, &request)?;
    if let Some(reply) = keyed.recall(&state.db).await? {
        return Ok(Response::new(reply));
    }
    let mobiliser_id = request.mobiliser_id.trim().to_owned();
    registry::check_carding(
        &state.db,
        &Carding {
            operator_id: &maker.operator_id,
            centre_id: &maker.centre_id,
            campaign_id: "",
            mobiliser_id: &mobiliser_id,
            channel: maker.channel,
        },
    )
    .await?;
    let digest = aadhaar.digest(state.hmac_key());
    if let Some(known) = queries::find_beneficiary_by(
        &state.db,
        beneficiary::Column::AadhaarDigest,
        digest.as_str(),
    )
    .await
    .map_err(ApiError::from)?
    {
        return Err(ApiError::AlreadyExists(format!(
            "this Aadhaar is registered to beneficiary {} already; the senior cover applies by age",
            known.beneficiary_id
        ))
        .into());
    }
    let outcome = verified(
        state,
        &aadhaar,
        method,
        &request.kyc_proof,
        request.name.trim(),
        request.year_of_birth,
    )
    .await?;
    if outcome.year_of_birth == 0 || age_in(today, outcome.year_of_birth) < senior.minimum_age {
        return Err(ApiError::FailedPrecondition(format!(
            "Aadhaar gives a year of birth of {}; {} covers people aged {} and over",
            outcome.year_of_birth, senior.code, senior.minimum_age
        ))
        .into());
    }
    let family_id = format!("VV-{}", ids::new_id(&home.code()));
    let now = db::now();
    let person = beneficiary::Model {
        beneficiary_id: ids::ordered_id("BEN"),
        family_id,
        name: request.name.trim().to_owned(),
        name_key: request.name.trim().to_lowercase(),
        gender: gender.as_str_name().to_owned(),
        year_of_birth: outcome.year_of_birth,
        relation: pb::Relation::Head.as_str_name().to_owned(),
        state_code: home.code(),
        district_code: location.district_code.trim().to_owned(),
        block_code: location.block_code.trim().to_owned(),
        village_code: location.village_code.trim().to_owned(),
        source_list: pb::SourceList::Age70Plus.as_str_name().to_owned(),
        eligibility_category: senior.categories.first().cloned().unwrap_or_default(),
        scheme_codes: senior.code.clone(),
        aadhaar_digest: None,
        aadhaar_last4: String::new(),
        abha_number: None,
        abha_address: None,
        card_number: None,
        card_status: pb::CardStatus::NotIssued.as_str_name().to_owned(),
        card_issued_at: None,
        card_channel: String::new(),
        card_mobiliser_id: String::new(),
        created_at: now,
    };
    let reply = keyed
        .once(&state.db, |txn| {
            Box::pin(async move {
                let carding = Carding {
                    operator_id: &maker.operator_id,
                    centre_id: &maker.centre_id,
                    campaign_id: "",
                    mobiliser_id: &mobiliser_id,
                    channel: maker.channel,
                };
                let person =
                    registry::enrol_senior(txn, person, &aadhaar, &digest, &outcome, &carding)
                        .await?;
                Ok(pb::EnrolSeniorCitizenResponse {
                    beneficiary: Some(beneficiary_to_proto(person, &catalogue)),
                    kyc: Some(kyc_result(outcome)),
                })
            })
        })
        .await?;
    Ok(Response::new(reply))
}

/// Age in whole years reached in `today`'s calendar year.
fn age_in(today: chrono::NaiveDate, year_of_birth: i32) -> i32 {
    chrono::Datelike::year(&today) - year_of_birth
}
