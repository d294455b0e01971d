//! `serve` and `quickstart`'s flags: where to listen, the issuer, how to follow changes, and
//! the limits that keep the server standing (failed logins, proxies, TLS, connections).

use super::parse_duration;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    /// Issuer URL of the default tenant (the `iss` of its tokens): an http(s) URL without query
    /// or fragment. Default: http://localhost:8080 for `serve`, the URL it listens on for
    /// `quickstart`.
    #[arg(long, env = "LATCHKEY_ISSUER", value_parser = parse_issuer)]
    pub(crate) issuer: Option<String>,
    /// How often to pick up changes made by the CLI or other servers, in milliseconds.
    #[arg(long, env = "LATCHKEY_REFRESH_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub(crate) refresh_ms: u64,
    /// Days between automatic signing key rotations (0 turns them off).
    #[arg(long, env = "LATCHKEY_KEY_ROTATION_DAYS", default_value_t = 30)]
    pub(crate) key_rotation_days: u32,
    /// How often to run key rotation steps and purge expired revocations, in milliseconds.
    #[arg(long, env = "LATCHKEY_MAINTENANCE_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub(crate) maintenance_ms: u64,
    /// Answer 404 to requests whose Host no tenant claims, instead of serving them as the
    /// `default` tenant.
    #[arg(long, env = "LATCHKEY_STRICT_HOSTS")]
    pub(crate) strict_hosts: bool,
    /// How long to keep issuing tokens from memory after the database last answered (such as
    /// 10m or 1h; 0: without limit). Past it, the token endpoint answers 503 rather than serve
    /// data that may be stale.
    #[arg(long, env = "LATCHKEY_MAX_STALENESS", default_value = "10m", value_parser = parse_duration)]
    pub(crate) max_staleness: Duration,
    /// Failed client authentications a minute allowed for one client_id from one address
    /// (0: no limit). Past it, that client_id from that address gets 429 until it slows down.
    #[arg(long, env = "LATCHKEY_AUTH_FAILURES_PER_CLIENT", default_value_t = 10)]
    pub(crate) auth_failures_per_client: u32,
    /// Failed client authentications a minute allowed from one address, whatever the client_ids
    /// (0: no limit; IPv6 addresses count by their /64). Past it, the address gets 429.
    #[arg(
        long,
        env = "LATCHKEY_AUTH_FAILURES_PER_ADDRESS",
        default_value_t = 100
    )]
    pub(crate) auth_failures_per_address: u32,
    /// A proxy in front of latchkey (an address or a CIDR such as 10.0.0.0/8; repeat the flag
    /// for more, or give a comma-separated list in the environment): only requests from one of
    /// them have their source read from Forwarded or X-Forwarded-For.
    #[arg(long = "trusted-proxy", value_name = "CIDR", env = "LATCHKEY_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); replacing the file (or
    /// SIGHUP) loads the new pair for new connections.
    #[arg(
        long,
        env = "LATCHKEY_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "LATCHKEY_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub(crate) tls_key: Option<PathBuf>,
    /// How long a client has to send a request's headers (and the TLS handshake), from its
    /// first byte or from connecting; the connection is closed past it.
    #[arg(long, env = "LATCHKEY_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_limit)]
    pub(crate) header_timeout: Duration,
    /// How long a client has to send a request's body, once its headers arrived: 408 past it.
    #[arg(long, env = "LATCHKEY_BODY_TIMEOUT", default_value = "10s", value_parser = parse_limit)]
    pub(crate) body_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "LATCHKEY_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_limit)]
    pub(crate) idle_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    #[arg(long, env = "LATCHKEY_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) max_connections: u32,
    /// The largest request line and headers, in bytes (at least 8192): 431 past it.
    #[arg(long, env = "LATCHKEY_MAX_HEADER_BYTES", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(8192..=1_048_576))]
    pub(crate) max_header_bytes: u32,
    /// On SIGTERM or Ctrl-C, how long to let requests in flight finish before closing their
    /// connections.
    #[arg(long, env = "LATCHKEY_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub(crate) shutdown_timeout: Duration,
    /// Serve Prometheus metrics at GET /metrics on this address (such as 127.0.0.1:9090), a
    /// listener apart from the public one. Off by default: nothing is counted then.
    #[arg(long, env = "LATCHKEY_METRICS_LISTEN", value_name = "ADDR")]
    pub(crate) metrics_listen: Option<String>,
}

/// A network (`10.0.0.0/8`) or one address (`192.0.2.7`, `::1`).
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|network| network.trunc())
        .map_err(|_| {
            format!(
                "`{text}` is not an IP address or a network such as 10.0.0.0/8 or 2001:db8::/32"
            )
        })
}

fn parse_issuer(text: &str) -> Result<String, String> {
    latchkey_manage::tenants::check_issuer(text)
        .map(|()| text.to_owned())
        .map_err(|error| error.to_string())
}

/// A connection time limit: a duration or seconds, above zero.
fn parse_limit(text: &str) -> Result<Duration, String> {
    let limit = parse_duration(text)?;
    if limit.is_zero() {
        return Err("use a time limit above zero, such as 10s".to_owned());
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::parse_network;

    #[test]
    fn trusted_proxies_are_networks_or_single_addresses() {
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        // Host bits are dropped: 10.1.2.3/8 is the network 10.0.0.0/8.
        assert_eq!(
            parse_network("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network(" 192.0.2.7 ").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        for bad in ["", "10.0.0.0/33", "proxy.internal", "10.0.0"] {
            let error = parse_network(bad).unwrap_err();
            assert!(error.contains("10.0.0.0/8"), "{bad:?}: {error}");
        }
    }
}
