//! Filling a node's data directory from elsewhere (state sync, a backup's restore): built
//! beside it and renamed in at the end, so that a failure or a crash half way never leaves a
//! directory a node would start on.

use std::path::{Path, PathBuf};

/// Why a data directory could not be filled (each caller wraps it in its own error).
#[derive(Debug)]
pub enum Fill<E> {
    /// `dir` holds something already.
    NotEmpty,
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Build(E),
}

/// Runs `build` on a fresh `<dir><suffix>` and renames it to `dir` once it succeeded; `dir`
/// must be empty or absent. A `<dir><suffix>` left by an interrupted run is removed first, and
/// removed again if `build` fails.
pub fn fill_beside<T, E>(
    dir: &Path,
    suffix: &str,
    build: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, Fill<E>> {
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Fill::NotEmpty);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| Fill::Io { path, error }
    };
    let mut staging = dir.as_os_str().to_owned();
    staging.push(suffix);
    let staging = PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    match build(&staging) {
        Ok(done) => {
            if dir.exists() {
                std::fs::remove_dir(dir).map_err(io(dir))?;
            }
            std::fs::rename(&staging, dir).map_err(io(dir))?;
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(Fill::Build(e))
        }
    }
}
