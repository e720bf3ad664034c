//! One error type for the whole system. Each error carries a stable
//! snake_case code that clients (and the UI) can translate, plus a message in
//! Indonesian or English.

use serde::Serialize;
use std::fmt;

/// Language of human-readable messages. Indonesian is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` header value: English
    /// only when it is preferred over Indonesian.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("id") || tag.starts_with("in") {
                Lang::Id
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

macro_rules! error_codes {
    ($( $variant:ident => $code:literal, $status:literal, $id:literal, $en:literal; )*) => {
        /// Stable error codes. Never rename one: clients depend on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }
            /// The HTTP status this error maps to.
            pub fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }
            pub fn message(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::Id) => $id,
                       (ErrorCode::$variant, Lang::En) => $en, )*
                }
            }
        }
    };
}

error_codes! {
    InvalidJson => "invalid_json", 400, "Isi permintaan bukan JSON yang sah.", "The request body is not valid JSON.";
    InvalidEncoding => "invalid_encoding", 400, "Isi permintaan harus berupa teks UTF-8.", "The request body must be UTF-8 text.";
    UnsupportedMediaType => "unsupported_media_type", 415, "Jenis isi permintaan tidak didukung.", "The request content type is not supported.";
    BodyTooLarge => "body_too_large", 413, "Isi permintaan terlalu besar.", "The request body is too large.";
    ValidationFailed => "validation_failed", 422, "Data yang dikirim tidak sah.", "The submitted data is not valid.";
    InvalidQuery => "invalid_query", 400, "Parameter pencarian tidak sah.", "The query parameters are not valid.";
    UnknownRegion => "unknown_region", 422, "Kode wilayah tidak dikenal.", "Unknown region code.";
    UnknownInstitution => "unknown_institution", 422, "Instansi tidak dikenal.", "Unknown institution.";
    UnknownCategory => "unknown_category", 422, "Kategori tidak dikenal.", "Unknown category.";
    NotFound => "not_found", 404, "Data tidak ditemukan.", "Not found.";
    TransitionNotAllowed => "transition_not_allowed", 409, "Tindakan ini tidak dapat dilakukan pada status laporan saat ini.", "This action is not allowed in the report's current status.";
    StaleVersion => "stale_version", 409, "Laporan telah diubah oleh orang lain. Muat ulang lalu coba lagi.", "The report was changed by someone else. Reload and try again.";
    Conflict => "conflict", 409, "Data sudah ada.", "This already exists.";
    UnsupportedFileType => "unsupported_file_type", 415, "Jenis berkas tidak didukung. Kirim foto (JPEG, PNG, WebP, GIF), PDF, atau video (MP4, WebM).", "Unsupported file type. Send a photo (JPEG, PNG, WebP, GIF), a PDF or a video (MP4, WebM).";
    FileTooLarge => "file_too_large", 413, "Berkas terlalu besar (paling besar 10 MB per berkas).", "The file is too large (at most 10 MB per file).";
    TooManyFiles => "too_many_files", 422, "Terlalu banyak lampiran (paling banyak 5 berkas).", "Too many attachments (at most 5 files).";
    CsrfFailed => "csrf_failed", 403, "Formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu kirim lagi.", "The form has expired or is not valid. Reload the page and send it again.";
    Unauthenticated => "unauthenticated", 401, "Silakan masuk terlebih dahulu.", "Please sign in first.";
    InvalidCredentials => "invalid_credentials", 401, "Email/telepon atau kata sandi salah.", "Wrong e-mail/phone or password.";
    InvalidSecondFactor => "invalid_second_factor", 401, "Kode verifikasi salah atau sudah dipakai.", "The verification code is wrong or was already used.";
    AccountLocked => "account_locked", 429, "Terlalu banyak percobaan masuk yang gagal. Akun dikunci sementara; coba lagi nanti.", "Too many failed sign-in attempts. The account is locked for a while; try again later.";
    ResetLinkInvalid => "reset_link_invalid", 400, "Tautan atur ulang kata sandi tidak sah atau kedaluwarsa. Minta tautan baru.", "The password reset link is not valid or has expired. Ask for a new one.";
    Forbidden => "forbidden", 403, "Anda tidak berwenang melakukan tindakan ini.", "You are not allowed to do this.";
    RateLimited => "rate_limited", 429, "Terlalu banyak permintaan. Coba lagi nanti.", "Too many requests. Try again later.";
    MethodNotAllowed => "method_not_allowed", 405, "Metode HTTP tidak diizinkan untuk alamat ini.", "HTTP method not allowed for this path.";
    Unavailable => "unavailable", 503, "Layanan sedang sibuk. Coba lagi sebentar lagi.", "The service is busy. Try again shortly.";
    InvalidSignature => "invalid_signature", 401, "Tanda tangan webhook tidak sah.", "The webhook signature is not valid.";
    MalformedWebhook => "malformed_webhook", 400, "Isi webhook tidak dapat dibaca.", "The webhook body could not be read.";
    ChannelOff => "channel_off", 404, "Kanal ini tidak diaktifkan di instans ini.", "This channel is not enabled on this instance.";
    MalformedBody => "malformed_body", 400, "Isi permintaan tidak dapat dibaca.", "The request body could not be read.";
    InvalidApiKey => "invalid_api_key", 401, "Kunci API atau token akses tidak sah, kedaluwarsa, atau sudah dicabut.", "The API key or access token is not valid, has expired or was revoked.";
    InsufficientScope => "insufficient_scope", 403, "Kunci API ini tidak memiliki izin (scope) untuk tindakan ini.", "This API key does not carry the scope for this action.";
    InvalidCursor => "invalid_cursor", 400, "Kursor tidak sah. Gunakan nilai next_cursor dari jawaban sebelumnya.", "The cursor is not valid. Pass back the next_cursor of the previous response.";
    NotConnected => "not_connected", 409, "Instansi ini tidak terhubung sebagai sistem terintegrasi; minta admin nasional mengubah mode integrasinya.", "This institution is not connected as an integrated system; ask the national admin to change its integration mode.";
    Internal => "internal", 500, "Terjadi kesalahan pada server.", "Something went wrong on the server.";
}

/// The error type used across Lapor. `detail` is an optional English or
/// Indonesian sentence naming the field or value at fault; it never contains
/// another person's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub detail: Option<String>,
}

impl Error {
    pub fn new(code: ErrorCode) -> Self {
        Error { code, detail: None }
    }
    pub fn with(code: ErrorCode, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: Some(detail.into()),
        }
    }
    pub fn validation(detail: impl Into<String>) -> Self {
        Error::with(ErrorCode::ValidationFailed, detail)
    }
    pub fn transition(detail: impl Into<String>) -> Self {
        Error::with(ErrorCode::TransitionNotAllowed, detail)
    }
    pub fn not_found() -> Self {
        Error::new(ErrorCode::NotFound)
    }
    pub fn forbidden() -> Self {
        Error::new(ErrorCode::Forbidden)
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        Error::with(ErrorCode::Internal, detail)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_translated() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            assert_ne!(c.message(Lang::Id), c.message(Lang::En));
            assert!((400..600).contains(&c.http_status()));
        }
    }

    #[test]
    fn only_internal_and_unavailable_are_5xx() {
        for c in ErrorCode::ALL {
            let is5xx = c.http_status() >= 500;
            assert_eq!(is5xx, matches!(c, ErrorCode::Internal | ErrorCode::Unavailable));
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language(""), Lang::Id);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("id-ID,id;q=0.9,en;q=0.8"), Lang::Id);
        assert_eq!(Lang::from_accept_language("en;q=0.5, id;q=0.9"), Lang::Id);
        assert_eq!(Lang::from_accept_language("fr, en;q=0.3"), Lang::En);
        assert_eq!(Lang::from_accept_language("ja"), Lang::Id);
    }
}
