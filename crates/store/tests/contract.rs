//! The contract every Store backend must pass. Runs on SQLite always and on
//! PostgreSQL when `LAPOR_TEST_PG_URL` is set (each run creates and drops its
//! own database).

use chrono::{DateTime, Duration, TimeZone, Utc};
use lapor_domain::ErrorCode;
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{InstitutionKind, Membership, Role};
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, apply, decide, replay, submit};
use lapor_domain::report::{Channel, Classification, Report, Status};
use lapor_domain::sla::SlaPolicy;
use lapor_store::filter::{Cursor, ReportFilter};
use lapor_store::testing::TestDb;
use lapor_store::ts::Ts;
use lapor_store::*;
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    // Monday 2 November 2026, 09:00 WIB.
    Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
}

async fn seed(store: &Arc<dyn Store>) {
    lapor_store::testing::seed_reference(store.as_ref()).await;
}

struct Fixture {
    cal: Calendar,
    policy: SlaPolicy,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            cal: Calendar::embedded(),
            policy: SlaPolicy::default(),
        }
    }
    fn ctx(&self, now: DateTime<Utc>, actor: Actor) -> Ctx<'_> {
        Ctx {
            now,
            actor,
            calendar: &self.cal,
            policy: &self.policy,
        }
    }
    fn new_report(&self, seed: u64, at: DateTime<Utc>, region: &str, confidential: bool) -> NewReport {
        let id = TrackingId::from_random(seed);
        let sub = Submission {
            classification: Classification::Pengaduan,
            needs_investigation: false,
            category: None,
            title: format!("Jalan rusak nomor {seed}"),
            body: "Jalan berlubang di depan sekolah, membahayakan pengendara.".into(),
            incident_date: Some(at.date_naive()),
            region_code: Some(region.into()),
            latitude: Some(-6.9025),
            longitude: Some(107.6186),
            anonymous: false,
            confidential,
            channel: Channel::Web,
            reporter_id: Some(format!("rep-{seed}")),
            suggested_institution: None,
            policy: self.policy.name.clone(),
            zone: Zone::Wib,
        };
        let event = submit(id, sub, &self.ctx(at, Actor::Reporter { reporter_id: None }));
        let report = apply(None, &event).unwrap();
        NewReport {
            wake_at: lapor_domain::sla::timers(&report, &self.policy, &self.cal).next(),
            report,
            event,
            pin_hash: format!("hash-{seed}"),
            new_reporter: Some(ReporterIdentity {
                id: format!("rep-{seed}"),
                user_id: None,
                name: Some("Budi".into()),
                email: Some(format!("budi{seed}@contoh.id")),
                phone: None,
            }),
            outbox: vec![OutboxMessage {
                topic: "reporter.receipt".into(),
                key: format!("receipt-{seed}"),
                payload: serde_json::json!({"tracking_id": format!("{}", TrackingId::from_random(seed))}),
            }],
            idempotency_key: Some(format!("idem-{seed}")),
            attachments: vec![],
        }
    }
    fn change(&self, r: &Report, cmd: Command, now: DateTime<Utc>) -> Change {
        let actor = Actor::Staff {
            user_id: "u1".into(),
            role: Role::NationalAdmin,
            institution: "lapor".into(),
        };
        let e = decide(r, &cmd, &self.ctx(now, actor)).unwrap();
        let next = apply(Some(r.clone()), &e).unwrap();
        let reindex = next.title != r.title || next.body != r.body;
        Change {
            expected_version: r.version,
            report: next,
            events: vec![e],
            outbox: vec![OutboxMessage {
                topic: "reporter.update".into(),
                key: format!("{}-{}", r.tracking_id, r.version + 1),
                payload: serde_json::json!({}),
            }],
            audit: vec![],
            attachments: vec![],
            reindex,
            wake_at: None,
            idempotency_key: None,
            // `with_rollup` adds these where a test checks the rollups.
            rollup: vec![],
        }
    }
}

/// The change that records one decided event and nothing else: no
/// messages, audit, files or rollups.
fn event_only(r: &Report, e: lapor_domain::event::Event) -> Change {
    Change::single_event(r, e).unwrap()
}

fn city_target() -> InstitutionTarget {
    InstitutionTarget {
        code: "pemkot-32.73".into(),
        kind: InstitutionKind::City,
        zone: Zone::Wib,
        ancestors: vec!["lapor".into(), "pemprov-32".into()],
    }
}

fn disposition() -> Command {
    Command::Disposition {
        to: city_target(),
        classification: None,
        needs_investigation: None,
        category: None,
        note: None,
    }
}

async fn migrations_are_idempotent(s: &Arc<dyn Store>) {
    assert!(s.migrate().await.unwrap().is_empty(), "second migrate applies nothing");
    s.ping().await.unwrap();
}

async fn reference_data(s: &Arc<dyn Store>) {
    assert_eq!(s.region_counts().await.unwrap(), [2, 1, 1, 1]);
    let r = s.region("32.73.01.1001").await.unwrap().unwrap();
    assert_eq!(r.postal_code.as_deref(), Some("40153"));
    assert!(s.region("99.99").await.unwrap().is_none());
    let kids = s
        .regions(&RegionQuery {
            parent: Some("32".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(kids.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["32.73"]);
    let named = s
        .regions(&RegionQuery {
            name_contains: Some("BANDUNG".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(named.len(), 1);

    assert_eq!(
        s.institution_path("pemkot-32.73-dishub").await.unwrap(),
        ["lapor", "pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"]
    );
    assert!(s.institution_path("nope").await.unwrap().is_empty());
    let roots = s
        .institutions(&InstitutionQuery {
            parent: Some(String::new()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(roots.len(), 1);
    let under = s
        .institutions(&InstitutionQuery {
            parent: Some("lapor".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        under.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        ["kemenkes", "pemprov-31", "pemprov-32"]
    );
    let found = s
        .institutions(&InstitutionQuery {
            name_contains: Some("32.73".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    // Upsert updates in place.
    let mut k = s.institution("kemenkes").await.unwrap().unwrap();
    k.name = "Kementerian Kesehatan".into();
    s.upsert_institutions(std::slice::from_ref(&k)).await.unwrap();
    assert_eq!(s.institution("kemenkes").await.unwrap().unwrap(), k);
    assert_eq!(s.institution_count().await.unwrap(), 6);

    assert_eq!(s.setting_or_init("k", "first").await.unwrap(), "first");
    assert_eq!(
        s.setting_or_init("k", "second").await.unwrap(),
        "first",
        "first writer wins"
    );
    assert_eq!(s.setting("absent").await.unwrap(), None);
    s.put_setting("k", "third").await.unwrap();
    s.put_setting("k2", "x").await.unwrap();
    assert_eq!(s.setting("k").await.unwrap().as_deref(), Some("third"), "put replaces");
    assert_eq!(s.setting("k2").await.unwrap().as_deref(), Some("x"));

    s.upsert_categories(&[Category {
        code: "jalan".into(),
        name_id: "Jalan".into(),
        name_en: "Roads".into(),
    }])
    .await
    .unwrap();
    assert_eq!(s.categories().await.unwrap().len(), 1);
}

async fn accounts(s: &Arc<dyn Store>) {
    let u = NewUser {
        id: "user-1".into(),
        email: Some("admin@lapor.test".into()),
        phone: None,
        name: "Admin".into(),
        password_hash: "h".into(),
        is_staff: true,
        memberships: vec![Membership {
            role: Role::InstitutionAdmin,
            institution: "pemkot-32.73".into(),
        }],
    };
    s.create_user(&u).await.unwrap();
    let dup = s.create_user(&u).await.unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict);
    let (user, hash) = s.user_by_login("admin@lapor.test").await.unwrap().unwrap();
    assert_eq!(hash, "h");
    assert_eq!(user.memberships.len(), 1);
    s.add_membership(
        "user-1",
        &Membership {
            role: Role::Liaison,
            institution: "pemkot-32.73".into(),
        },
    )
    .await
    .unwrap();
    s.add_membership(
        "user-1",
        &Membership {
            role: Role::Liaison,
            institution: "pemkot-32.73".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.user("user-1").await.unwrap().unwrap().memberships.len(), 2);
    // A membership in an unknown institution is refused.
    let bad = s
        .add_membership(
            "user-1",
            &Membership {
                role: Role::Liaison,
                institution: "ghost".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::ValidationFailed);

    let now = Ts::new(t0());
    s.create_token(&NewToken {
        token_hash: "tok".into(),
        user_id: "user-1".into(),
        kind: TokenKind::Bearer,
        created_at: now,
        expires_at: Ts::new(t0() + Duration::hours(1)),
        user_agent: None,
    })
    .await
    .unwrap();
    assert!(s.user_by_token("tok", TokenKind::Bearer, now).await.unwrap().is_some());
    assert!(
        s.user_by_token("tok", TokenKind::Session, now).await.unwrap().is_none(),
        "kinds do not mix"
    );
    assert!(
        s.user_by_token("tok", TokenKind::Bearer, Ts::new(t0() + Duration::hours(2)))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    s.delete_token("tok").await.unwrap();
    assert!(s.user_by_token("tok", TokenKind::Bearer, now).await.unwrap().is_none());
}

async fn report_lifecycle_is_atomic(s: &Arc<dyn Store>, fx: &Fixture) {
    let n = fx.new_report(1, t0(), "32.73.01.1001", false);
    assert_eq!(s.create_report(&n).await.unwrap(), CreateOutcome::Created);
    // Same idempotency key: nothing new, the same report.
    let mut again = fx.new_report(2, t0(), "32.73.01.1001", false);
    again.idempotency_key = n.idempotency_key.clone();
    assert_eq!(
        s.create_report(&again).await.unwrap(),
        CreateOutcome::Duplicate(n.report.tracking_id.clone())
    );
    assert!(s.report(&again.report.tracking_id).await.unwrap().is_none());
    assert!(
        s.reporter("rep-2").await.unwrap().is_none(),
        "no orphan identity from the duplicate"
    );

    let stored = s.report(&n.report.tracking_id).await.unwrap().unwrap();
    assert_eq!(stored.report, n.report, "projection round-trips exactly");
    assert_eq!(stored.pin_hash, "hash-1");
    assert_eq!(
        s.reporter("rep-1").await.unwrap().unwrap().email.as_deref(),
        Some("budi1@contoh.id")
    );
    assert_eq!(s.outbox_count().await.unwrap(), 1);

    // Disposition, then a stale second writer.
    let c1 = fx.change(&stored.report, disposition(), t0() + Duration::hours(1));
    s.append(&c1).await.unwrap();
    let c_stale = fx.change(&stored.report, disposition(), t0() + Duration::hours(2));
    let err = s.append(&c_stale).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::StaleVersion);
    let events = s.events(&n.report.tracking_id).await.unwrap();
    assert_eq!(events.len(), 2, "stale write left no event");
    assert_eq!(s.outbox_count().await.unwrap(), 2, "stale write left no outbox row");

    // A change that fails half-way (a duplicate event seq) writes nothing.
    let cur = s.report(&n.report.tracking_id).await.unwrap().unwrap().report;
    let mut broken = fx.change(&cur, Command::Accept { note: None }, t0() + Duration::hours(3));
    let mut dup = broken.events[0].clone();
    dup.seq = 1; // already taken
    broken.events.push(dup);
    broken.outbox[0].key = "never".into();
    assert!(s.append(&broken).await.is_err());
    let after = s.report(&n.report.tracking_id).await.unwrap().unwrap().report;
    assert_eq!(after, cur, "projection unchanged after a failed transaction");
    assert_eq!(s.events(&n.report.tracking_id).await.unwrap().len(), 2);
    assert!(s.outbox(100).await.unwrap().iter().all(|o| o.key != "never"));

    // The stored projection equals a replay of the stored events.
    let replayed = replay(&s.events(&n.report.tracking_id).await.unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(replayed, after);

    // Audit entries commit with the change.
    let mut audited = fx.change(
        &after,
        Command::Accept {
            note: Some("diterima".into()),
        },
        t0() + Duration::hours(4),
    );
    audited.audit.push(AuditEntry {
        at: t0(),
        user_id: Some("u1".into()),
        action: "read_identity".into(),
        target: after.tracking_id.to_string(),
        detail: None,
    });
    s.append(&audited).await.unwrap();
    let log = s.audit_entries(Some(after.tracking_id.as_str()), 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "read_identity");
}

async fn listing(s: &Arc<dyn Store>, fx: &Fixture) {
    // 30 reports over 30 hours, alternating Bandung / Jakarta, every 5th confidential.
    let mut ids = Vec::new();
    for i in 0..30u64 {
        let region = if i % 2 == 0 { "32.73.01.1001" } else { "31" };
        let n = fx.new_report(100 + i, t0() + Duration::hours(i as i64), region, i % 5 == 0);
        s.create_report(&n).await.unwrap();
        ids.push(n.report.tracking_id.clone());
        if i < 10 {
            let c = fx.change(
                &n.report,
                disposition(),
                t0() + Duration::hours(i as i64) + Duration::minutes(5),
            );
            s.append(&c).await.unwrap();
        }
    }
    let all = |f: ReportFilter| async move {
        let mut out = Vec::new();
        let mut f = f;
        loop {
            let page = s.list_reports(&f).await.unwrap();
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => f.cursor = Some(Cursor::decode(&c).unwrap()),
                None => break,
            }
        }
        out
    };
    let everything = all(ReportFilter {
        limit: 7,
        ..Default::default()
    })
    .await;
    assert_eq!(everything.len(), 31, "30 plus the lifecycle report");
    assert!(
        everything.windows(2).all(|w| w[0].submitted_at >= w[1].submitted_at),
        "newest first"
    );
    let mut seen: Vec<_> = everything.iter().map(|r| r.tracking_id.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 31, "pagination neither skips nor repeats");

    let bandung = all(ReportFilter {
        region: Some("32.73".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(bandung.len(), 16);
    let jabar = all(ReportFilter {
        region: Some("32".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(jabar.len(), 16, "a province matches its villages");
    let dispositioned = all(ReportFilter {
        statuses: vec![Status::Dispositioned],
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(dispositioned.len(), 10);
    let subtree = all(ReportFilter {
        institution_subtree: Some("pemprov-32".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(subtree.len(), 11, "province subtree includes its city");
    // One of the city's reports goes on to its transport office: held by
    // the unit, under the city.
    let city_admin = Actor::Staff {
        user_id: "u-city".into(),
        role: Role::InstitutionAdmin,
        institution: "pemkot-32.73".into(),
    };
    let mut held = s.report(&ids[0]).await.unwrap().unwrap().report;
    let unit = InstitutionTarget {
        code: "pemkot-32.73-dishub".into(),
        kind: InstitutionKind::Unit,
        zone: Zone::Wib,
        ancestors: vec!["lapor".into(), "pemprov-32".into(), "pemkot-32.73".into()],
    };
    for cmd in [
        Command::Accept { note: None },
        Command::DispositionToUnit { unit, note: None },
    ] {
        let now = t0() + Duration::hours(40);
        let e = decide(&held, &cmd, &fx.ctx(now, city_admin.clone())).unwrap();
        let c = event_only(&held, e);
        s.append(&c).await.unwrap();
        held = c.report;
    }
    assert_eq!(held.unit.as_deref(), Some("pemkot-32.73-dishub"));
    // The same holders listed out match the same reports.
    for (root, codes) in [
        ("pemprov-32", &["pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"][..]),
        ("pemkot-32.73-dishub", &["pemkot-32.73-dishub"][..]),
    ] {
        // Pages of 3 through the per-holder arms, merged in date order.
        let listed = all(ReportFilter {
            holders: Some(codes.iter().map(|c| c.to_string()).collect()),
            limit: 3,
            ..Default::default()
        })
        .await;
        let below = all(ReportFilter {
            institution_subtree: Some(root.into()),
            limit: 100,
            ..Default::default()
        })
        .await;
        let ids = |v: &[lapor_domain::report::Report]| v.iter().map(|r| r.tracking_id.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&listed), ids(&below), "{root}");
    }
    let nobody = all(ReportFilter {
        holders: Some(vec![]),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert!(nobody.is_empty());
    let scoped_elsewhere = all(ReportFilter {
        scope: Some(vec!["kemenkes".into()]),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert!(scoped_elsewhere.is_empty());
    let public = all(ReportFilter {
        public_only: true,
        limit: 100,
        ..Default::default()
    })
    .await;
    assert!(public.iter().all(|r| r.is_public()));
    assert_eq!(public.len(), 9, "dispositioned and not confidential");
    let far_future = Ts::new(t0() + Duration::days(400));
    let overdue = all(ReportFilter {
        overdue_at: Some(far_future),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(
        overdue.len(),
        31,
        "every open report is overdue a year later, the in-progress one too"
    );
    let not_yet = all(ReportFilter {
        overdue_at: Some(Ts::new(t0())),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert!(not_yet.is_empty());
    let window = all(ReportFilter {
        submitted_from: Some(Ts::new(t0() + Duration::hours(10))),
        submitted_before: Some(Ts::new(t0() + Duration::hours(20))),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(window.len(), 10);
    let mine = all(ReportFilter {
        reporter_id: Some("rep-105".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(mine.len(), 1);
}

/// Many submissions at once are group-committed; each still gets its own
/// answer, and one bad report fails alone.
async fn concurrent_intake(s: &Arc<dyn Store>, fx: &Fixture) {
    let before = s
        .list_reports(&ReportFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len();
    let existing = s
        .list_reports(&ReportFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .tracking_id
        .clone();
    let mut jobs = Vec::new();
    for i in 0..60u64 {
        let mut n = fx.new_report(1000 + i, t0() + Duration::minutes(i as i64), "31", false);
        if i < 10 {
            n.idempotency_key = Some("same-key".into());
        }
        if i == 30 {
            // Collides with a stored report: this one must fail, alone.
            n.report.tracking_id = existing.clone();
            n.event.tracking_id = existing.clone();
        }
        let s = s.clone();
        jobs.push(tokio::spawn(async move { (i, s.create_report(&n).await) }));
    }
    let mut created = 0;
    let mut same_key_ids = std::collections::HashSet::new();
    for j in jobs {
        let (i, res) = j.await.unwrap();
        match (i, res) {
            (30, Err(e)) => assert_eq!(e.code, ErrorCode::Conflict),
            (30, Ok(o)) => panic!("colliding report accepted: {o:?}"),
            (i, Ok(CreateOutcome::Created)) => {
                created += 1;
                if i < 10 {
                    same_key_ids.insert(TrackingId::from_random(1000 + i));
                }
            }
            (i, Ok(CreateOutcome::Duplicate(id))) => {
                assert!(i < 10, "only the shared key is a duplicate");
                same_key_ids.insert(id);
            }
            (i, Err(e)) => panic!("report {i} failed: {e}"),
        }
    }
    assert_eq!(created, 50, "one per shared key, plus the 49 others");
    assert_eq!(same_key_ids.len(), 1, "every repeat of a key names the same report");
    let after = s
        .list_reports(&ReportFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(after, before + 50);
    for i in 10..60u64 {
        if i == 30 {
            continue;
        }
        let id = TrackingId::from_random(1000 + i);
        assert_eq!(s.events(&id).await.unwrap().len(), 1, "report {i} has its event");
    }
}

/// A report with the given words, created and (unless `hold`) dispositioned.
async fn worded(
    s: &Arc<dyn Store>,
    fx: &Fixture,
    seed: u64,
    at: DateTime<Utc>,
    text: (&str, &str),
    confidential: bool,
) -> Report {
    let mut n = fx.new_report(seed, at, "32.73.01.1001", confidential);
    n.report.title = text.0.into();
    n.report.body = text.1.into();
    s.create_report(&n).await.unwrap();
    let c = fx.change(&n.report, disposition(), at + Duration::minutes(1));
    s.append(&c).await.unwrap();
    c.report
}

async fn search(s: &Arc<dyn Store>, q: &str, public_only: bool, limit: i64) -> Vec<String> {
    let mut f = ReportFilter {
        terms: lapor_domain::search::query_terms(q),
        public_only,
        limit,
        ..Default::default()
    };
    let mut out = Vec::new();
    loop {
        let page = s.list_reports(&f).await.unwrap();
        out.extend(page.items.iter().map(|r| r.tracking_id.to_string()));
        match page.next_cursor {
            Some(c) => f.cursor = Some(Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    out
}

async fn search_and_citizen_features(s: &Arc<dyn Store>, fx: &Fixture) {
    let at = t0() + Duration::days(3);
    let road = worded(
        s,
        fx,
        5001,
        at,
        ("Jalan rusak diperbaiki asal-asalan", "Aspal baru mengelupas lagi."),
        false,
    )
    .await;
    let secret = worded(
        s,
        fx,
        5002,
        at + Duration::minutes(2),
        ("Perbaikan jalan dikorupsi", "Kontraktor jalan membayar pejabat."),
        true,
    )
    .await;
    let clinic = worded(
        s,
        fx,
        5003,
        at + Duration::minutes(4),
        ("Pelayanan puskesmas lambat", "Antrean tiga jam tanpa kepastian."),
        false,
    )
    .await;
    // Stemmed: "perbaikan" and "diperbaiki" share the root "baik". Found at
    // once: the postings commit with the report.
    let public = search(s, "perbaikan jalan", true, 10).await;
    assert_eq!(
        public,
        vec![road.tracking_id.to_string()],
        "confidential reports never match publicly"
    );
    let staff = search(s, "perbaikan jalan", false, 10).await;
    assert_eq!(
        staff,
        vec![secret.tracking_id.to_string(), road.tracking_id.to_string()],
        "newest first"
    );
    assert_eq!(
        search(s, "puskesmas", true, 10).await,
        vec![clinic.tracking_id.to_string()]
    );
    assert!(
        search(s, "puskesmas jalan", true, 10).await.is_empty(),
        "all terms must match"
    );
    assert!(search(s, "zzzz tidak ada", true, 10).await.is_empty());

    // Many matches, paged through with the search cursor.
    let mut ids = Vec::new();
    for i in 0..12u64 {
        let r = worded(
            s,
            fx,
            5100 + i,
            at + Duration::hours(1 + i as i64),
            ("Lampu penerangan jalan mati", "Gelap gulita setiap malam."),
            false,
        )
        .await;
        ids.push(r.tracking_id.to_string());
    }
    ids.reverse();
    assert_eq!(
        search(s, "lampu mati", true, 5).await,
        ids,
        "pages neither skip nor repeat"
    );
    let region_filtered = s
        .list_reports(&ReportFilter {
            terms: lapor_domain::search::query_terms("lampu"),
            region: Some("31".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(region_filtered.items.is_empty(), "filters combine with search");

    // A rebuild of the index (after a stemmer change) gives the same answers.
    let first = s.ensure_search_index(&|_, _| {}).await.unwrap();
    assert!(first > 0, "the first call writes the version and re-indexes");
    assert_eq!(
        s.ensure_search_index(&|_, _| {}).await.unwrap(),
        0,
        "nothing to do the second time"
    );
    assert_eq!(search(s, "lampu mati", true, 5).await, ids);
    assert_eq!(
        search(s, "perbaikan jalan", true, 10).await,
        vec![road.tracking_id.to_string()]
    );

    // Supports: one per supporter.
    assert!(s.add_support(&road.tracking_id, "b:abc").await.unwrap());
    assert!(!s.add_support(&road.tracking_id, "b:abc").await.unwrap());
    assert!(s.add_support(&road.tracking_id, "u:u1").await.unwrap());
    assert!(s.has_supported(&road.tracking_id, "b:abc").await.unwrap());
    assert!(!s.has_supported(&clinic.tracking_id, "b:abc").await.unwrap());
    let counts = s
        .support_counts(&[road.tracking_id.clone(), clinic.tracking_id.clone()])
        .await
        .unwrap();
    assert_eq!(counts.get(road.tracking_id.as_str()), Some(&2));
    assert_eq!(counts.get(clinic.tracking_id.as_str()), None);

    // Attachments commit with their report and come back byte for byte.
    let mut n = fx.new_report(5200, at + Duration::days(1), "32.73", false);
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    n.attachments = vec![NewAttachment {
        id: "a-test-1".into(),
        media_type: "png".into(),
        filename: "foto.png".into(),
        sha256: "x".into(),
        data: Arc::new(data.clone()),
    }];
    s.create_report(&n).await.unwrap();
    let metas = s.attachments(&n.report.tracking_id).await.unwrap();
    assert_eq!(metas.len(), 1);
    assert_eq!(
        (metas[0].seq, metas[0].size, metas[0].filename.as_str()),
        (1, 70_000, "foto.png")
    );
    let (meta, bytes) = s.attachment("a-test-1").await.unwrap().unwrap();
    assert_eq!(meta, metas[0]);
    assert_eq!(bytes, data);
    assert!(s.attachment("a-missing").await.unwrap().is_none());

    let stats = s.public_stats().await.unwrap();
    assert!(stats.reports >= 14 && stats.institutions_involved >= 1, "{stats:?}");
}

async fn citizen_preferences(s: &Arc<dyn Store>) {
    let u = s
        .create_user(&NewUser {
            id: "u-prefs".into(),
            email: Some("prefs@contoh.id".into()),
            phone: None,
            name: "Sari".into(),
            password_hash: "x".into(),
            is_staff: false,
            memberships: vec![],
        })
        .await
        .unwrap();
    assert!(u.notify_email && u.notify_sms, "on by default");
    s.set_notification_prefs("u-prefs", false, true).await.unwrap();
    let u = s.user("u-prefs").await.unwrap().unwrap();
    assert!(!u.notify_email && u.notify_sms);
}

/// Web Push subscriptions: an endpoint belongs to one account at a time,
/// and only its account (or the worker, for a gone one) revokes it.
async fn push_subscriptions(s: &Arc<dyn Store>) {
    use lapor_store::PushSubscription;
    let at = |m: i64| chrono::DateTime::from_timestamp(1_795_000_000 + m * 60, 0).unwrap();
    let sub = |id: &str, user: &str, endpoint: &str, m: i64| PushSubscription {
        id: id.into(),
        user_id: user.into(),
        endpoint: endpoint.into(),
        p256dh: format!("key-{id}"),
        auth: format!("auth-{id}"),
        created_at: at(m),
    };
    // u-prefs exists from citizen_preferences; a second account:
    s.create_user(&NewUser {
        id: "u-push".into(),
        email: Some("push@contoh.id".into()),
        phone: None,
        name: "Dewi".into(),
        password_hash: "x".into(),
        is_staff: false,
        memberships: vec![],
    })
    .await
    .unwrap();
    s.save_push_subscription(&sub("ps-1", "u-push", "https://push.example/a", 0))
        .await
        .unwrap();
    s.save_push_subscription(&sub("ps-2", "u-push", "https://push.example/b", 1))
        .await
        .unwrap();
    let ids = |v: Vec<PushSubscription>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(s.push_subscriptions("u-push").await.unwrap()), ["ps-1", "ps-2"]);
    let one = s.push_subscription("ps-1").await.unwrap().unwrap();
    assert_eq!(
        (one.endpoint.as_str(), one.p256dh.as_str(), one.created_at),
        ("https://push.example/a", "key-ps-1", at(0))
    );

    // Another account signs in on the install of ps-2 and subscribes: the
    // endpoint moves, with its new keys.
    s.save_push_subscription(&sub("ps-3", "u-prefs", "https://push.example/b", 2))
        .await
        .unwrap();
    assert_eq!(ids(s.push_subscriptions("u-push").await.unwrap()), ["ps-1"]);
    let moved = s.push_subscriptions("u-prefs").await.unwrap();
    assert_eq!((moved.len(), moved[0].p256dh.as_str()), (1, "key-ps-3"));

    // Only the owner revokes; a revoked one is gone from every read.
    let now = lapor_store::ts::Ts::new(at(3));
    assert!(!s.revoke_push_subscription("ps-1", Some("u-prefs"), now).await.unwrap());
    assert!(s.revoke_push_subscription("ps-1", Some("u-push"), now).await.unwrap());
    assert!(
        !s.revoke_push_subscription("ps-1", Some("u-push"), now).await.unwrap(),
        "once"
    );
    assert!(s.push_subscription("ps-1").await.unwrap().is_none());
    assert!(s.push_subscriptions("u-push").await.unwrap().is_empty());
    // Subscribing again on that install makes it active again, under the new id.
    s.save_push_subscription(&sub("ps-4", "u-push", "https://push.example/a", 4))
        .await
        .unwrap();
    assert_eq!(ids(s.push_subscriptions("u-push").await.unwrap()), ["ps-4"]);
}

async fn run_contract(s: Arc<dyn Store>) {
    let fx = Fixture::new();
    seed(&s).await;
    migrations_are_idempotent(&s).await;
    reference_data(&s).await;
    accounts(&s).await;
    report_lifecycle_is_atomic(&s, &fx).await;
    listing(&s, &fx).await;
    concurrent_intake(&s, &fx).await;
    search_and_citizen_features(&s, &fx).await;
    citizen_preferences(&s).await;
    push_subscriptions(&s).await;
    workspace_security(&s).await;
    workspace_data(&s, &fx).await;
    chats(&s).await;
    integrations(&s, &fx).await;
    rollups(&s, &fx).await;
    deferred_indexes(&s).await;
    export_in_pages(&s, &fx).await;
    bulk_rollups(&s, &fx).await;
}

/// A bulk load's rollups (on PostgreSQL, COPY into a staging table and one
/// upsert) add to the stored rows key by key, whatever text the key holds.
async fn bulk_rollups(s: &Arc<dyn Store>, fx: &Fixture) {
    use lapor_domain::rollup::Counters;
    use lapor_store::rollups::RollupKey;
    use std::collections::BTreeMap;
    // The stored rows as the events make them (the export test above
    // bulk-loaded reports without their rollups).
    s.rebuild_rollups(&fx.cal, &|_, _| {}).await.unwrap();
    let before = s.rollup_rows().await.unwrap();
    assert!(before.len() > 20);
    // Every other stored row again, and three under keys with COPY's
    // separators and escape in them.
    let mut add: BTreeMap<RollupKey, Counters> =
        before.iter().step_by(2).map(|(k, c)| (k.clone(), c.clone())).collect();
    for (i, (k, c)) in before.iter().take(3).enumerate() {
        let mut k = k.clone();
        k.category = ["tab\there", "back\\slash \\N", "line\nbreak\r"][i].to_string();
        add.insert(k, c.clone());
    }
    assert!(
        add.values().any(|c| !c.first_response_days.is_empty()),
        "histograms too"
    );
    s.bulk_load(&[], "hash", &add).await.unwrap();
    let mut want = before.clone();
    for (k, c) in &add {
        want.entry(k.clone()).or_default().merge(c, 1);
    }
    assert_eq!(s.rollup_rows().await.unwrap(), want);
    // The events make the rows they made before, for whatever runs next.
    s.rebuild_rollups(&fx.cal, &|_, _| {}).await.unwrap();
    assert!(s.rollup_rows().await.unwrap() == before, "rebuilt as before");
}

/// Runs an export to the end: its batches, and the rows the store says it read.
async fn export_batches(s: &Arc<dyn Store>, filter: &ReportFilter) -> (Vec<Vec<ReportSummary>>, usize) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let reader = {
        let (s, filter) = (s.clone(), filter.clone());
        tokio::spawn(async move { s.export_reports(&filter, tx).await })
    };
    let mut batches = Vec::new();
    while let Some(batch) = rx.recv().await {
        batches.push(batch);
    }
    (batches, reader.await.unwrap().unwrap() as usize)
}

/// An export longer than a batch: every report once, in the export's
/// order across batch boundaries, ties on the instant broken by Tracking
/// ID, and the newest-first order turned round for a queue's.
async fn export_in_pages(s: &Arc<dyn Store>, fx: &Fixture) {
    // A stretch of time no other part of the suite uses.
    let start = t0() + Duration::days(4000);
    let n = EXPORT_BATCH * 2 + 317;
    let items: Vec<BulkReport> = (0..n as u64)
        .map(|i| {
            // Three reports share each instant.
            let at = start + Duration::seconds((i / 3) as i64);
            let r = fx.new_report(9_000_000 + i, at, "32.73", i % 7 == 0);
            BulkReport {
                report: r.report,
                events: vec![r.event],
                wake_at: r.wake_at,
            }
        })
        .collect();
    s.bulk_load(&items, "hash", &Default::default()).await.unwrap();
    let key = |r: &ReportSummary| (r.submitted_at, r.tracking_id.clone());
    for oldest_first in [false, true] {
        let filter = ReportFilter {
            submitted_from: Some(Ts::new(start)),
            oldest_first,
            ..Default::default()
        };
        let (batches, read) = export_batches(s, &filter).await;
        assert_eq!(read, n);
        assert_eq!(batches[0].len(), EXPORT_BATCH);
        let got: Vec<ReportSummary> = batches.into_iter().flatten().collect();
        assert_eq!(got.len(), n);
        assert!(
            got.windows(2).all(|w| if oldest_first {
                key(&w[0]) < key(&w[1])
            } else {
                key(&w[0]) > key(&w[1])
            }),
            "in order, each once (oldest first: {oldest_first})"
        );
        let mut want: Vec<String> = items.iter().map(|b| b.report.tracking_id.to_string()).collect();
        let mut ids: Vec<String> = got.iter().map(|r| r.tracking_id.clone()).collect();
        want.sort();
        ids.sort();
        assert_eq!(ids, want);
        let confidential = got.iter().filter(|r| r.confidential).count();
        assert_eq!(confidential, n.div_ceil(7));
        assert!(
            got.iter()
                .all(|r| r.region_code.as_deref() == Some("32.73") && r.status == "submitted")
        );
    }
}

/// A bulk load's secondary indexes, set aside, come back: through
/// `restore_indexes`, or through the next `migrate` when the load died
/// before it could. Keys and unique constraints are never set aside.
async fn deferred_indexes(s: &Arc<dyn Store>) {
    let set_aside = s.defer_indexes().await.unwrap();
    for name in [
        "reports_submitted",
        "reports_open_by_holder",
        "report_events_at",
        "report_terms_doc",
        "rollups_institution",
    ] {
        assert!(set_aside.iter().any(|n| n == name), "{name} in {set_aside:?}");
    }
    assert!(
        set_aside
            .iter()
            .all(|n| !n.contains("pkey") && !n.starts_with("sqlite_autoindex"))
    );
    assert!(
        s.defer_indexes().await.unwrap().is_empty(),
        "nothing is left to set aside"
    );
    // Reads still answer meanwhile.
    let listed = s.list_reports(&ReportFilter::default()).await.unwrap();
    assert!(!listed.items.is_empty());
    // A start after a load that died: migrate makes them again first.
    assert!(s.migrate().await.unwrap().is_empty());
    assert_eq!(s.defer_indexes().await.unwrap(), set_aside, "every one was made again");
    assert_eq!(s.restore_indexes(&|_, _| {}).await.unwrap(), set_aside.len() as u64);
    assert_eq!(s.restore_indexes(&|_, _| {}).await.unwrap(), 0);
    assert_eq!(
        s.list_reports(&ReportFilter::default()).await.unwrap().items.len(),
        listed.items.len()
    );
}

/// Random lifecycles written through `create_report` and `append` keep the
/// rollups equal to a rebuild from the raw events, at every grain; queries
/// over split periods and subtrees add up (decision 0016).
async fn rollups(s: &Arc<dyn Store>, fx: &Fixture) {
    use lapor_domain::rollup::Counters;
    use lapor_store::rollups::{Grain, day_period};
    use std::collections::BTreeMap;
    // Admin activity: user-1 signed in (a bearer token) at t0; a membership
    // outside the subtree is not listed.
    let seen = s.admin_activity(Some("pemprov-32")).await.unwrap();
    assert!(
        seen.iter().any(|a| a.user_id == "user-1"
            && a.role == Role::InstitutionAdmin
            && a.institution == "pemkot-32.73"
            && a.last_login_at == Some(t0())),
        "{seen:?}"
    );
    assert!(
        s.admin_activity(Some("kemenkes"))
            .await
            .unwrap()
            .iter()
            .all(|a| a.user_id != "user-1")
    );
    assert!(s.admin_activity(None).await.unwrap().len() >= seen.len());
    // The integration step used an API key of pemkot-32.73.
    let live = s.live_integrations(t0() - Duration::days(3650)).await.unwrap();
    assert!(live.contains(&"pemkot-32.73".to_string()), "{live:?}");
    assert!(
        s.live_integrations(t0() + Duration::days(3650))
            .await
            .unwrap()
            .is_empty()
    );
    // Earlier contract steps wrote changes without contributions.
    s.rebuild_rollups(&fx.cal, &|_, _| {}).await.unwrap();
    let staff = |role, institution: &str| Actor::Staff {
        user_id: "u-roll".into(),
        role,
        institution: institution.into(),
    };
    let reporter = Actor::Reporter { reporter_id: None };
    let target = |code: &str, kind, ancestors: &[&str]| InstitutionTarget {
        code: code.into(),
        kind,
        zone: Zone::Wib,
        ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
    };
    let city = || target("pemkot-32.73", InstitutionKind::City, &["lapor", "pemprov-32"]);
    let ministry = || target("kemenkes", InstitutionKind::Ministry, &["lapor"]);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut kinds = std::collections::BTreeSet::new();
    for n in 0..80u64 {
        // Submissions spread over October to December, so periods split
        // into months and edge days.
        let start = t0() - Duration::days(30) + Duration::hours((next() % (24 * 60)) as i64);
        let mut new = fx.new_report(90_000 + n, start, "32.73", n % 7 == 0);
        if n % 3 == 0 {
            new.report.category = Some("jalan".into());
            if let lapor_domain::event::EventData::Submitted { submission, .. } = &mut new.event.data {
                submission.category = Some("jalan".into());
            }
        }
        s.create_report(&new).await.unwrap();
        let mut r = new.report.clone();
        let mut at = start;
        for _ in 0..14 {
            let roll = next();
            at += Duration::hours(1 + (roll % 90) as i64);
            // Completion needs a reply first; give it a wider slice so the
            // walk reaches it.
            let (actor, cmd) = match roll % 12 {
                0 | 1 => (
                    staff(Role::NationalAdmin, "lapor"),
                    Command::Disposition {
                        to: city(),
                        classification: None,
                        needs_investigation: None,
                        category: None,
                        note: None,
                    },
                ),
                2 => (
                    staff(Role::InstitutionAdmin, "pemkot-32.73"),
                    Command::Accept { note: None },
                ),
                3 | 4 => (
                    staff(Role::InstitutionAdmin, "pemkot-32.73"),
                    Command::FollowUp {
                        body: "Sudah kami tindak lanjuti.".into(),
                    },
                ),
                5 => (
                    reporter.clone(),
                    Command::Rate {
                        rating: 1 + (roll % 5) as u8,
                        comment: None,
                    },
                ),
                6 => (
                    staff(Role::InstitutionAdmin, "pemkot-32.73"),
                    Command::Transfer {
                        to: ministry(),
                        reason: "Bukan wewenang kami.".into(),
                    },
                ),
                7 => (
                    reporter.clone(),
                    Command::Reopen {
                        reason: "Belum selesai.".into(),
                    },
                ),
                8 => (
                    staff(Role::InstitutionAdmin, "kemenkes"),
                    Command::FollowUp {
                        body: "Ditangani kementerian.".into(),
                    },
                ),
                _ => (
                    staff(Role::InstitutionAdmin, "pemkot-32.73"),
                    Command::Complete { note: None },
                ),
            };
            let Ok(e) = decide(&r, &cmd, &fx.ctx(at, actor)) else {
                continue;
            };
            let history = s.events(&r.tracking_id).await.unwrap();
            kinds.insert(e.data.kind());
            let rollup = lapor_domain::rollup::contributions(&history, std::slice::from_ref(&e), &fx.cal);
            let c = Change {
                rollup,
                ..event_only(&r, e)
            };
            s.append(&c).await.unwrap();
            r = c.report;
        }
    }
    for k in ["dispositioned", "followed_up", "rated", "transferred", "completed"] {
        assert!(kinds.contains(k), "the walk reached {k}: {kinds:?}");
    }
    // The export streams what the list shows, in the same order, leanly.
    for filter in [
        ReportFilter::default(),
        ReportFilter {
            institution_subtree: Some("pemprov-32".into()),
            ..Default::default()
        },
        // Several statuses: one index range per status, merged.
        ReportFilter {
            statuses: vec![Status::Dispositioned, Status::InProgress, Status::Completed],
            ..Default::default()
        },
    ] {
        let (batches, read) = export_batches(s, &filter).await;
        let got: Vec<ReportSummary> = batches.into_iter().flatten().collect();
        assert_eq!(read, got.len());
        let listed = s
            .list_reports(&ReportFilter {
                limit: 500,
                ..filter.clone()
            })
            .await
            .unwrap();
        assert!(!got.is_empty() && got.len() < 500);
        assert_eq!(got.len(), listed.items.len());
        for (a, b) in got.iter().zip(&listed.items) {
            assert_eq!(a.tracking_id, b.tracking_id.to_string());
            assert_eq!(
                (a.status.as_str(), a.channel.as_str()),
                (b.status.as_str(), b.channel.as_str())
            );
            assert_eq!((a.institution.as_ref(), a.due_at), (b.institution.as_ref(), b.due_at));
            assert_eq!(a.transfer_count, i64::from(b.transfer_count));
        }
        // The words of the newest few, in the list's order, in one read.
        let texts = s.report_texts(&filter, 7).await.unwrap();
        assert_eq!(texts.len(), 7.min(listed.items.len()));
        for (t, r) in texts.iter().zip(&listed.items) {
            assert_eq!(
                (
                    t.tracking_id.as_str(),
                    t.submitted_at,
                    t.title.as_str(),
                    t.body.as_str()
                ),
                (
                    r.tracking_id.as_str(),
                    r.submitted_at,
                    r.title.as_str(),
                    r.body.as_str()
                )
            );
            assert_eq!(
                (t.channel.as_str(), t.transfer_count),
                (r.channel.as_str(), i64::from(r.transfer_count))
            );
        }
        // By channel: exactly the list's reports of that channel.
        let channel = listed.items[0].channel;
        let by_channel = ReportFilter {
            channel: Some(channel),
            ..filter.clone()
        };
        let want: Vec<String> = listed
            .items
            .iter()
            .filter(|r| r.channel == channel)
            .map(|r| r.tracking_id.to_string())
            .collect();
        let got: Vec<String> = s
            .report_texts(&by_channel, 500)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.tracking_id)
            .collect();
        assert!(!want.is_empty());
        assert_eq!(got, want);
    }
    // A receiver that goes away stops the reader without an error.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    drop(rx);
    assert!(s.export_reports(&ReportFilter::default(), tx).await.is_ok());

    overdue_agrees(s, "kept by each change").await;
    let maintained = s.rollup_rows().await.unwrap();
    let replayed = s.rebuild_rollups(&fx.cal, &|_, _| {}).await.unwrap();
    overdue_agrees(s, "counted again by the rebuild").await;
    assert!(replayed >= 80);
    let rebuilt = s.rollup_rows().await.unwrap();
    assert_eq!(maintained, rebuilt, "maintained rollups equal the replay");
    // Every grain holds the same totals, and so do its national rows.
    let mut by_grain: BTreeMap<(Grain, bool), Counters> = BTreeMap::new();
    for (k, c) in &rebuilt {
        let national = k.institution == lapor_store::rollups::NATIONAL;
        by_grain.entry((k.grain, national)).or_default().merge(c, 1);
    }
    let totals: Vec<&Counters> = by_grain.values().collect();
    let national_grains = Grain::ALL.iter().filter(|g| g.national()).count();
    assert_eq!(totals.len(), Grain::ALL.len() + national_grains);
    assert!(totals.windows(2).all(|w| w[0] == w[1]), "grains agree");
    assert!(totals[0].received > 0 && totals[0].followed_up > 0 && totals[0].submitted >= 40);
    // A period with edge days on both sides equals the day rows inside it.
    let (from, to) = (
        chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
    );
    let expect_in = |subtree: &[&str], category: Option<&str>| {
        let mut sum = Counters::default();
        for (k, c) in &rebuilt {
            if k.grain == Grain::Day
                && (day_period(from)..=day_period(to)).contains(&k.period)
                && (subtree.is_empty() || subtree.contains(&k.institution.as_str()))
                && category.is_none_or(|cat| k.category == cat)
            {
                sum.merge(c, 1);
            }
        }
        sum
    };
    let q = RollupQuery {
        from,
        to,
        subtree: None,
        institutions: None,
        except: None,
        classification: None,
        category: None,
        channel: None,
        group: GroupBy::All,
        histograms: true,
        columns: lapor_store::rollups::Columns::All,
    };
    let all = s.rollup(&q).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1, expect_in(&[], None));
    let jalan = s
        .rollup(&RollupQuery {
            category: Some("jalan".into()),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(jalan[0].1, expect_in(&[], Some("jalan")));
    // A province's subtree holds its city and the city's unit, not the ministry.
    let province = s
        .rollup(&RollupQuery {
            subtree: Some("pemprov-32".into()),
            group: GroupBy::Institution,
            ..q.clone()
        })
        .await
        .unwrap();
    assert!(
        province
            .iter()
            .all(|(code, _)| code.starts_with("pemkot-32.73") || code == "pemprov-32")
    );
    let mut sum = Counters::default();
    for (_, c) in &province {
        sum.merge(c, 1);
    }
    assert_eq!(
        sum,
        expect_in(&["pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"], None)
    );
    // An explicit set: the city and its unit, not the province.
    let city = s
        .rollup(&RollupQuery {
            institutions: Some(vec!["pemkot-32.73".into(), "pemkot-32.73-dishub".into()]),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        city.first().map(|r| r.1.clone()).unwrap_or_default(),
        expect_in(&["pemkot-32.73", "pemkot-32.73-dishub"], None)
    );
    // A large set (one JSON parameter instead of one per member) sums the
    // same: the two, padded with codes that hold nothing.
    let mut padded: Vec<String> = vec!["pemkot-32.73".into(), "pemkot-32.73-dishub".into()];
    padded.extend((0..lapor_store::rollups::JSON_SET_ABOVE).map(|i| format!("tidak-ada-{i}")));
    let large = s
        .rollup(&RollupQuery {
            institutions: Some(padded.clone()),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(large, city);
    let overdue_large = s
        .overdue_now(
            &OverdueQuery {
                institutions: Some(padded),
                ..Default::default()
            },
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap();
    let overdue_small = s
        .overdue_now(
            &OverdueQuery {
                institutions: Some(vec!["pemkot-32.73".into(), "pemkot-32.73-dishub".into()]),
                ..Default::default()
            },
            Utc::now() + Duration::days(400),
        )
        .await
        .unwrap();
    assert_eq!(overdue_large, overdue_small);
    let none = s
        .rollup(&RollupQuery {
            institutions: Some(vec![]),
            ..q.clone()
        })
        .await
        .unwrap();
    assert!(none.iter().all(|(_, c)| c.is_zero()), "{none:?}");
    // Without histograms: the same counters, no percentiles.
    let bare = s
        .rollup(&RollupQuery {
            histograms: false,
            ..q.clone()
        })
        .await
        .unwrap();
    let mut expected = expect_in(&[], None);
    expected.first_response_days.clear();
    expected.completion_days.clear();
    assert_eq!(bare[0].1, expected);
    // Volumes only: those four summed, the rest 0.
    let volume = s
        .rollup(&RollupQuery {
            histograms: false,
            columns: lapor_store::rollups::Columns::Volume,
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        volume[0].1,
        Counters {
            submitted: expected.submitted,
            received: expected.received,
            followed_up: expected.followed_up,
            completed: expected.completed,
            ..Counters::default()
        }
    );
    // Months and days group the same totals.
    for group in [GroupBy::Month, GroupBy::Day, GroupBy::Channel, GroupBy::Category] {
        let mut sum = Counters::default();
        for (_, c) in s.rollup(&RollupQuery { group, ..q.clone() }).await.unwrap() {
            sum.merge(&c, 1);
        }
        assert_eq!(sum, expect_in(&[], None), "{group:?}");
    }
    // The day rows of the period, but the excepted holders', grouped as a
    // query would group them.
    let day_rows_by = |group: GroupBy, except: &[String]| {
        let mut out: BTreeMap<String, Counters> = BTreeMap::new();
        for (k, c) in &rebuilt {
            if k.grain == Grain::Day
                && (day_period(from)..=day_period(to)).contains(&k.period)
                && !except.contains(&k.institution)
            {
                let key = match group {
                    GroupBy::Category => k.category.clone(),
                    GroupBy::Channel => k.channel.clone(),
                    GroupBy::Day => k.period.to_string(),
                    GroupBy::Month => (k.period / 100).to_string(),
                    _ => k.institution.clone(),
                };
                out.entry(key).or_default().merge(c, 1);
            }
        }
        out.retain(|_, c| !c.is_zero());
        out
    };
    // National breakdowns read the national rows; each key equals every
    // holder's day rows grouped the same way. By institution, they read
    // the holders' rows only.
    for group in [
        GroupBy::Category,
        GroupBy::Channel,
        GroupBy::Day,
        GroupBy::Month,
        GroupBy::Institution,
    ] {
        let national: BTreeMap<String, Counters> = s
            .rollup(&RollupQuery { group, ..q.clone() })
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(national, day_rows_by(group, &[]), "{group:?}");
    }
    // Everything but some holders: the national rows minus theirs where
    // the grains keep national rows, the other holders' rows where not. A
    // long list travels as one JSON array.
    let mut long: Vec<String> = vec!["pemkot-32.73".into()];
    long.extend((0..lapor_store::rollups::JSON_SET_ABOVE).map(|i| format!("tidak-ada-{i}")));
    for except in [vec![], vec!["pemkot-32.73".to_string(), String::new()], long] {
        for group in [GroupBy::Category, GroupBy::Day, GroupBy::Institution] {
            let got: BTreeMap<String, Counters> = s
                .rollup(&RollupQuery {
                    group,
                    except: Some(except.clone()),
                    ..q.clone()
                })
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(got, day_rows_by(group, &except), "{group:?} {except:?}");
        }
    }
    let bad = s
        .rollup(&RollupQuery {
            from: to,
            to: from,
            ..q.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::ValidationFailed);
    // Overdue now agrees with the report list's overdue filter.
    let now = t0() + Duration::days(60);
    let overdue: i64 = s
        .overdue_now(&OverdueQuery::default(), now)
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    let listed = s
        .list_reports(&ReportFilter {
            overdue_at: Some(Ts::new(now)),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|r| r.is_overdue(now))
        .count() as i64;
    assert_eq!(overdue, listed);
    assert!(overdue > 0);
}

/// "Overdue now" from the tallies (decision 0024) equals a count over every
/// stored report, for each kind of filter, at instants 59 hours apart that
/// fall on every hour of the day and across month ends.
async fn overdue_agrees(s: &Arc<dyn Store>, what: &str) {
    use std::collections::BTreeMap;
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .list_reports(&ReportFilter {
                limit: 500,
                cursor,
                ..Default::default()
            })
            .await
            .unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    assert!(all.len() > 80);
    let jalan = Some("jalan".to_string());
    let (classification, channel) = (Some(all[0].classification), Some(all[0].channel));
    let province = ["pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"];
    let queries = [
        OverdueQuery::default(),
        OverdueQuery {
            classification,
            ..Default::default()
        },
        OverdueQuery {
            category: jalan.clone(),
            ..Default::default()
        },
        OverdueQuery {
            channel,
            ..Default::default()
        },
        OverdueQuery {
            category: jalan.clone(),
            channel,
            ..Default::default()
        },
        OverdueQuery {
            subtree: Some("pemprov-32".into()),
            ..Default::default()
        },
        OverdueQuery {
            subtree: Some("pemprov-32".into()),
            category: jalan.clone(),
            ..Default::default()
        },
        OverdueQuery {
            institutions: Some(vec!["pemkot-32.73".into(), String::new()]),
            ..Default::default()
        },
    ];
    let mut counted = 0;
    for step in 0..48 {
        let now = t0() - Duration::days(35) + Duration::hours(step * 59 + 7);
        for q in &queries {
            let got: BTreeMap<String, i64> = s.overdue_now(q, now).await.unwrap().into_iter().collect();
            let mut want: BTreeMap<String, i64> = BTreeMap::new();
            for r in all.iter().filter(|r| r.is_overdue(now)) {
                let holder = r.unit.clone().or(r.institution.clone()).unwrap_or_default();
                let keep = q.classification.is_none_or(|c| r.classification == c)
                    && q.category.as_ref().is_none_or(|c| r.category.as_ref() == Some(c))
                    && q.channel.is_none_or(|c| r.channel == c)
                    && (q.subtree.is_none() || province.contains(&holder.as_str()))
                    && q.institutions.as_ref().is_none_or(|set| set.contains(&holder));
                if keep {
                    *want.entry(holder).or_default() += 1;
                }
            }
            counted += want.values().sum::<i64>();
            assert_eq!(got, want, "{what}: {q:?} at {now}");
        }
    }
    assert!(counted > 100, "{what}: the instants catch overdue reports ({counted})");
}

/// Second factor, lockout, sessions, one-time tokens and form nonces.
async fn workspace_security(s: &Arc<dyn Store>) {
    let u = NewUser {
        id: "u-sec".into(),
        email: Some("sec@lapor.test".into()),
        phone: None,
        name: "Sekuritas".into(),
        password_hash: "h0".into(),
        is_staff: true,
        memberships: vec![Membership {
            role: Role::NationalAdmin,
            institution: "lapor".into(),
        }],
    };
    s.create_user(&u).await.unwrap();
    let sec = s.user_security("u-sec").await.unwrap().unwrap();
    assert_eq!(
        (sec.totp_secret.clone(), sec.failed_logins, sec.disabled),
        (None, 0, false)
    );
    assert!(s.user_security("nobody").await.unwrap().is_none());

    assert_eq!(s.login_failed("u-sec").await.unwrap(), 1);
    assert_eq!(s.login_failed("u-sec").await.unwrap(), 2);
    let until = Ts::new(t0() + Duration::minutes(5));
    s.lock_until("u-sec", Some(until)).await.unwrap();
    let sec = s.user_security("u-sec").await.unwrap().unwrap();
    assert_eq!(sec.failed_logins, 2);
    assert_eq!(sec.locked_until, Some(until.0));
    s.login_succeeded("u-sec").await.unwrap();
    let sec = s.user_security("u-sec").await.unwrap().unwrap();
    assert_eq!((sec.failed_logins, sec.locked_until), (0, None));

    s.enroll_totp("u-sec", "JBSWY3DPEHPK3PXP", &["c1".into(), "c2".into()])
        .await
        .unwrap();
    let sec = s.user_security("u-sec").await.unwrap().unwrap();
    assert_eq!(sec.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert_eq!(sec.recovery_codes_left, 2);
    assert!(s.claim_totp_step("u-sec", 100).await.unwrap());
    assert!(!s.claim_totp_step("u-sec", 100).await.unwrap(), "a step is used once");
    assert!(!s.claim_totp_step("u-sec", 99).await.unwrap(), "never an older step");
    assert!(s.claim_totp_step("u-sec", 101).await.unwrap());
    assert!(s.use_recovery_code("u-sec", "c1").await.unwrap());
    assert!(!s.use_recovery_code("u-sec", "c1").await.unwrap(), "a code works once");
    assert!(!s.use_recovery_code("u-sec", "zz").await.unwrap());
    assert_eq!(s.user_security("u-sec").await.unwrap().unwrap().recovery_codes_left, 1);
    // Re-enrolling replaces the codes and forgets the used steps.
    s.enroll_totp("u-sec", "KRSXG5CTMVRXEZLU", &["c3".into()])
        .await
        .unwrap();
    assert_eq!(s.user_security("u-sec").await.unwrap().unwrap().recovery_codes_left, 1);
    assert!(s.claim_totp_step("u-sec", 50).await.unwrap());

    let now = Ts::new(t0());
    let token = |hash: &str, kind: TokenKind, ua: Option<&str>| NewToken {
        token_hash: hash.into(),
        user_id: "u-sec".into(),
        kind,
        created_at: now,
        expires_at: Ts::new(t0() + Duration::hours(1)),
        user_agent: ua.map(str::to_string),
    };
    s.create_token(&token("s1", TokenKind::Session, Some("Firefox")))
        .await
        .unwrap();
    s.create_token(&token("s2", TokenKind::Session, None)).await.unwrap();
    s.create_token(&token("r1", TokenKind::PasswordReset, None))
        .await
        .unwrap();
    let sessions = s.sessions("u-sec", now).await.unwrap();
    assert_eq!(sessions.len(), 2, "reset links are not sessions");
    assert!(sessions.iter().any(|x| x.user_agent.as_deref() == Some("Firefox")));
    assert!(!s.revoke_session("user-1", "s1").await.unwrap(), "only one's own");
    assert!(s.revoke_session("u-sec", "s1").await.unwrap());
    assert!(s.user_by_token("s1", TokenKind::Session, now).await.unwrap().is_none());

    assert_eq!(
        s.take_token("r1", TokenKind::Session, now).await.unwrap(),
        None,
        "kind must match"
    );
    let late = Ts::new(t0() + Duration::hours(2));
    assert_eq!(
        s.take_token("r1", TokenKind::PasswordReset, late).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        s.take_token("r1", TokenKind::PasswordReset, now)
            .await
            .unwrap()
            .as_deref(),
        Some("u-sec")
    );
    assert_eq!(
        s.take_token("r1", TokenKind::PasswordReset, now).await.unwrap(),
        None,
        "once"
    );

    // A new password ends every session; disabling does too and blocks them.
    s.set_password("u-sec", "h1").await.unwrap();
    assert!(s.user_by_token("s2", TokenKind::Session, now).await.unwrap().is_none());
    assert_eq!(s.user_by_login("sec@lapor.test").await.unwrap().unwrap().1, "h1");
    s.create_token(&token("s3", TokenKind::Session, None)).await.unwrap();
    s.set_disabled("u-sec", true).await.unwrap();
    assert!(s.user_by_token("s3", TokenKind::Session, now).await.unwrap().is_none());
    assert!(s.user_security("u-sec").await.unwrap().unwrap().disabled);
    s.set_disabled("u-sec", false).await.unwrap();
    s.create_token(&token("s4", TokenKind::Session, None)).await.unwrap();
    assert!(s.user_by_token("s4", TokenKind::Session, now).await.unwrap().is_some());

    let exp = Ts::new(t0() + Duration::hours(2));
    assert!(s.claim_nonce("n1", exp, now).await.unwrap());
    assert!(
        !s.claim_nonce("n1", exp, now).await.unwrap(),
        "a form is submitted once"
    );
}

/// Staff lists, routing rules, templates, training rows, counts, audit.
async fn workspace_data(s: &Arc<dyn Store>, fx: &Fixture) {
    let staff = s.staff_users(Some("pemkot-32.73"), 100).await.unwrap();
    assert!(staff.iter().any(|u| u.id == "user-1"), "{staff:?}");
    assert!(
        !staff.iter().any(|u| u.id == "u-sec"),
        "national staff are not in the city"
    );
    let all = s.staff_users(None, 100).await.unwrap();
    assert!(all.iter().any(|u| u.id == "u-sec") && all.iter().all(|u| u.is_staff));
    let m = Membership {
        role: Role::Liaison,
        institution: "pemkot-32.73".into(),
    };
    assert!(s.remove_membership("user-1", &m).await.unwrap());
    assert!(!s.remove_membership("user-1", &m).await.unwrap());

    let r1 = s
        .add_routing_rule(Some("jalan"), Some(2), "pemkot-{region}", "u-sec")
        .await
        .unwrap();
    let r2 = s
        .add_routing_rule(None, Some(1), "pemprov-{region}", "u-sec")
        .await
        .unwrap();
    let rules = s.routing_rules().await.unwrap();
    assert_eq!(rules.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r1, r2]);
    assert_eq!(rules[0].category.as_deref(), Some("jalan"));
    assert_eq!(rules[1].region_level, Some(1));
    assert!(s.delete_routing_rule(r2).await.unwrap());
    assert!(!s.delete_routing_rule(r2).await.unwrap());

    let t = s
        .save_reply_template("pemkot-32.73", "Terima kasih", "Salam dari {{institution_from}}.")
        .await
        .unwrap();
    let t2 = s
        .save_reply_template(
            "pemkot-32.73",
            "Terima kasih",
            "Salam hangat dari {{institution_from}}.",
        )
        .await
        .unwrap();
    assert_eq!(t, t2, "the same name replaces");
    let ts = s.reply_templates("pemkot-32.73").await.unwrap();
    assert_eq!(ts.len(), 1);
    assert!(ts[0].body.starts_with("Salam hangat"));
    assert!(s.reply_templates("kemenkes").await.unwrap().is_empty());
    assert!(!s.delete_reply_template("kemenkes", t).await.unwrap(), "only one's own");
    assert!(s.delete_reply_template("pemkot-32.73", t).await.unwrap());

    // A report moved to in_progress is history; a submitted one is not. An
    // edit rewrites the search postings in the same commit.
    let n = fx.new_report(900, t0(), "32.73.01.1001", false);
    s.create_report(&n).await.unwrap();
    let c = fx.change(&n.report, disposition(), t0() + Duration::hours(1));
    s.append(&c).await.unwrap();
    let c = fx.change(&c.report, Command::Accept { note: None }, t0() + Duration::hours(2));
    s.append(&c).await.unwrap();
    let rows = s.training_rows(10_000).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.tracking_id == n.report.tracking_id.as_str())
        .unwrap();
    assert_eq!(row.institution, "pemkot-32.73");
    let edit = Command::Edit {
        title: Some("Trotoar ambles di dekat sekolah".into()),
        body: None,
        classification: None,
        needs_investigation: None,
        category: None,
    };
    let mut c = fx.change(&c.report, edit, t0() + Duration::hours(3));
    c.attachments.push(NewAttachment {
        id: "att-fu-1".into(),
        media_type: "application/pdf".into(),
        filename: "surat.pdf".into(),
        sha256: "00".into(),
        data: Arc::new(b"%PDF-1.4".to_vec()),
    });
    s.append(&c).await.unwrap();
    let found = search(s, "trotoar ambles", false, 10).await;
    assert_eq!(found, vec![n.report.tracking_id.to_string()]);
    let att = s.attachments(&n.report.tracking_id).await.unwrap();
    let fu = att.iter().find(|a| a.id == "att-fu-1").unwrap();
    assert_eq!(fu.event_seq, c.report.version);

    let f = ReportFilter {
        statuses: vec![Status::InProgress],
        limit: 10,
        ..Default::default()
    };
    let n_in_progress = s.count_reports(&f, 10_000).await.unwrap();
    assert!(n_in_progress >= 1);
    assert_eq!(s.count_reports(&f, 1).await.unwrap(), 1, "capped");

    // Oldest first, with a cursor that moves forward.
    let f = ReportFilter {
        oldest_first: true,
        limit: 2,
        ..Default::default()
    };
    let p1 = s.list_reports(&f).await.unwrap();
    assert!(p1.items[0].submitted_at <= p1.items[1].submitted_at);
    let p2 = s
        .list_reports(&ReportFilter {
            cursor: Some(Cursor::decode(p1.next_cursor.as_deref().unwrap()).unwrap()),
            ..f.clone()
        })
        .await
        .unwrap();
    assert!(p2.items[0].submitted_at >= p1.items[1].submitted_at);
    assert!(
        !p1.items
            .iter()
            .any(|r| p2.items.iter().any(|q| q.tracking_id == r.tracking_id))
    );

    let audit = s
        .audit_query(&AuditQuery {
            user_id: Some("u1".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    s.write_audit(&AuditEntry {
        at: t0(),
        user_id: Some("u-sec".into()),
        action: "staff.login".into(),
        target: "u-sec".into(),
        detail: None,
    })
    .await
    .unwrap();
    let mine = s
        .audit_query(&AuditQuery {
            user_id: Some("u-sec".into()),
            action: Some("staff.login".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let none = s
        .audit_query(&AuditQuery {
            user_id: Some("u-sec".into()),
            before: Some(Ts::new(t0())),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn sqlite_passes_the_contract() {
    let db = TestDb::sqlite().await;
    run_contract(db.store.clone()).await;
}

#[tokio::test]
async fn postgres_passes_the_contract() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: PostgreSQL contract skipped");
        return;
    };
    run_contract(db.store.clone()).await;
    feed_never_skips_a_late_commit(&db).await;
    db.close().await;
}

/// PostgreSQL hands out row ids before commit: a change written by a
/// transaction that commits late must not be passed over by a reader who
/// already saw a later id.
async fn feed_never_skips_a_late_commit(db: &TestDb) {
    use sqlx::Connection;
    let s = &db.store;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM report_events ORDER BY id LIMIT 2")
        .fetch_all(&mut sqlx::PgConnection::connect(&db.url).await.unwrap())
        .await
        .unwrap();
    let mut slow = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut fast = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let insert = "INSERT INTO integration_changes (institution, event_id) VALUES ('probe', $1)";
    let mut tx = slow.begin().await.unwrap();
    sqlx::query(insert).bind(ids[0]).execute(&mut *tx).await.unwrap();
    sqlx::query(insert).bind(ids[1]).execute(&mut fast).await.unwrap();
    assert!(
        s.changes("probe", FeedPosition::default(), 10)
            .await
            .unwrap()
            .is_empty(),
        "the committed change waits behind the running transaction"
    );
    tx.commit().await.unwrap();
    let feed = s.changes("probe", FeedPosition::default(), 10).await.unwrap();
    assert_eq!(feed.iter().map(|f| f.event_id).collect::<Vec<_>>(), ids);
}

/// Chatbot turns: deduplicated on the platform's id, version-guarded,
/// replies and inbox items in the same commit; identities, time-outs, the
/// inbox and the block list.
async fn chats(s: &Arc<dyn Store>) {
    let at = t0();
    let turn = |pid: &str, version: Option<i64>, text: &str| ChatTurn {
        inbound: InboundRecord {
            channel: "telegram".into(),
            platform_id: pid.into(),
            sender: "5123".into(),
            received_at: at,
            text: text.into(),
            outcome: "handled".into(),
            tracking_id: None,
        },
        conversation: Some(ConversationWrite {
            state: serde_json::json!({ "step": text }),
            expected_version: version,
            updated_at: at,
            expires_at: Some(at + Duration::minutes(30)),
        }),
        inbox: None,
        outbox: vec![OutboxMessage {
            topic: "channel.send".into(),
            key: format!("telegram:{pid}"),
            payload: serde_json::json!({ "to": "5123" }),
        }],
    };
    let before = s.outbox_count().await.unwrap();
    assert_eq!(
        s.commit_turn(&turn("u1", None, "a")).await.unwrap(),
        TurnOutcome::Committed
    );
    // The platform redelivers: acknowledged, nothing written twice.
    assert_eq!(
        s.commit_turn(&turn("u1", None, "a")).await.unwrap(),
        TurnOutcome::Duplicate
    );
    assert!(s.inbound_seen("telegram", "u1").await.unwrap());
    assert!(!s.inbound_seen("line", "u1").await.unwrap());
    let c = s.conversation("telegram", "5123").await.unwrap().unwrap();
    assert_eq!((c.version, c.state["step"].as_str()), (1, Some("a")));
    // A turn computed from a stale version loses and writes nothing.
    assert_eq!(
        s.commit_turn(&turn("u2", None, "b")).await.unwrap(),
        TurnOutcome::Conflict
    );
    assert!(!s.inbound_seen("telegram", "u2").await.unwrap());
    assert_eq!(
        s.commit_turn(&turn("u2", Some(1), "b")).await.unwrap(),
        TurnOutcome::Committed
    );
    assert_eq!(
        s.commit_turn(&turn("u3", Some(1), "c")).await.unwrap(),
        TurnOutcome::Conflict
    );
    assert_eq!(s.outbox_count().await.unwrap(), before + 2);
    // Group commit: the turns of one batch stand alone.
    let outs = s
        .commit_turns(&[
            turn("u4", Some(2), "d"),
            turn("u1", Some(3), "again"),
            turn("u5", Some(2), "stale"),
            turn("u6", Some(3), "f"),
        ])
        .await
        .unwrap();
    assert_eq!(
        outs,
        [
            TurnOutcome::Committed,
            TurnOutcome::Duplicate,
            TurnOutcome::Conflict,
            TurnOutcome::Committed
        ]
    );
    assert!(
        !s.inbound_seen("telegram", "u5").await.unwrap(),
        "the stale turn left nothing"
    );
    let c = s.conversation("telegram", "5123").await.unwrap().unwrap();
    assert_eq!((c.version, c.state["step"].as_str()), (4, Some("f")));
    assert_eq!(s.outbox_count().await.unwrap(), before + 4);

    // Identities: first contact creates the reporter; later links keep it.
    let who = ReporterIdentity {
        id: "r-chat-1".into(),
        user_id: None,
        name: Some("Siti".into()),
        email: None,
        phone: None,
    };
    let id = s
        .link_channel_identity("telegram", "5123", &who, Ts::new(at))
        .await
        .unwrap();
    assert_eq!(id, "r-chat-1");
    let other = ReporterIdentity {
        id: "r-chat-2".into(),
        ..who.clone()
    };
    assert_eq!(
        s.link_channel_identity("telegram", "5123", &other, Ts::new(at))
            .await
            .unwrap(),
        "r-chat-1"
    );
    assert!(s.reporter("r-chat-2").await.unwrap().is_none());
    assert_eq!(
        s.channel_reporter("telegram", "5123").await.unwrap().as_deref(),
        Some("r-chat-1")
    );
    assert_eq!(
        s.channel_address("r-chat-1", "telegram").await.unwrap().as_deref(),
        Some("5123")
    );
    assert_eq!(s.channel_address("r-chat-1", "line").await.unwrap(), None);

    // Time-outs: the sweep ends the conversation once and files its draft.
    assert!(
        s.expired_conversations(Ts::new(at + Duration::minutes(10)), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = s
        .expired_conversations(Ts::new(at + Duration::minutes(31)), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let item = NewInboxItem {
        key: "abandoned:telegram:5123:2".into(),
        channel: "telegram".into(),
        sender: "5123".into(),
        sender_name: Some("Siti".into()),
        received_at: at,
        reason: "abandoned".into(),
        text: "Sampah menumpuk".into(),
        draft: Some(serde_json::json!({ "title": "Sampah menumpuk" })),
    };
    let idle = serde_json::json!({ "at": "idle" });
    let later = Ts::new(at + Duration::minutes(31));
    assert!(s.end_conversation(&due[0], &idle, later, Some(&item)).await.unwrap());
    assert!(
        !s.end_conversation(&due[0], &idle, later, Some(&item)).await.unwrap(),
        "a second sweep finds it changed"
    );
    assert!(s.expired_conversations(later, 10).await.unwrap().is_empty());
    s.file_inbox_item(&item).await.unwrap();
    let open = s.inbox_items("open", 10).await.unwrap();
    assert_eq!(open.len(), 1, "filed once per key");
    assert_eq!(open[0].draft.as_ref().unwrap()["title"], "Sampah menumpuk");
    let iid = open[0].id;
    assert!(
        s.resolve_inbox_item(iid, "converted", Some("7KQ4-M2XJ"), "u-verifier", later)
            .await
            .unwrap()
    );
    assert!(
        !s.resolve_inbox_item(iid, "dismissed", None, "u-verifier", later)
            .await
            .unwrap()
    );
    let done = s.inbox_item(iid).await.unwrap().unwrap();
    assert_eq!(
        (done.state.as_str(), done.tracking_id.as_deref()),
        ("converted", Some("7KQ4-M2XJ"))
    );

    // Block list: per channel or everywhere.
    let block = |channel: &str, sender: &str| Block {
        channel: channel.into(),
        sender: sender.into(),
        reason: "spam".into(),
        created_by: None,
        created_at: at,
    };
    s.add_block(&block("sms", "+628111")).await.unwrap();
    s.add_block(&block("*", "+628222")).await.unwrap();
    s.add_block(&block("sms", "+628111")).await.unwrap();
    assert!(s.is_blocked("sms", "+628111").await.unwrap());
    assert!(!s.is_blocked("whatsapp", "+628111").await.unwrap());
    assert!(s.is_blocked("whatsapp", "+628222").await.unwrap());
    assert_eq!(s.blocks().await.unwrap().len(), 2);
    assert!(s.remove_block("sms", "+628111").await.unwrap());
    assert!(!s.remove_block("sms", "+628111").await.unwrap());
    assert!(!s.is_blocked("sms", "+628111").await.unwrap());

    // A message that filed a report is its source: found again by the
    // report (to reply under the tweet or mail), and kept by the purge.
    let mut sourced = turn("t1", None, "#LAPOR lampu mati");
    sourced.inbound.channel = "twitter".into();
    sourced.inbound.tracking_id = Some("ABCD-EFGH".into());
    sourced.conversation = None;
    sourced.outbox.clear();
    assert_eq!(s.commit_turn(&sourced).await.unwrap(), TurnOutcome::Committed);
    assert_eq!(
        s.source_message("twitter", "ABCD-EFGH").await.unwrap().as_deref(),
        Some("t1")
    );
    assert_eq!(s.source_message("email", "ABCD-EFGH").await.unwrap(), None);
    // A message filed as a report later (from the handler inbox) becomes
    // that report's source, once.
    assert!(s.attach_source("telegram", "u4", "WXYZ-2345").await.unwrap());
    assert!(!s.attach_source("telegram", "u4", "OTHR-2345").await.unwrap());
    assert!(!s.attach_source("telegram", "nope", "WXYZ-2345").await.unwrap());
    assert_eq!(
        s.source_message("telegram", "WXYZ-2345").await.unwrap().as_deref(),
        Some("u4")
    );

    assert_eq!(s.purge_inbound(Ts::new(at + Duration::seconds(1))).await.unwrap(), 3);
    assert!(!s.inbound_seen("telegram", "u1").await.unwrap());
    assert!(
        s.inbound_seen("twitter", "t1").await.unwrap(),
        "a report's source stays"
    );
}

/// Integration: connected institutions, API keys with rotation, and the
/// feed rows and webhook deliveries that commit with the events.
async fn integrations(s: &Arc<dyn Store>, fx: &Fixture) {
    let now = t0();
    assert!(s.set_integration_mode("pemkot-32.73", MODE_CONNECTED).await.unwrap());
    assert!(!s.set_integration_mode("no-such", MODE_CONNECTED).await.unwrap());
    assert!(s.set_integration_mode("pemkot-32.73", "sideways").await.is_err());
    assert_eq!(
        s.connected_institutions().await.unwrap(),
        vec!["pemkot-32.73".to_string()]
    );
    assert_eq!(
        s.integration_mode("pemprov-32").await.unwrap().as_deref(),
        Some(MODE_NATIVE)
    );

    // A client, its service account and its first key commit together.
    let client = ApiClient {
        id: "ic-1".into(),
        institution: "pemkot-32.73".into(),
        user_id: "u-ic-1".into(),
        name: "SIMPEL Kota Bandung".into(),
        scopes: "reports:read reports:write".into(),
        created_at: now,
        created_by: None,
        revoked_at: None,
    };
    let key = |hash: &str, kind: &str, expires_at| NewApiKey {
        key_hash: hash.into(),
        client_id: "ic-1".into(),
        kind: kind.into(),
        prefix: format!("{hash}…"),
        created_at: now,
        expires_at,
        scopes: None,
    };
    s.create_api_client(&client, &key("k1", "key", None)).await.unwrap();
    let holder = s.key_holder("k1", Ts::new(now)).await.unwrap().unwrap();
    assert_eq!(holder.client, client);
    let service = s.user("u-ic-1").await.unwrap().unwrap();
    assert!(service.is_staff);
    assert_eq!(service.memberships[0].role, Role::InstitutionAdmin);
    assert!(s.user_by_login("").await.unwrap().is_none(), "no login name");
    // Rotation: the old key works through the overlap, then stops.
    s.add_api_key(&key("k2", "key", None), Some(Ts::new(now + Duration::hours(1))))
        .await
        .unwrap();
    assert!(
        s.key_holder("k1", Ts::new(now + Duration::minutes(59)))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.key_holder("k1", Ts::new(now + Duration::hours(2)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.key_holder("k2", Ts::new(now + Duration::hours(2)))
            .await
            .unwrap()
            .is_some()
    );
    s.add_api_key(&key("a1", "access", Some(now + Duration::hours(1))), None)
        .await
        .unwrap();
    assert_eq!(s.key_holder("a1", Ts::new(now)).await.unwrap().unwrap().kind, "access");
    assert!(
        s.key_holder("a1", Ts::new(now + Duration::hours(1)))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.api_keys("ic-1").await.unwrap().len(),
        2,
        "access tokens are not listed"
    );
    s.touch_api_key("k2", Ts::new(now)).await.unwrap();
    assert!(
        s.key_holder("k2", Ts::new(now))
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert_eq!(s.api_clients(Some("pemkot-32.73")).await.unwrap().len(), 1);
    assert!(s.api_clients(Some("pemprov-32")).await.unwrap().is_empty());

    let sub = WebhookSubscription {
        id: "wh-1".into(),
        institution: "pemkot-32.73".into(),
        url: "http://127.0.0.1:9/hook".into(),
        secrets: vec![SigningSecret {
            secret: "whsec_a".into(),
            expires_at: None,
        }],
        active: true,
        created_at: now,
        created_by: None,
    };
    s.create_subscription(&sub).await.unwrap();
    assert_eq!(s.subscription("wh-1").await.unwrap().unwrap().secrets, sub.secrets);

    // Submitted (no institution yet): nothing goes out. Dispositioned to the
    // connected city, accepted, followed up: three changes, in order.
    let n = fx.new_report(9001, now, "32.73.01.1001", false);
    s.create_report(&n).await.unwrap();
    let id = n.report.tracking_id.clone();
    assert!(
        s.changes("pemkot-32.73", FeedPosition::default(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let mut r = n.report.clone();
    for (i, cmd) in [
        disposition(),
        Command::Accept { note: None },
        Command::FollowUp {
            body: "Sedang diperbaiki".into(),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let c = fx.change(&r, cmd, now + Duration::hours(i as i64 + 1));
        s.append(&c).await.unwrap();
        r = c.report;
    }
    let feed = s.changes("pemkot-32.73", FeedPosition::default(), 100).await.unwrap();
    assert_eq!(feed.iter().map(|f| f.event.seq).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert!(feed.windows(2).all(|w| w[0].position < w[1].position));
    let rest = s.changes("pemkot-32.73", feed[0].position, 100).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert!(
        s.changes("pemkot-32.73", feed[2].position, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.changes("pemprov-32", FeedPosition::default(), 100)
            .await
            .unwrap()
            .is_empty(),
        "native: no feed"
    );

    // Only the earliest pending event of the report is handed out.
    let at = Ts::new(now + Duration::hours(5));
    let lease = Ts::new(now + Duration::hours(6));
    let jobs = s.claim_webhook_deliveries(at, lease, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].event.seq, jobs[0].attempts), (2, 1));
    assert_eq!(jobs[0].event.tracking_id, id);
    assert!(
        s.claim_webhook_deliveries(at, lease, 10).await.unwrap().is_empty(),
        "leased, and the rest wait behind it"
    );
    let attempt = |j: &WebhookJob, at: DateTime<Utc>, status: Option<i64>| WebhookAttempt {
        delivery_id: j.delivery_id,
        attempt: j.attempts,
        at,
        status,
        latency_ms: 12,
        error: status.is_none().then(|| "connection refused".to_string()),
    };
    // Seq 2 fails: seq 3 still waits until 2 is through.
    let retry_at = now + Duration::hours(7);
    s.finish_webhook_deliveries(&[DeliveryOutcome {
        attempt: attempt(&jobs[0], at.0, None),
        next: DeliveryNext::Retry(retry_at),
    }])
    .await
    .unwrap();
    assert!(
        s.claim_webhook_deliveries(Ts::new(now + Duration::hours(6)), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s
        .claim_webhook_deliveries(Ts::new(retry_at), Ts::new(retry_at + Duration::hours(1)), 10)
        .await
        .unwrap();
    assert_eq!((again[0].event.seq, again[0].attempts), (2, 2));
    s.finish_webhook_deliveries(&[DeliveryOutcome {
        attempt: attempt(&again[0], retry_at, Some(204)),
        next: DeliveryNext::Delivered,
    }])
    .await
    .unwrap();
    let later = Ts::new(retry_at + Duration::hours(2));
    let third = s
        .claim_webhook_deliveries(later, Ts::new(later.0 + Duration::hours(1)), 10)
        .await
        .unwrap();
    assert_eq!(third[0].event.seq, 3);
    s.finish_webhook_deliveries(&[DeliveryOutcome {
        attempt: attempt(&third[0], later.0, Some(500)),
        next: DeliveryNext::Dead,
    }])
    .await
    .unwrap();
    // A dead letter does not hold the report's later events back.
    let fourth = s
        .claim_webhook_deliveries(later, Ts::new(later.0 + Duration::hours(1)), 10)
        .await
        .unwrap();
    assert_eq!(fourth[0].event.seq, 4);

    let log = s.webhook_deliveries("wh-1", None, None, 10).await.unwrap();
    assert_eq!(
        log.iter().map(|d| d.state.as_str()).collect::<Vec<_>>(),
        vec!["pending", "dead", "delivered"]
    );
    assert_eq!(log[2].last_status, Some(204));
    assert_eq!(log[1].last_status, Some(500));
    let dead = s.webhook_deliveries("wh-1", Some("dead"), None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let tries = s.webhook_attempts(log[2].id).await.unwrap();
    assert_eq!(
        tries.iter().map(|a| a.status).collect::<Vec<_>>(),
        vec![None, Some(204)]
    );
    assert_eq!(
        s.webhook_deliveries("wh-1", None, Some(log[1].id), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Replay puts the dead letter back in the queue with fresh attempts.
    assert_eq!(
        s.replay_webhook_deliveries("wh-1", Some(&[dead[0].id]), later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.replay_webhook_deliveries("wh-1", None, later).await.unwrap(), 0);
    let replayed = s.webhook_deliveries("wh-1", Some("pending"), None, 10).await.unwrap();
    assert_eq!(replayed.len(), 2);

    // Rotated secrets; deactivation stops new deliveries.
    let rotated = vec![
        SigningSecret {
            secret: "whsec_b".into(),
            expires_at: None,
        },
        SigningSecret {
            secret: "whsec_a".into(),
            expires_at: Some(now + Duration::days(1)),
        },
    ];
    assert!(s.set_subscription_secrets("wh-1", &rotated).await.unwrap());
    let stored = s.subscription("wh-1").await.unwrap().unwrap();
    assert_eq!(stored.live_secrets(now), vec!["whsec_b", "whsec_a"]);
    assert_eq!(stored.live_secrets(now + Duration::days(2)), vec!["whsec_b"]);
    assert!(s.deactivate_subscription("wh-1").await.unwrap());
    let c = fx.change(
        &r,
        Command::AddNote { body: "catatan".into() },
        now + Duration::hours(9),
    );
    s.append(&c).await.unwrap();
    assert_eq!(
        s.webhook_deliveries("wh-1", None, None, 10).await.unwrap().len(),
        3,
        "inactive: nothing new"
    );
    assert_eq!(
        s.changes("pemkot-32.73", FeedPosition::default(), 100)
            .await
            .unwrap()
            .len(),
        4,
        "the feed goes on"
    );

    // Revoking the client ends its keys and disables its account.
    assert!(s.revoke_api_client("ic-1", Ts::new(now)).await.unwrap());
    assert!(s.key_holder("k2", Ts::new(now)).await.unwrap().is_none());
    assert!(!s.revoke_api_client("ic-1", Ts::new(now)).await.unwrap());
    assert!(s.set_integration_mode("pemkot-32.73", MODE_NATIVE).await.unwrap());
}
