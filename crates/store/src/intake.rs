//! Group commit for new reports. Submissions that arrive together are
//! written in one transaction with multi-row inserts, so one durable commit
//! (one fsync) acknowledges many reports. Under light load a batch is a
//! single report and nothing waits. A batch that fails is retried one report
//! at a time, so one bad report never takes its neighbours down with it.

use crate::Result;
use crate::types::{CreateOutcome, NewReport};
use lapor_domain::{Error, ErrorCode};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Upper bound on reports per transaction (keeps statements under the
/// backends' bind-parameter limits: 256 × 37 < 32,766).
pub(crate) const MAX_BATCH: usize = 256;

/// Row counts used for multi-row statements. Keeping to a few fixed shapes
/// lets both backends reuse prepared statements instead of preparing a new
/// one for every batch size.
const SHAPES: [usize; 4] = [64, 16, 4, 1];

/// Splits `items` into chunks whose lengths are all in `SHAPES`.
pub(crate) fn shaped_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    for shape in SHAPES {
        while items.len() >= shape {
            let (head, tail) = items.split_at(shape);
            out.push(head);
            items = tail;
        }
    }
    out
}

pub(crate) trait BatchWriter: Send + Sync + 'static {
    /// Writes all of `batch` in one transaction, or nothing.
    fn write_batch(&self, batch: &[&NewReport])
    -> impl std::future::Future<Output = Result<Vec<CreateOutcome>>> + Send;
}

pub(crate) struct Job {
    report: NewReport,
    reply: oneshot::Sender<Result<CreateOutcome>>,
}

#[derive(Clone)]
pub(crate) struct Intake {
    tx: mpsc::Sender<Job>,
}

impl Intake {
    /// Starts `workers` batch writers sharing one queue (one for SQLite,
    /// whose writes are serial anyway; a few for PostgreSQL).
    pub(crate) fn start<W: BatchWriter>(writer: Arc<W>, workers: usize) -> Intake {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..workers.max(1) {
            tokio::spawn(run(writer.clone(), rx.clone()));
        }
        Intake { tx }
    }

    pub(crate) async fn submit(&self, report: NewReport) -> Result<CreateOutcome> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { report, reply })
            .await
            .map_err(|_| Error::new(ErrorCode::Unavailable))?;
        rx.await.map_err(|_| Error::new(ErrorCode::Unavailable))?
    }
}

async fn run<W: BatchWriter>(writer: Arc<W>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // Take what is queued now; the lock is released before writing
            // so another worker can gather the next batch meanwhile.
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
        }
        let refs: Vec<&NewReport> = batch.iter().map(|j| &j.report).collect();
        let results: Vec<Result<CreateOutcome>> = match writer.write_batch(&refs).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) if batch.len() == 1 => vec![Err(e)],
            Err(_) => {
                let mut out = Vec::with_capacity(batch.len());
                for r in &refs {
                    out.push(
                        writer
                            .write_batch(std::slice::from_ref(r))
                            .await
                            .map(|mut v| v.remove(0)),
                    );
                }
                out
            }
        };
        for (job, res) in batch.drain(..).zip(results) {
            let _ = job.reply.send(res);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_use_fixed_shapes_and_keep_order() {
        for n in 0..300usize {
            let v: Vec<usize> = (0..n).collect();
            let chunks = super::shaped_chunks(&v);
            assert!(chunks.iter().all(|c| super::SHAPES.contains(&c.len())));
            assert_eq!(chunks.concat(), v);
        }
    }
}
