//! The demo seed: real regions, the national operator with ministries and
//! agencies, one regional government per province and regency/city, a few
//! units, starter categories, and one demo user per role. Safe to run again.

use crate::import;
use lapor_domain::institution::{Membership, Role};
use lapor_server::auth::{hash_password, new_id};
use lapor_store::{Category, NewUser, Store};
use std::path::Path;

pub const DEMO_PASSWORD: &str = "demo-lapor-2026";

/// (login, name, role or None for a citizen, institution)
pub const DEMO_USERS: &[(&str, &str, Option<Role>, &str)] = &[
    (
        "nasional@lapor.demo",
        "Admin Nasional",
        Some(Role::NationalAdmin),
        "lapor",
    ),
    (
        "admin.bandung@lapor.demo",
        "Admin Pemkot Bandung",
        Some(Role::InstitutionAdmin),
        "pemkot-32.73",
    ),
    (
        "unit.dishub@lapor.demo",
        "Admin Dishub Kota Bandung",
        Some(Role::UnitAdmin),
        "pemkot-32.73-dishub",
    ),
    (
        "penghubung.bandung@lapor.demo",
        "Pejabat Penghubung Kota Bandung",
        Some(Role::Liaison),
        "pemkot-32.73",
    ),
    (
        "pengawas.jabar@lapor.demo",
        "Pengawas Provinsi Jawa Barat",
        Some(Role::Supervisor),
        "pemprov-32",
    ),
    ("ombudsman@lapor.demo", "Ombudsman RI", Some(Role::Oversight), "lapor"),
    ("auditor@lapor.demo", "Auditor", Some(Role::Auditor), "lapor"),
    ("warga@lapor.demo", "Warga Demo", None, ""),
];

pub fn starter_categories() -> Vec<Category> {
    [
        ("jalan", "Jalan dan Jembatan", "Roads and bridges"),
        ("kesehatan", "Kesehatan", "Health"),
        ("pendidikan", "Pendidikan", "Education"),
        ("bansos", "Bantuan Sosial", "Social assistance"),
        ("adminduk", "Administrasi Kependudukan", "Civil registration"),
        (
            "lingkungan",
            "Lingkungan Hidup dan Kebersihan",
            "Environment and sanitation",
        ),
        ("transportasi", "Transportasi dan Lalu Lintas", "Transport and traffic"),
        ("listrik-air", "Listrik dan Air Bersih", "Electricity and water"),
        ("ketertiban", "Ketertiban dan Keamanan", "Public order and safety"),
        ("perizinan", "Perizinan", "Permits and licensing"),
        ("kepegawaian", "Kepegawaian dan Pelayanan ASN", "Civil service conduct"),
        ("lainnya", "Lainnya", "Other"),
    ]
    .into_iter()
    .map(|(c, i, e)| Category {
        code: c.into(),
        name_id: i.into(),
        name_en: e.into(),
    })
    .collect()
}

/// The demo admins' authenticator key (base32). National and institution
/// admins must sign in with a second factor; in the demo they share this
/// published key, so anyone trying the demo can add it to an authenticator
/// app (or run `lapor totp`). A real deployment never has such a key: each
/// admin enrols their own on first sign-in.
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

pub async fn seed(store: &dyn Store, data_dir: &Path, progress: bool) -> Result<(), String> {
    let counts = store.region_counts().await.map_err(|e| e.to_string())?;
    if counts[3] == 0 {
        tracing::info!("loading regions from {}", data_dir.join("regions").display());
        import::import_regions(store, &data_dir.join("regions"), progress).await?;
    }
    // The national operator first, then the generated regional governments,
    // then the curated list (whose units may sit under those governments).
    let path = data_dir.join("institutions/national.csv");
    let rows = import::read_csv(&path)?;
    let (root, rest): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|(_, r)| r.get(2) == Some("national_operator"));
    let root = import::check_institutions(store, &root)
        .await
        .map_err(|e| e.join("\n"))?;
    store.upsert_institutions(&root).await.map_err(|e| e.to_string())?;
    let regional = import::regional_governments(store).await?;
    store.upsert_institutions(&regional).await.map_err(|e| e.to_string())?;
    let rest = import::check_institutions(store, &rest)
        .await
        .map_err(|e| e.join("\n"))?;
    store.upsert_institutions(&rest).await.map_err(|e| e.to_string())?;
    store
        .upsert_categories(&starter_categories())
        .await
        .map_err(|e| e.to_string())?;

    let hash = hash_password(DEMO_PASSWORD).map_err(|e| e.to_string())?;
    for (login, name, role, inst) in DEMO_USERS {
        if store.user_by_login(login).await.map_err(|e| e.to_string())?.is_some() {
            continue;
        }
        let user = store
            .create_user(&NewUser {
                id: new_id("u-"),
                email: Some((*login).into()),
                phone: None,
                name: (*name).into(),
                password_hash: hash.clone(),
                is_staff: role.is_some(),
                memberships: role
                    .map(|r| Membership {
                        role: r,
                        institution: (*inst).into(),
                    })
                    .into_iter()
                    .collect(),
            })
            .await
            .map_err(|e| e.to_string())?;
        if lapor_server::staff_auth::second_factor_required(&user) {
            store
                .enroll_totp(&user.id, DEMO_TOTP_SECRET, &[])
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    // Two channel messages waiting in the handler inbox, so the verifier's
    // page shows what it is for (filed once: the keys are fixed).
    let now = chrono::Utc::now();
    for item in [
        lapor_store::NewInboxItem {
            key: "demo:twitter:1".into(),
            channel: "twitter".into(),
            sender: "1382947105638912001".into(),
            sender_name: Some("@warga_bdg".into()),
            received_at: now - chrono::Duration::hours(3),
            reason: "untagged".into(),
            text: "@LAPOR1708 lampu PJU di Jl. Riau Bandung mati sejak seminggu, gelap sekali kalau malam".into(),
            draft: None,
        },
        lapor_store::NewInboxItem {
            key: "demo:whatsapp:1".into(),
            channel: "whatsapp".into(),
            sender: "6281298765432".into(),
            sender_name: Some("Ibu Sari".into()),
            received_at: now - chrono::Duration::hours(1),
            reason: "abandoned".into(),
            text: "Sampah menumpuk di TPS Cicadas\nSampah di TPS Cicadas sudah tiga hari tidak diangkut dan baunya menyebar ke permukiman.".into(),
            draft: Some(serde_json::json!({
                "classification": "pengaduan",
                "title": "Sampah menumpuk di TPS Cicadas",
                "body": "Sampah di TPS Cicadas sudah tiga hari tidak diangkut dan baunya menyebar ke permukiman."
            })),
        },
    ] {
        store.file_inbox_item(&item).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
