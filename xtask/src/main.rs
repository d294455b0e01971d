//! Project automation: `cargo xtask ci` runs exactly what CI runs; `cargo xtask tidy` checks the
//! conventions a compiler cannot (every module documented, every crate on the map, the declared
//! minimum Rust version no lower than what the locked dependencies need).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "ci" => ci(),
        "tidy" => tidy(),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|tidy>\n  ci    fmt check, clippy -D warnings, tidy, all tests\n  tidy  module docs and ARCHITECTURE.md coverage"
            );
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo(args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// What CI runs, in order of how fast each step fails.
fn ci() -> anyhow::Result<()> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    tidy()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace"])
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
