//! The sharding checks of `cargo xtask test` (issue #24): the quick suite
//! split 3 and 7 ways must give the numbers of the single-process run, and so
//! must a real Slurm job array of 4 tasks (over the eval and bandits suites)
//! on a single-node cluster that this module starts (installing Debian's
//! `slurm-wlm` and `munge` if absent) and always stops again.
//!
//! "The same numbers" means every headline, summary row, probability of
//! improvement and record metric of every experiment, bit for bit, except the
//! metrics that measure time (their names contain `second`) and the
//! per-experiment wall time and memory. A shard killed midway must also
//! resume without recomputing the cells it finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::Value;

use crate::cmd;

/// Runs the checks with the xtask binary the test build made (`bench` with
/// the `suites` feature) and the libtorch environment `env`. `single` is the
/// `results.json` of the single-process quick run to compare against.
pub fn shard_checks(xtask: &Path, env: &[(String, String)], single: &Path) -> anyhow::Result<()> {
    let reference = numbers(single)?;
    let scratch = cmd::target_dir().join("duality-shard-check");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot clear {}", scratch.display()))?;
    }
    // Shards run as a job array would: side by side, as many at a time as
    // there are cores (their results cannot depend on it).
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
    for n in [3usize, 7] {
        let cells = scratch.join(format!("cells-{n}"));
        let mut running: Vec<(usize, Child)> = Vec::new();
        for i in 1..=n {
            if running.len() >= parallel {
                let (j, child) = running.remove(0);
                wait_shard(j, n, child)?;
            }
            let mut c = bench(xtask, env);
            c.args(["--quick", "--shard", &format!("{i}/{n}"), "--results-dir"])
                .arg(&cells)
                .stdout(Stdio::null());
            running.push((
                i,
                c.spawn()
                    .with_context(|| format!("cannot start shard {i}/{n}"))?,
            ));
        }
        for (j, child) in running {
            wait_shard(j, n, child)?;
        }
        let merged = merge(xtask, env, &cells)?;
        compare(&reference, &merged, &format!("{n} shards"))?;
        println!("shard check: {n} shards give the single run's numbers");
    }
    kill_and_resume(xtask, env, &scratch, &reference)?;
    // The array checks the scheduler's plumbing (its own task index, the
    // shared results folder, the merge), which two suites exercise as well
    // as five: the 3- and 7-shard checks above already cover every suite, and
    // CI time stays under its limit as the suites grow.
    let cells = scratch.join("cells-slurm");
    slurm_array(xtask, env, &cells, 4, SLURM_SUITES)?;
    let merged = merge(xtask, env, &cells)?;
    compare(
        &only_suites(&reference, SLURM_SUITES),
        &merged,
        "a 4-task Slurm array",
    )?;
    println!("shard check: a 4-task Slurm job array gives the single run's numbers");
    Ok(())
}

/// Waits for shard `i/n` and fails if it did.
fn wait_shard(i: usize, n: usize, mut child: Child) -> anyhow::Result<()> {
    let status = child.wait()?;
    if !status.success() {
        bail!("shard {i}/{n} failed ({status})");
    }
    Ok(())
}

/// Kills a shard (the eval suite, which has an experiment split by seed)
/// once it has written its first seed cell, re-runs it, and checks that the
/// re-run rewrote none of the finished cells, reused the finished seeds, and
/// gives the single run's numbers.
fn kill_and_resume(
    xtask: &Path,
    env: &[(String, String)],
    scratch: &Path,
    reference: &BTreeMap<String, Value>,
) -> anyhow::Result<()> {
    let cells = scratch.join("cells-resume");
    let shard = |out: Stdio| {
        let mut c = bench(xtask, env);
        c.args([
            "--quick",
            "--suite",
            "eval",
            "--shard",
            "1/1",
            "--results-dir",
        ])
        .arg(&cells)
        .stdout(out)
        .stderr(Stdio::null());
        c
    };
    let finished = || -> BTreeMap<PathBuf, (std::time::SystemTime, u64)> {
        std::fs::read_dir(&cells)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.ends_with(".json") || name.ends_with(".cbor")
            })
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((e.path(), (m.modified().ok()?, m.len())))
            })
            .collect()
    };
    let has_seed_cell = |files: &BTreeMap<PathBuf, _>| {
        files
            .keys()
            .any(|p| p.extension().is_some_and(|e| e == "cbor"))
    };
    let mut child = shard(Stdio::null())
        .spawn()
        .context("cannot start the shard to kill")?;
    let start = Instant::now();
    loop {
        if has_seed_cell(&finished()) {
            break;
        }
        if let Some(status) = child.try_wait()? {
            bail!("resume check: the shard ended ({status}) before writing a seed cell");
        }
        if start.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            bail!("resume check: no seed cell after 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().context("cannot kill the shard")?;
    let _ = child.wait();
    let before = finished();
    let output = shard(Stdio::piped())
        .output()
        .context("cannot re-run the killed shard")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "resume check: the re-run failed ({}):\n{stdout}",
            output.status
        );
    }
    let after = finished();
    let rewritten: Vec<String> = before
        .iter()
        .filter(|(p, stamp)| after.get(*p) != Some(stamp))
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !rewritten.is_empty() {
        bail!(
            "resume check: the re-run recomputed finished cells: {}",
            rewritten.join(", ")
        );
    }
    if !stdout.contains("reused from earlier cells") {
        bail!("resume check: the re-run did not reuse the killed run's seed cells:\n{stdout}");
    }
    let resumed = numbers(
        &cmd::target_dir()
            .join("duality-bench")
            .join("latest")
            .join("results.json"),
    )?;
    compare(
        &only_suites(reference, &["eval"]),
        &resumed,
        "a killed and resumed shard",
    )?;
    println!(
        "shard check: a shard killed after {} finished cell(s) resumed without recomputing them \
         and gave the single run's numbers",
        before.len()
    );
    Ok(())
}

/// `xtask bench` with the environment the array tasks also get.
/// The suites the Slurm array runs (the eval suite has an experiment split
/// by seed, so the array also spreads seed cells).
const SLURM_SUITES: &[&str] = &["eval", "bandits"];

/// The numbers of `reference` that belong to `suites`.
fn only_suites(reference: &BTreeMap<String, Value>, suites: &[&str]) -> BTreeMap<String, Value> {
    reference
        .iter()
        .filter(|(k, _)| suites.iter().any(|s| k.starts_with(&format!("{s}/"))))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn bench(xtask: &Path, env: &[(String, String)]) -> Command {
    let root = cmd::workspace_root();
    let mut c = Command::new(xtask);
    c.current_dir(&root)
        .arg("bench")
        // The binary finds the workspace through this (see cmd::workspace_root).
        .env("CARGO_MANIFEST_DIR", root.join("xtask"))
        .env("DUALITY_NO_PROGRESS", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `bench merge DIR`, returning the numbers of the merged `results.json`.
fn merge(
    xtask: &Path,
    env: &[(String, String)],
    cells: &Path,
) -> anyhow::Result<BTreeMap<String, Value>> {
    let mut c = bench(xtask, env);
    c.arg("merge").arg(cells).stdout(Stdio::null());
    cmd::run_with_env(c, &[])?;
    numbers(
        &cmd::target_dir()
            .join("duality-bench")
            .join("latest")
            .join("results.json"),
    )
}

/// Whether a metric measures time (and so differs between runs).
fn is_timing(metric: &str) -> bool {
    metric.contains("second")
}

/// Every number of a `results.json` that must not depend on sharding, keyed
/// by where it lives (`suite/experiment: headline name`, ...).
fn numbers(results: &Path) -> anyhow::Result<BTreeMap<String, Value>> {
    let text = std::fs::read_to_string(results)
        .with_context(|| format!("cannot read {}", results.display()))?;
    let r: Value =
        serde_json::from_str(&text).with_context(|| format!("malformed {}", results.display()))?;
    let mut out = BTreeMap::new();
    let empty = Vec::new();
    let list = |v: &Value, key: &str| v.get(key).and_then(Value::as_array).cloned();
    for e in r["experiments"].as_array().unwrap_or(&empty) {
        let id = format!(
            "{}/{}",
            e["suite"].as_str().unwrap_or("?"),
            e["name"].as_str().unwrap_or("?")
        );
        for h in list(&e["outcome"], "headlines").unwrap_or_default() {
            out.insert(
                format!("{id}: headline {}", h["name"].as_str().unwrap_or("?")),
                h["value"].clone(),
            );
        }
        for row in list(e, "summary").unwrap_or_default() {
            let metric = row["metric"].as_str().unwrap_or("?");
            if is_timing(metric) {
                continue;
            }
            let key = format!(
                "{id}: summary {}/{}/{metric}",
                row["task"].as_str().unwrap_or("?"),
                row["algorithm"].as_str().unwrap_or("?")
            );
            let mut row = row.clone();
            if let Some(obj) = row.as_object_mut() {
                for k in ["task", "algorithm", "metric"] {
                    obj.remove(k);
                }
            }
            out.insert(key, row);
        }
        for (k, imp) in list(e, "improvements")
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            out.insert(format!("{id}: improvement {k}"), imp);
        }
        for (k, rec) in list(&e["outcome"], "records")
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let mut rec = rec.clone();
            if let Some(metrics) = rec.get_mut("metrics").and_then(Value::as_object_mut) {
                metrics.retain(|name, _| !is_timing(name));
            }
            out.insert(format!("{id}: record {k}"), rec);
        }
    }
    if out.is_empty() {
        bail!("{} holds no experiment results", results.display());
    }
    Ok(out)
}

/// Fails with the first differences between the single run and `other`.
fn compare(
    single: &BTreeMap<String, Value>,
    other: &BTreeMap<String, Value>,
    what: &str,
) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for (k, v) in single {
        match other.get(k) {
            None => problems.push(format!("{k}: missing")),
            Some(w) if w != v => problems.push(format!("{k}: {v} vs {w}")),
            Some(_) => {}
        }
    }
    for k in other.keys().filter(|k| !single.contains_key(*k)) {
        problems.push(format!("{k}: not in the single run"));
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(10);
        bail!(
            "{what} differ from the single-process run in {n} number(s), e.g.:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// Daemons started for the check; killed when dropped, also on failure.
struct Daemons {
    children: Vec<(String, Child)>,
}

impl Drop for Daemons {
    fn drop(&mut self) {
        // slurmd first, then the controller, then munge.
        for (name, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("stopped {name}");
        }
    }
}

impl Daemons {
    fn start(&mut self, name: &str, mut command: Command, log: &Path) -> anyhow::Result<()> {
        let out = std::fs::File::create(log)?;
        command.stdout(out.try_clone()?).stderr(out);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        self.children.push((name.to_string(), child));
        Ok(())
    }
}

/// Installs Slurm and munge from Debian packages when they are missing.
fn ensure_slurm_installed() -> anyhow::Result<()> {
    let needed = ["sbatch", "sinfo", "slurmctld", "slurmd", "munged"];
    let on_path = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
            || ["/usr/sbin", "/usr/bin"]
                .iter()
                .any(|d| Path::new(d).join(tool).is_file())
    };
    if needed.iter().all(|t| on_path(t)) {
        return Ok(());
    }
    let root = cmd::output_of("id", &["-u"]).as_deref() == Some("0");
    let sudo = !root && cmd::output_of("sudo", &["-n", "true"]).is_some();
    if !root && !sudo {
        bail!(
            "the Slurm check needs slurm-wlm and munge: install them (apt-get install \
             slurm-wlm munge) or run as root so that the test can"
        );
    }
    for args in [
        vec!["apt-get", "update", "-qq"],
        vec![
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "slurm-wlm",
            "munge",
        ],
    ] {
        let mut c = if sudo {
            let mut c = Command::new("sudo");
            c.arg("-n").args(&args);
            c
        } else {
            let mut c = Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        c.env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null());
        cmd::run_with_env(c, &[])?;
    }
    Ok(())
}

/// Finds a daemon binary (sbin may be off a non-root PATH).
fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Starts munge + slurmctld + slurmd on this host, submits the committed
/// `docs/examples/slurm/bench-array.sbatch` as an array of `tasks` running
/// the quick run of `suites` into `cells`, and waits for it.
fn slurm_array(
    xtask: &Path,
    env: &[(String, String)],
    cells: &Path,
    tasks: usize,
    suites: &[&str],
) -> anyhow::Result<()> {
    ensure_slurm_installed()?;
    let flags = std::iter::once("--quick".to_string())
        .chain(suites.iter().map(|s| format!("--suite {s}")))
        .collect::<Vec<_>>()
        .join(" ");
    let dir = cmd::target_dir().join("duality-slurm");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    for sub in ["munge", "state", "spool", "out"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let user = cmd::output_of("id", &["-un"]).unwrap_or_else(|| "root".into());
    let host = cmd::output_of("hostname", &["-s"]).unwrap_or_else(|| "localhost".into());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Ports away from a real Slurm's 6817/6818, varied per run so that a
    // leftover daemon of a killed run cannot answer.
    let port = 20_000 + (std::process::id() % 20_000) as u16 * 2;

    // munge: a fresh key; -f lets it run as root and with a /tmp-style path.
    let key = dir.join("munge/munge.key");
    let mut bytes = vec![0u8; 1024];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)
        .context("cannot read /dev/urandom for the munge key")?;
    std::fs::write(&key, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400))?;
    }
    let socket = dir.join("munge/munge.sock");
    let conf = dir.join("slurm.conf");
    let d = dir.display();
    std::fs::write(
        &conf,
        format!(
            "# Written by `cargo xtask test`: a throwaway single-node cluster.\n\
             ClusterName=duality-test\nSlurmctldHost={host}\nSlurmUser={user}\nSlurmdUser={user}\n\
             SlurmctldPort={port}\nSlurmdPort={}\nAuthType=auth/munge\nAuthInfo=socket={}\n\
             CredType=cred/munge\nStateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nMpiDefault=none\n\
             SchedulerType=sched/backfill\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_Core\nReturnToService=2\nJobCompType=jobcomp/none\n\
             JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n\
             NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
             PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP\n",
            port + 1,
            socket.display()
        ),
    )?;

    let mut daemons = Daemons {
        children: Vec::new(),
    };
    let mut munged = Command::new(tool("munged"));
    munged
        .args(["-F", "-f"])
        .arg(format!("--socket={}", socket.display()))
        .arg(format!("--key-file={}", key.display()))
        .arg(format!("--log-file={d}/munge/munged.log"))
        .arg(format!("--pid-file={d}/munge/munged.pid"))
        .arg(format!("--seed-file={d}/munge/seed"));
    daemons.start("munged", munged, &dir.join("munged.out"))?;
    wait_for("munge's socket", Duration::from_secs(20), || {
        socket.exists()
    })?;
    let mut ctld = Command::new(tool("slurmctld"));
    ctld.args(["-D", "-i"]).env("SLURM_CONF", &conf);
    daemons.start("slurmctld", ctld, &dir.join("slurmctld.out"))?;
    let mut slurmd = Command::new(tool("slurmd"));
    slurmd.arg("-D").env("SLURM_CONF", &conf);
    daemons.start("slurmd", slurmd, &dir.join("slurmd.out"))?;
    wait_for("the Slurm node to be idle", Duration::from_secs(60), || {
        Command::new(tool("sinfo"))
            .args(["-h", "-o", "%T"])
            .env("SLURM_CONF", &conf)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
            .unwrap_or(false)
    })
    .map_err(|e| e.context(logs(&dir)))?;

    let root = cmd::workspace_root();
    let mut sbatch = Command::new(tool("sbatch"));
    sbatch
        .env("SLURM_CONF", &conf)
        .args(["--wait", "--time=00:30:00"])
        .arg(format!("--array=1-{tasks}"))
        .arg(format!("--output={d}/out/task-%a.out"))
        .arg(format!("--chdir={}", root.display()))
        .arg("--export=ALL")
        .arg(root.join("docs/examples/slurm/bench-array.sbatch"))
        .env("DUALITY_REPO", &root)
        .env("DUALITY_RESULTS_DIR", cells)
        .env("DUALITY_BENCH_FLAGS", flags)
        .env("DUALITY_BENCH", format!("{} bench", xtask.display()))
        .env("CARGO_MANIFEST_DIR", root.join("xtask"))
        .env("DUALITY_NO_PROGRESS", "1");
    let start = Instant::now();
    let submitted = cmd::run_with_env(sbatch, env);
    let outputs = task_outputs(&dir.join("out"));
    if let Err(e) = submitted {
        return Err(e.context(format!(
            "the Slurm array failed:\n{outputs}\n{}",
            logs(&dir)
        )));
    }
    println!(
        "slurm: {tasks}-task array finished in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    drop(daemons);
    Ok(())
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("timed out after {} s waiting for {what}", limit.as_secs())
}

/// The tail of every array task's output, for a failure message.
fn task_outputs(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|f| format!("--- {}\n{}", f.display(), tail(f, 20)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The daemons' logs' tails.
fn logs(dir: &Path) -> String {
    ["munged.out", "slurmctld.log", "slurmd.log"]
        .iter()
        .map(|n| format!("--- {n}\n{}", tail(&dir.join(n), 15)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_metrics_are_left_out_and_differences_named() {
        let dir = std::env::temp_dir().join(format!("duality-cluster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, seconds: f64, regret: f64| {
            let p = dir.join(name);
            let v = serde_json::json!({"experiments": [{
                "suite": "s", "name": "e", "summary": [], "improvements": [],
                "outcome": {"headlines": [{"name": "h", "value": 1.0}],
                            "records": [{"metrics": {"seconds": seconds, "regret": regret}}]}
            }]});
            std::fs::write(&p, v.to_string()).unwrap();
            numbers(&p).unwrap()
        };
        let a = write("a.json", 1.0, 5.0);
        let b = write("b.json", 2.0, 5.0);
        compare(&a, &b, "b").unwrap();
        let c = write("c.json", 1.0, 6.0);
        let msg = compare(&a, &c, "c").unwrap_err().to_string();
        assert!(msg.contains("s/e: record 0"), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
