//! `latchkey db copy` moves a deployment between SQLite and PostgreSQL, both ways: a server on
//! the copy verifies tokens issued before it and accepts the same client secrets, a revoked
//! token stays revoked, and a target that already holds apps is refused. Keys stay sealed, so
//! the master key must open them before anything is written, and from SQLite to SQLite the
//! master key file goes along.

use crate::harness::*;
use serde_json::Value;

/// The two databases of one copy, and what the CLI needs to reach them.
struct Copy {
    from: String,
    to: String,
    env: Vec<(&'static str, String)>,
}

impl Copy {
    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// `latchkey --database URL ARGS...` (it must succeed), parsed as JSON.
    fn json(&self, url: &str, args: &[&str]) -> Value {
        let text = cli_ok_with(&self.env(), &[&["--database", url], args].concat());
        serde_json::from_str(&text).expect("JSON")
    }

    /// `latchkey db copy --from FROM --to TO`.
    fn run(&self) -> std::process::Output {
        latchkey_command()
            .envs(self.env())
            .args(["db", "copy", "--from", &self.from, "--to", &self.to])
            .output()
            .expect("running latchkey")
    }

    /// `latchkey serve` on `url`, started and ready.
    fn serve(&self, url: &str, dir: &std::path::Path, log: &str) -> Served {
        let mut command = latchkey_command();
        command.envs(self.env());
        Launched::with(command, url, dir.join(log), &SERVE_ARGS)
            .ready(None)
            .0
    }
}

/// Issues two tokens on a server on the source, revokes one, copies, and checks the copy on a
/// server on the target.
async fn a_copy_keeps_tokens_secrets_and_revocations(copy: &Copy) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let svc = copy.json(&copy.from, &["app", "create", "--name", "svc", "--json"]);
    let resource = copy.json(
        &copy.from,
        &["app", "create", "--name", "api", "--introspect", "--json"],
    );
    let source = copy.serve(&copy.from, dir.path(), "source.log");
    let on_source = source.http();
    let kept = on_source.token_for(&svc, None).await.access_token();
    let revoked = on_source.token_for(&svc, None).await.access_token();
    assert_eq!(on_source.revoke(&svc, &revoked).await.status, 200);
    assert_eq!(
        on_source.introspect(&resource, &revoked).await["active"],
        false,
        "a revocation is stored before it is acknowledged"
    );

    let output = copy.run();
    assert!(output.status.success(), "{}", describe(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.starts_with("copied 1 tenant, 2 apps, 1 signing key, 1 revocation, "),
        "{printed}"
    );

    let target = copy.serve(&copy.to, dir.path(), "target.log");
    let on_target = target.http();
    let answer = on_target.introspect(&resource, &kept).await;
    assert_eq!(
        answer["active"], true,
        "a token from before the copy: {answer}"
    );
    assert_eq!(answer["client_id"], client_id(&svc));
    let answer = on_target.introspect(&resource, &revoked).await;
    assert_eq!(answer, serde_json::json!({ "active": false }));
    let fresh = on_target.token_for(&svc, None).await.access_token();
    assert_eq!(
        on_target.introspect(&resource, &fresh).await["active"],
        true,
        "the same client secret gets tokens on the copy"
    );

    let again = copy.run();
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    let message = stderr(&again);
    assert!(
        message.contains("already holds 2 app(s)") && message.contains("copy into a new database"),
        "{message}"
    );
}

/// A temporary directory and the URL of an SQLite file in it (not made yet).
fn sqlite_in(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}", dir.path().join(name).display())
}

fn master_key_env() -> Vec<(&'static str, String)> {
    let key = cli_ok_with(&[], &["master-key", "generate"]);
    vec![("LATCHKEY_MASTER_KEY", key.trim().to_owned())]
}

#[tokio::test]
async fn a_copy_from_sqlite_to_postgresql_serves_the_same_tokens_and_secrets() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = sqlite_in(&dir, "latchkey.db");
    let postgres = PgDatabase::create();
    let copy = Copy {
        from: sqlite,
        to: postgres.url(),
        env: master_key_env(),
    };
    a_copy_keeps_tokens_secrets_and_revocations(&copy).await;
}

#[tokio::test]
async fn a_copy_from_postgresql_to_sqlite_serves_the_same_tokens_and_secrets() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = sqlite_in(&dir, "latchkey.db");
    let postgres = PgDatabase::create();
    let copy = Copy {
        from: postgres.url(),
        to: sqlite,
        env: master_key_env(),
    };
    a_copy_keeps_tokens_secrets_and_revocations(&copy).await;
}

#[test]
fn a_copy_from_an_unreachable_database_is_one_line_that_names_the_flag() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = sqlite_in(&dir, "latchkey.db");
    let env = master_key_env();
    let output = latchkey_command()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args([
            "db",
            "copy",
            "--from",
            "postgres://u:secretpw@127.0.0.1:1/latchkey",
            "--to",
            &sqlite,
        ])
        .output()
        .expect("running latchkey");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: could not open the database") && message.contains("--from"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(!message.contains("secretpw"), "no password: {message}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listing").count(),
        0,
        "nothing is written when the source cannot be read"
    );
}

#[test]
fn a_copy_to_postgresql_without_a_master_key_says_how_to_make_one() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = sqlite_in(&dir, "latchkey.db");
    let output = latchkey_command()
        .args([
            "db",
            "copy",
            "--from",
            &sqlite,
            "--to",
            "postgres://u@127.0.0.1:1/latchkey",
        ])
        .output()
        .expect("running latchkey");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = stderr(&output);
    assert!(
        message.starts_with("error: a master key is required with this database")
            && message.contains("latchkey master-key generate"),
        "{message}"
    );
}

#[tokio::test]
async fn a_copy_from_sqlite_to_sqlite_takes_the_master_key_file_along() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let copy = Copy {
        from: sqlite_in(&dir, "old.db"),
        to: sqlite_in(&dir, "new.db"),
        env: Vec::new(),
    };
    let svc = copy.json(&copy.from, &["app", "create", "--name", "svc", "--json"]);
    let rotated = copy.json(&copy.from, &["key", "rotate", "--json"]);

    let output = copy.run();
    assert!(output.status.success(), "{}", describe(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("copied the master key file to"),
        "{printed}"
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("a key file");
    assert_eq!(read("new.db.master-key"), read("old.db.master-key"));

    let target = copy.serve(&copy.to, dir.path(), "target.log");
    let token = target.http().token_for(&svc, None).await.access_token();
    assert_eq!(
        jwt_kid(&token),
        rotated["kid"].as_str().expect("the rotated key's kid"),
        "the copy signs with the source's key, opened by the master key file copied with it"
    );
}

#[test]
fn a_copy_with_a_master_key_that_opens_no_key_is_refused_before_writing() {
    if skip_unless_postgres("copies between databases of its own: once is enough") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let postgres = PgDatabase::create();
    let source = Copy {
        from: sqlite_in(&dir, "latchkey.db"),
        to: postgres.url(),
        env: master_key_env(),
    };
    source.json(&source.from, &["app", "create", "--name", "svc", "--json"]);
    source.json(&source.from, &["key", "rotate", "--json"]);
    let other_key = Copy {
        env: master_key_env(),
        ..source
    };

    let output = other_key.run();

    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let message = stderr(&output);
    assert!(
        message.contains("which the master key given does not open")
            && message.contains("nothing was copied"),
        "{message}"
    );
    let apps = other_key.json(&other_key.to, &["app", "list", "--json"]);
    assert_eq!(apps, serde_json::json!([]), "the target is left empty");
}
