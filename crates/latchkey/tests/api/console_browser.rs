//! The console in a real browser: the scripts of `tests/console` (playwright-core driving
//! Debian's headless Chromium, axe-core checking each page) run against this server, signing
//! in with an admin app of `default` and doing through the pages what a person would: tenants,
//! apps and their secrets, tokens over HTTP, revocation, keys, the audit trail, sign-out, a
//! tenant admin's reach, and a CSRF attempt. Screenshots of every page land in
//! `target/console-screenshots`.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium the scripts drive: `CHROMIUM`, else Debian's. `None`, after saying why, when
/// there is none, unless `CI` is `true`: there a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "{} is not there: install Debian's chromium package (apt-get install chromium) to run the console's browser tests",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{why} (CI=true requires them)");
    }
    eprintln!("skipping: {why}");
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_does_in_a_real_browser_what_the_admin_api_does() {
    let Some(scripts) = npm_install("tests/console", "console-e2e") else {
        return;
    };
    let Some(chromium) = chromium() else {
        return;
    };
    let (app, admin) = spawn_seeded(Setup::default(), async |seed| {
        seed.app(new_app("console-admin").scopes(&["latchkey:admin"]))
            .await
    })
    .await;
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target temporary directory is inside target/")
        .join("console-screenshots");
    std::fs::create_dir_all(&screenshots).expect("creating target/console-screenshots");
    let mut tests: Vec<_> = std::fs::read_dir(&scripts)
        .expect("reading the console's scripts")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    tests.sort();
    assert!(!tests.is_empty(), "no *.test.mjs in {}", scripts.display());
    let url = format!("http://{}", app.address);
    let (id, secret) = (
        client_id(&admin).to_owned(),
        client_secret(&admin).to_owned(),
    );
    // Off the async runtime, so the in-process server keeps answering the browser; bounded, so
    // a hung browser fails the test instead of the run.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args([
                "--kill-after=10",
                "600",
                "node",
                "--test",
                "--test-concurrency=1",
            ])
            .args(&tests)
            .current_dir(&scripts)
            .env("LATCHKEY_URL", url)
            .env("LATCHKEY_ADMIN_CLIENT_ID", id)
            .env("LATCHKEY_ADMIN_CLIENT_SECRET", secret)
            .env("LATCHKEY_SCREENSHOTS", &screenshots)
            .env("CHROMIUM", chromium)
            .output()
            .expect("running node --test")
    })
    .await
    .expect("the node process's thread");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        output.status.success(),
        "the console's browser tests failed: {}",
        describe(&output)
    );
}
