//! Enhancements (DESIGN §4, Turnaround): the hospital asks for more cover —
//! extra packages or a longer stay — and a reviewer decides. Nothing is
//! blocked until the request is approved; an approved enhancement adds its
//! packages and amount to the preauth (and to its approved amount when the
//! preauth is approved already, so the claim may be for it).

use std::collections::BTreeSet;

use ayushman_domain::Money;
use ayushman_platform::{
    ApiError, db,
    db::idempotency::OnCommit,
    ids,
    lifecycle::{self, Actor, Lifecycle, Stored},
};
use ayushman_proto::{
    ProtoEnum,
    common::v1::Ownership,
    portability::v1::RateRule,
    preauth::v1::{EnhancementDecision, EnhancementStatus, PreauthStatus},
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel};

use crate::{
    Context,
    peers::{CaseToRoute, Hold, Move},
    pricing,
    saga::{self, Also, stored},
    store::{
        entities::{enhancement, preauth, preauth_line},
        queries,
    },
};

/// The statuses of an enhancement request.
pub struct Enhancements;

impl Lifecycle for Enhancements {
    type Status = EnhancementStatus;
    const NOUN: &'static str = "enhancement";
    const MOVES: &'static [(EnhancementStatus, EnhancementStatus)] = &[
        (EnhancementStatus::Requested, EnhancementStatus::Approved),
        (EnhancementStatus::Requested, EnhancementStatus::Rejected),
    ];
}

/// A priced line as an enhancement keeps it until it is approved.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredLine {
    pub package_code: String,
    pub specialty_code: String,
    pub add_on_codes: String,
    pub rate_paise: i64,
    pub add_ons_paise: i64,
    pub amount_paise: i64,
    pub rate_source: String,
}

/// The lines an enhancement asked for.
pub fn lines_of(row: &enhancement::Model) -> Vec<StoredLine> {
    serde_json::from_str(&row.lines).unwrap_or_default()
}

/// What an enhancement asks for.
pub struct Enhancement<'a> {
    pub packages: Vec<(String, Vec<String>)>,
    pub additional: Money,
    pub reason: &'a str,
}

fn expect_open(row: &preauth::Model) -> Result<(), ApiError> {
    if matches!(*row.status, PreauthStatus::Raised | PreauthStatus::Approved) {
        Ok(())
    } else {
        Err(ApiError::FailedPrecondition(format!(
            "preauth {} is {}; it can be enhanced only when RAISED or APPROVED",
            row.preauth_id,
            row.status.label()
        )))
    }
}

/// The network scheme the case routes under (PM-JAY's for its senior cover).
async fn network_of(context: &Context, row: &preauth::Model) -> Result<String, ApiError> {
    let eligibility = context
        .peers
        .eligibility(
            &row.beneficiary_id,
            "",
            &row.scheme_code,
            row.admission_date,
        )
        .await?;
    Ok(eligibility
        .schemes
        .into_iter()
        .next()
        .map_or_else(|| row.scheme_code.clone(), |s| s.network))
}

/// Records a hospital's request for more cover, its packages priced now;
/// nothing is blocked until a reviewer approves it.
pub async fn request(
    context: &Context,
    id: &str,
    enhancement: Enhancement<'_>,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let row = stored(context, id).await?;
    expect_open(&row)?;
    let lines = queries::lines_of(&context.db, id).await?;
    let mut extra = enhancement.additional;
    let mut new_specialties = BTreeSet::new();
    let mut priced_lines = Vec::new();
    let network = if enhancement.packages.is_empty() {
        row.scheme_code.clone()
    } else {
        network_of(context, &row).await?
    };
    // The enhancement's packages are routed where the preauth was; no doctor asked.
    let routed_here = CaseToRoute {
        home_state: &row.home_state_code,
        scheme: &network,
        hfr_id: &row.hfr_id,
        specialty: "",
        treating_hpr: "",
        date: row.admission_date,
    };
    for (i, (code, add_ons)) in enhancement.packages.iter().enumerate() {
        let field = format!("packages[{i}].package_code");
        let package = queries::find_package(&context.db, code)
            .await?
            .filter(|p| p.0.active)
            .ok_or_else(|| ApiError::invalid(&field, format!("no package {code}")))?;
        if package.0.reserved_for_public
            && row.facility_ownership != Ownership::Public.as_str_name()
        {
            return Err(ApiError::FailedPrecondition(format!(
                "package {code} is reserved for public hospitals"
            )));
        }
        if !lines
            .iter()
            .any(|l| l.specialty_code == package.0.specialty_code)
        {
            new_specialties.insert(package.0.specialty_code.clone());
        }
        let rule = if row.portability_case {
            context
                .peers
                .route(&CaseToRoute {
                    specialty: &package.0.specialty_code,
                    ..routed_here
                })
                .await?
                .rate_rule
        } else {
            RateRule::TreatingState
        };
        let priced = pricing::price(
            &package,
            add_ons,
            rule,
            &row.facility_state_code,
            &row.home_state_code,
        )
        .map_err(|e| match e {
            pricing::PricingError::UnknownAddOn(a) => ApiError::invalid(
                format!("packages[{i}].add_on_codes"),
                format!("package {code} has no add-on {a}"),
            ),
            pricing::PricingError::Overflow => ApiError::internal("enhancement price overflows"),
        })?;
        extra = extra
            .checked_add(priced.amount)
            .ok_or_else(|| ApiError::internal("enhancement overflows"))?;
        priced_lines.push(StoredLine {
            package_code: code.clone(),
            specialty_code: package.0.specialty_code.clone(),
            add_on_codes: add_ons.join(","),
            rate_paise: priced.rate.paise(),
            add_ons_paise: priced.add_ons.paise(),
            amount_paise: priced.amount.paise(),
            rate_source: priced.source.as_str_name().to_owned(),
        });
    }
    for specialty in &new_specialties {
        let route = context
            .peers
            .route(&CaseToRoute {
                specialty,
                ..routed_here
            })
            .await?;
        if let Some(why) = route.refusal {
            return Err(ApiError::FailedPrecondition(format!(
                "{specialty} at {}: {why}",
                row.hfr_id
            )));
        }
    }
    if extra <= Money::ZERO {
        return Err(ApiError::invalid(
            "additional_amount_paise",
            "ask for packages or a positive additional amount",
        ));
    }
    let asked = enhancement::Model {
        enhancement_id: ids::ordered_id("ENH"),
        preauth_id: id.to_owned(),
        status: Stored(EnhancementStatus::Requested),
        lines: serde_json::to_string(&priced_lines).map_err(ApiError::internal)?,
        amount_paise: extra.paise(),
        reason: enhancement.reason.to_owned(),
        requested_by: actor.id.clone(),
        requested_at: db::now(),
        decided_by_id: String::new(),
        decided_by_kind: String::new(),
        decision_reason: String::new(),
        decided_at: None,
    };
    let status = *row.status;
    let note = format!(
        "enhancement {} of {extra} requested: {}",
        asked.enhancement_id, enhancement.reason
    );
    let also = Also {
        enhancements: vec![asked],
        ..Also::default()
    };
    saga::record_with(context, row, status, &note, actor, also, on_commit).await
}

/// A reviewer's decision on an enhancement request. Approval blocks the
/// amount (on the schemes the preauth draws on) and adds the packages; should
/// the preauth end meanwhile (a concurrent cancel), the late block is released.
pub async fn decide(
    context: &Context,
    id: &str,
    enhancement_id: &str,
    decision: EnhancementDecision,
    reason: &str,
    actor: &Actor,
    on_commit: &dyn OnCommit<preauth::Model>,
) -> Result<preauth::Model, ApiError> {
    let mut row = stored(context, id).await?;
    let asked = queries::find_enhancement(&context.db, enhancement_id)
        .await?
        .filter(|e| e.preauth_id == id)
        .ok_or_else(|| {
            ApiError::NotFound(format!("preauth {id} has no enhancement {enhancement_id}"))
        })?;
    let to = match decision {
        EnhancementDecision::Approve => EnhancementStatus::Approved,
        EnhancementDecision::Reject => EnhancementStatus::Rejected,
        EnhancementDecision::Unspecified => {
            return Err(ApiError::invalid("decision", "is required"));
        }
    };
    let transition = Enhancements::transition(enhancement_id, *asked.status, to)?;
    let amount = Money::from_paise(asked.amount_paise);
    let status = *row.status;
    if to == EnhancementStatus::Rejected {
        let note = format!("enhancement {enhancement_id} of {amount} rejected: {reason}");
        let also = decided(asked, transition, reason, actor, Vec::new());
        return saga::record_with(context, row, status, &note, actor, also, on_commit).await;
    }
    expect_open(&row)?;
    let key = format!("{id}/enhance/{enhancement_id}");
    let schemes = row.schemes_to_draw();
    let hold = Hold {
        key: &key,
        beneficiary_id: &row.beneficiary_id,
        schemes: &schemes,
        preauth_id: id,
        amount,
        date: row.admission_date,
        reason: &asked.reason,
    };
    match context.peers.block(&hold).await? {
        Move::Done(held) => row.drawn_scheme_codes = held.join(","),
        Move::Refused(why) => {
            return Err(ApiError::FailedPrecondition(format!(
                "enhancement could not be blocked: {why}"
            )));
        }
    }
    let mut lines = queries::lines_of(&context.db, id).await?;
    for line in lines_of(&asked) {
        lines.push(preauth_line::Model {
            preauth_id: id.to_owned(),
            line_no: lines.len() as i32 + 1,
            package_code: line.package_code,
            specialty_code: line.specialty_code,
            add_on_codes: line.add_on_codes,
            rate_paise: line.rate_paise,
            add_ons_paise: line.add_ons_paise,
            amount_paise: line.amount_paise,
            rate_source: line.rate_source,
        });
    }
    row.requested_amount_paise += amount.paise();
    row.blocked_amount_paise += amount.paise();
    if status == PreauthStatus::Approved {
        row.approved_amount_paise += amount.paise();
    }
    row.enhancements += 1;
    let note = format!("enhancement {enhancement_id} of {amount} approved and blocked");
    let also = decided(asked, transition, reason, actor, lines);
    let outcome = saga::record_with(context, row, status, &note, actor, also, on_commit).await;
    if let Err(ApiError::Aborted(_)) = &outcome {
        saga::release_if_ended(context, id).await?;
    }
    outcome
}

/// What a decision writes besides the preauth: the enhancement's new status
/// and, for an approval, the preauth's lines with the new packages.
fn decided(
    asked: enhancement::Model,
    transition: lifecycle::Transition<Enhancements>,
    reason: &str,
    actor: &Actor,
    lines: Vec<preauth_line::Model>,
) -> Also {
    let decided = enhancement::Model {
        decided_by_id: actor.id.clone(),
        decided_by_kind: actor.kind.as_str_name().to_owned(),
        decision_reason: reason.to_owned(),
        decided_at: Some(db::now()),
        ..asked
    };
    Also {
        decision: Some((decided, transition)),
        lines: (!lines.is_empty()).then_some(lines),
        ..Also::default()
    }
}

/// Saves a decided enhancement, provided it was still undecided.
pub async fn save_decision(
    db: &impl ConnectionTrait,
    row: enhancement::Model,
    transition: lifecycle::Transition<Enhancements>,
) -> Result<(), ApiError> {
    lifecycle::save(
        db,
        row.into_active_model().reset_all(),
        enhancement::Column::Status,
        transition,
    )
    .await
    .map(|_| ())
}
