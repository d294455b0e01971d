//! Which host a request is for, checked before any route sees it. The tenant is picked by
//! Host (`extract::TenantHost`), so a request that names two hosts (two Host headers, or an
//! absolute-form target or HTTP/2 `:authority` that another Host contradicts) is refused: a
//! proxy in front, reading the other one, would route it to one tenant while latchkey served
//! another. An HTTP/2 request names its host in `:authority`, which becomes its Host here.

use axum::http::header::HOST;
use axum::http::{HeaderMap, HeaderValue, Uri, Version};

/// What the request lacks or contradicts, when it does (its `error_description`).
pub(crate) type Refusal = &'static str;

/// Checks a request's host. `Ok(Some(host))`: the Host header it should carry (an HTTP/2
/// request that has only `:authority`); `Ok(None)`: its headers stand as they are.
pub(crate) fn check(
    version: Version,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<HeaderValue>, Refusal> {
    let mut hosts = headers.get_all(HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err("the request has more than one Host header");
    }
    match (host, uri.authority()) {
        (Some(host), Some(authority)) => {
            if host
                .as_bytes()
                .eq_ignore_ascii_case(authority.as_str().as_bytes())
            {
                Ok(None)
            } else {
                Err("the request target names another host than the Host header")
            }
        }
        (None, Some(authority)) if version == Version::HTTP_2 => {
            HeaderValue::from_str(authority.as_str())
                .map(Some)
                .map_err(|_| "the request's authority is not a valid host")
        }
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400, absolute-form or
        // not; HTTP/1.0 has no Host to require.
        (None, _) if version >= Version::HTTP_11 => Err("the request has no Host header"),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_request(
        version: Version,
        target: &str,
        hosts: &[&str],
    ) -> Result<Option<HeaderValue>, Refusal> {
        let mut headers = HeaderMap::new();
        for host in hosts {
            headers.append(HOST, HeaderValue::from_str(host).unwrap());
        }
        check(version, &target.parse().unwrap(), &headers)
    }

    #[test]
    fn one_host_header_passes_as_it_is() {
        assert_eq!(
            check_request(Version::HTTP_11, "/oauth2/token", &["auth.example.com"]),
            Ok(None)
        );
    }

    #[test]
    fn two_host_headers_are_refused_even_when_equal() {
        let hosts = ["a.example.com", "a.example.com"];
        assert!(check_request(Version::HTTP_11, "/", &hosts).is_err());
        assert!(check_request(Version::HTTP_2, "/", &hosts).is_err());
    }

    #[test]
    fn a_missing_host_is_refused_on_http_1_1_only() {
        assert!(check_request(Version::HTTP_11, "/", &[]).is_err());
        assert!(check_request(Version::HTTP_11, "http://a.example.com/", &[]).is_err());
        assert_eq!(check_request(Version::HTTP_10, "/", &[]), Ok(None));
    }

    #[test]
    fn an_absolute_target_must_name_the_host_header_s_host() {
        let target = "http://a.example.com/oauth2/token";
        assert_eq!(
            check_request(Version::HTTP_11, target, &["A.example.com"]),
            Ok(None)
        );
        assert!(check_request(Version::HTTP_11, target, &["b.example.com"]).is_err());
        assert!(check_request(Version::HTTP_11, target, &["a.example.com:8443"]).is_err());
    }

    #[test]
    fn an_http_2_authority_becomes_the_host() {
        let target = "https://a.example.com/oauth2/token";
        assert_eq!(
            check_request(Version::HTTP_2, target, &[]),
            Ok(Some(HeaderValue::from_static("a.example.com")))
        );
        assert_eq!(
            check_request(Version::HTTP_2, target, &["a.example.com"]),
            Ok(None)
        );
        assert!(check_request(Version::HTTP_2, target, &["b.example.com"]).is_err());
    }
}
