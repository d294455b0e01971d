//! Which URLs a key set may be fetched from: `https`, or `http` on a loopback host (for
//! development and tests), and never with credentials in the URL. Pure: it parses and decides,
//! and is called before any connection is made, for the configured URL and for the `jwks_uri` a
//! discovery document names alike.

use super::RemoteKeyError;
use reqwest::Url;

/// The path OpenID Connect Discovery 1.0 §4 puts an issuer's configuration at.
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// `text` as a URL a key set may be fetched from, or `NotAllowed`.
pub(super) fn allowed(text: &str) -> Result<Url, RemoteKeyError> {
    let url = Url::parse(text).map_err(|_| RemoteKeyError::NotAllowed)?;
    // A user name or password in the URL would reach the logs, which name the URL of a failed
    // fetch; a key set is public, so no source needs them.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RemoteKeyError::NotAllowed);
    }
    let permitted = match url.scheme() {
        "https" => url.host_str().is_some_and(|host| !host.is_empty()),
        // Plain HTTP can be read and changed on the way; only a host on this machine is spared.
        "http" => url.host_str().is_some_and(is_loopback),
        _ => false,
    };
    if permitted {
        Ok(url)
    } else {
        Err(RemoteKeyError::NotAllowed)
    }
}

/// The URL of `issuer`'s discovery document: the issuer without its trailing `/`, then
/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
pub(super) fn discovery_url(issuer: &str) -> Result<Url, RemoteKeyError> {
    let issuer_url = allowed(issuer)?;
    // An issuer identifier has no query or fragment (Discovery §2); appending a path to one
    // would name another resource than the issuer meant.
    if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
        return Err(RemoteKeyError::NotAllowed);
    }
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    allowed(&format!("{base}{DISCOVERY_PATH}"))
}

/// The loopback hosts the issue names, as the URL parser writes them (it lowercases names and
/// writes addresses in their shortest form, so `http://[0:0::1]` and `http://LOCALHOST` count).
fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: bool) {
        assert_eq!(allowed(url).is_ok(), expected, "{url}");
    }

    fn check_discovery(issuer: &str, expected: Option<&str>) {
        let found = discovery_url(issuer).ok().map(|url| url.to_string());
        assert_eq!(found.as_deref(), expected, "{issuer}");
    }

    #[test]
    fn https_is_allowed_anywhere() {
        check("https://issuer.example/keys", true);
        check("https://10.0.0.1:8443/jwks.json?tenant=a", true);
    }

    #[test]
    fn http_is_allowed_on_the_loopback_hosts() {
        check("http://127.0.0.1:8080/jwks", true);
        check("http://[::1]:8080/jwks", true);
        check("http://localhost/jwks", true);
        check("http://LOCALHOST:1/jwks", true);
        check("http://[0:0::1]/jwks", true);
    }

    #[test]
    fn http_elsewhere_is_refused() {
        check("http://issuer.example/jwks", false);
        check("http://10.0.0.1/jwks", false);
        check("http://127.0.0.2/jwks", false);
        check("http://localhost.example/jwks", false);
        check("http://169.254.169.254/latest/meta-data", false);
    }

    #[test]
    fn other_schemes_and_non_urls_are_refused() {
        check("file:///etc/passwd", false);
        check("ftp://issuer.example/jwks", false);
        check("gopher://127.0.0.1/", false);
        check("/relative/jwks", false);
        check("", false);
        check("https://", false);
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        check("https://user:pass@issuer.example/jwks", false);
        check("https://user@issuer.example/jwks", false);
    }

    #[test]
    fn discovery_is_at_the_well_known_path_of_the_issuer() {
        check_discovery(
            "https://token.actions.githubusercontent.com",
            Some("https://token.actions.githubusercontent.com/.well-known/openid-configuration"),
        );
        check_discovery(
            "https://issuer.example/tenant/",
            Some("https://issuer.example/tenant/.well-known/openid-configuration"),
        );
        check_discovery(
            "http://127.0.0.1:9000",
            Some("http://127.0.0.1:9000/.well-known/openid-configuration"),
        );
    }

    #[test]
    fn a_discovery_issuer_follows_the_same_rule() {
        check_discovery("http://issuer.example", None);
        check_discovery("https://issuer.example/?tenant=a", None);
        check_discovery("https://issuer.example/#a", None);
        check_discovery("not a url", None);
    }
}
