//! Where the master key comes from, and `latchkey master-key ...`.

use crate::cli::MasterKeyCommand;
use anyhow::{Context, bail};
use latchkey_keys::Keyring;
use latchkey_keys::master_key::generate_text;
use latchkey_server::keys::{self, MasterKeys};
use latchkey_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable that holds master keys inline (comma-separated, first seals).
const MASTER_KEY_ENV: &str = "LATCHKEY_MASTER_KEY";

/// The file of an SQLite database URL, if it names one.
fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The master key file kept beside an SQLite database when no master key is given.
pub(crate) fn default_file(database_url: &str) -> Option<PathBuf> {
    let mut name = sqlite_path(database_url)?.into_os_string();
    name.push(".master-key");
    Some(PathBuf::from(name))
}

/// Writes a new file only the owner can read, refusing to replace an existing one.
fn create_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Finds the master keys: `--master-key-file`, then `LATCHKEY_MASTER_KEY`, then a file beside
/// the SQLite database (created on first use, with a warning).
pub(crate) fn resolve(
    file: Option<PathBuf>,
    database_url: &str,
    serving: bool,
) -> anyhow::Result<Arc<MasterKeys>> {
    if let Some(path) = file {
        return Ok(Arc::new(MasterKeys::from_file(path)?));
    }
    if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
        let keyring =
            Keyring::parse(&text).with_context(|| format!("{MASTER_KEY_ENV} is not usable"))?;
        return Ok(Arc::new(MasterKeys::new(keyring, None)));
    }
    let Some(path) = default_file(database_url) else {
        bail!(
            "a master key is required with this database: give --master-key-file or set {MASTER_KEY_ENV}"
        );
    };
    if !path.exists() {
        create_private_file(&path, &format!("{}\n", generate_text()))?;
        tracing::warn!(
            file = %path.display(),
            "no master key given: created one beside the SQLite database. Production deployments \
             should keep the master key elsewhere (--master-key-file or {MASTER_KEY_ENV}), so that \
             a copy of the database alone cannot sign tokens"
        );
    } else if serving {
        tracing::warn!(
            file = %path.display(),
            "using the master key file beside the SQLite database; production deployments should \
             keep the master key elsewhere (--master-key-file or {MASTER_KEY_ENV})"
        );
    }
    Ok(Arc::new(MasterKeys::from_file(path)?))
}

/// Puts a new master key first in `path`, keeping the others after it (they still open keys
/// sealed before the rotation, for servers that have not re-read the file yet).
fn prepend_new_key(path: &Path) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let temporary = path.with_extension("master-key.new");
    let _ = std::fs::remove_file(&temporary);
    create_private_file(&temporary, &format!("{}\n{old}", generate_text()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("could not replace {}", path.display()))?;
    Ok(())
}

pub(crate) async fn run(
    store: &dyn Store,
    command: MasterKeyCommand,
    file: Option<PathBuf>,
    database_url: &str,
) -> anyhow::Result<()> {
    let MasterKeyCommand::Rotate(args) = command else {
        unreachable!("generate is answered before the store is opened")
    };
    if args.generate {
        let path = match &file {
            Some(path) => path.clone(),
            None if std::env::var(MASTER_KEY_ENV).is_ok() => bail!(
                "{MASTER_KEY_ENV} cannot be rewritten: put a new key (latchkey master-key generate) first in it, keep \
                 the old one after a comma, restart the servers, then run `latchkey master-key rotate`"
            ),
            None => default_file(database_url)
                .context("this database has no master key file to rotate")?,
        };
        prepend_new_key(&path)?;
    }
    let master_keys = resolve(file, database_url, false)?;
    let resealed = keys::reseal_all(store, &master_keys).await?;
    let current = master_keys.keyring().current_id().to_owned();
    println!("Re-sealed {resealed} signing key(s) with master key {current}.");
    println!(
        "Servers started with a master key file pick the new key up on their own; servers given {MASTER_KEY_ENV} \
         need it to list the new key first. Older keys can leave the configuration once every server runs with the new one."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_file_sits_beside_the_sqlite_file() {
        assert_eq!(
            default_file("sqlite://latchkey.db"),
            Some(PathBuf::from("latchkey.db.master-key"))
        );
        assert_eq!(
            default_file("sqlite:///var/lib/l.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/l.db.master-key"))
        );
        assert_eq!(default_file("sqlite::memory:"), None);
        assert_eq!(default_file("postgres://db/latchkey"), None);
    }
}
