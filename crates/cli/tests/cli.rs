//! The `lapor` binary as an operator uses it: demo seed, imports, and a real
//! `serve --demo` driven by `examples/lifecycle.sh`.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use support::{repo, run_ok};

fn lapor() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lapor"));
    c.env("LAPOR_LOG", "warn").env("LAPOR_DATA_DIR", repo().join("data"));
    c
}

fn temp_db(name: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("lapor-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("lapor.db").display());
    (dir, url)
}

#[test]
fn demo_seed_loads_every_region_and_institution_and_imports_check_files_whole() {
    let (dir, url) = temp_db("seed");
    run_ok(lapor().env("LAPOR_DATABASE_URL", &url).arg("demo"));
    // Seeding twice is harmless.
    run_ok(lapor().env("LAPOR_DATABASE_URL", &url).arg("demo"));
    let out = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["import", "regions"]));
    assert!(
        out.contains("38 provinces, 514 regencies/cities, 7285 districts, 83762 villages"),
        "{out}"
    );

    // A file with errors is refused whole, naming each bad line.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "code,name,kind,parent_code,region_code,timezone\n\
         dinas-baru,Dinas Baru,unit,pemkot-32.73,32.73,WIB\n\
         Bad Code,Nama,unit,lapor,,WIB\n\
         x-1,Nama,planet,lapor,,WIB\n\
         x-2,Nama,unit,ghost,,WIB\n\
         x-3,Nama,unit,lapor,99.99,WIB\n\
         x-4,Nama,unit,lapor,,CET\n",
    )
    .unwrap();
    let out = lapor()
        .env("LAPOR_DATABASE_URL", &url)
        .args(["import", "institutions"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for line in ["line 3", "line 4", "line 5", "line 6", "line 7"] {
        assert!(err.contains(line), "{line} not reported:\n{err}");
    }
    assert!(!err.contains("line 2:"), "the good line is not an error:\n{err}");
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "code,name,kind,parent_code,region_code,timezone\n\
         pemkot-32.73-dlh,\"Dinas Lingkungan Hidup, Kota Bandung\",unit,pemkot-32.73,32.73,WIB\n\
         pemkot-32.73-dlh-uptd,UPTD Pengelolaan Sampah,unit,pemkot-32.73-dlh,32.73,\n",
    )
    .unwrap();
    let out = run_ok(
        lapor()
            .env("LAPOR_DATABASE_URL", &url)
            .args(["import", "institutions"])
            .arg(&good),
    );
    assert!(out.contains("institutions: 2 loaded"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn lifecycle_example_runs_against_the_demo_server() {
    let (dir, url) = temp_db("serve");
    let mut child = lapor()
        .env("LAPOR_DATABASE_URL", &url)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut base = None;
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Lapor is running at ") {
            base = rest
                .split_whitespace()
                .next()
                .map(|u| u.trim_end_matches('/').to_string());
        }
        printed.push(line.clone());
        if line.contains("warga@lapor.demo") {
            break;
        }
    }
    let base = base.expect("serve printed its URL");
    let all = printed.join("\n");
    for login in [
        "nasional@lapor.demo",
        "admin.bandung@lapor.demo",
        "penghubung.bandung@lapor.demo",
        "ombudsman@lapor.demo",
    ] {
        assert!(all.contains(login), "demo login {login} not printed:\n{all}");
    }
    let out = Command::new("bash")
        .arg(repo().join("examples/lifecycle.sh"))
        .arg(&base)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "lifecycle.sh failed:\n{text}");
    assert!(text.contains("went from submitted to completed"), "{text}");
    drop(server);
    // The example's report reached the dashboards' counters; a rebuild
    // replays it (the contract test checks the numbers agree).
    let out = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["rollups", "rebuild"]));
    assert!(out.contains("rollups: 1 report(s) replayed"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn holiday_files_are_checked_whole_and_the_old_calendar_stays() {
    let (dir, url) = temp_db("holidays");
    run_ok(lapor().env("LAPOR_DATABASE_URL", &url).arg("migrate"));
    // Bad dates and a duplicate: refused whole, every bad line named.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "date,category,name_id,name_en\n\
         2028-01-01,libur_nasional,Tahun Baru Masehi,New Year's Day\n\
         2028-02-30,libur_nasional,Tanggal mustahil,Impossible date\n\
         2028-01-01,libur_nasional,Tahun Baru lagi,Duplicate\n\
         01/05/2028,cuti_bersama,Format salah,Wrong format\n",
    )
    .unwrap();
    let out = lapor()
        .env("LAPOR_DATABASE_URL", &url)
        .args(["import", "holidays"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for line in [":3:", ":4:", ":5:"] {
        assert!(err.contains(line), "line {line} not named:\n{err}");
    }
    assert!(err.contains("duplicate") && err.contains("nothing imported"), "{err}");
    let stats = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["outbox", "stats"]));
    assert!(stats.contains("nothing waiting"), "{stats}");

    // A good file is taken; years with estimated dates are provisional.
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "date,category,name_id,name_en\n\
         2028-01-01,libur_nasional,Tahun Baru Masehi,New Year's Day\n\
         2028-02-26,libur_nasional,Hari Raya Idul Fitri (perkiraan),Eid al-Fitr (estimated)\n\
         2027-12-25,libur_nasional,Hari Raya Natal,Christmas Day\n",
    )
    .unwrap();
    let out = run_ok(
        lapor()
            .env("LAPOR_DATABASE_URL", &url)
            .args(["import", "holidays"])
            .arg(&good),
    );
    assert!(
        out.contains("3 days 2027–2028") && out.contains("provisional years: 2028"),
        "{out}"
    );
    let out = run_ok(
        lapor()
            .env("LAPOR_DATABASE_URL", &url)
            .args(["import", "holidays", "--provisional", "2027,2028"])
            .arg(&good),
    );
    assert!(
        out.contains("calendar #2") && out.contains("provisional years: 2027, 2028"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_from_the_cli() {
    use lapor_store::ts::Ts;
    use lapor_store::{JobOutcome, OutboxMessage};
    let (dir, url) = temp_db("outbox");
    run_ok(lapor().env("LAPOR_DATABASE_URL", &url).arg("migrate"));
    let store = lapor_store::connect(&url, &lapor_store::StoreOptions::default())
        .await
        .unwrap();
    store
        .enqueue(&[OutboxMessage {
            topic: "notify.staff.email".into(),
            key: "cli-dead-1".into(),
            payload: serde_json::json!({ "to": "a@b.test", "subject": "s", "text": "t" }),
        }])
        .await
        .unwrap();
    let now = Ts::now();
    let job = store.claim_jobs(now, now, 10).await.unwrap().remove(0);
    store
        .finish_jobs(
            &[JobOutcome::Dead {
                id: job.id,
                error: "gave up after 16 attempts: connection refused".into(),
            }],
            now,
        )
        .await
        .unwrap();
    let stats = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["outbox", "stats"]));
    assert!(
        stats.contains("notify.staff.email") && stats.contains("dead"),
        "{stats}"
    );
    let dead = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["outbox", "dead"]));
    assert!(
        dead.contains(&format!("#{} notify.staff.email [dead] key=cli-dead-1", job.id)),
        "{dead}"
    );
    assert!(dead.contains("connection refused"), "{dead}");
    let out = lapor()
        .env("LAPOR_DATABASE_URL", &url)
        .args(["outbox", "replay"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "replay needs ids or --all");
    let replayed = run_ok(
        lapor()
            .env("LAPOR_DATABASE_URL", &url)
            .args(["outbox", "replay", "--all"]),
    );
    assert!(replayed.contains("1 job(s) back in the queue"), "{replayed}");
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    let stats = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args(["outbox", "stats"]));
    assert!(stats.contains("pending"), "{stats}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `lapor bench-data` walks generated reports through the real lifecycle:
/// its rollups equal a replay of the stored events, and the history has
/// the shapes the dashboards must show (completed, transferred, overdue).
#[tokio::test]
async fn bench_data_writes_histories_whose_rollups_match_a_replay() {
    use lapor_domain::report::Status;
    use lapor_store::ReportFilter;
    let (dir, url) = temp_db("bench-data");
    run_ok(lapor().env("LAPOR_DATABASE_URL", &url).arg("demo"));
    let out = run_ok(lapor().env("LAPOR_DATABASE_URL", &url).args([
        "bench-data",
        "--reports",
        "3000",
        "--batch",
        "500",
        "--rollup-keys",
        "8000",
    ]));
    assert!(out.contains("bench-data: 3000 reports"), "{out}");
    // Into an empty database: the indexes were set aside and made again,
    // and the rollups went out in several flushes.
    assert!(
        !out.contains("; 0 indexes") && out.contains("indexes made again"),
        "{out}"
    );
    let store = lapor_store::connect(&url, &lapor_store::StoreOptions::default())
        .await
        .unwrap();
    let written = store.rollup_rows().await.unwrap();
    let replayed = store
        .rebuild_rollups(&lapor_domain::calendar::Calendar::embedded(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(replayed, 3000);
    assert_eq!(
        written,
        store.rollup_rows().await.unwrap(),
        "bulk rollups equal the replay"
    );
    let count = |status: Option<Status>, overdue: bool| {
        let store = store.clone();
        async move {
            store
                .count_reports(
                    &ReportFilter {
                        statuses: status.into_iter().collect(),
                        overdue_at: overdue.then(lapor_store::ts::Ts::now),
                        ..Default::default()
                    },
                    i64::MAX,
                )
                .await
                .unwrap()
        }
    };
    let completed = count(Some(Status::Completed), false).await;
    let overdue = count(None, true).await;
    assert!((900..2_400).contains(&completed), "completed {completed}");
    assert!(overdue > 30, "overdue {overdue}");
    // A second run continues after the first without colliding.
    // A second, smaller run keeps the indexes, and its rollups add to
    // the first's.
    let out = run_ok(
        lapor()
            .env("LAPOR_DATABASE_URL", &url)
            .args(["bench-data", "--reports", "500", "--seed", "2"]),
    );
    assert!(out.contains("; 0 indexes"), "{out}");
    assert_eq!(count(None, false).await, 3_500);
    let written = store.rollup_rows().await.unwrap();
    store
        .rebuild_rollups(&lapor_domain::calendar::Calendar::embedded(), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(written, store.rollup_rows().await.unwrap());
    let _ = std::fs::remove_dir_all(dir);
}
