//! Where a request comes from: the address failed logins are counted against. The socket peer,
//! unless it is one of the operator's trusted proxies (`--trusted-proxy`): then the address that
//! proxy recorded in `Forwarded` (RFC 7239) or `X-Forwarded-For`, walking the chain from the
//! right past every trusted hop, so a client cannot choose its own address by sending either
//! header (a proxy appends; it never removes what a client wrote on the left).

use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::FORWARDED;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts `networks` (none: every request's source is its socket peer).
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// Whether a trusted proxy says the request reached it over HTTPS (`X-Forwarded-Proto`,
    /// the last value: the one the nearest proxy wrote).
    pub(crate) fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.trusts(peer)
            && headers
                .get_all("x-forwarded-proto")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    /// The source of a request that reached this server from `peer` with `headers`.
    pub fn source(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // A `Forwarded` header wins: it is the standard, and a proxy that writes it may pass
        // an `X-Forwarded-For` from the client along unchecked.
        let forwarded: Vec<Hop> = if headers.contains_key(FORWARDED) {
            values(headers, &FORWARDED)
                .flat_map(|value| value.split(','))
                .map(forwarded_for)
                .collect()
        } else {
            values(headers, &X_FORWARDED_FOR)
                .flat_map(|value| value.split(','))
                .map(|node| Hop::from_node(node.trim()))
                .collect()
        };
        let mut nearest = peer;
        for hop in forwarded.iter().rev() {
            match *hop {
                // A hop this server cannot name (`unknown`, obfuscated, garbage) is counted as
                // the proxy that recorded it: throttling more, never less.
                Hop::Unnamed => return nearest,
                Hop::Address(address) if self.trusts(address) => nearest = address,
                Hop::Address(address) => return address,
            }
        }
        nearest
    }
}

/// Marks a request that arrived on a TLS connection (the listener inserts it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArrivedOverTls;

/// The source address of a request, for the endpoints that authenticate clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Source(pub(crate) IpAddr);

impl FromRequestParts<AppState> for Source {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // Every served request has its peer; a router driven without a socket counts all its
        // requests as one unspecified address.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(Source(state.throttle.proxies.source(peer, &parts.headers)))
    }
}

/// One hop of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    Unnamed,
}

impl Hop {
    /// A node as written in either header: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
    /// `[2001:db8::1]` or `[2001:db8::1]:80`.
    fn from_node(node: &str) -> Hop {
        let node = node.trim_matches('"');
        let host = match node.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None if node.matches(':').count() == 1 => node.split(':').next().unwrap_or_default(),
            None => node,
        };
        host.parse::<IpAddr>()
            .map_or(Hop::Unnamed, |address| Hop::Address(canonical(address)))
    }
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=https;by=...`).
fn forwarded_for(element: &str) -> Hop {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or(Hop::Unnamed, |(_, node)| Hop::from_node(node.trim()))
}

fn values<'h>(headers: &'h HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|value| value.to_str().ok())
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is that IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_forged_headers_change_nothing() {
        let forged = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(
            TrustedProxies::default().source(ip("203.0.113.5"), &forged),
            ip("203.0.113.5")
        );
        // Nor from a peer outside the trusted networks.
        assert_eq!(
            proxies(&["10.0.0.0/8"]).source(ip("203.0.113.5"), &forged),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_counts() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client forged the left entry; the proxy appended the real one.
        let chain = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &chain), ip("203.0.113.9"));
        // Entries over several header lines are one list, in order.
        let split = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-for", "203.0.113.9:4711"),
        ]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &split), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let trusted = proxies(&["10.0.0.0/8", "2001:db8::/32"]);
        let chain = headers(&[(
            "forwarded",
            r#"for=198.51.100.7, for="[2001:db9::17]:4711";proto=https, For=10.2.2.2;by=10.0.0.1"#,
        )]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &chain), ip("2001:db9::17"));
        // `Forwarded` wins over `X-Forwarded-For`.
        let both = headers(&[
            ("forwarded", "for=203.0.113.1"),
            ("x-forwarded-for", "203.0.113.2"),
        ]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &both), ip("203.0.113.1"));
    }

    #[test]
    fn an_unnamed_hop_counts_as_the_proxy_that_recorded_it() {
        let trusted = proxies(&["10.0.0.0/8"]);
        for value in ["for=unknown", "for=_hidden", "for", "garbage"] {
            let chain = headers(&[("forwarded", value)]);
            assert_eq!(
                trusted.source(ip("10.0.0.2"), &chain),
                ip("10.0.0.2"),
                "{value}"
            );
        }
        let chain = headers(&[("x-forwarded-for", "not-an-address, 10.3.3.3")]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &chain), ip("10.3.3.3"));
    }

    #[test]
    fn a_chain_of_trusted_hops_only_ends_at_its_leftmost() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let chain = headers(&[("x-forwarded-for", "10.9.9.9, 10.8.8.8")]);
        assert_eq!(trusted.source(ip("10.0.0.2"), &chain), ip("10.9.9.9"));
        assert_eq!(
            trusted.source(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let chain = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(
            trusted.source(ip("::ffff:10.0.0.2"), &chain),
            ip("203.0.113.9")
        );
    }
}
