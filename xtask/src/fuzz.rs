//! CI's short fuzz run: every target of `fuzz/` for a bounded time, starting from the kept
//! corpus and regressions. New inputs go under `target/`, so a local run leaves the kept corpus
//! as it is (docs/fuzzing.md says how to grow it).

use super::{root, run_with};
use anyhow::Context;

/// Seconds each target runs.
const SECONDS_PER_TARGET: &str = "20";

pub(crate) fn run_briefly() -> anyhow::Result<()> {
    let fuzz = root().join("fuzz");
    let mut targets = Vec::new();
    for entry in
        std::fs::read_dir(fuzz.join("fuzz_targets")).context("reading fuzz/fuzz_targets")?
    {
        let path = entry?.path();
        if let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) {
            targets.push(name.to_owned());
        }
    }
    targets.sort();
    for target in &targets {
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
        let mut args = vec!["fuzz", "run", "--fuzz-dir", "fuzz", target.as_str()];
        args.extend(corpora.iter().map(String::as_str));
        let time = format!("-max_total_time={SECONDS_PER_TARGET}");
        args.extend(["--", time.as_str()]);
        // cargo-fuzz passes nightly flags (sanitizer, coverage); the stable toolchain takes
        // them when told it may.
        run_with(env!("CARGO"), &args, &[("RUSTC_BOOTSTRAP", "1")])?;
    }
    Ok(())
}
