//! Files arriving with a report, from the web form or the API: read from
//! multipart bodies within the limits, then sniffed and cleaned.

use axum::extract::Multipart;
use axum::http::StatusCode;
use lapor_domain::media::{self, MAX_FILE_BYTES, MAX_FILES};
use lapor_domain::{Error, ErrorCode};
use lapor_store::NewAttachment;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An upload as received, before cleaning.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A multipart body: its text fields in order, the files of `file_field`,
/// and what was wrong with it.
pub struct Parts {
    pub text: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
    pub errors: Vec<Error>,
}

/// Reads a multipart body. File parts beyond the limits are drained and
/// reported, not kept; text fields are kept whatever happens, so a form can
/// be shown again as it was.
pub async fn read_multipart(mut mp: Multipart, file_field: &str) -> Parts {
    let mut p = Parts {
        text: Vec::new(),
        uploads: Vec::new(),
        errors: Vec::new(),
    };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ErrorCode::BodyTooLarge
                } else {
                    ErrorCode::ValidationFailed
                };
                p.errors.push(Error::with(code, "form"));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == file_field {
            let filename = field.file_name().unwrap_or("").to_string();
            let mut bytes = Vec::new();
            let mut too_large = false;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                            too_large = true;
                        } else {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        p.errors
                            .push(Error::with(ErrorCode::BodyTooLarge, file_field.to_string()));
                        return p;
                    }
                }
            }
            if filename.is_empty() && bytes.is_empty() {
                continue; // an empty file input
            }
            if too_large {
                p.errors.push(Error::with(ErrorCode::FileTooLarge, filename));
            } else if p.uploads.len() >= MAX_FILES {
                p.errors.push(Error::new(ErrorCode::TooManyFiles));
            } else {
                p.uploads.push(Upload { filename, bytes });
            }
        } else {
            match field.text().await {
                // Text fields are small; anything larger is cut by the
                // domain's own length checks.
                Ok(v) if v.len() <= 64 * 1024 => p.text.push((name, v)),
                Ok(_) => p.errors.push(Error::with(ErrorCode::ValidationFailed, name)),
                Err(_) => p.errors.push(Error::with(ErrorCode::InvalidEncoding, name)),
            }
        }
    }
    p
}

/// Cleans each upload: type sniffed from the bytes, metadata stripped.
pub fn clean_uploads(uploads: Vec<Upload>, errors: &mut Vec<Error>) -> Vec<NewAttachment> {
    let mut out = Vec::new();
    for u in uploads {
        match media::clean(&u.bytes) {
            Ok(cleaned) => out.push(NewAttachment {
                id: crate::auth::new_id("a-"),
                media_type: cleaned.media_type.as_str().to_string(),
                filename: media::safe_filename(&u.filename, cleaned.media_type),
                sha256: hex::encode(Sha256::digest(&cleaned.bytes)),
                data: Arc::new(cleaned.bytes),
            }),
            Err(e) => {
                let name = media::safe_filename(&u.filename, media::MediaType::Jpeg);
                let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&name).to_string();
                errors.push(Error {
                    code: e.code,
                    detail: Some(match e.detail {
                        Some(d) => format!("{stem}: {d}"),
                        None => stem,
                    }),
                });
            }
        }
    }
    out
}
