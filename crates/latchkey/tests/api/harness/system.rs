//! The machine under the server: files, and a small disk that a test can fill.

use super::describe;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The names of the files in `dir`.
pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("listing the folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// A small tmpfs mounted over a temporary folder, so that a test can fill the disk under a
/// database. Needs root (CI runs as root): `mount` returns `None` with a note when it cannot
/// mount outside CI, and fails the test under `CI=true`, where a skipped test would hide a gap.
/// Unmounted on drop, after whatever uses the folder (declare it first).
pub(crate) struct Tmpfs {
    dir: Option<TempDir>,
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it, e.g. `2m`).
    pub(crate) fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let path = dir.path().to_path_buf();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Tmpfs {
                dir: Some(dir),
                path,
            }),
            other => {
                let why = match other {
                    Ok(output) => describe(&output),
                    Err(error) => error.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "mounting a tmpfs failed under CI (which runs as root): {why}"
                );
                eprintln!("skipped: this test mounts a tmpfs, which needs root ({why})");
                None
            }
        }
    }

    /// The mounted folder, as a `TempDir` for `spawn_app_in` (which keeps it; removing what is
    /// in it at the end is harmless, the unmount follows).
    pub(crate) fn folder(&mut self) -> TempDir {
        self.dir.take().expect("the folder is handed out once")
    }

    /// A path in the mounted folder.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Fills the file system with a file named `name` (dd until the disk is full).
    pub(crate) fn fill(&self, name: &str) {
        let output = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.path(name).display()))
            .arg("bs=4k")
            .output()
            .expect("running dd");
        // dd stops with an error at "No space left on device": that is the point.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("No space left on device"),
            "dd did not fill the disk: {}",
            describe(&output)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).output();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Files made read-only for as long as this value lives. chmod stops any process but root's;
/// as root (CI) `chattr +i` (immutable) does, on file systems that support it, and also refuses
/// writes through descriptors opened before. `make` returns `None` with a note when neither
/// works (and fails under `CI=true`, where a skipped test would hide a gap).
pub(crate) struct ReadOnly {
    files: Vec<PathBuf>,
    immutable: bool,
}

impl ReadOnly {
    /// Makes each of `files` (that exists) read-only.
    pub(crate) fn make(files: &[PathBuf]) -> Option<ReadOnly> {
        use std::os::unix::fs::PermissionsExt;
        let files: Vec<PathBuf> = files.iter().filter(|file| file.exists()).cloned().collect();
        for file in &files {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444))
                .expect("chmod 444");
        }
        let mut read_only = ReadOnly {
            files,
            immutable: false,
        };
        if read_only.writable() {
            let chattr = Command::new("chattr")
                .arg("+i")
                .args(&read_only.files)
                .output();
            read_only.immutable = matches!(&chattr, Ok(output) if output.status.success());
            if !read_only.immutable || read_only.writable() {
                let why = match chattr {
                    Ok(output) => describe(&output),
                    Err(error) => error.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "nothing made the files read-only under CI: {why}"
                );
                eprintln!(
                    "skipped: chmod does not stop this user (root) and chattr +i failed: {why}"
                );
                return None;
            }
        }
        Some(read_only)
    }

    /// Whether this process can still open one of the files for writing.
    fn writable(&self) -> bool {
        self.files
            .iter()
            .any(|file| std::fs::OpenOptions::new().append(true).open(file).is_ok())
    }

    /// Makes the files writable again.
    pub(crate) fn undo(mut self) {
        self.restore();
    }

    fn restore(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if std::mem::take(&mut self.immutable) {
            let _ = Command::new("chattr").arg("-i").args(&self.files).output();
        }
        for file in std::mem::take(&mut self.files) {
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644));
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        self.restore();
    }
}
