//! `TestIssuer`: a small HTTP server on 127.0.0.1 standing for a key publisher, either a
//! client's `jwks_uri` or a workload platform's OIDC issuer (a Kubernetes API server, GitHub
//! Actions). It serves `GET /jwks` (a JWK Set replaceable while it runs, with a
//! `Cache-Control`) and `GET /.well-known/openid-configuration` (`issuer` and `jwks_uri`),
//! counts what it served, and can be stopped and started again on the same port, which is
//! how a test makes an issuer go away and come back.

use super::test_keys::{TestKey, jwks_of};
use super::{WAIT, eventually};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The `Cache-Control` of its JWK Set: five minutes, longer than any test, so that what a
/// server fetched stays cached while an issuer is away.
pub(crate) const JWKS_CACHE_CONTROL: &str = "max-age=300";

/// What the server serves, shared with its handlers.
struct Published {
    /// `http://127.0.0.1:PORT`, its issuer URL.
    url: String,
    jwks: Mutex<Value>,
    jwks_served: AtomicUsize,
    discovery_served: AtomicUsize,
}

/// The accept loop while the server runs.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A key publisher on 127.0.0.1, with the key it signs its tokens with.
pub(crate) struct TestIssuer {
    address: SocketAddr,
    published: Arc<Published>,
    running: Option<Running>,
    /// The key the issuer signs with (RSA, as Kubernetes and GitHub sign), published at start.
    pub(crate) key: TestKey,
}

impl TestIssuer {
    /// Starts a publisher on an ephemeral port, publishing one new RSA key.
    pub(crate) async fn start() -> TestIssuer {
        TestIssuer::start_with(TestKey::rsa()).await
    }

    /// Starts a publisher of `key` on an ephemeral port.
    pub(crate) async fn start_with(key: TestKey) -> TestIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a test issuer on 127.0.0.1");
        let address = listener.local_addr().expect("the issuer's address");
        let published = Arc::new(Published {
            url: format!("http://{address}"),
            jwks: Mutex::new(jwks_of(&[&key])),
            jwks_served: AtomicUsize::new(0),
            discovery_served: AtomicUsize::new(0),
        });
        let running = serve(listener, Arc::clone(&published));
        TestIssuer {
            address,
            published,
            running: Some(running),
            key,
        }
    }

    /// Its issuer URL, `http://127.0.0.1:PORT` (what its tokens' `iss` says).
    pub(crate) fn url(&self) -> &str {
        &self.published.url
    }

    /// The URL of its JWK Set.
    pub(crate) fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.published.url)
    }

    /// Replaces the JWK Set it serves.
    pub(crate) fn publish(&self, jwks: Value) {
        *self.published.jwks.lock().expect("the JWKS lock") = jwks;
    }

    /// Publishes exactly these keys.
    pub(crate) fn publish_keys(&self, keys: &[&TestKey]) {
        self.publish(jwks_of(keys));
    }

    /// How many times it has served its JWK Set.
    pub(crate) fn jwks_served(&self) -> usize {
        self.published.jwks_served.load(Ordering::SeqCst)
    }

    /// How many times it has served its discovery document.
    pub(crate) fn discovery_served(&self) -> usize {
        self.published.discovery_served.load(Ordering::SeqCst)
    }

    /// Signs `claims` with its key.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }

    /// Stops serving: the port refuses connections until `restart`.
    pub(crate) async fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        let _ = running.stop.send(());
        let mut task = running.task;
        // Every answer closes its connection, so the graceful stop ends quickly; past the
        // bound the loop is cut off.
        if tokio::time::timeout(WAIT, &mut task).await.is_err() {
            task.abort();
        }
        let address = self.address;
        eventually("the stopped issuer to refuse connections", async || {
            match tokio::net::TcpStream::connect(address).await {
                Ok(_) => Err("it still accepts connections".to_owned()),
                Err(_) => Ok(()),
            }
        })
        .await;
    }

    /// Serves again on the same port, with what it published before.
    pub(crate) async fn restart(&mut self) {
        assert!(self.running.is_none(), "the issuer is running already");
        let address = self.address;
        let listener = eventually("the issuer's port to be free again", async || {
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|error| error.to_string())
        })
        .await;
        self.running = Some(serve(listener, Arc::clone(&self.published)));
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.task.abort();
        }
    }
}

/// Answers with `Connection: close`, so that no kept-alive connection outlives a `stop`.
fn serve(listener: tokio::net::TcpListener, published: Arc<Published>) -> Running {
    let router = axum::Router::new()
        .route("/jwks", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .with_state(published);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Running { stop, task }
}

async fn jwks(State(published): State<Arc<Published>>) -> impl IntoResponse {
    published.jwks_served.fetch_add(1, Ordering::SeqCst);
    let body = published.jwks.lock().expect("the JWKS lock").clone();
    (
        [
            (header::CACHE_CONTROL, JWKS_CACHE_CONTROL),
            (header::CONNECTION, "close"),
        ],
        axum::Json(body),
    )
}

async fn discovery(State(published): State<Arc<Published>>) -> impl IntoResponse {
    published.discovery_served.fetch_add(1, Ordering::SeqCst);
    let url = &published.url;
    // The members an OIDC provider's document requires (OpenID Connect Discovery §3), as a
    // Kubernetes API server's service account issuer discovery serves them.
    let body = json!({
        "issuer": url,
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    (
        [
            (header::CACHE_CONTROL, "max-age=3600"),
            (header::CONNECTION, "close"),
        ],
        axum::Json(body),
    )
}
