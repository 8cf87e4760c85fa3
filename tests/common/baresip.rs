//! Real baresip processes on loopback for the softphone tests: the agent's phone and the
//! "leads" it calls. No SIP server: the agent dials the far end's address directly.
//!
//! Each instance gets its own config directory, its own block of ports (SIP, SIP/TLS on the
//! next port, the control socket, RTP), an 8 kHz WAV as its microphone and a silent speaker
//! (`aubridge`). baresip is killed when the instance is dropped.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use coldcall::dialer::baresip::message::{self, Event, Message, Response};
use coldcall::dialer::netstring::NetstringCodec;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_util::codec::Framed;

/// Ports per instance: SIP and SIP/TLS, the control socket, then RTP/RTCP pairs.
const BLOCK: u16 = 16;
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How the far end treats an incoming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `answermode=auto`: answers at once, with no ringing.
    Auto,
    /// `answermode=manual`: sends 180 Ringing and waits for an `accept` (or `hangup`, which
    /// rejects the call with 486) on its control socket. Never answers by itself.
    Manual,
}

pub struct Baresip {
    pub name: String,
    /// The SIP user of its account: the lead's number for a far end.
    pub user: String,
    pub sip_port: u16,
    pub control: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Baresip {
    /// Starts one instance and waits until its control socket accepts connections.
    pub async fn start(name: &str, user: &str, answer: Answer, audio: &Path) -> Baresip {
        assert!(
            std::process::Command::new("baresip").arg("-h").output().is_ok(),
            "baresip is not installed: run scripts/install-baresip"
        );
        let base = free_block();
        let dir = tempfile::tempdir().unwrap();
        let control: SocketAddr = format!("127.0.0.1:{}", base + 2).parse().unwrap();
        let answermode = match answer {
            Answer::Auto => "auto",
            Answer::Manual => "manual",
        };
        std::fs::write(
            dir.path().join("config"),
            format!(
                "poll_method\t\tepoll\n\
                 sip_listen\t\t127.0.0.1:{sip}\n\
                 audio_player\t\taubridge,{name}\n\
                 audio_source\t\taufile,{audio}\n\
                 audio_alert\t\taubridge,{name}-alert\n\
                 rtp_ports\t\t{rtp_lo}-{rtp_hi}\n\
                 module_path\t\t/usr/lib/baresip/modules\n\
                 module\t\t\tg711.so\n\
                 module\t\t\taufile.so\n\
                 module\t\t\taubridge.so\n\
                 module_tmp\t\taccount.so\n\
                 module_app\t\tmenu.so\n\
                 module_app\t\tctrl_tcp.so\n\
                 ctrl_tcp_listen\t\t{control}\n",
                sip = base,
                audio = audio.display(),
                rtp_lo = base + 4,
                rtp_hi = base + BLOCK - 1,
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("accounts"),
            format!("<sip:{user}@127.0.0.1:{base}>;regint=0;answermode={answermode}\n"),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("baresip starts");
        let phone = Baresip {
            name: name.to_string(),
            user: user.to_string(),
            sip_port: base,
            control,
            dir,
            child: Some(child),
        };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        // The probe connection is closed at once; the next client replaces it anyway.
        while TcpStream::connect(control).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} did not open its control socket:\n{}",
                phone.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        phone
    }

    /// The far end's SIP URI for a number, as `[dial] uri` would be written for it.
    pub fn uri_template(&self) -> String {
        format!("sip:{{number}}@127.0.0.1:{}", self.sip_port)
    }

    /// Kills the process at once (SIGKILL): no BYE, no goodbye on the control socket.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// What baresip printed, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

/// A test's own connection to a far end's control socket: it watches the far end's events and
/// answers or rejects calls as a person at that phone would.
pub struct Remote {
    conn: Framed<TcpStream, NetstringCodec>,
    tokens: u64,
}

impl Remote {
    pub async fn connect(phone: &Baresip) -> Remote {
        let stream = TcpStream::connect(phone.control).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Remote {
            conn: Framed::new(stream, NetstringCodec::default()),
            tokens: 0,
        }
    }

    /// Sends a command (`accept`, `hangup`, ...) without waiting for its reply, and returns
    /// the time it was sent.
    pub async fn send(&mut self, command: &str) -> DateTime<Utc> {
        self.tokens += 1;
        let body = message::command(command, None, &format!("remote-{}", self.tokens));
        let at = Utc::now();
        self.conn.send(body.as_slice()).await.unwrap();
        at
    }

    /// Waits for an event of this kind; returns it with the time it arrived.
    pub async fn event(&mut self, kind: &str, within: Duration) -> (Event, DateTime<Utc>) {
        let found = tokio::time::timeout(within, async {
            loop {
                let frame = self.conn.next().await.expect("the far end is running").unwrap();
                if let Ok(Message::Event(event)) = message::parse(&frame) {
                    if event.kind == kind {
                        return (event, Utc::now());
                    }
                }
            }
        });
        found.await.unwrap_or_else(|_| panic!("no {kind} within {within:?}"))
    }

    /// Waits for the reply to the last command.
    pub async fn reply(&mut self, within: Duration) -> Response {
        let found = tokio::time::timeout(within, async {
            loop {
                let frame = self.conn.next().await.expect("the far end is running").unwrap();
                if let Ok(Message::Response(reply)) = message::parse(&frame) {
                    return reply;
                }
            }
        });
        found.await.expect("a reply")
    }
}

/// An 8 kHz, 16-bit mono WAV of a 440 Hz tone, written once per test process. baresip's
/// `aufile` ends the call when its file runs out, so `seconds` must outlast the call.
pub fn tone_wav(seconds: u32) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    // Tests run in parallel threads: one of them writes each file, the others wait for it.
    static WRITING: Mutex<()> = Mutex::new(());
    let _writing = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let path = dir.path().join(format!("tone-{seconds}s.wav"));
    if !path.exists() {
        let rate = 8000u32;
        let samples = rate * seconds;
        let mut wav = Vec::with_capacity(44 + samples as usize * 2);
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + samples * 2).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
        wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&1u16.to_le_bytes()); // mono
        wav.extend_from_slice(&rate.to_le_bytes());
        wav.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
        wav.extend_from_slice(&2u16.to_le_bytes()); // block align
        wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(samples * 2).to_le_bytes());
        for i in 0..samples {
            let phase = i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate);
            wav.extend_from_slice(&((phase.sin() * 8000.0) as i16).to_le_bytes());
        }
        std::fs::write(&path, wav).unwrap();
    }
    path
}

/// A block of ports nobody on this machine is using, different for every instance of this
/// process (tests run in parallel threads).
fn free_block() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let first = 21000 + (std::process::id() % 500) as u16 * 64;
    loop {
        let base = NEXT.fetch_add(BLOCK, Ordering::SeqCst).wrapping_add(first);
        if !(10000..=64000).contains(&base) {
            continue;
        }
        let free = (base..base + BLOCK)
            .all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok());
        if free {
            return base;
        }
    }
}
