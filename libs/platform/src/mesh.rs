//! The mesh table: every service's name, default port, gRPC service and the
//! peers it calls. Peer configuration defaults, `ayushctl up` and the Kubernetes
//! NetworkPolicies are all derived from this one table.

use std::fmt;

use ayushman_proto::{beneficiary, claims, facility, gateway, nhcx, portability, preauth};

/// A workload of the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MeshService {
    /// Who is eligible, cards, wallets.
    BeneficiaryRegistry,
    /// Facilities, professionals, empanelment.
    FacilityRegistry,
    /// Packages and pre-authorisations.
    Preauth,
    /// Claims and payments.
    Claims,
    /// Inter-state agreements and settlement.
    Portability,
    /// The partner gateway.
    Gateway,
    /// The National Health Claims Exchange participant (HCX protocol).
    Nhcx,
}

impl MeshService {
    /// Every service, in start-up order (callees before callers).
    pub const ALL: [Self; 7] = [
        Self::BeneficiaryRegistry,
        Self::FacilityRegistry,
        Self::Portability,
        Self::Preauth,
        Self::Claims,
        Self::Gateway,
        Self::Nhcx,
    ];

    /// The workload name: binary, Kubernetes Deployment, config file and database name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::BeneficiaryRegistry => "beneficiary-registry",
            Self::FacilityRegistry => "facility-registry",
            Self::Preauth => "preauth",
            Self::Claims => "claims",
            Self::Portability => "portability",
            Self::Gateway => "gateway",
            Self::Nhcx => "nhcx",
        }
    }

    /// The key under `[peers]` in configuration (`AYUSHMAN__PEERS__<KEY>__URL`).
    pub const fn config_key(self) -> &'static str {
        match self {
            Self::BeneficiaryRegistry => "beneficiary_registry",
            Self::FacilityRegistry => "facility_registry",
            Self::Preauth => "preauth",
            Self::Claims => "claims",
            Self::Portability => "portability",
            Self::Gateway => "gateway",
            Self::Nhcx => "nhcx",
        }
    }

    /// The gRPC port it listens on by default.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::BeneficiaryRegistry => 50051,
            Self::FacilityRegistry => 50052,
            Self::Preauth => 50053,
            Self::Claims => 50054,
            Self::Portability => 50055,
            Self::Gateway => 8080,
            Self::Nhcx => 50056,
        }
    }

    /// The admin (Prometheus metrics) port: the gRPC port + 1000.
    pub const fn default_admin_port(self) -> u16 {
        self.default_port() + 1000
    }

    /// The fully qualified gRPC service it serves.
    pub const fn grpc_service(self) -> &'static str {
        match self {
            Self::BeneficiaryRegistry => {
                beneficiary::v1::beneficiary_registry_service_server::SERVICE_NAME
            }
            Self::FacilityRegistry => facility::v1::facility_registry_service_server::SERVICE_NAME,
            Self::Preauth => preauth::v1::preauth_service_server::SERVICE_NAME,
            Self::Claims => claims::v1::claims_service_server::SERVICE_NAME,
            Self::Portability => portability::v1::portability_service_server::SERVICE_NAME,
            Self::Gateway => gateway::v1::gateway_admin_service_server::SERVICE_NAME,
            Self::Nhcx => nhcx::v1::nhcx_service_server::SERVICE_NAME,
        }
    }

    /// The services it calls. NetworkPolicies allow exactly these edges.
    pub const fn calls(self) -> &'static [Self] {
        match self {
            Self::BeneficiaryRegistry | Self::FacilityRegistry => &[],
            Self::Portability => &[Self::FacilityRegistry],
            Self::Preauth => &[
                Self::BeneficiaryRegistry,
                Self::FacilityRegistry,
                Self::Portability,
            ],
            Self::Claims => &[
                Self::Preauth,
                Self::BeneficiaryRegistry,
                Self::FacilityRegistry,
            ],
            Self::Gateway => &[
                Self::BeneficiaryRegistry,
                Self::FacilityRegistry,
                Self::Preauth,
                Self::Claims,
                Self::Portability,
            ],
            Self::Nhcx => &[Self::BeneficiaryRegistry, Self::Preauth, Self::Claims],
        }
    }

    /// Whether callers outside the cluster reach it through the ingress: the
    /// gateway (partners) and the NHCX service (hospitals on the exchange).
    pub const fn faces_outside(self) -> bool {
        matches!(self, Self::Gateway | Self::Nhcx)
    }

    /// The outside services it depends on, by the environment variable that
    /// chooses each one's provider (`http` or `offline`). Outside development
    /// every one must be chosen explicitly; `ayushctl up` and the tests choose
    /// `offline` for each.
    pub const fn outside_providers(self) -> &'static [&'static str] {
        match self {
            Self::BeneficiaryRegistry => &[
                "AYUSHMAN__SERVICE__KYC__PROVIDER",
                "AYUSHMAN__SERVICE__ABDM__PROVIDER",
            ],
            Self::FacilityRegistry => &["AYUSHMAN__SERVICE__ABDM__PROVIDER"],
            _ => &[],
        }
    }

    /// Looks a service up by its workload name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for MeshService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_start_after_the_services_they_call() {
        for (position, service) in MeshService::ALL.iter().enumerate() {
            for callee in service.calls() {
                let callee_position = MeshService::ALL.iter().position(|s| s == callee);
                assert!(
                    callee_position < Some(position),
                    "{service} starts before {callee}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip_and_ports_are_distinct() {
        let mut ports: Vec<u16> = MeshService::ALL.iter().map(|s| s.default_port()).collect();
        ports.extend(MeshService::ALL.iter().map(|s| s.default_admin_port()));
        let count = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), count);
        for service in MeshService::ALL {
            assert_eq!(MeshService::from_name(service.name()), Some(service));
        }
    }
}
