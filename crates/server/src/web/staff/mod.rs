//! The institution workspace (`/staf`): staff sign-in with a second factor,
//! the national verification queue, institution inboxes, the report
//! handling page with its follow-up editor, supervisor views, routing rules,
//! reply templates, staff management and the audit log.
//!
//! Every page needs a signed-in staff member (others are sent to
//! `/staf/masuk`); what each may do is decided by `authorize`, the same
//! rules as the API, and actions a role may not take are neither offered
//! nor accepted. Every POST carries a one-time form token: bound to the
//! browser, valid for two hours, and refused if submitted twice.

mod admin;
pub(crate) mod dashboard;
mod form_token;
mod handle;
mod integration;
mod operations;
mod queue;
mod signin;
mod social;

use super::Ctx;
use crate::AppState;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lapor_domain::authz::{Action, Principal, Target, authorize};
use lapor_domain::institution::Role;
use lapor_store::User;

pub use form_token::FormToken;

/// A posted workspace form: it must parse, its CSRF token must match and,
/// when it carries one, its one-time form token is claimed.
pub trait Posted {
    fn csrf(&self) -> &str;
    /// The one-time form token, for forms of signed-in staff.
    fn ft(&self) -> Option<&str> {
        None
    }
}

/// The checked fields of a posted form, or the error page to answer with.
pub async fn accept<T: Posted>(
    st: &AppState,
    c: &Ctx,
    form: Result<axum::extract::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<T, Response> {
    let Ok(axum::extract::Form(f)) = form else {
        return Err(super::error_page(
            c,
            &lapor_domain::Error::new(lapor_domain::ErrorCode::CsrfFailed),
        ));
    };
    let checked = match f.ft() {
        Some(ft) => FormToken::check(st, c, f.csrf(), ft).await,
        None => c.check_csrf(f.csrf()),
    };
    checked.map_err(|e| super::error_page(c, &e))?;
    Ok(f)
}
pub use signin::after_password;

/// The workspace routes, each with who may call it.
pub fn routes(max_upload: usize) -> Router<AppState> {
    Router::new()
        // Anyone (these are the way in).
        .route("/staf/masuk", get(signin::login_form).post(signin::login))
        .route("/staf/verifikasi", get(signin::code_form).post(signin::code))
        .route("/staf/verifikasi/daftar", get(signin::enroll_form).post(signin::enroll))
        .route("/staf/lupa-sandi", get(signin::forgot_form).post(signin::forgot))
        .route("/staf/atur-ulang/{token}", get(signin::reset_form).post(signin::reset))
        // Any signed-in staff member: their own sessions.
        .route("/staf/sesi", get(signin::sessions))
        .route("/staf/sesi/cabut", post(signin::revoke))
        .route("/staf/keluar", post(signin::logout))
        // Staff: the queue their roles give them (verification for the
        // national admin, the inbox for institution staff, read-only
        // subtree views for supervisors and oversight).
        .route("/staf", get(queue::page))
        .route("/staf/massal", post(queue::bulk))
        // Staff who may read the report internally; each action is checked
        // against the caller's rights on that report.
        .route("/staf/laporan/{id}", get(handle::page))
        .route("/staf/laporan/{id}/aksi", post(handle::action))
        .route(
            "/staf/laporan/{id}/tindak-lanjut",
            get(handle::follow_up_form)
                .post(handle::follow_up)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload)),
        )
        // National admin: routing rules and the classifier's accuracy.
        .route("/staf/aturan", get(admin::rules).post(admin::rules_post))
        // Institution admins: their institutions' reply templates.
        .route("/staf/templat", get(admin::templates).post(admin::templates_post))
        // National admin (all staff) and institution admins (their subtree).
        .route("/staf/pengguna", get(admin::users).post(admin::users_post))
        // National admin: the institution tree.
        .route(
            "/staf/instansi",
            get(admin::institutions).post(admin::institutions_post),
        )
        // National admin and auditors.
        .route("/staf/audit", get(admin::audit))
        .route("/staf/kotak-masuk", get(operations::inbox))
        .route("/staf/kotak-masuk/baca", post(operations::inbox_read))
        .route("/staf/saluran", get(social::inbox))
        .route("/staf/saluran/{id}/jadikan", post(social::convert))
        .route("/staf/saluran/{id}/abaikan", post(social::dismiss))
        .route("/staf/saluran/blokir", get(social::blocks).post(social::blocks_post))
        // National admin (every institution, and the mode) and institution
        // admins (their subtree): integration clients, webhooks, replay.
        .route("/staf/integrasi", get(integration::show).post(integration::post))
        // Staff with `ReadDashboard` on the view: the system for national,
        // regional-government and oversight views, the institution's path
        // for institution and subtree views.
        .route("/staf/dasbor", get(dashboard::page))
        .route("/staf/dasbor/ekspor", get(dashboard::export))
        .route("/staf/dasbor/evaluasi", get(dashboard::evaluation))
        .route("/staf/dasbor/ekspor-laporan", get(dashboard::reports_export))
        .route("/staf/pengiriman", get(operations::deliveries))
        .route("/staf/pengiriman/ulang", post(operations::replay))
        .route(
            "/staf/templat-notifikasi",
            get(operations::notify_templates).post(operations::notify_templates_post),
        )
        .route(
            "/staf/kalender",
            get(operations::calendar)
                .post(operations::calendar_upload)
                .layer(axum::extract::DefaultBodyLimit::max(operations::HOLIDAY_FILE_MAX)),
        )
}

/// A signed-in staff member and the page context.
pub struct Staff {
    pub c: Ctx,
    pub user: User,
}

impl Staff {
    pub fn principal(&self) -> &Principal {
        &self.c.caller.principal
    }
    pub fn has(&self, role: Role) -> bool {
        self.user.memberships.iter().any(|m| m.role == role)
    }
    /// Institutions where the user holds one of `roles`.
    pub fn institutions(&self, roles: &[Role]) -> Vec<String> {
        let mut v: Vec<String> = self
            .user
            .memberships
            .iter()
            .filter(|m| roles.contains(&m.role))
            .map(|m| m.institution.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
    pub fn may_system(&self, action: Action) -> bool {
        authorize(self.principal(), action, &Target::System)
    }
    pub fn is_national(&self) -> bool {
        self.has(Role::NationalAdmin)
    }
    pub fn sees_audit(&self) -> bool {
        self.may_system(Action::ReadAudit)
    }
    pub fn manages_users(&self) -> bool {
        self.is_national() || self.has(Role::InstitutionAdmin) || self.has(Role::UnitAdmin)
    }
    pub fn manages_integration(&self) -> bool {
        self.is_national() || self.has(Role::InstitutionAdmin)
    }
    pub fn sees_dashboards(&self) -> bool {
        crate::dashboard::sees_dashboards(&self.user.memberships)
    }
    pub fn manages_templates(&self) -> bool {
        self.has(Role::InstitutionAdmin) || self.has(Role::UnitAdmin)
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let c = Ctx::from_request_parts(parts, state).await?;
        match c.caller.user.clone() {
            Some(user) if user.is_staff => Ok(Staff { c, user }),
            _ => {
                let back = super::enc(&c.here);
                Err(Redirect::to(&format!("/staf/masuk?kembali={back}")).into_response())
            }
        }
    }
}

/// A local path to return to after signing in (never another site).
pub fn safe_back(p: Option<&str>) -> String {
    p.filter(|p| p.starts_with("/staf") && !p.starts_with("//") && !p.contains('\\'))
        .unwrap_or("/staf")
        .to_string()
}
