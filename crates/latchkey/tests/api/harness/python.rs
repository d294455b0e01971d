//! Python clients (`tests/python`), run with a venv's python as a user's service would: the
//! venv is made under `target/` and filled from PyPI with the pinned `requirements.txt`.

use super::describe;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv (`target/python-clients`) with `tests/python/requirements.txt` installed, once per
/// test process and again whenever that file changes. `None`, after saying why, when python3
/// (with venv) is missing, unless `CI` is `true`: there a missing interpreter fails the test.
/// A failed install (PyPI out of reach) fails the test with pip's own words.
static PYTHON_CLIENTS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

fn python_clients() -> Option<&'static Path> {
    PYTHON_CLIENTS
        .get_or_init(install_python_clients)
        .as_deref()
}

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

fn install_python_clients() -> Option<PathBuf> {
    let found = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        let why = "python3 with venv and ensurepip is not installed: the Python clients cannot run";
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("{why} (CI=true requires them)");
        }
        eprintln!("skipping the Python clients: {why}");
        return None;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target temporary directory is inside target/")
        .join("python-clients");
    let requirements = std::fs::read(sources().join("requirements.txt"))
        .expect("reading tests/python/requirements.txt");
    let stamp = venv.join("latchkey-installed-requirements.txt");
    if std::fs::read(&stamp).ok().as_deref() == Some(requirements.as_slice()) {
        return Some(venv);
    }
    // A venv without the stamp is half made or out of date: made again rather than trusted.
    match std::fs::remove_dir_all(&venv) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            panic!("removing {}: {error}", venv.display())
        }
        _ => {}
    }
    run_or_fail(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        &format!("python3 -m venv {}", venv.display()),
    );
    run_or_fail(
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--timeout",
                "30",
                "--retries",
                "2",
                "--only-binary",
                ":all:",
                "-r",
            ])
            .arg(sources().join("requirements.txt")),
        "pip install -r tests/python/requirements.txt (is PyPI reachable?)",
    );
    std::fs::write(&stamp, &requirements).expect("recording the installed requirements");
    Some(venv)
}

/// Runs `command`, failing the test with its output unless it succeeds.
fn run_or_fail(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed: {}",
        describe(&output)
    );
}

/// Runs the Python client `script` of `tests/python` with the venv's python and these
/// environment variables, and parses the JSON line it prints. `None` when Python clients cannot
/// run here (see `python_clients`). Runs off the async runtime, so the in-process server keeps
/// answering the script's requests.
pub(crate) async fn run_python_client(script: &str, env: &[(&str, &str)]) -> Option<Value> {
    let venv = python_clients()?;
    let python = venv.join("bin/python");
    let script = sources().join(script);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .output()
            .expect("running python")
    })
    .await
    .expect("the python process's thread");
    assert!(
        output.status.success(),
        "the Python client failed: {}",
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(line).unwrap_or_else(|error| {
        panic!(
            "the Python client printed no JSON ({error}): {}",
            describe(&output)
        )
    }))
}
