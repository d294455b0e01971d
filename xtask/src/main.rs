//! Project automation: `cargo xtask ci` runs exactly what CI runs, step by step (`.ci/run` only
//! installs what the steps need, then calls it); `cargo xtask tidy` checks the conventions a
//! compiler cannot (every module documented, every crate on the map, the declared minimum Rust
//! version no lower than what the locked dependencies need); `cargo xtask bench-fill` fills a
//! benchmark database through the store (`bench_fill`); `cargo xtask static-build` builds the
//! statically linked binary (`static_binary`).

mod bench_fill;
mod fuzz;
mod static_binary;
mod systemd_unit;

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// A task, or a step of one.
type Task = fn() -> anyhow::Result<()>;

/// The tasks, by the name `cargo xtask NAME` takes, with what each does.
const TASKS: &[(&str, &str, Task)] = &[
    ("ci", "every step CI runs, in order (see CI_STEPS)", ci),
    (
        "tidy",
        "module docs, ARCHITECTURE.md coverage, rust-version",
        tidy,
    ),
    (
        "bench-fill",
        "--database URL --apps N [--reuse PERCENT]: the bench's apps, through Store::import",
        bench_fill::bench_fill,
    ),
    (
        "static-build",
        "the statically linked release binary (`cargo static-build`), checked, its path printed",
        static_binary::static_build,
    ),
    (
        "chroot-check",
        "CI's step: the static binary alone in an empty chroot serves a token (needs root)",
        static_binary::chroot_check,
    ),
    (
        "unit-check",
        "CI's step: systemd-analyze verify and security on packaging/latchkey.service",
        systemd_unit::verify,
    ),
];

/// What one CI step runs.
enum Step {
    /// `cargo ARGS`, with the cargo running this task.
    Cargo(&'static [&'static str]),
    /// A program on the `PATH` and its arguments, run in the workspace root.
    Run(&'static str, &'static [&'static str]),
    /// A task of this file's.
    Task(Task),
}

/// What CI runs, in order of how fast each step fails: a step is one entry here.
const CI_STEPS: &[(&str, Step)] = &[
    (
        "cargo fmt --check",
        Step::Cargo(&["fmt", "--all", "--", "--check"]),
    ),
    (
        "cargo fmt --check (fuzz/)",
        Step::Cargo(&["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
    ),
    ("tidy", Step::Task(tidy)),
    (
        "python3 -m unittest: the bench's statistics and targets",
        Step::Run(
            "python3",
            &[
                "-m",
                "unittest",
                "discover",
                "-s",
                "bench/tests",
                "-t",
                "bench",
            ],
        ),
    ),
    (
        "cargo clippy -D warnings",
        Step::Cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    ),
    (
        "cargo machete (unused dependencies)",
        Step::Cargo(&["machete"]),
    ),
    (
        "cargo test --workspace (the README's test command)",
        Step::Cargo(&["test", "--workspace"]),
    ),
    // A release build of its own (the static binary): about 5 minutes on 2 cores, once; the
    // unit check after it reuses that build. The image the Dockerfile makes is this binary
    // alone, so this step is its proof: no container engine here can pull the build stage's
    // base image.
    (
        "static binary alone in an empty chroot serves a token (a release build, ~5 min)",
        Step::Task(static_binary::chroot_check),
    ),
    (
        "systemd-analyze verify and security: packaging/latchkey.service",
        Step::Task(systemd_unit::verify),
    ),
    (
        "cargo fuzz run, 20 s per parser target",
        Step::Task(fuzz::run_briefly),
    ),
    (
        "openapi-spec-validator docs/admin-openapi.json",
        Step::Task(validate_openapi),
    ),
    (
        "schemathesis: the admin API against docs/admin-openapi.json",
        Step::Run("bash", &[".ci/schemathesis.sh"]),
    ),
];

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some((_, _, task)) = TASKS.iter().find(|(task, _, _)| *task == name) else {
        eprintln!("usage: cargo xtask <task>");
        for (task, what, _) in TASKS {
            eprintln!("  {task:<12}{what}");
        }
        return ExitCode::from(2);
    };
    match task() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The variables besides `CARGO_PKG_*` that `cargo run` sets for the package it runs.
const PACKAGE_VARIABLES: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

/// Runs `program` with `args` from the workspace root, in the environment this task was
/// started in less what describes its own package; fails unless it exits 0.
fn run(program: impl AsRef<Path>, args: &[&str]) -> anyhow::Result<()> {
    run_with(program, args, &[])
}

/// `run`, with the variables `env` set too.
fn run_with(program: impl AsRef<Path>, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let program = program.as_ref();
    eprintln!("$ {} {}", program.display(), args.join(" "));
    let mut command = Command::new(program);
    // What `cargo run` told this task about its own package is not the step's business, and can
    // mislead it: cargo-machete takes `CARGO_PKG_NAME` as the sign that cargo did not start it.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_") || PACKAGE_VARIABLES.contains(&&*name) {
            command.env_remove(&*name);
        }
    }
    let status = command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    if !status.success() {
        bail!("{} {} failed ({status})", program.display(), args.join(" "));
    }
    Ok(())
}

/// Whether `program` runs and exits 0, its output discarded.
fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn ci() -> anyhow::Result<()> {
    for (name, step) in CI_STEPS {
        eprintln!("== {name}");
        match step {
            Step::Cargo(args) => run(env!("CARGO"), args),
            Step::Run(program, args) => run(program, args),
            Step::Task(task) => task(),
        }
        .with_context(|| format!("CI step `{name}`"))?;
    }
    eprintln!("ci: every step passed");
    Ok(())
}

/// The admin API's OpenAPI document is generated from the handlers and kept equal to
/// docs/admin-openapi.json by a test; an independent validator checks that it is valid OpenAPI
/// 3.1. The validator lives in a venv under target/ (which `.ci/schemathesis.sh` shares).
fn validate_openapi() -> anyhow::Result<()> {
    let venv = root().join("target/ci-venv");
    let validator = venv.join("bin/openapi-spec-validator");
    // A venv left half made (an interrupted run) is made again rather than trusted.
    if !runs(&validator, &["--help"]) {
        match std::fs::remove_dir_all(&venv) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {}", venv.display()));
            }
            _ => {}
        }
        let venv_arg = venv.to_str().context("a UTF-8 target directory")?;
        run("python3", &["-m", "venv", venv_arg])?;
        run(
            venv.join("bin/pip"),
            &[
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "openapi-spec-validator==0.9.*",
            ],
        )?;
    }
    run(&validator, &["docs/admin-openapi.json"])
}

/// A `major.minor[.patch]` version as numbers, for comparing (`1.89` is `1.89.0`).
fn version(text: &str) -> [u64; 3] {
    let mut parts = text.split('.').map(|part| part.parse().unwrap_or(0));
    [(); 3].map(|()| parts.next().unwrap_or(0))
}

/// The workspace declares `rust-version`; every locked dependency that declares one needs no
/// newer Rust, or the README's prerequisite would be untrue.
fn rust_version_problem() -> anyhow::Result<Option<String>> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata")?;
    let packages = metadata["packages"]
        .as_array()
        .context("metadata packages")?;
    let declared = packages
        .iter()
        .find(|package| package["name"] == "latchkey")
        .and_then(|package| package["rust_version"].as_str())
        .context("the latchkey package declares no rust-version")?;
    let needed = packages
        .iter()
        .filter(|package| !package["source"].is_null())
        .filter_map(|package| {
            let rust = package["rust_version"].as_str()?;
            Some((version(rust), package["name"].as_str()?, rust))
        })
        .max();
    Ok(match needed {
        Some((needed, name, rust)) if needed > version(declared) => Some(format!(
            "rust-version is {declared} in Cargo.toml but the locked {name} needs Rust {rust}: \
             raise it (and the README's prerequisite)"
        )),
        _ => None,
    })
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// Every source module opens with a `//!` line saying what it owns, and every crate appears in
/// ARCHITECTURE.md.
fn tidy() -> anyhow::Result<()> {
    let root = root();
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    let mut problems = Vec::new();
    for crate_dir in std::fs::read_dir(root.join("crates"))? {
        let crate_dir = crate_dir?.path();
        let name = crate_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if !architecture.contains(&name) {
            problems.push(format!("crate {name} is not described in ARCHITECTURE.md"));
        }
        let mut files = Vec::new();
        rust_files(&crate_dir.join("src"), &mut files)?;
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            if !text.trim_start().starts_with("//!") {
                problems.push(format!(
                    "{} does not start with a //! module comment",
                    file.display()
                ));
            }
        }
    }
    problems.extend(rust_version_problem()?);
    if problems.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    bail!("tidy found {} problem(s)", problems.len())
}
