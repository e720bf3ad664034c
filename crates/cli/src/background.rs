//! The work that runs beside the HTTP server (or alone, as `lapor worker`):
//! the outbox delivery workers and the deadline scheduler, and the e-mail
//! channel they send through.

use crate::config::Config;
use lapor_mailsink::{MailSink, SinkOptions};
use lapor_server::AppState;
use lapor_server::notify::Channels;
use lapor_server::notify::email::EmailChannel;
use lapor_server::worker::{self, WorkerConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Running background tasks; `stop` ends them after their current batch.
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    pub fn start(state: &AppState, cfg: &Config, scheduler: bool) -> Background {
        let (stop, rx) = watch::channel(false);
        let wc = WorkerConfig {
            concurrency: cfg.worker_concurrency.max(1),
            lease: Duration::from_secs(cfg.worker_lease_secs.max(1)),
            ..WorkerConfig::default()
        };
        let mut tasks = vec![tokio::spawn(worker::run(
            state.clone(),
            wc,
            state.counters.clone(),
            rx.clone(),
        ))];
        if let Some(sms) = &cfg.channels.sms
            && sms.send_via == "smpp"
            && let Some(smpp) = &sms.smpp
        {
            tasks.push(tokio::spawn(lapor_server::channels::turn::run_smpp(
                state.clone(),
                smpp.clone(),
                sms.sender_id.clone(),
                rx.clone(),
            )));
        }
        if cfg.channels.x.is_some() {
            tasks.push(tokio::spawn(lapor_server::channels::x_poll::run(
                state.clone(),
                rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(lapor_server::integration::webhooks::run(
            state.clone(),
            Default::default(),
            rx.clone(),
        )));
        if let Some(v3) = &cfg.lapor_v3 {
            tracing::info!(base = %v3.base_url, "reporting upward to SP4N-LAPOR! v3");
            tasks.push(tokio::spawn(lapor_server::integration::lapor_v3::run(
                state.clone(),
                v3.clone(),
                rx.clone(),
            )));
        }
        if let Some(hub) = &cfg.hub {
            tracing::info!(hub = %hub.base_url, institution = %hub.institution, "federated with a Lapor hub");
            tasks.push(tokio::spawn(lapor_server::integration::federation::run(
                state.clone(),
                hub.clone(),
                rx.clone(),
            )));
        }
        if scheduler {
            tasks.push(tokio::spawn(lapor_server::deadlines::run(
                state.clone(),
                Duration::from_secs(cfg.scheduler_interval_secs.max(1)),
                rx,
            )));
        }
        Background { stop, tasks }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Sets up the channels. With `--demo` and no SMTP server configured, mail
/// goes to a local sink that keeps each message as a file, so the demo
/// shows what reporters and staff would receive.
pub async fn channels(cfg: &Config, demo: bool, mail_dir: &Path) -> Result<(Channels, Option<MailSink>), String> {
    let (url, sink) = if !cfg.smtp_url.is_empty() {
        (cfg.smtp_url.clone(), None)
    } else if demo {
        let sink = MailSink::start(
            "127.0.0.1:0",
            SinkOptions {
                out_dir: Some(mail_dir.to_path_buf()),
                keep_raw: false,
                remember: Some(1000),
                ..SinkOptions::default()
            },
        )
        .await
        .map_err(|e| format!("mail sink: {e}"))?;
        (format!("smtp://{}", sink.addr()), Some(sink))
    } else {
        return Ok((Channels::default(), None));
    };
    let email = EmailChannel::new(&url, &cfg.mail_from, cfg.worker_concurrency.clamp(1, 64) as u32)?;
    Ok((Channels::default().with(Arc::new(email)), sink))
}
