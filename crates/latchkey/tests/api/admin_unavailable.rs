//! The admin API when the database cannot take a write: 503 `temporarily_unavailable` saying
//! why, with `Retry-After`, while the token endpoint and reads keep working; the same write
//! succeeds once the cause is gone. The database lives on a small tmpfs of its own, filled to
//! the last byte: root writes to read-only files, and a file system with the database open for
//! writing cannot be remounted read-only (`mount` says it is busy), so a full disk is the
//! unavailable database a test can cause.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_full_database_answers_503_temporarily_unavailable_until_space_is_freed() {
    if skip_unless_sqlite("fills the disk under the SQLite file") {
        return;
    }
    let Some(mut tmpfs) = Tmpfs::mount("4m") else {
        return;
    };
    let admins = admins_in(tmpfs.folder(), Setup::default()).await;
    let app = &admins.app;
    let worker = app.seed_app(new_app("worker")).await;
    let apps = "/admin/v1/tenants/default/apps";
    let new_app = json!({"name": "written-later"});

    tmpfs.fill("filler");
    let refused = admins.as_root(Method::POST, apps, Some(&new_app)).await;
    assert_admin_error(&refused, 503, "temporarily_unavailable");
    assert_eq!(
        refused.json()["error_description"],
        "the database is unavailable: the disk holding the database is full",
        "{refused:?}"
    );
    assert_eq!(refused.header("retry-after"), Some("5"), "{refused:?}");
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    // Changes of other kinds are refused the same way, with nothing half done.
    let disable = format!("{apps}/{}/disable", client_id(&worker));
    let refused = admins.as_root(Method::POST, &disable, None).await;
    assert_admin_error(&refused, 503, "temporarily_unavailable");

    // Tokens come from memory, and reads need no space.
    let token = app.token_for(&worker, None).await.access_token();
    assert_eq!(app.introspect(&worker, &token).await["active"], true);
    let listed = admins.as_root(Method::GET, apps, None).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(names(&listed.json()["apps"]), ["ops", "plain", "worker"]);
    let shown = admins
        .as_root(Method::GET, &format!("{apps}/{}", client_id(&worker)), None)
        .await;
    assert_eq!(shown.json()["enabled"], true, "{shown:?}");

    std::fs::remove_file(tmpfs.path("filler")).expect("removing the filler file");
    let created = admins.as_root(Method::POST, apps, Some(&new_app)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let created = created.json();
    assert_eq!(created["name"], "written-later");
    app.wait_until_known(&created).await;
    assert!(app.token_for(&created, None).await.status.is_success());
}
