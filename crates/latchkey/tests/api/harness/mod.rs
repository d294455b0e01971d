//! The harness: `spawn_app` starts the real router in-process on an ephemeral 127.0.0.1 port with
//! a database of its own, on the backend the run tests (`backend`: a temporary SQLite file, or a
//! new PostgreSQL database). `TestApp` dereferences to `Http`, which sends HTTP requests to it
//! (`app.at(host)` sends them with another `Host`); `seed` writes apps and tenants through the
//! management code; `cli` runs the `latchkey` binary on the same database, as a user would.
//! Waits poll with a bounded deadline (`eventually`); nothing sleeps and then asserts.

mod admin;
mod backend;
mod cli;
mod cluster;
mod encode;
mod fixtures;
mod http;
mod issuer;
mod js;
mod jwt;
mod keyless;
mod load;
pub(crate) mod log_scan;
mod node;
mod pg_instance;
mod postgres;
mod proxy;
mod python;
mod seed;
mod system;
mod test_keys;
mod tls;
mod workload;

pub(crate) use admin::*;
pub(crate) use backend::*;
pub(crate) use cli::*;
pub(crate) use cluster::{Cluster, create_app_through};
pub(crate) use encode::*;
pub(crate) use fixtures::*;
pub(crate) use http::*;
pub(crate) use issuer::{JWKS_CACHE_CONTROL, TestIssuer};
pub(crate) use js::*;
pub(crate) use jwt::*;
pub(crate) use keyless::*;
pub(crate) use load::TokenLoad;
pub(crate) use node::Node;
pub(crate) use pg_instance::PgInstance;
pub(crate) use postgres::*;
pub(crate) use proxy::{Link, Proxy};
pub(crate) use python::*;
pub(crate) use seed::*;
pub(crate) use system::*;
pub(crate) use test_keys::*;
pub(crate) use tls::{ServerPair, TestCa, http_client, http_client_builder};
pub(crate) use workload::*;

use latchkey_keys::Algorithm;
use latchkey_keys::lifecycle::RotationPolicy;
use latchkey_manage::keys::MasterKeys;
pub(crate) use latchkey_server::FailedLoginLimits;
use latchkey_server::{
    Clock, ConnectionLimits, ManualClock, ServerSettings, SystemClock, TlsFiles,
};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The issuer the in-process server is configured with.
pub(crate) const ISSUER: &str = "http://issuer.test";
/// The token endpoint path.
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";
/// The JWKS path.
pub(crate) const JWKS_PATH: &str = "/oauth2/jwks";
/// The RFC 8414 metadata path.
pub(crate) const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
/// The OpenID discovery path, which serves the same metadata.
pub(crate) const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// The exact content type of every JSON answer (pinned by the contract).
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// The challenge a 401 after HTTP Basic carries.
pub(crate) const BASIC_CHALLENGE: &str = "Basic realm=\"latchkey\"";
/// The form content type.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
/// How long a poll waits for a change to reach the server before failing: generous, since
/// what it bounds is a test's patience on a loaded machine, not a promise of the server.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How often a poll retries.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(10);

static LOGGING: Once = Once::new();

/// Logs of the in-process servers are kept at `info`, as a deployment writes them, for
/// `log_scan` to read; they go to the test output too when `TEST_LOG` is set (its value is an
/// env-filter directive; `1` means `debug`).
fn init_logging() {
    LOGGING.call_once(|| {
        let (filter, print) = match std::env::var("TEST_LOG") {
            Ok(filter) if filter.is_empty() || filter == "1" => ("debug".to_owned(), true),
            Ok(filter) => (filter, true),
            Err(_) => ("info,sqlx=warn".to_owned(), false),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(log_scan::Capture { print })
            .try_init();
    });
}

/// A server under test with its own database.
pub(crate) struct TestApp {
    /// Requests to the server as it runs now (a restart changes its address).
    http: Http,
    /// The database URL shared by the server and the CLI.
    pub(crate) db_url: String,
    /// The master key file: beside an SQLite database, where the CLI finds it on its own, or
    /// the one the harness gives every command on PostgreSQL.
    pub(crate) master_key_file: PathBuf,
    setup: Setup,
    server: Option<Node>,
    seeder: tokio::sync::OnceCell<Seeder>,
    store: tokio::sync::OnceCell<Arc<dyn latchkey_store::Store>>,
    /// The database, dropped after the server and the connections above.
    _database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        log_scan::scan_captured();
    }
}

impl Deref for TestApp {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

/// How a test server is configured.
#[derive(Clone)]
pub(crate) struct Setup {
    /// The default tenant's issuer.
    pub(crate) issuer: String,
    /// The server's clock.
    pub(crate) clock: Arc<dyn Clock>,
    /// The key life cycle.
    pub(crate) key_rotation: RotationPolicy,
    /// Whether Hosts no tenant claims get 404.
    pub(crate) strict_hosts: bool,
    /// How often the server polls the change log.
    pub(crate) refresh_interval: Duration,
    /// Whether the server is woken by PostgreSQL's change notices too (`listen=off` in its
    /// database URL when not).
    pub(crate) hears_notices: bool,
    /// How often the server runs maintenance (key life cycle steps, purges).
    pub(crate) maintenance_interval: Duration,
    /// The algorithm of the default tenant's first signing key, stored before the server
    /// starts: ES256, quick to make, unless a test is about the key a server makes for itself
    /// (`None`: the server makes its RS256 key at start, as in a new deployment).
    pub(crate) first_key: Option<Algorithm>,
    /// Failed client authentications allowed a minute: none counted unless a test is about
    /// them, since many tests poll the token endpoint for an app the server does not know yet,
    /// and each such poll is a failed login.
    pub(crate) failed_logins: FailedLoginLimits,
    /// The proxies whose forwarding headers the server believes.
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// The certificate pair the server serves HTTPS with, if any.
    pub(crate) tls: Option<TlsFiles>,
    /// The server's connection limits and shutdown timeout.
    pub(crate) limits: ConnectionLimits,
    /// Whether the server serves metrics (on its own ephemeral port): on, so that every test
    /// runs the counting path too.
    pub(crate) metrics: bool,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            issuer: ISSUER.to_owned(),
            clock: Arc::new(SystemClock),
            key_rotation: RotationPolicy::every_days(30),
            strict_hosts: false,
            refresh_interval: Duration::from_millis(10),
            hears_notices: true,
            maintenance_interval: Duration::from_millis(50),
            first_key: Some(Algorithm::Es256),
            failed_logins: FailedLoginLimits {
                per_client: 0,
                per_address: 0,
            },
            trusted_proxies: Vec::new(),
            tls: None,
            limits: ConnectionLimits::default(),
            metrics: true,
        }
    }
}

impl Setup {
    /// A setup whose server reads `clock`.
    pub(crate) fn with_clock(clock: Arc<ManualClock>) -> Setup {
        Setup {
            clock,
            ..Setup::default()
        }
    }

    /// A setup whose server never polls the change log (nor hears notices) while a test runs:
    /// what it serves after a write it answered is then what it applied before answering, and
    /// nothing else.
    pub(crate) fn without_polling() -> Setup {
        Setup {
            refresh_interval: Duration::from_secs(3600),
            hears_notices: false,
            maintenance_interval: Duration::from_secs(3600),
            ..Setup::default()
        }
    }

    /// This setup, with the default tenant's first key made by the server at start (RS256), as
    /// in a new deployment: for tests about that key or the default algorithm.
    pub(crate) fn server_made_key(self) -> Setup {
        Setup {
            first_key: None,
            ..self
        }
    }

    /// This setup, with failed client authentications throttled as a server does by
    /// default.
    pub(crate) fn with_login_throttling(self) -> Setup {
        Setup {
            failed_logins: FailedLoginLimits::default(),
            ..self
        }
    }

    /// This setup, with maintenance only at start: key life cycle steps that happen anyway are
    /// then a node's own doing, not a maintenance tick's.
    pub(crate) fn without_maintenance(self) -> Setup {
        Setup {
            maintenance_interval: Duration::from_secs(3600),
            ..self
        }
    }
}

fn settings(setup: &Setup) -> ServerSettings {
    ServerSettings {
        max_staleness: latchkey_server::freshness::DEFAULT_MAX_STALENESS,
        listen: "127.0.0.1:0".into(),
        issuer: setup.issuer.clone(),
        refresh_interval: setup.refresh_interval,
        maintenance_interval: setup.maintenance_interval,
        key_rotation: setup.key_rotation,
        strict_hosts: setup.strict_hosts,
        failed_logins: setup.failed_logins,
        trusted_proxies: setup.trusted_proxies.clone(),
        tls: setup.tls.clone(),
        limits: setup.limits,
        metrics_listen: setup.metrics.then(|| "127.0.0.1:0".to_owned()),
    }
}

/// Starts the real server in-process on a new temporary database.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Setup::default()).await
}

/// A server that never polls the change log (`Setup::without_polling`), and an admin token of
/// an app of `default`, seeded before the server started.
pub(crate) async fn spawn_unpolled_app_with_admin() -> (TestApp, String) {
    let app = spawn_seeded(Setup::without_polling(), async |seed| {
        seed.app(new_app("ops").scopes(&["latchkey:admin"])).await
    })
    .await;
    let (app, ops) = app;
    let token = app
        .token_for(&ops, Some("latchkey:admin"))
        .await
        .access_token();
    (app, token)
}

/// `spawn_app` with another configured issuer.
pub(crate) async fn spawn_app_with_issuer(issuer: &str) -> TestApp {
    spawn_app_with(Setup {
        issuer: issuer.to_owned(),
        ..Setup::default()
    })
    .await
}

/// `spawn_app` with a given setup. The master key is written where the CLI looks for it when
/// none is given (beside the database), so the CLI and the server share it.
pub(crate) async fn spawn_app_with(setup: Setup) -> TestApp {
    spawn_app_in(
        tempfile::tempdir().expect("creating a temporary directory"),
        setup,
    )
    .await
}

/// `spawn_app_with`, its SQLite database and master key in `dir` (a folder on a file system of
/// the test's choosing).
pub(crate) async fn spawn_app_in(dir: TempDir, setup: Setup) -> TestApp {
    let (database, store) = prepare(dir, &setup).await;
    start(database, store, setup).await
}

/// A server whose database `seeding` fills before it starts: the server's first snapshot holds
/// what was seeded, with no wait for the change log. Returns what `seeding` returned.
pub(crate) async fn spawn_seeded<T>(
    setup: Setup,
    seeding: impl AsyncFnOnce(&Seeder) -> T,
) -> (TestApp, T) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    spawn_seeded_in(dir, setup, seeding).await
}

/// `spawn_seeded`, its SQLite database and master key in `dir`.
pub(crate) async fn spawn_seeded_in<T>(
    dir: TempDir,
    setup: Setup,
    seeding: impl AsyncFnOnce(&Seeder) -> T,
) -> (TestApp, T) {
    let (database, store) = prepare(dir, &setup).await;
    let seeder = Seeder::on(Arc::clone(&store), database.master_key_file());
    let seeded = seeding(&seeder).await;
    let app = start(database, store, setup).await;
    app.seeder
        .set(seeder)
        .unwrap_or_else(|_| unreachable!("a new app has no seeder yet"));
    (app, seeded)
}

/// A database with its master key (an SQLite one in `dir`), holding the default tenant's first
/// key if the setup names its algorithm; and the test's connection to that database.
async fn prepare(dir: TempDir, setup: &Setup) -> (TestDatabase, Arc<dyn latchkey_store::Store>) {
    init_logging();
    let (database, store) = TestDatabase::migrated_in(dir).await;
    if let Some(alg) = setup.first_key {
        store_first_key(&*store, database.master_key_file(), alg).await;
    }
    (database, store)
}

async fn start(
    database: TestDatabase,
    store: Arc<dyn latchkey_store::Store>,
    setup: Setup,
) -> TestApp {
    let db_url = database.url().to_owned();
    let master_key_file = database.master_key_file().to_path_buf();
    let server = Node::start(&db_url, &master_key_file, &setup).await;
    TestApp {
        http: Http::new(server.local_addr()),
        db_url,
        master_key_file,
        setup,
        server: Some(server),
        seeder: tokio::sync::OnceCell::new(),
        store: tokio::sync::OnceCell::new_with(Some(store)),
        _database: database,
    }
}

impl TestApp {
    /// Stops the server gracefully and starts a new one on the same database (a new store
    /// connection, a new port): what an operator's restart does.
    pub(crate) async fn restart(&mut self) {
        let server = self.server.take().expect("the server is running");
        server.stop().await.expect("the server stopped cleanly");
        let server = Node::start(&self.db_url, &self.master_key_file, &self.setup).await;
        self.http = Http::new(server.local_addr());
        self.server = Some(server);
    }

    /// The URL of the server's `GET /metrics`.
    pub(crate) fn metrics_url(&self) -> String {
        let server = self.server.as_ref().expect("the server is running");
        let address = server.metrics_addr().expect("the server serves metrics");
        format!("http://{address}/metrics")
    }

    /// Stops the server gracefully (`RunningServer::stop`); requests to it fail from then on.
    pub(crate) async fn stop(&mut self) -> std::io::Result<()> {
        let server = self.server.take().expect("the server is running");
        server.stop().await
    }

    /// Starts a second server on the same database, master key file and setup: another node of
    /// the same deployment. The caller stops it.
    pub(crate) async fn start_peer(&self) -> Node {
        Node::start(&self.db_url, &self.master_key_file, &self.setup).await
    }

    /// The test's own connection to the test database, for what no command shows.
    pub(crate) async fn store(&self) -> Arc<dyn latchkey_store::Store> {
        let store = self
            .store
            .get_or_init(async || {
                latchkey_store::open(&self.db_url)
                    .await
                    .expect("opening the database")
            })
            .await;
        Arc::clone(store)
    }

    /// The default tenant's stored signing keys, newest first.
    pub(crate) async fn stored_keys(&self) -> Vec<latchkey_store::KeyRecord> {
        self.stored_keys_of(latchkey_store::DEFAULT_TENANT).await
    }

    /// A tenant's stored signing keys, newest first.
    pub(crate) async fn stored_keys_of(&self, tenant: &str) -> Vec<latchkey_store::KeyRecord> {
        self.store()
            .await
            .signing_keys(tenant)
            .await
            .expect("reading the signing keys")
    }

    /// The stored record of an app of the default tenant, secrets included.
    pub(crate) async fn stored_app(&self, client_id: &str) -> latchkey_store::AppRecord {
        self.store()
            .await
            .app(latchkey_store::DEFAULT_TENANT, client_id)
            .await
            .expect("reading the app")
            .expect("the app exists")
    }

    /// The master keys the server and the CLI share.
    pub(crate) fn master_keys(&self) -> MasterKeys {
        MasterKeys::from_file(self.master_key_file.clone()).expect("reading the master key file")
    }
}

/// Retries `attempt` every `POLL_EVERY` until it returns `Ok`, for at most `WAIT`; then fails
/// with `what` and the last observation.
pub(crate) async fn eventually<T>(
    what: &str,
    attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    eventually_within(WAIT, what, attempt).await
}

/// `eventually` with another deadline: for a wait whose end the test itself computes (such as
/// a scheduled instant plus some slack).
pub(crate) async fn eventually_within<T>(
    limit: Duration,
    what: &str,
    mut attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        let last = match attempt().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        if Instant::now() >= deadline {
            panic!("gave up after {limit:?} waiting for {what}; last observation: {last}");
        }
        tokio::time::sleep(POLL_EVERY.min(limit / 10)).await;
    }
}

/// Seconds since the unix epoch, by this process's clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64
}

/// Moves a test clock forward to `at` (a test clock never goes back).
pub(crate) fn advance_to(clock: &ManualClock, at: i64) {
    let now = clock.now();
    assert!(at >= now, "the clock reads {now}, past {at} already");
    clock.advance(at - now);
}
