//! Replays every kept fuzz input (`fuzz/corpus/TARGET/*` and `fuzz/regressions/TARGET/*`)
//! through the function its fuzz target calls, as a plain test of the workspace on the stable
//! toolchain: a fixed finding stays fixed, and a change that breaks an invariant on a known input
//! fails here first. The target bodies are `fuzz/src/`'s own files, compiled here as modules, so
//! `cargo test --workspace` replays them with the workspace's build and nothing more.

// The bodies are `pub` for the fuzz crate, whose targets call them; here they are modules of a
// test.
#![allow(unreachable_pub)]

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/src/admin_json.rs"]
mod admin_json;
#[path = "../../../fuzz/src/assertion.rs"]
mod assertion;
#[path = "../../../fuzz/src/basic_header.rs"]
mod basic_header;
#[path = "../../../fuzz/src/form.rs"]
mod form;
#[path = "../../../fuzz/src/jws.rs"]
mod jws;
#[path = "../../../fuzz/src/scope.rs"]
mod scope;

/// `fuzz/`, beside the workspace's crates.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// A target's name and the body its fuzz target calls.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 6] = [
    ("admin_json", admin_json::run),
    ("assertion", assertion::run),
    ("basic_header", basic_header::run),
    ("form", form::run),
    ("jws", jws::run),
    ("scope", scope::run),
];

fn replay(kind: &str) -> usize {
    let root = fuzz_dir().join(kind);
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
        let dir = fuzz_dir().join("corpus").join(target);
        let files = std::fs::read_dir(&dir).map(Iterator::count).unwrap_or(0);
        assert!(files > 0, "{} holds no input", dir.display());
    }
}
