//! The one way neon-migrate runs a child process.
//!
//! Argv by default (a shell only when the config gives a string, run as `sh -c`), an explicit
//! environment on top of ours, a timeout that kills the whole process group, stdout and
//! stderr captured interleaved in arrival order, timing — and every line redacted before it
//! is stored, so a tool that prints its connection string cannot leak it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::config::CommandSpec;
use crate::secret::Redactor;

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

    let (code, timed_out) = match tokio::time::timeout(cmd.timeout, child.wait()).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(_)) => (None, false),
        Err(_) => {
            kill_group(pid);
            let _ = child.wait().await;
            (None, true)
        }
    };
    // Grandchildren may still hold the pipes open; give them a moment, then end the group.
    let drained = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = out.await;
        let _ = err.await;
    })
    .await;
    if drained.is_err() {
        kill_group(pid);
    }
    guard.0 = None;
    let captured = captured.lock().expect("capture lock").text.clone();
    Ok(RunOutput {
        code,
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

/// A line of child output as a terminal would leave it: ANSI escape sequences (colours,
/// cursor moves, `\x1b[2K\x1b[1G` of progress bars, OSC titles and links) removed, a line
/// redrawn after a carriage return reduced to its last drawing, other control characters
/// but tabs dropped. Reports are text, not terminal streams.
pub fn strip_terminal_codes(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                // Two-byte escapes (`ESC 7`, `ESC =`, `ESC (B` takes one more).
                Some('(' | ')' | '*' | '+') => {
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
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

/// Indents captured output under a fence so it is never mistaken for our own text.
pub fn fence(output: &str) -> String {
    let body = output.trim_end();
    if body.is_empty() {
        return "  │ (no output)".into();
    }
    body.lines()
        .map(|l| format!("  │ {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_codes_are_stripped() {
        let cases = [
            ("\x1b[2K\x1b[1G✔ applied 0002", "✔ applied 0002"),
            ("\x1b[32mok\x1b[0m done", "ok done"),
            ("\x1b]0;title\x07text", "text"),
            ("\x1b]8;;https://x.y\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("10%\r50%\r100%", "100%"),
            ("windows line\r", "windows line"),
            ("\x1b(Bplain\x1b=", "plain"),
            ("a\tb\x07c", "a\tbc"),
            ("no codes: 50% of $x", "no codes: 50% of $x"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_terminal_codes(input), want, "{input:?}");
        }
    }
}
