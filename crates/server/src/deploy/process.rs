//! Running one step's process: in a session and process group of its own (so that it has no
//! controlling terminal to type into), with a clean environment, its stdout and stderr logged
//! line by line as they are printed, each line read into at most a bounded buffer. Cancelling
//! sends the group SIGTERM, then SIGKILL after a grace period; whatever the group left behind
//! is killed when the step ends (and, in the sandbox, with its PID namespace).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use super::cancel::{Cancel, Reason};
use super::logs::{LogSink, MAX_LINE};

/// How long readers may drain the pipes after the group is gone (processes that left the
/// group may still hold them).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of one line a reader keeps: the stored length, and room for a secret that
/// crosses the cut to be redacted whole before the line is cut.
const LINE_BUFFER: usize = MAX_LINE + 4 * 1024;

/// A command to run.
#[derive(Clone, Debug)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment: nothing is inherited.
    pub env: BTreeMap<String, String>,
}

/// How a process ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(ExitStatus),
    /// Cancelled, for this reason.
    Cancelled(Reason),
    /// It could not be started.
    NotStarted(std::io::Error),
}

/// Kills the whole group when dropped, whatever happened to the step.
struct GroupGuard(Pid);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // ESRCH (nothing left in the group) is the usual, fine outcome.
        let _ = killpg(self.0, Signal::SIGKILL);
    }
}

/// Runs `spec`, logging its output as step `step`, until it exits or `cancel` fires.
pub async fn run(
    spec: &Spec,
    step: i64,
    sink: &LogSink,
    cancel: &mut Cancel,
    grace: Duration,
) -> Outcome {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(&spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: setsid is async-signal-safe, and the closure touches nothing else of the parent.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return Outcome::NotStarted(err),
    };
    let Some(pid) = child.id() else {
        return Outcome::NotStarted(std::io::Error::other("the process exited at once"));
    };
    let group = GroupGuard(Pid::from_raw(pid as i32));
    let readers = [
        child
            .stdout
            .take()
            .map(|out| tokio::spawn(forward(out, step, sink.clone()))),
        child
            .stderr
            .take()
            .map(|err| tokio::spawn(forward(err, step, sink.clone()))),
    ];
    let outcome = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Outcome::Exited(status),
            Err(err) => Outcome::NotStarted(err),
        },
        reason = cancel.requested() => {
            let _ = killpg(group.0, Signal::SIGTERM);
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                let _ = killpg(group.0, Signal::SIGKILL);
                let _ = child.wait().await;
            }
            Outcome::Cancelled(reason)
        }
    };
    drop(group);
    for reader in readers.into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(DRAIN_TIMEOUT, reader).await.is_err() {
            abort.abort();
        }
    }
    outcome
}

/// Logs each line read from `pipe`, splitting only at newlines. Of a line longer than
/// [`LINE_BUFFER`] only that much is kept, and it is logged (and cut) as soon as it is that
/// long; the rest, up to the next newline, is read and dropped.
async fn forward(pipe: impl AsyncRead + Unpin, step: i64, sink: LogSink) {
    let mut reader = BufReader::with_capacity(64 * 1024, pipe);
    let mut line: Vec<u8> = Vec::with_capacity(4 * 1024);
    // Whether the current line was already logged (cut), so its tail is dropped.
    let mut cut = false;
    loop {
        let available = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(available) => available,
        };
        let newline = available.iter().position(|&b| b == b'\n');
        let taken = newline.map_or(available.len(), |at| at + 1);
        if !cut {
            let room = LINE_BUFFER - line.len();
            line.extend_from_slice(&available[..taken.min(room)]);
            if taken > room {
                sink.line(step, &String::from_utf8_lossy(&line)).await;
                line.clear();
                cut = true;
            }
        }
        reader.consume(taken);
        if newline.is_some() {
            if !cut {
                sink.line(step, &String::from_utf8_lossy(&line)).await;
            }
            line.clear();
            cut = false;
        }
    }
    if !line.is_empty() && !cut {
        sink.line(step, &String::from_utf8_lossy(&line)).await;
    }
}

/// The words of a finished process's status, for the log.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "ended".to_owned(),
    }
}
