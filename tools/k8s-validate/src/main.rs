//! `k8s-validate [--kustomize PATH] OVERLAY...`: renders each overlay and
//! checks it (see the library). Prints one line per overlay, and every rule
//! broken; exits 1 if any is.

use std::{path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut kustomize = k8s_validate::default_kustomize(&PathBuf::from("."));
    if args.peek().map(String::as_str) == Some("--kustomize") {
        args.next();
        match args.next() {
            Some(path) => kustomize = PathBuf::from(path),
            None => {
                eprintln!("k8s-validate: --kustomize needs a path");
                return ExitCode::from(64);
            }
        }
    }
    let overlays: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if overlays.is_empty() {
        eprintln!("usage: k8s-validate [--kustomize PATH] OVERLAY...");
        return ExitCode::from(64);
    }
    let mut failed = false;
    for overlay in overlays {
        let outcome = k8s_validate::render(&kustomize, &overlay)
            .map_err(|e| e.to_string())
            .and_then(|yaml| k8s_validate::parse(&yaml).map_err(|e| e.to_string()));
        match outcome {
            Err(error) => {
                failed = true;
                eprintln!("{}: {error}", overlay.display());
            }
            Ok(objects) => {
                let violations = k8s_validate::check(&objects);
                if violations.is_empty() {
                    println!(
                        "{}: {} objects, every rule holds",
                        overlay.display(),
                        objects.len()
                    );
                } else {
                    failed = true;
                    eprintln!("{}: {} rules broken", overlay.display(), violations.len());
                    for violation in violations {
                        eprintln!("  {violation}");
                    }
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
