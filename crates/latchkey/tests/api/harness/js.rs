//! The JavaScript verifiers (`tests/js`), run with node as an independent client would.

use super::describe;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The JavaScript verifiers (`tests/js`: a pinned package.json and package-lock.json and the
/// scripts) installed with `npm ci` into `target/js-verifiers`, once per test process and again
/// whenever the lock file changes. `None`, after saying why, when node or npm is missing,
/// unless `CI` is `true`: there a missing verifier fails the test.
static JS_VERIFIERS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

fn js_verifiers() -> Option<&'static Path> {
    JS_VERIFIERS.get_or_init(install_js_verifiers).as_deref()
}

fn install_js_verifiers() -> Option<PathBuf> {
    npm_install("tests/js", "js-verifiers")
}

/// Copies the files of `sources` (a folder of this crate holding a package.json and its
/// package-lock.json) into `target/TARGET` and installs its packages there with `npm ci`, again
/// only when the lock file changed. `None`, after saying why, when node or npm is missing,
/// unless `CI` is `true`: there a missing tool fails the test.
pub(crate) fn npm_install(sources: &str, target: &str) -> Option<PathBuf> {
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            let why = format!("{tool} is not installed: the scripts of {sources} cannot run");
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("{why} (CI=true requires them)");
            }
            eprintln!("skipping: {why}");
            return None;
        }
    }
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join(sources);
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target temporary directory is inside target/")
        .join(target);
    std::fs::create_dir_all(&target).expect("creating the scripts' folder in target/");
    for entry in std::fs::read_dir(&sources).expect("reading the scripts' folder") {
        let path = entry.expect("a folder entry").path();
        if let Some(name) = path.file_name().filter(|_| path.is_file()) {
            std::fs::copy(&path, target.join(name)).expect("copying a script's file");
        }
    }
    // npm ci replaces node_modules, so it runs only when the installed lock is not this one.
    let lock = std::fs::read(target.join("package-lock.json")).expect("reading the lock file");
    let stamp = target.join("node_modules/.latchkey-installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        let output = Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&target)
            .output()
            .expect("running npm ci");
        assert!(
            output.status.success(),
            "npm ci --prefix {} failed: {}",
            target.display(),
            describe(&output)
        );
        std::fs::write(&stamp, &lock).expect("recording the installed lock file");
    }
    Some(target)
}

/// Runs a JavaScript verifier script from `tests/js` with node and these environment
/// variables, and parses the JSON line it prints. `None` when the verifiers cannot run here
/// (see `js_verifiers`). Runs off the async runtime, so the in-process server keeps answering
/// the script's requests.
pub(crate) async fn run_js_verifier(script: &str, env: &[(&str, &str)]) -> Option<Value> {
    let dir = js_verifiers()?;
    let script = dir.join(script);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .output()
            .expect("running node")
    })
    .await
    .expect("the node process's thread");
    assert!(
        output.status.success(),
        "node failed: {}",
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(line).unwrap_or_else(|error| {
        panic!(
            "the verifier printed no JSON ({error}): {}",
            describe(&output)
        )
    }))
}
