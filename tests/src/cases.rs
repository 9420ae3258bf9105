//! A case's steps after it is raised, as one call each: approval, discharge,
//! the claim, its adjudication and payment (keys derive from the ids, so a
//! test repeating a step repeats the same request); and the clocks a
//! turnaround test moves instead of waiting hours.

use ayushman_platform::{MeshService, db};
use ayushman_proto::{claims::v1 as c, preauth::v1 as pb};

use crate::preauth::{Flow, today};

/// One bill line of `rupees` for `package_code`.
pub fn bill(package_code: &str, rupees: i64) -> Vec<c::BillItem> {
    vec![c::BillItem {
        description: format!("{package_code} as treated"),
        package_code: package_code.into(),
        amount_paise: rupees * 100,
    }]
}

impl Flow {
    /// ReviewPreauth approving the amount requested, from inside the mesh.
    pub async fn approve(&mut self, preauth_id: &str) -> pb::Preauth {
        self.client
            .review_preauth(pb::ReviewPreauthRequest {
                idempotency_key: format!("{preauth_id}-approve"),
                preauth_id: preauth_id.into(),
                decision: pb::ReviewDecision::Approve as i32,
                ..Default::default()
            })
            .await
            .expect("approve")
            .into_inner()
            .preauth
            .expect("preauth")
    }

    /// Discharge today.
    pub async fn discharge(&mut self, preauth_id: &str) -> pb::Preauth {
        self.client
            .discharge(pb::DischargeRequest {
                idempotency_key: format!("{preauth_id}-discharge"),
                preauth_id: preauth_id.into(),
                discharge_date: Some(today()),
                ..Default::default()
            })
            .await
            .expect("discharge")
            .into_inner()
            .preauth
            .expect("preauth")
    }

    /// SubmitClaim of `bill` for a discharged preauth.
    pub async fn submit_claim(
        &mut self,
        preauth_id: &str,
        bill: Vec<c::BillItem>,
    ) -> Result<c::Claim, tonic::Status> {
        self.claims
            .submit_claim(c::SubmitClaimRequest {
                idempotency_key: format!("claim-{preauth_id}"),
                preauth_id: preauth_id.into(),
                bill_items: bill,
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().claim.expect("claim"))
    }

    /// AdjudicateClaim from inside the mesh.
    pub async fn adjudicate(
        &mut self,
        claim_id: &str,
        decision: c::AdjudicationDecision,
        deductions: Vec<c::Deduction>,
        reason: &str,
    ) -> Result<c::Claim, tonic::Status> {
        self.claims
            .adjudicate_claim(c::AdjudicateClaimRequest {
                idempotency_key: format!("adj-{claim_id}"),
                claim_id: claim_id.into(),
                decision: decision as i32,
                deductions,
                reason: reason.into(),
                actor: None,
            })
            .await
            .map(|reply| reply.into_inner().claim.expect("claim"))
    }

    /// ApproveClaim: the final approval a claim above the threshold waits for.
    pub async fn final_approval(&mut self, claim_id: &str) -> c::Claim {
        self.claims
            .approve_claim(c::ApproveClaimRequest {
                idempotency_key: format!("final-{claim_id}"),
                claim_id: claim_id.into(),
                ..Default::default()
            })
            .await
            .expect("final approval")
            .into_inner()
            .claim
            .expect("claim")
    }

    /// Puts every approved claim of a payer into a batch and marks it paid now.
    pub async fn pay(&mut self, payer_scheme: &str, payer_state: &str) -> c::PaymentBatch {
        let batch = self
            .claims
            .create_payment_batch(c::CreatePaymentBatchRequest {
                idempotency_key: format!("batch-{payer_scheme}-{payer_state}"),
                payer_scheme_code: payer_scheme.into(),
                payer_state_code: payer_state.into(),
                approved_up_to: Some(today()),
                actor: None,
            })
            .await
            .expect("batch")
            .into_inner()
            .batch
            .expect("batch");
        self.claims
            .mark_paid(c::MarkPaidRequest {
                idempotency_key: format!("paid-{}", batch.payment_batch_id),
                payment_batch_id: batch.payment_batch_id,
                payment_reference: format!("UTR-{payer_state}-0001"),
                paid_at: None,
                actor: None,
            })
            .await
            .expect("paid")
            .into_inner()
            .batch
            .expect("batch")
    }
}

impl Flow {
    /// Moves a preauth's review clock `hours` back, as though it had waited
    /// that long for a reviewer (the turnaround is hours; a test cannot wait).
    pub async fn backdate_review_clock(&self, preauth_id: &str, hours: i64) {
        use preauth::store::entities::preauth as row;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let database = self.database(MeshService::Preauth);
        let connection = db::connect(MeshService::Preauth, &database.settings)
            .await
            .expect("preauth database");
        let stored = row::Entity::find_by_id(preauth_id)
            .one(&connection)
            .await
            .expect("read preauth")
            .expect("preauth exists");
        let clock = stored.review_clock_from.expect("a clock to move");
        row::Entity::update_many()
            .col_expr(
                row::Column::ReviewClockFrom,
                Expr::value(clock - chrono::Duration::hours(hours)),
            )
            .filter(row::Column::PreauthId.eq(preauth_id))
            .exec(&connection)
            .await
            .expect("move the clock");
    }

    /// Moves the moment a claim was queried `days` back, as though the
    /// hospital had taken that long to answer.
    pub async fn backdate_claim_query(&self, claim_id: &str, days: i64) {
        use claims::store::entities::claim as row;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let database = self.database(MeshService::Claims);
        let connection = db::connect(MeshService::Claims, &database.settings)
            .await
            .expect("claims database");
        let stored = row::Entity::find_by_id(claim_id)
            .one(&connection)
            .await
            .expect("read claim")
            .expect("claim exists");
        let queried = stored.queried_at.expect("a queried claim");
        row::Entity::update_many()
            .col_expr(
                row::Column::QueriedAt,
                Expr::value(queried - chrono::Duration::days(days)),
            )
            .filter(row::Column::ClaimId.eq(claim_id))
            .exec(&connection)
            .await
            .expect("move the query back");
    }
}
