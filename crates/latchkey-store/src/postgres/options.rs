//! What a PostgreSQL URL may say beyond what the driver reads: latchkey's own parameters for
//! the pool and its time limits, taken out of the query before the driver parses the rest
//! (`sslmode`, `sslrootcert`, `options`, `application_name`... stay the driver's).

use crate::StoreError;
use std::time::Duration;

/// How the pool connects and how long an operation may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolSettings {
    /// Connections per node (`pool_size`): admin writes are rare and the token path uses none.
    pub(crate) size: u32,
    /// How long opening one connection may take (`connect_timeout`, in seconds, as libpq reads
    /// it).
    pub(crate) connect_timeout: Duration,
    /// How long one admin-path operation may take, from asking for a connection to its last
    /// row (`statement_timeout`, in milliseconds, as PostgreSQL's setting of that name; also
    /// set on the server, so it stops work the node gave up on). The snapshot load is exempt.
    pub(crate) statement_timeout: Duration,
    /// How long an operation waits for a live connection (`acquire_timeout`, in milliseconds):
    /// the pool checks an idle connection before handing it out, so a database that stopped
    /// answering (a black-holed network) fails operations within this, not the statement
    /// timeout.
    pub(crate) acquire_timeout: Duration,
    /// Whether followers of the change log hold a `LISTEN` connection (`listen=on|off`). Off
    /// for a pooler in transaction mode (PgBouncer), which cannot keep one: nodes then poll.
    pub(crate) listen: bool,
}

impl Default for PoolSettings {
    fn default() -> PoolSettings {
        PoolSettings {
            size: 8,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            // A write to a database that stopped answering fails within two seconds instead
            // of hanging; a live one hands out a connection in well under a millisecond.
            acquire_timeout: Duration::from_millis(1500),
            listen: true,
        }
    }
}

/// Splits `url` into the URL the driver reads and latchkey's settings.
pub(crate) fn split(url: &str) -> Result<(String, PoolSettings), StoreError> {
    let mut settings = PoolSettings::default();
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), settings));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "pool_size" => settings.size = number(key, value, 1..=1000)?,
            "connect_timeout" => {
                settings.connect_timeout = Duration::from_secs(number(key, value, 1..=3600)?)
            }
            "statement_timeout" => {
                settings.statement_timeout =
                    Duration::from_millis(number(key, value, 1..=3_600_000)?)
            }
            "acquire_timeout" => {
                settings.acquire_timeout = Duration::from_millis(number(key, value, 1..=3_600_000)?)
            }
            "listen" => {
                settings.listen = match value {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(StoreError::BadUrl(format!(
                            "listen in the database URL must be on or off, not {value:?}"
                        )));
                    }
                }
            }
            _ => kept.push(pair),
        }
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((driver_url, settings))
}

/// The URL PostgreSQL's own tools (`pg_dump`, `pg_restore`, `psql`) take for the same
/// database, fit to print: latchkey's parameters taken out (libpq refuses parameters it does
/// not know), and the password too (the tools read it from `PGPASSWORD` or `~/.pgpass`).
pub(crate) fn tool_url(url: &str) -> String {
    let driver_url = match split(url) {
        Ok((driver_url, _)) => driver_url,
        Err(_) => url.split('?').next().unwrap_or_default().to_owned(),
    };
    let Some(scheme_end) = driver_url.find("://").map(|at| at + 3) else {
        return driver_url;
    };
    let authority_end = driver_url[scheme_end..]
        .find(['/', '?'])
        .map_or(driver_url.len(), |at| scheme_end + at);
    let authority = &driver_url[scheme_end..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!(
                "{}{user}@{host}{}",
                &driver_url[..scheme_end],
                &driver_url[authority_end..]
            )
        }
        None => driver_url,
    }
}

/// A whole number in `range`, or an error naming the parameter and what it takes.
fn number<T>(key: &str, value: &str, range: std::ops::RangeInclusive<T>) -> Result<T, StoreError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    value
        .parse::<T>()
        .ok()
        .filter(|number| range.contains(number))
        .ok_or_else(|| {
            StoreError::BadUrl(format!(
                "{key} in the database URL must be a whole number from {} to {}, not {value:?}",
                range.start(),
                range.end()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::{PoolSettings, split, tool_url};
    use std::time::Duration;

    #[test]
    fn latchkey_parameters_are_taken_out_and_the_driver_keeps_the_rest() {
        let (url, settings) = split(
            "postgres://u:p@db/x?sslmode=require&pool_size=20&statement_timeout=250&application_name=n&connect_timeout=3&acquire_timeout=100&listen=off",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u:p@db/x?sslmode=require&application_name=n"
        );
        assert_eq!(
            settings,
            PoolSettings {
                size: 20,
                connect_timeout: Duration::from_secs(3),
                statement_timeout: Duration::from_millis(250),
                acquire_timeout: Duration::from_millis(100),
                listen: false,
            }
        );
    }

    #[test]
    fn a_url_without_them_gets_the_defaults() {
        let (url, settings) = split("postgres://db/x").unwrap();
        assert_eq!(url, "postgres://db/x");
        assert_eq!(settings, PoolSettings::default());
        let (url, _) = split("postgres://db/x?pool_size=2").unwrap();
        assert_eq!(url, "postgres://db/x");
    }

    #[test]
    fn a_bad_value_names_the_parameter_and_never_echoes_the_rest_of_the_url() {
        let error = split("postgres://u:secret@db/x?pool_size=0").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("pool_size"), "{message}");
        assert!(message.contains("1 to 1000"), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(split("postgres://db/x?statement_timeout=1s").is_err());
        assert!(split("postgres://db/x?listen=yes").is_err());
    }

    #[test]
    fn the_tool_url_has_no_password_and_none_of_latchkeys_parameters() {
        assert_eq!(
            tool_url("postgres://u:secret@db:5433/x?sslmode=require&pool_size=20&listen=off"),
            "postgres://u@db:5433/x?sslmode=require"
        );
        assert_eq!(tool_url("postgresql://db/x"), "postgresql://db/x");
        assert_eq!(tool_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(
            tool_url("postgres://u:p@db/x?pool_size=0"),
            "postgres://u@db/x"
        );
    }
}
