//! The harness: `spawn_app` starts the real router in-process on an ephemeral 127.0.0.1 port with
//! a temporary SQLite file; `TestApp` sends HTTP requests to it and runs the `latchkey` binary on
//! the same database, as a user would. Waits poll with a bounded deadline (`eventually`); nothing
//! sleeps and then asserts.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use latchkey_keys::lifecycle::RotationPolicy;
use latchkey_manage::keys::MasterKeys;
use latchkey_server::{Clock, ManualClock, RunningServer, ServerSettings, SystemClock};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The issuer the in-process server is configured with.
pub(crate) const ISSUER: &str = "http://issuer.test";
/// The token endpoint path.
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";
/// The JWKS path.
pub(crate) const JWKS_PATH: &str = "/oauth2/jwks";
/// The exact content type of every JSON answer (pinned by the contract).
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// The challenge a 401 after HTTP Basic carries.
pub(crate) const BASIC_CHALLENGE: &str = "Basic realm=\"latchkey\"";
/// The form content type.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
/// How long a poll waits for a change to reach the server before failing.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How often a poll retries.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(50);

static LOGGING: Once = Once::new();

/// Logs of the in-process server go to the test output only when `TEST_LOG` is set (its value
/// is an env-filter directive; `1` means `debug`).
fn init_logging() {
    LOGGING.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let filter = if filter.is_empty() || filter == "1" {
                "debug".to_owned()
            } else {
                filter
            };
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

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

/// An HTTP answer, read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The status.
    pub(crate) status: StatusCode,
    /// The headers.
    pub(crate) headers: HeaderMap,
    /// The body as text (lossy).
    pub(crate) body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("reading the response body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// One header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("header is visible ASCII"))
    }

    /// The `error` member of an error body.
    pub(crate) fn error(&self) -> String {
        match self.json().get("error") {
            Some(Value::String(code)) => code.clone(),
            other => panic!(
                "no string `error` in the body ({other:?}): status {} body {:?}",
                self.status, self.body
            ),
        }
    }

    /// The access token of a success body; panics with the answer otherwise.
    pub(crate) fn access_token(&self) -> String {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected a token, got {self:?}"
        );
        self.json()["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    /// Asserts an OAuth error answer: status, JSON content type and `error` code.
    pub(crate) fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {self:?}");
        assert_eq!(
            self.header("content-type"),
            Some(JSON_CONTENT_TYPE),
            "content type of {self:?}"
        );
        assert_eq!(self.error(), code, "error code of {self:?}");
    }

    /// Whether this is a 401 `invalid_client`.
    pub(crate) fn is_invalid_client(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED && self.body.contains("invalid_client")
    }
}

/// A server under test with its own database.
pub(crate) struct TestApp {
    /// Where the server listens.
    pub(crate) address: SocketAddr,
    /// The database URL shared by the server and the CLI.
    pub(crate) db_url: String,
    /// An HTTP client that does not follow redirects.
    pub(crate) client: reqwest::Client,
    /// The master key file beside the database: the one the CLI finds on its own.
    pub(crate) master_key_file: PathBuf,
    setup: Setup,
    server: Option<RunningServer>,
    /// Keeps the database directory alive as long as the app.
    _dir: TempDir,
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
    /// How often the server runs maintenance (key life cycle steps, purges).
    pub(crate) maintenance_interval: Duration,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            issuer: ISSUER.to_owned(),
            clock: Arc::new(SystemClock),
            key_rotation: RotationPolicy::every_days(30),
            strict_hosts: false,
            refresh_interval: Duration::from_millis(50),
            maintenance_interval: Duration::from_millis(50),
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

    /// A setup whose server never polls the change log while a test runs: what it serves after
    /// a write it answered is then what it applied before answering, and nothing else.
    pub(crate) fn without_polling() -> Setup {
        Setup {
            refresh_interval: Duration::from_secs(3600),
            maintenance_interval: Duration::from_secs(3600),
            ..Setup::default()
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
        listen: "127.0.0.1:0".into(),
        issuer: setup.issuer.clone(),
        refresh_interval: setup.refresh_interval,
        maintenance_interval: setup.maintenance_interval,
        key_rotation: setup.key_rotation,
        strict_hosts: setup.strict_hosts,
    }
}

async fn start_server(db_url: &str, master_key_file: &Path, setup: &Setup) -> RunningServer {
    let store = latchkey_store::open(db_url)
        .await
        .expect("opening the test database");
    let master_keys =
        MasterKeys::from_file(master_key_file.to_path_buf()).expect("reading the master key file");
    RunningServer::start(
        store,
        Arc::new(master_keys),
        &settings(setup),
        Arc::clone(&setup.clock),
    )
    .await
    .expect("starting the server")
}

/// Starts the real server in-process on a new temporary database.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Setup::default()).await
}

/// A server that never polls the change log (`Setup::without_polling`), and an admin token of
/// an app of `default` (made with the CLI, loaded by a restart).
pub(crate) async fn spawn_unpolled_app_with_admin() -> (TestApp, String) {
    let mut app = spawn_app_with(Setup::without_polling()).await;
    let ops = app.cli_json(&[
        "app",
        "create",
        "--name",
        "ops",
        "--scope",
        "latchkey:admin",
        "--json",
    ]);
    app.restart().await;
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

/// `spawn_app_with`, its database and master key in `dir` (a folder on a file system of the
/// test's choosing).
pub(crate) async fn spawn_app_in(dir: TempDir, setup: Setup) -> TestApp {
    init_logging();
    let db_path = dir.path().join("latchkey.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let master_key_file = dir.path().join("latchkey.db.master-key");
    std::fs::write(&master_key_file, latchkey_keys::master_key::generate_text())
        .expect("writing the master key");
    let server = start_server(&db_url, &master_key_file, &setup).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("building the HTTP client");
    TestApp {
        address: server.local_addr(),
        db_url,
        client,
        master_key_file,
        setup,
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    /// `http://ADDR` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The token endpoint's URL.
    pub(crate) fn token_url(&self) -> String {
        self.url(TOKEN_PATH)
    }

    /// Stops the server gracefully and starts a new one on the same database (a new store
    /// connection, a new port): what an operator's restart does.
    pub(crate) async fn restart(&mut self) {
        let server = self.server.take().expect("the server is running");
        server.stop().await.expect("the server stopped cleanly");
        let server = start_server(&self.db_url, &self.master_key_file, &self.setup).await;
        self.address = server.local_addr();
        self.server = Some(server);
    }

    /// Sends a request and reads the whole answer.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("sending the request")).await
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    /// Any method on `path` with no body.
    pub(crate) async fn request(&self, method: Method, path: &str) -> Reply {
        self.send(self.client.request(method, self.url(path))).await
    }

    /// `POST /oauth2/token` with a form body (credentials, if any, in the body).
    pub(crate) async fn post_token(&self, form: &[(&str, &str)]) -> Reply {
        self.send(self.client.post(self.token_url()).form(form))
            .await
    }

    /// `POST /oauth2/token` with `client_secret_basic`: id and secret form-urlencoded, then
    /// base64 (RFC 6749 §2.3.1).
    pub(crate) async fn post_token_basic(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        self.post_token_authorization(&basic_header(id, secret), form)
            .await
    }

    /// `POST /oauth2/token` with a form body and the given `Authorization` header value.
    pub(crate) async fn post_token_authorization(
        &self,
        authorization: &str,
        form: &[(&str, &str)],
    ) -> Reply {
        self.send(
            self.client
                .post(self.token_url())
                .header("authorization", authorization)
                .form(form),
        )
        .await
    }

    /// `POST /oauth2/token` with raw headers (bytes, so they may be invalid UTF-8) and a raw body.
    pub(crate) async fn post_token_raw(&self, headers: &[(&str, &[u8])], body: Vec<u8>) -> Reply {
        let mut request = self.client.post(self.token_url());
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
            let value =
                HeaderValue::from_bytes(value).expect("a header value without CR, LF or NUL");
            request = request.header(name, value);
        }
        self.send(request.body(body)).await
    }

    /// Writes `request` as raw bytes on a new connection and returns the status code of the
    /// answer (`None` when the server closed without one). For requests an HTTP client will not
    /// send: chunked bodies, truncated bodies, broken framing. The request should ask for
    /// `Connection: close` so that the server ends the answer by closing. With `close_write`,
    /// the client then shuts its sending side, so a truncated body meets end-of-stream; the
    /// server may take that as an aborted request and close without an answer.
    pub(crate) async fn raw_http(&self, request: Vec<u8>, close_write: bool) -> Option<u16> {
        use std::io::{Read, Write};
        let address = self.address;
        // Blocking socket calls run off the runtime so that the in-process server keeps serving.
        tokio::task::spawn_blocking(move || {
            let mut stream =
                std::net::TcpStream::connect(address).expect("connecting to the server");
            stream
                .set_read_timeout(Some(WAIT))
                .expect("setting a read timeout");
            // The server may answer and close before reading everything; what matters is its answer.
            let _ = stream.write_all(&request);
            if close_write {
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
            let mut response = Vec::new();
            let _ = stream.read_to_end(&mut response);
            let head = String::from_utf8_lossy(&response);
            let status = head
                .strip_prefix("HTTP/1.1 ")
                .or_else(|| head.strip_prefix("HTTP/1.0 "))?;
            status.get(..3)?.parse().ok()
        })
        .await
        .expect("the raw HTTP exchange")
    }

    /// A client_credentials request with `client_secret_post` and an optional scope.
    pub(crate) async fn token_for(&self, app: &Value, scope: Option<&str>) -> Reply {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id(app)),
            ("client_secret", client_secret(app)),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token(&form).await
    }

    /// An admin API request with an optional bearer token and JSON body.
    pub(crate) async fn admin_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    /// An admin API request that must answer `status`; its JSON body (`Null` when empty).
    pub(crate) async fn admin_ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        status: u16,
    ) -> Value {
        let reply = self
            .admin_call(method.clone(), path, Some(token), body)
            .await;
        assert_eq!(reply.status.as_u16(), status, "{method} {path}: {reply:?}");
        if reply.body.is_empty() {
            Value::Null
        } else {
            reply.json()
        }
    }

    /// `GET /oauth2/jwks` as JSON, after checking it is a 200.
    pub(crate) async fn get_jwks(&self) -> Value {
        let reply = self.get(JWKS_PATH).await;
        assert_eq!(reply.status, StatusCode::OK, "JWKS answer {reply:?}");
        reply.json()
    }

    /// Runs `latchkey --database <db_url> ARGS...` and returns what it did.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        latchkey_command()
            .arg("--database")
            .arg(&self.db_url)
            .args(args)
            .output()
            .expect("running the latchkey binary")
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

    /// `latchkey app create ARGS... --json`, then waits until the running server knows the app
    /// (it follows the change log). Returns the printed object, secret included.
    pub(crate) async fn create_app(&self, args: &[&str]) -> Value {
        let mut full = vec!["app", "create"];
        full.extend_from_slice(args);
        full.push("--json");
        let app = self.cli_json(&full);
        self.wait_until_known(&app).await;
        app
    }

    /// An admin app of `default` (`ops`, with `latchkey:admin`) and a bearer token for it.
    pub(crate) async fn admin_token(&self) -> (Value, String) {
        let ops = self
            .create_app(&["--name", "ops", "--scope", "latchkey:admin"])
            .await;
        let token = self
            .token_for(&ops, Some("latchkey:admin"))
            .await
            .access_token();
        (ops, token)
    }

    /// Polls the token endpoint until the server answers anything but `invalid_client` for the
    /// app's own credentials, i.e. until the app has reached the server's snapshot.
    pub(crate) async fn wait_until_known(&self, app: &Value) {
        let id = client_id(app).to_owned();
        let secret = app["client_secret"].as_str().map(str::to_owned);
        self.eventually(&format!("app {id} to reach the server"), async || {
            let mut form = vec![
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
            ];
            if let Some(secret) = &secret {
                form.push(("client_secret", secret.as_str()));
            }
            let reply = self.post_token(&form).await;
            if reply.is_invalid_client() {
                Err(format!("{reply:?}"))
            } else {
                Ok(())
            }
        })
        .await;
    }

    /// Retries `attempt` every `POLL_EVERY` until it returns `Ok`, for at most `WAIT`; then
    /// fails with `what` and the last observation.
    pub(crate) async fn eventually<T>(
        &self,
        what: &str,
        attempt: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        eventually(what, attempt).await
    }

    /// Polls a token request with this form until `accept` holds of the answer.
    pub(crate) async fn token_until(
        &self,
        what: &str,
        form: &[(&str, &str)],
        accept: impl Fn(&Reply) -> bool,
    ) -> Reply {
        self.eventually(what, async || {
            let reply = self.post_token(form).await;
            if accept(&reply) {
                Ok(reply)
            } else {
                Err(format!("{reply:?}"))
            }
        })
        .await
    }
}

impl TestApp {
    /// `POST /oauth2/introspect` with HTTP Basic credentials.
    pub(crate) async fn post_introspect(&self, id: &str, secret: &str, token: &str) -> Reply {
        self.send(
            self.client
                .post(self.url("/oauth2/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)]),
        )
        .await
    }

    /// Introspects `token` as `asking` (an app JSON from `create_app`); the answer must be 200.
    pub(crate) async fn introspect(&self, asking: &Value, token: &str) -> Value {
        let reply = self
            .post_introspect(client_id(asking), client_secret(asking), token)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "introspection answer {reply:?}"
        );
        reply.json()
    }

    /// `POST /oauth2/revoke` with HTTP Basic credentials.
    pub(crate) async fn post_revoke(&self, id: &str, secret: &str, token: &str) -> Reply {
        self.send(
            self.client
                .post(self.url("/oauth2/revoke"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)]),
        )
        .await
    }

    /// Polls introspection until `token` is active (`true`) or inactive (`false`) for `asking`.
    pub(crate) async fn wait_for_active(&self, asking: &Value, token: &str, active: bool) -> Value {
        self.eventually(
            &format!("the token to introspect active={active}"),
            async || {
                let answer = self.introspect(asking, token).await;
                if answer["active"] == active {
                    Ok(answer)
                } else {
                    Err(answer.to_string())
                }
            },
        )
        .await
    }

    /// The default tenant's stored signing keys, newest first.
    pub(crate) async fn stored_keys(&self) -> Vec<latchkey_store::KeyRecord> {
        let store = latchkey_store::open(&self.db_url)
            .await
            .expect("opening the database");
        store
            .signing_keys(latchkey_store::DEFAULT_TENANT)
            .await
            .expect("reading the signing keys")
    }

    /// Signs `claims` with the stored key `kid`, unsealed with the master key: a token the
    /// server would never issue, made with a key it trusts.
    pub(crate) async fn forge_with_stored_key(&self, kid: &str, claims: &Value) -> String {
        let record = self
            .stored_keys()
            .await
            .into_iter()
            .find(|key| key.kid == kid)
            .unwrap_or_else(|| panic!("no stored key {kid}"));
        let master_keys = MasterKeys::from_file(self.master_key_file.clone())
            .expect("reading the master key file");
        let pkcs8 = master_keys.open(&record).expect("unsealing the key");
        let alg = record.alg.parse().expect("a known algorithm");
        latchkey_keys::Signer::from_pkcs8(kid, alg, &pkcs8)
            .expect("parsing the key")
            .sign_jwt(claims)
            .expect("signing")
    }

    /// Starts a second server on the same database, master key file and setup: another node of
    /// the same deployment. The caller stops it.
    pub(crate) async fn start_peer(&self) -> RunningServer {
        start_server(&self.db_url, &self.master_key_file, &self.setup).await
    }

    /// The stored record of an app of the default tenant, secrets included.
    pub(crate) async fn stored_app(&self, client_id: &str) -> latchkey_store::AppRecord {
        latchkey_store::open(&self.db_url)
            .await
            .expect("opening the database")
            .app(latchkey_store::DEFAULT_TENANT, client_id)
            .await
            .expect("reading the app")
            .expect("the app exists")
    }

    /// `latchkey key list --json`.
    pub(crate) fn key_list(&self) -> Vec<Value> {
        self.cli_json(&["key", "list", "--json"])
            .as_array()
            .expect("a list of keys")
            .clone()
    }

    /// The `key list --json` entry of `kid`.
    pub(crate) fn listed_key(&self, kid: &str) -> Value {
        let keys = self.key_list();
        keys.iter()
            .find(|key| key["kid"] == kid)
            .unwrap_or_else(|| panic!("key {kid} is not listed: {keys:?}"))
            .clone()
    }

    /// The kids in the JWKS.
    pub(crate) async fn jwks_kids(&self) -> Vec<String> {
        self.get_jwks().await["keys"]
            .as_array()
            .expect("a keys array")
            .iter()
            .map(|key| key["kid"].as_str().expect("a kid").to_owned())
            .collect()
    }

    /// Polls the JWKS until `kid` is published (`true`) or gone from it (`false`).
    pub(crate) async fn wait_for_published(&self, kid: &str, published: bool) {
        self.eventually(
            &format!("key {kid} to be published={published} in the JWKS"),
            async || {
                let kids = self.jwks_kids().await;
                if kids.iter().any(|listed| listed == kid) == published {
                    Ok(())
                } else {
                    Err(format!("{kids:?}"))
                }
            },
        )
        .await;
    }
}

/// Requests sent as if to another host: the connection goes to the test server, the `Host`
/// header names `host` (it is what routes a request to its tenant).
impl TestApp {
    /// A request to `path` with the `Host` header set to `host`.
    pub(crate) fn at_host(
        &self,
        method: Method,
        host: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("host", host)
    }

    /// `GET path` at `host`.
    pub(crate) async fn get_at(&self, host: &str, path: &str) -> Reply {
        self.send(self.at_host(Method::GET, host, path)).await
    }

    /// `POST /oauth2/token` at `host` with a form body.
    pub(crate) async fn post_token_at(&self, host: &str, form: &[(&str, &str)]) -> Reply {
        self.send(self.at_host(Method::POST, host, TOKEN_PATH).form(form))
            .await
    }

    /// `token_for` at `host`.
    pub(crate) async fn token_for_at(&self, host: &str, app: &Value, scope: Option<&str>) -> Reply {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id(app)),
            ("client_secret", client_secret(app)),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.post_token_at(host, &form).await
    }

    /// The JWKS at `host` as JSON, after checking it is a 200.
    pub(crate) async fn jwks_at(&self, host: &str) -> Value {
        let reply = self.get_at(host, JWKS_PATH).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "JWKS answer at {host}: {reply:?}"
        );
        reply.json()
    }

    /// The kids in the JWKS at `host`.
    pub(crate) async fn jwks_kids_at(&self, host: &str) -> Vec<String> {
        self.jwks_at(host).await["keys"]
            .as_array()
            .expect("a keys array")
            .iter()
            .map(|key| key["kid"].as_str().expect("a kid").to_owned())
            .collect()
    }

    /// The `issuer` of the discovery document at `host`, or the answer when it is not a 200.
    pub(crate) async fn issuer_at(&self, host: &str) -> Result<String, String> {
        let reply = self
            .get_at(host, "/.well-known/oauth-authorization-server")
            .await;
        if reply.status != StatusCode::OK {
            return Err(format!("{reply:?}"));
        }
        reply.json()["issuer"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no issuer in {}", reply.body))
    }

    /// Polls discovery at `host` until it names `issuer`: the host is routed to the tenant with
    /// that issuer.
    pub(crate) async fn wait_for_issuer_at(&self, host: &str, issuer: &str) {
        self.eventually(
            &format!("{host} to answer as {issuer}"),
            async || match self.issuer_at(host).await {
                Ok(seen) if seen == issuer => Ok(()),
                other => Err(format!("{other:?}")),
            },
        )
        .await;
    }

    /// `POST /oauth2/introspect` at `host` as `asking` (an app JSON); the answer must be 200.
    pub(crate) async fn introspect_at(&self, host: &str, asking: &Value, token: &str) -> Value {
        let reply = self
            .send(
                self.at_host(Method::POST, host, "/oauth2/introspect")
                    .basic_auth(client_id(asking), Some(client_secret(asking)))
                    .form(&[("token", token)]),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "introspection answer at {host}: {reply:?}"
        );
        reply.json()
    }

    /// `POST /oauth2/revoke` at `host` as `asking` (an app JSON).
    pub(crate) async fn revoke_at(&self, host: &str, asking: &Value, token: &str) -> Reply {
        self.send(
            self.at_host(Method::POST, host, "/oauth2/revoke")
                .basic_auth(client_id(asking), Some(client_secret(asking)))
                .form(&[("token", token)]),
        )
        .await
    }

    /// `latchkey tenant create NAME --domain D... ARGS... --json`, then waits until `host`
    /// (normally its first domain) answers with the tenant's issuer. Returns the printed object.
    pub(crate) async fn create_tenant(&self, name: &str, domains: &[&str], args: &[&str]) -> Value {
        let mut full = vec!["tenant", "create", name];
        for domain in domains {
            full.extend(["--domain", domain]);
        }
        full.extend_from_slice(args);
        full.push("--json");
        let tenant = self.cli_json(&full);
        let issuer = tenant["issuer"]
            .as_str()
            .unwrap_or_else(|| panic!("no issuer in {tenant}"))
            .to_owned();
        self.wait_for_issuer_at(domains[0], &issuer).await;
        tenant
    }

    /// `latchkey app create --tenant TENANT ARGS... --json`, then waits until the app gets
    /// anything but `invalid_client` at `host`. Returns the printed object, secret included.
    pub(crate) async fn create_app_at(&self, tenant: &str, host: &str, args: &[&str]) -> Value {
        let mut full = vec!["app", "create", "--tenant", tenant];
        full.extend_from_slice(args);
        full.push("--json");
        let app = self.cli_json(&full);
        self.eventually(
            &format!("app {} to reach tenant {tenant}", client_id(&app)),
            async || {
                let reply = self.token_for_at(host, &app, None).await;
                if reply.is_invalid_client() {
                    Err(format!("{reply:?}"))
                } else {
                    Ok(())
                }
            },
        )
        .await;
        app
    }

    /// A tenant's stored signing keys, newest first.
    pub(crate) async fn stored_keys_of(&self, tenant: &str) -> Vec<latchkey_store::KeyRecord> {
        self.store()
            .await
            .signing_keys(tenant)
            .await
            .expect("reading the signing keys")
    }

    /// A new connection to the test database, for what no command shows.
    pub(crate) async fn store(&self) -> std::sync::Arc<dyn latchkey_store::Store> {
        latchkey_store::open(&self.db_url)
            .await
            .expect("opening the database")
    }
}

/// A time the CLI prints (RFC 3339) as unix seconds.
pub(crate) fn unix_seconds(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a printed time: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|error| panic!("{text:?} is not RFC 3339: {error}"))
        .unix_timestamp()
}

/// Moves a test clock forward to `at` (a test clock never goes back).
pub(crate) fn advance_to(clock: &ManualClock, at: i64) {
    let now = clock.now();
    assert!(at >= now, "the clock reads {now}, past {at} already");
    clock.advance(at - now);
}

/// Claims shaped like latchkey's, for forged tokens.
pub(crate) fn claims_for(client_id: &str, issuer: &str, iat: i64, exp: i64) -> Value {
    serde_json::json!({
        "sub": client_id, "aud": client_id, "nbf": iat, "scope": [], "iss": issuer,
        "exp": exp, "iat": iat, "jti": uuid_like(iat),
    })
}

fn uuid_like(seed: i64) -> String {
    format!(
        "00000000-0000-4000-8000-{:012x}",
        seed.unsigned_abs() % 0x1_0000_0000_0000
    )
}

/// Retries `attempt` every `POLL_EVERY` until it returns `Ok`, for at most `WAIT`; then fails
/// with `what` and the last observation.
pub(crate) async fn eventually<T>(
    what: &str,
    attempt: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    eventually_within(WAIT, what, attempt).await
}

/// `eventually` with another deadline: for changes the contract promises within a given time.
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

/// A process output for failure messages.
pub(crate) fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The names of the files in `dir`.
pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("listing the folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The `client_id` of an app object printed by the CLI.
pub(crate) fn client_id(app: &Value) -> &str {
    app["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_id in {app}"))
}

/// The `client_secret` of an app object printed by the CLI.
pub(crate) fn client_secret(app: &Value) -> &str {
    app["client_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_secret in {app}"))
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B): unreserved
/// characters stay, space becomes `+`, everything else is `%XX`.
pub(crate) fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// Every byte as `%XX`, unreserved ones included (still a valid form encoding).
pub(crate) fn percent_encode_all(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

/// `Basic base64(form(id):form(secret))` (RFC 6749 §2.3.1).
pub(crate) fn basic_header(id: &str, secret: &str) -> String {
    basic_header_raw(&form_encode(id), &form_encode(secret))
}

/// `Basic base64(id:secret)` with the parts taken as given (already encoded, or deliberately not).
pub(crate) fn basic_header_raw(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Whether `text` is a hyphenated UUID (8-4-4-4-12 hex digits).
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// The raw JSON text of a JWT's header and its claims as JSON.
pub(crate) fn jwt_parts(token: &str) -> (String, Value) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(
        segments.len(),
        3,
        "a compact JWS has three segments: {token}"
    );
    let header = URL_SAFE_NO_PAD
        .decode(segments[0])
        .expect("the header is base64url without padding");
    let claims = URL_SAFE_NO_PAD
        .decode(segments[1])
        .expect("the claims are base64url without padding");
    let header = String::from_utf8(header).expect("the header is UTF-8");
    let claims = serde_json::from_slice(&claims).expect("the claims are JSON");
    (header, claims)
}

/// The `kid` of a JWT's header.
pub(crate) fn jwt_kid(token: &str) -> String {
    let (header, _) = jwt_parts(token);
    let header: Value = serde_json::from_str(&header).expect("the header is JSON");
    header["kid"]
        .as_str()
        .expect("the header has a string kid")
        .to_owned()
}

/// Verifies `token` independently, with `jsonwebtoken`: RS256 only, against the JWKS key named
/// by its `kid`, with `aud` = `audience` and `iss` = `issuer`. Returns the claims.
pub(crate) fn verify_token(
    jwks: &Value,
    token: &str,
    audience: &str,
    issuer: &str,
) -> Result<Value, String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let header =
        jsonwebtoken::decode_header(token).map_err(|error| format!("bad header: {error}"))?;
    let kid = header.kid.ok_or("the token has no kid")?;
    let keys = jwks["keys"]
        .as_array()
        .ok_or("the JWKS has no keys array")?;
    let jwk = keys
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .ok_or(format!("kid {kid} is not in the JWKS"))?;
    let member = |name: &str| jwk[name].as_str().ok_or(format!("the JWK has no {name}"));
    let (key, algorithm) = match jwk["kty"].as_str() {
        Some("RSA") => (
            DecodingKey::from_rsa_components(member("n")?, member("e")?),
            Algorithm::RS256,
        ),
        Some("EC") => (
            DecodingKey::from_ec_components(member("x")?, member("y")?),
            Algorithm::ES256,
        ),
        Some("OKP") => (
            DecodingKey::from_ed_components(member("x")?),
            Algorithm::EdDSA,
        ),
        other => return Err(format!("unknown key type {other:?}")),
    };
    let key = key.map_err(|error| format!("bad JWK: {error}"))?;
    if header.alg != algorithm {
        return Err(format!(
            "header alg {:?} is not the key's {algorithm:?}",
            header.alg
        ));
    }
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|error| format!("verification failed: {error}"))
}

/// Seconds since the unix epoch, by this process's clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs() as i64
}

/// A small tmpfs mounted over a temporary folder, so that a test can fill the disk under a
/// database. Needs root (CI runs as root): `mount` returns `None` with a note when it cannot
/// mount outside CI, and fails the test under `CI=true`, where a skipped test would hide a gap.
/// Unmounted on drop, after whatever uses the folder (declare it first).
pub(crate) struct Tmpfs {
    dir: Option<TempDir>,
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it, e.g. `2m`).
    pub(crate) fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let path = dir.path().to_path_buf();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs {
                dir: Some(dir),
                path,
            }),
            other => {
                let why = match other {
                    Ok(output) => describe(&output),
                    Err(error) => error.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "mounting a tmpfs failed under CI (which runs as root): {why}"
                );
                eprintln!("skipped: this test mounts a tmpfs, which needs root ({why})");
                None
            }
        }
    }

    /// The mounted folder, as a `TempDir` for `spawn_app_in` (which keeps it; removing what is
    /// in it at the end is harmless, the unmount follows).
    pub(crate) fn folder(&mut self) -> TempDir {
        self.dir.take().expect("the folder is handed out once")
    }

    /// A path in the mounted folder.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Fills the file system with a file named `name` (dd until the disk is full).
    pub(crate) fn fill(&self, name: &str) {
        let output = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.path(name).display()))
            .arg("bs=4k")
            .output()
            .expect("running dd");
        // dd stops with an error at "No space left on device": that is the point.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("No space left on device"),
            "dd did not fill the disk: {}",
            describe(&output)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).output();
        let _ = std::fs::remove_dir(&self.path);
    }
}

impl TestApp {
    /// Polls for `app`'s token (at the default host) until its header's `typ` is `typ`: a
    /// tenant's new token profile has reached the server. Returns that token.
    pub(crate) async fn token_with_typ(
        &self,
        app: &Value,
        scope: Option<&str>,
        typ: &str,
    ) -> String {
        self.eventually(&format!("a token with typ {typ}"), async || {
            let reply = self.token_for(app, scope).await;
            if reply.status != StatusCode::OK {
                return Err(format!("{reply:?}"));
            }
            let token = reply.access_token();
            let (header, _) = jwt_parts(&token);
            let header: Value = serde_json::from_str(&header).expect("the header is JSON");
            if header["typ"] == typ {
                Ok(token)
            } else {
                Err(format!("header {header}"))
            }
        })
        .await
    }
}

/// The JavaScript verifiers (`tests/js`: a pinned package.json and package-lock.json and the
/// scripts) installed with `npm ci` into `target/js-verifiers`, once per test process and again
/// whenever the lock file changes. `None`, after saying why, when node or npm is missing,
/// unless `CI` is `true`: there a missing verifier fails the test.
static JS_VERIFIERS: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

fn js_verifiers() -> Option<&'static Path> {
    JS_VERIFIERS.get_or_init(install_js_verifiers).as_deref()
}

fn install_js_verifiers() -> Option<PathBuf> {
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            let why = format!("{tool} is not installed: the JavaScript verifiers cannot run");
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("{why} (CI=true requires them)");
            }
            eprintln!("skipping the JavaScript verifiers: {why}");
            return None;
        }
    }
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target temporary directory is inside target/")
        .join("js-verifiers");
    std::fs::create_dir_all(&target).expect("creating target/js-verifiers");
    for entry in std::fs::read_dir(&sources).expect("reading tests/js") {
        let path = entry.expect("a tests/js entry").path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, target.join(name)).expect("copying a JavaScript verifier file");
        }
    }
    // npm ci replaces node_modules, so it runs only when the installed lock is not this one.
    let lock = std::fs::read(target.join("package-lock.json")).expect("reading the lock file");
    let stamp = target.join("node_modules/.latchkey-installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        let output = Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&target)
            .output()
            .expect("running npm ci");
        assert!(
            output.status.success(),
            "npm ci --prefix {} failed: {}",
            target.display(),
            describe(&output)
        );
        std::fs::write(&stamp, &lock).expect("recording the installed lock file");
    }
    Some(target)
}

/// Runs a JavaScript verifier script from `tests/js` with node and these environment
/// variables, and parses the JSON line it prints. `None` when the verifiers cannot run here
/// (see `js_verifiers`). Runs off the async runtime, so the in-process server keeps answering
/// the script's requests.
pub(crate) async fn run_js_verifier(script: &str, env: &[(&str, &str)]) -> Option<Value> {
    let dir = js_verifiers()?;
    let script = dir.join(script);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .output()
            .expect("running node")
    })
    .await
    .expect("the node process's thread");
    assert!(
        output.status.success(),
        "node failed: {}",
        describe(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(line).unwrap_or_else(|error| {
        panic!(
            "the verifier printed no JSON ({error}): {}",
            describe(&output)
        )
    }))
}

/// A temporary directory and the URL of a database file in it.
pub(crate) fn database() -> (TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db_url = format!("sqlite://{}", dir.path().join("latchkey.db").display());
    (dir, db_url)
}

/// Runs the CLI on `db_url` (it must succeed) and parses its stdout as JSON.
pub(crate) fn cli_json_on(db_url: &str, args: &[&str]) -> Value {
    let output = latchkey_command()
        .arg("--database")
        .arg(db_url)
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
    _dir: Option<TempDir>,
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

    /// `new` with a prepared command (its environment set by the caller).
    pub(crate) fn with(
        mut command: Command,
        db_url: &str,
        log: PathBuf,
        args: &[&str],
    ) -> Launched {
        let stderr = std::fs::File::create(&log).expect("creating the log file");
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
    pub(crate) fn ready(mut self, dir: Option<TempDir>) -> (Served, mpsc::Receiver<String>) {
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
            _dir: dir,
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
    pub(crate) fn start(dir: TempDir, db_url: String) -> Served {
        let log = dir.path().join("serve.log");
        Launched::new(&db_url, log, &SERVE_ARGS).ready(Some(dir)).0
    }

    /// The address from the first line, `latchkey listening on http://ADDR`.
    /// `start` with this log filter (`LATCHKEY_LOG`), whatever `TEST_LOG` says: for tests that
    /// read the log.
    pub(crate) fn start_logging(dir: TempDir, db_url: String, filter: &str) -> Served {
        let log = dir.path().join("serve.log");
        let mut command = latchkey_command();
        command.env("LATCHKEY_LOG", filter);
        Launched::with(command, &db_url, log, &SERVE_ARGS)
            .ready(Some(dir))
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
    }
}
