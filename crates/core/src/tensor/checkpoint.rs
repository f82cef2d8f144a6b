//! VarStore checkpoints with errors that name the file.

use std::path::Path;

use tch::nn::VarStore;

use crate::error::{Error, Result};

/// Saves every variable of `vs` to `path` (libtorch's format).
pub fn save_checkpoint(vs: &VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    vs.save(path)
        .map_err(|e| Error::wrap(format!("cannot save checkpoint {}", path.display()), e))
}

/// Loads variables saved by [`save_checkpoint`] into `vs` (names and shapes
/// must match the model that was saved).
pub fn load_checkpoint(vs: &mut VarStore, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "checkpoint file not found"),
        ));
    }
    vs.load(path)
        .map_err(|e| Error::wrap(format!("cannot load checkpoint {}", path.display()), e))
}
