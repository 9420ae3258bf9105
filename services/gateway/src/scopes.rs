//! What partners may call (DESIGN §6): every partner-visible method and the
//! scope it needs. A method not in this table is not offered through the
//! gateway — the wallet's block/consume/release, history imports, package and
//! agreement administration stay inside the mesh.

use ayushman_platform::MeshService;

/// Every scope a partner can be granted, with what it allows.
pub const SCOPES: [(&str, &str); 16] = [
    (
        "beneficiary.read",
        "find beneficiaries, verify eligibility, read balances and coverage reports",
    ),
    (
        "beneficiary.write",
        "issue cards, enrol citizens aged 70+, link ABHA, run card campaigns",
    ),
    ("beneficiary.import", "import eligibility lists"),
    (
        "beneficiary.drives",
        "manage the areas, card logins and mobilisers of card drives",
    ),
    (
        "beneficiary.schemes",
        "create and change the state's own schemes",
    ),
    (
        "facility.read",
        "read facilities, professionals, empanelment and OPD reports",
    ),
    (
        "facility.write",
        "register facilities and professionals, manage empanelment",
    ),
    ("facility.opd", "record OPD registrations"),
    ("preauth.read", "read packages and pre-authorisations"),
    (
        "preauth.write",
        "raise, enhance, cancel and discharge pre-authorisations",
    ),
    (
        "preauth.review",
        "approve, reject or query pre-authorisations and decide enhancements",
    ),
    ("claims.read", "read claims, reports and society ledgers"),
    ("claims.write", "submit claims and answer queries on them"),
    ("claims.adjudicate", "adjudicate and approve claims"),
    ("claims.pay", "create payment batches and mark them paid"),
    ("portability.read", "route cases and read agreements"),
];

/// The scope of the gateway's own admin service; only the mesh operator has it.
pub const ADMIN_SCOPE: &str = "gateway.admin";

/// Partner-visible methods of the mesh's services: (service, method, scope).
pub const METHODS: &[(MeshService, &str, &str)] = {
    use MeshService::{BeneficiaryRegistry as B, Claims as C, FacilityRegistry as F};
    use MeshService::{Portability as P, Preauth as A};
    &[
        (B, "ListSchemes", "beneficiary.read"),
        (B, "GetScheme", "beneficiary.read"),
        (B, "CreateScheme", "beneficiary.schemes"),
        (B, "UpdateScheme", "beneficiary.schemes"),
        (B, "EnrolSeniorCitizen", "beneficiary.write"),
        (B, "ImportEligibility", "beneficiary.import"),
        (B, "SearchBeneficiaries", "beneficiary.read"),
        (B, "GetBeneficiary", "beneficiary.read"),
        (B, "GetFamily", "beneficiary.read"),
        (B, "IssueCard", "beneficiary.write"),
        (B, "LinkAbha", "beneficiary.write"),
        (B, "VerifyEligibility", "beneficiary.read"),
        (B, "GetBalance", "beneficiary.read"),
        (B, "ListLedgerEntries", "beneficiary.read"),
        (B, "ReconcileWallet", "beneficiary.read"),
        (B, "CoverageReport", "beneficiary.read"),
        (B, "OperatorActivityReport", "beneficiary.read"),
        (B, "CreateCampaign", "beneficiary.write"),
        (B, "GetCampaign", "beneficiary.read"),
        (B, "ListCampaigns", "beneficiary.read"),
        (B, "UpdateCampaign", "beneficiary.write"),
        (B, "CancelCampaign", "beneficiary.write"),
        (B, "CampaignProgress", "beneficiary.read"),
        (B, "UpsertAreas", "beneficiary.drives"),
        (B, "ListAreas", "beneficiary.read"),
        (B, "UpsertOperators", "beneficiary.drives"),
        (B, "ListOperators", "beneficiary.read"),
        (B, "UpsertMobilisers", "beneficiary.drives"),
        (B, "ListMobilisers", "beneficiary.read"),
        (F, "RegisterFacility", "facility.write"),
        (F, "GetFacility", "facility.read"),
        (F, "ListFacilities", "facility.read"),
        (F, "UpdateFacilityStatus", "facility.write"),
        (F, "RegisterProfessional", "facility.write"),
        (F, "GetProfessional", "facility.read"),
        (F, "ListProfessionals", "facility.read"),
        (F, "LinkProfessional", "facility.write"),
        (F, "UnlinkProfessional", "facility.write"),
        (F, "CheckProfessionalLink", "facility.read"),
        (F, "UpsertEmpanelment", "facility.write"),
        (F, "GetEmpanelment", "facility.read"),
        (F, "ListEmpanelments", "facility.read"),
        (F, "UpdateEmpanelmentStatus", "facility.write"),
        (F, "CheckEmpanelment", "facility.read"),
        (F, "RecordOpdRegistration", "facility.opd"),
        (F, "ImportOpdRegistrations", "facility.opd"),
        (F, "OpdRegistrationReport", "facility.read"),
        (A, "ListPackages", "preauth.read"),
        (A, "GetPackage", "preauth.read"),
        (A, "RaisePreauth", "preauth.write"),
        (A, "GetPreauth", "preauth.read"),
        (A, "ListPreauths", "preauth.read"),
        (A, "ReviewPreauth", "preauth.review"),
        (A, "RequestEnhancement", "preauth.write"),
        (A, "DecideEnhancement", "preauth.review"),
        (A, "RespondToQuery", "preauth.write"),
        (A, "CancelPreauth", "preauth.write"),
        (A, "Discharge", "preauth.write"),
        (C, "SubmitClaim", "claims.write"),
        (C, "GetClaim", "claims.read"),
        (C, "ListClaims", "claims.read"),
        (C, "AdjudicateClaim", "claims.adjudicate"),
        (C, "RespondToClaimQuery", "claims.write"),
        (C, "ApproveClaim", "claims.adjudicate"),
        (C, "CreatePaymentBatch", "claims.pay"),
        (C, "GetPaymentBatch", "claims.read"),
        (C, "MarkPaid", "claims.pay"),
        (C, "ClaimsReport", "claims.read"),
        (C, "FacilitySocietyLedger", "claims.read"),
        (C, "OutOfStateSpendReport", "claims.read"),
        (P, "GetAgreement", "portability.read"),
        (P, "ListAgreements", "portability.read"),
        (P, "RouteCase", "portability.read"),
    ]
};

/// The mesh services a partner can reach through the gateway.
pub const UPSTREAMS: [MeshService; 5] = [
    MeshService::BeneficiaryRegistry,
    MeshService::FacilityRegistry,
    MeshService::Preauth,
    MeshService::Claims,
    MeshService::Portability,
];

/// What the gateway does with a request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// grpc.health.v1: open to all, for load balancers and probes.
    Health,
    /// Reflection: any authenticated partner.
    Reflection,
    /// The gateway's own admin service.
    Admin,
    /// A partner-visible method of a mesh service, needing this scope.
    Upstream(MeshService, &'static str),
    /// A method of a mesh service that is not offered to partners.
    Internal(MeshService),
    /// No such service.
    Unknown,
}

/// Classifies `/package.Service/Method`.
pub fn route(path: &str) -> Route {
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    match service {
        "grpc.health.v1.Health" => Route::Health,
        "grpc.reflection.v1.ServerReflection" | "grpc.reflection.v1alpha.ServerReflection" => {
            Route::Reflection
        }
        _ if service == MeshService::Gateway.grpc_service() => Route::Admin,
        _ => match UPSTREAMS.into_iter().find(|s| s.grpc_service() == service) {
            Some(upstream) => scope_of(upstream, method)
                .map_or(Route::Internal(upstream), |scope| {
                    Route::Upstream(upstream, scope)
                }),
            None => Route::Unknown,
        },
    }
}

/// The scope a partner-visible method needs; `None` when it is not offered.
pub fn scope_of(service: MeshService, method: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .find(|(s, m, _)| *s == service && *m == method)
        .map(|(_, _, scope)| *scope)
}

/// Whether `scope` can be granted.
pub fn is_known_scope(scope: &str) -> bool {
    scope == ADMIN_SCOPE || SCOPES.iter().any(|(name, _)| *name == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_in_the_table_exists_in_the_contracts() {
        use prost::Message;
        let files = prost_types::FileDescriptorSet::decode(ayushman_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        for (service, method, scope) in METHODS {
            let name = service.grpc_service();
            let found = files.file.iter().any(|file| {
                file.service.iter().any(|s| {
                    format!("{}.{}", file.package(), s.name()) == name
                        && s.method.iter().any(|m| m.name() == *method)
                })
            });
            assert!(found, "{name}/{method} is not in the contracts");
            assert!(is_known_scope(scope), "{scope}");
        }
    }

    #[test]
    fn paths_are_classified() {
        assert_eq!(
            route("/ayushman.beneficiary.v1.BeneficiaryRegistryService/VerifyEligibility"),
            Route::Upstream(MeshService::BeneficiaryRegistry, "beneficiary.read")
        );
        assert_eq!(
            route("/ayushman.beneficiary.v1.BeneficiaryRegistryService/BlockAmount"),
            Route::Internal(MeshService::BeneficiaryRegistry)
        );
        assert_eq!(
            route("/ayushman.gateway.v1.GatewayAdminService/IssueApiKey"),
            Route::Admin
        );
        assert_eq!(route("/grpc.health.v1.Health/Check"), Route::Health);
        assert_eq!(route("/nothing.Here/At"), Route::Unknown);
    }
}
