//! Every log line of a test run is scanned for what must never be logged: a token, a client
//! secret, a secret's hash, a private key. The in-process servers log into a buffer here (at
//! `info`, as a deployment does; `TEST_LOG` also prints it), and `latchkey serve` processes into
//! their log files; each `TestApp` and `Served` scans what was written since the last scan when
//! it is dropped, so by the end of a run every line has been read.
//!
//! Secrets are found by their shape, so that a test need not register each one it used: a
//! client secret is 43 URL-safe base64 characters (256 bits), a token a JWT (`eyJ...` in three
//! dot-separated parts), a secret hash 64 hex digits (SHA-256), a private key a PEM block.
//! Nothing latchkey logs on purpose has those shapes (ids are 32 hex digits or UUIDs).

use std::io::Write;
use std::sync::Mutex;
use tracing_subscriber::fmt::MakeWriter;

/// What the in-process servers logged, and how much of it was scanned.
static CAPTURED: Mutex<(Vec<u8>, usize)> = Mutex::new((Vec::new(), 0));

/// The `MakeWriter` of the harness's subscriber: each event is one `write` of whole lines.
#[derive(Clone, Copy)]
pub(crate) struct Capture {
    /// Also print to the test output (`TEST_LOG`).
    pub(crate) print: bool,
}

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.print {
            eprint!("{}", String::from_utf8_lossy(bytes));
        }
        CAPTURED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        *self
    }
}

/// Scans what the in-process servers logged since the last scan; panics naming the line
/// (with the secret cut short) if one holds something secret. Not while panicking already.
pub(crate) fn scan_captured() {
    if std::thread::panicking() {
        return;
    }
    let fresh = {
        let mut captured = CAPTURED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (log, scanned) = &mut *captured;
        // Up to the last whole line: a line being written is scanned next time.
        let end = log
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |at| at + 1);
        let start = (*scanned).min(end);
        *scanned = end;
        String::from_utf8_lossy(&log[start..end]).into_owned()
    };
    assert_no_secrets(&fresh, "the in-process servers' log");
}

/// Panics if `log` holds a line with something secret in it.
pub(crate) fn assert_no_secrets(log: &str, whose: &str) {
    if std::thread::panicking() {
        return;
    }
    for line in log.lines() {
        if let Some(found) = secret_in(line) {
            let shown: String = found.chars().take(12).collect();
            panic!(
                "{whose} holds a {found_kind} ({shown}...): {line}",
                found_kind = kind(found)
            );
        }
    }
}

fn kind(found: &str) -> &'static str {
    if found.starts_with("eyJ") {
        "token"
    } else if found.contains("PRIVATE KEY") {
        "private key"
    } else if found.len() == 64 {
        "secret hash"
    } else {
        "client secret"
    }
}

/// The first thing in `line` shaped like a secret.
pub(crate) fn secret_in(line: &str) -> Option<&str> {
    if let Some(at) = line.find("PRIVATE KEY") {
        return Some(&line[at..]);
    }
    let is_part = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
    let bytes = line.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !is_part(bytes[start]) {
            start += 1;
            continue;
        }
        // A run of URL-safe base64 characters, and dots (a JWT's separators).
        let mut end = start;
        while end < bytes.len() && (is_part(bytes[end]) || bytes[end] == b'.') {
            end += 1;
        }
        let run = &line[start..end];
        if run.starts_with("eyJ") && run.split('.').filter(|part| !part.is_empty()).count() >= 2 {
            return Some(run);
        }
        for word in run.split('.') {
            let hex = word.len() == 64 && word.bytes().all(|byte| byte.is_ascii_hexdigit());
            if word.len() == 43 || hex {
                return Some(word);
            }
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::secret_in;

    #[test]
    fn secrets_tokens_and_hashes_are_found_by_their_shape() {
        let secret = "q3Jf0-x_2kQmZ7bV9sT1uW4yA6cE8gI0kM2oQ4sU6wY";
        assert_eq!(secret.len(), 43);
        assert_eq!(secret_in(&format!("secret={secret} ok")), Some(secret));
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(secret_in(&format!("token=\"{token}\"")), Some(token));
        let hash = "a".repeat(64);
        assert_eq!(secret_in(&format!("hash {hash}")), Some(hash.as_str()));
        assert!(secret_in("-----BEGIN PRIVATE KEY-----").is_some());
    }

    #[test]
    fn what_latchkey_logs_on_purpose_is_not_taken_for_a_secret() {
        for line in [
            "request request_id=4bf92f3577b34da6a3ce929d0e0e4736 client_id=0f1e2d3c4b5a69788796a5b4c3d2e1f0 status=200",
            "revoked a token jti=3f2b9c1e-8d7a-4b6c-9e5f-0a1b2c3d4e5f",
            "client authentication failed client_id=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
            "latchkey is serving address=127.0.0.1:41234 issuer=http://issuer.test",
        ] {
            assert_eq!(secret_in(line), None, "{line}");
        }
    }
}
