//! The admin API when the database cannot take a write: 503 `temporarily_unavailable` saying
//! why, with `Retry-After`, while the token endpoint and reads keep working; the same write
//! succeeds once the cause is gone. The database lives on a small tmpfs of its own, filled to
//! the last byte (root can write to read-only files, and a file system with the database open
//! for writing cannot be remounted read-only, so a full disk is the failure a test can cause).

use crate::admin::{admins_with, assert_admin_error};
use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|error| format!("could not run mount: {error}"))?;
        if output.status.success() {
            Ok(Tmpfs { dir })
        } else {
            Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily, so that a server still holding the database open does not keep it mounted.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A tmpfs, or `None` with the reason printed when this machine cannot mount one (not root, no
/// mount namespace). CI runs as root, so there the test must not skip.
fn tmpfs_or_skip(test: &str) -> Option<Tmpfs> {
    match Tmpfs::mount("4m") {
        Ok(tmpfs) => Some(tmpfs),
        Err(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping {test}: {why} (it needs root to mount a tmpfs)");
            None
        }
        Err(why) => panic!("{test} needs a tmpfs in CI: {why}"),
    }
}

/// Fills the file system holding `dir` with one file, to the last byte it will take.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("creating the filler file");
    let chunk = vec![0u8; 64 * 1024];
    let mut size = chunk.len();
    while size > 0 {
        match file.write(&chunk[..size]) {
            Ok(0) | Err(_) => size /= 2,
            Ok(_) => {}
        }
    }
    path
}

#[tokio::test]
async fn a_full_database_answers_503_temporarily_unavailable_until_space_is_freed() {
    let Some(tmpfs) = tmpfs_or_skip("a_full_database_answers_503") else {
        return;
    };
    let admins = admins_with(Setup {
        parent_dir: Some(tmpfs.path().to_path_buf()),
        ..Setup::default()
    })
    .await;
    let app = &admins.app;
    let worker = app.create_app(&["--name", "worker"]).await;
    let apps = "/admin/v1/tenants/default/apps";
    let new_app = json!({"name": "written-later"});

    let filler = fill(tmpfs.path());
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
    let listed = listed.json();
    let names: Vec<&str> = listed["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| app["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ops", "plain", "worker"]);
    let shown = admins
        .as_root(Method::GET, &format!("{apps}/{}", client_id(&worker)), None)
        .await;
    assert_eq!(shown.json()["enabled"], true, "{shown:?}");

    std::fs::remove_file(filler).expect("removing the filler file");
    let created = admins.as_root(Method::POST, apps, Some(&new_app)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let created = created.json();
    assert_eq!(created["name"], "written-later");
    app.wait_until_known(&created).await;
    assert!(app.token_for(&created, None).await.status.is_success());
}
