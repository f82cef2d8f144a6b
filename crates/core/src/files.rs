//! Writing output files atomically.
//!
//! A command killed half-way through writing `--output run.json` must not
//! leave a truncated `run.json` behind, and a late validation error must not
//! leave a half-written file either. Every file duality writes therefore goes
//! to a temporary file in the *same folder* (so the final `rename` stays on
//! one file system and is atomic) and is renamed over the target only once
//! every byte is written and synced. Until then the old file, if any, is
//! untouched; on any error the temporary file is removed.
//!
//! Two exceptions keep the usual shell idioms working: a target that exists
//! and is not a regular file (`/dev/stdout`, `/dev/null`, a named pipe) is
//! written in place, since renaming over it would replace the device; and a
//! symbolic link is followed, so the file it points to is replaced, not the
//! link.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: readers see the old file or the
/// complete new one, never a prefix.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.txt");
/// duality_core::files::write_atomic(&path, b"hello").unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");
/// ```
pub fn write_atomic(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes.as_ref()))
}

/// Streams a file into place atomically: `fill` writes the content to a
/// buffered writer over a temporary file beside `path`; if it returns `Ok`,
/// the temporary file is flushed, synced and renamed to `path`. If `fill`
/// fails, `path` is left as it was. Validate before writing: `fill` can only
/// fail with an I/O error (serde_json's and csv's errors convert into one).
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("rows.csv");
/// duality_core::files::write_atomic_with(&path, |w| {
///     writeln!(w, "a,b")?;
///     writeln!(w, "1,2")?;
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n1,2\n");
/// ```
pub fn write_atomic_with<F>(path: impl AsRef<Path>, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let path = path.as_ref();
    if path.as_os_str().is_empty() {
        return Err(Error::invalid("output path", "\"\"", "a file name"));
    }
    if path.is_dir() {
        return Err(Error::invalid(
            "output path",
            path.display(),
            "a file name, not a folder",
        ));
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            // A device or pipe: there is nothing to replace atomically.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            let mut writer = BufWriter::new(file);
            fill(&mut writer).map_err(|e| Error::io(path, e))?;
            return writer.flush().map_err(|e| Error::io(path, e));
        }
    }
    // Replace the file a link points to, not the link.
    let resolved = std::fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    let folder = parent_folder(path);
    let temp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ))
        .suffix(".tmp")
        .tempfile_in(&folder)
        .map_err(|e| Error::io(path, e))?;
    let mut writer = BufWriter::new(temp);
    fill(&mut writer).map_err(|e| Error::io(path, e))?;
    let temp = writer
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The folder a relative or absolute file path lives in (`.` for a bare name).
fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.json");
        write_atomic(&path, "old").unwrap();
        let err = write_atomic_with(&path, |w| {
            w.write_all(b"half of the new")?;
            Err(std::io::Error::other("the disk filled up"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("filled up"), "{err}");
        assert!(err.to_string().contains("keep.json"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        write_atomic(&path, "one").unwrap();
        write_atomic(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-folder").join("x.txt");
        let err = write_atomic(&missing, "x").unwrap_err();
        assert!(err.to_string().contains("no-such-folder"), "{err}");
        let err = write_atomic(dir.path(), "x").unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn devices_are_written_in_place() {
        // Renaming over /dev/full would replace the device node; writing to
        // it in place fails as a full disk does, with the path named.
        let err = write_atomic("/dev/full", "x").unwrap_err();
        assert!(err.to_string().contains("/dev/full"), "{err}");
        assert!(!std::fs::metadata("/dev/full").unwrap().is_file());
        write_atomic("/dev/null", "discarded").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_followed_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        write_atomic(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }
}
