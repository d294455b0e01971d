//! `latchkey backup` and `latchkey restore`: a backup taken while a server issues tokens and
//! apps are being created restores into a database whose server holds every app and key
//! acknowledged before the backup began, verifies the tokens issued before it and accepts the
//! old secrets. Both refuse to replace a file without `--force`, restore refuses to replace a
//! database a server has open, and a file that is not a whole latchkey backup is refused
//! before anything is written. On PostgreSQL both refuse and give PostgreSQL's own commands.

use crate::harness::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// At most this many apps are created while the backup runs.
const MAX_CREATED_DURING: usize = 40;

const SQLITE_ONLY: &str = "backup and restore copy SQLite files (PostgreSQL: pg_dump)";

/// The SQLite file of a test database's URL.
fn file_of(db_url: &str) -> PathBuf {
    PathBuf::from(db_url.strip_prefix("sqlite://").expect("an sqlite:// URL"))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `latchkey --database DB_URL ARGS...`.
fn run_on(db_url: &str, args: &[&str]) -> std::process::Output {
    latchkey_on(db_url)
        .args(args)
        .output()
        .expect("running latchkey")
}

/// `run_on`, which must succeed; its stdout.
fn ok_on(db_url: &str, args: &[&str]) -> String {
    let output = run_on(db_url, args);
    assert!(
        output.status.success(),
        "latchkey {args:?}: {}",
        describe(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// `run_on`, which must fail with exit code 1 and a message (not a panic) naming each of
/// `mentions`; the message.
fn refused_on(db_url: &str, args: &[&str], mentions: &[&str]) -> String {
    let output = run_on(db_url, args);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = stderr(&output);
    for mention in mentions {
        assert!(message.contains(mention), "{mention:?} in {message}");
    }
    assert!(!message.contains("panicked"), "{message}");
    message
}

/// The client ids `app list` finds on the database.
fn client_ids_on(db_url: &str) -> BTreeSet<String> {
    let list = cli_json_on(db_url, &["app", "list", "--json"]);
    list.as_array()
        .expect("a list of apps")
        .iter()
        .map(|app| client_id(app).to_owned())
        .collect()
}

fn create_app(db_url: &str, name: &str) -> Value {
    cli_json_on(db_url, &["app", "create", "--name", name, "--json"])
}

/// Apps created one after another by the CLI on a thread of their own until stopped, each
/// kept once its command has succeeded (acknowledged).
struct Creator {
    stop: Arc<AtomicBool>,
    created: Arc<Mutex<Vec<Value>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Creator {
    fn start(db_url: &str) -> Creator {
        let stop = Arc::new(AtomicBool::new(false));
        let created = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::spawn({
            let (db_url, stop, created) = (db_url.to_owned(), stop.clone(), created.clone());
            move || {
                for index in 0..MAX_CREATED_DURING {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let app = create_app(&db_url, &format!("during-{index}"));
                    created.lock().expect("the list").push(app);
                }
            }
        });
        Creator {
            stop,
            created,
            thread,
        }
    }

    /// The apps acknowledged so far.
    fn acknowledged(&self) -> Vec<Value> {
        self.created.lock().expect("the list").clone()
    }

    fn finish(self) -> Vec<Value> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the creating thread");
        self.created.lock().expect("the list").clone()
    }
}

#[tokio::test]
async fn a_backup_under_load_restores_every_app_key_and_token_acknowledged_before_it() {
    if skip_unless_sqlite(SQLITE_ONLY) {
        return;
    }
    let (database, db_url) = database();
    let master_key_file = database.master_key_file().to_owned();
    let first_apps: Vec<Value> = (0..3)
        .map(|index| create_app(&db_url, &format!("before-{index}")))
        .collect();
    let server = Served::start(database, db_url.clone());
    let http = server.http();
    let mut tokens: Vec<(String, String)> = Vec::new();
    for app in &first_apps {
        let token = http.token_for(app, None).await.access_token();
        tokens.push((client_id(app).to_owned(), token));
    }
    // A second key, so that the backup must hold the retiring one too.
    let rotated = cli_json_on(&db_url, &["key", "rotate", "--json"]);
    let new_kid = rotated["kid"]
        .as_str()
        .expect("the new key's kid")
        .to_owned();
    let new_kid_signs = eventually("the new key to sign", async || {
        let token = http.token_for(&first_apps[0], None).await.access_token();
        let kid = jwt_kid(&token);
        if kid == new_kid {
            Ok(token)
        } else {
            Err(format!("signed by {kid}"))
        }
    })
    .await;
    tokens.push((client_id(&first_apps[0]).to_owned(), new_kid_signs));
    let keys = cli_json_on(&db_url, &["key", "list", "--json"]);
    let kids: BTreeSet<String> = keys
        .as_array()
        .expect("a list of keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect();
    assert_eq!(kids.len(), 2, "{keys}");

    let load = TokenLoad::start(&http, &first_apps[1]);
    let creator = Creator::start(&db_url);
    eventually(
        "a first app created beside the load",
        async || match creator.acknowledged().is_empty() {
            true => Err("none yet".to_owned()),
            false => Ok(()),
        },
    )
    .await;
    let mut acknowledged = first_apps.clone();
    acknowledged.extend(creator.acknowledged());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let backup_file = dir.path().join("latchkey-backup.db");
    let backed_up = tokio::task::spawn_blocking({
        let (db_url, file) = (db_url.clone(), backup_file.display().to_string());
        move || ok_on(&db_url, &["backup", &file])
    })
    .await
    .expect("the backup command");
    let everything_created: Vec<Value> =
        first_apps.iter().cloned().chain(creator.finish()).collect();
    let tally = load.finish().await;
    assert!(
        tally.issued > 0 && tally.failed == 0,
        "the server kept issuing tokens during the backup: {tally:?}"
    );
    assert!(
        backed_up.starts_with("backed up 1 tenant, ")
            && backed_up.contains("2 signing keys to ")
            && backed_up.contains("does not hold the master key")
            && backed_up.contains(&format!(
                "The master key is in {}, the file beside the database",
                master_key_file.display()
            )),
        "{backed_up}"
    );

    let restored_dir = tempfile::tempdir().expect("a temporary directory");
    let restored_url = sqlite_url(&restored_dir.path().join("latchkey.db"));
    let restored = ok_on(
        &restored_url,
        &["restore", &backup_file.display().to_string()],
    );
    assert!(
        restored.starts_with("restored 1 tenant, ")
            && restored.contains("warning: no master key was found"),
        "the master key is not in the backup, and restore says so: {restored}"
    );
    std::fs::copy(
        &master_key_file,
        restored_dir.path().join("latchkey.db.master-key"),
    )
    .expect("putting the master key beside the restored database");
    let in_backup = client_ids_on(&restored_url);
    for app in &acknowledged {
        assert!(
            in_backup.contains(client_id(app)),
            "{} was acknowledged before the backup began",
            client_id(app)
        );
    }
    let all_ids: BTreeSet<String> = everything_created
        .iter()
        .map(|app| client_id(app).to_owned())
        .collect();
    assert!(in_backup.is_subset(&all_ids), "no app from nowhere");

    let restored_server = Launched::new(
        &restored_url,
        restored_dir.path().join("serve.log"),
        &SERVE_ARGS,
    )
    .ready(None)
    .0;
    let on_restored = restored_server.http();
    let jwks = on_restored.jwks().await;
    let published: BTreeSet<String> = on_restored.jwks_kids().await.into_iter().collect();
    assert_eq!(published, kids, "every key acknowledged before the backup");
    for (client, token) in &tokens {
        verify_token(&jwks, token, client, SERVE_ISSUER)
            .unwrap_or_else(|error| panic!("a token issued before the backup: {error}"));
    }
    for app in everything_created
        .iter()
        .filter(|app| in_backup.contains(client_id(app)))
    {
        let reply = on_restored.token_for(app, None).await;
        assert_eq!(
            reply.status,
            200,
            "{} is in the backup, with its secret: {reply:?}",
            client_id(app)
        );
    }
    drop(server);
}

#[tokio::test]
async fn restore_replaces_a_database_only_with_force_and_never_while_a_server_uses_it() {
    if skip_unless_sqlite(SQLITE_ONLY) {
        return;
    }
    let (database, db_url) = database();
    let kept = create_app(&db_url, "in-the-backup");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let backup_file = dir.path().join("backup.db").display().to_string();
    ok_on(&db_url, &["backup", &backup_file]);
    let later = create_app(&db_url, "after-the-backup");
    let both: BTreeSet<String> = [client_id(&kept), client_id(&later)]
        .map(str::to_owned)
        .into();

    refused_on(
        &db_url,
        &["restore", &backup_file],
        &["already exists", "--force", "nothing was changed"],
    );
    assert_eq!(client_ids_on(&db_url), both, "the database is untouched");

    let mut server = Served::start(database, db_url.clone());
    refused_on(
        &db_url,
        &["restore", "--force", &backup_file],
        &["in use by another process", "stop every server"],
    );
    assert_eq!(client_ids_on(&db_url), both, "the database is untouched");
    server
        .http()
        .assert_tokens_keep_coming(&later, 3, "after a refused restore")
        .await;
    assert!(server.terminate().success(), "{}", server.log());

    let restored = ok_on(&db_url, &["restore", "--force", &backup_file]);
    assert!(
        restored.starts_with("restored 1 tenant, 1 app, "),
        "{restored}"
    );
    assert_eq!(
        client_ids_on(&db_url),
        BTreeSet::from([client_id(&kept).to_owned()]),
        "the database is the backup's"
    );
}

/// Files that are not whole latchkey backups, and what restore says of each.
fn bad_backups(dir: &Path, good: &Path) -> Vec<(PathBuf, &'static str)> {
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database\n").expect("writing");
    let truncated = dir.join("truncated.db");
    let bytes = std::fs::read(good).expect("reading the backup");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("writing");
    // Garbage written over every page but the first (the header stays valid).
    let mut damaged = bytes.clone();
    for page in damaged.chunks_mut(4096).skip(1) {
        for (index, byte) in page.iter_mut().enumerate().skip(20).take(200) {
            *byte = (index * 7 % 251) as u8;
        }
    }
    let corrupt = dir.join("corrupt.db");
    std::fs::write(&corrupt, damaged).expect("writing");
    let foreign = dir.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .and_then(|conn| conn.execute_batch("CREATE TABLE notes (body TEXT)"))
        .expect("an SQLite file of another program");
    let newer = dir.join("newer.db");
    std::fs::copy(good, &newer).expect("copying the backup");
    rusqlite::Connection::open(&newer)
        .and_then(|conn| {
            conn.execute_batch(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (99999, 'from the future', 1, x'00', 1)",
            )
        })
        .expect("a backup of a newer latchkey");
    vec![
        (dir.join("missing.db"), "there is no file at"),
        (text, "is not an SQLite database"),
        (truncated, "is damaged"),
        (corrupt, "is damaged"),
        (foreign, "is an SQLite database but not latchkey's"),
        (
            newer,
            "holds schema version 99999, newer than this latchkey knows",
        ),
    ]
}

#[test]
fn restore_refuses_a_file_that_is_not_a_whole_latchkey_backup_and_writes_nothing() {
    if skip_unless_sqlite(SQLITE_ONLY) {
        return;
    }
    let (_database, db_url) = database();
    let kept = create_app(&db_url, "kept");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let good = dir.path().join("good.db");
    ok_on(&db_url, &["backup", &good.display().to_string()]);
    let new_dir = tempfile::tempdir().expect("a temporary directory");
    let new_url = sqlite_url(&new_dir.path().join("latchkey.db"));
    let target_folder = file_of(&db_url).parent().expect("a folder").to_owned();

    for (file, mention) in bad_backups(dir.path(), &good) {
        let file = file.display().to_string();
        refused_on(
            &new_url,
            &["restore", &file],
            &[mention, "nothing was changed"],
        );
        assert_eq!(files_in(new_dir.path()), Vec::<String>::new(), "{file}");
        refused_on(
            &db_url,
            &["restore", "--force", &file],
            &[mention, "nothing was changed"],
        );
        let left = files_in(&target_folder);
        assert!(
            !left.iter().any(|name| name.contains(".partial")),
            "no partial file left beside the database: {left:?}"
        );
        assert_eq!(
            client_ids_on(&db_url),
            BTreeSet::from([client_id(&kept).to_owned()]),
            "the database is untouched: {file}"
        );
    }
}

#[test]
fn backup_refuses_an_existing_file_and_replaces_it_only_with_force() {
    if skip_unless_sqlite(SQLITE_ONLY) {
        return;
    }
    let (_database, db_url) = database();
    let app = create_app(&db_url, "svc");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("backup.db");
    std::fs::write(&file, "an older backup\n").expect("writing");
    let name = file.display().to_string();

    refused_on(&db_url, &["backup", &name], &["already exists", "--force"]);
    assert_eq!(
        std::fs::read_to_string(&file).expect("reading"),
        "an older backup\n"
    );
    assert_eq!(files_in(dir.path()), ["backup.db"], "no partial file left");

    let printed = ok_on(&db_url, &["backup", "--force", &name]);
    assert!(
        printed.starts_with("backed up 1 tenant, 1 app, "),
        "{printed}"
    );
    assert_eq!(files_in(dir.path()), ["backup.db"], "no partial file left");
    let restored_url = sqlite_url(&dir.path().join("restored.db"));
    ok_on(&restored_url, &["restore", &name]);
    assert_eq!(
        client_ids_on(&restored_url),
        BTreeSet::from([client_id(&app).to_owned()])
    );
    let missing = sqlite_url(&dir.path().join("nothing-here.db"));
    refused_on(
        &missing,
        &["backup", &dir.path().join("other.db").display().to_string()],
        &["there is no database at", "--database"],
    );
}

#[test]
fn backup_and_restore_on_postgresql_give_postgresqls_own_commands() {
    if skip_unless_postgres("the refusal is PostgreSQL's") {
        return;
    }
    let (_database, db_url) = database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("latchkey.dump").display().to_string();
    let message = refused_on(
        &db_url,
        &["backup", &file],
        &[
            "pg_dump --format=custom",
            "pg_restore",
            "latchkey db copy --from",
        ],
    );
    let message = message + &refused_on(&db_url, &["restore", &file], &["pg_restore --dbname="]);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
    let password = db_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password);
    if let Some(password) = password {
        assert!(!message.contains(password), "no password: {message}");
    }
}
