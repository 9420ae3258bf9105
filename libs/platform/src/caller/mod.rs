//! Who is calling (DESIGN §6, state scoping; §4, roles and authority).
//! Partners reach the mesh only through the gateway, which strips any
//! identity a caller sends and stamps its own, signed with a key shared with
//! the services: the partner, its state, the hospitals a hospital's system
//! acts for, and the user it authenticated with their roles. The
//! [`caller_layer`] checks that signature on every request and puts the [`Caller`] into the
//! request's extensions; handlers ask it whether the caller may touch a
//! state's data or a hospital's case, and whom to record as the actor. A
//! request without partner identity comes from inside the mesh.

mod identity;
mod layer;

use ayushman_proto::{ProtoEnum, common::v1::Role};

pub use identity::{
    DEVELOPMENT_IDENTITY_KEY, INTERNAL_HEADER_PREFIX, IdentityKey, PARTNER_HFR_IDS_HEADER,
    PARTNER_ID_HEADER, PARTNER_SIGNATURE_HEADER, PARTNER_STATE_HEADER, USER_ID_HEADER,
    USER_ROLES_HEADER, strip_internal_headers,
};
pub use layer::{VerifyCaller, caller_layer};

use crate::ApiError;

/// A partner as the gateway vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerIdentity {
    /// Partner id.
    pub partner_id: String,
    /// The state it acts for; `None` for a national partner.
    pub state_code: Option<String>,
    /// The hospitals a hospital's system acts for (HFR ids); empty for any
    /// other partner.
    pub hfr_ids: Vec<String>,
    /// The partner's user who made the call, as the gateway authenticated them.
    pub user: Option<UserIdentity>,
}

/// A partner's user, authenticated by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity {
    /// User id, e.g. `USR-...`.
    pub user_id: String,
    /// What the user may do.
    pub roles: Vec<Role>,
}

/// `PPD,CPD`: role names without their prefix, as the identity carries them.
pub fn role_names(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(",")
}

/// The roles of a `PPD,CPD` list; unknown names are left out.
pub fn parse_roles(text: &str) -> Vec<Role> {
    text.split(',')
        .filter_map(|name| Role::from_str_name(&format!("{}{}", Role::PREFIX, name.trim())))
        .filter(|role| *role != Role::Unspecified)
        .collect()
}

/// Who sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Another service of the mesh, or an operator inside the cluster.
    Mesh,
    /// A partner, through the gateway.
    Partner(PartnerIdentity),
}

impl Caller {
    /// The caller of a request that passed the [`caller_layer`]; requests that did
    /// not (a handler called directly in a unit test) come from the mesh.
    pub fn of<T>(request: &tonic::Request<T>) -> Self {
        request
            .extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or(Self::Mesh)
    }

    /// The state a state-scoped partner is confined to; `None` for the mesh and
    /// national partners.
    pub fn state_scope(&self) -> Option<&str> {
        match self {
            Self::Partner(PartnerIdentity {
                state_code: Some(state),
                ..
            }) => Some(state),
            _ => None,
        }
    }

    /// PERMISSION_DENIED unless the caller may act on `what`, which belongs to
    /// `state_code`.
    pub fn ensure_state(&self, state_code: &str, what: &str) -> Result<(), ApiError> {
        self.ensure_any_state(&[state_code], what)
    }

    /// PERMISSION_DENIED unless the caller may act on `what`, which concerns
    /// each of `state_codes` (a portability case concerns the home state and
    /// the treating state: either may see it).
    pub fn ensure_any_state(&self, state_codes: &[&str], what: &str) -> Result<(), ApiError> {
        match (self, self.state_scope()) {
            (Self::Partner(partner), Some(own)) if !state_codes.contains(&own) => {
                Err(ApiError::PermissionDenied(format!(
                    "partner {} acts for state {own}; {what} belongs to state {}",
                    partner.partner_id,
                    state_codes.join(" and ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// PERMISSION_DENIED unless the caller may decide `what`, a case paid by
    /// `home_state_code`: a portability case is decided by the patient's home
    /// state alone (DESIGN §4); the treating state sees it read-only.
    pub fn ensure_decides(&self, home_state_code: &str, what: &str) -> Result<(), ApiError> {
        match (self, self.state_scope()) {
            (Self::Partner(partner), Some(own)) if own != home_state_code => {
                Err(ApiError::PermissionDenied(format!(
                    "partner {} acts for state {own}; only the patient's home state {home_state_code} decides {what}",
                    partner.partner_id
                )))
            }
            _ => Ok(()),
        }
    }

    /// The state filter of a list or report: a state-scoped partner gets its own
    /// state when it asked for none, and PERMISSION_DENIED when it asked for
    /// another. `field` names the request field, e.g. `state_code`.
    pub fn scoped_state_filter(
        &self,
        requested: Option<String>,
        field: &str,
    ) -> Result<Option<String>, ApiError> {
        match (self.state_scope(), requested) {
            (None, requested) => Ok(requested),
            (Some(own), None) => Ok(Some(own.to_owned())),
            (Some(_), Some(requested)) => {
                self.ensure_state(&requested, &format!("{field} {requested}"))?;
                Ok(Some(requested))
            }
        }
    }

    /// PERMISSION_DENIED when a state-scoped partner names a district of
    /// another state (district codes start with their state's code, `10-230`).
    pub fn ensure_district(&self, district_code: &str, field: &str) -> Result<(), ApiError> {
        self.ensure_state(
            state_of_district(district_code),
            &format!("{field} {district_code}"),
        )
    }

    /// The hospitals a hospital's system acts for; empty for everyone else.
    pub fn hfr_ids(&self) -> &[String] {
        match self {
            Self::Partner(partner) => &partner.hfr_ids,
            Self::Mesh => &[],
        }
    }

    /// Whether what the caller may see is narrowed (to a state or to its
    /// hospitals), so a record must be read to check it.
    pub fn is_confined(&self) -> bool {
        self.state_scope().is_some() || !self.hfr_ids().is_empty()
    }

    /// The hospital filter of a list: a hospital's system gets its hospital
    /// when it asked for none (and acts for one), PERMISSION_DENIED for
    /// another's, and must name one when it acts for several. `field` names
    /// the request field.
    pub fn scoped_hfr_filter(
        &self,
        requested: Option<String>,
        field: &str,
    ) -> Result<Option<String>, ApiError> {
        match (self.hfr_ids(), requested) {
            ([], requested) => Ok(requested),
            ([only], None) => Ok(Some(only.clone())),
            (_, None) => Err(ApiError::invalid(
                field,
                "is required: this partner acts for several hospitals; name one",
            )),
            (own, Some(requested)) if !own.contains(&requested) => {
                Err(ApiError::PermissionDenied(format!(
                    "{field}: this partner acts for hospital {} only, not {requested}",
                    own.join(", ")
                )))
            }
            (_, Some(requested)) => Ok(Some(requested)),
        }
    }

    /// The partner's user who made the call, if the call came through the
    /// gateway naming one.
    pub fn user(&self) -> Option<&UserIdentity> {
        match self {
            Self::Partner(partner) => partner.user.as_ref(),
            Self::Mesh => None,
        }
    }

    /// PERMISSION_DENIED unless a partner's call comes from a user holding
    /// one of `roles`; `what` names the call, e.g. `ReviewPreauth`. Calls from
    /// inside the mesh carry the mesh's own authority.
    pub fn require_role(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        let Self::Partner(partner) = self else {
            return Ok(());
        };
        let needed = roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(" or ");
        match &partner.user {
            None => Err(ApiError::PermissionDenied(format!(
                "{what} needs a user with role {needed}; the call of partner {} names no user \
                 (send x-partner-user or the user's OpenID Connect token)",
                partner.partner_id
            ))),
            Some(user) if !user.roles.iter().any(|r| roles.contains(r)) => {
                let held = if user.roles.is_empty() {
                    "none".to_owned()
                } else {
                    role_names(&user.roles).replace(',', ", ")
                };
                Err(ApiError::PermissionDenied(format!(
                    "{what} needs role {needed}; user {} has {held}",
                    user.user_id
                )))
            }
            Some(_) => Ok(()),
        }
    }

    /// Whether a partner's user holds `role` (the mesh holds every role).
    pub fn has_role(&self, role: Role) -> bool {
        match self {
            Self::Mesh => true,
            Self::Partner(partner) => partner
                .user
                .as_ref()
                .is_some_and(|user| user.roles.contains(&role)),
        }
    }

    /// PERMISSION_DENIED unless the caller may act at hospital `hfr_id`: a
    /// hospital's system acts for its own HFR ids only (`what` is the case).
    pub fn ensure_facility(&self, hfr_id: &str, what: &str) -> Result<(), ApiError> {
        match self {
            Self::Partner(partner)
                if !partner.hfr_ids.is_empty() && !partner.hfr_ids.iter().any(|h| h == hfr_id) =>
            {
                Err(ApiError::PermissionDenied(format!(
                    "partner {} acts for hospital {} only; {what} is at {hfr_id}",
                    partner.partner_id,
                    partner.hfr_ids.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// PERMISSION_DENIED when the caller is the user recorded as `earlier`
    /// (separation of duties: who raised a preauth does not decide it, who
    /// adjudicated a claim does not approve or pay it). `duty` says what the
    /// caller did before and `now` what they tried.
    pub fn ensure_other_user(&self, earlier: &str, duty: &str, now: &str) -> Result<(), ApiError> {
        match self.user() {
            Some(user) if !earlier.is_empty() && user.user_id == earlier => {
                Err(ApiError::PermissionDenied(format!(
                    "user {earlier} {duty}; another user must {now}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// The state part of a district code such as `10-230`.
pub fn state_of_district(district_code: &str) -> &str {
    district_code
        .split_once('-')
        .map_or(district_code, |(state, _)| state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bihar() -> PartnerIdentity {
        PartnerIdentity {
            partner_id: "PTN-BR".into(),
            state_code: Some("10".into()),
            hfr_ids: Vec::new(),
            user: None,
        }
    }

    fn user(id: &str, roles: &[Role]) -> Option<UserIdentity> {
        Some(UserIdentity {
            user_id: id.into(),
            roles: roles.to_vec(),
        })
    }

    #[test]
    fn a_state_partner_is_confined_to_its_state() {
        let caller = Caller::Partner(bihar());
        assert!(caller.ensure_state("10", "beneficiary B-1").is_ok());
        let denied = caller.ensure_state("08", "beneficiary B-2").unwrap_err();
        assert_eq!(
            denied.to_string(),
            "partner PTN-BR acts for state 10; beneficiary B-2 belongs to state 08"
        );
        assert!(caller.ensure_any_state(&["08", "10"], "case").is_ok());
        assert_eq!(
            caller.scoped_state_filter(None, "state_code").ok(),
            Some(Some("10".to_owned()))
        );
        assert!(
            caller
                .scoped_state_filter(Some("08".into()), "state_code")
                .is_err()
        );
        assert!(caller.ensure_district("08-110", "district_code").is_err());
        assert!(Caller::Mesh.ensure_state("08", "anything").is_ok());
    }

    #[test]
    fn a_decision_needs_a_user_holding_its_role() {
        let nobody = Caller::Partner(bihar());
        assert_eq!(
            nobody
                .require_role(&[Role::Ppd], "ReviewPreauth")
                .unwrap_err()
                .to_string(),
            "ReviewPreauth needs a user with role PPD; the call of partner PTN-BR names no user \
             (send x-partner-user or the user's OpenID Connect token)"
        );
        let clerk = Caller::Partner(PartnerIdentity {
            user: user("USR-7", &[Role::Pmam, Role::Medco]),
            ..bihar()
        });
        assert_eq!(
            clerk
                .require_role(&[Role::Ppd, Role::Cpd], "ReviewPreauth")
                .unwrap_err()
                .to_string(),
            "ReviewPreauth needs role PPD or CPD; user USR-7 has PMAM, MEDCO"
        );
        assert!(clerk.require_role(&[Role::Medco], "Discharge").is_ok());
        assert!(Caller::Mesh.require_role(&[Role::Aco], "MarkPaid").is_ok());
    }

    #[test]
    fn a_hospitals_system_acts_for_its_own_hospitals_only() {
        let his = Caller::Partner(PartnerIdentity {
            hfr_ids: vec!["IN2214000001".into()],
            ..bihar()
        });
        assert!(his.ensure_facility("IN2214000001", "preauth P-1").is_ok());
        assert_eq!(
            his.ensure_facility("IN2214000100", "preauth P-2")
                .unwrap_err()
                .to_string(),
            "partner PTN-BR acts for hospital IN2214000001 only; preauth P-2 is at IN2214000100"
        );
        assert!(
            Caller::Partner(bihar())
                .ensure_facility("IN2214000100", "preauth P-2")
                .is_ok()
        );
    }

    #[test]
    fn the_same_user_cannot_do_both_duties() {
        let cpd = Caller::Partner(PartnerIdentity {
            user: user("USR-9", &[Role::Cpd]),
            ..bihar()
        });
        assert_eq!(
            cpd.ensure_other_user("USR-9", "adjudicated claim C-1", "approve it")
                .unwrap_err()
                .to_string(),
            "user USR-9 adjudicated claim C-1; another user must approve it"
        );
        assert!(
            cpd.ensure_other_user("USR-8", "adjudicated", "approve")
                .is_ok()
        );
        assert!(cpd.ensure_other_user("", "adjudicated", "approve").is_ok());
    }

    #[test]
    fn roles_travel_as_names_without_their_prefix() {
        assert_eq!(role_names(&[Role::Ppd, Role::ShaAdmin]), "PPD,SHA_ADMIN");
        assert_eq!(
            parse_roles("PPD,SHA_ADMIN,NOBODY,"),
            [Role::Ppd, Role::ShaAdmin]
        );
    }
}
