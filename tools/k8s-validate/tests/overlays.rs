//! Both overlays render with kustomize and keep every rule; and each rule
//! fails on a manifest with its setting removed or broken.

use std::path::{Path, PathBuf};

use k8s_validate::{Object, check, parse, render};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn rendered(overlay: &str) -> Vec<Object> {
    let root = root();
    let kustomize = k8s_validate::default_kustomize(&root);
    assert!(
        kustomize.exists(),
        "{} is missing: run `make tools` (make test does)",
        kustomize.display()
    );
    let yaml = render(&kustomize, &root.join("k8s/overlays").join(overlay)).expect("renders");
    parse(&yaml).expect("every object parses")
}

/// The violations of `overlay` after `change` is made to it.
fn broken(overlay: &str, change: impl FnOnce(&mut Vec<Object>)) -> Vec<String> {
    let mut objects = rendered(overlay);
    change(&mut objects);
    check(&objects).iter().map(ToString::to_string).collect()
}

fn deployment<'a>(
    objects: &'a mut [Object],
    name: &str,
) -> &'a mut k8s_openapi::api::core::v1::PodSpec {
    objects
        .iter_mut()
        .find_map(|o| match o {
            Object::Deployment(d) if d.metadata.name.as_deref() == Some(name) => {
                d.spec.as_mut().and_then(|s| s.template.spec.as_mut())
            }
            _ => None,
        })
        .expect("deployment")
}

fn assert_breaks(violations: &[String], expected: &str) {
    assert!(
        violations.iter().any(|v| v == expected),
        "expected {expected:?} among {violations:#?}"
    );
}

#[test]
fn the_dev_and_prod_overlays_keep_every_rule() {
    for overlay in ["dev", "prod"] {
        let objects = rendered(overlay);
        assert!(objects.len() > 40, "{overlay}: {} objects", objects.len());
        let violations = check(&objects);
        assert!(violations.is_empty(), "{overlay}: {violations:#?}");
    }
}

#[test]
fn a_misspelt_field_is_refused_not_dropped() {
    let yaml = r"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: preauth
spec:
  selector: {}
  template:
    spec:
      containers:
        - name: preauth
          readinesProbe:
            grpc:
              port: 50053
";
    let error = parse(yaml).unwrap_err().to_string();
    assert_eq!(
        error,
        "Deployment preauth: unknown field spec.template.spec.containers.0.readinesProbe"
    );
}

#[test]
fn a_missing_probe_limit_or_hardening_setting_is_caught() {
    let violations = broken("prod", |objects| {
        let pod = deployment(objects, "preauth");
        pod.containers[0].readiness_probe = None;
        pod.termination_grace_period_seconds = Some(10);
        let pod = deployment(objects, "claims");
        if let Some(resources) = pod.containers[0].resources.as_mut() {
            resources.limits = None;
        }
        let pod = deployment(objects, "gateway");
        if let Some(security) = pod.containers[0].security_context.as_mut() {
            security.read_only_root_filesystem = Some(false);
        }
        pod.security_context = None;
    });
    for expected in [
        "Deployment/preauth: container preauth has no readiness probe",
        "Deployment/preauth: readiness is not a native gRPC probe of ayushman.preauth.v1.PreauthService on 50053",
        "Deployment/preauth: terminationGracePeriodSeconds is not longer than the 20 s drain",
        "Deployment/claims: container claims has no cpu limits",
        "Deployment/claims: container claims has no memory limits",
        "Deployment/gateway: container gateway has a writable root filesystem",
        "Deployment/gateway: pod may run as root (securityContext.runAsNonRoot)",
    ] {
        assert_breaks(&violations, expected);
    }
}

#[test]
fn network_policies_must_allow_exactly_the_callers_of_the_mesh_table() {
    let violations = broken("prod", |objects| {
        objects.retain(|o| o.label() != "NetworkPolicy/facility-registry");
        for object in objects.iter_mut() {
            if let Object::NetworkPolicy(policy) = object
                && policy.metadata.name.as_deref() == Some("beneficiary-registry")
                && let Some(rules) = policy.spec.as_mut().and_then(|s| s.ingress.as_mut())
            {
                // Drop the claims service from the callers of the registry.
                if let Some(from) = rules[0].from.as_mut() {
                    from.retain(|peer| !format!("{peer:?}").contains("\"claims\""));
                }
            }
        }
    });
    assert_breaks(
        &violations,
        "NetworkPolicy/facility-registry: no policy selects its pods",
    );
    assert_breaks(
        &violations,
        "NetworkPolicy/beneficiary-registry: allows calls from {\"gateway\", \"nhcx\", \"preauth\"}; the mesh table's callers are {\"claims\", \"gateway\", \"nhcx\", \"preauth\"}",
    );
}

#[test]
fn peer_addresses_must_be_the_mesh_table_s() {
    let violations = broken("dev", |objects| {
        for object in objects.iter_mut() {
            if let Object::ConfigMap(map) = object
                && map
                    .metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("preauth-"))
                && let Some(data) = map.data.as_mut()
            {
                data.remove("AYUSHMAN__PEERS__PORTABILITY__URL");
            }
        }
    });
    assert!(
        violations.iter().any(|v| v.starts_with(
            "Deployment/preauth: peer addresses {\"beneficiary_registry\": \"http://beneficiary-registry:50051\", \"facility_registry\": \"http://facility-registry:50052\"} are not the mesh table's"
        )),
        "{violations:#?}"
    );
}

#[test]
fn an_outside_service_must_be_chosen_and_its_secret_come_from_a_secret() {
    let violations = broken("prod", |objects| {
        for object in objects.iter_mut() {
            if let Object::ConfigMap(map) = object
                && map
                    .metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("facility-registry-"))
                && let Some(data) = map.data.as_mut()
            {
                data.remove("AYUSHMAN__SERVICE__ABDM__PROVIDER");
            }
        }
        let pod = deployment(objects, "beneficiary-registry");
        if let Some(env) = pod.containers[0].env.as_mut() {
            env.retain(|var| var.name != "AYUSHMAN__SERVICE__KYC__CLIENT_SECRET");
        }
    });
    for expected in [
        "Deployment/facility-registry: AYUSHMAN__SERVICE__ABDM__PROVIDER is not chosen (http, or offline for a stand-in)",
        "Deployment/beneficiary-registry: AYUSHMAN__SERVICE__KYC__CLIENT_SECRET does not come from a Secret",
    ] {
        assert!(
            violations.iter().any(|v| v == expected),
            "{expected}: {violations:#?}"
        );
    }
}

#[test]
fn a_database_without_backups_or_a_committed_secret_is_caught() {
    let violations = broken("prod", |objects| {
        for object in objects.iter_mut() {
            if let Object::Cluster(cluster) = object
                && cluster.metadata.name.as_deref() == Some("claims-db")
            {
                cluster.spec.backup = None;
            }
        }
        objects.retain(|o| o.label() != "ScheduledBackup/claims-db-daily");
        objects.push(Object::Secret(k8s_openapi::api::core::v1::Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("mesh-secrets".into()),
                ..Default::default()
            },
            ..Default::default()
        }));
    });
    for expected in [
        "Cluster/claims-db: has no backup object store (WAL archive and base backups)",
        "Cluster/claims-db: has no ScheduledBackup",
        "Secret/mesh-secrets: secrets are created in the cluster, never committed or generated",
    ] {
        assert_breaks(&violations, expected);
    }
}
