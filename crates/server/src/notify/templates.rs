//! Notification templates: a built-in Indonesian and English version of
//! each, which admins may replace. Templates are MiniJinja rendered in a
//! sandbox: no file or network access, a fuel limit against runaway loops,
//! and plain text only. An edited template is compiled and rendered against
//! a sample of every variable when it is saved, so a broken one is refused
//! then (with its line and column) and never fails at send time; if one did
//! anyway, the built-in version is sent instead.

use lapor_domain::{Error, ErrorCode, Lang};
use lapor_store::{Store, StoredTemplate};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Upper bound on template evaluation steps; plenty for a digest of a
/// hundred items, far too little for a loop that never ends.
const FUEL: u64 = 200_000;
pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 20_000;
/// How long other processes' edits take to be seen.
const CACHE_TTL: Duration = Duration::from_secs(15);

/// One built-in template: (name, lang, subject, body).
type Builtin = (&'static str, &'static str, &'static str, &'static str);

const BUILTIN: &[Builtin] = &[
    (
        "reporter.receipt",
        "id",
        "Laporan {{ tracking_id }} diterima",
        "Terima kasih, laporan Anda telah kami terima.\n\nNomor laporan (Tracking ID): {{ tracking_id }}\nPIN: {{ pin }}\n\nSimpan PIN ini: bersama nomor laporan, PIN diperlukan untuk melihat perkembangan dan menanggapi tindak lanjut di {{ track_url }}\n\nLapor — Layanan Aspirasi dan Pengaduan Online Rakyat",
    ),
    (
        "reporter.receipt",
        "en",
        "Report {{ tracking_id }} received",
        "Thank you, we have received your report.\n\nTracking ID: {{ tracking_id }}\nPIN: {{ pin }}\n\nKeep this PIN: with the Tracking ID it lets you follow the report and answer follow-ups at {{ track_url }}\n\nLapor — public service complaints",
    ),
    (
        "reporter.update",
        "id",
        "Laporan {{ tracking_id }}: {{ status_label }}",
        "Ada perkembangan pada laporan Anda {{ tracking_id }} ({{ title }}).\n\nStatus: {{ status_label }}{% if institution %}\nInstansi: {{ institution }}{% endif %}{% if body %}\n\n{{ body }}{% endif %}{% if kind == \"ombudsman_offered\" %}\n\nAnda dapat menyetujui eskalasi ke Ombudsman pada halaman laporan.{% endif %}{% if due_date %}\n\nBatas waktu tahap berikutnya: {{ due_date }}{% endif %}\n\nLihat dan tanggapi: {{ track_url }}",
    ),
    (
        "reporter.update",
        "en",
        "Report {{ tracking_id }}: {{ status_label }}",
        "There is news on your report {{ tracking_id }} ({{ title }}).\n\nStatus: {{ status_label }}{% if institution %}\nInstitution: {{ institution }}{% endif %}{% if body %}\n\n{{ body }}{% endif %}{% if kind == \"ombudsman_offered\" %}\n\nYou may consent to escalation to the Ombudsman on the report's page.{% endif %}{% if due_date %}\n\nNext deadline: {{ due_date }}{% endif %}\n\nView and answer: {{ track_url }}",
    ),
    (
        "staff.reminder",
        "id",
        "Pengingat: laporan {{ tracking_id }} jatuh tempo {{ due_date }}",
        "Yth. {{ name }},\n\nLaporan {{ tracking_id }} ({{ title }}) pada tahap {{ stage_label }} harus ditangani paling lambat {{ due_date }}.\n\nBuka laporan: {{ report_url }}",
    ),
    (
        "staff.reminder",
        "en",
        "Reminder: report {{ tracking_id }} is due {{ due_date }}",
        "Dear {{ name }},\n\nReport {{ tracking_id }} ({{ title }}) at the {{ stage_label }} stage is due by {{ due_date }}.\n\nOpen the report: {{ report_url }}",
    ),
    (
        "staff.escalation",
        "id",
        "Eskalasi tingkat {{ level }}: laporan {{ tracking_id }} melewati batas waktu",
        "Yth. {{ name }},\n\nLaporan {{ tracking_id }} ({{ title }}) di {{ institution }} melewati batas waktu tahap {{ stage_label }} ({{ due_date }}) dan kini dieskalasikan kepada {{ step_label }}.\n\nBuka laporan: {{ report_url }}",
    ),
    (
        "staff.escalation",
        "en",
        "Escalation level {{ level }}: report {{ tracking_id }} is overdue",
        "Dear {{ name }},\n\nReport {{ tracking_id }} ({{ title }}) at {{ institution }} missed its {{ stage_label }} deadline ({{ due_date }}) and is now escalated to the {{ step_label }}.\n\nOpen the report: {{ report_url }}",
    ),
    (
        "staff.assignment",
        "id",
        "Laporan baru untuk {{ institution }}: {{ tracking_id }}",
        "Yth. {{ name }},\n\nLaporan {{ tracking_id }} ({{ title }}) kini menjadi tanggung jawab {{ institution }}{% if due_date %}, dengan batas waktu {{ due_date }}{% endif %}.\n\nBuka laporan: {{ report_url }}",
    ),
    (
        "staff.assignment",
        "en",
        "New report for {{ institution }}: {{ tracking_id }}",
        "Dear {{ name }},\n\nReport {{ tracking_id }} ({{ title }}) is now the responsibility of {{ institution }}{% if due_date %}, due by {{ due_date }}{% endif %}.\n\nOpen the report: {{ report_url }}",
    ),
    (
        "staff.digest",
        "id",
        "Ringkasan harian: {{ count }} laporan melewati batas waktu",
        "Yth. {{ name }},\n\n{{ count }} laporan dalam wewenang Anda melewati batas waktu:\n{% for r in items %}\n- {{ r.tracking_id }}: {{ r.title }} (jatuh tempo {{ r.due_date }}, terlambat {{ r.overdue_days }} hari kerja)\n  {{ r.url }}{% endfor %}\n\nAntrean lengkap: {{ queue_url }}",
    ),
    (
        "staff.digest",
        "en",
        "Daily digest: {{ count }} reports overdue",
        "Dear {{ name }},\n\n{{ count }} reports in your care are overdue:\n{% for r in items %}\n- {{ r.tracking_id }}: {{ r.title }} (due {{ r.due_date }}, {{ r.overdue_days }} working days late)\n  {{ r.url }}{% endfor %}\n\nFull queue: {{ queue_url }}",
    ),
    (
        "staff.password_reset",
        "id",
        "Atur ulang kata sandi Lapor",
        "Seseorang meminta pengaturan ulang kata sandi akun Lapor Anda.\n\nGunakan tautan ini dalam satu jam: {{ link }}\n\nAbaikan surel ini bila Anda tidak memintanya; kata sandi Anda tidak berubah.",
    ),
    (
        "staff.password_reset",
        "en",
        "Reset your Lapor password",
        "Someone asked to reset the password of your Lapor account.\n\nUse this link within one hour: {{ link }}\n\nIgnore this e-mail if it was not you; your password stays the same.",
    ),
];

/// The names of all templates, in display order.
pub fn names() -> Vec<&'static str> {
    let mut out: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
    out.dedup();
    out
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "id",
        Lang::En => "en",
    }
}

fn builtin(name: &str, lang: &str) -> Option<(&'static str, &'static str)> {
    BUILTIN
        .iter()
        .find(|b| b.0 == name && b.1 == lang)
        .or_else(|| BUILTIN.iter().find(|b| b.0 == name && b.1 == "id"))
        .map(|b| (b.2, b.3))
}

/// The built-in subject and body, for the editor's "restore" view.
pub fn default_of(name: &str, lang: &str) -> Option<(&'static str, &'static str)> {
    builtin(name, lang)
}

/// A value for every variable a template may use, to check edits against.
pub fn sample(name: &str) -> Option<Value> {
    let report = json!({
        "tracking_id": "7KQ4-M2XJ",
        "title": "Jalan berlubang di Jl. Setiabudi",
        "report_url": "https://lapor.example/staf/laporan/7KQ4-M2XJ",
        "track_url": "https://lapor.example/lacak/7KQ4-M2XJ",
        "institution": "Pemerintah Kota Bandung",
        "due_date": "Jumat, 27 Maret 2026",
        "stage_label": "tindak lanjut",
        "name": "Siti Rahayu",
    });
    let extra = match name {
        "reporter.receipt" => json!({ "pin": "04815162" }),
        "reporter.update" => json!({
            "kind": "followed_up",
            "status": "responded",
            "status_label": "Ditanggapi",
            "body": "Perbaikan dijadwalkan minggu depan.",
        }),
        "staff.reminder" | "staff.assignment" => json!({}),
        "staff.escalation" => json!({ "level": 2, "step_label": "admin instansi" }),
        "staff.digest" => json!({
            "count": 2,
            "queue_url": "https://lapor.example/staf?terlambat=1",
            "items": [
                { "tracking_id": "7KQ4-M2XJ", "title": "Jalan berlubang", "due_date": "27 Mar 2026", "overdue_days": 3, "url": "https://lapor.example/staf/laporan/7KQ4-M2XJ" },
                { "tracking_id": "9PLM-X4QT", "title": "Lampu jalan mati", "due_date": "30 Mar 2026", "overdue_days": 1, "url": "https://lapor.example/staf/laporan/9PLM-X4QT" },
            ],
        }),
        "staff.password_reset" => {
            json!({ "link": "https://lapor.example/staf/atur-ulang/abc", "expires_at": "2026-03-27T10:00:00Z" })
        }
        _ => return None,
    };
    let mut v = report;
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    Some(v)
}

fn environment(strict: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(50);
    env.set_keep_trailing_newline(false);
    // E-mail and chat are plain text: nothing to escape.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(if strict {
        UndefinedBehavior::Strict
    } else {
        UndefinedBehavior::Lenient
    });
    env
}

/// 1-based column of byte offset `at` in `src`.
fn column(src: &str, at: usize) -> usize {
    let at = at.min(src.len());
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    src[line_start..at].chars().count() + 1
}

fn describe(field: &str, src: &str, e: &minijinja::Error) -> Error {
    let line = e.line().unwrap_or(1);
    let col = e.range().map_or(1, |r| column(src, r.start));
    Error::with(
        ErrorCode::ValidationFailed,
        format!(
            "{field}: baris {line}, kolom {col}: {} / line {line}, column {col}: {}",
            e.detail().unwrap_or("template error"),
            e.kind()
        ),
    )
}

/// Checks an edited template: it must compile, and render against the
/// sample of its variables without touching an unknown one.
pub fn validate(name: &str, subject: &str, body: &str) -> Result<(), Error> {
    let Some(ctx) = sample(name) else {
        return Err(Error::validation(format!("template: unknown name {name:?}")));
    };
    if subject.trim().is_empty() || subject.chars().count() > SUBJECT_MAX {
        return Err(Error::validation(format!(
            "subject: 1–{SUBJECT_MAX} karakter / characters"
        )));
    }
    if body.trim().is_empty() || body.len() > BODY_MAX {
        return Err(Error::validation(format!("body: 1–{BODY_MAX} byte / bytes")));
    }
    let env = environment(true);
    for (field, src) in [("subject", subject), ("body", body)] {
        let t = env.template_from_str(src).map_err(|e| describe(field, src, &e))?;
        t.render(&ctx).map_err(|e| describe(field, src, &e))?;
    }
    Ok(())
}

/// Subject and text of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

fn render_pair(subject: &str, body: &str, ctx: &Value) -> Result<Rendered, minijinja::Error> {
    let env = environment(false);
    let subject = env.render_str(subject, ctx)?;
    // A subject is one line, whatever the template did.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Rendered {
        subject,
        text: env.render_str(body, ctx)?,
    })
}

/// (name, lang) → (subject, body) of the admins' versions.
type Overrides = HashMap<(String, String), (String, String)>;

/// Admins' templates, cached briefly; the built-ins fill the gaps.
#[derive(Default)]
pub struct Templates {
    cache: RwLock<Option<(Instant, Arc<Overrides>)>>,
}

impl Templates {
    async fn overrides(&self, store: &dyn Store) -> Arc<Overrides> {
        if let Ok(guard) = self.cache.read()
            && let Some((at, map)) = guard.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return map.clone();
        }
        let map: Arc<Overrides> = match store.notification_templates().await {
            Ok(rows) => rows
                .into_iter()
                .map(|t| ((t.name, t.lang), (t.subject, t.body)))
                .collect::<Overrides>()
                .into(),
            Err(e) => {
                tracing::warn!(error = %e, "notification templates: using the built-ins");
                Arc::default()
            }
        };
        if let Ok(mut guard) = self.cache.write() {
            *guard = Some((Instant::now(), map.clone()));
        }
        map
    }

    /// Forgets the cache (after an edit in this process).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.cache.write() {
            *guard = None;
        }
    }

    /// Renders template `name` in `lang` with `ctx`.
    pub async fn render(&self, store: &dyn Store, name: &str, lang: &str, ctx: &Value) -> Result<Rendered, Error> {
        let lang = if lang == "en" { "en" } else { "id" };
        let Some((b_subject, b_body)) = builtin(name, lang) else {
            return Err(Error::internal(format!("no template {name}")));
        };
        let overrides = self.overrides(store).await;
        if let Some((subject, body)) = overrides.get(&(name.to_string(), lang.to_string())) {
            match render_pair(subject, body, ctx) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    tracing::error!(template = name, lang, error = %e, "edited template failed; sending the built-in")
                }
            }
        }
        render_pair(b_subject, b_body, ctx).map_err(|e| Error::internal(format!("template {name}: {e}")))
    }

    /// Saves an admin's version after checking it.
    pub async fn save(
        &self,
        store: &dyn Store,
        name: &str,
        lang: &str,
        subject: &str,
        body: &str,
        by: &str,
    ) -> Result<(), Error> {
        if lang != "id" && lang != "en" {
            return Err(Error::validation("lang: id | en"));
        }
        validate(name, subject, body)?;
        store
            .save_notification_template(&StoredTemplate {
                name: name.to_string(),
                lang: lang.to_string(),
                subject: subject.trim().to_string(),
                body: body.to_string(),
                updated_at: chrono::Utc::now(),
                updated_by: Some(by.to_string()),
            })
            .await?;
        self.invalidate();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_passes_its_own_check() {
        for (name, lang, subject, body) in BUILTIN {
            validate(name, subject, body).unwrap_or_else(|e| panic!("{name}/{lang}: {e}"));
        }
        for name in names() {
            assert!(builtin(name, "id").is_some() && builtin(name, "en").is_some(), "{name}");
        }
    }

    #[test]
    fn broken_templates_are_refused_with_line_and_column() {
        let e = validate("staff.reminder", "ok", "Baris satu\nBaris {{ tracking_id ").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = validate("staff.reminder", "ok", "a\nb\n  {% for x in %}{% endfor %}").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        // A variable that does not exist is an error at save time.
        let e = validate("staff.reminder", "Halo {{ nama }}", "isi").unwrap_err();
        assert!(e.to_string().contains("subject"), "{e}");
        assert!(e.to_string().contains("column"), "{e}");
        assert!(validate("nope", "a", "b").is_err());
        assert!(validate("staff.reminder", " ", "b").is_err());
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let e = validate(
            "staff.digest",
            "x",
            "{% for a in range(10000) %}{% for b in range(10000) %}.{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("fuel"), "{e}");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(column("ab\ncdé{{", 7), 4);
        assert_eq!(column("{{", 0), 1);
    }

    #[test]
    fn rendering_is_plain_text() {
        let r = render_pair("S {{ a }}\n x", "<b>{{ a }}</b>", &json!({"a": "<i>&"})).unwrap();
        assert_eq!(r.subject, "S <i>& x");
        assert_eq!(r.text, "<b><i>&</b>");
    }
}
