//! The money invariants every reliability test ends with, read from the
//! beneficiary registry: a family's wallet is never negative nor over its
//! cover, its ledger adds up to it, and what each preauth still holds is what
//! its state says it should.

use std::collections::BTreeMap;

use ayushman_proto::{
    beneficiary::v1::{
        self as b, beneficiary_registry_service_client::BeneficiaryRegistryServiceClient,
    },
    preauth::v1::{self as pa, PreauthStatus},
};
use tonic::transport::Channel;

/// Checks the `scheme` wallet of `family_id` against its ledger and against
/// `cases` (preauths of `case_paise` each); returns its ledger rows.
pub async fn check_family(
    registry: &mut BeneficiaryRegistryServiceClient<Channel>,
    family_id: &str,
    scheme: &str,
    cases: &[pa::Preauth],
    case_paise: i64,
) -> usize {
    let family = registry
        .get_family(b::GetFamilyRequest {
            family_id: family_id.into(),
        })
        .await
        .expect("family")
        .into_inner()
        .family
        .expect("family");
    let wallet = family
        .wallets
        .into_iter()
        .find(|w| w.scheme_code == scheme)
        .expect("wallet of the scheme");
    assert!(
        wallet.blocked_paise >= 0 && wallet.consumed_paise >= 0,
        "{family_id}: {wallet:?}"
    );
    assert!(
        wallet.blocked_paise + wallet.consumed_paise <= wallet.cover_paise,
        "{family_id} is over its cover: {wallet:?}"
    );
    let ledger = registry
        .list_ledger_entries(b::ListLedgerEntriesRequest {
            wallet_id: wallet.wallet_id.clone(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("ledger")
        .into_inner()
        .entries;
    let mut held: BTreeMap<&str, i64> = BTreeMap::new();
    let (mut blocked, mut consumed) = (0, 0);
    for entry in &ledger {
        let signed = match b::LedgerEntryKind::try_from(entry.kind) {
            Ok(b::LedgerEntryKind::Block) => entry.amount_paise,
            Ok(b::LedgerEntryKind::Consume) => {
                consumed += entry.amount_paise;
                -entry.amount_paise
            }
            Ok(b::LedgerEntryKind::Release) => -entry.amount_paise,
            other => panic!("unexpected ledger row {other:?}"),
        };
        *held.entry(entry.preauth_id.as_str()).or_default() += signed;
        blocked += signed;
    }
    assert_eq!(
        (blocked, consumed),
        (wallet.blocked_paise, wallet.consumed_paise),
        "{family_id}: blocked = blocks - consumed - released, and the wallet agrees"
    );
    let reconciliation = registry
        .reconcile_wallet(b::ReconcileWalletRequest {
            wallet_id: wallet.wallet_id.clone(),
        })
        .await
        .expect("reconcile")
        .into_inner();
    assert!(
        reconciliation.consistent,
        "{family_id}: the registry's own reconciliation agrees: {reconciliation:?}"
    );
    for case in cases.iter().filter(|p| p.family_id == family_id) {
        let still_held = held.get(case.preauth_id.as_str()).copied().unwrap_or(0);
        let expected = match PreauthStatus::try_from(case.status) {
            Ok(PreauthStatus::Raised | PreauthStatus::Approved) => case_paise,
            _ => 0,
        };
        assert_eq!(
            still_held,
            expected,
            "{} ({:?}) holds the wrong amount",
            case.preauth_id,
            PreauthStatus::try_from(case.status)
        );
    }
    ledger.len()
}
