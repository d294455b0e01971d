//! `cargo xtask bench-fill --database URL --apps N [--reuse PERCENT]`: fills an empty latchkey
//! database with the benchmark's apps (client ids `bench-<i>`, secrets `secret-<i>`, scope
//! `bench`, in the `default` tenant) through the store's own import, so that one filler serves
//! every backend and writes each row as latchkey itself would.

use anyhow::{Context, bail};
use latchkey_manage::apps::{self, NewApp};
use latchkey_protocol::client::ClientType;
use latchkey_protocol::{AppSettingsPatch, ClientSecret, Scope};
use latchkey_store::Dump;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What `bench-fill` is told.
#[derive(Debug, PartialEq)]
struct Args {
    database: String,
    apps: u64,
    reuse_percent: Option<u8>,
}

const USAGE: &str = "usage: cargo xtask bench-fill --database URL --apps N [--reuse PERCENT]";

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let (mut database, mut apps, mut reuse_percent) = (None, None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value; {USAGE}"))?;
        match flag.as_str() {
            "--database" => database = Some(value),
            "--apps" => apps = Some(value.parse().context("--apps takes a count")?),
            // 0 is how the bench says "no token reuse".
            "--reuse" => {
                reuse_percent = Some(value.parse::<u8>().context("--reuse takes a percentage")?)
                    .filter(|percent| *percent > 0)
            }
            _ => bail!("unknown flag {flag}; {USAGE}"),
        }
    }
    Ok(Args {
        database: database.with_context(|| format!("--database is required; {USAGE}"))?,
        apps: apps.with_context(|| format!("--apps is required; {USAGE}"))?,
        reuse_percent,
    })
}

/// The task: parses its flags (after the task's name) and fills the database.
pub(crate) fn bench_fill() -> anyhow::Result<()> {
    let args = parse(std::env::args().skip(2))?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(fill(&args))
}

async fn fill(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs() as i64;
    let settings = AppSettingsPatch {
        scopes: Some(vec![Scope::parse("bench").context("the bench scope")?]),
        token_reuse_percent: args.reuse_percent.map(Some),
        ..AppSettingsPatch::default()
    };
    // Each record is built and checked as `latchkey app create` builds one, only with the
    // client id and secret the load generators know.
    let apps = (0..args.apps)
        .map(|index| {
            let new = NewApp {
                tenant: "default".to_owned(),
                name: format!("bench {index}"),
                app_type: ClientType::M2m,
                settings: settings.clone(),
            };
            let secret = ClientSecret::new(format!("secret-{index}"));
            apps::record(new, format!("bench-{index}"), Some(&secret), now)
        })
        .collect::<Result<Vec<_>, _>>()
        .context("building the bench apps")?;
    let store = latchkey_store::open(&args.database)
        .await
        .with_context(|| format!("opening {}", args.database))?;
    let dump = Dump {
        apps,
        ..Dump::default()
    };
    store
        .import(&dump)
        .await
        .context("importing the bench apps")?;
    eprintln!(
        "bench-fill: {} apps in {:.1} s",
        args.apps,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Args, parse};

    fn args(words: &[&str]) -> anyhow::Result<Args> {
        parse(words.iter().map(|word| word.to_string()))
    }

    #[test]
    fn flags_parse_and_zero_reuse_means_none() {
        let parsed = args(&[
            "--database",
            "sqlite://x.db",
            "--apps",
            "10",
            "--reuse",
            "0",
        ])
        .unwrap();
        assert_eq!(
            parsed,
            Args {
                database: "sqlite://x.db".to_owned(),
                apps: 10,
                reuse_percent: None
            }
        );
        assert_eq!(
            args(&["--apps", "1", "--database", "d", "--reuse", "80"])
                .unwrap()
                .reuse_percent,
            Some(80)
        );
    }

    #[test]
    fn missing_or_unknown_flags_are_refused() {
        assert!(args(&["--apps", "1"]).is_err());
        assert!(args(&["--database", "d"]).is_err());
        assert!(args(&["--database", "d", "--apps", "x"]).is_err());
        assert!(args(&["--database", "d", "--apps", "1", "--colour", "red"]).is_err());
        assert!(args(&["--database"]).is_err());
    }
}
