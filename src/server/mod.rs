//! The floor server (`coldcall serve`): the one process that holds the database credentials.
//! Agents' consoles log in to it; every route acts as the session's agent and asks the domain
//! (`crate::domain::authority`) whether that agent's role may. One pool of a configured size
//! serves every console, and one task reads the change feed for all of them (`feed`).
//!
//! Plain HTTP is served only on a loopback address or a Unix socket (behind a TLS reverse
//! proxy); anywhere else the server needs a certificate and key and speaks HTTPS via rustls.

pub mod auth;
pub mod config;
mod extract;
pub mod feed;
pub mod problem;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;

use self::auth::{AgentSlot, Throttle};
use self::config::{Listen, ServerSettings, Transport};
use self::feed::FeedHub;
use self::problem::Problem;
use crate::store::Store;

/// What every request handler shares.
pub struct AppState {
    pub store: Store,
    pub settings: ServerSettings,
    /// Default country for phone numbers written without a country code.
    pub region: String,
    pub throttle: Throttle,
    pub feed: Arc<FeedHub>,
    /// Turns true when the server is stopping: open streams end so shutdown can finish.
    pub shutdown: watch::Receiver<bool>,
}

/// The whole HTTP surface: health checks and `/api/v1`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(readyz))
        .nest("/api/v1", routes::api())
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Ready when the database answers and every migration this coldcall knows is applied.
async fn readyz(State(st): State<Arc<AppState>>) -> Response {
    match st.store.migration_status().await {
        Ok(status) if status.iter().all(|m| m.applied) => Json(json!({ "status": "ready" })).into_response(),
        Ok(status) => {
            let pending: Vec<String> = status
                .iter()
                .filter(|m| !m.applied)
                .map(|m| m.version.to_string())
                .collect();
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                format!("migrations pending: {}", pending.join(", ")),
            )
            .with_code("migrations_pending")
            .into_response()
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// One log line per request: method, route (the template, never the query or a token), status,
/// time taken and the session's agent.
async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let slot = AgentSlot::default();
    req.extensions_mut().insert(slot.clone());
    let response = next.run(req).await;
    let agent = slot.0.get().map(String::as_str).unwrap_or("-");
    tracing::info!(
        target: "coldcall::server::request",
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        agent,
        "request"
    );
    response
}

/// A running server: where it listens, and how to stop it.
pub struct Server {
    /// The bound TCP address (None on a Unix socket).
    pub addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    feed_task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting, lets in-flight requests finish (streams close), then returns.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let result = self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        let _ = self.feed_task.await;
        result
    }

    /// Waits until the server ends by itself (it only does on an error).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        (&mut self.task).await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// How long in-flight requests get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(20);

/// Starts serving `store` as the settings say. The schema is brought up to date first.
pub async fn start(store: Store, settings: ServerSettings, region: String) -> Result<Server, String> {
    let (listen, transport) = settings.resolve()?;
    store
        .migrate()
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))?;
    let head = store
        .feed_head()
        .await
        .map_err(|e| format!("cannot read the change feed: {e}"))?;
    let (stop, shutdown) = watch::channel(false);
    let feed = Arc::new(FeedHub::new(head));
    let feed_task = tokio::spawn(
        feed.clone()
            .run(store.clone(), settings.feed_interval(), shutdown.clone()),
    );
    let state = Arc::new(AppState {
        store,
        settings,
        region,
        throttle: Throttle::default(),
        feed,
        shutdown: shutdown.clone(),
    });
    let app = router(state);
    let mut stopping = shutdown.clone();
    let stopped = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    let (addr, task) = match (listen, transport) {
        (Listen::Tcp(addr), Transport::Plain) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let task =
                tokio::spawn(async move { axum::serve(listener, service).with_graceful_shutdown(stopped).await });
            (Some(addr), task)
        }
        (Listen::Unix(path), Transport::Plain) => {
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
            }
            let listener = tokio::net::UnixListener::bind(&path)
                .map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
            let task = tokio::spawn(async move {
                axum::serve(listener, app.into_make_service())
                    .with_graceful_shutdown(stopped)
                    .await
            });
            (None, task)
        }
        (Listen::Tcp(addr), Transport::Tls { cert, key }) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    format!(
                        "cannot load the TLS certificate {} and key {}: {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let std_listener =
                std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            std_listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let addr = std_listener.local_addr().map_err(|e| e.to_string())?;
            let handle = axum_server::Handle::new();
            let closer = handle.clone();
            tokio::spawn(async move {
                stopped.await;
                closer.graceful_shutdown(Some(GRACE));
            });
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            let task = tokio::spawn(async move {
                axum_server::from_tcp_rustls(std_listener, tls)
                    .handle(handle)
                    .serve(service)
                    .await
            });
            (Some(addr), task)
        }
        (Listen::Unix(_), Transport::Tls { .. }) => unreachable!("refused by resolve"),
    };
    Ok(Server {
        addr,
        stop,
        task,
        feed_task,
    })
}

/// Resolves when the process is asked to stop (SIGTERM, SIGINT).
pub async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
