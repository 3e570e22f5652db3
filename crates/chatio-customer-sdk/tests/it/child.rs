//! A child process for the tests that kill an SDK: this test binary run again, running only
//! one (ignored) test, with its lines on stdout read by a thread and its stdin written by the
//! parent. Dropped, a child still running is killed (a failing test leaves none behind).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;

/// This binary, running only the test `test`, with `env`.
pub struct ChildProcess {
    child: Child,
    stdin: ChildStdin,
    /// The child's lines that start with `child: ` (the prefix removed), in order; closed at
    /// its exit.
    pub lines: mpsc::Receiver<String>,
}

impl ChildProcess {
    pub fn start<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(test: &str, env: &[(K, V)]) -> Self {
        let exe = std::env::current_exe().expect("the test binary");
        let mut cmd = Command::new(exe);
        cmd.args([test, "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start the child");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness may have printed `test … ... ` on the same line first.
                if let Some((_, l)) = line.rsplit_once("child: ") {
                    let _ = tx.send(l.to_owned());
                }
            }
        });
        Self { child, stdin, lines }
    }

    pub fn tell(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("write to the child");
        self.stdin.flush().expect("flush");
    }

    /// SIGKILL (`Child::kill` on Unix): no destructor, no flush, nothing of the SDK runs.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill");
        let exit = self.child.wait().expect("reap");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit.signal(), Some(9), "it was killed: {exit:?}");
    }

    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("reap")
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
