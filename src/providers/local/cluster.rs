//! The embedded Postgres cluster: found, created and started by neon-migrate itself.
//!
//! One cluster per user and Postgres major version, in a cache folder, started on demand and
//! left running for the next run (start-up costs ~1 s; a running server costs nothing). It is
//! a scratch server — `fsync` is off — for rehearsing migrations, not for keeping data.
//!
//! Postgres refuses to run as root. When we are root, `initdb` and `pg_ctl` run as an
//! unprivileged user (`postgres`, else `nobody`, or `NEON_MIGRATE_PG_USER`) through
//! `CommandExt::uid/gid`, with the folder chowned to it and kept out of root's home.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::providers::ProviderError;
use crate::secret::Secret;

/// Env var: the cluster folder (overrides the per-user default).
pub const ENV_DIR: &str = "NEON_MIGRATE_CLUSTER_DIR";
/// Env var: folder holding `initdb`, `pg_ctl`, `postgres` (overrides discovery).
pub const ENV_BIN: &str = "NEON_MIGRATE_PG_BIN";
/// Env var: the unprivileged user the server runs as when we are root.
pub const ENV_USER: &str = "NEON_MIGRATE_PG_USER";

/// The superuser of the embedded cluster.
pub const SUPERUSER: &str = "postgres";

/// A running embedded cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub major: u32,
    pub port: u16,
    password: Secret<String>,
}

impl Cluster {
    /// URL of database `db` on this cluster (contains the password: a secret).
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{db}",
            self.password.expose(),
            self.port
        )
    }
    pub fn password(&self) -> &str {
        self.password.expose()
    }
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
}

/// Finds the Postgres binaries: `$NEON_MIGRATE_PG_BIN`, then PATH, then Debian/Ubuntu's
/// `/usr/lib/postgresql/<major>/bin`, newest first.
pub fn find_bin() -> Result<(PathBuf, u32), ProviderError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os(ENV_BIN) {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(
            std::env::split_paths(&path)
                .filter(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file()),
        );
    }
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    candidates.extend(versioned.into_iter().map(|(_, p)| p));
    for dir in candidates {
        if dir.join("initdb").is_file()
            && dir.join("pg_ctl").is_file()
            && dir.join("postgres").is_file()
        {
            // A folder of symlinks on PATH (e.g. /usr/local/bin/postgres -> …/15/bin/postgres)
            // lacks pg_dump and psql: use the folder the server binary really lives in.
            let dir = real_bin_dir(&dir);
            let major = server_major(&dir)?;
            return Ok((dir, major));
        }
    }
    Err(ProviderError::new("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found").help(format!(
        "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`), put its bin folder on PATH or in ${ENV_BIN}, \
         or set `url` under [provider] to use a server you already run"
    )))
}

/// The folder `postgres` in `dir` really lives in, when that folder has the other tools too.
fn real_bin_dir(dir: &Path) -> PathBuf {
    match fs::canonicalize(dir.join("postgres"))
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
    {
        Some(real) if real.join("initdb").is_file() && real.join("pg_ctl").is_file() => real,
        _ => dir.to_owned(),
    }
}

fn server_major(bin: &Path) -> Result<u32, ProviderError> {
    let out = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .map_err(|e| {
            ProviderError::new(format!(
                "cannot run {}: {e}",
                bin.join("postgres").display()
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    text.split_whitespace()
        .find_map(|w| w.split('.').next().and_then(|m| m.parse().ok()))
        .ok_or_else(|| {
            ProviderError::new(format!(
                "cannot read the PostgreSQL version from `{}`",
                text.trim()
            ))
        })
}

/// The unprivileged account the server runs as, when we are root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

fn run_as() -> Result<Option<RunAs>, ProviderError> {
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(None);
    }
    let wanted = std::env::var(ENV_USER).ok();
    let names: Vec<String> = match &wanted {
        Some(n) => vec![n.clone()],
        None => vec!["postgres".into(), "nobody".into()],
    };
    for name in &names {
        if let Ok(Some(u)) = nix::unistd::User::from_name(name) {
            if u.uid.is_root() {
                continue;
            }
            return Ok(Some(RunAs {
                name: name.clone(),
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }));
        }
    }
    Err(ProviderError::new("running as root, and no unprivileged user to run PostgreSQL as (PostgreSQL refuses to run as root)")
        .help(format!("create a `postgres` user (`useradd --system postgres`) or name one in ${ENV_USER}")))
}

/// The default cluster folder for this user and Postgres major version.
pub fn default_dir(major: u32) -> PathBuf {
    if let Some(dir) = std::env::var_os(ENV_DIR) {
        return PathBuf::from(dir);
    }
    let uid = nix::unistd::Uid::effective();
    if uid.is_root() {
        // Root's home is 0700: the unprivileged server could not reach a folder inside it.
        return PathBuf::from(format!("/var/tmp/neon-migrate-root/pg{major}"));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(format!("/var/tmp/neon-migrate-{uid}")));
    cache.join("neon-migrate").join(format!("pg{major}"))
}

/// Makes sure the cluster in `dir` (default: [`default_dir`]) exists and runs; returns it.
/// Safe to call from many processes at once: a file lock serializes set-up.
pub fn ensure(dir: Option<&Path>) -> Result<Cluster, ProviderError> {
    let (bin, major) = find_bin()?;
    let dir = dir
        .map(Path::to_owned)
        .unwrap_or_else(|| default_dir(major));
    let run_as = run_as()?;
    refuse_foreign_folder(&dir)?;
    fs::create_dir_all(&dir).map_err(|e| io_err("create the cluster folder", &dir, e))?;
    let lock =
        File::create(dir.join("lock")).map_err(|e| io_err("create the lock file in", &dir, e))?;
    lock.lock().map_err(|e| io_err("lock", &dir, e))?;

    if let Some(r) = &run_as {
        check_traversable(&dir, r)?;
        chown(&dir, r)?;
    }
    let data = dir.join("data");
    let password_file = dir.join("password");
    if !data.join("PG_VERSION").is_file() {
        initdb(&bin, &dir, run_as.as_ref())?;
    }
    let password = fs::read_to_string(&password_file)
        .map_err(|e| io_err("read the cluster password", &password_file, e))?
        .trim()
        .to_owned();

    let hba_changed = ensure_hba(&dir, run_as.as_ref())?;
    let conf = dir.join("data").join("neon-migrate.conf");
    let mut port = read_port(&conf).unwrap_or(0);
    if let Some(running_port) = running(&data) {
        if hba_changed {
            reload(&bin, &dir, run_as.as_ref())?;
        }
        return Ok(Cluster {
            dir,
            bin,
            major,
            port: running_port,
            password: Secret::new(password),
        });
    }
    if port == 0 || !port_free(port) {
        port = free_port()?;
        write_conf(&dir, port, run_as.as_ref())?;
    }
    start(&bin, &dir, run_as.as_ref())?;
    wait_ready(&dir, port)?;
    drop(lock);
    Ok(Cluster {
        dir,
        bin,
        major,
        port,
        password: Secret::new(password),
    })
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError::Io {
        what: what.to_owned(),
        path: path.to_owned(),
        source: e,
        help: None,
    }
}

fn check_traversable(dir: &Path, r: &RunAs) -> Result<(), ProviderError> {
    for ancestor in dir.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        use std::os::unix::fs::MetadataExt;
        let ok = mode & 0o001 != 0
            || (meta.uid() == r.uid && mode & 0o100 != 0)
            || (meta.gid() == r.gid && mode & 0o010 != 0);
        if !ok {
            return Err(ProviderError::new(format!(
                "the embedded PostgreSQL runs as `{}`, which cannot enter {} (mode {:o})",
                r.name,
                ancestor.display(),
                mode & 0o777
            ))
            .help(format!("put the cluster in a folder every user can reach, e.g. `data-dir` under [provider] or ${ENV_DIR}=/var/tmp/neon-migrate")));
        }
    }
    Ok(())
}

/// The cluster folder is given to the server's account (as root, by `chown`): an existing
/// folder holding anything but a cluster of ours — a `data-dir` of a stranger's config that
/// points at `../something` or `/usr/local/bin` — is refused before anything is written there.
fn refuse_foreign_folder(dir: &Path) -> Result<(), ProviderError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    // `suite.lock`: the integration suite's own lock beside its cluster.
    const OURS: &[&str] = &[
        "data",
        "lock",
        "password",
        "run",
        "server.log",
        "suite.lock",
    ];
    let foreign: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !OURS.contains(&n.as_str()))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(ProviderError::new(format!(
        "the folder {} for the embedded Postgres already holds other files ({}); neon-migrate does not take over a folder it did not make",
        dir.display(),
        crate::report::collapse(&foreign, 5)
    ))
    .help("point `data-dir` under [provider] at a new or empty folder, or leave it out for the default"))
}

fn chown(path: &Path, r: &RunAs) -> Result<(), ProviderError> {
    std::os::unix::fs::chown(path, Some(r.uid), Some(r.gid)).map_err(|e| io_err("chown", path, e))
}

fn command(bin: &Path, program: &str, dir: &Path, r: Option<&RunAs>) -> Command {
    let mut c = Command::new(bin.join(program));
    c.current_dir(dir)
        .env("PGDATA", dir.join("data"))
        .env_remove("PGPASSWORD");
    if let Some(r) = r {
        c.uid(r.uid)
            .gid(r.gid)
            .env("HOME", dir)
            .env("USER", &r.name)
            .env("LOGNAME", &r.name);
    }
    c
}

fn initdb(bin: &Path, dir: &Path, r: Option<&RunAs>) -> Result<(), ProviderError> {
    let password_file = dir.join("password");
    let password = random_hex(16)?;
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&password_file)
        .map_err(|e| io_err("write", &password_file, e))?;
    f.write_all(password.as_bytes())
        .map_err(|e| io_err("write", &password_file, e))?;
    drop(f);
    if let Some(r) = r {
        chown(&password_file, r)?;
    }
    let data = dir.join("data");
    let _ = fs::remove_dir_all(&data);
    let run = |locale: &[&str]| {
        command(bin, "initdb", dir, r)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", password_file.display()))
            .args(locale)
            .output()
    };
    let mut out = run(&["--locale=C.UTF-8"])
        .map_err(|e| ProviderError::new(format!("cannot run initdb: {e}")))?;
    if !out.status.success() {
        let _ = fs::remove_dir_all(&data);
        out = run(&["--no-locale"])
            .map_err(|e| ProviderError::new(format!("cannot run initdb: {e}")))?;
    }
    if !out.status.success() {
        return Err(ProviderError::new(format!(
            "initdb failed in {}:\n{}{}",
            data.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let conf = data.join("postgresql.conf");
    let mut f = OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(|e| io_err("open", &conf, e))?;
    writeln!(
        f,
        "\n# Settings written by neon-migrate.\ninclude_if_exists = 'neon-migrate.conf'"
    )
    .map_err(|e| io_err("write", &conf, e))?;
    let run_dir = dir.join("run");
    fs::create_dir_all(&run_dir).map_err(|e| io_err("create", &run_dir, e))?;
    if let Some(r) = r {
        chown(&run_dir, r)?;
    }
    write_conf(dir, free_port()?, r)
}

/// Puts neon-migrate's lines at the top of `pg_hba.conf` (the roles of test Neon database
/// branches reach only their own database); returns whether the file changed.
fn ensure_hba(dir: &Path, r: Option<&RunAs>) -> Result<bool, ProviderError> {
    let hba = dir.join("data").join("pg_hba.conf");
    let text = fs::read_to_string(&hba).map_err(|e| io_err("read", &hba, e))?;
    if text.contains(super::role::HBA_MARKER) {
        return Ok(false);
    }
    fs::write(&hba, format!("{}\n{text}", super::role::hba_block()))
        .map_err(|e| io_err("write", &hba, e))?;
    if let Some(r) = r {
        chown(&hba, r)?;
    }
    Ok(true)
}

/// Makes the running server read its configuration files again.
fn reload(bin: &Path, dir: &Path, r: Option<&RunAs>) -> Result<(), ProviderError> {
    let out = command(bin, "pg_ctl", dir, r)
        .arg("-D")
        .arg(dir.join("data"))
        .arg("reload")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ProviderError::new(format!("cannot run pg_ctl: {e}")))?;
    if !out.status.success() {
        return Err(ProviderError::new(format!(
            "pg_ctl could not reload the embedded PostgreSQL in {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

fn write_conf(dir: &Path, port: u16, r: Option<&RunAs>) -> Result<(), ProviderError> {
    let conf = dir.join("data").join("neon-migrate.conf");
    // A scratch server: durability is traded for speed (template copies force checkpoints).
    let text = format!(
        "# Written by neon-migrate; rewritten when the port changes.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = '{}'\n\
         max_connections = 200\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n\
         log_checkpoints = off\n\
         log_min_messages = warning\n",
        dir.join("run").display()
    );
    fs::write(&conf, text).map_err(|e| io_err("write", &conf, e))?;
    if let Some(r) = r {
        chown(&conf, r)?;
    }
    Ok(())
}

fn read_port(conf: &Path) -> Option<u16> {
    fs::read_to_string(conf).ok()?.lines().find_map(|l| {
        l.strip_prefix("port = ")
            .and_then(|p| p.trim().parse().ok())
    })
}

/// The port of a live, ready server on `data`, from `postmaster.pid`.
fn running(data: &Path) -> Option<u16> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: i32 = lines.first()?.trim().parse().ok()?;
    let port: u16 = lines.get(3)?.trim().parse().ok()?;
    let status = lines.get(7).map(|s| s.trim()).unwrap_or("");
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    (alive && status == "ready" && TcpStream::connect(("127.0.0.1", port)).is_ok()).then_some(port)
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> Result<u16, ProviderError> {
    let l = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| ProviderError::new(format!("cannot find a free port: {e}")))?;
    Ok(l.local_addr()
        .map_err(|e| ProviderError::new(e.to_string()))?
        .port())
}

/// The last 20 lines of the server's log.
fn log_tail(dir: &Path) -> String {
    let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn start(bin: &Path, dir: &Path, r: Option<&RunAs>) -> Result<(), ProviderError> {
    let log = dir.join("server.log");
    // A new process group: Ctrl-C in the terminal must not reach the server we leave running.
    // `-w`: pg_ctl waits until the server accepts connections and notices at once when the
    // postmaster it started has exited (a bad setting, a busy port), instead of our waiting
    // out the whole timeout.
    let out = command(bin, "pg_ctl", dir, r)
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t", "60", "start"])
        .stdin(Stdio::null())
        .process_group(0)
        .output()
        .map_err(|e| ProviderError::new(format!("cannot run pg_ctl: {e}")))?;
    if !out.status.success() {
        return Err(ProviderError::new(format!(
            "pg_ctl could not start the embedded PostgreSQL in {}:\n{}{}last lines of {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            log.display(),
            log_tail(dir)
        ))
        .help(format!(
            "the server's log says why; fix that, or remove {} to let neon-migrate make a new embedded cluster",
            dir.display()
        )));
    }
    Ok(())
}

fn wait_ready(dir: &Path, port: u16) -> Result<(), ProviderError> {
    let data = dir.join("data");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if running(&data) == Some(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(ProviderError::new(format!(
        "the embedded PostgreSQL did not become ready within 60 s; last lines of {}:\n{}",
        dir.join("server.log").display(),
        log_tail(dir)
    )))
}

/// Stops the cluster (tests and `neon-migrate gc --stop`).
pub fn stop(cluster: &Cluster) -> Result<(), ProviderError> {
    let r = run_as()?;
    let out = command(&cluster.bin, "pg_ctl", &cluster.dir, r.as_ref())
        .arg("-D")
        .arg(cluster.data_dir())
        .args(["-m", "fast", "-w", "stop"])
        .output()
        .map_err(|e| ProviderError::new(format!("cannot run pg_ctl: {e}")))?;
    if !out.status.success() {
        return Err(ProviderError::new(format!(
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// The pid of the running server, from `postmaster.pid`.
pub fn server_pid(cluster: &Cluster) -> Option<u32> {
    fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn random_hex(bytes: usize) -> Result<String, ProviderError> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ProviderError::new(format!("cannot read /dev/urandom: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `path` is on a filesystem with reflinks (XFS, btrfs): there, PG ≥ 18's
/// `file_copy_method = clone` makes a template copy constant-time copy-on-write. ext4 would
/// accept the setting and silently copy every byte, so we only set it where it works.
pub fn supports_reflink(path: &Path) -> bool {
    const XFS: i64 = 0x5846_5342;
    const BTRFS: i64 = 0x9123_683E;
    match nix::sys::statfs::statfs(path) {
        Ok(s) => {
            let t = s.filesystem_type().0;
            t == XFS || t == BTRFS
        }
        Err(_) => false,
    }
}
