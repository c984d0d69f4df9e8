//! A real SMTP server for the e-mail tests: `tests/smtp/sink.py` (Python's aiosmtpd) as a child
//! process on 127.0.0.1 and a free port. Without python3 or aiosmtpd the test fails, saying what
//! to install; it never skips. The child is killed when the guard is dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

/// One message the sink accepted.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Decoded.
    pub subject: String,
    /// The text part, decoded.
    pub body: String,
    /// The message as it crossed the wire.
    pub raw: String,
}

pub struct SmtpSink {
    child: Child,
    // Held open: the sink exits when it closes (so does a test process that dies).
    _stdin: Option<ChildStdin>,
    pub port: u16,
    dir: PathBuf,
}

const INSTALL: &str = "the e-mail tests need python3 with aiosmtpd: python3 -m pip install aiosmtpd==1.4.6 (.ci/run does this)";

impl SmtpSink {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("tomoni-smtp-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("create the sink's directory");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/smtp/sink.py");
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(script)
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start python3 ({err}); {INSTALL}"));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("sink stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line).unwrap_or(0);
        let port = line.trim().parse::<u16>().ok().filter(|_| read > 0);
        let Some(port) = port else {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SMTP sink did not start: {stderr}\n{INSTALL}");
        };
        Self {
            child,
            _stdin: stdin,
            port,
            dir,
        }
    }

    /// `smtp://127.0.0.1:<port>` (plain: the sink speaks no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// While on, the sink answers DATA with 451 (a relay refusing for now).
    pub fn refuse(&self, on: bool) {
        let flag = self.dir.join("refuse");
        if on {
            std::fs::write(&flag, b"").expect("set refuse");
        } else if flag.exists() {
            std::fs::remove_file(&flag).expect("clear refuse");
        }
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read the sink's directory")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                serde_json::from_slice(&std::fs::read(path).expect("read a message"))
                    .expect("a message the sink wrote")
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
