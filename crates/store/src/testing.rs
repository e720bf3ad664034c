//! Helpers for tests that need a real database: a fresh SQLite file, or a
//! uniquely named PostgreSQL database that is dropped afterwards.

use crate::{PgStore, SqliteStore, Store, StoreOptions};
use sqlx::Connection;
use std::sync::Arc;

/// A database that exists for one test and is removed on drop.
pub struct TestDb {
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    None,
    File(std::path::PathBuf),
    Pg { admin_url: String, name: String },
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let TestUrl { url, cleanup } = TestUrl::sqlite();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&url, &StoreOptions::default())
                .await
                .expect("open sqlite"),
        );
        store.migrate().await.expect("migrate sqlite");
        TestDb { url, store, cleanup }
    }

    /// A database that is already there (a benchmark's kept history),
    /// migrated, and left in place afterwards.
    pub async fn existing(url: &str) -> TestDb {
        let store = crate::connect(url, &StoreOptions::default())
            .await
            .expect("open the database");
        store.migrate().await.expect("migrate");
        TestDb {
            url: url.to_string(),
            store,
            cleanup: Cleanup::None,
        }
    }

    /// A fresh database on the server at `LAPOR_TEST_PG_URL`, or None when
    /// the variable is unset.
    pub async fn postgres() -> Option<TestDb> {
        let TestUrl { url, cleanup } = TestUrl::postgres().await?;
        let store: Arc<dyn Store> = Arc::new(
            PgStore::open(&url, &StoreOptions::default())
                .await
                .expect("open postgres"),
        );
        store.migrate().await.expect("migrate postgres");
        Some(TestDb { url, store, cleanup })
    }

    /// Drops the database now (Drop does it too, best-effort).
    pub async fn close(mut self) {
        self.cleanup.now().await;
    }
}

/// An empty database that nothing in this process holds open, for tests
/// that run `lapor` processes against it or replace it (a restore); removed
/// on drop like a `TestDb`.
pub struct TestUrl {
    pub url: String,
    cleanup: Cleanup,
}

impl TestUrl {
    /// A path for a SQLite file in a fresh folder (the file is not made).
    pub fn sqlite() -> TestUrl {
        let dir = std::env::temp_dir().join(unique("lapor_test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("lapor.db");
        TestUrl {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::File(dir),
        }
    }

    /// A fresh, empty database on the server at `LAPOR_TEST_PG_URL`, or
    /// None when the variable is unset.
    pub async fn postgres() -> Option<TestUrl> {
        let admin_url = std::env::var("LAPOR_TEST_PG_URL").ok()?;
        let name = unique("lapor_test");
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("LAPOR_TEST_PG_URL is set but PostgreSQL is not reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        Some(TestUrl {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Pg { admin_url, name },
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Pg { .. })
    }

    /// Drops the database now (Drop does it too, best-effort).
    pub async fn close(mut self) {
        self.cleanup.now().await;
    }
}

impl Cleanup {
    /// Only PostgreSQL needs the async drop; a SQLite folder is removed by
    /// `Drop` as usual.
    async fn now(&mut self) {
        if let Cleanup::Pg { admin_url, name } = &*self {
            drop_pg(admin_url, name).await;
            // Done: forgotten, so that Drop does not drop it a second time.
            std::mem::forget(std::mem::replace(self, Cleanup::None));
        }
    }
}

async fn drop_pg(admin_url: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
    }
}

/// The small reference tree every test uses: Jawa Barat → Kota Bandung →
/// Sukasari → Gegerkalong (postal code 40153) and DKI Jakarta as regions;
/// the national operator, Pemprov Jawa Barat, Pemkot Bandung with its Dishub
/// unit, Pemprov DKI Jakarta and Kementerian Kesehatan as institutions; and
/// the category `jalan`.
pub async fn seed_reference(store: &dyn Store) {
    use lapor_domain::calendar::Zone;
    use lapor_domain::institution::{Institution, InstitutionKind as K};
    let region = |code: &str, level, parent: Option<&str>, name: &str, postal: Option<&str>| crate::Region {
        code: code.into(),
        level,
        parent_code: parent.map(Into::into),
        name: name.into(),
        postal_code: postal.map(Into::into),
    };
    store
        .upsert_regions(&[
            region("32", 1, None, "Jawa Barat", None),
            region("32.73", 2, Some("32"), "Kota Bandung", None),
            region("32.73.01", 3, Some("32.73"), "Sukasari", None),
            region("32.73.01.1001", 4, Some("32.73.01"), "Gegerkalong", Some("40153")),
            region("31", 1, None, "DKI Jakarta", None),
        ])
        .await
        .expect("seed regions");
    let inst = |code: &str, kind, parent: Option<&str>, region: Option<&str>| Institution {
        code: code.into(),
        name: format!("Instansi {code}"),
        kind,
        parent: parent.map(Into::into),
        region_code: region.map(Into::into),
        zone: Zone::Wib,
    };
    store
        .upsert_institutions(&[
            inst("lapor", K::NationalOperator, None, None),
            inst("pemprov-32", K::Province, Some("lapor"), Some("32")),
            inst("pemkot-32.73", K::City, Some("pemprov-32"), Some("32.73")),
            inst("pemkot-32.73-dishub", K::Unit, Some("pemkot-32.73"), Some("32.73")),
            inst("pemprov-31", K::Province, Some("lapor"), Some("31")),
            inst("kemenkes", K::Ministry, Some("lapor"), None),
        ])
        .await
        .expect("seed institutions");
    store
        .upsert_categories(&[crate::Category {
            code: "jalan".into(),
            name_id: "Jalan".into(),
            name_en: "Roads".into(),
        }])
        .await
        .expect("seed categories");
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::None => {}
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Pg { admin_url, name } => {
                // Drop runs outside async; do it on a throwaway runtime thread.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        rt.block_on(drop_pg(&admin_url, &name));
                    }
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        use super::with_database;
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
