//! `qualityd serve`: open the store, start the HTTP API at once (behind its guard, over TLS
//! when configured), load the plugins on a blocking thread (the API answers meanwhile,
//! `/readyz` says when they are loaded), watch the plugin directory, run the schedules,
//! reload plugins on SIGHUP, and on SIGTERM or SIGINT drain the jobs and stop.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};

use crate::api;
use crate::config::Config;
use crate::{Error, Result};

use super::{Daemon, scheduler, watcher};

/// The file in the state directory that holds the address the API listens on, written (whole,
/// by rename) once it listens: useful with `listen = "127.0.0.1:0"`.
pub const LISTEN_FILE: &str = "listen.addr";

/// Run the daemon until SIGTERM or SIGINT.
pub async fn serve(config: Config) -> Result<()> {
    let daemon = Daemon::open(config)?;
    let config = daemon.config.clone();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Config {
            path: config.path.clone(),
            line: None,
            key: "listen".into(),
            reason: format!(
                "cannot listen on {}: {e}; pick another address or stop what uses it",
                config.listen
            ),
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("the listening socket has no address: {e}")))?;
    // Written to a temporary file and renamed in, so a reader never sees half an address.
    let listen_file = config.state_dir.join(LISTEN_FILE);
    let temporary = config.state_dir.join(format!(".{LISTEN_FILE}.tmp"));
    std::fs::write(&temporary, address.to_string())
        .and_then(|()| std::fs::rename(&temporary, &listen_file))
        .map_err(|e| Error::Path {
            path: listen_file.clone(),
            reason: format!(
                "cannot write the listen address: {e}; check the state directory's permissions"
            ),
        })?;
    tracing::info!(
        %address,
        tls = config.api.tls.is_some(),
        tokens = config.api.tokens.len(),
        state = %config.state_dir.display(),
        plugins = %config.plugin_dir.display(),
        "qualityd listening"
    );

    // Watch before the first scan, so no change between the two is missed.
    let _watcher = watcher::watch(daemon.registry.clone())?;
    let loader = daemon.clone();
    tokio::task::spawn_blocking(move || {
        loader.load_plugins();
        // Schedules start once the plugins are loaded; on a blocking thread of the runtime,
        // spawning still works.
        scheduler::start(&loader.jobs, &loader.config.datastores);
    });
    tokio::spawn(reload_on_sighup(daemon.clone()));
    tokio::spawn(tick_jobs(daemon.clone()));
    tokio::spawn(super::retention::prune_daily(daemon.clone()));

    if config.api.tls.is_none() && !address.ip().is_loopback() {
        tracing::warn!(%address, "the API listens beyond loopback in plain HTTP (api.allow_plaintext): tokens and profiles cross the network in clear unless a TLS proxy is in front");
    }
    let guard = Arc::new(api::Guard::new(&config.api, address));
    let router = api::router(daemon.clone(), guard);
    let stopped = match &config.api.tls {
        Some(tls) => {
            let listener = api::tls::TlsListener::new(listener, tls.server.clone())
                .map_err(|e| Error::Internal(format!("the TLS listener has no address: {e}")))?;
            axum::serve(listener, router)
                .with_graceful_shutdown(drain_on_signal(daemon))
                .await
        }
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(drain_on_signal(daemon))
                .await
        }
    };
    stopped.map_err(|e| Error::Internal(format!("the HTTP server stopped: {e}")))
}

/// Save running jobs' progress and stop those past their time limit, every [`super::jobs::TICK`].
async fn tick_jobs(daemon: Arc<Daemon>) {
    let mut ticks = tokio::time::interval(super::jobs::TICK);
    loop {
        ticks.tick().await;
        let jobs = daemon.jobs.clone();
        let _ = tokio::task::spawn_blocking(move || jobs.tick()).await;
    }
}

async fn reload_on_sighup(daemon: Arc<Daemon>) {
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; use POST /plugins/reload");
        return;
    };
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: rescanning the plugin directory");
        let registry = daemon.registry.clone();
        let _ = tokio::task::spawn_blocking(move || registry.rescan()).await;
    }
}

/// Resolves once a stop signal came and the jobs are drained; the server then stops. A
/// second signal while draining exits at once.
async fn drain_on_signal(daemon: Arc<Daemon>) {
    stop_signal().await;
    let grace = daemon.config.shutdown_grace;
    tracing::info!(
        grace_secs = grace.as_secs(),
        "stopping: no new jobs; waiting for running ones (a second signal stops at once)"
    );
    tokio::spawn(async {
        stop_signal().await;
        tracing::warn!("second stop signal: exiting now; running jobs will show as interrupted");
        std::process::exit(130);
    });
    daemon.jobs.drain(grace).await;
    tracing::info!("stopped");
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = terminate => {},
        _ = tokio::signal::ctrl_c() => {},
    }
}
