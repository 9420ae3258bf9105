//! Who is eligible and who holds a card: import, search, carding and ABHA
//! links as plain functions over validated values and a connection.

use ayushman_domain::{Aadhaar, AadhaarDigest, AbhaAddress, AbhaNumber};
use ayushman_platform::{ApiError, convert::today_in_india, db, ids};
use ayushman_proto::beneficiary::v1::{CardChannel, CardStatus};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection, IntoActiveModel,
};
use tokio::{sync::mpsc, task::JoinHandle};
use tracing::Instrument;

use crate::{
    drive_people,
    kyc::KycOutcome,
    store::{
        entities::{beneficiary, card_issuance, family, wallet},
        queries::{self, drives},
    },
};

/// What one batch of an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub families_created: u64,
}

impl std::ops::AddAssign for BatchOutcome {
    fn add_assign(&mut self, other: Self) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.families_created += other.families_created;
    }
}

/// Validated import rows: each person with the family they belong to.
pub type ImportRows = Vec<(family::Model, beneficiary::Model)>;

/// Page cache of an import's own SQLite connection, so a district's indexes
/// stay in memory while it is written; freed when the import ends. With it
/// and 10,000-row batches a Saran-sized list took 126 s; with the pool's
/// 2 MiB and 1,000-row batches, 172 s.
const IMPORT_CACHE_MIB: u32 = 256;

/// Writes an import's batches in the background, one transaction each, so
/// the next batch is received and validated while this one is written (the
/// two took turns before, each leaving a core idle half the time). At most
/// one batch waits, so memory stays flat whatever the file's size.
pub struct ImportWriter {
    batches: mpsc::Sender<ImportRows>,
    written: JoinHandle<Result<BatchOutcome, ApiError>>,
}

impl ImportWriter {
    pub fn start(db: DatabaseConnection) -> Self {
        let (batches, mut queued) = mpsc::channel::<ImportRows>(1);
        let written = tokio::spawn(
            async move {
                let writer = db::BulkWriter::open(&db, IMPORT_CACHE_MIB).await?;
                let mut total = BatchOutcome::default();
                while let Some(batch) = queued.recv().await {
                    total += write_import_batch(&writer, batch).await?;
                }
                writer.close().await?;
                Ok(total)
            }
            .instrument(tracing::Span::current()),
        );
        Self { batches, written }
    }

    /// Queues a batch, waiting while another one waits. False when the
    /// writer has stopped on an error, which [`ImportWriter::finish`] returns.
    pub async fn write(&self, batch: ImportRows) -> bool {
        batch.is_empty() || self.batches.send(batch).await.is_ok()
    }

    /// Waits for every queued batch to be committed; what they did in total.
    pub async fn finish(self) -> Result<BatchOutcome, ApiError> {
        drop(self.batches);
        self.written
            .await
            .map_err(|error| ApiError::internal(format!("import writer: {error}")))?
    }
}

/// Writes a batch of validated rows in one transaction: new families, then
/// new people; anyone already known (same family, name and year of birth,
/// Aadhaar or card) is a duplicate. PostgreSQL takes them through COPY.
pub async fn write_import_batch(
    db: &DatabaseConnection,
    rows: ImportRows,
) -> Result<BatchOutcome, ApiError> {
    let size = rows.len() as u64;
    let mut seen = std::collections::HashSet::new();
    let mut families: Vec<family::Model> = Vec::new();
    let mut people = Vec::with_capacity(rows.len());
    for (family, person) in rows {
        if seen.insert(family.family_id.clone()) {
            families.push(family);
        }
        people.push(person);
    }
    let (families_created, accepted) = if db.get_database_backend() == DatabaseBackend::Postgres {
        queries::copy_new_people(db.get_postgres_connection_pool(), &families, &people).await?
    } else {
        let txn = db::begin_write(db).await?;
        let families_created = queries::insert_new_families(&txn, families).await?;
        let accepted = queries::insert_new_beneficiaries(&txn, people).await?;
        txn.commit().await?;
        (families_created, accepted)
    };
    Ok(BatchOutcome {
        accepted,
        duplicates: size - accepted,
        families_created,
    })
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<beneficiary::Model, ApiError> {
    queries::find_beneficiary(db, id)
        .await?
        .ok_or_else(|| PersonKey::Id(id).missing())
}

/// A person by id or card number, with their family's wallets of the
/// policy years covering `date`, in one read.
pub async fn get_with_wallets(
    db: &impl ConnectionTrait,
    key: PersonKey<'_>,
    date: NaiveDate,
) -> Result<(beneficiary::Model, Vec<wallet::Model>), ApiError> {
    let (column, value) = match key {
        PersonKey::Id(id) => (beneficiary::Column::BeneficiaryId, id),
        PersonKey::Card(card) => (beneficiary::Column::CardNumber, card),
    };
    queries::find_beneficiary_with_wallets(db, column, value, date)
        .await?
        .ok_or_else(|| key.missing())
}

/// What a block reads first, in one read: the person `id` with their
/// family's wallets of the policy years covering `date`, and whether
/// preauth `preauth_id` holds any cover yet.
pub async fn get_for_block(
    db: &impl ConnectionTrait,
    id: &str,
    date: NaiveDate,
    preauth_id: &str,
) -> Result<(beneficiary::Model, Vec<wallet::Model>, bool), ApiError> {
    queries::find_beneficiary_for_block(db, id, date, preauth_id)
        .await?
        .ok_or_else(|| PersonKey::Id(id).missing())
}

/// How a caller names a person.
#[derive(Clone, Copy)]
pub enum PersonKey<'a> {
    Id(&'a str),
    Card(&'a str),
}

impl PersonKey<'_> {
    /// NOT_FOUND, saying how the caller named the person no one is.
    fn missing(self) -> ApiError {
        ApiError::NotFound(match self {
            Self::Id(id) => format!("no beneficiary with id {id}"),
            Self::Card(card) => format!("no beneficiary holds card {card}"),
        })
    }
}

/// A family with all its members.
pub async fn family(
    db: &impl ConnectionTrait,
    family_id: &str,
) -> Result<(family::Model, Vec<beneficiary::Model>), ApiError> {
    let row = queries::find_family(db, family_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no family with id {family_id}")))?;
    let members = queries::members_of(db, family_id).await?;
    Ok((row, members))
}

/// Who is carding, where, for which campaign, through which channel, and
/// who brought the person.
pub struct Carding<'a> {
    /// The operator's login; for self-service, the channel's user (or empty).
    pub operator_id: &'a str,
    /// Empty for self-service.
    pub centre_id: &'a str,
    pub campaign_id: &'a str,
    pub mobiliser_id: &'a str,
    pub channel: CardChannel,
}

/// What the drive's masters say of a card about to be made: an inactive
/// login or mobiliser, an unknown mobiliser or campaign refuse it; otherwise
/// the fee the login charges (nothing for self-service).
pub async fn check_carding(
    db: &impl ConnectionTrait,
    carding: &Carding<'_>,
) -> Result<i64, ApiError> {
    if !carding.campaign_id.is_empty()
        && drives::find_campaign(db, carding.campaign_id)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "campaign_id",
            format!("no campaign with id {}", carding.campaign_id),
        ));
    }
    if !carding.mobiliser_id.is_empty() {
        drive_people::ensure_mobiliser(db, carding.mobiliser_id).await?;
    }
    if carding.channel == CardChannel::SelfService {
        return Ok(0);
    }
    drive_people::fee_for_card(db, carding.operator_id).await
}

/// What can refuse a card without asking e-KYC: a suspended card, another
/// Aadhaar on the list, this Aadhaar on someone else, and what
/// [`check_carding`] checks. Returns the person and the fee.
pub async fn check_card(
    db: &impl ConnectionTrait,
    beneficiary_id: &str,
    digest: &AadhaarDigest,
    carding: &Carding<'_>,
) -> Result<(beneficiary::Model, i64), ApiError> {
    let person = get(db, beneficiary_id).await?;
    if person.card_status == CardStatus::Suspended.as_str_name() {
        return Err(ApiError::FailedPrecondition(format!(
            "the card of {beneficiary_id} is suspended; it cannot be re-issued"
        )));
    }
    if let Some(on_record) = &person.aadhaar_digest
        && on_record != digest.as_str()
    {
        return Err(ApiError::FailedPrecondition(
            "this Aadhaar is not the one on the eligibility list for this person".into(),
        ));
    }
    ensure_aadhaar_free(db, digest, &person.beneficiary_id).await?;
    let fee = check_carding(db, carding).await?;
    Ok((person, fee))
}

/// ALREADY_EXISTS when the Aadhaar is registered to anyone but `owner`.
async fn ensure_aadhaar_free(
    db: &impl ConnectionTrait,
    digest: &AadhaarDigest,
    owner: &str,
) -> Result<(), ApiError> {
    match queries::find_beneficiary_by(db, beneficiary::Column::AadhaarDigest, digest.as_str())
        .await?
    {
        Some(other) if other.beneficiary_id != owner => Err(ApiError::AlreadyExists(format!(
            "this Aadhaar is already registered to beneficiary {}",
            other.beneficiary_id
        ))),
        _ => Ok(()),
    }
}

/// The card record of `person`, carded now for `fee_paise`.
fn issuance(
    person: &beneficiary::Model,
    card_number: &str,
    reference: &str,
    carding: &Carding<'_>,
    fee_paise: i64,
) -> card_issuance::Model {
    card_issuance::Model {
        card_number: card_number.to_owned(),
        beneficiary_id: person.beneficiary_id.clone(),
        operator_id: carding.operator_id.to_owned(),
        centre_id: carding.centre_id.to_owned(),
        campaign_id: carding.campaign_id.to_owned(),
        kyc_reference: reference.to_owned(),
        state_code: person.state_code.clone(),
        district_code: person.district_code.clone(),
        block_code: person.block_code.clone(),
        issued_on: today_in_india(),
        issued_at: db::now(),
        channel: carding.channel.as_str_name().to_owned(),
        mobiliser_id: carding.mobiliser_id.to_owned(),
        fee_paise,
    }
}

/// Issues the card of a person e-KYC verified (the checks of [`check_card`]
/// run again inside the transaction), or returns the card already issued (a
/// re-print).
pub async fn record_card(
    db: &impl ConnectionTrait,
    beneficiary_id: &str,
    aadhaar: &Aadhaar,
    digest: &AadhaarDigest,
    verified: &KycOutcome,
    carding: &Carding<'_>,
) -> Result<beneficiary::Model, ApiError> {
    let (person, fee) = check_card(db, beneficiary_id, digest, carding).await?;
    if person.card_status == CardStatus::Issued.as_str_name() {
        return Ok(person);
    }
    let card_number = ids::new_id(&format!("C{}", person.state_code));
    let issued = issuance(&person, &card_number, &verified.reference, carding, fee);
    let mut row = person.into_active_model();
    row.card_channel = Set(carding.channel.as_str_name().to_owned());
    row.card_mobiliser_id = Set(carding.mobiliser_id.to_owned());
    row.aadhaar_digest = Set(Some(digest.as_str().to_owned()));
    row.aadhaar_last4 = Set(aadhaar.last4());
    row.card_number = Set(Some(card_number));
    row.card_status = Set(CardStatus::Issued.as_str_name().to_owned());
    row.card_issued_at = Set(Some(issued.issued_at));
    let person = queries::save_beneficiary(db, row).await?;
    queries::insert_card_issuance(db, issued).await?;
    Ok(person)
}

/// Enrols and cards a citizen on no list (Ayushman Vay Vandana), whom e-KYC
/// verified: a family of their own, the senior scheme, a card.
pub async fn enrol_senior(
    db: &impl ConnectionTrait,
    person: beneficiary::Model,
    aadhaar: &Aadhaar,
    digest: &AadhaarDigest,
    verified: &KycOutcome,
    carding: &Carding<'_>,
) -> Result<beneficiary::Model, ApiError> {
    ensure_aadhaar_free(db, digest, "").await?;
    let fee = check_carding(db, carding).await?;
    let card_number = ids::new_id(&format!("C{}", person.state_code));
    let issued = issuance(&person, &card_number, &verified.reference, carding, fee);
    let family = family::Model {
        family_id: person.family_id.clone(),
        source_list: person.source_list.clone(),
        state_code: person.state_code.clone(),
        district_code: person.district_code.clone(),
        block_code: person.block_code.clone(),
        village_code: person.village_code.clone(),
        created_at: issued.issued_at,
    };
    let person = beneficiary::Model {
        aadhaar_digest: Some(digest.as_str().to_owned()),
        aadhaar_last4: aadhaar.last4(),
        card_number: Some(card_number),
        card_status: CardStatus::Issued.as_str_name().to_owned(),
        card_issued_at: Some(issued.issued_at),
        card_channel: carding.channel.as_str_name().to_owned(),
        card_mobiliser_id: carding.mobiliser_id.to_owned(),
        ..person
    };
    queries::insert_new_families(db, vec![family]).await?;
    if queries::insert_new_beneficiaries(db, vec![person.clone()]).await? == 0 {
        return Err(ApiError::AlreadyExists(
            "this person is registered already".into(),
        ));
    }
    queries::insert_card_issuance(db, issued).await?;
    Ok(person)
}

/// Links an ABHA to a beneficiary; one ABHA per beneficiary and per person.
pub async fn link_abha(
    db: &impl ConnectionTrait,
    beneficiary_id: &str,
    number: AbhaNumber,
    address: Option<AbhaAddress>,
) -> Result<beneficiary::Model, ApiError> {
    let person = get(db, beneficiary_id).await?;
    let digits = number.digits();
    if let Some(linked) = &person.abha_number {
        let same_address = address
            .as_ref()
            .is_none_or(|a| person.abha_address.as_deref() == Some(a.as_str()));
        return if *linked == digits && same_address {
            Ok(person)
        } else {
            Err(ApiError::AlreadyExists(format!(
                "{beneficiary_id} is already linked to ABHA {}",
                AbhaNumber::parse(linked)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| linked.clone())
            )))
        };
    }
    if let Some(other) =
        queries::find_beneficiary_by(db, beneficiary::Column::AbhaNumber, &digits).await?
    {
        return Err(ApiError::AlreadyExists(format!(
            "ABHA {number} is already linked to beneficiary {}",
            other.beneficiary_id
        )));
    }
    if let Some(address) = &address
        && let Some(other) =
            queries::find_beneficiary_by(db, beneficiary::Column::AbhaAddress, address.as_str())
                .await?
    {
        return Err(ApiError::AlreadyExists(format!(
            "ABHA address {address} is already linked to beneficiary {}",
            other.beneficiary_id
        )));
    }
    let mut row = person.into_active_model();
    row.abha_number = Set(Some(digits));
    row.abha_address = Set(address.map(|a| a.as_str().to_owned()));
    Ok(queries::save_beneficiary(db, row).await?)
}
