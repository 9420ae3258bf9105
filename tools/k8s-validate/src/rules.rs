//! The rules every rendered overlay must keep (issue 10, item 2). The mesh
//! table (`ayushman_platform::MeshService`) is the source of the services,
//! their ports, and who calls whom: network policies and peer addresses are
//! checked against it, so the cluster cannot drift from what the services
//! themselves are configured to call.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use ayushman_platform::MeshService;
use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{Container, PodTemplateSpec, Probe},
        networking::v1::NetworkPolicy,
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use crate::{Object, cnpg::Cluster};

/// The label every mesh pod carries with its service's name.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// The shutdown drain when config sets none (`server.shutdown_grace_secs`).
const DEFAULT_SHUTDOWN_GRACE_SECS: i64 = 20;

/// A rule an object breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `Kind/name` of the object at fault.
    pub object: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.message)
    }
}

/// Every rule broken by `objects`, an overlay's rendering.
pub fn check(objects: &[Object]) -> Vec<Violation> {
    let mut found = Findings::default();
    let index = Index::new(objects);
    for object in objects {
        if let Object::Secret(_) = object {
            found.add(
                object.label(),
                "secrets are created in the cluster, never committed or generated",
            );
        }
    }
    if !index.policies.iter().any(|p| {
        p.spec
            .as_ref()
            .is_some_and(|s| s.pod_selector.as_ref().is_none_or(selects_everything))
    }) {
        found.add(
            "NetworkPolicy/*",
            "no default-deny policy selects every pod",
        );
    }
    for (name, template) in index.workloads() {
        check_pod(&mut found, &name, template);
    }
    for service in MeshService::ALL {
        check_service(&mut found, &index, service);
    }
    found.0
}

#[derive(Default)]
struct Findings(Vec<Violation>);

impl Findings {
    fn add(&mut self, object: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            object: object.into(),
            message: message.into(),
        });
    }
}

/// The objects by kind and name.
struct Index<'a> {
    objects: &'a [Object],
    policies: Vec<&'a NetworkPolicy>,
}

impl<'a> Index<'a> {
    fn new(objects: &'a [Object]) -> Self {
        let policies = objects
            .iter()
            .filter_map(|o| match o {
                Object::NetworkPolicy(p) => Some(p),
                _ => None,
            })
            .collect();
        Self { objects, policies }
    }

    /// Every pod template, by `Kind/name`.
    fn workloads(&self) -> Vec<(String, &'a PodTemplateSpec)> {
        self.objects
            .iter()
            .filter_map(|o| match o {
                Object::Deployment(d) => d.spec.as_ref().map(|s| (o.label(), &s.template)),
                Object::StatefulSet(s) => s.spec.as_ref().map(|spec| (o.label(), &spec.template)),
                _ => None,
            })
            .collect()
    }

    fn deployment(&self, name: &str) -> Option<&'a Deployment> {
        self.objects.iter().find_map(|o| match o {
            Object::Deployment(d) if d.metadata.name.as_deref() == Some(name) => Some(d),
            _ => None,
        })
    }

    fn config_map(&self, name: &str) -> Option<&'a BTreeMap<String, String>> {
        self.objects.iter().find_map(|o| match o {
            Object::ConfigMap(c) if c.metadata.name.as_deref() == Some(name) => c.data.as_ref(),
            _ => None,
        })
    }

    fn has(&self, kind_name: &str) -> bool {
        self.objects.iter().any(|o| o.label() == kind_name)
    }

    fn cluster(&self, name: &str) -> Option<&'a Cluster> {
        self.objects.iter().find_map(|o| match o {
            Object::Cluster(c) if c.metadata.name.as_deref() == Some(name) => Some(c),
            _ => None,
        })
    }
}

fn selects_everything(selector: &LabelSelector) -> bool {
    selector
        .match_labels
        .as_ref()
        .is_none_or(BTreeMap::is_empty)
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty)
}

/// Whether `selector` (by its labels) selects pods labelled `labels`.
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    !selects_everything(selector)
        && selector
            .match_labels
            .as_ref()
            .is_none_or(|wanted| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Rules for every pod the mesh runs, its own services and what supports them.
fn check_pod(found: &mut Findings, object: &str, template: &PodTemplateSpec) {
    let Some(pod) = &template.spec else {
        found.add(object, "has no pod spec");
        return;
    };
    if pod
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root)
        != Some(true)
    {
        found.add(object, "pod may run as root (securityContext.runAsNonRoot)");
    }
    for container in &pod.containers {
        check_container(found, object, container);
    }
}

fn check_container(found: &mut Findings, object: &str, container: &Container) {
    let name = &container.name;
    let resources = container.resources.as_ref();
    for (what, values) in [
        ("requests", resources.and_then(|r| r.requests.as_ref())),
        ("limits", resources.and_then(|r| r.limits.as_ref())),
    ] {
        for resource in ["cpu", "memory"] {
            if !values.is_some_and(|v| v.contains_key(resource)) {
                found.add(object, format!("container {name} has no {resource} {what}"));
            }
        }
    }
    let security = container.security_context.as_ref();
    if security.and_then(|s| s.read_only_root_filesystem) != Some(true) {
        found.add(
            object,
            format!("container {name} has a writable root filesystem"),
        );
    }
    if security.and_then(|s| s.allow_privilege_escalation) != Some(false) {
        found.add(object, format!("container {name} may escalate privileges"));
    }
    let drops_all = security
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|c| c == "ALL"));
    if !drops_all {
        found.add(
            object,
            format!("container {name} keeps Linux capabilities (drop ALL)"),
        );
    }
    for (what, probe) in [
        ("readiness", &container.readiness_probe),
        ("liveness", &container.liveness_probe),
    ] {
        if probe.is_none() {
            found.add(object, format!("container {name} has no {what} probe"));
        }
    }
    let image = container.image.as_deref().unwrap_or("");
    let tag = image
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once(':'));
    if tag.is_none_or(|(_, tag)| tag == "latest") {
        found.add(
            object,
            format!("container {name} image {image:?} is not pinned to a version"),
        );
    }
}

/// Where a variable of a container's environment comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Value(String),
    Secret { name: String, key: String },
}

/// The container's environment, from its ConfigMaps and its own `env`.
fn environment(index: &Index, container: &Container) -> BTreeMap<String, Source> {
    let mut env = BTreeMap::new();
    for from in container.env_from.iter().flatten() {
        if let Some(data) = from
            .config_map_ref
            .as_ref()
            .and_then(|r| index.config_map(&r.name))
        {
            for (key, value) in data {
                env.insert(key.clone(), Source::Value(value.clone()));
            }
        }
    }
    for var in container.env.iter().flatten() {
        let source = match (&var.value, &var.value_from) {
            (Some(value), _) => Source::Value(value.clone()),
            (None, Some(from)) => match &from.secret_key_ref {
                Some(secret) => Source::Secret {
                    name: secret.name.clone(),
                    key: secret.key.clone(),
                },
                None => continue,
            },
            (None, None) => Source::Value(String::new()),
        };
        env.insert(var.name.clone(), source);
    }
    env
}

fn grpc_probe(probe: Option<&Probe>) -> Option<(i32, Option<&str>)> {
    probe
        .and_then(|p| p.grpc.as_ref())
        .map(|g| (g.port, g.service.as_deref()))
}

/// Rules for one service of the mesh table.
fn check_service(found: &mut Findings, index: &Index, service: MeshService) {
    let name = service.name();
    let object = format!("Deployment/{name}");
    let Some(deployment) = index.deployment(name) else {
        found.add(
            object,
            "is missing: every service of the mesh is a Deployment",
        );
        return;
    };
    let Some(spec) = &deployment.spec else {
        found.add(object, "has no spec");
        return;
    };
    if spec.replicas.unwrap_or(1) < 2 {
        found.add(&object, "runs fewer than 2 replicas");
    }
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    if labels.get(NAME_LABEL).map(String::as_str) != Some(name) {
        found.add(
            &object,
            format!("pods are not labelled {NAME_LABEL}={name}"),
        );
    }
    let Some(pod) = &spec.template.spec else {
        return;
    };
    let Some(container) = pod.containers.first() else {
        found.add(&object, "has no container");
        return;
    };
    let env = environment(index, container);

    check_ports_and_probes(found, &object, service, container);
    let grace = match env.get("AYUSHMAN__SERVER__SHUTDOWN_GRACE_SECS") {
        Some(Source::Value(secs)) => secs.parse().unwrap_or(DEFAULT_SHUTDOWN_GRACE_SECS),
        _ => DEFAULT_SHUTDOWN_GRACE_SECS,
    };
    if pod.termination_grace_period_seconds.unwrap_or(30) <= grace {
        found.add(
            &object,
            format!("terminationGracePeriodSeconds is not longer than the {grace} s drain"),
        );
    }
    match pod.service_account_name.as_deref() {
        Some(account) if index.has(&format!("ServiceAccount/{account}")) => {}
        _ => found.add(&object, "does not run as a ServiceAccount of its own"),
    }
    check_configuration(found, index, &object, service, &env);
    check_exposure(found, index, service, &labels);
}

fn check_ports_and_probes(
    found: &mut Findings,
    object: &str,
    service: MeshService,
    container: &Container,
) {
    let port = |named: &str| {
        container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(named))
            .map(|p| p.container_port)
    };
    let grpc_port = i32::from(service.default_port());
    if port("grpc") != Some(grpc_port) {
        found.add(
            object,
            format!("has no container port named grpc = {grpc_port}"),
        );
    }
    let metrics_port = i32::from(service.default_admin_port());
    if port("metrics") != Some(metrics_port) {
        found.add(
            object,
            format!("has no container port named metrics = {metrics_port}"),
        );
    }
    if grpc_probe(container.readiness_probe.as_ref())
        != Some((grpc_port, Some(service.grpc_service())))
    {
        found.add(
            object,
            format!(
                "readiness is not a native gRPC probe of {} on {grpc_port}",
                service.grpc_service()
            ),
        );
    }
    if grpc_probe(container.liveness_probe.as_ref()).map(|(p, _)| p) != Some(grpc_port) {
        found.add(
            object,
            format!("liveness is not a native gRPC probe on {grpc_port}"),
        );
    }
}

/// Ports, peers and database come in through the environment the services read.
fn check_configuration(
    found: &mut Findings,
    index: &Index,
    object: &str,
    service: MeshService,
    env: &BTreeMap<String, Source>,
) {
    let value = |key: &str| match env.get(key) {
        Some(Source::Value(v)) => Some(v.as_str()),
        _ => None,
    };
    if value("AYUSHMAN__SERVER__HOST") != Some("0.0.0.0") {
        found.add(
            object,
            "does not listen on 0.0.0.0 (AYUSHMAN__SERVER__HOST)",
        );
    }
    if value("AYUSHMAN__SERVER__PORT") != Some(&service.default_port().to_string()) {
        found.add(
            object,
            "AYUSHMAN__SERVER__PORT is not its port of the mesh table",
        );
    }
    let peers: BTreeMap<String, String> = env
        .iter()
        .filter_map(|(key, source)| {
            let peer = key
                .strip_prefix("AYUSHMAN__PEERS__")?
                .strip_suffix("__URL")?;
            match source {
                Source::Value(url) => Some((peer.to_ascii_lowercase(), url.clone())),
                Source::Secret { .. } => None,
            }
        })
        .collect();
    let expected: BTreeMap<String, String> = service
        .calls()
        .iter()
        .map(|peer| {
            (
                peer.config_key().to_owned(),
                format!("http://{}:{}", peer.name(), peer.default_port()),
            )
        })
        .collect();
    if peers != expected {
        found.add(
            object,
            format!("peer addresses {peers:?} are not the mesh table's {expected:?}"),
        );
    }
    for secret in [
        "AYUSHMAN__SERVER__PARTNER_IDENTITY_KEY",
        "AYUSHMAN__DATABASE__FINGERPRINT_KEY",
    ] {
        match env.get(secret) {
            Some(Source::Secret { .. }) => {}
            _ => found.add(object, format!("{secret} does not come from a Secret")),
        }
    }
    check_outside_providers(found, object, service, env);
    check_database(found, index, object, service, env.get("DATABASE_URL"));
}

/// Every outside service (e-KYC, ABDM) has its provider chosen explicitly,
/// and the real one's client secret comes from a Secret.
fn check_outside_providers(
    found: &mut Findings,
    object: &str,
    service: MeshService,
    env: &BTreeMap<String, Source>,
) {
    for key in service.outside_providers() {
        match env.get(*key) {
            Some(Source::Value(provider)) if provider == "offline" => {}
            Some(Source::Value(provider)) if provider == "http" => {
                let secret = key.replace("__PROVIDER", "__CLIENT_SECRET");
                if !matches!(env.get(&secret), Some(Source::Secret { .. })) {
                    found.add(object, format!("{secret} does not come from a Secret"));
                }
            }
            _ => found.add(
                object,
                format!("{key} is not chosen (http, or offline for a stand-in)"),
            ),
        }
    }
}

/// Each service has its own database: a CloudNativePG cluster with backups,
/// or (dev) a PostgreSQL Service of the overlay.
fn check_database(
    found: &mut Findings,
    index: &Index,
    object: &str,
    service: MeshService,
    url: Option<&Source>,
) {
    match url {
        Some(Source::Secret { name, key }) => {
            let cluster_name = format!("{}-db", service.name());
            if name != &format!("{cluster_name}-app") || key != "uri" {
                found.add(
                    object,
                    format!("DATABASE_URL comes from {name}/{key}, not {cluster_name}-app/uri"),
                );
                return;
            }
            let Some(cluster) = index.cluster(&cluster_name) else {
                found.add(
                    object,
                    format!("DATABASE_URL names cluster {cluster_name}, which is not deployed"),
                );
                return;
            };
            let store = cluster
                .spec
                .backup
                .as_ref()
                .and_then(|b| b.barman_object_store.as_ref());
            if store.is_none() {
                found.add(
                    format!("Cluster/{cluster_name}"),
                    "has no backup object store (WAL archive and base backups)",
                );
            }
            let scheduled = index.objects.iter().any(|o| match o {
                Object::ScheduledBackup(b) => b.spec.cluster.name == cluster_name,
                _ => false,
            });
            if !scheduled {
                found.add(format!("Cluster/{cluster_name}"), "has no ScheduledBackup");
            }
        }
        Some(Source::Value(url)) => {
            let host = url
                .split_once("://")
                .and_then(|(_, rest)| rest.split(['/', ':']).find(|s| !s.is_empty()))
                .map(|host| host.rsplit('@').next().unwrap_or(host));
            let database = url.rsplit('/').next().unwrap_or("");
            match host {
                Some(host) if index.has(&format!("Service/{host}")) => {}
                _ => found.add(
                    object,
                    format!("DATABASE_URL {url} is not a Service of the overlay"),
                ),
            }
            if database != service.name().replace('-', "_") {
                found.add(
                    object,
                    format!("DATABASE_URL {url} is not the service's own database"),
                );
            }
        }
        None => found.add(object, "has no DATABASE_URL"),
    }
}

/// Its Service, autoscaler, disruption budget and network policy.
fn check_exposure(
    found: &mut Findings,
    index: &Index,
    service: MeshService,
    labels: &BTreeMap<String, String>,
) {
    let name = service.name();
    let object = format!("Service/{name}");
    let headless = index.objects.iter().find_map(|o| match o {
        Object::Service(s) if s.metadata.name.as_deref() == Some(name) => s.spec.as_ref(),
        _ => None,
    });
    match headless {
        None => found.add(object, "is missing"),
        Some(spec) => {
            if spec.cluster_ip.as_deref() != Some("None") {
                found.add(
                    &object,
                    "is not headless: gRPC would not balance per request",
                );
            }
            if !spec
                .selector
                .as_ref()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
            {
                found.add(&object, "does not select the service's pods");
            }
            let grpc = spec.ports.iter().flatten().any(|p| {
                p.name.as_deref() == Some("grpc") && p.port == i32::from(service.default_port())
            });
            if !grpc {
                found.add(&object, "has no port named grpc");
            }
        }
    }
    let autoscaled = index.objects.iter().any(|o| match o {
        Object::HorizontalPodAutoscaler(h) => h.spec.as_ref().is_some_and(|s| {
            s.scale_target_ref.kind == "Deployment"
                && s.scale_target_ref.name == name
                && s.min_replicas.unwrap_or(1) >= 2
        }),
        _ => false,
    });
    if !autoscaled {
        found.add(
            format!("HorizontalPodAutoscaler/{name}"),
            "no autoscaler keeps at least 2 replicas of it",
        );
    }
    let budgeted = index.objects.iter().any(|o| match o {
        Object::PodDisruptionBudget(b) => b
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_some_and(|s| selects(s, labels)),
        _ => false,
    });
    if !budgeted {
        found.add(
            format!("PodDisruptionBudget/{name}"),
            "no disruption budget selects its pods",
        );
    }
    check_network_policy(found, index, service, labels);
}

/// Only the services that call it (the mesh table) reach its gRPC port; only
/// the gateway is reached from outside the namespace.
fn check_network_policy(
    found: &mut Findings,
    index: &Index,
    service: MeshService,
    labels: &BTreeMap<String, String>,
) {
    let name = service.name();
    let object = format!("NetworkPolicy/{name}");
    let policies: Vec<_> = index
        .policies
        .iter()
        .filter_map(|p| p.spec.as_ref())
        .filter(|s| s.pod_selector.as_ref().is_some_and(|p| selects(p, labels)))
        .collect();
    if policies.is_empty() {
        found.add(object, "no policy selects its pods");
        return;
    }
    let mut callers = BTreeSet::new();
    let mut from_namespaces = false;
    for rule in policies.iter().flat_map(|s| s.ingress.iter().flatten()) {
        let reaches_grpc = rule.ports.as_ref().is_none_or(|ports| {
            ports.iter().any(|p| match &p.port {
                Some(IntOrString::String(port)) => port == "grpc",
                Some(IntOrString::Int(port)) => *port == i32::from(service.default_port()),
                None => true,
            })
        });
        if !reaches_grpc {
            continue;
        }
        let Some(peers) = &rule.from else {
            found.add(&object, "lets anything reach its gRPC port");
            continue;
        };
        for peer in peers {
            match (&peer.pod_selector, &peer.namespace_selector) {
                (Some(pods), None) => {
                    let caller = pods
                        .match_labels
                        .as_ref()
                        .and_then(|l| l.get(NAME_LABEL))
                        .cloned()
                        .unwrap_or_else(|| "<any pod>".into());
                    callers.insert(caller);
                }
                (_, Some(_)) => from_namespaces = true,
                (None, None) => {
                    found.add(
                        &object,
                        "an ingress peer without selectors lets anything in",
                    );
                }
            }
        }
    }
    let expected: BTreeSet<String> = MeshService::ALL
        .into_iter()
        .filter(|caller| caller.calls().contains(&service))
        .map(|caller| caller.name().to_owned())
        .collect();
    if callers != expected {
        found.add(
            &object,
            format!("allows calls from {callers:?}; the mesh table's callers are {expected:?}"),
        );
    }
    let faces_outside = service.faces_outside();
    if from_namespaces && !faces_outside {
        found.add(
            &object,
            "is reachable from another namespace; only the gateway and the NHCX service face outside",
        );
    }
    if faces_outside && !from_namespaces {
        found.add(
            &object,
            format!("{service} is not reachable from the ingress controller"),
        );
    }
}
