//! `lapor outbox`: what waits to be delivered, what failed, and replay.

use chrono::Utc;
use clap::Subcommand;
use lapor_store::Store;
use lapor_store::ts::Ts;

#[derive(Subcommand)]
pub enum OutboxCmd {
    /// Jobs waiting, failing and dead, per topic, with the oldest's age.
    Stats,
    /// Dead-lettered and undeliverable jobs, newest first.
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put dead or undeliverable jobs back in the queue.
    Replay {
        /// Job ids (see `lapor outbox dead`).
        ids: Vec<i64>,
        /// Replay every dead and undeliverable job.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Stop treating an e-mail address as undeliverable (it was fixed).
    ForgetAddress { address: String },
}

pub async fn run(store: &dyn Store, cmd: OutboxCmd) -> Result<(), String> {
    let now = Utc::now();
    match cmd {
        OutboxCmd::Stats => {
            let depths = store.queue_depths().await.map_err(|e| e.to_string())?;
            if depths.is_empty() {
                println!("outbox: nothing waiting, nothing dead");
                return Ok(());
            }
            println!(
                "{:<32} {:<14} {:>8} {:>8} {:>12}",
                "topic", "state", "jobs", "failing", "oldest"
            );
            for d in depths {
                let age = d.oldest.map_or("-".to_string(), |t| {
                    let s = (now - t).num_seconds().max(0);
                    format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
                });
                println!(
                    "{:<32} {:<14} {:>8} {:>8} {:>12}",
                    d.topic, d.state, d.count, d.failing, age
                );
            }
        }
        OutboxCmd::Dead { limit } => {
            for d in store.dead_letters(limit).await.map_err(|e| e.to_string())? {
                println!(
                    "#{} {} [{}] key={} attempts={} created={} error={}",
                    d.id,
                    d.topic,
                    d.state,
                    d.key,
                    d.attempts,
                    d.created_at.format("%Y-%m-%d %H:%M:%S"),
                    d.last_error.unwrap_or_default()
                );
            }
        }
        OutboxCmd::Replay { ids, all } => {
            if !all && ids.is_empty() {
                return Err("replay: give job ids or --all".into());
            }
            let n = store
                .replay_jobs(if all { None } else { Some(&ids) }, Ts::new(now))
                .await
                .map_err(|e| e.to_string())?;
            println!("{n} job(s) back in the queue");
        }
        OutboxCmd::ForgetAddress { address } => {
            let known = store.forget_undeliverable(&address).await.map_err(|e| e.to_string())?;
            println!(
                "{address}: {}",
                if known {
                    "no longer marked undeliverable"
                } else {
                    "was not marked"
                }
            );
        }
    }
    Ok(())
}
