//! The `latchkey` binary as a user runs it: commands on a test database, and `latchkey serve`
//! (or `quickstart`) as a child process.

use super::{Http, POLL_EVERY, TestApp, TestDatabase, WAIT, given_master_key, latchkey_on};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The log filter given to the `latchkey` binary: quiet unless `TEST_LOG` is set.
fn child_log_filter() -> String {
    match std::env::var("TEST_LOG") {
        Ok(filter) if !filter.is_empty() && filter != "1" => filter,
        Ok(_) => "debug".to_owned(),
        Err(_) => "warn".to_owned(),
    }
}

/// A `latchkey` command with a controlled environment (no inherited database, listen address
/// or issuer; quiet logs) and no `--database`.
pub(crate) fn latchkey_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for var in [
        "LATCHKEY_CONFIG",
        "LATCHKEY_DATABASE_URL",
        "LATCHKEY_LISTEN",
        "LATCHKEY_ISSUER",
        "LATCHKEY_REFRESH_MS",
        "LATCHKEY_MASTER_KEY",
        "LATCHKEY_MASTER_KEY_FILE",
        "LATCHKEY_KEY_ROTATION_DAYS",
        "LATCHKEY_MAINTENANCE_MS",
        "LATCHKEY_STRICT_HOSTS",
        "LATCHKEY_TENANT",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command.env("LATCHKEY_LOG", child_log_filter());
    command
}

impl TestApp {
    /// Runs `latchkey --database <db_url> ARGS...` (with the master key PostgreSQL needs) and
    /// returns what it did.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        let output = latchkey_on(&self.db_url)
            .args(args)
            .output()
            .expect("running the latchkey binary");
        // Its stdout may show a secret on purpose (`app create`); its logs and errors never.
        super::log_scan::assert_no_secrets(&stderr(&output), "latchkey's stderr");
        output
    }

    /// Runs the CLI, asserts it succeeded, and returns its stdout.
    pub(crate) fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "`latchkey {}` failed: {}",
            args.join(" "),
            describe(&output)
        );
        String::from_utf8(output.stdout).expect("CLI output is UTF-8")
    }

    /// Runs the CLI (which must succeed) and parses its stdout as JSON.
    pub(crate) fn cli_json(&self, args: &[&str]) -> Value {
        let stdout = self.cli_ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|error| {
            panic!(
                "`latchkey {}` printed no JSON ({error}): {stdout:?}",
                args.join(" ")
            )
        })
    }
}

/// A process output for failure messages.
pub(crate) fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A process's stderr as text (lossy).
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the CLI, asserts it failed with a message on stderr containing every one of `mentions`,
/// and returns that message.
pub(crate) fn assert_cli_fails(app: &TestApp, args: &[&str], mentions: &[&str]) -> String {
    let output = app.cli(args);
    assert!(
        !output.status.success(),
        "`latchkey {}` should fail: {}",
        args.join(" "),
        describe(&output)
    );
    let message = stderr(&output);
    for mention in mentions {
        assert!(
            message.contains(mention),
            "`latchkey {}` should mention {mention:?}: {}",
            args.join(" "),
            describe(&output)
        );
    }
    message
}

/// `assert_cli_fails`, and the failure is a message of the CLI's, not a panic.
pub(crate) fn assert_cli_refuses(app: &TestApp, args: &[&str], mentions: &[&str]) {
    let message = assert_cli_fails(app, args, mentions);
    assert!(!message.contains("panicked"), "{message}");
}

/// The database of a new deployment (`TestDatabase::empty`) and its URL.
pub(crate) fn database() -> (TestDatabase, String) {
    let database = TestDatabase::empty();
    let db_url = database.url().to_owned();
    (database, db_url)
}

/// Runs the CLI on `db_url` (it must succeed) and parses its stdout as JSON.
pub(crate) fn cli_json_on(db_url: &str, args: &[&str]) -> Value {
    let output = latchkey_on(db_url)
        .args(args)
        .output()
        .expect("running latchkey");
    assert!(
        output.status.success(),
        "latchkey {args:?}: {}",
        describe(&output)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// The issuer `Served` gives `latchkey serve`.
pub(crate) const SERVE_ISSUER: &str = "https://auth.serve.test";
/// How long the process may take to print its first line (it may generate its first RSA key).
pub(crate) const START_WAIT: Duration = Duration::from_secs(60);

/// A `latchkey serve` (or `quickstart`) child process. Killed on drop if still running.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) first_line: String,
    pub(crate) db_url: String,
    log: PathBuf,
    _database: Option<TestDatabase>,
}

/// A started child whose first stdout line has not been read yet.
pub(crate) struct Launched {
    pub(crate) child: Child,
    pub(crate) lines: mpsc::Receiver<String>,
    db_url: String,
    log: PathBuf,
}

impl Launched {
    /// Starts `latchkey --database DB_URL ARGS...` with stderr in `log`.
    pub(crate) fn new(db_url: &str, log: PathBuf, args: &[&str]) -> Launched {
        Launched::with(latchkey_command(), db_url, log, args)
    }

    /// `new` with a prepared command (its environment set by the caller, plus the master key
    /// the harness made for the database, if it made one).
    pub(crate) fn with(
        mut command: Command,
        db_url: &str,
        log: PathBuf,
        args: &[&str],
    ) -> Launched {
        let stderr = std::fs::File::create(&log).expect("creating the log file");
        if let Some(file) = given_master_key(db_url) {
            command.env("LATCHKEY_MASTER_KEY_FILE", file);
        }
        let mut child = command
            .args(["--database", db_url])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("starting latchkey");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::channel();
        // Reads every line so that the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // After the first line nobody listens any more; keep draining regardless.
                let _ = lines_tx.send(line);
            }
        });
        Launched {
            child,
            lines,
            db_url: db_url.to_owned(),
            log,
        }
    }

    /// Waits (bounded) for the first line on stdout.
    pub(crate) fn ready(
        mut self,
        database: Option<TestDatabase>,
    ) -> (Served, mpsc::Receiver<String>) {
        let first_line = match self.lines.recv_timeout(START_WAIT) {
            Ok(line) => line,
            Err(error) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "latchkey printed no line within {START_WAIT:?} ({error}); its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
        };
        let served = Served {
            child: self.child,
            first_line,
            db_url: self.db_url,
            log: self.log,
            _database: database,
        };
        (served, self.lines)
    }
}

/// `serve --listen 127.0.0.1:0 --issuer SERVE_ISSUER --refresh-ms 50`.
pub(crate) const SERVE_ARGS: [&str; 7] = [
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--issuer",
    SERVE_ISSUER,
    "--refresh-ms",
    "50",
];

impl Served {
    /// Starts `latchkey serve --listen 127.0.0.1:0` on the database and waits (bounded) for its
    /// first line on stdout.
    pub(crate) fn start(database: TestDatabase, db_url: String) -> Served {
        let log = database.path().join("serve.log");
        Launched::new(&db_url, log, &SERVE_ARGS)
            .ready(Some(database))
            .0
    }

    /// `start` with this log filter (`LATCHKEY_LOG`), whatever `TEST_LOG` says: for tests that
    /// read the log.
    pub(crate) fn start_logging(database: TestDatabase, db_url: String, filter: &str) -> Served {
        let log = database.path().join("serve.log");
        let mut command = latchkey_command();
        command.env("LATCHKEY_LOG", filter);
        Launched::with(command, &db_url, log, &SERVE_ARGS)
            .ready(Some(database))
            .0
    }

    /// The address from the first line, `latchkey listening on http://ADDR`.
    pub(crate) fn base_url(&self) -> String {
        let url = self
            .first_line
            .strip_prefix("latchkey listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {:?}", self.first_line));
        url.to_owned()
    }

    /// Requests to this server, at the address of its first line.
    pub(crate) fn http(&self) -> Http {
        let base = self.base_url();
        let address = base
            .strip_prefix("http://")
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("a server listening on http://ADDR, not {base}"));
        Http::new(address)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM to this child (by its own pid) and waits, bounded, for it to exit.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for latchkey serve") {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "latchkey serve did not exit within {WAIT:?} of SIGTERM; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(POLL_EVERY);
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        super::log_scan::assert_no_secrets(&self.log(), "latchkey serve's log");
    }
}
