//! Which URLs a key set may be fetched from. The rule is `latchkey_protocol`'s
//! `is_fetchable_url` (`https`, or `http` on a loopback host; no userinfo or fragment),
//! the one configuration is validated with; it is applied again here, before any connection,
//! to the configured URL and to the `jwks_uri` a discovery document names alike, and then to
//! the URL as parsed, since the parsed URL is what is connected to. Pure.

use super::RemoteKeyError;
use latchkey_protocol::federation::is_fetchable_url;
use reqwest::Url;

/// The path OpenID Connect Discovery 1.0 §4 puts an issuer's configuration at.
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// `text` as a URL a key set may be fetched from, or `NotAllowed`.
pub(super) fn allowed(text: &str) -> Result<Url, RemoteKeyError> {
    if !is_fetchable_url(text) {
        return Err(RemoteKeyError::NotAllowed);
    }
    let url = Url::parse(text).map_err(|_| RemoteKeyError::NotAllowed)?;
    // The parser reads some texts otherwise than the rule's plain reading (a `\` counts as a
    // `/` in an http URL): the parsed URL must pass the rule's core too.
    let permitted = url.username().is_empty()
        && url.password().is_none()
        && match url.scheme() {
            "https" => url.host_str().is_some_and(|host| !host.is_empty()),
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
    // An issuer identifier has no query or fragment (Discovery §2), after which an appended
    // path would name another resource.
    if issuer.contains('?') {
        return Err(RemoteKeyError::NotAllowed);
    }
    allowed(issuer)?;
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    allowed(&format!("{base}{DISCOVERY_PATH}"))
}

/// The loopback hosts the rule names, as the URL parser writes them (lowercased).
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
        check("https://10.0.0.1:8443/jwks.json", true);
    }

    #[test]
    fn http_is_allowed_on_the_loopback_hosts() {
        check("http://127.0.0.1:8080/jwks", true);
        check("http://[::1]:8080/jwks", true);
        check("http://localhost/jwks", true);
        check("http://LOCALHOST:1/jwks", true);
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
    fn credentials_and_fragments_are_refused_and_a_jwks_uri_may_have_a_query() {
        check("https://user:pass@issuer.example/jwks", false);
        check("https://user@issuer.example/jwks", false);
        check("https://issuer.example/jwks#keys", false);
        check("https://issuer.example/jwks?p=b2c_1_signin", true);
    }

    #[test]
    fn a_text_the_parser_reads_as_another_host_is_refused() {
        check("http://127.0.0.1\\@evil.example/jwks", false);
        check("http://localhost\\.evil.example/jwks", false);
        check("http://0x7f.0.0.1/jwks", false);
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
