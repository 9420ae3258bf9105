//! gRPC handlers of `BeneficiaryRegistryService`, one file per area: the
//! scheme master (`schemes`), people and cards (`people`), eligibility and
//! wallets (`wallet`), coverage and operator reports (`reports`), card drives
//! (`campaigns`) and their masters of areas, operators and mobilisers
//! (`drives`). Each
//! handler validates and translates the request, calls a use case, and
//! translates the answer back; this file holds what they share.

mod campaigns;
mod drives;
mod people;
mod reports;
mod schemes;
mod wallet;

use ayushman_domain::AbhaNumber;
use ayushman_platform::{ApiError, Caller, convert};
use ayushman_proto::{
    beneficiary::v1::{
        self as pb, beneficiary_registry_service_server::BeneficiaryRegistryService,
    },
    common::v1::{Actor as ProtoActor, ActorKind, Gender, Location},
    google::r#type::Date,
};
use chrono::NaiveDate;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    AppState, registry,
    schemes::{Catalogue, Member},
    store::{
        entities::{beneficiary, hold, ledger_entry, wallet as wallet_row},
        queries,
    },
};

/// The `BeneficiaryRegistryService` implementation.
pub struct BeneficiaryRegistryApi {
    /// Database, schemes, KYC provider and limits shared by the handlers.
    pub state: AppState,
}

type Reply<T> = Result<Response<T>, Status>;

fn date_or_today(field: &str, date: Option<&Date>) -> Result<NaiveDate, ApiError> {
    Ok(convert::date_from_proto(field, date)?.unwrap_or_else(convert::today_in_india))
}

fn abha_display(digits: &str) -> String {
    AbhaNumber::parse(digits)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| digits.to_owned())
}

/// A person as the contracts show them; their schemes are those covering
/// them today (the senior cover appears in the year they turn 70).
fn beneficiary_to_proto(row: beneficiary::Model, catalogue: &Catalogue) -> pb::Beneficiary {
    let scheme_codes = catalogue
        .schemes_of(&Member::of(&row), convert::today_in_india())
        .iter()
        .map(|s| s.code.clone())
        .collect();
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
        scheme_codes,
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
        card_channel: pb::CardChannel::from_str_name(&row.card_channel).unwrap_or_default() as i32,
        card_mobiliser_id: row.card_mobiliser_id,
    }
}

fn wallet_to_proto(row: wallet_row::Model) -> pb::Wallet {
    pb::Wallet {
        available_paise: row.available_paise(),
        wallet_id: row.wallet_id,
        family_id: row.family_id,
        beneficiary_id: row.beneficiary_id,
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

fn hold_to_proto(row: hold::Model) -> pb::Hold {
    pb::Hold {
        wallet_id: row.wallet_id,
        scheme_code: row.scheme_code,
        held_paise: row.held_paise,
        consumed_paise: row.consumed_paise,
        released_paise: row.released_paise,
    }
}

/// PERMISSION_DENIED unless the caller may see the wallet's family.
async fn ensure_wallet_in_scope(
    state: &AppState,
    caller: &Caller,
    wallet_id: &str,
) -> Result<(), ApiError> {
    if caller.state_scope().is_none() {
        return Ok(());
    }
    let wallet = queries::find_wallet(&state.db, wallet_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no wallet {wallet_id}")))?;
    let (family, _) = registry::family(&state.db, &wallet.family_id).await?;
    caller.ensure_state(&family.state_code, &format!("wallet {wallet_id}"))
}

/// PERMISSION_DENIED when the caller may not act on this person's state.
async fn ensure_person_in_scope(
    state: &AppState,
    caller: &Caller,
    beneficiary_id: &str,
) -> Result<(), ApiError> {
    if caller.state_scope().is_some() {
        let person = registry::get(&state.db, beneficiary_id).await?;
        caller.ensure_state(&person.state_code, &format!("beneficiary {beneficiary_id}"))?;
    }
    Ok(())
}

#[tonic::async_trait]
impl BeneficiaryRegistryService for BeneficiaryRegistryApi {
    async fn list_schemes(
        &self,
        request: Request<pb::ListSchemesRequest>,
    ) -> Reply<pb::ListSchemesResponse> {
        schemes::list_schemes(&self.state, request).await
    }

    async fn get_scheme(
        &self,
        request: Request<pb::GetSchemeRequest>,
    ) -> Reply<pb::GetSchemeResponse> {
        schemes::get_scheme(&self.state, request).await
    }

    async fn create_scheme(
        &self,
        request: Request<pb::CreateSchemeRequest>,
    ) -> Reply<pb::CreateSchemeResponse> {
        schemes::create_scheme(&self.state, request).await
    }

    async fn update_scheme(
        &self,
        request: Request<pb::UpdateSchemeRequest>,
    ) -> Reply<pb::UpdateSchemeResponse> {
        schemes::update_scheme(&self.state, request).await
    }

    async fn import_eligibility(
        &self,
        request: Request<Streaming<pb::ImportEligibilityRequest>>,
    ) -> Reply<pb::ImportEligibilityResponse> {
        people::import_eligibility(&self.state, request).await
    }

    async fn search_beneficiaries(
        &self,
        request: Request<pb::SearchBeneficiariesRequest>,
    ) -> Reply<pb::SearchBeneficiariesResponse> {
        people::search_beneficiaries(&self.state, request).await
    }

    async fn get_beneficiary(
        &self,
        request: Request<pb::GetBeneficiaryRequest>,
    ) -> Reply<pb::GetBeneficiaryResponse> {
        people::get_beneficiary(&self.state, request).await
    }

    async fn get_family(
        &self,
        request: Request<pb::GetFamilyRequest>,
    ) -> Reply<pb::GetFamilyResponse> {
        people::get_family(&self.state, request).await
    }

    async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Reply<pb::IssueCardResponse> {
        people::issue_card(&self.state, request).await
    }

    async fn link_abha(
        &self,
        request: Request<pb::LinkAbhaRequest>,
    ) -> Reply<pb::LinkAbhaResponse> {
        people::link_abha(&self.state, request).await
    }

    async fn enrol_senior_citizen(
        &self,
        request: Request<pb::EnrolSeniorCitizenRequest>,
    ) -> Reply<pb::EnrolSeniorCitizenResponse> {
        people::enrol_senior_citizen(&self.state, request).await
    }

    async fn verify_eligibility(
        &self,
        request: Request<pb::VerifyEligibilityRequest>,
    ) -> Reply<pb::VerifyEligibilityResponse> {
        wallet::verify_eligibility(&self.state, request).await
    }

    async fn get_balance(
        &self,
        request: Request<pb::GetBalanceRequest>,
    ) -> Reply<pb::GetBalanceResponse> {
        wallet::get_balance(&self.state, request).await
    }

    async fn block_amount(
        &self,
        request: Request<pb::BlockAmountRequest>,
    ) -> Reply<pb::BlockAmountResponse> {
        wallet::block_amount(&self.state, request).await
    }

    async fn release_amount(
        &self,
        request: Request<pb::ReleaseAmountRequest>,
    ) -> Reply<pb::ReleaseAmountResponse> {
        wallet::release_amount(&self.state, request).await
    }

    async fn consume_amount(
        &self,
        request: Request<pb::ConsumeAmountRequest>,
    ) -> Reply<pb::ConsumeAmountResponse> {
        wallet::consume_amount(&self.state, request).await
    }

    async fn list_ledger_entries(
        &self,
        request: Request<pb::ListLedgerEntriesRequest>,
    ) -> Reply<pb::ListLedgerEntriesResponse> {
        wallet::list_ledger_entries(&self.state, request).await
    }

    async fn reconcile_wallet(
        &self,
        request: Request<pb::ReconcileWalletRequest>,
    ) -> Reply<pb::ReconcileWalletResponse> {
        wallet::reconcile_wallet(&self.state, request).await
    }

    async fn coverage_report(
        &self,
        request: Request<pb::CoverageReportRequest>,
    ) -> Reply<pb::CoverageReportResponse> {
        reports::coverage_report(&self.state, request).await
    }

    async fn operator_activity_report(
        &self,
        request: Request<pb::OperatorActivityReportRequest>,
    ) -> Reply<pb::OperatorActivityReportResponse> {
        reports::operator_activity_report(&self.state, request).await
    }

    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Reply<pb::CreateCampaignResponse> {
        campaigns::create_campaign(&self.state, request).await
    }

    async fn get_campaign(
        &self,
        request: Request<pb::GetCampaignRequest>,
    ) -> Reply<pb::GetCampaignResponse> {
        campaigns::get_campaign(&self.state, request).await
    }

    async fn list_campaigns(
        &self,
        request: Request<pb::ListCampaignsRequest>,
    ) -> Reply<pb::ListCampaignsResponse> {
        campaigns::list_campaigns(&self.state, request).await
    }

    async fn update_campaign(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> Reply<pb::UpdateCampaignResponse> {
        campaigns::update_campaign(&self.state, request).await
    }

    async fn cancel_campaign(
        &self,
        request: Request<pb::CancelCampaignRequest>,
    ) -> Reply<pb::CancelCampaignResponse> {
        campaigns::cancel_campaign(&self.state, request).await
    }

    async fn campaign_progress(
        &self,
        request: Request<pb::CampaignProgressRequest>,
    ) -> Reply<pb::CampaignProgressResponse> {
        campaigns::campaign_progress(&self.state, request).await
    }

    async fn upsert_areas(
        &self,
        request: Request<pb::UpsertAreasRequest>,
    ) -> Reply<pb::UpsertAreasResponse> {
        drives::upsert_areas(&self.state, request).await
    }

    async fn list_areas(
        &self,
        request: Request<pb::ListAreasRequest>,
    ) -> Reply<pb::ListAreasResponse> {
        drives::list_areas(&self.state, request).await
    }

    async fn upsert_operators(
        &self,
        request: Request<pb::UpsertOperatorsRequest>,
    ) -> Reply<pb::UpsertOperatorsResponse> {
        drives::upsert_operators(&self.state, request).await
    }

    async fn list_operators(
        &self,
        request: Request<pb::ListOperatorsRequest>,
    ) -> Reply<pb::ListOperatorsResponse> {
        drives::list_operators(&self.state, request).await
    }

    async fn upsert_mobilisers(
        &self,
        request: Request<pb::UpsertMobilisersRequest>,
    ) -> Reply<pb::UpsertMobilisersResponse> {
        drives::upsert_mobilisers(&self.state, request).await
    }

    async fn list_mobilisers(
        &self,
        request: Request<pb::ListMobilisersRequest>,
    ) -> Reply<pb::ListMobilisersResponse> {
        drives::list_mobilisers(&self.state, request).await
    }
}
