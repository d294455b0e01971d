//! The HTTP GET of a key set or a discovery document, bounded: no redirect followed, no proxy
//! from the environment, a connect timeout, a total timeout, and a body read in chunks and
//! refused past a size. It knows nothing of caching; `Origin`s come from `uri`, already checked.

use super::{Origin, RemoteKeyError, cache_control, discovery};
use latchkey_keys::PublicKeySet;
use reqwest::Url;
use reqwest::header::{ACCEPT, CACHE_CONTROL};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// How long a connection may take to open: a live host on the internet answers well within it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one fetch of a source (discovery and key set together) may take: the most a
/// request waits for an issuer that stopped answering, once a minute at most.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest body read: a key set of a few dozen RSA keys is a few dozen KiB, and the bound
/// keeps a hostile or broken source from filling memory.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// The bounds of a fetch; tests shorten the timeouts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) connect_timeout: Duration,
    pub(super) total_timeout: Duration,
    pub(super) max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect_timeout: CONNECT_TIMEOUT,
            total_timeout: TOTAL_TIMEOUT,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// A response body and the lifetime its `Cache-Control` gives it.
struct Fetched {
    body: Vec<u8>,
    lifetime_seconds: i64,
}

/// The HTTP client of every remote key set fetch.
pub(super) struct Fetcher {
    /// `None` when the client could not be built (logged once then): every fetch is then
    /// `Unreachable`, and the server goes on serving apps that need no remote keys.
    client: Option<reqwest::Client>,
    limits: Limits,
}

impl Fetcher {
    /// A fetcher trusting the Mozilla roots (`webpki-roots`).
    pub(super) fn new(limits: Limits) -> Fetcher {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Fetcher::trusting(limits, roots)
    }

    /// A fetcher trusting `roots` only.
    pub(super) fn trusting(limits: Limits, roots: rustls::RootCertStore) -> Fetcher {
        let client = match client(&limits, roots) {
            Ok(client) => Some(client),
            Err(cause) => {
                tracing::error!(%cause, "the HTTP client for remote key sets could not be built; no jwks_uri or issuer can be fetched");
                None
            }
        };
        Fetcher { client, limits }
    }

    pub(super) fn limits(&self) -> Limits {
        self.limits
    }

    /// The key set `origin` publishes and its lifetime in seconds: for an issuer, its discovery
    /// document first, then the `jwks_uri` that names.
    pub(super) async fn key_set(
        &self,
        origin: &Origin,
    ) -> Result<(PublicKeySet, i64), RemoteKeyError> {
        let jwks_uri = match origin {
            Origin::JwksUri(url) => Cow::Borrowed(url),
            Origin::Issuer { issuer, discovery } => {
                let document = self.get(discovery).await?;
                Cow::Owned(discovery::jwks_uri(&document.body, issuer)?)
            }
        };
        let fetched = self.get(&jwks_uri).await?;
        let text = std::str::from_utf8(&fetched.body).map_err(|_| RemoteKeyError::NotJwks)?;
        let keys = PublicKeySet::parse(text).map_err(|_| RemoteKeyError::NotJwks)?;
        Ok((keys, fetched.lifetime_seconds))
    }

    /// One GET of `url`, whose body is never put in an error or a log line.
    async fn get(&self, url: &Url) -> Result<Fetched, RemoteKeyError> {
        let client = self.client.as_ref().ok_or(RemoteKeyError::Unreachable)?;
        let unreachable = |error: reqwest::Error| {
            tracing::debug!(%url, cause = %error.without_url(), "fetching a remote key set failed");
            RemoteKeyError::Unreachable
        };
        let mut response = client
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        // A redirect is answered as its status: following it would fetch a URL nobody configured.
        if !status.is_success() {
            return Err(RemoteKeyError::Status(status.as_u16()));
        }
        let max_body_bytes = self.limits.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > max_body_bytes as u64)
        {
            return Err(RemoteKeyError::TooLarge);
        }
        let lifetime_seconds = cache_control::lifetime_seconds(
            response
                .headers()
                .get_all(CACHE_CONTROL)
                .iter()
                .filter_map(|value| value.to_str().ok()),
        );
        // Read in chunks so that a body without a length (or lying about it) stops at the bound;
        // the loop ends by the bound or by the total timeout.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > max_body_bytes {
                return Err(RemoteKeyError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body,
            lifetime_seconds,
        })
    }
}

/// The client: rustls on aws-lc-rs (the provider the rest of the server uses), no redirects, no
/// proxy, no idle connections (fetches of one source are minutes apart, longer than a server
/// keeps a connection open).
fn client(limits: &Limits, roots: rustls::RootCertStore) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.total_timeout)
        .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| error.to_string())
}
