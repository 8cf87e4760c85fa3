//! A TCP proxy between coldcall and PostgreSQL that a test steers: pass bytes, delay them, stall
//! them with both sockets left open (a half-open connection: nothing arrives, nothing resets), or
//! cut every connection and refuse new ones.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Delay(Duration),
    Stall,
    Cut,
}

#[derive(Debug, Clone, Copy)]
struct State {
    fault: Fault,
    /// Bumped by every cut, so connections older than the cut close.
    cuts: u64,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: watch::Sender<State>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (host:port).
    pub async fn start(upstream: String) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (state, watcher) = watch::channel(State {
            fault: Fault::None,
            cuts: 0,
        });
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let now = *watcher.borrow();
                if now.fault == Fault::Cut {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, watcher.clone(), now.cuts));
                tokio::spawn(pump(sr, cw, watcher.clone(), now.cuts));
            }
        });
        FaultProxy { addr, state }
    }

    pub fn set(&self, fault: Fault) {
        self.state.send_modify(|s| {
            if fault == Fault::Cut {
                s.cuts += 1;
            }
            s.fault = fault;
        });
    }

    /// `url` (a PostgreSQL URL) with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority
            .rsplit_once('@')
            .map(|(u, _)| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{path}", self.addr)
    }
}

/// Copies one direction, obeying the fault in force at each chunk.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut state: watch::Receiver<State>,
    born_after_cuts: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = state.changed() => {
                if changed.is_err() || state.borrow().cuts > born_after_cuts {
                    return;
                }
                continue;
            }
        };
        // Hold the bytes while the fault says so; a cut closes the connection.
        loop {
            let now = *state.borrow();
            if now.cuts > born_after_cuts {
                return;
            }
            match now.fault {
                Fault::Stall => {
                    if state.changed().await.is_err() {
                        return;
                    }
                }
                Fault::Delay(d) => {
                    tokio::time::sleep(d).await;
                    break;
                }
                _ => break,
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
