//! `lapor rollups`: the dashboard counters are derived data; rebuild them by
//! replaying every report's events (after a holiday change, a rollup bug fix
//! or a restore from backup).

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use lapor_domain::calendar::Calendar;
use lapor_server::CalendarCell;
use lapor_store::Store;

#[derive(Subcommand)]
pub enum RollupsCmd {
    /// Empty the rollups and replay every report (one transaction: the
    /// dashboards show the old numbers until it commits, and writers wait).
    Rebuild,
}

pub async fn run(store: &dyn Store, cal: Calendar, cmd: RollupsCmd, progress: bool) -> Result<(), String> {
    match cmd {
        RollupsCmd::Rebuild => {
            // The same calendar the server counts with: an imported holiday
            // file wins over the built-in one.
            let cell = CalendarCell::new(cal);
            cell.refresh(store).await.map_err(|e| e.to_string())?;
            let bar = if progress {
                let b = ProgressBar::new(0);
                b.set_style(
                    ProgressStyle::with_template("rollups [{bar:40.cyan/blue}] {pos}/{len} reports ({per_sec}, {eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                b
            } else {
                ProgressBar::hidden()
            };
            let started = std::time::Instant::now();
            let n = store
                .rebuild_rollups(&cell.get(), &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await
                .map_err(|e| e.to_string())?;
            bar.finish_and_clear();
            println!(
                "rollups: {n} report(s) replayed in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
