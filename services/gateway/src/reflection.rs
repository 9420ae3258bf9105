//! Reflection as each partner sees it: the mesh services with only the
//! methods the partner holds a scope for, and the admin service only for the
//! mesh operator — so `grpcurl list` and `describe` show exactly what the
//! partner may call, with the comments of the contracts.
//!
//! Methods are taken out of the descriptors the services publish. A
//! descriptor's comments live apart from the elements they describe, in
//! `source_code_info`, addressed by position (`service 2, method 7`), so
//! every location is renumbered to the element's new position, or dropped
//! with the element.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
};

use ayushman_platform::{
    MeshService,
    server::{Reflection, ReflectionService, ServeError},
};
use prost_types::FileDescriptorProto;

use crate::{partners::Principal, scopes};

/// Field numbers of `FileDescriptorProto.service` and `ServiceDescriptorProto.method`.
const SERVICE_FIELD: i32 = 6;
const METHOD_FIELD: i32 = 2;

/// Reflection services by the set of scopes they describe, built on first use.
#[derive(Default)]
pub struct PartnerReflections {
    by_scopes: Mutex<HashMap<BTreeSet<String>, ReflectionService>>,
}

impl PartnerReflections {
    /// Reflection of what `principal` may call.
    pub fn of(&self, principal: &Principal) -> Result<ReflectionService, ServeError> {
        let scopes: BTreeSet<String> = principal
            .partner
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let mut cache = self.by_scopes.lock().expect("reflection cache lock");
        if let Some(service) = cache.get(&scopes) {
            return Ok(service.clone());
        }
        let service = visible_with(&scopes)?.service()?;
        cache.insert(scopes, service.clone());
        Ok(service)
    }
}

/// Reflection of the methods a partner holding `scopes` may call.
pub fn visible_with(scopes: &BTreeSet<String>) -> Result<Reflection, prost::DecodeError> {
    let admin = scopes.contains(scopes::ADMIN_SCOPE);
    let callable = |upstream: MeshService, method: &str| {
        scopes::scope_of(upstream, method).is_some_and(|scope| scopes.contains(scope))
    };
    let upstreams: Vec<MeshService> = scopes::UPSTREAMS
        .into_iter()
        .filter(|upstream| {
            scopes::METHODS
                .iter()
                .any(|(s, m, _)| s == upstream && callable(*upstream, m))
        })
        .collect();
    let listed = upstreams
        .iter()
        .chain(admin.then_some(&crate::SERVICE))
        .map(|s| s.grpc_service().to_owned());
    let mut reflection = Reflection::of_mesh(listed)?;
    for file in &mut reflection.files.file {
        let package = file.package().to_owned();
        keep_methods(file, |service, method| {
            let name = format!("{package}.{service}");
            match scopes::UPSTREAMS.iter().find(|s| s.grpc_service() == name) {
                Some(upstream) => callable(*upstream, method),
                None if name == crate::SERVICE.grpc_service() => admin,
                None => true,
            }
        });
    }
    Ok(reflection)
}

/// Keeps the methods `keep(service, method)` accepts and the services left
/// with any, renumbering the comments' locations to match.
pub fn keep_methods(file: &mut FileDescriptorProto, keep: impl Fn(&str, &str) -> bool) {
    let mut service_moves = Vec::new();
    let mut method_moves = Vec::new();
    let mut services = Vec::new();
    for service in std::mem::take(&mut file.service) {
        let mut moves = Vec::new();
        let mut kept = Vec::new();
        for method in service.method.iter() {
            if keep(service.name(), method.name()) {
                moves.push(Some(kept.len() as i32));
                kept.push(method.clone());
            } else {
                moves.push(None);
            }
        }
        if kept.is_empty() && !service.method.is_empty() {
            service_moves.push(None);
        } else {
            service_moves.push(Some(services.len() as i32));
            services.push(prost_types::ServiceDescriptorProto {
                method: kept,
                ..service
            });
        }
        method_moves.push(moves);
    }
    file.service = services;
    let Some(info) = file.source_code_info.as_mut() else {
        return;
    };
    info.location.retain_mut(|location| {
        let path = &mut location.path;
        if path.first() != Some(&SERVICE_FIELD) || path.len() < 2 {
            return true;
        }
        let old_service = path[1] as usize;
        let Some(Some(new_service)) = service_moves.get(old_service) else {
            return false;
        };
        path[1] = *new_service;
        if path.len() >= 4 && path[2] == METHOD_FIELD {
            match method_moves[old_service].get(path[3] as usize) {
                Some(Some(new_method)) => path[3] = *new_method,
                _ => return false,
            }
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use prost_types::{
        MethodDescriptorProto, ServiceDescriptorProto, SourceCodeInfo, source_code_info::Location,
    };

    use super::*;

    fn located(path: &[i32], comment: &str) -> Location {
        Location {
            path: path.to_vec(),
            leading_comments: Some(comment.into()),
            ..Default::default()
        }
    }

    fn method(name: &str) -> MethodDescriptorProto {
        MethodDescriptorProto {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_method_kept_keeps_its_own_comment_at_its_new_position() {
        let mut file = FileDescriptorProto {
            service: vec![
                ServiceDescriptorProto {
                    name: Some("Hidden".into()),
                    method: vec![method("Secret")],
                    ..Default::default()
                },
                ServiceDescriptorProto {
                    name: Some("Registry".into()),
                    method: vec![method("Block"), method("Report"), method("Ledger")],
                    ..Default::default()
                },
            ],
            source_code_info: Some(SourceCodeInfo {
                location: vec![
                    located(&[6, 0], "hidden service"),
                    located(&[6, 0, 2, 0], "secret"),
                    located(&[6, 1], "the registry"),
                    located(&[6, 1, 2, 0], "blocks cover"),
                    located(&[6, 1, 2, 1], "reports coverage"),
                    located(&[6, 1, 2, 2], "lists the ledger"),
                    located(&[4, 0], "a message"),
                ],
            }),
            ..Default::default()
        };
        keep_methods(&mut file, |service, method| {
            service == "Registry" && method != "Block"
        });
        let names: Vec<&str> = file.service[0].method.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["Report", "Ledger"]);
        let comments: Vec<(Vec<i32>, String)> = file
            .source_code_info
            .expect("info")
            .location
            .into_iter()
            .map(|l| (l.path, l.leading_comments.unwrap_or_default()))
            .collect();
        assert_eq!(
            comments,
            [
                (vec![6, 0], "the registry".to_owned()),
                (vec![6, 0, 2, 0], "reports coverage".to_owned()),
                (vec![6, 0, 2, 1], "lists the ledger".to_owned()),
                (vec![4, 0], "a message".to_owned()),
            ]
        );
    }
}
