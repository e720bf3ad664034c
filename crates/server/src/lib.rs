//! The HTTP adapter of Lapor: `/api/v1` (JSON, OpenAPI 3.1), its docs page,
//! and the middleware every response passes through.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod channels;
pub mod dashboard;
pub mod deadlines;
pub mod error;
pub mod extract;
pub mod holidays;
pub mod integration;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod push;
pub mod security;
pub mod service;
pub mod staff_auth;
pub mod suggest;
pub mod throttle;
pub mod uploads;
pub mod views;
pub mod web;
pub mod worker;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::sla::SlaPolicy;
use lapor_domain::{Error, ErrorCode};
use lapor_store::Store;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    pub session_ttl: chrono::Duration,
    pub token_ttl: chrono::Duration,
    /// Mark cookies `Secure` even when the public URL is not https (they
    /// always are when it is: see `behind_tls`).
    pub secure_cookies: bool,
    /// Map tile URL template (`https://…/{z}/{x}/{y}.png`). Without one the
    /// map picker falls back to latitude/longitude fields.
    pub tile_url: Option<String>,
    /// Attribution shown on the map, as the tile provider requires.
    pub tile_attribution: Option<String>,
    /// Largest upload (all attachments of one report together).
    pub max_upload_bytes: usize,
    /// Where users reach this instance, for links in e-mails (never taken
    /// from the request's Host header, which a caller controls).
    pub public_url: String,
    /// Bearer token for `/metrics`; None turns the endpoint off.
    pub metrics_token: Option<String>,
    /// Chat and SMS channels; each is off unless configured.
    pub channels: channels::ChannelsConfig,
    /// Who runs this instance, named in every Web Push request (VAPID `sub`:
    /// `mailto:` or `https:`). Default: the public URL when it is https.
    pub push_contact: Option<String>,
    /// Accept Web Push endpoints on a loopback address over plain http: for
    /// tests and local push-service stand-ins only. Never in production,
    /// where it would let a subscriber aim the server at itself.
    pub push_allow_loopback: bool,
    /// Rate limits on signing in and filing reports.
    pub limits: throttle::RateLimits,
}

impl ServerConfig {
    /// The defaults without rate limits: for load generators, which send
    /// everything from one address.
    pub fn unthrottled() -> ServerConfig {
        ServerConfig {
            limits: throttle::RateLimits::off(),
            ..Default::default()
        }
    }

    /// Users reach this instance over TLS (a proxy terminates it): answers
    /// carry HSTS and cookies are `Secure`.
    pub fn behind_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The VAPID contact: configured, else the public URL when it is https,
    /// else a mailbox at the public host.
    pub fn push_contact(&self) -> String {
        if let Some(c) = &self.push_contact {
            return c.clone();
        }
        if self.public_url.starts_with("https://") {
            return self.public_url.clone();
        }
        let host = self
            .public_url
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', ':']).next())
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        format!("mailto:pengelola@{host}")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 64 * 1024,
            session_ttl: chrono::Duration::hours(12),
            token_ttl: chrono::Duration::days(30),
            secure_cookies: false,
            tile_url: None,
            tile_attribution: None,
            max_upload_bytes: lapor_domain::media::MAX_FILES * lapor_domain::media::MAX_FILE_BYTES + 1024 * 1024,
            public_url: "http://localhost:8080".into(),
            metrics_token: None,
            channels: Default::default(),
            push_contact: None,
            push_allow_loopback: false,
            limits: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The working-day calendar; replaced at runtime when a new holiday
    /// file is imported.
    pub calendar: Arc<CalendarCell>,
    /// Deadline rule sets; the first is the one new reports are filed under.
    pub policies: Arc<Vec<SlaPolicy>>,
    /// Key for PIN digests, kept in the database's settings.
    pub pin_key: Arc<Vec<u8>>,
    /// Time zone of the national operator (verification deadlines).
    pub national_zone: Zone,
    pub config: Arc<ServerConfig>,
    /// A real argon2 hash, verified against when a login names no account.
    pub dummy_hash: Arc<String>,
    pub known: Arc<service::KnownCodes>,
    pub pin_guard: Arc<service::PinGuard>,
    pub names: Arc<web::names::NameCache>,
    /// The institution tree the dashboards walk.
    pub tree: Arc<dashboard::tree::TreeCache>,
    /// The routing classifier, retrained from history now and then.
    pub routing: Arc<suggest::RoutingCache>,
    /// Ways to reach people (e-mail; later SMS and chat).
    pub channels: Arc<notify::Channels>,
    pub templates: Arc<notify::templates::Templates>,
    /// This process's delivery counters (for `/metrics`).
    pub counters: Arc<worker::Counters>,
    /// Runtime of the chat and SMS channels.
    pub chat: Arc<channels::ChatRuntime>,
    /// Runtime of the integration API and webhooks.
    pub integration: Arc<integration::Runtime>,
    /// This process's webhook delivery counters (for `/metrics`).
    pub webhook_counters: Arc<integration::webhooks::Counters>,
    /// Web Push: the instance's VAPID key and the HTTP client for push services.
    pub push: Arc<notify::webpush::PushRuntime>,
    /// This process's rate-limit windows.
    pub throttle: Arc<throttle::Throttle>,
    /// This process's HTTP request counters (for `/metrics`).
    pub http_counters: Arc<metrics::HttpCounters>,
}

/// The current calendar, swapped whole when holidays are re-imported;
/// readers keep the version they started with.
pub struct CalendarCell {
    current: std::sync::RwLock<(Option<i64>, Arc<Calendar>)>,
    joint_leave_is_working: bool,
}

impl CalendarCell {
    pub fn new(cal: Calendar) -> CalendarCell {
        let joint_leave_is_working = cal.joint_leave_is_working();
        CalendarCell {
            current: std::sync::RwLock::new((None, Arc::new(cal))),
            joint_leave_is_working,
        }
    }

    pub fn get(&self) -> Arc<Calendar> {
        match self.current.read() {
            Ok(g) => g.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// The id of the imported holiday file in use (None: the built-in one
    /// or the configured file).
    pub fn file_id(&self) -> Option<i64> {
        match self.current.read() {
            Ok(g) => g.0,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// Loads the newest imported holiday file if it is not the one in use.
    /// A stored file that no longer parses (it was checked on import) keeps
    /// the old calendar.
    pub async fn refresh(&self, store: &dyn Store) -> Result<bool, Error> {
        let latest = store.holiday_file_id().await?;
        if latest.is_none() || latest == self.file_id() {
            return Ok(false);
        }
        let Some(file) = store.latest_holiday_file().await? else {
            return Ok(false);
        };
        match Calendar::from_csv(&file.csv) {
            Ok(mut cal) => {
                cal.set_provisional_years(file.provisional.iter().copied());
                let cal = cal.with_joint_leave_as_working(self.joint_leave_is_working);
                if let Ok(mut g) = self.current.write() {
                    *g = (Some(file.id), Arc::new(cal));
                }
                tracing::info!(id = file.id, source = %file.source, "holiday calendar loaded");
                Ok(true)
            }
            Err(errors) => {
                tracing::error!(
                    id = file.id,
                    ?errors,
                    "stored holiday file does not parse; keeping the old calendar"
                );
                Ok(false)
            }
        }
    }
}

impl AppState {
    /// Builds the state, creating the instance's PIN key on first start.
    pub async fn new(
        store: Arc<dyn Store>,
        calendar: Calendar,
        policies: Vec<SlaPolicy>,
        config: ServerConfig,
    ) -> Result<AppState, Error> {
        let fresh = auth::new_token();
        let pin_key = store.setting_or_init("pin_key", &fresh).await?;
        // Every subscription is bound to this key: made once, then kept.
        let vapid = store
            .setting_or_init("vapid_pkcs8", &notify::webpush::Vapid::generate())
            .await?;
        let push = notify::webpush::PushRuntime::new(&vapid, &config.push_contact())?;
        let policies = if policies.is_empty() {
            vec![SlaPolicy::default()]
        } else {
            policies
        };
        Ok(AppState {
            store,
            calendar: Arc::new(CalendarCell::new(calendar)),
            policies: Arc::new(policies),
            pin_key: Arc::new(pin_key.into_bytes()),
            national_zone: Zone::Wib,
            config: Arc::new(config),
            dummy_hash: Arc::new(auth::hash_password("lapor-dummy-password")?),
            known: Arc::default(),
            pin_guard: Arc::default(),
            names: Arc::default(),
            tree: Arc::default(),
            routing: Arc::default(),
            channels: Arc::default(),
            templates: Arc::default(),
            counters: Arc::default(),
            chat: Arc::default(),
            integration: Arc::default(),
            webhook_counters: Arc::default(),
            push: Arc::new(push),
            throttle: Arc::default(),
            http_counters: Arc::default(),
        })
    }
}

/// The whole API's OpenAPI document: the core and the integration API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api::ApiDoc::openapi();
    doc.merge(integration::IntegrationDoc::openapi());
    with_common_errors(&mut doc);
    doc
}

/// The error answers any operation may give beside those it lists itself,
/// documented once here rather than on every handler. Each has the error
/// envelope (`ErrorBody`) and a stable code (docs/architecture.md).
fn with_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, ResponseBuilder, schema::Ref};
    const ANY: &[(&str, &str)] = &[
        (
            "400",
            "A parameter or header that cannot be read (`invalid_query`, `malformed_body`).",
        ),
        (
            "401",
            "A token that is not valid or has expired (`unauthenticated`, `invalid_api_key`). Public operations \
             answer it too when a bad token is sent, rather than serve the caller as the public.",
        ),
        (
            "429",
            "Too many requests (`rate_limited`); `Retry-After` says when to try again.",
        ),
        ("503", "The service is busy (`unavailable`); try again shortly."),
    ];
    const WITH_BODY: &[(&str, &str)] = &[
        (
            "400",
            "A body that is not valid JSON or not UTF-8 (`invalid_json`, `invalid_encoding`, `malformed_body`).",
        ),
        ("413", "The body is too large (`body_too_large`, `file_too_large`)."),
        (
            "415",
            "A body of another content type than the one documented (`unsupported_media_type`).",
        ),
        (
            "422",
            "Input that fails validation (`validation_failed` and the more specific codes).",
        ),
    ];
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content_ref("application/json", Ref::from_schema_name("ErrorBody"))
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let extra = if op.request_body.is_some() { WITH_BODY } else { &[] };
            for (code, what) in extra.iter().chain(ANY) {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(what));
            }
        }
    }
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi())
}

async fn healthz(axum::extract::State(st): axum::extract::State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => error::error_response(&e, Default::default()),
    }
}

async fn not_found(headers: axum::http::HeaderMap) -> Response {
    error::error_response(&Error::not_found(), error::lang_of(&headers))
}

async fn method_not_allowed(headers: axum::http::HeaderMap) -> Response {
    error::error_response(&Error::new(ErrorCode::MethodNotAllowed), error::lang_of(&headers))
}

/// Serves the application on a listener until the process ends.
/// Small JSON answers go out at once (no Nagle delay). Each request knows
/// its peer's address, for the per-address rate limits.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let api = api::routes(state.config.max_upload_bytes)
        .merge(integration::routes(state.config.max_upload_bytes))
        .merge(push::routes())
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs").url("/api/v1/docs/openapi.json", openapi()))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .merge(web::routes(state.config.max_upload_bytes))
        .merge(channels::hooks::routes())
        .merge(open311::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            throttle::limit_requests,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // The app shell travels gzipped when the client accepts it: it must
        // fit a slow phone connection (issue 9). Only the shell's own types:
        // streamed CSV exports were cut short (connection reset) when
        // compressed, which is not yet understood.
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(tower_http::compression::Predicate::and(
                tower_http::compression::predicate::DefaultPredicate::new(),
                |_: axum::http::StatusCode,
                 _: axum::http::Version,
                 h: &axum::http::HeaderMap,
                 _: &axum::http::Extensions| {
                    h.get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|t| {
                            [
                                "text/html",
                                "text/css",
                                "text/javascript",
                                "application/json",
                                "application/manifest+json",
                            ]
                            .iter()
                            .any(|shell| t.starts_with(shell))
                        })
                },
            )),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}
