//! The CloudNativePG resources the prod overlay uses, typed for the fields it
//! sets (CloudNativePG's CRDs are not in k8s-openapi). A field not declared
//! here is refused like any unknown field.

use k8s_openapi::{
    api::core::v1::{ResourceRequirements, SecretKeySelector},
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use serde::Deserialize;

/// `postgresql.cnpg.io/v1` Cluster: a PostgreSQL cluster the operator runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ClusterSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub instances: u32,
    pub image_name: Option<String>,
    pub primary_update_strategy: Option<String>,
    pub storage: Storage,
    pub bootstrap: Option<Bootstrap>,
    pub resources: Option<ResourceRequirements>,
    pub monitoring: Option<Monitoring>,
    pub backup: Option<Backup>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    pub size: String,
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Bootstrap {
    pub initdb: Option<InitDb>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InitDb {
    pub database: String,
    pub owner: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    pub enable_pod_monitor: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub retention_policy: Option<String>,
    pub barman_object_store: Option<BarmanObjectStore>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BarmanObjectStore {
    pub destination_path: String,
    pub s3_credentials: Option<S3Credentials>,
    pub wal: Option<Compression>,
    pub data: Option<Compression>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Credentials {
    pub access_key_id: SecretKeySelector,
    pub secret_access_key: SecretKeySelector,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Compression {
    pub compression: Option<String>,
}

/// `postgresql.cnpg.io/v1` ScheduledBackup: base backups of a cluster on a schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledBackup {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ScheduledBackupSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledBackupSpec {
    pub schedule: String,
    pub backup_owner_reference: Option<String>,
    pub cluster: ClusterReference,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterReference {
    pub name: String,
}
