//! Rendered manifests as typed Kubernetes API objects (k8s-openapi, and the
//! CloudNativePG resources in [`crate::cnpg`]). A field the type does not know
//! is an error, not silently dropped: a misspelt `readinesProbe` would
//! otherwise render, apply, and leave the pod without its probe.

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_norway::Value;

use crate::cnpg::{Cluster, ScheduledBackup};

/// One object of a rendered overlay.
#[derive(Debug, Clone)]
pub enum Object {
    Namespace(Namespace),
    ConfigMap(ConfigMap),
    Secret(Secret),
    Service(Service),
    ServiceAccount(ServiceAccount),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    PodDisruptionBudget(PodDisruptionBudget),
    NetworkPolicy(NetworkPolicy),
    Ingress(Ingress),
    Cluster(Cluster),
    ScheduledBackup(ScheduledBackup),
}

/// Why a rendered stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("document {index}: not YAML: {source}")]
    Yaml {
        index: usize,
        source: serde_norway::Error,
    },
    #[error("document {index}: no apiVersion and kind")]
    Untyped { index: usize },
    #[error("{kind} {name}: {api_version} {kind} is not a kind the mesh deploys")]
    Unsupported {
        api_version: String,
        kind: String,
        name: String,
    },
    #[error("{kind} {name}: unknown field {path}")]
    UnknownField {
        kind: String,
        name: String,
        path: String,
    },
    #[error("{kind} {name}: {source}")]
    Invalid {
        kind: String,
        name: String,
        source: serde_norway::Error,
    },
}

/// Every object of a multi-document YAML stream (what `kustomize build` prints).
pub fn parse(yaml: &str) -> Result<Vec<Object>, ParseError> {
    let mut objects = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(yaml).enumerate() {
        let value =
            Value::deserialize(document).map_err(|source| ParseError::Yaml { index, source })?;
        if value.is_null() {
            continue;
        }
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
            return Err(ParseError::Untyped { index });
        };
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>")
            .to_owned();
        let typed = Typed {
            value,
            kind: &kind,
            name: &name,
        };
        objects.push(match (api_version.as_str(), kind.as_str()) {
            ("v1", "Namespace") => Object::Namespace(typed.into()?),
            ("v1", "ConfigMap") => Object::ConfigMap(typed.into()?),
            ("v1", "Secret") => Object::Secret(typed.into()?),
            ("v1", "Service") => Object::Service(typed.into()?),
            ("v1", "ServiceAccount") => Object::ServiceAccount(typed.into()?),
            ("apps/v1", "Deployment") => Object::Deployment(typed.into()?),
            ("apps/v1", "StatefulSet") => Object::StatefulSet(typed.into()?),
            ("autoscaling/v2", "HorizontalPodAutoscaler") => {
                Object::HorizontalPodAutoscaler(typed.into()?)
            }
            ("policy/v1", "PodDisruptionBudget") => Object::PodDisruptionBudget(typed.into()?),
            ("networking.k8s.io/v1", "NetworkPolicy") => Object::NetworkPolicy(typed.into()?),
            ("networking.k8s.io/v1", "Ingress") => Object::Ingress(typed.into()?),
            ("postgresql.cnpg.io/v1", "Cluster") => Object::Cluster(typed.into()?),
            ("postgresql.cnpg.io/v1", "ScheduledBackup") => Object::ScheduledBackup(typed.into()?),
            _ => {
                return Err(ParseError::Unsupported {
                    api_version,
                    kind,
                    name,
                });
            }
        });
    }
    Ok(objects)
}

struct Typed<'a> {
    value: Value,
    kind: &'a str,
    name: &'a str,
}

impl Typed<'_> {
    /// The typed object; the first field its type does not know is an error.
    fn into<T: DeserializeOwned>(self) -> Result<T, ParseError> {
        let mut unknown = Vec::new();
        // serde_ignored marks each Option it passes through with `?`; the
        // path a person reads has only field names and indices.
        let object = serde_ignored::deserialize(self.value, |path| {
            let readable: Vec<String> = path
                .to_string()
                .split('.')
                .filter(|part| *part != "?")
                .map(str::to_owned)
                .collect();
            unknown.push(readable.join("."));
        })
        .map_err(|source| ParseError::Invalid {
            kind: self.kind.to_owned(),
            name: self.name.to_owned(),
            source,
        })?;
        match unknown.into_iter().next() {
            Some(path) => Err(ParseError::UnknownField {
                kind: self.kind.to_owned(),
                name: self.name.to_owned(),
                path,
            }),
            None => Ok(object),
        }
    }
}

impl Object {
    /// `Kind/name`, for messages.
    pub fn label(&self) -> String {
        let (kind, name) = match self {
            Self::Namespace(o) => ("Namespace", &o.metadata.name),
            Self::ConfigMap(o) => ("ConfigMap", &o.metadata.name),
            Self::Secret(o) => ("Secret", &o.metadata.name),
            Self::Service(o) => ("Service", &o.metadata.name),
            Self::ServiceAccount(o) => ("ServiceAccount", &o.metadata.name),
            Self::Deployment(o) => ("Deployment", &o.metadata.name),
            Self::StatefulSet(o) => ("StatefulSet", &o.metadata.name),
            Self::HorizontalPodAutoscaler(o) => ("HorizontalPodAutoscaler", &o.metadata.name),
            Self::PodDisruptionBudget(o) => ("PodDisruptionBudget", &o.metadata.name),
            Self::NetworkPolicy(o) => ("NetworkPolicy", &o.metadata.name),
            Self::Ingress(o) => ("Ingress", &o.metadata.name),
            Self::Cluster(o) => ("Cluster", &o.metadata.name),
            Self::ScheduledBackup(o) => ("ScheduledBackup", &o.metadata.name),
        };
        format!("{kind}/{}", name.as_deref().unwrap_or("<unnamed>"))
    }
}
