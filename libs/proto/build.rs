//! Compiles every contract under `proto/` with protox (pure Rust, no protoc) and
//! generates prost messages plus tonic clients and servers. The encoded descriptor
//! set (with comments) is written next to the code for server reflection, so
//! `grpcurl describe` shows the field documentation. Every top-level enum also
//! gets an implementation of `ProtoEnum`, so storage code can keep enums by their
//! value names without a hand-written list, and every request carrying an
//! idempotency key one of `Idempotent`.

use std::{env, error::Error, fmt::Write as _, fs, path::PathBuf};

use prost::Message;

const AREAS: [&str; 8] = [
    "common",
    "beneficiary",
    "facility",
    "preauth",
    "claims",
    "portability",
    "gateway",
    "nhcx",
];

fn main() -> Result<(), Box<dyn Error>> {
    let proto_root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files: Vec<PathBuf> = AREAS
        .iter()
        .map(|area| proto_root.join(format!("ayushman/{area}/v1/{area}.proto")))
        .collect();

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("ayushman_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    fs::write(
        out_dir.join("proto_enums.rs"),
        proto_enum_impls(&descriptors)?,
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Services implement RPCs one issue at a time; the rest answer UNIMPLEMENTED.
        .generate_default_stubs(true)
        .include_file("ayushman.rs")
        .compile_fds(descriptors)?;

    println!("cargo:rerun-if-changed={}", proto_root.display());
    Ok(())
}

/// `impl ProtoEnum for ...` for each top-level enum of the mesh's own packages,
/// and `impl Idempotent for ...` for each request with an idempotency key.
fn proto_enum_impls(
    descriptors: &prost_types::FileDescriptorSet,
) -> Result<String, std::fmt::Error> {
    let mut code = String::new();
    for file in &descriptors.file {
        let package = file.package();
        let Some(area) = package
            .strip_prefix("ayushman.")
            .and_then(|rest| rest.strip_suffix(".v1"))
        else {
            continue;
        };
        for message in &file.message_type {
            let name = message.name();
            let keyed = message
                .field
                .iter()
                .any(|field| field.name() == "idempotency_key");
            if let (true, Some(rpc)) = (keyed, name.strip_suffix("Request")) {
                writeln!(
                    code,
                    "impl crate::Idempotent for crate::{area}::v1::{name} {{\n\
                     \x20   const RPC: &'static str = \"{rpc}\";\n\
                     \x20   fn idempotency_key(&self) -> &str {{ &self.idempotency_key }}\n\
                     }}"
                )?;
            }
        }
        for enumeration in &file.enum_type {
            let name = enumeration.name();
            let prefix = screaming_snake(name);
            writeln!(
                code,
                "impl crate::ProtoEnum for crate::{area}::v1::{name} {{\n\
                 \x20   const PREFIX: &'static str = \"{prefix}_\";\n\
                 \x20   fn as_str_name(&self) -> &'static str {{ Self::as_str_name(self) }}\n\
                 \x20   fn from_str_name(value: &str) -> Option<Self> {{ Self::from_str_name(value) }}\n\
                 }}"
            )?;
        }
    }
    Ok(code)
}

/// `PreauthStatus` -> `PREAUTH_STATUS`, the prefix buf's STANDARD lint asks of values.
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
