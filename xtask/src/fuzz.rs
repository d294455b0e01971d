//! CI's short fuzz run: every target of `fuzz/` for a bounded time, starting from the kept
//! corpus and regressions. New inputs go under `target/`, so a local run leaves the kept corpus
//! as it is (docs/fuzzing.md says how to grow it).

use super::{root, run_with};
use anyhow::Context;

/// Seconds each target runs.
const SECONDS_PER_TARGET: &str = "20";

/// The targets of the short run: those built on the protocol crate alone. `jws` and
/// `admin_json` stand on the key store and the server (features `jws` and `admin` of
/// `fuzz/`), whose instrumented build alone takes longer than a CI run may; `cargo test`
/// replays their kept corpus on every run, and docs/fuzzing.md records their long runs.
const SHORT_RUN_TARGETS: [&str; 4] = ["assertion", "basic_header", "form", "scope"];

pub(crate) fn run_briefly() -> anyhow::Result<()> {
    let fuzz = root().join("fuzz");
    for target in SHORT_RUN_TARGETS {
        let scratch = root().join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let mut corpora = vec![scratch.display().to_string()];
        for kept in ["corpus", "regressions"] {
            let dir = fuzz.join(kept).join(target);
            if dir.is_dir() {
                corpora.push(dir.display().to_string());
            }
        }
        let mut args = vec!["fuzz", "run", "--fuzz-dir", "fuzz", target];
        args.extend(corpora.iter().map(String::as_str));
        let time = format!("-max_total_time={SECONDS_PER_TARGET}");
        args.extend(["--", time.as_str()]);
        // cargo-fuzz passes nightly flags (sanitizer, coverage); the stable toolchain takes
        // them when told it may.
        run_with(env!("CARGO"), &args, &[("RUSTC_BOOTSTRAP", "1")])?;
    }
    Ok(())
}
