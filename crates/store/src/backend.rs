//! The Store implementation, written once and expanded for each backend.
//! Only the pool setup, the migration files and the transaction-begin
//! statement differ between SQLite and PostgreSQL; every query below is
//! shared text that both dialects accept.

/// Expands `impl Store for $store` over `sqlx::$db`.
macro_rules! backend_impl {
    ($store:ty, $db:ty, $row:ty) => {
        use crate::filter::{Arg, Cursor, REPORT_COLS};
        use crate::ts::Ts;
        use crate::types::*;
        use crate::{db_err, Backend, ReportFilter, ReportPage, Result, Store};
        use lapor_domain::calendar::Zone;
        use lapor_domain::event::{Actor, Event, EventData};
        use lapor_domain::ids::TrackingId;
        use lapor_domain::institution::{Institution, InstitutionKind, Membership, Role};
        use lapor_domain::report::*;
        use lapor_domain::Error;
        use sqlx::types::Json;
        use sqlx::Row;

        type Q<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>;

        fn bind_args<'q>(mut q: Q<'q>, args: &'q [Arg]) -> Q<'q> {
            for a in args {
                q = match a {
                    Arg::Text(s) => q.bind(s.as_str()),
                    Arg::I64(i) => q.bind(*i),
                    Arg::Ts(t) => q.bind(*t),
                };
            }
            q
        }

        /// The export as pages of `EXPORT_BATCH` rows, each read as one JSON
        /// array (`EXPORT_PAGE`), in one read transaction so the pages agree
        /// as a single statement's rows would. The columns are
        /// `filter::SUMMARY_COLS` as SQLite stores them (instants as
        /// milliseconds, flags as integers).
        async fn export_pages(
            pool: &sqlx::Pool<$db>,
            f: &ReportFilter,
            aggregate: &str,
            out: tokio::sync::mpsc::Sender<Vec<ReportSummary>>,
        ) -> Result<u64> {
            #[derive(serde::Deserialize)]
            struct Cells(
                String, i64, String, String, Option<String>, String, Option<String>, Option<String>, Option<String>,
                Option<i64>, Option<i64>, Option<i64>, Option<i64>, i64, i64, i64, i64,
            );
            let ms = |v: i64| {
                chrono::DateTime::from_timestamp_millis(v).ok_or_else(|| Error::internal(format!("stored instant {v} ms")))
            };
            // A transaction sqlx began is rolled back if this future is
            // dropped midway, so no pooled reader keeps an old snapshot.
            let mut tx = pool.begin().await.map_err(db_err)?;
            let mut page = ReportFilter { cursor: None, ..f.clone() };
            let mut read = 0u64;
            let result: Result<()> = async {
                loop {
                    let Some((sql, args)) = page.to_export_page_sql(EXPORT_BATCH) else {
                        return Ok(());
                    };
                    let sql = format!(
                        "SELECT {} AS page FROM ({sql}) rows",
                        aggregate.replace('#', crate::filter::SUMMARY_COLS)
                    );
                    let row = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let json: Option<String> = get(&row, "page")?;
                    let cells: Vec<Cells> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
                        .map_err(|e| Error::internal(format!("export page: {e}")))?;
                    let full = cells.len() == EXPORT_BATCH;
                    let mut batch = Vec::with_capacity(cells.len());
                    for c in cells {
                        batch.push(ReportSummary {
                            tracking_id: c.0,
                            submitted_at: ms(c.1)?,
                            status: c.2,
                            classification: c.3,
                            category: c.4,
                            channel: c.5,
                            region_code: c.6,
                            institution: c.7,
                            unit: c.8,
                            due_at: c.9.map(ms).transpose()?,
                            first_response_at: c.10.map(ms).transpose()?,
                            completed_at: c.11.map(ms).transpose()?,
                            rating: c.12,
                            transfer_count: c.13,
                            reopen_count: c.14,
                            anonymous: c.15 != 0,
                            confidential: c.16 != 0,
                        });
                    }
                    // An aggregate's order follows its subquery's in SQLite,
                    // but nothing promises it: the next page starts after the
                    // last row in the export's order, so check it holds.
                    let newest_first = !page.oldest_first;
                    let in_order = batch.windows(2).all(|w| {
                        let (a, b) = ((w[0].submitted_at, &w[0].tracking_id), (w[1].submitted_at, &w[1].tracking_id));
                        if newest_first { a > b } else { a < b }
                    });
                    if !in_order {
                        batch.sort_by(|x, y| {
                            let o = (x.submitted_at, &x.tracking_id).cmp(&(y.submitted_at, &y.tracking_id));
                            if newest_first { o.reverse() } else { o }
                        });
                    }
                    page.cursor = batch.last().map(|r| Cursor {
                        submitted_at_ms: r.submitted_at.timestamp_millis(),
                        tracking_id: r.tracking_id.clone(),
                    });
                    read += batch.len() as u64;
                    if !batch.is_empty() && out.send(batch).await.is_err() {
                        return Ok(());
                    }
                    if !full {
                        return Ok(());
                    }
                }
            }
            .await;
            result?;
            tx.commit().await.map_err(db_err)?;
            Ok(read)
        }

        fn parse_enum<T>(v: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
            parse(v).ok_or_else(|| Error::internal(format!("stored {what} {v:?} is not known")))
        }

        fn get<'r, T: sqlx::Decode<'r, $db> + sqlx::Type<$db>>(row: &'r $row, col: &str) -> Result<T> {
            row.try_get::<T, _>(col).map_err(db_err)
        }

        fn opt_ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<Ts> {
            t.map(Ts::new)
        }

        fn report_from_row(row: &$row) -> Result<Report> {
            let opt_enum = |col: &str, parse: fn(&str) -> Option<Stage>| -> Result<Option<Stage>> {
                get::<Option<String>>(row, col)?.map(|s| parse_enum(&s, parse, col)).transpose()
            };
            Ok(Report {
                tracking_id: TrackingId::parse(&get::<String>(row, "tracking_id")?)?,
                version: get(row, "version")?,
                status: parse_enum(&get::<String>(row, "status")?, Status::parse, "status")?,
                classification: parse_enum(&get::<String>(row, "classification")?, Classification::parse, "classification")?,
                needs_investigation: get(row, "needs_investigation")?,
                category: get(row, "category")?,
                title: get(row, "title")?,
                body: get(row, "body")?,
                incident_date: get(row, "incident_date")?,
                region_code: get(row, "region_code")?,
                latitude: get(row, "latitude")?,
                longitude: get(row, "longitude")?,
                anonymous: get(row, "anonymous")?,
                confidential: get(row, "confidential")?,
                channel: parse_enum(&get::<String>(row, "channel")?, Channel::parse, "channel")?,
                reporter_id: get(row, "reporter_id")?,
                suggested_institution: get(row, "suggested_institution")?,
                institution: get(row, "institution")?,
                unit: get(row, "unit")?,
                zone: parse_enum(&get::<String>(row, "zone")?, Zone::parse, "zone")?,
                policy: get(row, "policy")?,
                stage: opt_enum("stage", Stage::parse)?,
                due_at: get::<Option<Ts>>(row, "due_at")?.map(|t| t.0),
                held_from: get::<Option<String>>(row, "held_from")?
                    .map(|s| parse_enum(&s, Status::parse, "held_from"))
                    .transpose()?,
                held_at: get::<Option<Ts>>(row, "held_at")?.map(|t| t.0),
                rating: get::<Option<i64>>(row, "rating")?.map(|r| r.clamp(0, 5) as u8),
                rating_comment: get(row, "rating_comment")?,
                reopen_count: get::<i64>(row, "reopen_count")?.max(0) as u32,
                transfer_count: get::<i64>(row, "transfer_count")?.max(0) as u32,
                liaison: get(row, "liaison")?,
                extension_count: get::<i64>(row, "extension_count")?.max(0) as u32,
                archive_reason: get::<Option<String>>(row, "archive_reason")?
                    .map(|s| parse_enum(&s, ArchiveReason::parse, "archive_reason"))
                    .transpose()?,
                merged_into: get::<Option<String>>(row, "merged_into")?
                    .map(|s| TrackingId::parse(&s))
                    .transpose()?,
                submitted_at: get::<Ts>(row, "submitted_at")?.0,
                updated_at: get::<Ts>(row, "updated_at")?.0,
                first_response_at: get::<Option<Ts>>(row, "first_response_at")?.map(|t| t.0),
                completed_at: get::<Option<Ts>>(row, "completed_at")?.map(|t| t.0),
                reminded_due: get::<Option<Ts>>(row, "reminded_due")?.map(|t| t.0),
                escalation_level: get::<i64>(row, "escalation_level")?.clamp(0, 255) as u8,
                ombudsman: get::<Option<String>>(row, "ombudsman")?
                    .map(|s| parse_enum(&s, Ombudsman::parse, "ombudsman"))
                    .transpose()?,
            })
        }

        /// Binds the report columns in `REPORT_COLS` order (after any leading
        /// binds); `wake_at` is the scheduler's timer, kept beside the state.
        fn bind_report<'q>(q: Q<'q>, r: &'q Report, wake_at: Option<chrono::DateTime<chrono::Utc>>) -> Q<'q> {
            q.bind(r.tracking_id.as_str())
                .bind(r.version)
                .bind(r.status.as_str())
                .bind(r.classification.as_str())
                .bind(r.needs_investigation)
                .bind(r.category.as_deref())
                .bind(r.title.as_str())
                .bind(r.body.as_str())
                .bind(r.incident_date)
                .bind(r.region_code.as_deref())
                .bind(r.latitude)
                .bind(r.longitude)
                .bind(r.anonymous)
                .bind(r.confidential)
                .bind(r.channel.as_str())
                .bind(r.reporter_id.as_deref())
                .bind(r.suggested_institution.as_deref())
                .bind(r.institution.as_deref())
                .bind(r.unit.as_deref())
                .bind(r.zone.as_str())
                .bind(r.policy.as_str())
                .bind(r.stage.map(|s| s.as_str()))
                .bind(opt_ts(r.due_at))
                .bind(r.held_from.map(|s| s.as_str()))
                .bind(opt_ts(r.held_at))
                .bind(r.rating.map(i64::from))
                .bind(r.rating_comment.as_deref())
                .bind(i64::from(r.reopen_count))
                .bind(i64::from(r.transfer_count))
                .bind(r.archive_reason.map(|a| a.as_str()))
                .bind(r.merged_into.as_ref().map(|t| t.as_str()))
                .bind(Ts::new(r.submitted_at))
                .bind(Ts::new(r.updated_at))
                .bind(opt_ts(r.first_response_at))
                .bind(opt_ts(r.completed_at))
                .bind(r.liaison.as_deref())
                .bind(i64::from(r.extension_count))
                .bind(opt_ts(r.reminded_due))
                .bind(i64::from(r.escalation_level))
                .bind(r.ombudsman.map(|o| o.as_str()))
                .bind(opt_ts(wake_at))
        }

        /// Binds per inserted report row: its columns, the PIN digest and the
        /// idempotency key.
        const REPORT_BINDS: usize = crate::filter::REPORT_COL_COUNT + 2;

        /// `n` consecutive bind parameters starting at number `from`.
        /// SQLite gets anonymous `?`: its driver resolves each named
        /// parameter by a linear search, which turns a multi-row insert with
        /// thousands of `$N` into quadratic work.
        fn bind_params(from: usize, n: usize) -> String {
            if <$store>::ANONYMOUS_PARAMS {
                vec!["?"; n].join(", ")
            } else {
                (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            }
        }

        fn event_from_row(row: &$row) -> Result<Event> {
            let status = |col: &str| -> Result<Option<Status>> {
                get::<Option<String>>(row, col)?.map(|s| parse_enum(&s, Status::parse, col)).transpose()
            };
            let Json(actor): Json<Actor> = get(row, "actor")?;
            let Json(data): Json<EventData> = get(row, "data")?;
            Ok(Event {
                tracking_id: TrackingId::parse(&get::<String>(row, "tracking_id")?)?,
                seq: get(row, "seq")?,
                at: get::<Ts>(row, "at")?.0,
                actor,
                from_status: status("from_status")?,
                to_status: status("to_status")?.ok_or_else(|| Error::internal("event without to_status"))?,
                from_institution: get(row, "from_institution")?,
                to_institution: get(row, "to_institution")?,
                body: get(row, "body")?,
                visibility: parse_enum(&get::<String>(row, "visibility")?, Visibility::parse, "visibility")?,
                data,
            })
        }

        const EVENT_COLS: usize = 12;

        async fn insert_events(tx: &mut sqlx::Transaction<'static, $db>, events: &[&Event]) -> Result<()> {
            let mut ids = Vec::with_capacity(events.len());
            for chunk in crate::intake::shaped_chunks(events) {
                ids.extend(insert_event_rows(tx, chunk).await?);
            }
            // A submission concerns no institution yet (a report is with
            // one only once verified), so the intake path skips the fan-out.
            if events.iter().all(|e| matches!(e.data, EventData::Submitted { .. })) {
                return Ok(());
            }
            fan_out(tx, &ids).await
        }

        /// Returns the new rows' ids.
        async fn insert_event_rows(tx: &mut sqlx::Transaction<'static, $db>, events: &[&Event]) -> Result<Vec<i64>> {
            let rows: Vec<String> = (0..events.len()).map(|i| format!("({})", bind_params(i * EVENT_COLS + 1, EVENT_COLS))).collect();
            let sql = format!(
                "INSERT INTO report_events (tracking_id, seq, at, kind, actor, from_status, to_status, \
                 from_institution, to_institution, visibility, body, data) VALUES {} RETURNING id",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in events {
                q = q
                    .bind(e.tracking_id.as_str())
                    .bind(e.seq)
                    .bind(Ts::new(e.at))
                    .bind(e.data.kind())
                    .bind(Json(&e.actor))
                    .bind(e.from_status.map(|s| s.as_str()))
                    .bind(e.to_status.as_str())
                    .bind(e.from_institution.as_deref())
                    .bind(e.to_institution.as_deref())
                    .bind(e.visibility.as_str())
                    .bind(e.body.as_deref())
                    .bind(Json(&e.data));
            }
            let rows = q.fetch_all(&mut **tx).await.map_err(db_err)?;
            rows.iter().map(|r| get::<i64>(r, "id")).collect()
        }

        async fn insert_outbox_rows(tx: &mut sqlx::Transaction<'static, $db>, msgs: &[(&OutboxMessage, Ts)]) -> Result<()> {
            for chunk in crate::intake::shaped_chunks(msgs) {
                insert_outbox_chunk(tx, chunk).await?;
            }
            Ok(())
        }

        async fn insert_outbox_chunk(tx: &mut sqlx::Transaction<'static, $db>, msgs: &[(&OutboxMessage, Ts)]) -> Result<()> {
            // The key makes enqueueing idempotent as well as delivery.
            let rows: Vec<String> = (0..msgs.len()).map(|i| format!("({})", bind_params(i * 5 + 1, 5))).collect();
            let sql = format!(
                "INSERT INTO outbox (topic, key, payload, created_at, available_at) VALUES {} ON CONFLICT (key) DO NOTHING",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (m, at) in msgs {
                q = q.bind(m.topic.as_str()).bind(m.key.as_str()).bind(Json(&m.payload)).bind(*at).bind(*at);
            }
            q.execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        /// Search postings of new reports (title and body terms).
        async fn insert_postings(tx: &mut sqlx::Transaction<'static, $db>, reports: &[&Report]) -> Result<()> {
            let rows: Vec<(String, Ts, &str)> = reports
                .iter()
                .flat_map(|r| {
                    let at = Ts::new(r.submitted_at);
                    lapor_domain::search::terms(&format!("{}\n{}", r.title, r.body))
                        .into_iter()
                        .map(move |t| (t, at, r.tracking_id.as_str()))
                })
                .collect();
            // One statement per batch: the rows travel as one JSON array
            // (thousands of bind parameters would cost more than the insert).
            for chunk in rows.chunks(20_000) {
                let json: Vec<(&str, i64, &str)> = chunk.iter().map(|(t, at, doc)| (t.as_str(), at.millis(), *doc)).collect();
                let json = serde_json::to_string(&json).map_err(|e| Error::internal(e.to_string()))?;
                sqlx::query(<$store>::INSERT_POSTINGS).bind(json).execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        /// Stores files for one event of a report, numbered after the files
        /// it already has. The report's version check earlier in the same
        /// transaction keeps two writers from taking the same numbers.
        async fn insert_attachments(
            tx: &mut sqlx::Transaction<'static, $db>,
            tracking_id: &str,
            event_seq: i64,
            at: Ts,
            files: &[NewAttachment],
        ) -> Result<()> {
            if files.is_empty() {
                return Ok(());
            }
            let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM attachments WHERE tracking_id = $1")
                .bind(tracking_id)
                .fetch_one(&mut **tx)
                .await
                .map_err(db_err)?;
            for (i, a) in files.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO attachments (id, tracking_id, seq, media_type, filename, size, sha256, data, created_at, event_seq) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(a.id.as_str())
                .bind(tracking_id)
                .bind(first + i as i64)
                .bind(a.media_type.as_str())
                .bind(a.filename.as_str())
                .bind(a.data.len() as i64)
                .bind(a.sha256.as_str())
                .bind(a.data.as_slice())
                .bind(at)
                .bind(event_seq)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }

        fn attachment_from_row(row: &$row) -> Result<AttachmentMeta> {
            Ok(AttachmentMeta {
                id: get(row, "id")?,
                tracking_id: get(row, "tracking_id")?,
                seq: get(row, "seq")?,
                event_seq: get(row, "event_seq")?,
                media_type: get(row, "media_type")?,
                filename: get(row, "filename")?,
                size: get(row, "size")?,
                sha256: get(row, "sha256")?,
                created_at: get::<Ts>(row, "created_at")?.0,
            })
        }

        async fn insert_audit(tx: &mut sqlx::Transaction<'static, $db>, a: &AuditEntry) -> Result<()> {
            sqlx::query("INSERT INTO audit_log (at, user_id, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(Ts::new(a.at))
                .bind(a.user_id.as_deref())
                .bind(a.action.as_str())
                .bind(a.target.as_str())
                .bind(a.detail.as_deref())
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        }

        fn institution_from_row(row: &$row) -> Result<Institution> {
            Ok(Institution {
                code: get(row, "code")?,
                name: get(row, "name")?,
                kind: parse_enum(&get::<String>(row, "kind")?, InstitutionKind::parse, "kind")?,
                parent: get(row, "parent_code")?,
                region_code: get(row, "region_code")?,
                zone: parse_enum(&get::<String>(row, "zone")?, Zone::parse, "zone")?,
            })
        }

        fn region_from_row(row: &$row) -> Result<Region> {
            Ok(Region {
                code: get(row, "code")?,
                level: get(row, "level")?,
                parent_code: get(row, "parent_code")?,
                name: get(row, "name")?,
                postal_code: get(row, "postal_code")?,
            })
        }

        impl $store {
            async fn begin_write(&self) -> Result<sqlx::Transaction<'static, $db>> {
                self.writer.begin_with(Self::BEGIN_WRITE).await.map_err(db_err)
            }

            async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>> {
                let rows = sqlx::query("SELECT role, institution FROM memberships WHERE user_id = $1 ORDER BY role, institution")
                    .bind(user_id)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(Membership {
                            role: parse_enum(&get::<String>(r, "role")?, Role::parse, "role")?,
                            institution: get(r, "institution")?,
                        })
                    })
                    .collect()
            }

            /// Orders search terms by how many reports hold them (counted up
            /// to a cap, so a common term costs a bounded index scan).
            async fn rarest_first(&self, terms: &mut Vec<String>) -> Result<()> {
                const CAP: i64 = 5_000;
                let mut counted = Vec::with_capacity(terms.len());
                for t in terms.drain(..) {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM report_terms WHERE term = $1 LIMIT $2) capped",
                    )
                    .bind(t.as_str())
                    .bind(CAP)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_err)?;
                    counted.push((n, t));
                }
                counted.sort_by_key(|(n, _)| *n);
                terms.extend(counted.into_iter().map(|(_, t)| t));
                Ok(())
            }

            async fn user_from_row(&self, row: &$row) -> Result<User> {
                let id: String = get(row, "id")?;
                Ok(User {
                    memberships: self.memberships(&id).await?,
                    id,
                    email: get(row, "email")?,
                    phone: get(row, "phone")?,
                    name: get(row, "name")?,
                    is_staff: get(row, "is_staff")?,
                    notify_email: get(row, "notify_email")?,
                    notify_sms: get(row, "notify_sms")?,
                })
            }
        }


        /// Writes a batch of new reports in one transaction (see `intake`).
        pub(crate) struct Writer(pub(crate) sqlx::Pool<$db>);

        impl crate::intake::BatchWriter for Writer {
            async fn write_batch(&self, batch: &[&NewReport]) -> Result<Vec<CreateOutcome>> {
                let mut tx = self.0.begin_with(<$store>::BEGIN_WRITE).await.map_err(db_err)?;
                // Idempotency: keys already stored, and repeats inside the batch.
                let keys: Vec<&str> = batch.iter().filter_map(|n| n.idempotency_key.as_deref()).collect();
                let mut known: std::collections::HashMap<String, TrackingId> = std::collections::HashMap::new();
                if !keys.is_empty() {
                    let sql = format!(
                        "SELECT tracking_id, idempotency_key FROM reports WHERE idempotency_key IN ({})",
                        bind_params(1, keys.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for k in &keys {
                        q = q.bind(*k);
                    }
                    for row in q.fetch_all(&mut *tx).await.map_err(db_err)? {
                        let id: String = get(&row, "tracking_id")?;
                        known.insert(get(&row, "idempotency_key")?, TrackingId::parse(&id)?);
                    }
                }
                let mut outcomes = Vec::with_capacity(batch.len());
                let mut fresh: Vec<&NewReport> = Vec::with_capacity(batch.len());
                for n in batch {
                    match n.idempotency_key.as_ref().and_then(|k| known.get(k)) {
                        Some(id) => outcomes.push(CreateOutcome::Duplicate(id.clone())),
                        None => {
                            if let Some(k) = &n.idempotency_key {
                                known.insert(k.clone(), n.report.tracking_id.clone());
                            }
                            outcomes.push(CreateOutcome::Created);
                            fresh.push(n);
                        }
                    }
                }
                if fresh.is_empty() {
                    tx.rollback().await.map_err(db_err)?;
                    return Ok(outcomes);
                }
                let reporters: Vec<(&ReporterIdentity, Ts)> =
                    fresh.iter().filter_map(|n| n.new_reporter.as_ref().map(|r| (r, Ts::new(n.report.submitted_at)))).collect();
                for reporters in crate::intake::shaped_chunks(&reporters) {
                    let rows: Vec<String> = (0..reporters.len()).map(|i| format!("({})", bind_params(i * 6 + 1, 6))).collect();
                    let sql = format!("INSERT INTO reporters (id, user_id, name, email, phone, created_at) VALUES {}", rows.join(", "));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (r, at) in reporters {
                        q = q.bind(r.id.as_str()).bind(r.user_id.as_deref()).bind(r.name.as_deref()).bind(r.email.as_deref()).bind(r.phone.as_deref()).bind(*at);
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                for chunk in crate::intake::shaped_chunks(&fresh) {
                    let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * REPORT_BINDS + 1, REPORT_BINDS))).collect();
                    let sql = format!("INSERT INTO reports ({REPORT_COLS}, pin_hash, idempotency_key) VALUES {}", rows.join(", "));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for n in chunk {
                        q = bind_report(q, &n.report, n.wake_at).bind(n.pin_hash.as_str()).bind(n.idempotency_key.as_deref());
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                let mut tallies = std::collections::BTreeMap::new();
                for t in fresh.iter().filter_map(|n| crate::overdue::Tracked::of(&n.report)) {
                    crate::overdue::add(&mut tallies, &t, 1);
                }
                add_overdue_tallies(&mut tx, &tallies).await?;
                let events: Vec<&Event> = fresh.iter().map(|n| &n.event).collect();
                insert_events(&mut tx, &events).await?;
                let submitted: Vec<_> = events.iter().filter_map(|e| lapor_domain::rollup::submitted(e)).collect();
                add_rollups(&mut tx, &submitted).await?;
                let reports: Vec<&Report> = fresh.iter().map(|n| &n.report).collect();
                insert_postings(&mut tx, &reports).await?;
                for n in &fresh {
                    insert_attachments(&mut tx, n.report.tracking_id.as_str(), 1, Ts::new(n.report.submitted_at), &n.attachments).await?;
                }
                let outbox: Vec<(&OutboxMessage, Ts)> =
                    fresh.iter().flat_map(|n| n.outbox.iter().map(|m| (m, Ts::new(n.report.submitted_at)))).collect();
                insert_outbox_rows(&mut tx, &outbox).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(outcomes)
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                Self::BACKEND
            }

            async fn migrate(&self) -> Result<Vec<i64>> {
                // Indexes an interrupted bulk load set aside come back
                // first, before any migration could expect them. The table
                // exists from migration 17; before it nothing is pending.
                let table: i64 = sqlx::query_scalar(<$store>::TABLE_EXISTS)
                    .bind("deferred_indexes")
                    .fetch_one(&self.writer)
                    .await
                    .map_err(db_err)?;
                let pending: i64 = if table > 0 {
                    sqlx::query_scalar("SELECT COUNT(*) FROM deferred_indexes")
                        .fetch_one(&self.writer)
                        .await
                        .map_err(db_err)?
                } else {
                    0
                };
                if pending > 0 {
                    tracing::warn!(pending, "making again the indexes an interrupted bulk load set aside");
                    crate::rollups::Rollups::restore_indexes(self, &|_, _| {}).await?;
                }
                let mut tx = self.begin_write().await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                )
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let mut applied = Vec::new();
                for (version, sql) in Self::MIGRATIONS {
                    if done.contains(version) {
                        continue;
                    }
                    sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&mut *tx).await.map_err(db_err)?;
                    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(*version)
                        .bind(Ts::now().millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    applied.push(*version);
                }
                // Migration 19 makes the overdue tallies; the reports
                // already stored fill them.
                if applied.contains(&19) {
                    recount_overdue(&mut tx).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(applied)
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_err)?;
                Ok(())
            }

            async fn upsert_regions(&self, rows: &[Region]) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                for chunk in rows.chunks(200) {
                    let mut sql = String::from("INSERT INTO regions (code, level, parent_code, name, postal_code) VALUES ");
                    let vals: Vec<String> = (0..chunk.len()).map(|i| format!("({})", bind_params(i * 5 + 1, 5))).collect();
                    sql.push_str(&vals.join(", "));
                    sql.push_str(
                        " ON CONFLICT (code) DO UPDATE SET level = excluded.level, parent_code = excluded.parent_code, \
                         name = excluded.name, postal_code = excluded.postal_code",
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for r in chunk {
                        q = q.bind(r.code.as_str()).bind(r.level).bind(r.parent_code.as_deref()).bind(r.name.as_str()).bind(r.postal_code.as_deref());
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(rows.len() as u64)
            }

            async fn region(&self, code: &str) -> Result<Option<Region>> {
                let row = sqlx::query("SELECT code, level, parent_code, name, postal_code FROM regions WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(region_from_row).transpose()
            }

            async fn regions(&self, rq: &RegionQuery) -> Result<Vec<Region>> {
                let mut conds = Vec::new();
                let mut args = Vec::new();
                if let Some(p) = &rq.parent {
                    args.push(Arg::Text(p.clone()));
                    conds.push(format!("parent_code = ${}", args.len()));
                }
                if let Some(l) = rq.level {
                    args.push(Arg::I64(l));
                    conds.push(format!("level = ${}", args.len()));
                }
                if let Some(n) = &rq.name_contains {
                    args.push(Arg::Text(format!("%{}%", n.to_lowercase())));
                    conds.push(format!("lower(name) LIKE ${}", args.len()));
                }
                let mut sql = String::from("SELECT code, level, parent_code, name, postal_code FROM regions");
                if !conds.is_empty() {
                    sql.push_str(" WHERE ");
                    sql.push_str(&conds.join(" AND "));
                }
                sql.push_str(&format!(" ORDER BY code LIMIT {}", rq.limit.clamp(1, 1000)));
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(region_from_row).collect()
            }

            async fn region_counts(&self) -> Result<[i64; 4]> {
                let rows = sqlx::query("SELECT level, COUNT(*) AS n FROM regions GROUP BY level")
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                let mut out = [0i64; 4];
                for r in &rows {
                    let level: i64 = get(r, "level")?;
                    if (1..=4).contains(&level) {
                        out[(level - 1) as usize] = get(r, "n")?;
                    }
                }
                Ok(out)
            }

            async fn upsert_institutions(&self, rows: &[Institution]) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let now = Ts::now();
                for i in rows {
                    sqlx::query(
                        "INSERT INTO institutions (code, name, kind, parent_code, region_code, zone, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                         kind = excluded.kind, parent_code = excluded.parent_code, region_code = excluded.region_code, \
                         zone = excluded.zone",
                    )
                    .bind(i.code.as_str())
                    .bind(i.name.as_str())
                    .bind(i.kind.as_str())
                    .bind(i.parent.as_deref())
                    .bind(i.region_code.as_deref())
                    .bind(i.zone.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(rows.len() as u64)
            }

            async fn institution(&self, code: &str) -> Result<Option<Institution>> {
                let row = sqlx::query("SELECT code, name, kind, parent_code, region_code, zone FROM institutions WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(institution_from_row).transpose()
            }

            async fn institutions(&self, iq: &InstitutionQuery) -> Result<Vec<Institution>> {
                let mut conds = Vec::new();
                let mut args = Vec::new();
                match iq.parent.as_deref() {
                    Some("") => conds.push("parent_code IS NULL".to_string()),
                    Some(p) => {
                        args.push(Arg::Text(p.to_string()));
                        conds.push(format!("parent_code = ${}", args.len()));
                    }
                    None => {}
                }
                if let Some(k) = iq.kind {
                    args.push(Arg::Text(k.as_str().to_string()));
                    conds.push(format!("kind = ${}", args.len()));
                }
                if let Some(n) = &iq.name_contains {
                    args.push(Arg::Text(format!("%{}%", n.to_lowercase())));
                    conds.push(format!("(lower(name) LIKE ${0} OR code LIKE ${0})", args.len()));
                }
                if let Some(r) = &iq.region_code {
                    args.push(Arg::Text(r.clone()));
                    conds.push(format!("region_code = ${}", args.len()));
                }
                let mut sql = String::from("SELECT code, name, kind, parent_code, region_code, zone FROM institutions");
                if !conds.is_empty() {
                    sql.push_str(" WHERE ");
                    sql.push_str(&conds.join(" AND "));
                }
                sql.push_str(&format!(" ORDER BY code LIMIT {}", iq.limit.clamp(1, 1000)));
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(institution_from_row).collect()
            }

            async fn institution_path(&self, code: &str) -> Result<Vec<String>> {
                let rows = sqlx::query(
                    "WITH RECURSIVE up(code, parent_code, depth) AS ( \
                       SELECT code, parent_code, 0 FROM institutions WHERE code = $1 \
                       UNION ALL SELECT i.code, i.parent_code, up.depth + 1 FROM institutions i \
                       JOIN up ON i.code = up.parent_code WHERE up.depth < 32) \
                     SELECT code FROM up ORDER BY depth DESC",
                )
                .bind(code)
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(|r| get::<String>(r, "code")).collect()
            }

            async fn institution_count(&self) -> Result<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM institutions").fetch_one(&self.reader).await.map_err(db_err)
            }

            async fn upsert_categories(&self, rows: &[Category]) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                for c in rows {
                    sqlx::query(
                        "INSERT INTO categories (code, name_id, name_en) VALUES ($1, $2, $3) \
                         ON CONFLICT (code) DO UPDATE SET name_id = excluded.name_id, name_en = excluded.name_en",
                    )
                    .bind(c.code.as_str())
                    .bind(c.name_id.as_str())
                    .bind(c.name_en.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(rows.len() as u64)
            }

            async fn categories(&self) -> Result<Vec<Category>> {
                let rows = sqlx::query("SELECT code, name_id, name_en FROM categories ORDER BY code")
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| Ok(Category { code: get(r, "code")?, name_id: get(r, "name_id")?, name_en: get(r, "name_en")? }))
                    .collect()
            }

            async fn create_user(&self, u: &NewUser) -> Result<User> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO users (id, email, phone, name, password_hash, is_staff, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(u.id.as_str())
                .bind(u.email.as_deref())
                .bind(u.phone.as_deref())
                .bind(u.name.as_str())
                .bind(u.password_hash.as_str())
                .bind(u.is_staff)
                .bind(Ts::now())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if !u.is_staff {
                    // A citizen account is also a reporter identity.
                    sqlx::query("INSERT INTO reporters (id, user_id, name, email, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(format!("r-{}", u.id))
                        .bind(u.id.as_str())
                        .bind(u.name.as_str())
                        .bind(u.email.as_deref())
                        .bind(u.phone.as_deref())
                        .bind(Ts::now())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                for m in &u.memberships {
                    sqlx::query("INSERT INTO memberships (user_id, role, institution) VALUES ($1, $2, $3)")
                        .bind(u.id.as_str())
                        .bind(m.role.as_str())
                        .bind(m.institution.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(User {
                    id: u.id.clone(),
                    email: u.email.clone(),
                    phone: u.phone.clone(),
                    name: u.name.clone(),
                    is_staff: u.is_staff,
                    memberships: u.memberships.clone(),
                    notify_email: true,
                    notify_sms: true,
                })
            }

            async fn add_membership(&self, user_id: &str, m: &Membership) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO memberships (user_id, role, institution) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(user_id)
                    .bind(m.role.as_str())
                    .bind(m.institution.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn user_by_login(&self, login: &str) -> Result<Option<(User, String)>> {
                let row = sqlx::query(
                    "SELECT id, email, phone, name, is_staff, notify_email, notify_sms, password_hash FROM users WHERE email = $1 OR phone = $1",
                )
                .bind(login)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => {
                        let hash: String = get(&r, "password_hash")?;
                        Ok(Some((self.user_from_row(&r).await?, hash)))
                    }
                }
            }

            async fn user(&self, id: &str) -> Result<Option<User>> {
                let row = sqlx::query("SELECT id, email, phone, name, is_staff, notify_email, notify_sms FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some(self.user_from_row(&r).await?)),
                }
            }

            async fn create_token(&self, t: &NewToken) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO tokens (token_hash, user_id, kind, created_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(t.token_hash.as_str())
                    .bind(t.user_id.as_str())
                    .bind(t.kind.as_str())
                    .bind(t.created_at)
                    .bind(t.expires_at)
                    .bind(t.user_agent.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                // A session or bearer token is a sign-in (indicator 12).
                if matches!(t.kind, TokenKind::Session | TokenKind::Bearer) {
                    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
                        .bind(t.created_at)
                        .bind(t.user_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn user_by_token(&self, token_hash: &str, kind: TokenKind, now: Ts) -> Result<Option<User>> {
                let row = sqlx::query(
                    "SELECT u.id, u.email, u.phone, u.name, u.is_staff, u.notify_email, u.notify_sms FROM tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > $3 AND u.disabled = FALSE",
                )
                .bind(token_hash)
                .bind(kind.as_str())
                .bind(now)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some(self.user_from_row(&r).await?)),
                }
            }

            async fn delete_token(&self, token_hash: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn create_report(&self, n: &NewReport) -> Result<CreateOutcome> {
                self.intake.submit(n.clone()).await
            }

            async fn report(&self, id: &TrackingId) -> Result<Option<StoredReport>> {
                let sql = format!("SELECT {REPORT_COLS}, pin_hash FROM reports WHERE tracking_id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.as_str())
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some(StoredReport { report: report_from_row(&r)?, pin_hash: get(&r, "pin_hash")? })),
                }
            }

            async fn append(&self, c: &Change) -> Result<()> {
                let mut tx = self.begin_write().await?;
                if let Some(key) = &c.idempotency_key {
                    let fresh = sqlx::query(
                        "INSERT INTO action_keys (key, tracking_id, seq, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(key.as_str())
                    .bind(c.report.tracking_id.as_str())
                    .bind(c.report.version)
                    .bind(c.events.last().map(|e| Ts::new(e.at)).unwrap_or_else(Ts::now))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                    if fresh == 0 {
                        tx.rollback().await.map_err(db_err)?;
                        return Err(Error::with(lapor_domain::ErrorCode::Conflict, crate::DUPLICATE_ACTION));
                    }
                }
                // Where the report stood, for the overdue tallies: the
                // version check below makes sure nothing changed it since.
                let before = sqlx::query(
                    "SELECT status, stage, due_at, unit, institution, classification, category, channel \
                     FROM reports WHERE tracking_id = $1",
                )
                .bind(c.report.tracking_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                let before = match &before {
                    Some(r) => {
                        let text = |col: &str| get::<String>(r, col);
                        let opt = |col: &str| get::<Option<String>>(r, col);
                        let (status, classification, channel) = (text("status")?, text("classification")?, text("channel")?);
                        let (stage, unit, institution, category) = (opt("stage")?, opt("unit")?, opt("institution")?, opt("category")?);
                        crate::overdue::Columns {
                            status: &status,
                            stage: stage.as_deref(),
                            due_at: get::<Option<Ts>>(r, "due_at")?.map(|t| t.0),
                            unit: unit.as_deref(),
                            institution: institution.as_deref(),
                            classification: &classification,
                            category: category.as_deref(),
                            channel: &channel,
                        }
                        .tracked()
                    }
                    None => None,
                };
                let assignments: Vec<String> = REPORT_COLS
                    .split(", ")
                    .enumerate()
                    .skip(1)
                    .map(|(i, col)| format!("{col} = ${}", i + 1))
                    .collect();
                let sql = format!(
                    "UPDATE reports SET {} WHERE tracking_id = $1 AND version = ${}",
                    assignments.join(", "),
                    assignments.len() + 2
                );
                let res = bind_report(sqlx::query(sqlx::AssertSqlSafe(sql)), &c.report, c.wake_at)
                    .bind(c.expected_version)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if res.rows_affected() != 1 {
                    tx.rollback().await.map_err(db_err)?;
                    return Err(Error::new(lapor_domain::ErrorCode::StaleVersion));
                }
                let after = crate::overdue::Tracked::of(&c.report);
                add_overdue_tallies(&mut tx, &crate::overdue::change(before.as_ref(), after.as_ref())).await?;
                insert_events(&mut tx, &c.events.iter().collect::<Vec<_>>()).await?;
                add_rollups(&mut tx, &c.rollup).await?;
                let now = c.events.last().map(|e| Ts::new(e.at)).unwrap_or_else(Ts::now);
                let last_seq = c.events.last().map(|e| e.seq).unwrap_or(c.report.version);
                insert_attachments(&mut tx, c.report.tracking_id.as_str(), last_seq, now, &c.attachments).await?;
                if c.reindex {
                    // The text changed: its search postings follow in the same commit.
                    sqlx::query("DELETE FROM report_terms WHERE doc = $1")
                        .bind(c.report.tracking_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    insert_postings(&mut tx, &[&c.report]).await?;
                }
                insert_outbox_rows(&mut tx, &c.outbox.iter().map(|m| (m, now)).collect::<Vec<_>>()).await?;
                for a in &c.audit {
                    insert_audit(&mut tx, a).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn events(&self, id: &TrackingId) -> Result<Vec<Event>> {
                let rows = sqlx::query(
                    "SELECT tracking_id, seq, at, actor, from_status, to_status, from_institution, to_institution, \
                     visibility, body, data FROM report_events WHERE tracking_id = $1 ORDER BY seq",
                )
                .bind(id.as_str())
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(event_from_row).collect()
            }

            async fn export_reports(&self, f: &ReportFilter, out: tokio::sync::mpsc::Sender<Vec<ReportSummary>>) -> Result<u64> {
                use futures_util::TryStreamExt;
                if let Some(aggregate) = <$store>::EXPORT_PAGE.filter(|_| f.terms.is_empty()) {
                    return export_pages(&self.reader, f, aggregate, out).await;
                }
                let Some((sql, args)) = f.to_export_sql() else {
                    return Ok(0);
                };
                let mut rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args).fetch(&self.reader);
                let mut batch = Vec::with_capacity(EXPORT_BATCH);
                let mut read = 0u64;
                while let Some(row) = rows.try_next().await.map_err(db_err)? {
                    let t = |col: &str| get::<Option<Ts>>(&row, col).map(|v| v.map(|t| t.0));
                    batch.push(ReportSummary {
                        tracking_id: get(&row, "tracking_id")?,
                        submitted_at: get::<Ts>(&row, "submitted_at")?.0,
                        status: get(&row, "status")?,
                        classification: get(&row, "classification")?,
                        category: get(&row, "category")?,
                        channel: get(&row, "channel")?,
                        region_code: get(&row, "region_code")?,
                        institution: get(&row, "institution")?,
                        unit: get(&row, "unit")?,
                        due_at: t("due_at")?,
                        first_response_at: t("first_response_at")?,
                        completed_at: t("completed_at")?,
                        rating: get(&row, "rating")?,
                        transfer_count: get(&row, "transfer_count")?,
                        reopen_count: get(&row, "reopen_count")?,
                        anonymous: get(&row, "anonymous")?,
                        confidential: get(&row, "confidential")?,
                    });
                    read += 1;
                    if batch.len() == EXPORT_BATCH && out.send(std::mem::replace(&mut batch, Vec::with_capacity(EXPORT_BATCH))).await.is_err() {
                        return Ok(read);
                    }
                }
                if !batch.is_empty() {
                    let _ = out.send(batch).await;
                }
                Ok(read)
            }

            async fn list_reports(&self, f: &ReportFilter) -> Result<ReportPage> {
                let mut ordered;
                let f = if f.terms.len() > 1 {
                    ordered = f.clone();
                    self.rarest_first(&mut ordered.terms).await?;
                    &ordered
                } else {
                    f
                };
                let Some((sql, args)) = f.to_sql() else {
                    return Ok(ReportPage { items: vec![], next_cursor: None });
                };
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                let mut items = rows.iter().map(report_from_row).collect::<Result<Vec<_>>>()?;
                let limit = f.limit.clamp(1, 500) as usize;
                let next_cursor = if items.len() > limit {
                    items.truncate(limit);
                    items.last().map(|r| {
                        Cursor { submitted_at_ms: r.submitted_at.timestamp_millis(), tracking_id: r.tracking_id.to_string() }
                            .encode()
                    })
                } else {
                    None
                };
                Ok(ReportPage { items, next_cursor })
            }

            async fn report_texts(&self, f: &ReportFilter, limit: usize) -> Result<Vec<ReportText>> {
                let Some((sql, args)) = f.to_texts_sql(limit) else {
                    return Ok(vec![]);
                };
                let rows = bind_args(sqlx::query(sqlx::AssertSqlSafe(sql)), &args)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(ReportText {
                            tracking_id: get(r, "tracking_id")?,
                            submitted_at: get::<Ts>(r, "submitted_at")?.0,
                            title: get(r, "title")?,
                            body: get(r, "body")?,
                            channel: get(r, "channel")?,
                            transfer_count: get(r, "transfer_count")?,
                        })
                    })
                    .collect()
            }

            async fn reporter(&self, id: &str) -> Result<Option<ReporterIdentity>> {
                let row = sqlx::query("SELECT id, user_id, name, email, phone FROM reporters WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                row.map(|r| {
                    Ok(ReporterIdentity {
                        id: get(&r, "id")?,
                        user_id: get(&r, "user_id")?,
                        name: get(&r, "name")?,
                        email: get(&r, "email")?,
                        phone: get(&r, "phone")?,
                    })
                })
                .transpose()
            }

            async fn reporter_for_user(&self, user_id: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT id FROM reporters WHERE user_id = $1 ORDER BY created_at LIMIT 1")
                    .bind(user_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn setting_or_init(&self, key: &str, value: &str) -> Result<String> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let v: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(v)
            }

            async fn setting(&self, key: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)
            }

            async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn write_audit(&self, a: &AuditEntry) -> Result<()> {
                let mut tx = self.begin_write().await?;
                insert_audit(&mut tx, a).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn audit_entries(&self, target: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
                let rows = sqlx::query(
                    "SELECT at, user_id, action, target, detail FROM audit_log \
                     WHERE ($1 IS NULL OR target = $1) ORDER BY id DESC LIMIT $2",
                )
                .bind(target)
                .bind(limit.clamp(1, 1000))
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(AuditEntry {
                            at: get::<Ts>(r, "at")?.0,
                            user_id: get(r, "user_id")?,
                            action: get(r, "action")?,
                            target: get(r, "target")?,
                            detail: get(r, "detail")?,
                        })
                    })
                    .collect()
            }

            async fn outbox(&self, limit: i64) -> Result<Vec<OutboxRow>> {
                let rows = sqlx::query("SELECT id, topic, key, payload, state, attempts FROM outbox ORDER BY id LIMIT $1")
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let Json(payload): Json<serde_json::Value> = get(r, "payload")?;
                        Ok(OutboxRow {
                            id: get(r, "id")?,
                            topic: get(r, "topic")?,
                            key: get(r, "key")?,
                            payload,
                            state: get(r, "state")?,
                            attempts: get(r, "attempts")?,
                        })
                    })
                    .collect()
            }

            async fn outbox_count(&self) -> Result<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&self.reader).await.map_err(db_err)
            }

            async fn set_notification_prefs(&self, user_id: &str, email: bool, sms: bool) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE users SET notify_email = $1, notify_sms = $2 WHERE id = $3")
                    .bind(email)
                    .bind(sms)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)
            }

            async fn attachments(&self, id: &TrackingId) -> Result<Vec<AttachmentMeta>> {
                let rows = sqlx::query(
                    "SELECT id, tracking_id, seq, event_seq, media_type, filename, size, sha256, created_at FROM attachments \
                     WHERE tracking_id = $1 ORDER BY seq",
                )
                .bind(id.as_str())
                .fetch_all(&self.reader)
                .await
                .map_err(db_err)?;
                rows.iter().map(attachment_from_row).collect()
            }

            async fn attachment(&self, attachment_id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
                let row = sqlx::query(
                    "SELECT id, tracking_id, seq, event_seq, media_type, filename, size, sha256, created_at, data FROM attachments \
                     WHERE id = $1",
                )
                .bind(attachment_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_err)?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some((attachment_from_row(&r)?, get(&r, "data")?))),
                }
            }

            async fn add_support(&self, id: &TrackingId, supporter: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "INSERT INTO supports (tracking_id, supporter, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(id.as_str())
                .bind(supporter)
                .bind(Ts::now())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(res.rows_affected() == 1)
            }

            async fn has_supported(&self, id: &TrackingId, supporter: &str) -> Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM supports WHERE tracking_id = $1 AND supporter = $2")
                    .bind(id.as_str())
                    .bind(supporter)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_err)?;
                Ok(n > 0)
            }

            async fn support_counts(&self, ids: &[TrackingId]) -> Result<std::collections::HashMap<String, i64>> {
                let mut out = std::collections::HashMap::new();
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "SELECT tracking_id, COUNT(*) AS n FROM supports WHERE tracking_id IN ({}) GROUP BY tracking_id",
                        bind_params(1, chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for r in q.fetch_all(&self.reader).await.map_err(db_err)? {
                        out.insert(get(&r, "tracking_id")?, get(&r, "n")?);
                    }
                }
                Ok(out)
            }

            async fn public_stats(&self) -> Result<PublicStats> {
                let sql = format!(
                    "SELECT COUNT(*) AS reports, \
                     COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed, \
                     COALESCE(SUM(CASE WHEN status IN ('dispositioned', 'in_progress') THEN 1 ELSE 0 END), 0) AS in_progress, \
                     COUNT(DISTINCT institution) AS institutions_involved \
                     FROM reports WHERE {}",
                    crate::filter::PUBLIC_CONDITION
                );
                let r = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&self.reader).await.map_err(db_err)?;
                Ok(PublicStats {
                    reports: get(&r, "reports")?,
                    completed: get(&r, "completed")?,
                    in_progress: get(&r, "in_progress")?,
                    institutions_involved: get(&r, "institutions_involved")?,
                })
            }

            async fn analyze(&self) -> Result<()> {
                // Outside a transaction: PostgreSQL's VACUUM refuses to run in one.
                sqlx::raw_sql(<$store>::ANALYZE).execute(&self.writer).await.map_err(db_err)?;
                Ok(())
            }

            async fn ensure_search_index(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
                let want = lapor_domain::search::VERSION.to_string();
                let have: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'search_version'")
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_err)?;
                if have.as_deref() == Some(want.as_str()) {
                    return Ok(0);
                }
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&self.reader).await.map_err(db_err)?;
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM report_terms").execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                // Re-indexes in keyset-ordered slices, one transaction each.
                // New reports written meanwhile index themselves.
                let mut after = String::new();
                let mut done = 0u64;
                loop {
                    let sql = format!(
                        "SELECT {REPORT_COLS} FROM reports WHERE tracking_id > $1 ORDER BY tracking_id LIMIT 2000"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(after.as_str())
                        .fetch_all(&self.reader)
                        .await
                        .map_err(db_err)?;
                    if rows.is_empty() {
                        break;
                    }
                    let reports = rows.iter().map(report_from_row).collect::<Result<Vec<_>>>()?;
                    let mut tx = self.begin_write().await?;
                    let ids: Vec<&str> = reports.iter().map(|r| r.tracking_id.as_str()).collect();
                    let del = format!("DELETE FROM report_terms WHERE doc IN ({})", bind_params(1, ids.len()));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(del));
                    for id in &ids {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                    insert_postings(&mut tx, &reports.iter().collect::<Vec<_>>()).await?;
                    tx.commit().await.map_err(db_err)?;
                    done += reports.len() as u64;
                    progress(done, total.max(0) as u64);
                    after = reports.last().map(|r| r.tracking_id.to_string()).unwrap_or_default();
                }
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ('search_version', $1) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(want.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(done)
            }
        }
    };
}

pub(crate) use backend_impl;
