//! Replays every kept input (`corpus/TARGET/*` and `regressions/TARGET/*`) through the function
//! its fuzz target calls, as a plain test on the stable toolchain: a fixed finding stays fixed,
//! and a change that breaks an invariant on a known input fails here first.

use std::path::Path;

const TARGETS: [(&str, fn(&[u8])); 5] = [
    ("admin_json", latchkey_fuzz::admin_json::run),
    ("basic_header", latchkey_fuzz::basic_header::run),
    ("form", latchkey_fuzz::form::run),
    ("jws", latchkey_fuzz::jws::run),
    ("scope", latchkey_fuzz::scope::run),
];

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(kind);
    let mut count = 0;
    for (target, run) in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            let data = std::fs::read(&path).expect("a readable input");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} panics on {}", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn every_corpus_input_keeps_every_invariant() {
    let count = replay("corpus");
    assert!(count > 0, "the kept corpus is empty");
}

#[test]
fn every_regression_input_keeps_every_invariant() {
    replay("regressions");
}

#[test]
fn every_target_has_a_kept_corpus() {
    for (target, _) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        let files = std::fs::read_dir(&dir).map(Iterator::count).unwrap_or(0);
        assert!(files > 0, "{} holds no input", dir.display());
    }
}
