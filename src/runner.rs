//! The one way neon-migrate runs a child process.
//!
//! Argv by default (a shell only when the config gives a string, run as `sh -c`), an explicit
//! environment on top of ours, a timeout that kills the whole process group, output captured,
//! timing — and every line redacted before it is stored, so a tool that prints its connection
//! string cannot leak it.
//!
//! Three ways in, one set of guarantees:
//! * [`run`] — a configured tool or shell stage ([`Cmd`]): stdout and stderr interleaved in
//!   arrival order, terminal codes stripped, for reports;
//! * [`Proc`] — a program we call ourselves (`git`, `pg_dump`): stdout kept apart as data,
//!   stderr redacted; [`Proc::run`] on the async runtime, [`Proc::run_blocking`] where none may
//!   be started (the git hook's no-op path is measured in milliseconds);
//! * [`pipe`] — `first | second` (`pg_dump … | psql …`) without a shell: one process group,
//!   one deadline, both exit statuses checked (a shell pipe reports only the last one unless
//!   told `pipefail`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::config::CommandSpec;
use crate::secret::Redactor;

mod terminal;
pub use terminal::{fence, strip_terminal_codes};

/// Longest captured output kept (the tail is what matters on failure).
const MAX_CAPTURE: usize = 256 * 1024;

/// A child process to run.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub spec: CommandSpec,
    /// The command as reports show it (values written in; redact before printing).
    pub shown: String,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
}

/// What a finished child did. `output` is already redacted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutput {
    /// Exit code; `None` when killed by a signal or the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub duration: Duration,
    /// stdout and stderr interleaved, redacted, possibly truncated at the front.
    pub output: String,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// "exited with code 3", "timed out after 10m", "killed by a signal".
    pub fn describe(&self, timeout: Duration) -> String {
        if self.timed_out {
            format!(
                "timed out after {}",
                crate::config::duration::format(timeout)
            )
        } else {
            match self.code {
                Some(c) => format!("exited with code {c}"),
                None => "was killed by a signal".into(),
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create a pipe from `{first}` to `{second}`: {source}")]
    Pipe {
        first: String,
        second: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `cmd` to completion (or timeout).
pub async fn run(cmd: &Cmd, redactor: &Redactor) -> Result<RunOutput, RunError> {
    let (program, args): (String, Vec<String>) = match &cmd.spec {
        CommandSpec::Argv(v) => (v[0].clone(), v[1..].to_vec()),
        CommandSpec::Shell(s) => ("sh".into(), vec!["-c".into(), s.clone()]),
    };
    let mut command = Command::new(&program);
    command
        .args(&args)
        .current_dir(&cmd.cwd)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    // If this future is dropped (an interrupt), the whole group goes, not just the direct child.
    let mut guard = GroupGuard(child.id());
    let captured = Arc::new(Mutex::new(Captured::default()));
    let out = tokio::spawn(pump(
        child.stdout.take().expect("piped"),
        captured.clone(),
        redactor.clone(),
    ));
    let err = tokio::spawn(pump(
        child.stderr.take().expect("piped"),
        captured.clone(),
        redactor.clone(),
    ));
    let pid = child.id();
    let (codes, timed_out) = wait_all(&mut [&mut child], pid, cmd.timeout).await;
    drain([out, err], pid).await;
    guard.0 = None;
    let captured = captured.lock().expect("capture lock").text.clone();
    Ok(RunOutput {
        code: codes[0],
        timed_out,
        duration: started.elapsed(),
        output: captured,
    })
}

#[derive(Default)]
struct Captured {
    text: String,
    truncated: bool,
}

async fn pump<R: AsyncRead + Unpin>(reader: R, sink: Arc<Mutex<Captured>>, redactor: Redactor) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = redactor.redact(&strip_terminal_codes(&line));
        let mut c = sink.lock().expect("capture lock");
        c.text.push_str(&line);
        c.text.push('\n');
        if c.text.len() > MAX_CAPTURE {
            let cut = c.text.len() - MAX_CAPTURE / 2;
            let cut = (cut..c.text.len())
                .find(|i| c.text.is_char_boundary(*i))
                .unwrap_or(cut);
            c.text = format!("[… earlier output truncated …]\n{}", &c.text[cut..]);
            c.truncated = true;
        }
    }
}

struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Fallback bound of a [`Proc`]: a backstop against a hung child, not a budget. Callers with
/// a budget set their own with [`Proc::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// How long output may keep flowing after a child exited (grandchildren holding the pipes
/// open) before the whole process group is killed.
const DRAIN: Duration = Duration::from_secs(2);

/// A program neon-migrate calls itself: argv (never a shell line), working folder,
/// environment changes, stdin, timeout. Built like `std::process::Command`, by value, so a
/// helper can return a half-built one (`git(root).args([..])`).
///
/// Put secrets in the environment, not in the arguments where possible: `Debug` shows the
/// names of environment variables only, and arguments with URL passwords masked.
#[derive(Clone)]
pub struct Proc {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    /// In order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    /// `None`: stdin is `/dev/null`.
    stdin: Option<Arc<[u8]>>,
    timeout: Duration,
}

impl fmt::Debug for Proc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| crate::secret::mask_url_passwords(&a.to_string_lossy()))
            .collect();
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| {
                let sign = if v.is_some() { "" } else { "-" };
                format!("{sign}{}", k.to_string_lossy())
            })
            .collect();
        f.debug_struct("Proc")
            .field("program", &self.program)
            .field("args", &args)
            .field("cwd", &self.cwd)
            .field("env", &env)
            .field("stdin", &self.stdin.as_ref().map(|s| s.len()))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Proc {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Proc {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The working folder (ours when unset).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets a variable on top of our environment.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    /// Removes a variable of our environment from the child's.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Bytes written to the child's stdin (then closed); without it stdin is `/dev/null`.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into().into());
        self
    }

    /// Kills the whole process group once `limit` has passed (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// The program as messages name it: its file name (`pg_dump`, not a full path).
    pub fn name(&self) -> String {
        std::path::Path::new(&self.program)
            .file_name()
            .unwrap_or(self.program.as_os_str())
            .to_string_lossy()
            .into_owned()
    }

    fn spawn_error(&self, source: std::io::Error) -> RunError {
        RunError::Spawn {
            program: self.name(),
            source,
        }
    }

    /// The std command, in a process group of its own (or `group`'s), stdout and stderr piped.
    fn command(&self, group: i32) -> std::process::Command {
        let mut c = std::process::Command::new(&self.program);
        c.args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(group);
        if let Some(dir) = &self.cwd {
            c.current_dir(dir);
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// Runs to completion (or timeout) on this thread, without an async runtime: for code
    /// that must stay fast and runtime-free (the git hook). Helper threads carry stdin, the
    /// two output pipes and the wait, so a chatty child never blocks on a full pipe.
    pub fn run_blocking(&self, redactor: &Redactor) -> Result<ProcOutput, RunError> {
        let started = Instant::now();
        let mut child = self.command(0).spawn().map_err(|e| self.spawn_error(e))?;
        let pid = child.id();
        // On a panic below, the group goes too.
        let mut guard = GroupGuard(Some(pid));
        if let (Some(mut w), Some(data)) = (child.stdin.take(), self.stdin.clone()) {
            std::thread::spawn(move || {
                // A child that does not read its stdin closes the pipe: not our error.
                let _ = w.write_all(&data);
            });
        }
        let stdout = Sink::data();
        let stderr = Sink::text();
        let (eof_tx, eof_rx) = mpsc::channel();
        let readers: [(Option<Box<dyn Read + Send>>, Sink); 2] = [
            (
                child
                    .stdout
                    .take()
                    .map(|r| Box::new(r) as Box<dyn Read + Send>),
                stdout.clone(),
            ),
            (
                child
                    .stderr
                    .take()
                    .map(|r| Box::new(r) as Box<dyn Read + Send>),
                stderr.clone(),
            ),
        ];
        for (reader, sink) in readers {
            let eof = eof_tx.clone();
            std::thread::spawn(move || {
                if let Some(mut r) = reader {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = r.read(&mut buf) {
                        sink.push(&buf[..n]);
                    }
                }
                let _ = eof.send(());
            });
        }
        let (exit_tx, exit_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = exit_tx.send(child.wait());
        });
        let (code, timed_out) = match exit_rx.recv_timeout(self.timeout) {
            Ok(Ok(status)) => (status.code(), false),
            Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => (None, false),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                kill_group(Some(pid));
                let _ = exit_rx.recv();
                (None, true)
            }
        };
        // Grandchildren may still hold the pipes open; give them a moment, then end the group
        // and collect what they wrote.
        let mut open = 2;
        for last_chance in [false, true] {
            let deadline = Instant::now() + DRAIN;
            while open > 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                match eof_rx.recv_timeout(left) {
                    Ok(()) => open -= 1,
                    Err(_) => break,
                }
            }
            if open == 0 || last_chance {
                break;
            }
            kill_group(Some(pid));
        }
        guard.0 = None;
        Ok(self.output(code, timed_out, started, stdout, stderr, redactor))
    }

    /// Runs to completion (or timeout) on the async runtime. Dropping the future (an
    /// interrupt) kills the whole process group.
    pub async fn run(&self, redactor: &Redactor) -> Result<ProcOutput, RunError> {
        let started = Instant::now();
        let mut command = Command::from(self.command(0));
        command.kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| self.spawn_error(e))?;
        let pid = child.id();
        let mut guard = GroupGuard(pid);
        feed(&mut child, self.stdin.clone());
        let stdout = Sink::data();
        let stderr = Sink::text();
        let readers = [
            tokio::spawn(collect(child.stdout.take(), stdout.clone())),
            tokio::spawn(collect(child.stderr.take(), stderr.clone())),
        ];
        let (codes, timed_out) = wait_all(&mut [&mut child], pid, self.timeout).await;
        drain(readers, pid).await;
        guard.0 = None;
        Ok(self.output(codes[0], timed_out, started, stdout, stderr, redactor))
    }

    fn output(
        &self,
        code: Option<i32>,
        timed_out: bool,
        started: Instant,
        stdout: Sink,
        stderr: Sink,
        redactor: &Redactor,
    ) -> ProcOutput {
        ProcOutput {
            program: self.name(),
            code,
            timed_out,
            timeout: self.timeout,
            duration: started.elapsed(),
            stdout: stdout.take(),
            stderr: stderr.redacted(redactor),
        }
    }
}

/// What a finished [`Proc`] did.
#[derive(Clone)]
pub struct ProcOutput {
    /// The program's file name, for messages.
    pub program: String,
    /// Exit code; `None` when killed by a signal or the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
    /// The bound it ran under.
    pub timeout: Duration,
    pub duration: Duration,
    /// stdout as the child wrote it: data for the caller to parse, not redacted — redact
    /// before showing any of it.
    pub stdout: Vec<u8>,
    /// stderr, redacted; only its last 256 KiB when longer.
    pub stderr: String,
}

impl fmt::Debug for ProcOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcOutput")
            .field("program", &self.program)
            .field("code", &self.code)
            .field("timed_out", &self.timed_out)
            .field("duration", &self.duration)
            .field("stdout", &format_args!("[{} bytes]", self.stdout.len()))
            .field("stderr", &self.stderr)
            .finish()
    }
}

impl ProcOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// stdout as text (lossy), not redacted.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// "`git` exited with code 3", "`pg_dump` timed out after 10m", "… was killed by a signal".
    pub fn describe(&self) -> String {
        let run = RunOutput {
            code: self.code,
            timed_out: self.timed_out,
            duration: self.duration,
            output: String::new(),
        };
        format!("`{}` {}", self.program, run.describe(self.timeout))
    }

    /// What to tell a user about a failure: the child's stderr, or, when it said nothing,
    /// how it ended.
    pub fn failure_text(&self) -> String {
        let said = self.stderr.trim();
        if said.is_empty() {
            self.describe()
        } else {
            said.to_owned()
        }
    }
}

/// What a finished [`pipe`] did: each side's own outcome (`first.stdout` is empty: it went
/// to `second`).
#[derive(Debug, Clone)]
pub struct PipeOutput {
    pub first: ProcOutput,
    pub second: ProcOutput,
}

impl PipeOutput {
    /// Both sides exited 0 in time: a dump that failed halfway is a failure even when the
    /// restore happily applied the half it got.
    pub fn success(&self) -> bool {
        self.first.success() && self.second.success()
    }

    pub fn timed_out(&self) -> bool {
        self.first.timed_out || self.second.timed_out
    }

    /// Both sides' stderr, the first's then the second's, redacted.
    pub fn stderr(&self) -> String {
        [&self.first.stderr, &self.second.stderr]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What to tell a user about a failure: both sides' stderr, or, when neither said
    /// anything, how the failing side(s) ended.
    pub fn failure_text(&self) -> String {
        let said = self.stderr();
        if !said.trim().is_empty() {
            return said;
        }
        [&self.first, &self.second]
            .into_iter()
            .filter(|o| !o.success())
            .map(ProcOutput::describe)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs `first | second` without a shell: `first`'s stdout feeds `second`'s stdin (a
/// `stdin` set on `second` is ignored). Both run in one process group, killed whole at the
/// shorter of the two timeouts or when the future is dropped; both exit statuses are kept.
pub async fn pipe(
    first: &Proc,
    second: &Proc,
    redactor: &Redactor,
) -> Result<PipeOutput, RunError> {
    let (reader, writer) = std::io::pipe().map_err(|source| RunError::Pipe {
        first: first.name(),
        second: second.name(),
        source,
    })?;
    let started = Instant::now();
    let timeout = first.timeout.min(second.timeout);
    // The commands hold our copies of the pipe's ends: they must be gone once both children
    // have theirs, or `second` never sees the end of its input.
    let (mut a, mut b, pid) = {
        let mut c1 = first.command(0);
        c1.stdout(writer);
        let mut c1 = Command::from(c1);
        c1.kill_on_drop(true);
        let a = c1.spawn().map_err(|e| first.spawn_error(e))?;
        drop(c1);
        let pid = a.id();
        let mut c2 = second.command(pid.map_or(0, |p| p as i32));
        c2.stdin(reader);
        let mut c2 = Command::from(c2);
        c2.kill_on_drop(true);
        match c2.spawn() {
            Ok(b) => (a, b, pid),
            Err(e) => {
                drop(c2);
                kill_group(pid);
                let mut a = a;
                let _ = a.wait().await;
                return Err(second.spawn_error(e));
            }
        }
    };
    let mut guard = GroupGuard(pid);
    feed(&mut a, first.stdin.clone());
    let first_err = Sink::text();
    let second_out = Sink::data();
    let second_err = Sink::text();
    let readers = [
        tokio::spawn(collect(a.stderr.take(), first_err.clone())),
        tokio::spawn(collect(b.stdout.take(), second_out.clone())),
        tokio::spawn(collect(b.stderr.take(), second_err.clone())),
    ];
    let (codes, timed_out) = wait_all(&mut [&mut a, &mut b], pid, timeout).await;
    drain(readers, pid).await;
    guard.0 = None;
    Ok(PipeOutput {
        first: first.output(
            codes[0],
            timed_out,
            started,
            Sink::data(),
            first_err,
            redactor,
        ),
        second: second.output(
            codes[1], timed_out, started, second_out, second_err, redactor,
        ),
    })
}

/// Writes `data` to the child's stdin from a task of its own, then closes it.
fn feed(child: &mut tokio::process::Child, data: Option<Arc<[u8]>>) {
    if let (Some(mut w), Some(data)) = (child.stdin.take(), data) {
        tokio::spawn(async move {
            let _ = w.write_all(&data).await;
            let _ = w.shutdown().await;
        });
    }
}

/// Waits for every child of the group `pid` leads; at `timeout` kills the group and reaps
/// them. Returns their exit codes and whether the timeout struck.
async fn wait_all(
    children: &mut [&mut tokio::process::Child],
    pid: Option<u32>,
    timeout: Duration,
) -> (Vec<Option<i32>>, bool) {
    let mut codes = vec![None; children.len()];
    let in_time = tokio::time::timeout(timeout, async {
        for (child, code) in children.iter_mut().zip(codes.iter_mut()) {
            *code = child.wait().await.ok().and_then(|s| s.code());
        }
    })
    .await;
    if in_time.is_ok() {
        return (codes, false);
    }
    kill_group(pid);
    for child in children.iter_mut() {
        let _ = child.wait().await;
    }
    (vec![None; children.len()], true)
}

/// Lets the readers reach the end of their pipes for [`DRAIN`]; then kills the group and
/// gives them as long again to collect what it wrote.
async fn drain<const N: usize>(mut readers: [tokio::task::JoinHandle<()>; N], pid: Option<u32>) {
    for last_chance in [false, true] {
        let done = tokio::time::timeout(DRAIN, async {
            for r in readers.iter_mut().filter(|r| !r.is_finished()) {
                let _ = r.await;
            }
        })
        .await;
        if done.is_ok() || last_chance {
            return;
        }
        kill_group(pid);
    }
}

async fn collect<R: AsyncRead + Unpin>(reader: Option<R>, sink: Sink) {
    let Some(mut r) = reader else { return };
    let mut buf = [0u8; 8192];
    while let Ok(n @ 1..) = r.read(&mut buf).await {
        sink.push(&buf[..n]);
    }
}

/// Bytes read from one pipe. Data (stdout) is kept whole; text (stderr) keeps its tail only,
/// cut at a line start so no secret is left half-masked by the cut.
#[derive(Clone)]
struct Sink {
    inner: Arc<Mutex<(Vec<u8>, bool)>>,
    cap: Option<usize>,
}

impl Sink {
    fn data() -> Self {
        Sink {
            inner: Arc::default(),
            cap: None,
        }
    }

    fn text() -> Self {
        Sink {
            inner: Arc::default(),
            cap: Some(MAX_CAPTURE),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().expect("sink lock");
        let (buf, truncated) = &mut *inner;
        buf.extend_from_slice(bytes);
        if let Some(cap) = self.cap {
            if buf.len() > 2 * cap {
                let cut = buf.len() - cap;
                let cut = buf[cut..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(buf.len(), |i| cut + i + 1);
                buf.drain(..cut);
                *truncated = true;
            }
        }
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.inner.lock().expect("sink lock").0)
    }

    fn redacted(&self, redactor: &Redactor) -> String {
        let inner = self.inner.lock().expect("sink lock");
        let (buf, truncated) = &*inner;
        let text = redactor.redact(&String::from_utf8_lossy(buf));
        if *truncated {
            format!("[… earlier output truncated …]\n{text}")
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests;
