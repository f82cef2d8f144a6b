//! `cargo xtask peers`: a venv with the pinned Python peer libraries that the
//! bench harness compares against (`cargo xtask bench --compare`).
//!
//! The venv lives next to the libtorch venv in the per-user cache. Peers that
//! need torch (obp) reuse the libtorch venv's site-packages through a `.pth`
//! file instead of downloading torch a second time.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use crate::libtorch;

/// Pinned peers, installed with their dependencies. Constraints encode known
/// breakages on Python 3.11 today: rliable 1.2.0 imports only with `arch<8`
/// and `pandas<3`; SMPyBandits needs the aliases its peer script sets.
pub const PEERS: &[&str] = &[
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
    "pandas<3",
    "arch<8",
    "rliable==1.2.0",
    "adastop==0.1.3",
    "mlxtend==0.25.0",
    "mabwiser==2.7.4",
    // SMPyBandits 0.9.7 imports scipy's removed `btdtri` and numpy's removed
    // `in1d`; its peer script (fixtures/bandits/peer_smpybandits.py)
    // installs the aliases before importing it.
    "SMPyBandits==0.9.7",
    "elkai==2.0.1",
    "pymoo==0.6.2",
    // CVRP peer (combopt vrp-gaps) and LAPJV (combopt assignment).
    "pyvrp==0.14.1",
    "lap==0.5.13",
    // SCIP for combopt's milp-branching (fixtures/combopt/peer_scip.py).
    "pyscipopt==6.2.1",
    // Exact hypervolume reference for combopt's pareto.rs
    // (fixtures/combopt/moocore_hv.py: cross-check vectors and the mogfn
    // experiment's --compare peer).
    "moocore==0.3.2",
    // Builds duality's own wheel for the in-process timings of
    // `bench --suite python --compare` (same pin as the Python test venv).
    "maturin==1.16.0",
    // obp 0.4.1's own dependencies (it is installed with --no-deps below,
    // since obp 0.5.7 refuses Python 3.11 and 0.4.1 pins old versions).
    "tqdm",
    "matplotlib",
    "seaborn",
    "pyyaml",
    "mypy_extensions",
];

/// Installed with `--no-deps` after the rest.
pub const NO_DEPS_PEERS: &[&str] = &["obp==0.4.1"];

/// The peers venv directory.
pub fn venv_dir() -> PathBuf {
    libtorch::cache_dir().join("peers-venv")
}

/// The peers venv's python, if the venv exists.
#[cfg_attr(not(feature = "suites"), allow(dead_code))]
pub fn python() -> Option<PathBuf> {
    let p = venv_dir().join("bin").join("python");
    p.exists().then_some(p)
}

fn pip(python: &PathBuf, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(args)
        .status()
        .context("cannot run pip in the peers venv")?;
    if !status.success() {
        bail!(
            "`pip install {}` failed in {}",
            args.join(" "),
            venv_dir().display()
        );
    }
    Ok(())
}

/// Creates (or completes) the peers venv.
pub fn provision() -> anyhow::Result<()> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!("xtask: creating peers venv {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("cannot run `python3 -m venv`")?;
        if !status.success() {
            bail!("`python3 -m venv {}` failed", venv.display());
        }
    }
    pip(&python, PEERS)?;
    let mut no_deps = vec!["--no-deps"];
    no_deps.extend(NO_DEPS_PEERS);
    pip(&python, &no_deps)?;

    // torch for obp: point at the libtorch venv's site-packages.
    let lt = libtorch::provision()?;
    if let Some(site) = lt.dir.parent() {
        let out = Command::new(&python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .context("cannot ask the peers venv for its site-packages")?;
        let purelib = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        std::fs::write(
            purelib.join("duality-libtorch.pth"),
            format!("{}\n", site.display()),
        )
        .with_context(|| format!("cannot write a .pth file into {}", purelib.display()))?;
    }
    report()
}

/// Prints which peers import, with versions.
pub fn report() -> anyhow::Result<()> {
    let Some(python) = python() else {
        println!("peers venv: not created (run `cargo xtask peers`)");
        return Ok(());
    };
    let script = r#"
import contextlib, importlib, importlib.metadata, json, sys
try:
    import scipy.special
    # SMPyBandits 0.9.7 imports scipy's removed btdtri (= betaincinv).
    if not hasattr(scipy.special, "btdtri"):
        scipy.special.btdtri = scipy.special.betaincinv
except ImportError:
    pass
mods = ["numpy", "scipy", "sklearn", "rliable", "adastop", "mlxtend", "mabwiser", "SMPyBandits", "elkai", "pymoo", "pyvrp", "lap", "pyscipopt", "obp", "torch"]
out = {}
for m in mods:
    try:
        # Some peers print banners at import; keep stdout for the JSON line.
        with contextlib.redirect_stdout(sys.stderr):
            mod = importlib.import_module(m)
        version = getattr(mod, "__version__", None)
        if version is None:
            try:
                version = importlib.metadata.version(m)
            except Exception:
                version = "installed"
        out[m] = version
    except Exception as e:
        out[m] = "MISSING: " + type(e).__name__ + ": " + str(e).splitlines()[0][:120]
print(json.dumps(out))
"#;
    let out = Command::new(&python).args(["-c", script]).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(last.trim()).unwrap_or_default();
    println!("peers venv: {}", venv_dir().display());
    for (k, v) in parsed {
        println!("  {k:<12} {}", v.as_str().unwrap_or("?"));
    }
    Ok(())
}
