//! Where the master key comes from, and `latchkey master-key ...`.

use crate::cli::MasterKeyCommand;
use anyhow::{Context, bail};
use latchkey_keys::Keyring;
use latchkey_keys::master_key::generate_text;
use latchkey_manage::keys::{self, MasterKeys};
use latchkey_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// A new master key's text, wiped once written or shown.
pub(crate) fn new_key_text() -> Zeroizing<String> {
    Zeroizing::new(generate_text())
}

/// The environment variable that holds master keys inline (comma-separated, first seals).
pub(crate) const MASTER_KEY_ENV: &str = "LATCHKEY_MASTER_KEY";

/// Master keys given inline rather than in a file: `LATCHKEY_MASTER_KEY`, else the
/// configuration file's `master_key` (the environment wins, as it does over every setting of
/// the file).
pub(crate) struct InlineKeys {
    /// The keys' text (base64, comma-separated, the first seals), wiped when dropped.
    text: Zeroizing<String>,
    /// Where they were given, for messages.
    origin: String,
}

impl InlineKeys {
    /// Reads `LATCHKEY_MASTER_KEY` once, falling back on the file's `master_key`.
    pub(crate) fn find(file: Option<&crate::config_file::AppliedFile>) -> Option<InlineKeys> {
        if let Ok(text) = std::env::var(MASTER_KEY_ENV) {
            // This copy is wiped once dropped; the process environment keeps its own.
            return Some(InlineKeys {
                text: Zeroizing::new(text),
                origin: MASTER_KEY_ENV.to_owned(),
            });
        }
        let file = file?;
        let secret = file.master_key.as_ref()?;
        Some(InlineKeys {
            text: secret.text.clone(),
            origin: format!(
                "{} line {}: key \"{}\"",
                file.path.display(),
                secret.line,
                crate::config_file::MASTER_KEY_KEY
            ),
        })
    }

    /// Where the keys were given: `LATCHKEY_MASTER_KEY` or the file's key and line.
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// The keyring, or why the keys are not usable (naming where they were given, never them).
    pub(crate) fn keyring(&self) -> anyhow::Result<Keyring> {
        Keyring::parse(&self.text).with_context(|| format!("{} is not usable", self.origin))
    }
}

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

/// Writes `contents` to a new private file at `path` unless one is already there; returns
/// whether this call created it. Concurrent callers (several servers starting on a fresh
/// deployment) agree: the file appears whole, by a hard link from a file of this process's own,
/// and exactly one of them wins; the others then read the winner's.
pub(crate) fn create_once(path: &Path, contents: &str) -> anyhow::Result<bool> {
    let mut own = path.as_os_str().to_owned();
    own.push(format!(".{}.tmp", latchkey_keys::random::uuid_v4()));
    let own = PathBuf::from(own);
    create_private_file(&own, contents)?;
    let linked = std::fs::hard_link(&own, path);
    let _ = std::fs::remove_file(&own);
    match linked {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error).with_context(|| format!("could not create {}", path.display())),
    }
}

/// Fails, naming the master key needed, when the database already holds keys sealed by a
/// master key: a new master key could not open them, and keys sealed with it would leave the
/// deployment with two master keys of which the servers have one.
async fn refuse_if_sealed(store: &dyn Store, path: &Path) -> anyhow::Result<()> {
    let keys = store
        .all_signing_keys()
        .await
        .context("could not read the signing keys")?;
    if let Some(id) = keys.iter().find_map(|key| key.master_key_id.as_deref()) {
        bail!(
            "the signing keys of this database are sealed by master key {id}, and there is no \
             master key file at {}: put the master key file that belongs to this database there, \
             or give it with --master-key-file (or the keys with {MASTER_KEY_ENV}); latchkey creates \
             a master key only for a database without sealed signing keys",
            path.display()
        );
    }
    Ok(())
}

/// Where the master keys come from; resolved only by the commands that need them.
pub(crate) struct MasterKeySource {
    /// `--master-key-file`.
    pub(crate) file: Option<PathBuf>,
    /// `--database`, for the file beside an SQLite database.
    pub(crate) database_url: String,
    /// `LATCHKEY_MASTER_KEY` or the configuration file's `master_key`.
    pub(crate) inline: Option<Arc<InlineKeys>>,
}

impl MasterKeySource {
    /// Fails, saying how to make one, when the database is a server's (PostgreSQL: no file
    /// beside it to keep a master key in) and none is given.
    pub(crate) fn require_given(&self) -> anyhow::Result<()> {
        if self.file.is_none() && self.inline.is_none() && !self.database_url.starts_with("sqlite:")
        {
            bail!(
                "a master key is required with this database: give --master-key-file FILE or set \
                 {MASTER_KEY_ENV}; make one with `latchkey master-key generate > FILE` (keep it \
                 apart from the database, and give the same one to every node)"
            );
        }
        Ok(())
    }

    /// Finds the master keys: `--master-key-file`, then `LATCHKEY_MASTER_KEY` (or the
    /// configuration file's `master_key`), then a file
    /// beside the SQLite database (created on first use, with a warning, unless the database
    /// already holds sealed keys). `serving` adds a warning about the file's place.
    pub(crate) async fn resolve(
        &self,
        store: &dyn Store,
        serving: bool,
    ) -> anyhow::Result<Arc<MasterKeys>> {
        if let Some(path) = &self.file {
            return Ok(Arc::new(MasterKeys::from_file(path.clone())?));
        }
        if let Some(inline) = &self.inline {
            return Ok(Arc::new(MasterKeys::new(inline.keyring()?, None)));
        }
        let Some(path) = default_file(&self.database_url) else {
            bail!(
                "a master key is required with this database: give --master-key-file or set {MASTER_KEY_ENV}"
            );
        };
        let created = if path.exists() {
            false
        } else {
            refuse_if_sealed(store, &path).await?;
            create_once(
                &path,
                &Zeroizing::new(format!("{}\n", new_key_text().as_str())),
            )?
        };
        if created {
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
}

/// Puts a new master key first in `path`, keeping the others after it (they still open keys
/// sealed before the rotation, for servers that have not re-read the file yet).
fn prepend_new_key(path: &Path) -> anyhow::Result<()> {
    let old = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?,
    );
    let temporary = path.with_extension("master-key.new");
    let _ = std::fs::remove_file(&temporary);
    let keys = Zeroizing::new(format!("{}\n{}", new_key_text().as_str(), old.as_str()));
    create_private_file(&temporary, &keys)?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("could not replace {}", path.display()))?;
    Ok(())
}

pub(crate) async fn run(
    store: &dyn Store,
    command: MasterKeyCommand,
    source: &MasterKeySource,
) -> anyhow::Result<()> {
    let MasterKeyCommand::Rotate(args) = command else {
        unreachable!("generate is answered before the store is opened")
    };
    if args.generate {
        let path = match (&source.file, &source.inline) {
            (Some(path), _) => path.clone(),
            (None, Some(inline)) => bail!(
                "{} cannot be rewritten: put a new key (latchkey master-key generate) first in it, keep \
                 the old one after a comma, restart the servers, then run `latchkey master-key rotate`",
                inline.origin()
            ),
            (None, None) => default_file(&source.database_url)
                .context("this database has no master key file to rotate")?,
        };
        prepend_new_key(&path)?;
    }
    let master_keys = source.resolve(store, false).await?;
    let resealed = keys::reseal_all(store, &master_keys).await?;
    let current = master_keys.keyring().current_id().to_owned();
    outln!("Re-sealed {resealed} signing key(s) with master key {current}.");
    outln!(
        "Servers started with a master key file pick the new key up on their own; servers given {MASTER_KEY_ENV} \
         need it to list the new key first. Older keys can leave the configuration once every server runs with the new one."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_key_file_is_created_once_and_keeps_the_first_contents() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("x.db.master-key");

        assert!(create_once(&path, "first\n").expect("creating the file"));
        assert!(!create_once(&path, "second\n").expect("finding the file"));

        assert_eq!(std::fs::read_to_string(&path).expect("reading"), "first\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listing")
            .map(|entry| entry.expect("an entry").file_name())
            .collect();
        assert_eq!(
            names,
            ["x.db.master-key"],
            "no file of its own is left behind"
        );
    }

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
