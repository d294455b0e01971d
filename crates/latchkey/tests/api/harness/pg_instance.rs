//! A PostgreSQL server of a test's own, for tests that stop, break or fail over a database
//! (the machine's shared server is never stopped): `initdb` into a temporary folder and `pg_ctl`
//! on a free 127.0.0.1 port, with the installed server's binaries, run as the `postgres` user
//! when the tests run as root (PostgreSQL refuses to run as root). Stopped on drop.

use super::describe;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A running (or stopped) PostgreSQL server in a folder of its own.
pub(crate) struct PgInstance {
    dir: TempDir,
    port: u16,
    /// Server settings beyond the port and socket (`-c NAME=VALUE ...`).
    settings: String,
}

impl PgInstance {
    /// A new server with one database, `latchkey`.
    pub(crate) fn start() -> PgInstance {
        let instance = PgInstance::in_new_folder();
        instance.init();
        instance.start_again();
        instance.create_database();
        instance
    }

    /// A new server as a managed database is run: TCP connections must use TLS, with a
    /// certificate for 127.0.0.1 from a test authority (its certificate at `root_certificate`),
    /// and log in with `password`.
    pub(crate) fn start_secured(password: &str) -> PgInstance {
        let mut instance = PgInstance::in_new_folder();
        instance.init();
        instance.make_certificates();
        std::fs::write(
            Path::new(&instance.data()).join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("writing pg_hba.conf");
        let dir = instance.dir.path().display().to_string();
        instance.settings =
            format!("-c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key");
        instance.start_again();
        instance.create_database();
        instance.local_psql(&format!("ALTER USER postgres PASSWORD '{password}'"));
        instance
    }

    /// The test authority's certificate, which signed a secured server's.
    pub(crate) fn root_certificate(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn init(&self) {
        run(self.pg_command("initdb").args([
            "-D",
            &self.data(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]));
    }

    fn create_database(&self) {
        self.local_psql("CREATE DATABASE latchkey");
    }

    /// Runs `sql` as `postgres` over the server's Unix socket (trusted, whatever TCP asks).
    fn local_psql(&self, sql: &str) {
        run(Command::new("psql").args([
            "-h",
            &self.dir.path().to_string_lossy(),
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qAtc",
            sql,
        ]));
    }

    /// A test authority and a server certificate for 127.0.0.1 signed by it, with `openssl`.
    fn make_certificates(&self) {
        let dir = self.dir.path();
        let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("writing the certificate extensions");
        for args in [
            vec![
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=latchkey test authority",
                "-keyout",
                &at("ca.key"),
                "-out",
                &at("ca.crt"),
            ],
            vec![
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                &at("server.key"),
                "-out",
                &at("server.csr"),
            ],
            vec![
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &at("server.csr"),
                "-CA",
                &at("ca.crt"),
                "-CAkey",
                &at("ca.key"),
                "-CAcreateserial",
                "-extfile",
                &at("san.ext"),
                "-out",
                &at("server.crt"),
            ],
        ] {
            run(Command::new("openssl").args(args));
        }
        // PostgreSQL refuses a key others may read.
        std::fs::set_permissions(
            dir.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .expect("restricting the key");
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:", &dir.to_string_lossy()]));
        }
    }

    /// A standby streaming from `primary` (`pg_basebackup -R`), started.
    pub(crate) fn standby_of(primary: &PgInstance) -> PgInstance {
        let standby = PgInstance::in_new_folder();
        run(standby.pg_command("pg_basebackup").args([
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
            "-D",
            &standby.data(),
            "-R",
            "-X",
            "stream",
            // Without it the backup waits for a spread checkpoint: minutes.
            "--checkpoint=fast",
            "--no-sync",
        ]));
        standby.start_again();
        standby
    }

    fn in_new_folder() -> PgInstance {
        let dir = tempfile::tempdir().expect("a temporary directory");
        if is_root() {
            run(Command::new("chown").args(["postgres:", &dir.path().to_string_lossy()]));
        }
        PgInstance {
            dir,
            port: free_port(),
            settings: String::new(),
        }
    }

    /// The URL of database `name` on this server.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub(crate) fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off {}",
            self.port,
            self.dir.path().display(),
            self.settings
        );
        run(self.pg_command("pg_ctl").args([
            "-D",
            &self.data(),
            "-l",
            &self.dir.path().join("server.log").to_string_lossy(),
            "-o",
            &options,
            "-w",
            "start",
        ]));
    }

    /// Stops the server at once (as a crash would).
    pub(crate) fn stop(&self) {
        run(self
            .pg_command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"]));
    }

    /// Promotes a standby to primary, waiting until it accepts writes.
    pub(crate) fn promote(&self) {
        run(self
            .pg_command("pg_ctl")
            .args(["-D", &self.data(), "-w", "promote"]));
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// One of the server's programs, run as `postgres` when the tests run as root.
    fn pg_command(&self, program: &str) -> Command {
        let program = bin_dir().join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PgInstance {
    fn drop(&mut self) {
        let _ = self
            .pg_command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The installed server's binaries (`pg_config --bindir`, else the newest under
/// /usr/lib/postgresql).
fn bin_dir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries under /usr/lib/postgresql")
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| Path::new(bin).join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    // `id -u` rather than libc, which the tests do not depend on.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// A port free now on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn run(command: &mut Command) {
    let output = command.output().expect("running a PostgreSQL program");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        describe(&output)
    );
}
