//! The statically linked binary and CI's proof that it needs nothing else. `cargo
//! static-build` (an alias in `.cargo/config.toml`, the one recipe, which the Dockerfile runs
//! too) makes a release build linked with glibc's static libraries; `chroot_check` copies that
//! one file into an empty folder, runs it there under `chroot` as `latchkey quickstart`, and
//! gets a token over HTTP with the credentials it prints. A second run, with only an
//! `/etc/hosts` beside the binary, listens on a name from that file: getaddrinfo works in the
//! static binary (glibc 2.34 and later build the files and dns lookups into libc itself).

use super::{root, run};
use anyhow::{Context, bail, ensure};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The target the static build names, so that its flags reach the binary and not the build
/// scripts (`.cargo/config.toml`).
const TARGET: &str = "x86_64-unknown-linux-gnu";

/// How long the server in the chroot may take to print its banner, and to stop.
const DEADLINE: Duration = Duration::from_secs(30);

/// The name the chroot's `/etc/hosts` gives to 127.0.0.1.
const HOSTS_NAME: &str = "latchkey-chroot.test";

/// Builds the static binary (a release build: minutes on a small machine, a no-op when
/// nothing changed) and returns its path, once checked to ask for no dynamic loader.
pub(crate) fn build() -> anyhow::Result<PathBuf> {
    run(env!("CARGO"), &["static-build"])?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let binary = target_dir.join(TARGET).join("release/latchkey");
    ensure_no_interpreter(&binary)?;
    Ok(binary)
}

/// `cargo xtask static-build`: builds the static binary and prints its path.
pub(crate) fn static_build() -> anyhow::Result<()> {
    let binary = build()?;
    println!("{}", binary.display());
    Ok(())
}

/// The CI step: the static binary, alone in an empty root, serves a token.
pub(crate) fn chroot_check() -> anyhow::Result<()> {
    let binary = build()?;
    let jail = Jail::new()?;
    std::fs::copy(&binary, jail.root.join("latchkey"))
        .with_context(|| format!("copying {} into {}", binary.display(), jail.root.display()))?;

    let served = jail.quickstart("127.0.0.1:0")?;
    eprintln!("chroot: alone in an empty root, it served a token on {served}");

    std::fs::create_dir(jail.root.join("etc"))?;
    std::fs::write(
        jail.root.join("etc/hosts"),
        format!("127.0.0.1 {HOSTS_NAME}\n"),
    )?;
    let served = jail.quickstart(&format!("{HOSTS_NAME}:0"))?;
    ensure!(
        served.starts_with("http://127.0.0.1:"),
        "--listen {HOSTS_NAME}:0 should have resolved through /etc/hosts to 127.0.0.1, \
         but the server listens on {served}"
    );
    eprintln!("chroot: with /etc/hosts alone beside it, {HOSTS_NAME} resolved to {served}");
    Ok(())
}

/// A statically linked executable names no program interpreter (`PT_INTERP`, the dynamic
/// loader) in its ELF program headers; without this check an empty chroot would only say
/// "No such file or directory" of a binary that is plainly there.
fn ensure_no_interpreter(binary: &Path) -> anyhow::Result<()> {
    const PT_INTERP: u32 = 3;
    let elf = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let field = |at: usize, len: usize| -> anyhow::Result<u64> {
        let bytes = elf.get(at..at + len).context("a truncated ELF file")?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0, |value, byte| value << 8 | u64::from(*byte)))
    };
    // A 64-bit little-endian ELF file, as the x86_64 target makes.
    ensure!(
        elf.starts_with(b"\x7fELF\x02\x01"),
        "{} is not a 64-bit little-endian ELF file",
        binary.display()
    );
    let table = usize::try_from(field(0x20, 8)?)?;
    let entry_size = usize::try_from(field(0x36, 2)?)?;
    let entries = usize::try_from(field(0x38, 2)?)?;
    for index in 0..entries {
        if field(table + index * entry_size, 4)? == u64::from(PT_INTERP) {
            bail!(
                "{} is dynamically linked (it names a dynamic loader): build it with \
                 `cargo static-build`, which links glibc statically",
                binary.display()
            );
        }
    }
    Ok(())
}

/// An empty folder under target/ to chroot into, removed when dropped.
struct Jail {
    root: PathBuf,
}

impl Jail {
    fn new() -> anyhow::Result<Jail> {
        let root = root()
            .join("target")
            .join(format!("chroot-check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Jail { root })
    }

    /// Runs `latchkey quickstart --listen LISTEN` chrooted here, gets a token with the printed
    /// credentials, stops the server with SIGTERM (which must end it cleanly), and returns the
    /// URL it listened on.
    fn quickstart(&self, listen: &str) -> anyhow::Result<String> {
        let log = self.root.with_extension("log");
        let mut server = Server::start(&self.root, listen, &log)?;
        let result = server
            .banner()
            .and_then(|banner| banner.token().map(|()| banner.base));
        let stopped = server.stop();
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let base = result
            .and_then(|base| stopped.map(|()| base))
            .with_context(|| format!("latchkey in the chroot; its log:\n{log_text}"))?;
        Ok(base)
    }
}

impl Drop for Jail {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `latchkey quickstart` running in the chroot.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(root: &Path, listen: &str, log: &Path) -> anyhow::Result<Server> {
        let stderr = std::fs::File::create(log)?;
        // Nothing from this environment: the binary finds its database (`latchkey.db`) and
        // master key in the chroot's root, its working directory.
        let mut child = Command::new(on_path("chroot")?)
            .arg(root)
            .args(["/latchkey", "quickstart", "--listen", listen])
            .env_clear()
            .env("LATCHKEY_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("running chroot (it needs root, as CI has)")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Server { child, lines })
    }

    /// Reads the banner up to its `-d scope=` line (or fails at the deadline or at exit).
    fn banner(&mut self) -> anyhow::Result<Banner> {
        let deadline = Instant::now() + DEADLINE;
        let mut banner = Banner::default();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    bail!("no complete banner within {DEADLINE:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("the server ended before its banner was complete")
                }
            };
            let line = line.trim().trim_end_matches('\\').trim_end();
            if let Some(base) = line.strip_prefix("latchkey listening on ") {
                base.clone_into(&mut banner.base);
            } else if let Some(id) = line.strip_prefix("-d client_id=") {
                id.clone_into(&mut banner.client_id);
            } else if let Some(secret) = line.strip_prefix("-d client_secret=") {
                secret.clone_into(&mut banner.client_secret);
            } else if line.starts_with("-d scope=") {
                ensure!(
                    !banner.base.is_empty()
                        && !banner.client_id.is_empty()
                        && !banner.client_secret.is_empty(),
                    "the banner lacks the URL, the client_id or the client_secret"
                );
                return Ok(banner);
            }
        }
    }

    /// SIGTERM, then the exit status within the deadline: a clean stop is exit 0.
    fn stop(&mut self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill").args(["-TERM", &pid]).status()?;
        ensure!(signalled.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                ensure!(status.success(), "it stopped with {status} after SIGTERM");
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("it had not stopped {DEADLINE:?} after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where `program` is on this process's `PATH`: a child whose environment is cleared would
/// look for it on the C library's default path, which lacks the `sbin` directories.
fn on_path(program: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{program} is not on the PATH"))
}

/// What quickstart printed: where it listens and the demo app's credentials.
#[derive(Default)]
struct Banner {
    base: String,
    client_id: String,
    client_secret: String,
}

impl Banner {
    /// The token request the banner's curl command makes, over plain HTTP/1.1; the answer
    /// must be 200 with a Bearer token for the demo scope.
    fn token(&self) -> anyhow::Result<()> {
        let authority = self
            .base
            .strip_prefix("http://")
            .with_context(|| format!("an http:// URL, not {}", self.base))?;
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=demo",
            self.client_id, self.client_secret
        );
        let request = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: {authority}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream =
            TcpStream::connect(authority).with_context(|| format!("connecting to {authority}"))?;
        stream.set_read_timeout(Some(DEADLINE))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .context("reading the token answer")?;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .context("an HTTP answer with a head and a body")?;
        let status = head.lines().next().unwrap_or_default();
        ensure!(
            status.starts_with("HTTP/1.1 200 "),
            "the token endpoint answered {status}: {body}"
        );
        let token: serde_json::Value =
            serde_json::from_str(body).with_context(|| format!("a JSON answer, not {body}"))?;
        ensure!(
            token["token_type"] == "Bearer"
                && token["scope"] == "demo"
                && token["access_token"]
                    .as_str()
                    .is_some_and(|jwt| jwt.split('.').count() == 3),
            "not a Bearer JWT for the demo scope: {body}"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ensure_no_interpreter;

    #[test]
    fn a_dynamically_linked_executable_is_refused() {
        // Test binaries are linked as cargo links them by default: dynamically, with a loader.
        let this_test = std::env::current_exe().expect("the test binary's path");
        let error = ensure_no_interpreter(&this_test).expect_err("a dynamic executable");
        assert!(
            error.to_string().contains("cargo static-build"),
            "{error:#}"
        );
    }

    #[test]
    fn a_file_that_is_not_elf_is_refused() {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!(ensure_no_interpreter(&manifest).is_err());
    }
}
