//! kill -9 never loses an acknowledged change. In each of at most `CYCLES` cycles (and within
//! `BUDGET`), writers change apps and tenants through the CLI and the admin API of a real
//! `latchkey serve`, and either the server or a CLI process in the middle of a write is killed
//! with SIGKILL after a seeded random delay (the seed is printed; `LATCHKEY_CRASH_SEED` replays
//! it). Every change that was acknowledged (the CLI exited 0, or a 2xx answer was read in full)
//! must then be stored with the content acknowledged; an unacknowledged one may be there or not,
//! but never half there (an app without a secret); on SQLite the file passes
//! `PRAGMA integrity_check`.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// At most this many cycles...
const CYCLES: usize = 50;
/// ...started within this long, so that a slow machine runs fewer instead of running long.
const BUDGET: Duration = Duration::from_secs(40);
/// A kill comes at a random moment up to this many milliseconds into a cycle's writes.
const MAX_KILL_DELAY_MS: u64 = 150;

/// splitmix64: a seeded sequence of choices, so that a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn from_env() -> Rng {
        let seed = match std::env::var("LATCHKEY_CRASH_SEED") {
            Ok(text) => text.parse().expect("LATCHKEY_CRASH_SEED is a number"),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970")
                .as_nanos() as u64,
        };
        eprintln!("crash seed {seed} (replay with LATCHKEY_CRASH_SEED={seed})");
        Rng(seed)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (mixed ^ (mixed >> 31)) % bound
    }

    fn delay(&mut self) -> Duration {
        Duration::from_millis(self.below(MAX_KILL_DELAY_MS + 1))
    }
}

/// One change, sent through the admin API or the CLI.
#[derive(Debug, Clone)]
enum Write {
    Create {
        name: String,
        scopes: Vec<String>,
    },
    Update {
        id: String,
        name: String,
        scopes: Vec<String>,
    },
    Rotate {
        id: String,
    },
    Delete {
        id: String,
    },
    Tenant {
        name: String,
    },
}

impl Write {
    /// A random change: an app created, or one of `targets` (taken out, so that no two writes
    /// of a cycle race on one app) updated, given a new secret or deleted.
    fn random(rng: &mut Rng, targets: &mut Vec<String>, name: String) -> Write {
        let kind = rng.below(5);
        if kind < 2 || targets.is_empty() {
            return Write::Create {
                scopes: vec![format!("{name}.read")],
                name,
            };
        }
        let id = targets.swap_remove(rng.below(targets.len() as u64) as usize);
        match kind {
            2 => Write::Update {
                id,
                scopes: vec![format!("{name}.write"), "read".to_owned()],
                name,
            },
            3 => Write::Rotate { id },
            _ => Write::Delete { id },
        }
    }

    fn cli_args(&self) -> Vec<String> {
        let (mut args, settings) = match self {
            Write::Create { name, scopes } => (strings(&["app", "create"]), Some((name, scopes))),
            Write::Update { id, name, scopes } => {
                (strings(&["app", "update", id]), Some((name, scopes)))
            }
            Write::Rotate { id } => (strings(&["app", "rotate-secret", id]), None),
            Write::Delete { id } => (strings(&["app", "delete", id]), None),
            Write::Tenant { name } => {
                let domain = format!("{name}.crash.test");
                (
                    strings(&["tenant", "create", name, "--domain", &domain]),
                    None,
                )
            }
        };
        if let Some((name, scopes)) = settings {
            args.extend(strings(&["--name", name]));
            for scope in scopes {
                args.extend(strings(&["--scope", scope]));
            }
        }
        args.push("--json".to_owned());
        args
    }

    /// The request this change is through the admin API (tenants are made by the CLI only).
    fn request(&self, http: &Http, admin: &str) -> reqwest::RequestBuilder {
        const APPS: &str = "/admin/v1/tenants/default/apps";
        let request = match self {
            Write::Create { name, scopes } => http
                .request(Method::POST, APPS)
                .json(&json!({ "name": name, "scopes": scopes })),
            Write::Update { id, name, scopes } => http
                .request(Method::PATCH, &format!("{APPS}/{id}"))
                .json(&json!({ "name": name, "scopes": scopes })),
            Write::Rotate { id } => {
                http.request(Method::POST, &format!("{APPS}/{id}/rotate-secret"))
            }
            Write::Delete { id } => http.request(Method::DELETE, &format!("{APPS}/{id}")),
            Write::Tenant { .. } => unreachable!("tenants are created through the CLI"),
        };
        request.bearer_auth(admin)
    }
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| (*word).to_owned()).collect()
}

/// What the test knows of an app after the writes so far.
#[derive(Debug)]
enum Known {
    /// It exists; a field is `None` once a write to it went unacknowledged.
    Exists {
        name: Option<String>,
        scopes: Option<Vec<String>>,
        secret: Option<String>,
    },
    /// A delete went unacknowledged: there or not.
    Maybe,
    /// An acknowledged delete.
    Gone,
}

/// Every write and what its acknowledgement (the body, `Null` when empty) promised.
#[derive(Default)]
struct Ledger {
    apps: BTreeMap<String, Known>,
    tenants: Vec<String>,
    acknowledged: usize,
    unacknowledged: usize,
}

impl Ledger {
    fn record(&mut self, write: &Write, answer: Option<Value>) {
        if answer.is_some() {
            self.acknowledged += 1;
        } else {
            self.unacknowledged += 1;
        }
        match write {
            Write::Create { name, scopes } => {
                if let Some(body) = answer {
                    self.apps.insert(
                        client_id(&body).to_owned(),
                        Known::Exists {
                            name: Some(name.clone()),
                            scopes: Some(scopes.clone()),
                            secret: Some(client_secret(&body).to_owned()),
                        },
                    );
                }
            }
            Write::Update {
                id,
                name: new_name,
                scopes: new_scopes,
            } => {
                if let Some(Known::Exists { name, scopes, .. }) = self.apps.get_mut(id) {
                    let acknowledged = answer.is_some();
                    *name = acknowledged.then(|| new_name.clone());
                    *scopes = acknowledged.then(|| new_scopes.clone());
                }
            }
            Write::Rotate { id } => {
                if let Some(Known::Exists { secret, .. }) = self.apps.get_mut(id) {
                    *secret = answer.map(|body| client_secret(&body).to_owned());
                }
            }
            Write::Delete { id } => {
                let known = if answer.is_some() {
                    Known::Gone
                } else {
                    Known::Maybe
                };
                self.apps.insert(id.clone(), known);
            }
            Write::Tenant { name } => {
                if answer.is_some() {
                    self.tenants.push(name.clone());
                }
            }
        }
    }

    /// The apps a write may target: those that exist for certain.
    fn targets(&self) -> Vec<String> {
        self.apps
            .iter()
            .filter(|(_, known)| matches!(known, Known::Exists { .. }))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// The `latchkey serve` child of the moment, restarted after each kill.
struct Server {
    db_url: String,
    logs: PathBuf,
    served: Served,
    starts: usize,
    admin: String,
}

impl Server {
    async fn start(db_url: &str, logs: &Path, ops: &Value) -> Server {
        let served = Launched::new(db_url, logs.join("serve-0.log"), &SERVE_ARGS)
            .ready(None)
            .0;
        let admin = admin_token(&served.http(), ops).await;
        Server {
            db_url: db_url.to_owned(),
            logs: logs.to_path_buf(),
            served,
            starts: 1,
            admin,
        }
    }

    fn http(&self) -> Http {
        self.served.http()
    }

    /// SIGKILL, then a new process on the same database.
    async fn kill_and_restart(&mut self, ops: &Value) {
        self.served.child.kill().expect("SIGKILL to latchkey serve");
        self.served.child.wait().expect("reaping latchkey serve");
        let log = self.logs.join(format!("serve-{}.log", self.starts));
        self.served = Launched::new(&self.db_url, log, &SERVE_ARGS).ready(None).0;
        self.starts += 1;
        self.admin = admin_token(&self.http(), ops).await;
    }
}

async fn admin_token(http: &Http, ops: &Value) -> String {
    http.token_for(ops, Some("latchkey:admin"))
        .await
        .access_token()
}

/// Sends `writes` one after the other until the server stops answering; what each answer
/// acknowledged. A server that answers must accept every one of these writes.
async fn through_api(http: Http, admin: String, writes: Vec<Write>) -> Vec<(Write, Option<Value>)> {
    let mut done = Vec::new();
    for write in writes {
        match http.try_send(write.request(&http, &admin)).await {
            Ok(reply) => {
                assert!(
                    reply.status.is_success(),
                    "the admin API refused {write:?}: {reply:?}"
                );
                let body = if reply.status == StatusCode::NO_CONTENT {
                    Value::Null
                } else {
                    reply.json()
                };
                done.push((write, Some(body)));
            }
            Err(_) => {
                done.push((write, None));
                break;
            }
        }
    }
    done
}

/// Runs the CLI for `write`, killed with SIGKILL after `kill_after` unless that is `None`; its
/// acknowledgement if it exited 0. A CLI that ran to its end must have succeeded.
fn through_cli(db_url: &str, write: &Write, kill_after: Option<Duration>) -> Option<Value> {
    let mut child = latchkey_on(db_url)
        .args(write.cli_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting latchkey");
    if let Some(delay) = kill_after {
        // The point of this sleep is the random moment of the kill, not a wait for a condition.
        std::thread::sleep(delay);
        // An error here means the child already exited: its status below says how.
        let _ = child.kill();
    }
    let output = child.wait_with_output().expect("waiting for latchkey");
    if output.status.signal() == Some(9) {
        return None;
    }
    assert!(
        output.status.success(),
        "latchkey {:?} failed: {}",
        write.cli_args(),
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    Some(if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&stdout).expect("JSON on stdout")
    })
}

/// Checks that hold after any crash: no app without its secret, no secret without its app; on
/// SQLite, `PRAGMA integrity_check` answers `ok`.
fn check_consistent(db_url: &str, after: &str) {
    const HALF_THERE: [(&str, &str); 4] = [
        (
            "confidential apps without a secret",
            "SELECT count(*) FROM apps a WHERE a.app_type IN ('m2m', 'web') \
             AND NOT EXISTS (SELECT 1 FROM app_secrets s WHERE s.client_id = a.client_id)",
        ),
        (
            "secrets without an app",
            "SELECT count(*) FROM app_secrets s \
             WHERE NOT EXISTS (SELECT 1 FROM apps a WHERE a.client_id = s.client_id)",
        ),
        (
            "tenants without an active signing key",
            "SELECT count(*) FROM tenants t WHERE NOT EXISTS \
             (SELECT 1 FROM signing_keys k WHERE k.tenant = t.name AND k.status = 'active')",
        ),
        (
            "tenants other than the default without a domain",
            "SELECT count(*) FROM tenants t WHERE t.name <> 'default' \
             AND NOT EXISTS (SELECT 1 FROM tenant_domains d WHERE d.tenant = t.name)",
        ),
    ];
    match backend() {
        Backend::Sqlite => {
            let path = db_url.strip_prefix("sqlite://").expect("a sqlite:// URL");
            let connection = rusqlite::Connection::open(path).expect("opening the SQLite file");
            let integrity: String = connection
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .expect("running PRAGMA integrity_check");
            assert_eq!(integrity, "ok", "integrity_check after {after}");
            for (what, sql) in HALF_THERE {
                let count: i64 = connection
                    .query_row(sql, [], |row| row.get(0))
                    .expect("counting");
                assert_eq!(count, 0, "{what} after {after}");
            }
        }
        Backend::Postgres => {
            for (what, sql) in HALF_THERE {
                assert_eq!(psql_value(db_url, sql), "0", "{what} after {after}");
            }
        }
    }
}

/// Every acknowledged change is stored as acknowledged: read back through the CLI, and each
/// app's acknowledged secret gets a token from the server.
async fn check_acknowledged(ledger: &Ledger, db_url: &str, http: &Http) {
    let listed = cli_json_on(db_url, &["app", "list", "--json"]);
    let listed: BTreeMap<&str, &Value> = listed
        .as_array()
        .expect("app list --json is an array")
        .iter()
        .map(|app| (client_id(app), app))
        .collect();
    for (id, known) in &ledger.apps {
        match known {
            Known::Exists {
                name,
                scopes,
                secret,
            } => {
                let stored = listed
                    .get(id.as_str())
                    .unwrap_or_else(|| panic!("app {id} was acknowledged but is not stored"));
                if let Some(name) = name {
                    assert_eq!(stored["name"], json!(name), "the name of app {id}");
                }
                if let Some(scopes) = scopes {
                    let mut stored_scopes: Vec<&str> = stored["scopes"]
                        .as_array()
                        .expect("scopes")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    stored_scopes.sort_unstable();
                    assert_eq!(stored_scopes, *scopes, "the scopes of app {id}");
                }
                if let Some(secret) = secret {
                    let app = json!({ "client_id": id, "client_secret": secret });
                    let reply = http.token_for(&app, None).await;
                    assert_eq!(
                        reply.status,
                        StatusCode::OK,
                        "a token for app {id} with its acknowledged secret: {reply:?}"
                    );
                }
            }
            Known::Gone => assert!(
                !listed.contains_key(id.as_str()),
                "app {id} was deleted with an acknowledgement but is still stored"
            ),
            Known::Maybe => {}
        }
    }
    let tenants = cli_json_on(db_url, &["tenant", "list", "--json"]);
    let names: Vec<&str> = tenants
        .as_array()
        .expect("tenant list --json is an array")
        .iter()
        .filter_map(|tenant| tenant["name"].as_str())
        .collect();
    for tenant in &ledger.tenants {
        assert!(
            names.contains(&tenant.as_str()),
            "tenant {tenant} was acknowledged but is not stored: {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_the_server_or_the_cli_during_writes_never_loses_an_acknowledged_change() {
    let mut rng = Rng::from_env();
    let (database, db_url) = database();
    let create_ops: Vec<&str> = "app create --name ops --scope latchkey:admin --json"
        .split(' ')
        .collect();
    let ops = cli_json_on(&db_url, &create_ops);
    let mut server = Server::start(&db_url, database.path(), &ops).await;
    let mut ledger = Ledger::default();
    let started = Instant::now();
    let mut cycles = 0;
    while cycles < CYCLES && started.elapsed() < BUDGET {
        let cycle = cycles;
        cycles += 1;
        let mut targets = ledger.targets();
        let api_writes: Vec<Write> = (0..1 + rng.below(4))
            .map(|k| Write::random(&mut rng, &mut targets, format!("api-{cycle}-{k}")))
            .collect();
        let cli_write = if cycle % 7 == 3 {
            Write::Tenant {
                name: format!("crash-{cycle}"),
            }
        } else {
            Write::random(&mut rng, &mut targets, format!("cli-{cycle}"))
        };
        let delay = rng.delay();
        let kill_server = rng.below(2) == 0;
        let api = tokio::spawn(through_api(server.http(), server.admin.clone(), api_writes));
        let cli = {
            let db_url = db_url.clone();
            let write = cli_write.clone();
            let kill_after = (!kill_server).then_some(delay);
            tokio::task::spawn_blocking(move || through_cli(&db_url, &write, kill_after))
        };
        let killed = if kill_server {
            // The random moment of the kill is the point of this sleep.
            tokio::time::sleep(delay).await;
            server.kill_and_restart(&ops).await;
            "the server"
        } else {
            "a CLI process"
        };
        for (write, answer) in api.await.expect("the API writer") {
            ledger.record(&write, answer);
        }
        let answer = cli.await.expect("the CLI writer");
        ledger.record(&cli_write, answer);
        check_consistent(
            &db_url,
            &format!("cycle {cycle}: SIGKILL of {killed} after {delay:?}"),
        );
    }
    // One more crash, so that what the last CLI-only cycles wrote is also read after one.
    server.kill_and_restart(&ops).await;
    check_consistent(&db_url, "the last SIGKILL");
    check_acknowledged(&ledger, &db_url, &server.http()).await;
    eprintln!(
        "{cycles} cycles in {:?}, {} server starts: {} writes acknowledged, {} not",
        started.elapsed(),
        server.starts,
        ledger.acknowledged,
        ledger.unacknowledged
    );
    assert!(
        ledger.acknowledged > cycles,
        "too few writes were acknowledged to prove anything"
    );
}
