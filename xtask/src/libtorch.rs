//! libtorch provisioning (decided in the architecture: tch 0.26 + PyTorch
//! 2.13.0 from PyPI; download.pytorch.org is not reachable here).
//!
//! Order of preference:
//! 1. the user's own `LIBTORCH` or `LIBTORCH_USE_PYTORCH` (left untouched,
//!    only checked);
//! 2. a `python3` on PATH that already imports torch 2.13.0;
//! 3. a venv in the per-user cache dir (`$DUALITY_CACHE_DIR`, else
//!    `$XDG_CACHE_HOME/duality`, else `~/.cache/duality`), created on first
//!    use with `pip install torch==2.13.0` (~5 GB with the CUDA runtime
//!    wheels; the same install then uses a GPU where one exists).
//!
//! For 2 and 3 we hand torch-sys `LIBTORCH=<site-packages>/torch` (plus the
//! C++ ABI flag) instead of `LIBTORCH_USE_PYTORCH`, so its build script does
//! not depend on which `python` is first on PATH, and the environment stays
//! byte-identical between runs (no torch-sys rebuilds). Binaries get an rpath
//! to `<torch>/lib` from the build scripts of duality-core and its dependents.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::cmd;

/// The PyTorch version tch 0.26 is built against.
pub const TORCH_VERSION: &str = "2.13.0";

/// Where the libtorch in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `LIBTORCH` was set by the user.
    LibtorchEnv,
    /// `LIBTORCH_USE_PYTORCH` was set by the user (torch-sys asks python).
    UsePytorchEnv(PathBuf),
    /// A python on PATH already had torch 2.13.0.
    SystemPython(PathBuf),
    /// The venv in the per-user cache dir.
    CacheVenv(PathBuf),
}

/// A located libtorch.
#[derive(Debug, Clone)]
pub struct Libtorch {
    /// Where it came from.
    pub source: Source,
    /// The directory with `include/` and `lib/` (torch's package dir).
    pub dir: PathBuf,
    /// Full version string (e.g. `2.13.0+cu130`).
    pub version: String,
    /// Whether it was built with the C++11 ABI, when known.
    pub cxx11_abi: Option<bool>,
    /// CUDA version it was built with, if any.
    pub cuda: Option<String>,
}

impl Libtorch {
    /// Environment variables to pass to cargo so torch-sys finds this libtorch.
    /// Empty when the user configured torch-sys themselves.
    pub fn cargo_env(&self) -> Vec<(String, String)> {
        match self.source {
            Source::LibtorchEnv | Source::UsePytorchEnv(_) => Vec::new(),
            Source::SystemPython(_) | Source::CacheVenv(_) => {
                let mut env = vec![("LIBTORCH".to_string(), self.dir.display().to_string())];
                if let Some(abi) = self.cxx11_abi {
                    env.push((
                        "LIBTORCH_CXX11_ABI".into(),
                        if abi { "1" } else { "0" }.into(),
                    ));
                }
                env
            }
        }
    }

    /// One paragraph for humans.
    pub fn describe(&self) -> String {
        let source = match &self.source {
            Source::LibtorchEnv => "LIBTORCH (set by you)".to_string(),
            Source::UsePytorchEnv(py) => {
                format!("LIBTORCH_USE_PYTORCH (set by you), python {}", py.display())
            }
            Source::SystemPython(py) => format!("python on PATH: {}", py.display()),
            Source::CacheVenv(py) => format!("duality's cache venv: {}", py.display()),
        };
        format!(
            "libtorch {} ({}) at {}\n  from: {source}\n  lib:  {}",
            self.version,
            self.cuda
                .as_ref()
                .map(|c| format!("CUDA {c}"))
                .unwrap_or_else(|| "CPU".into()),
            self.dir.display(),
            self.dir.join("lib").display(),
        )
    }
}

/// The per-user cache directory for duality.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DUALITY_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("duality");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| ".".into());
    home.join(".cache").join("duality")
}

/// The cache venv for this torch version.
pub fn venv_dir() -> PathBuf {
    cache_dir().join(format!("libtorch-{TORCH_VERSION}"))
}

/// What a python reports about its torch.
#[derive(Debug, Clone)]
struct Probe {
    version: String,
    dir: PathBuf,
    cxx11_abi: Option<bool>,
    cuda: Option<String>,
}

const PROBE_SCRIPT: &str = "import os, torch\n\
print(torch.__version__)\n\
print(os.path.dirname(torch.__file__))\n\
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))\n\
print(torch.version.cuda or '')\n";

/// Asks `python` about its torch; None if it has none (or cannot run).
fn probe_python(python: &Path) -> Option<Probe> {
    let out = Command::new(python)
        .args(["-c", PROBE_SCRIPT])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines.next()?.trim().to_string();
    let dir = PathBuf::from(lines.next()?.trim());
    let cxx11_abi = lines.next().map(|l| l.trim() == "1");
    let cuda = lines
        .next()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    Some(Probe {
        version,
        dir,
        cxx11_abi,
        cuda,
    })
}

fn version_ok(version: &str) -> bool {
    version.split('+').next() == Some(TORCH_VERSION)
}

fn bypass_version_check() -> bool {
    std::env::var_os("LIBTORCH_BYPASS_VERSION_CHECK").is_some()
}

fn wrong_version(found: &str, where_: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{where_} has PyTorch {found}, but tch 0.26 needs PyTorch {TORCH_VERSION}.\n\
         Fix: unset LIBTORCH / LIBTORCH_USE_PYTORCH to let `cargo xtask` provision \
         its own venv in {}, or install torch=={TORCH_VERSION} there \
         (set LIBTORCH_BYPASS_VERSION_CHECK=1 only if you know the ABI matches).",
        venv_dir().display()
    )
}

/// Reads the version of a libtorch directory (pip package or zip layout).
fn version_of_dir(dir: &Path) -> Option<String> {
    if let Ok(v) = std::fs::read_to_string(dir.join("build-version")) {
        return Some(v.trim().to_string());
    }
    let text = std::fs::read_to_string(dir.join("version.py")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("__version__"))
        .map(|rest| {
            rest.trim_start_matches([' ', '='])
                .trim()
                .trim_matches(['\'', '"'])
                .to_string()
        })
}

/// Finds a usable libtorch without installing anything.
pub fn locate() -> anyhow::Result<Option<Libtorch>> {
    if let Some(dir) = std::env::var_os("LIBTORCH") {
        let dir = PathBuf::from(dir);
        if !dir.join("lib").is_dir() || !dir.join("include").is_dir() {
            bail!(
                "LIBTORCH={} has no lib/ and include/ directories; point it at a libtorch \
                 {TORCH_VERSION} (e.g. <site-packages>/torch) or unset it",
                dir.display()
            );
        }
        let version = version_of_dir(&dir).unwrap_or_else(|| "unknown".into());
        if !version_ok(&version) && !bypass_version_check() {
            return Err(wrong_version(
                &version,
                &format!("LIBTORCH={}", dir.display()),
            ));
        }
        let cuda = dir
            .join("lib/libtorch_cuda.so")
            .exists()
            .then(|| "yes".to_string());
        return Ok(Some(Libtorch {
            source: Source::LibtorchEnv,
            dir,
            version,
            cxx11_abi: None,
            cuda,
        }));
    }
    if std::env::var_os("LIBTORCH_USE_PYTORCH").is_some() {
        // Same interpreter torch-sys will run.
        let python = PathBuf::from(if std::env::var_os("VIRTUAL_ENV").is_some() {
            "python"
        } else {
            "python3"
        });
        let p = probe_python(&python).with_context(|| {
            format!(
                "LIBTORCH_USE_PYTORCH is set but `{}` cannot import torch; install \
                 torch=={TORCH_VERSION} for it, or unset LIBTORCH_USE_PYTORCH",
                python.display()
            )
        })?;
        if !version_ok(&p.version) && !bypass_version_check() {
            return Err(wrong_version(
                &p.version,
                &format!("`{}`", python.display()),
            ));
        }
        return Ok(Some(Libtorch {
            source: Source::UsePytorchEnv(python),
            dir: p.dir,
            version: p.version,
            cxx11_abi: p.cxx11_abi,
            cuda: p.cuda,
        }));
    }
    let venv_python = venv_dir().join("bin").join("python");
    if let Some(p) = probe_python(&venv_python).filter(|p| version_ok(&p.version)) {
        return Ok(Some(from_probe(Source::CacheVenv(venv_python), p)));
    }
    let system = PathBuf::from("python3");
    if let Some(p) = probe_python(&system).filter(|p| version_ok(&p.version)) {
        return Ok(Some(from_probe(Source::SystemPython(system), p)));
    }
    Ok(None)
}

fn from_probe(source: Source, p: Probe) -> Libtorch {
    Libtorch {
        source,
        dir: p.dir,
        version: p.version,
        cxx11_abi: p.cxx11_abi,
        cuda: p.cuda,
    }
}

/// Finds libtorch, installing it into the cache venv if nothing usable exists.
pub fn provision() -> anyhow::Result<Libtorch> {
    if let Some(lt) = locate()? {
        return Ok(lt);
    }
    install_venv()?;
    let venv_python = venv_dir().join("bin").join("python");
    match probe_python(&venv_python) {
        Some(p) if version_ok(&p.version) => Ok(from_probe(Source::CacheVenv(venv_python), p)),
        Some(p) => Err(wrong_version(&p.version, &venv_dir().display().to_string())),
        None => bail!(
            "installed torch=={TORCH_VERSION} into {} but it does not import; delete that \
             directory and run `cargo xtask libtorch` again",
            venv_dir().display()
        ),
    }
}

fn install_venv() -> anyhow::Result<()> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    std::fs::create_dir_all(cache_dir())
        .with_context(|| format!("cannot create cache dir {}", cache_dir().display()))?;
    if !python.exists() {
        eprintln!("xtask: creating venv {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("cannot run `python3 -m venv`: install Python 3.10+ with venv support")?;
        if !status.success() {
            bail!(
                "`python3 -m venv {}` failed; install python3-venv (Debian) or set LIBTORCH",
                venv.display()
            );
        }
    }
    eprintln!(
        "xtask: downloading torch=={TORCH_VERSION} from PyPI (pypi.org / files.pythonhosted.org): \
         the torch wheel (~0.9 GB) plus NVIDIA CUDA runtime wheels, about 3 GB of downloads \
         and ~5 GB installed, into {}. This happens once per machine (about 1-3 minutes on a \
         fast link); later runs reuse it. To use an existing libtorch {TORCH_VERSION} instead, \
         set LIBTORCH.",
        venv.display()
    );
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "on",
        ])
        .arg(format!("torch=={TORCH_VERSION}"))
        .status()
        .context("cannot run pip in the cache venv")?;
    if status.success() {
        eprintln!(
            "xtask: torch installed: {} in {}",
            human_bytes(dir_size(&venv)),
            venv.display()
        );
    } else {
        bail!(
            "`pip install torch=={TORCH_VERSION}` failed (see pip's message above). \
             Check that PyPI is reachable and that {} has ~6 GB free, then run \
             `cargo xtask libtorch` again; or point LIBTORCH at an existing libtorch {TORCH_VERSION}.",
            cache_dir().display()
        );
    }
    Ok(())
}

/// Total size of the regular files under `dir` (0 where unreadable).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// `4.9 GB`, `730 MB`.
fn human_bytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{} MB", bytes / 1_000_000)
    }
}

/// `cargo xtask doctor`.
pub fn doctor() -> anyhow::Result<()> {
    println!("duality doctor");
    for (name, args) in [("cargo", ["--version"]), ("rustc", ["--version"])] {
        println!(
            "  {name:<8} {}",
            cmd::output_of(name, &args).unwrap_or_else(|| "not found".into())
        );
    }
    println!(
        "  nextest  {}",
        cmd::output_of("cargo", &["nextest", "--version"])
            .and_then(|s| s.lines().next().map(String::from))
            .unwrap_or_else(|| "not installed (optional)".into())
    );
    println!(
        "  python3  {}",
        cmd::output_of("python3", &["--version"]).unwrap_or_else(|| "not found".into())
    );
    println!("  cache    {}", cache_dir().display());
    for var in [
        "LIBTORCH",
        "LIBTORCH_USE_PYTORCH",
        "LIBTORCH_BYPASS_VERSION_CHECK",
        "DUALITY_DEVICE",
    ] {
        if let Ok(v) = std::env::var(var) {
            println!("  {var}={v}");
        }
    }
    match locate()? {
        Some(lt) => {
            println!("{}", lt.describe());
            let env = lt.cargo_env();
            if !env.is_empty() {
                println!("  cargo env given to builds:");
                for (k, v) in env {
                    println!("    {k}={v}");
                }
            }
            Ok(())
        }
        None => {
            println!(
                "libtorch: none found. `cargo xtask test` (or `cargo xtask libtorch`) will \
                 install torch=={TORCH_VERSION} into {}",
                venv_dir().display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matching_ignores_local_suffix() {
        assert!(version_ok("2.13.0"));
        assert!(version_ok("2.13.0+cu130"));
        assert!(!version_ok("2.13.1"));
        assert!(!version_ok("2.1.0"));
    }

    #[test]
    fn reads_version_py() {
        let dir = std::env::temp_dir().join(format!("xtask-vt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("version.py"),
            "__version__ = '2.13.0+cpu'\ngit_version = 'x'\n",
        )
        .unwrap();
        assert_eq!(version_of_dir(&dir).as_deref(), Some("2.13.0+cpu"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
