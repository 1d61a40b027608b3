//! The embedded throwaway cluster: initdb into a private temporary directory, a postmaster that
//! listens only on a Unix socket there, stopped and removed when dropped (or on signal/exit).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};

use crate::cleanup;
use crate::error::{one_line, PgError};
use crate::template;

/// The port number of the socket (`.s.PGSQL.5432`); the socket lives in a private directory so
/// it cannot clash with another server.
pub(crate) const PORT: u16 = 5432;
/// The cluster's superuser (initdb -U).
pub(crate) const SUPERUSER: &str = "postgres";

/// What to tell a user who has no PostgreSQL at all.
pub(crate) const INSTALL_HINT: &str = "install PostgreSQL (Debian/Ubuntu: apt-get install \
     postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql) or pass \
     --url / set DATABASE_URL";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an immediate shutdown may take before the postmaster is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running embedded cluster. Dropping it stops the server and removes the directory.
pub(crate) struct Embedded {
    /// The private directory: socket, `data/`, `postgres.log`.
    pub(crate) dir: PathBuf,
    cleanup_id: u64,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        cleanup::run(self.cleanup_id);
    }
}

type SharedChild = Arc<Mutex<Option<Child>>>;

impl Embedded {
    pub(crate) fn start() -> Result<Embedded, PgError> {
        let started = Instant::now();
        let bindir = find_bindir().ok_or_else(|| PgError::NoServer {
            hint: INSTALL_HINT.to_owned(),
        })?;
        let run_as = run_as()?;
        let base = temp_base(run_as.as_ref())?;
        sweep_stale(&base);
        let dir = tempfile::Builder::new()
            .prefix("tenet-pg-")
            .tempdir_in(&base)
            .map_err(|e| {
                failed(
                    &format!("cannot create a directory in {}", base.display()),
                    e,
                )
            })?
            .keep();

        // From here on, the directory (and later the server) is cleaned up by the registered
        // action: on drop of `embedded` (also on the error paths below), on signal and at exit.
        let child: SharedChild = Arc::new(Mutex::new(None));
        let cleanup_id = {
            let dir = dir.clone();
            let child = child.clone();
            cleanup::register(move || stop(&child, &dir))
        };
        let embedded = Embedded { dir, cleanup_id };
        let dir = &embedded.dir;
        let data = dir.join("data");

        if let Some(user) = &run_as {
            std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| failed("cannot hand the directory to the tenet-sandbox user", e))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| failed("cannot set the directory's permissions", e))?;
        // Lets a later run clean up after this one if it is killed (SIGKILL runs no handler).
        fs::write(dir.join(OWNER_FILE), std::process::id().to_string())
            .map_err(|e| failed("cannot write to the directory", e))?;

        let template = template::location(&bindir);
        let from_template =
            prepare_data(&bindir, dir, &data, run_as.as_ref(), template.as_deref())?;
        write_settings(dir, &data)?;
        if let Err(err) = launch(&bindir, dir, &data, run_as.as_ref(), &child) {
            if !from_template {
                return Err(err);
            }
            // A damaged template: forget it and start over with a fresh initdb.
            tracing::warn!("the cached cluster template failed ({err}); running initdb");
            reset(&child);
            if let Some(t) = &template {
                template::discard(t);
            }
            fs::remove_dir_all(&data).map_err(|e| failed("cannot remove the data directory", e))?;
            // The template is gone: this runs initdb and stores a new one.
            prepare_data(&bindir, dir, &data, run_as.as_ref(), template.as_deref())?;
            write_settings(dir, &data)?;
            launch(&bindir, dir, &data, run_as.as_ref(), &child)?;
        }
        tracing::debug!(
            "embedded PostgreSQL from {} ready in {:?} (socket in {})",
            bindir.display(),
            started.elapsed(),
            dir.display()
        );
        Ok(embedded)
    }
}

fn failed(what: &str, err: impl std::fmt::Display) -> PgError {
    PgError::Embedded {
        detail: one_line(&format!("{what}: {err}")),
    }
}

/// The system user the server runs as when we are root.
struct RunAs {
    uid: Uid,
    gid: Gid,
}

/// The system user the embedded server runs as when Tenet runs as root: a dedicated one, so
/// that SQL reaching the operating system from the server (it should not: it runs as an
/// unprivileged role) would still find nothing of the real server's (`postgres` owns those).
pub(crate) const OS_USER: &str = "tenet-sandbox";

fn run_as() -> Result<Option<RunAs>, PgError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    if !matches!(User::from_name(OS_USER), Ok(Some(_))) {
        // Two processes may race to create it: the loser's useradd fails, the lookup below
        // still finds the user.
        let out = Command::new("useradd")
            .args(["--system", "--user-group", "--no-create-home"])
            .args([
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                OS_USER,
            ])
            .stdin(Stdio::null())
            .output();
        if let Ok(out) = &out {
            if !out.status.success() {
                tracing::debug!(
                    "useradd {OS_USER}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    match User::from_name(OS_USER) {
        Ok(Some(user)) => Ok(Some(RunAs {
            uid: user.uid,
            gid: user.gid,
        })),
        _ => Err(PgError::Embedded {
            detail: format!(
                "running as root, and there is no \"{OS_USER}\" system user to run the server \
                 as (PostgreSQL refuses to run as root) and useradd could not create one: \
                 create it (useradd --system --user-group {OS_USER}) or run as an \
                 unprivileged user"
            ),
        }),
    }
}

/// Where to create the private directory. Memory file systems first, since a data directory is
/// about a thousand small files: `$TENET_TMPDIR`, then `$XDG_RUNTIME_DIR`, then `/dev/shm` when it
/// is a tmpfs with at least 1 GiB free, then the system temporary directory, then `/tmp`. Skipped
/// are directories whose path is too long for a Unix socket and (as root) those the server's user
/// cannot reach.
fn temp_base(run_as: Option<&RunAs>) -> Result<PathBuf, PgError> {
    // sun_path holds 108 bytes (104 on macOS): leave room for "/tenet-pg-XXXXXX/.s.PGSQL.5432".
    let usable = |p: &Path| {
        p.is_dir()
            && p.as_os_str().len() + 40 < 100
            && match run_as {
                Some(user) => traversable_by(p, user),
                None => true,
            }
    };
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env_dir("TENET_TMPDIR") {
        return if usable(&dir) {
            Ok(dir)
        } else {
            Err(PgError::Embedded {
                detail: format!(
                    "TENET_TMPDIR={} is not a directory{} with a short enough path",
                    dir.display(),
                    if run_as.is_some() {
                        " the tenet-sandbox user can reach"
                    } else {
                        ""
                    }
                ),
            })
        };
    }
    let candidates = [
        env_dir("XDG_RUNTIME_DIR"),
        big_tmpfs("/dev/shm"),
        Some(std::env::temp_dir()),
        Some(PathBuf::from("/tmp")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| usable(dir))
        .ok_or_else(|| PgError::Embedded {
            detail: format!(
                "no usable temporary directory{} (tried {} and /tmp); set TENET_TMPDIR",
                if run_as.is_some() {
                    " that the tenet-sandbox user can reach"
                } else {
                    ""
                },
                std::env::temp_dir().display()
            ),
        })
}

/// `path` if it is a memory file system with room for a few clusters.
fn big_tmpfs(path: &str) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::statfs::{statfs, TMPFS_MAGIC};
        let st = statfs(path).ok()?;
        let free = st.blocks_available() as u64 * st.block_size() as u64;
        (st.filesystem_type() == TMPFS_MAGIC && free >= 1 << 30).then(|| PathBuf::from(path))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// Whether every directory from `/` down to `path` lets `user` through.
fn traversable_by(path: &Path, user: &RunAs) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(path) = path.canonicalize() else {
        return false;
    };
    path.ancestors().all(|dir| match fs::metadata(dir) {
        Ok(meta) => {
            let mode = meta.mode();
            (meta.uid() == user.uid.as_raw() && mode & 0o100 != 0)
                || (meta.gid() == user.gid.as_raw() && mode & 0o010 != 0)
                || mode & 0o001 != 0
        }
        Err(_) => false,
    })
}

/// A command for one of the server's programs: PG* variables removed (they could redirect it),
/// messages in English, run from the private directory, as [`OS_USER`] when we are root.
fn command(program: &Path, dir: &Path, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LC_ALL", "C").current_dir(dir).stdin(Stdio::null());
    if let Some(user) = run_as {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    cmd
}

fn initdb(bindir: &Path, dir: &Path, data: &Path, run_as: Option<&RunAs>) -> Result<(), PgError> {
    let out = command(&bindir.join("initdb"), dir, run_as)
        // UTC: the same defaults everywhere, and initdb need not scan the zoneinfo files.
        .env("TZ", "UTC")
        .arg("-D")
        .arg(data)
        .args([
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .map_err(|e| {
            failed(
                &format!("cannot run {}", bindir.join("initdb").display()),
                e,
            )
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(failed(&format!("initdb failed ({})", out.status), last));
    }
    Ok(())
}

/// Fill `data` from the cached template when there is one (returns true), else run initdb and
/// store the result as the template for next time.
fn prepare_data(
    bindir: &Path,
    dir: &Path,
    data: &Path,
    run_as: Option<&RunAs>,
    template: Option<&Path>,
) -> Result<bool, PgError> {
    if let Some(t) = template {
        if template::is_complete(t) {
            let owner = run_as.map(|u| (u.uid.as_raw(), u.gid.as_raw()));
            match template::copy_tree(t, data, owner) {
                Ok(()) => return Ok(true),
                Err(e) => {
                    tracing::warn!("cannot copy the cluster template {}: {e}", t.display());
                    let _ = fs::remove_dir_all(data);
                }
            }
        }
    }
    initdb(bindir, dir, data, run_as)?;
    if let Some(t) = template {
        template::store(data, t);
    }
    Ok(false)
}

/// Stop a server that failed to start (if it still runs) and reap it.
fn reset(child: &SharedChild) {
    if let Some(mut child) = lock(child).take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Settings for a private, disposable server: only the Unix socket in `dir`, no durability.
fn write_settings(dir: &Path, data: &Path) -> Result<(), PgError> {
    let socket_dir = dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('\'', "''");
    let settings = format!(
        "\n# tenet embedded cluster\n\
         listen_addresses = ''\n\
         unix_socket_directories = '{socket_dir}'\n\
         port = {PORT}\n\
         max_connections = 200\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n\
         wal_level = minimal\n\
         max_wal_senders = 0\n\
         autovacuum = off\n\
         jit = off\n\
         max_parallel_workers_per_gather = 0\n"
    );
    OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .and_then(|mut f| f.write_all(settings.as_bytes()))
        .map_err(|e| failed("cannot write postgresql.conf", e))
}

fn launch(
    bindir: &Path,
    dir: &Path,
    data: &Path,
    run_as: Option<&RunAs>,
    child: &SharedChild,
) -> Result<(), PgError> {
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path).map_err(|e| failed("cannot create the server log", e))?;
    let log2 = log
        .try_clone()
        .map_err(|e| failed("cannot create the server log", e))?;
    let program = bindir.join("postgres");
    let spawned = command(&program, dir, run_as)
        .arg("-D")
        .arg(data)
        .stdout(log)
        .stderr(log2)
        // Its own process group: Ctrl-C in the terminal reaches us, and our handler stops it.
        .process_group(0)
        .spawn()
        .map_err(|e| failed(&format!("cannot run {}", program.display()), e))?;
    *lock(child) = Some(spawned);

    let deadline = Instant::now() + START_TIMEOUT;
    let pid_file = data.join("postmaster.pid");
    loop {
        if let Some(status) = lock(child)
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
        {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(failed(&format!("the server exited ({status})"), last));
        }
        // PostgreSQL 10+ marks the postmaster.pid file "ready" once it accepts connections.
        if let Ok(text) = fs::read_to_string(&pid_file) {
            if text.lines().nth(7).map(str::trim) == Some("ready") {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(failed(
                "the server did not accept connections in time",
                format!("{}s", START_TIMEOUT.as_secs()),
            ));
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

fn lock(child: &SharedChild) -> std::sync::MutexGuard<'_, Option<Child>> {
    child.lock().unwrap_or_else(|e| e.into_inner())
}

/// The cleanup action: immediate shutdown (the data is thrown away), then remove the directory.
fn stop(child: &SharedChild, dir: &Path) {
    if let Some(mut child) = lock(child).take() {
        if matches!(child.try_wait(), Ok(None)) {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGQUIT);
            let deadline = Instant::now() + STOP_TIMEOUT;
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        }
    }
    if let Err(e) = fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("could not remove {}: {e}", dir.display());
        }
    }
}

/// Holds the pid of the process that owns a private directory.
const OWNER_FILE: &str = "tenet.pid";

/// Remove the directories (and stop the servers) of embedded clusters whose owning process died
/// without cleaning up, e.g. killed with SIGKILL.
fn sweep_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("tenet-pg-") {
            continue;
        }
        let dir = entry.path();
        let owner = fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        // No owner file: being set up right now, or not ours to judge.
        let Some(owner) = owner else { continue };
        if process_alive(owner) {
            continue;
        }
        let data = dir.join("data");
        if let Some(pid) = fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            if is_postmaster_of(pid, &data) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
                let deadline = Instant::now() + STOP_TIMEOUT;
                while process_alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        tracing::debug!("removing the stale embedded cluster in {}", dir.display());
        let _ = fs::remove_dir_all(&dir);
    }
}

pub(crate) fn process_alive(pid: i32) -> bool {
    if pid <= 0
        || matches!(
            kill(Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        )
    {
        return false;
    }
    // A zombie nobody reaps is dead too.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => true,
    }
}

/// Whether `pid` is a postmaster serving `data` (a pid from an old file may have been reused).
fn is_postmaster_of(pid: i32, data: &Path) -> bool {
    match fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => {
            let data = data.as_os_str().as_encoded_bytes();
            cmdline.split(|b| *b == 0).any(|arg| arg == data)
        }
        // No /proc (macOS): do not risk signalling a stranger.
        Err(_) => false,
    }
}

/// Where the PostgreSQL server programs are: `$TENET_PG_BINDIR`, `pg_config --bindir`, PATH,
/// then the newest of the usual install locations.
pub(crate) fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TENET_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if has_server_programs(&dir) {
            return Some(dir);
        }
    }
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_server_programs(&dir) {
                return Some(dir);
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_server_programs(&dir) {
                // Prefer the real installation directory behind symlinks such as
                // /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb.
                let real = dir
                    .join("initdb")
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|real| has_server_programs(real));
                return Some(real.unwrap_or(dir));
            }
        }
    }
    let mut candidates: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for (parent, prefix, suffix) in [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr", "pgsql-", "bin"),
        ("/opt/homebrew/opt", "postgresql", "bin"),
        ("/usr/local/opt", "postgresql", "bin"),
    ] {
        let Ok(entries) = fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) {
                continue;
            }
            let dir = entry.path().join(suffix);
            if has_server_programs(&dir) {
                candidates.push((version_of(&name), dir));
            }
        }
    }
    candidates.sort();
    candidates.pop().map(|(_, dir)| dir)
}

/// The numbers in a directory name ("15", "pgsql-16", "postgresql@14"), for ordering.
fn version_of(name: &str) -> Vec<u32> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn has_server_programs(dir: &Path) -> bool {
    ["initdb", "postgres"]
        .iter()
        .all(|p| is_executable(&dir.join(p)))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
