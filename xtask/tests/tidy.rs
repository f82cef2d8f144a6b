//! House rules checked on every `cargo xtask test` (rust-analyzer's `tidy`
//! idea): cheap whole-repository scans that no compiler catches.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

/// Every file of the repository that a build, test, bench, script or doc
/// could read: skips `.git` and build outputs.
fn repo_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name == ".git" || name == "target" || name == "node_modules" || name == ".venv" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => repo_files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// A fresh clone has nothing beside it: no code, test, bench, script or doc
/// may name the project's `shared` folder next to the repository (the data
/// the tests need lives in `fixtures/`).
#[test]
fn nothing_reads_outside_the_repository() {
    // Built from pieces so this file does not match itself.
    let needle = format!("{}/{}", "..", "shared");
    let root = repo_root();
    let mut files = Vec::new();
    repo_files(&root, &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read(p).ok()?;
            let text = String::from_utf8_lossy(&text);
            let line = text.lines().position(|l| l.contains(&needle))?;
            Some(format!(
                "{}:{}",
                p.strip_prefix(&root).unwrap_or(p).display(),
                line + 1
            ))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these files name {needle:?}, which a user's clone does not have; copy the data \
         into fixtures/ and read it from there:\n  {}",
        offenders.join("\n  ")
    );
}

/// In a `--all-features` workspace build duality-core links libtorch into
/// every test binary (feature unification), so every crate that depends on
/// it needs the `build.rs` that embeds the rpath, or its tests cannot load
/// `libtorch_cpu.so`.
#[test]
fn every_crate_on_duality_core_embeds_the_libtorch_rpath() {
    let root = repo_root();
    let mut missing = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.push(root.join("xtask"));
    for dir in dirs {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let on_core = manifest
            .lines()
            .any(|l| l.trim_start().starts_with("duality-core"));
        // `build = "<path>"` in [package] names a build script elsewhere
        // (crates/cli-torch shares crates/cli's).
        let script = manifest
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "build").then(|| v.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| "build.rs".to_string());
        let build = std::fs::read_to_string(dir.join(script)).unwrap_or_default();
        if on_core && !build.contains("DEP_DUALITY_CORE_LIBTORCH_LIB") {
            missing.push(
                dir.strip_prefix(&root)
                    .unwrap_or(&dir)
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(
        missing.is_empty(),
        "these crates depend on duality-core but have no build.rs forwarding \
         DEP_DUALITY_CORE_LIBTORCH_LIB into an rpath: {missing:?}"
    );
}
