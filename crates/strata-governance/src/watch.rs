//! [`PolicyWatcher`] (feature `watch`): reloads a layer's policy when its TOML file changes.

use std::path::PathBuf;

use notify::{EventKind, RecursiveMode, Watcher};
use strata_core::{Error, Result};

use crate::layer::GovernanceLayer;

/// Watches the TOML file of a layer's [`PolicySource`](crate::PolicySource) and calls
/// [`GovernanceLayer::reload`] when it is written, created or renamed into place. A reload
/// that fails keeps the previous policy (and is logged and counted in
/// [`GovernanceReport::reload_failures`](crate::GovernanceReport::reload_failures)). Dropping
/// the watcher stops it.
///
/// The directory is watched rather than the file, so editors that save by writing a new file
/// and renaming it over the old one are seen too.
pub struct PolicyWatcher {
    _watcher: notify::RecommendedWatcher,
    path: PathBuf,
}

impl std::fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyWatcher")
            .field("path", &self.path)
            .finish()
    }
}

impl PolicyWatcher {
    /// Starts watching `layer`'s policy file. Fails with
    /// [`ErrorKind::InvalidConfig`](strata_core::ErrorKind::InvalidConfig) when the layer's
    /// source has no file, or when the file's directory cannot be watched.
    pub fn start(layer: &GovernanceLayer) -> Result<Self> {
        let Some(path) = layer.source().and_then(|s| s.file().map(PathBuf::from)) else {
            return Err(Error::invalid_config(
                "the governance layer has no policy file to watch; build it with PolicySource::toml_file",
            ));
        };
        let path = std::path::absolute(&path).unwrap_or(path);
        let dir = path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let file_name = path.file_name().map(|n| n.to_owned());
        let target = layer.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let relevant = matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_))
                    && event
                        .paths
                        .iter()
                        .any(|p| p.file_name().map(|n| n.to_owned()) == file_name);
                if relevant {
                    // Errors are logged and counted by reload; the previous policy stays.
                    let _ = target.reload();
                }
            })
            .map_err(|e| Error::invalid_config(format!("cannot start the policy watcher: {e}")))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| Error::invalid_config(format!("cannot watch {}: {e}", dir.display())))?;
        Ok(PolicyWatcher {
            _watcher: watcher,
            path,
        })
    }

    /// The watched file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}
