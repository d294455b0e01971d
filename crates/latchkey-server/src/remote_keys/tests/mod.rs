//! `RemoteKeys` against HTTP servers the tests start on 127.0.0.1: an axum site that serves a
//! JWK Set and a discovery document and counts its hits, and raw TCP servers for the answers
//! axum would not give (none at all, a chunked body past the bound). Time is a `ManualClock`.

mod https;

use super::fetch::{Fetcher, Limits};
use super::*;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_manage::clock::ManualClock;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;

/// A JWK Set of Ed25519 keys with these kids (all the public key of RFC 8037 §A.2).
pub(super) fn jwks(kids: &[&str]) -> String {
    let keys: Vec<serde_json::Value> = kids
        .iter()
        .map(|kid| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

/// What the test site publishes, changed by the tests, and how often it was asked.
#[derive(Default)]
struct Site {
    published: Mutex<Published>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
    error_hits: AtomicUsize,
}

#[derive(Default)]
struct Published {
    jwks: String,
    cache_control: Option<String>,
    /// The `issuer` and `jwks_uri` of the discovery document.
    issuer: String,
    jwks_uri: String,
}

impl Site {
    fn new(kids: &[&str]) -> Arc<Site> {
        let site = Arc::new(Site::default());
        site.publish(kids);
        site
    }

    fn published(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published.lock().expect("the site's lock")
    }

    fn publish(&self, kids: &[&str]) {
        self.published().jwks = jwks(kids);
    }

    fn jwks_hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }
}

async fn serve_jwks(State(site): State<Arc<Site>>) -> Response {
    site.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let published = site.published();
    let mut response = published.jwks.clone().into_response();
    if let Some(cache_control) = &published.cache_control {
        let value = HeaderValue::from_str(cache_control).expect("a header value");
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

async fn serve_discovery(State(site): State<Arc<Site>>) -> Response {
    site.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let published = site.published();
    serde_json::json!({"issuer": published.issuer, "jwks_uri": published.jwks_uri})
        .to_string()
        .into_response()
}

async fn serve_redirect() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/jwks")]).into_response()
}

async fn serve_large() -> Response {
    "x".repeat(300 * 1024).into_response()
}

async fn serve_error(State(site): State<Arc<Site>>) -> Response {
    site.error_hits.fetch_add(1, Ordering::SeqCst);
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

async fn serve_html() -> Response {
    "<html>not keys</html>".into_response()
}

/// The site on a port of 127.0.0.1, until `stop`.
struct TestServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    async fn start(site: &Arc<Site>) -> TestServer {
        TestServer::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), site).await
    }

    /// The site at `address`: port 0 for a new one, or the port of a stopped server.
    async fn start_at(address: SocketAddr, site: &Arc<Site>) -> TestServer {
        let listener = listen(address);
        let address = listener.local_addr().expect("the listener's address");
        {
            let mut published = site.published();
            published.issuer = format!("http://{address}");
            published.jwks_uri = format!("http://{address}/jwks");
        }
        let router = axum::Router::new()
            .route("/jwks", get(serve_jwks))
            .route("/.well-known/openid-configuration", get(serve_discovery))
            .route("/redirect", get(serve_redirect))
            .route("/large", get(serve_large))
            .route("/error", get(serve_error))
            .route("/html", get(serve_html))
            .with_state(site.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestServer { address, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops listening (the client keeps no idle connection), and says where it was.
    async fn stop(self) -> SocketAddr {
        self.task.abort();
        let _ = self.task.await;
        self.address
    }
}

/// A listener on `address`, which may be the port a stopped server just left.
pub(super) fn listen(address: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(address).expect("binding 127.0.0.1");
    socket.listen(64).expect("listening")
}

/// A server that accepts connections and never answers, counting them.
async fn silent_server() -> (SocketAddr, Arc<AtomicUsize>, JoinHandle<()>) {
    let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)));
    let address = listener.local_addr().expect("the listener's address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        // Each test connects a few times; the task ends with the test's runtime.
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (address, accepted, task)
}

/// A server that answers one request with a chunked body of 320 KiB, with no length ahead.
async fn chunked_server() -> (SocketAddr, JoinHandle<()>) {
    let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)));
    let address = listener.local_addr().expect("the listener's address");
    let task = tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
        for _ in 0..20 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
    });
    (address, task)
}

/// A site publishing `kids`, its server, a clock and an empty cache.
struct Setup {
    site: Arc<Site>,
    server: TestServer,
    clock: Arc<ManualClock>,
    remote: RemoteKeys,
}

impl Setup {
    async fn new(kids: &[&str]) -> Setup {
        let site = Site::new(kids);
        let server = TestServer::start(&site).await;
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let remote = RemoteKeys::new(clock.clone());
        Setup {
            site,
            server,
            clock,
            remote,
        }
    }

    /// The cache's answer for the site's path `path` as a `jwks_uri`.
    async fn keys_at(&self, path: &str, kid: Option<&str>) -> Answer {
        let url = self.server.url(path);
        self.remote.keys(KeySource::JwksUri(&url), kid).await
    }

    /// Whether the set answered for the site's `/jwks` holds `kid`, asking for it.
    async fn finds(&self, kid: &str) -> bool {
        holds(&self.keys_at("/jwks", Some(kid)).await, kid)
    }

    /// The error answered for the site's `path` as a `jwks_uri`.
    async fn refusal_at(&self, path: &str) -> Option<RemoteKeyError> {
        self.keys_at(path, None).await.err()
    }
}

pub(super) type Answer = Result<Arc<PublicKeySet>, RemoteKeyError>;

pub(super) fn holds(answer: &Answer, kid: &str) -> bool {
    answer.as_ref().is_ok_and(|keys| keys.has_kid(kid))
}

#[tokio::test]
async fn a_cached_set_is_answered_without_fetching_again() {
    let setup = Setup::new(&["a", "b"]).await;
    assert!(setup.finds("a").await);
    assert!(setup.finds("b").await);
    assert!(setup.keys_at("/jwks", None).await.is_ok());
    setup
        .clock
        .advance(cache_control::DEFAULT_LIFETIME_SECONDS - 1);
    assert!(setup.finds("a").await);
    assert_eq!(setup.site.jwks_hits(), 1);
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let setup = Arc::new(Setup::new(&["a"]).await);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let setup = setup.clone();
        requests.spawn(async move { setup.finds("a").await });
    }
    while let Some(found) = requests.join_next().await {
        assert!(found.expect("the request task"));
    }
    assert_eq!(setup.site.jwks_hits(), 1);
}

#[tokio::test]
async fn an_unknown_kid_is_fetched_for_at_most_once_a_minute() {
    let setup = Setup::new(&["a"]).await;
    assert!(setup.finds("a").await);
    // Within a minute of the first fetch: the cached set, which lacks the kid.
    assert!(!setup.finds("b").await);
    assert_eq!(setup.site.jwks_hits(), 1);

    setup.clock.advance(RETRY_AFTER_SECONDS);
    let answer = setup.keys_at("/jwks", Some("b")).await;
    assert!(holds(&answer, "a") && !holds(&answer, "b"));
    assert_eq!(setup.site.jwks_hits(), 2);
    assert!(!setup.finds("b").await);
    setup.clock.advance(RETRY_AFTER_SECONDS - 1);
    assert!(!setup.finds("b").await);
    assert_eq!(setup.site.jwks_hits(), 2);

    // The source rotated: the next fetch a minute on finds the new kid.
    setup.site.publish(&["a", "b"]);
    setup.clock.advance(1);
    assert!(setup.finds("b").await);
    assert_eq!(setup.site.jwks_hits(), 3);
}

#[tokio::test]
async fn a_stale_set_is_served_while_its_source_is_gone_and_refreshed_when_it_is_back() {
    let Setup {
        site,
        server,
        clock,
        remote,
    } = Setup::new(&["a"]).await;
    let url = server.url("/jwks");
    let source = KeySource::JwksUri(&url);
    assert!(holds(&remote.keys(source, Some("a")).await, "a"));

    let address = server.stop().await;
    clock.advance(cache_control::DEFAULT_LIFETIME_SECONDS);
    assert!(holds(&remote.keys(source, Some("a")).await, "a"));
    remote.settle().await;
    assert!(holds(&remote.keys(source, Some("a")).await, "a"));
    clock.advance(RETRY_AFTER_SECONDS);
    assert!(holds(&remote.keys(source, None).await, "a"));
    remote.settle().await;
    assert!(holds(&remote.keys(source, Some("a")).await, "a"));
    assert_eq!(site.jwks_hits(), 1);

    site.publish(&["b"]);
    let _server = TestServer::start_at(address, &site).await;
    clock.advance(RETRY_AFTER_SECONDS);
    // Still the stale set at once; the refresh runs behind it.
    assert!(holds(&remote.keys(source, Some("a")).await, "a"));
    remote.settle().await;
    assert_eq!(site.jwks_hits(), 2);
    let refreshed = remote.keys(source, Some("b")).await;
    assert!(holds(&refreshed, "b") && !holds(&refreshed, "a"));
    assert_eq!(site.jwks_hits(), 2);
}

/// With `cache_control` on the key set, the set is fetched again `lifetime` seconds after the
/// first fetch, not one second sooner.
async fn check_lifetime(cache_control: Option<&str>, lifetime: i64) {
    let setup = Setup::new(&["a"]).await;
    setup.site.published().cache_control = cache_control.map(str::to_owned);
    assert!(setup.finds("a").await);

    setup.clock.advance(lifetime - 1);
    assert!(setup.finds("a").await);
    setup.remote.settle().await;
    assert_eq!(setup.site.jwks_hits(), 1, "{cache_control:?}");

    setup.clock.advance(1);
    assert!(setup.finds("a").await);
    setup.remote.settle().await;
    assert_eq!(setup.site.jwks_hits(), 2, "{cache_control:?}");
}

#[tokio::test]
async fn max_age_sets_the_lifetime_within_its_floor_and_ceiling() {
    check_lifetime(Some("public, max-age=600"), 600).await;
    check_lifetime(Some("max-age=10"), cache_control::MIN_LIFETIME_SECONDS).await;
    check_lifetime(Some("no-store"), cache_control::MIN_LIFETIME_SECONDS).await;
    check_lifetime(
        Some("max-age=31536000"),
        cache_control::MAX_LIFETIME_SECONDS,
    )
    .await;
    check_lifetime(None, cache_control::DEFAULT_LIFETIME_SECONDS).await;
}

#[tokio::test]
async fn a_body_past_256_kib_is_refused() {
    let setup = Setup::new(&["a"]).await;
    assert_eq!(
        setup.refusal_at("/large").await,
        Some(RemoteKeyError::TooLarge)
    );
}

#[tokio::test]
async fn a_chunked_body_past_256_kib_is_refused() {
    let (address, _server) = chunked_server().await;
    let remote = RemoteKeys::new(Arc::new(ManualClock::new(0)));
    let url = format!("http://{address}/jwks");
    let answer = remote.keys(KeySource::JwksUri(&url), None).await;
    assert_eq!(answer.err(), Some(RemoteKeyError::TooLarge));
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let setup = Setup::new(&["a"]).await;
    assert_eq!(
        setup.refusal_at("/redirect").await,
        Some(RemoteKeyError::Status(302))
    );
    assert_eq!(setup.site.jwks_hits(), 0);
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_without_a_connection() {
    let remote = RemoteKeys::new(Arc::new(ManualClock::new(0)));
    // TEST-NET-1 (RFC 5737) routes nowhere: a connection attempt would end in a timeout, not
    // in the refusal, and nothing is remembered for the source.
    for source in [
        KeySource::JwksUri("http://192.0.2.1/jwks"),
        KeySource::Issuer("http://192.0.2.1"),
        KeySource::JwksUri("ftp://127.0.0.1/jwks"),
    ] {
        assert_eq!(
            remote.keys(source, None).await.err(),
            Some(RemoteKeyError::NotAllowed)
        );
    }
    assert_eq!(remote.jwks_uris.len() + remote.issuers.len(), 0);
}

#[tokio::test]
async fn an_issuer_is_found_through_its_discovery_document() {
    let setup = Setup::new(&["k8s"]).await;
    let issuer = setup.server.issuer();
    for _ in 0..2 {
        let answer = setup
            .remote
            .keys(KeySource::Issuer(&issuer), Some("k8s"))
            .await;
        assert!(holds(&answer, "k8s"));
    }
    assert_eq!(setup.site.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(setup.site.jwks_hits(), 1);
}

/// The error answered for the site as an issuer, after `change` to what it publishes.
async fn check_discovery_refused(change: impl FnOnce(&mut Published), expected: RemoteKeyError) {
    let setup = Setup::new(&["a"]).await;
    change(&mut setup.site.published());
    let issuer = setup.server.issuer();
    let answer = setup.remote.keys(KeySource::Issuer(&issuer), None).await;
    assert_eq!(answer.err(), Some(expected));
    assert_eq!(setup.site.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(setup.site.jwks_hits(), 0);
}

#[tokio::test]
async fn a_discovery_document_of_another_issuer_is_refused() {
    check_discovery_refused(
        |published| published.issuer = "https://elsewhere.example".to_owned(),
        RemoteKeyError::BadDiscovery,
    )
    .await;
}

#[tokio::test]
async fn a_discovery_jwks_uri_over_plain_http_elsewhere_is_refused() {
    check_discovery_refused(
        |published| published.jwks_uri = "http://192.0.2.1/jwks".to_owned(),
        RemoteKeyError::NotAllowed,
    )
    .await;
}

#[tokio::test]
async fn a_source_that_never_answers_costs_one_bounded_wait_a_minute() {
    let (address, accepted, _server) = silent_server().await;
    let clock = Arc::new(ManualClock::new(0));
    let limits = Limits {
        total_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let remote = RemoteKeys::with_fetcher(clock.clone(), Fetcher::new(limits), MAX_SOURCES);
    let url = format!("http://{address}/jwks");
    let source = KeySource::JwksUri(&url);

    assert_eq!(
        remote.keys(source, None).await.err(),
        Some(RemoteKeyError::Unreachable)
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // The failure is remembered: no new connection within the minute.
    clock.advance(RETRY_AFTER_SECONDS - 1);
    assert_eq!(
        remote.keys(source, Some("a")).await.err(),
        Some(RemoteKeyError::Unreachable)
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    clock.advance(1);
    assert_eq!(
        remote.keys(source, None).await.err(),
        Some(RemoteKeyError::Unreachable)
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_fetch_is_remembered_for_a_minute() {
    let setup = Setup::new(&["a"]).await;
    let error_hits = || setup.site.error_hits.load(Ordering::SeqCst);
    assert_eq!(
        setup.refusal_at("/error").await,
        Some(RemoteKeyError::Status(500))
    );
    setup.clock.advance(RETRY_AFTER_SECONDS - 1);
    assert_eq!(
        setup.refusal_at("/error").await,
        Some(RemoteKeyError::Status(500))
    );
    assert_eq!(error_hits(), 1);
    setup.clock.advance(1);
    assert_eq!(
        setup.refusal_at("/error").await,
        Some(RemoteKeyError::Status(500))
    );
    assert_eq!(error_hits(), 2);
}

#[tokio::test]
async fn a_body_that_is_not_a_jwk_set_is_refused() {
    let setup = Setup::new(&["a"]).await;
    assert_eq!(
        setup.refusal_at("/html").await,
        Some(RemoteKeyError::NotJwks)
    );
}

#[tokio::test]
async fn past_the_bound_on_sources_the_one_never_fetched_is_dropped() {
    let site = Site::new(&["a"]);
    let server = TestServer::start(&site).await;
    let remote = RemoteKeys::with_fetcher(
        Arc::new(ManualClock::new(0)),
        Fetcher::new(Limits::default()),
        2,
    );
    let ask = |path: &str| {
        let url = server.url(path);
        let remote = &remote;
        async move { remote.keys(KeySource::JwksUri(&url), None).await }
    };
    assert!(ask("/jwks").await.is_ok());
    assert_eq!(
        ask("/missing").await.err(),
        Some(RemoteKeyError::Status(404))
    );
    assert_eq!(ask("/error").await.err(), Some(RemoteKeyError::Status(500)));

    assert_eq!(remote.jwks_uris.len(), 2);
    assert!(
        remote
            .jwks_uris
            .pin()
            .get(&server.url("/missing"))
            .is_none()
    );
    assert!(ask("/jwks").await.is_ok());
    assert_eq!(site.jwks_hits(), 1);
}
