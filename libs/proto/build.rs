//! Compiles every contract under `proto/` with protox (pure Rust, no protoc) and
//! generates prost messages plus tonic clients and servers. The encoded descriptor
//! set (with comments) is written next to the code for server reflection, so
//! `grpcurl describe` shows the field documentation.

use std::{env, error::Error, fs, path::PathBuf};

use prost::Message;

const AREAS: [&str; 7] = [
    "common",
    "beneficiary",
    "facility",
    "preauth",
    "claims",
    "portability",
    "gateway",
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
