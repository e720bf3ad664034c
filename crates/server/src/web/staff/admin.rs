//! Administration pages: routing rules with the classifier's held-out
//! accuracy, reply templates, staff and institutions, and the audit log
//! (filterable, exportable as CSV).

use super::{FormToken, Staff};
use crate::AppState;
use crate::auth::{hash_password, new_id};
use crate::web::names::Opt;
use crate::web::{error_page, message, render, render_html, see_other};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use lapor_domain::authz::{Action, Target, authorize};
use lapor_domain::institution::{Institution, InstitutionKind, Membership, Role, valid_code};
use lapor_domain::{Error, ErrorCode};
use lapor_store::ts::Ts;
use lapor_store::{AuditEntry, AuditQuery, InstitutionQuery, NewUser, ReplyTemplate, StoredRule, User};

type FormResult<T> = Result<Form<T>, axum::extract::rejection::FormRejection>;

pub(super) async fn record(
    st: &AppState,
    s: &Staff,
    action: &str,
    target: &str,
    detail: Option<String>,
) -> Result<(), Error> {
    st.store
        .write_audit(&AuditEntry {
            at: Utc::now(),
            user_id: Some(s.user.id.clone()),
            action: action.into(),
            target: target.into(),
            detail,
        })
        .await
}

fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

// ---------------------------------------------------------------- rules

#[derive(Template)]
#[template(path = "staff/rules.html")]
struct RulesPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    rules: Vec<StoredRule>,
    examples: usize,
    accuracy: Option<(usize, usize, String, String)>,
    categories: Vec<Opt>,
    form: String,
    error: Option<String>,
}

async fn rules_page(st: &AppState, s: &Staff, error: Option<Error>) -> Response {
    if !s.is_national() {
        return error_page(&s.c, &Error::forbidden());
    }
    let built = async {
        let trained = st.routing.trained(st).await?;
        Ok::<_, Error>(RulesPage {
            s,
            c: &s.c,
            rules: st.store.routing_rules().await?,
            examples: trained.examples,
            accuracy: trained.evaluation.as_ref().map(|e| {
                (
                    e.train,
                    e.test,
                    format!("{:.1}", e.top1 * 100.0),
                    format!("{:.1}", e.top3 * 100.0),
                )
            }),
            categories: st.names.categories(st, s.c.lang).await?,
            form: FormToken::issue(st, &s.c),
            error: None,
        })
    }
    .await;
    match built {
        Ok(mut p) => {
            let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
            p.error = error.map(|e| message(&s.c, &e));
            render(&s.c, status, &p)
        }
        Err(e) => error_page(&s.c, &e),
    }
}

pub async fn rules(State(st): State<AppState>, s: Staff) -> Response {
    rules_page(&st, &s, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct RuleForm {
    csrf: String,
    ft: String,
    aksi: String,
    kategori: String,
    tingkat: String,
    instansi: String,
    id: String,
}

pub async fn rules_post(State(st): State<AppState>, s: Staff, form: FormResult<RuleForm>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if !s.may_system(Action::ManageInstitutions) {
        return error_page(&s.c, &Error::forbidden());
    }
    let res = async {
        match f.aksi.as_str() {
            "tambah" => {
                let level = match f.tingkat.as_str() {
                    "" => None,
                    l => Some(l.parse::<i64>().ok().filter(|l| (1..=4).contains(l)).ok_or_else(|| Error::validation("tingkat"))?),
                };
                let institution = f.instansi.trim();
                let rule = lapor_domain::routing::RoutingRule {
                    id: 0,
                    category: Some(f.kategori.clone()).filter(|c| !c.is_empty()),
                    region_level: level.map(|l| l as u8),
                    institution: institution.to_string(),
                };
                if !rule.is_valid() {
                    return Err(Error::validation(
                        "instansi: kode instansi, boleh memakai {region} bila tingkat wilayah diisi / an institution code, {region} allowed with a region level",
                    ));
                }
                if !institution.contains("{region}") && st.store.institution(institution).await?.is_none() {
                    return Err(Error::with(ErrorCode::UnknownInstitution, institution.to_string()));
                }
                let id = st
                    .store
                    .add_routing_rule(rule.category.as_deref(), level, institution, &s.user.id)
                    .await?;
                record(&st, &s, "rule.added", &id.to_string(), Some(institution.to_string())).await
            }
            "hapus" => {
                let id: i64 = f.id.parse().map_err(|_| Error::validation("id"))?;
                if st.store.delete_routing_rule(id).await? {
                    record(&st, &s, "rule.deleted", &id.to_string(), None).await
                } else {
                    Err(Error::not_found())
                }
            }
            "latih" => {
                st.routing.retrain(&st).await?;
                Ok(())
            }
            _ => Err(Error::validation("aksi")),
        }
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, "/staf/aturan"),
        Err(e) => rules_page(&st, &s, Some(e)).await,
    }
}

// ------------------------------------------------------------ templates

#[derive(Template)]
#[template(path = "staff/templates.html")]
struct TemplatesPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    groups: Vec<(String, String, Vec<ReplyTemplate>)>,
    placeholders: &'static [(&'static str, &'static str)],
    form: String,
    error: Option<String>,
}

/// Institutions whose templates this member manages.
fn template_owners(s: &Staff) -> Vec<String> {
    s.institutions(&[Role::InstitutionAdmin, Role::UnitAdmin])
}

async fn templates_page(st: &AppState, s: &Staff, error: Option<Error>) -> Response {
    let owners = template_owners(s);
    if owners.is_empty() {
        return error_page(&s.c, &Error::forbidden());
    }
    let mut groups = Vec::new();
    for code in owners {
        let name = match st.names.institution(st, &code).await {
            Ok(n) => n,
            Err(e) => return error_page(&s.c, &e),
        };
        match st.store.reply_templates(&code).await {
            Ok(t) => groups.push((code, name, t)),
            Err(e) => return error_page(&s.c, &e),
        }
    }
    let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
    let page = TemplatesPage {
        s,
        c: &s.c,
        groups,
        placeholders: lapor_domain::template::PLACEHOLDERS,
        form: FormToken::issue(st, &s.c),
        error: error.map(|e| message(&s.c, &e)),
    };
    render(&s.c, status, &page)
}

pub async fn templates(State(st): State<AppState>, s: Staff) -> Response {
    templates_page(&st, &s, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    csrf: String,
    ft: String,
    aksi: String,
    instansi: String,
    nama: String,
    isi: String,
    id: String,
}

pub async fn templates_post(State(st): State<AppState>, s: Staff, form: FormResult<TemplateForm>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if !template_owners(&s).contains(&f.instansi) {
        return error_page(&s.c, &Error::forbidden());
    }
    let res = async {
        match f.aksi.as_str() {
            "simpan" => {
                let name = lapor_domain::report::check_text("nama", &f.nama, 2, 100)?;
                lapor_domain::template::check(&f.isi)?;
                let body = lapor_domain::report::check_text("isi", &f.isi, 5, lapor_domain::template::MAX_CHARS)?;
                let id = st.store.save_reply_template(&f.instansi, &name, &body).await?;
                record(&st, &s, "template.saved", &f.instansi, Some(format!("#{id} {name}"))).await
            }
            "hapus" => {
                let id: i64 = f.id.parse().map_err(|_| Error::validation("id"))?;
                if st.store.delete_reply_template(&f.instansi, id).await? {
                    record(&st, &s, "template.deleted", &f.instansi, Some(format!("#{id}"))).await
                } else {
                    Err(Error::not_found())
                }
            }
            _ => Err(Error::validation("aksi")),
        }
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, "/staf/templat"),
        Err(e) => templates_page(&st, &s, Some(e)).await,
    }
}

// ------------------------------------------------------- users and tree

/// The subtrees this member manages users in (None: all, for the national admin).
fn user_roots(s: &Staff) -> Option<Vec<String>> {
    if s.is_national() {
        None
    } else {
        Some(s.institutions(&[Role::InstitutionAdmin, Role::UnitAdmin]))
    }
}

/// Whether the member may manage users of `institution`.
async fn manages(st: &AppState, s: &Staff, institution: &str) -> Result<bool, Error> {
    let path = st.store.institution_path(institution).await?;
    if path.is_empty() {
        return Err(Error::with(ErrorCode::UnknownInstitution, institution.to_string()));
    }
    Ok(authorize(
        s.principal(),
        Action::ManageUsers,
        &Target::Institution(&path),
    ))
}

/// Roles a member may hand out: the national admin any; institution and
/// unit admins only the roles below their own.
fn grantable(s: &Staff) -> Vec<Role> {
    if s.is_national() {
        Role::ALL.to_vec()
    } else if s.has(Role::InstitutionAdmin) {
        vec![Role::InstitutionAdmin, Role::UnitAdmin, Role::Liaison, Role::Supervisor]
    } else {
        vec![Role::UnitAdmin, Role::Liaison]
    }
}

#[derive(Template)]
#[template(path = "staff/users.html")]
struct UsersPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    users: Vec<User>,
    roles: Vec<Role>,
    form: String,
    error: Option<String>,
}

async fn users_page(st: &AppState, s: &Staff, error: Option<Error>) -> Response {
    if !s.manages_users() {
        return error_page(&s.c, &Error::forbidden());
    }
    let users = match user_roots(s) {
        None => st.store.staff_users(None, 500).await,
        Some(roots) => {
            let mut all: Vec<User> = Vec::new();
            for r in roots {
                match st.store.staff_users(Some(&r), 500).await {
                    Ok(us) => {
                        for u in us {
                            if !all.iter().any(|x| x.id == u.id) {
                                all.push(u);
                            }
                        }
                    }
                    Err(e) => return error_page(&s.c, &e),
                }
            }
            Ok(all)
        }
    };
    let users = match users {
        Ok(u) => u,
        Err(e) => return error_page(&s.c, &e),
    };
    let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
    let page = UsersPage {
        s,
        c: &s.c,
        users,
        roles: grantable(s),
        form: FormToken::issue(st, &s.c),
        error: error.map(|e| message(&s.c, &e)),
    };
    render(&s.c, status, &page)
}

pub async fn users(State(st): State<AppState>, s: Staff) -> Response {
    users_page(&st, &s, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    csrf: String,
    ft: String,
    aksi: String,
    nama: String,
    email: String,
    sandi: String,
    peran: String,
    instansi: String,
    pengguna: String,
}

pub async fn users_post(State(st): State<AppState>, s: Staff, form: FormResult<UserForm>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let res = async {
        let role = Role::parse(&f.peran);
        let institution = f.instansi.trim();
        match f.aksi.as_str() {
            "tambah" | "peran" | "cabut" => {
                let role = role
                    .filter(|r| grantable(&s).contains(r))
                    .ok_or_else(Error::forbidden)?;
                if !manages(&st, &s, institution).await? {
                    return Err(Error::forbidden());
                }
                let m = Membership {
                    role,
                    institution: institution.to_string(),
                };
                match f.aksi.as_str() {
                    "tambah" => {
                        let name = lapor_domain::report::check_text("nama", &f.nama, 2, 200)?;
                        let email = f.email.trim().to_lowercase();
                        if !crate::service::valid_email(&email) {
                            return Err(Error::validation("email"));
                        }
                        if f.sandi.chars().count() < crate::accounts::PASSWORD_MIN_CHARS {
                            return Err(Error::validation("sandi: minimal 10 karakter / at least 10 characters"));
                        }
                        let u = st
                            .store
                            .create_user(&NewUser {
                                id: new_id("u-"),
                                email: Some(email.clone()),
                                phone: None,
                                name,
                                password_hash: hash_password(&f.sandi)?,
                                is_staff: true,
                                memberships: vec![m.clone()],
                            })
                            .await?;
                        record(
                            &st,
                            &s,
                            "user.created",
                            &u.id,
                            Some(format!("{email} {} {institution}", role.as_str())),
                        )
                        .await
                    }
                    "peran" => {
                        st.store.add_membership(f.pengguna.trim(), &m).await?;
                        record(
                            &st,
                            &s,
                            "user.role_added",
                            f.pengguna.trim(),
                            Some(format!("{} {institution}", role.as_str())),
                        )
                        .await
                    }
                    _ => {
                        if !st.store.remove_membership(f.pengguna.trim(), &m).await? {
                            return Err(Error::not_found());
                        }
                        record(
                            &st,
                            &s,
                            "user.role_removed",
                            f.pengguna.trim(),
                            Some(format!("{} {institution}", role.as_str())),
                        )
                        .await
                    }
                }
            }
            "nonaktif" | "aktif" => {
                let target = st.store.user(f.pengguna.trim()).await?.ok_or_else(Error::not_found)?;
                let mut allowed = s.is_national();
                for m in &target.memberships {
                    allowed = allowed || manages(&st, &s, &m.institution).await?;
                }
                if !allowed || target.id == s.user.id {
                    return Err(Error::forbidden());
                }
                let off = f.aksi == "nonaktif";
                st.store.set_disabled(&target.id, off).await?;
                record(
                    &st,
                    &s,
                    if off { "user.disabled" } else { "user.enabled" },
                    &target.id,
                    None,
                )
                .await
            }
            _ => Err(Error::validation("aksi")),
        }
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, "/staf/pengguna"),
        Err(e) => users_page(&st, &s, Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "staff/institutions.html")]
struct InstitutionsPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    parent: Option<Institution>,
    children: Vec<Institution>,
    kinds: &'static [InstitutionKind; 8],
    form: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TreeQuery {
    induk: String,
}

async fn institutions_page(st: &AppState, s: &Staff, parent: &str, error: Option<Error>) -> Response {
    let built = async {
        let parent_inst = match parent {
            "" => None,
            p => Some(st.store.institution(p).await?.ok_or_else(Error::not_found)?),
        };
        // The national admin sees the whole tree; an institution admin
        // starts at (and stays within) its own institutions.
        if !s.is_national() {
            match &parent_inst {
                Some(p) if manages(st, s, &p.code).await? => {}
                _ => return Err(Error::forbidden()),
            }
        }
        let children = st
            .store
            .institutions(&InstitutionQuery {
                parent: Some(parent.to_string()),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        Ok::<_, Error>((parent_inst, children))
    }
    .await;
    match built {
        Ok((parent, children)) => {
            let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
            let page = InstitutionsPage {
                s,
                c: &s.c,
                parent,
                children,
                kinds: &InstitutionKind::ALL,
                form: FormToken::issue(st, &s.c),
                error: error.map(|e| message(&s.c, &e)),
            };
            render(&s.c, status, &page)
        }
        Err(e) => error_page(&s.c, &e),
    }
}

pub async fn institutions(
    State(st): State<AppState>,
    s: Staff,
    q: Result<Query<TreeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let mut parent = q.map(|Query(q)| q.induk).unwrap_or_default();
    if parent.is_empty() && !s.is_national() {
        parent = s
            .institutions(&[Role::InstitutionAdmin])
            .first()
            .cloned()
            .unwrap_or_default();
    }
    institutions_page(&st, &s, &parent, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct InstitutionForm {
    csrf: String,
    ft: String,
    induk: String,
    kode: String,
    nama: String,
    jenis: String,
}

pub async fn institutions_post(State(st): State<AppState>, s: Staff, form: FormResult<InstitutionForm>) -> Response {
    let f = match super::accept(&st, &s.c, form).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let res = async {
        let parent = st.store.institution(&f.induk).await?.ok_or_else(Error::not_found)?;
        let path = st.store.institution_path(&parent.code).await?;
        if !authorize(s.principal(), Action::ManageInstitutions, &Target::Institution(&path)) {
            return Err(Error::forbidden());
        }
        let kind = InstitutionKind::parse(&f.jenis).ok_or_else(|| Error::validation("jenis"))?;
        // Institution admins add units only; the tree above is national.
        if !s.is_national() && kind != InstitutionKind::Unit {
            return Err(Error::forbidden());
        }
        if !parent.kind.may_parent(kind) {
            return Err(Error::validation(
                "jenis: tidak boleh di bawah induk ini / not allowed under this parent",
            ));
        }
        let code = f.kode.trim().to_lowercase();
        if !valid_code(&code) {
            return Err(Error::validation("kode"));
        }
        if st.store.institution(&code).await?.is_some() {
            return Err(Error::new(ErrorCode::Conflict));
        }
        let name = lapor_domain::report::check_text("nama", &f.nama, 3, 200)?;
        st.store
            .upsert_institutions(&[Institution {
                code: code.clone(),
                name,
                kind,
                parent: Some(parent.code.clone()),
                region_code: parent.region_code.clone(),
                zone: parent.zone,
            }])
            .await?;
        st.names.forget_institutions();
        st.tree.forget();
        record(
            &st,
            &s,
            "institution.created",
            &code,
            Some(format!("under {}", parent.code)),
        )
        .await
    }
    .await;
    match res {
        Ok(()) => see_other(&s.c, &format!("/staf/instansi?induk={}", crate::web::enc(&f.induk))),
        Err(e) => institutions_page(&st, &s, &f.induk, Some(e)).await,
    }
}

// ---------------------------------------------------------------- audit

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AuditFilter {
    pengguna: String,
    aksi: String,
    sasaran: String,
    dari: String,
    sampai: String,
    format: String,
    sebelum: String,
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    f: AuditFilter,
    rows: Vec<(i64, AuditEntry, String)>,
    next_href: Option<String>,
    csv_href: String,
}

fn day(s: &str, end: bool) -> Result<Option<Ts>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::with(ErrorCode::InvalidQuery, "tanggal"))?;
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    let t = lapor_domain::calendar::Zone::Wib
        .offset()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Error::with(ErrorCode::InvalidQuery, "tanggal"))?;
    Ok(Some(Ts::new(t)))
}

use chrono::TimeZone;

/// A CSV field, quoted, with formula-looking values defused (a leading
/// `=`, `+`, `-` or `@` would run in a spreadsheet).
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

pub async fn audit_log(st: &AppState, s: &Staff, f: AuditFilter) -> Result<Response, Error> {
    if !s.sees_audit() {
        return Err(Error::forbidden());
    }
    let csv = f.format == "csv";
    let limit = if csv { 100_000 } else { 100 };
    let q = AuditQuery {
        user_id: Some(f.pengguna.trim().to_string()).filter(|x| !x.is_empty()),
        action: Some(f.aksi.trim().to_string()).filter(|x| !x.is_empty()),
        target: Some(f.sasaran.trim().to_uppercase().to_string())
            .filter(|x| !x.is_empty())
            .map(|t| if t.starts_with("U-") { t.to_lowercase() } else { t }),
        from: day(&f.dari, false)?,
        before: day(&f.sampai, true)?,
        before_id: if f.sebelum.is_empty() {
            None
        } else {
            Some(
                f.sebelum
                    .parse()
                    .map_err(|_| Error::with(ErrorCode::InvalidQuery, "sebelum"))?,
            )
        },
        limit,
    };
    let rows = st.store.audit_query(&q).await?;
    if csv {
        let mut out = String::from("id,at,user_id,action,target,detail\r\n");
        for (id, e) in &rows {
            out.push_str(&format!(
                "{id},{},{},{},{},{}\r\n",
                e.at.to_rfc3339(),
                csv_field(e.user_id.as_deref().unwrap_or("")),
                csv_field(&e.action),
                csv_field(&e.target),
                csv_field(e.detail.as_deref().unwrap_or(""))
            ));
        }
        record(
            st,
            s,
            "audit.exported",
            "audit_log",
            Some(format!("{} rows", rows.len())),
        )
        .await?;
        let mut resp = out.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"lapor-audit.csv\""),
        );
        return Ok(resp);
    }
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.0)).flatten();
    let rows = rows
        .into_iter()
        .map(|(id, e)| {
            let when =
                e.at.with_timezone(&lapor_domain::calendar::Zone::Wib.offset())
                    .format("%Y-%m-%d %H:%M")
                    .to_string();
            (id, e, when)
        })
        .collect();
    let filter = format!(
        "pengguna={}&aksi={}&sasaran={}&dari={}&sampai={}",
        crate::web::enc(&f.pengguna),
        crate::web::enc(&f.aksi),
        crate::web::enc(&f.sasaran),
        crate::web::enc(&f.dari),
        crate::web::enc(&f.sampai)
    );
    let page = AuditPage {
        s,
        c: &s.c,
        f,
        rows,
        next_href: next.map(|n| format!("/staf/audit?{filter}&sebelum={n}")),
        csv_href: format!("/staf/audit?format=csv&{filter}"),
    };
    let html = page.render().map_err(|e| Error::internal(e.to_string()))?;
    Ok(render_html(&s.c, StatusCode::OK, html))
}

pub async fn audit(
    State(st): State<AppState>,
    s: Staff,
    q: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(f)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    match audit_log(&st, &s, f).await {
        Ok(r) => r,
        Err(e) => error_page(&s.c, &e),
    }
}

impl super::Posted for RuleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

impl super::Posted for TemplateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

impl super::Posted for UserForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}

impl super::Posted for InstitutionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn ft(&self) -> Option<&str> {
        Some(&self.ft)
    }
}
