//! Which role each mutating RPC needs (DESIGN §4, roles and authority): one
//! table for the whole mesh, enforced by the [`authority_layer`] of every service
//! before the handler runs. A partner's call must come from a user holding one
//! of the method's roles, else PERMISSION_DENIED naming the role; a read needs
//! only the partner's scope (the gateway checks it); calls from inside the
//! mesh carry the mesh's own authority. Rules that depend on the case, not
//! the method (the home state decides, a hospital acts for its own HFR ids,
//! separation of duties), are the handlers'.

use ayushman_proto::common::v1::Role;

use crate::{
    Caller, MeshService,
    gate::{Check, GateLayer},
};

/// Hospital side.
const PMAM: &[Role] = &[Role::Pmam];
const MEDCO: &[Role] = &[Role::Medco];
const HOSPITAL_DESK: &[Role] = &[Role::Pmam, Role::Medco];
/// Payer side.
const PPD: &[Role] = &[Role::Ppd];
const CPD: &[Role] = &[Role::Cpd];
/// A claim executive checks documents and may query a claim back; approving
/// or rejecting it is the claim doctor's (the handler tells them apart).
const CLAIM_DESK: &[Role] = &[Role::Cpd, Role::Cex];
const ACO: &[Role] = &[Role::Aco];
const SHA_ADMIN: &[Role] = &[Role::ShaAdmin];
/// Registry side.
/// A card is made by an operator, or by the person through a beneficiary channel.
const CARD_MAKERS: &[Role] = &[Role::Operator, Role::Beneficiary];
const CARD_DESK: &[Role] = &[Role::Operator, Role::Pmam];
const CAMPAIGNS: &[Role] = &[Role::Operator, Role::DistrictCoordinator];
/// The areas, logins and mobilisers a drive runs on.
const DRIVE_MASTERS: &[Role] = &[Role::DistrictCoordinator, Role::ShaAdmin];

/// Every mutating RPC with the roles that may call it.
pub const ROLES: &[(MeshService, &str, &[Role])] = {
    use MeshService::{BeneficiaryRegistry as B, Claims as C, FacilityRegistry as F};
    use MeshService::{Portability as P, Preauth as A};
    &[
        (B, "CreateScheme", SHA_ADMIN),
        (B, "UpdateScheme", SHA_ADMIN),
        (B, "ImportEligibility", SHA_ADMIN),
        (B, "IssueCard", CARD_MAKERS),
        (B, "EnrolSeniorCitizen", CARD_MAKERS),
        (B, "LinkAbha", CARD_DESK),
        (B, "CreateCampaign", CAMPAIGNS),
        (B, "UpdateCampaign", CAMPAIGNS),
        (B, "CancelCampaign", CAMPAIGNS),
        (B, "UpsertAreas", DRIVE_MASTERS),
        (B, "UpsertOperators", DRIVE_MASTERS),
        (B, "UpsertMobilisers", DRIVE_MASTERS),
        (F, "RegisterFacility", SHA_ADMIN),
        (F, "UpdateFacilityStatus", SHA_ADMIN),
        (F, "RegisterProfessional", SHA_ADMIN),
        (F, "LinkProfessional", SHA_ADMIN),
        (F, "UnlinkProfessional", SHA_ADMIN),
        (F, "UpsertEmpanelment", SHA_ADMIN),
        (F, "UpdateEmpanelmentStatus", SHA_ADMIN),
        (F, "RecordOpdRegistration", PMAM),
        (F, "ImportOpdRegistrations", PMAM),
        (P, "CreateAgreement", SHA_ADMIN),
        (P, "SuspendAgreement", SHA_ADMIN),
        (P, "ActivateAgreement", SHA_ADMIN),
        (A, "UpsertPackage", SHA_ADMIN),
        (A, "RaisePreauth", PMAM),
        (A, "ReviewPreauth", PPD),
        (A, "RequestEnhancement", MEDCO),
        (A, "DecideEnhancement", PPD),
        (A, "RespondToQuery", MEDCO),
        (A, "CancelPreauth", HOSPITAL_DESK),
        (A, "Discharge", MEDCO),
        (C, "SubmitClaim", PMAM),
        (C, "AdjudicateClaim", CLAIM_DESK),
        (C, "RespondToClaimQuery", MEDCO),
        (C, "ApproveClaim", CPD),
        (C, "CreatePaymentBatch", ACO),
        (C, "MarkPaid", ACO),
    ]
};

/// The roles that may call `method` of `service`; `None` for a read.
pub fn roles_for(service: MeshService, method: &str) -> Option<&'static [Role]> {
    ROLES
        .iter()
        .find(|(s, m, _)| *s == service && *m == method)
        .map(|(_, _, roles)| *roles)
}

/// Enforces [`ROLES`] for one service; runs after the caller layer, which
/// puts the verified [`Caller`] into the request.
#[derive(Clone, Copy)]
pub struct EnforceRoles {
    service: MeshService,
}

impl Check for EnforceRoles {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status> {
        let Some(method) = request
            .uri()
            .path()
            .strip_prefix('/')
            .and_then(|path| path.strip_prefix(self.service.grpc_service()))
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return Ok(());
        };
        match (
            roles_for(self.service, method),
            request.extensions().get::<Caller>(),
        ) {
            (Some(roles), Some(caller)) => caller
                .require_role(roles, method)
                .map_err(tonic::Status::from),
            _ => Ok(()),
        }
    }
}

/// The authority layer of `service`.
pub fn authority_layer(service: MeshService) -> GateLayer<EnforceRoles> {
    GateLayer::new(EnforceRoles { service })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (service, method, roles) in ROLES {
            assert!(seen.insert((service.name(), *method)), "{method} twice");
            assert!(!roles.is_empty(), "{method} needs some role");
        }
    }

    #[test]
    fn reads_need_no_role_and_decisions_name_theirs() {
        assert_eq!(roles_for(MeshService::Preauth, "GetPreauth"), None);
        assert_eq!(
            roles_for(MeshService::Preauth, "ReviewPreauth"),
            Some(&[Role::Ppd][..])
        );
        assert_eq!(
            roles_for(MeshService::Claims, "MarkPaid"),
            Some(&[Role::Aco][..])
        );
    }
}
