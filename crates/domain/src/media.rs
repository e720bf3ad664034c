//! Attachments to reports: deciding what a file is, and removing the personal
//! metadata it carries before it is stored.
//!
//! Citizens attach photos, PDFs and videos (at most [`MAX_FILES`] files of at
//! most [`MAX_FILE_BYTES`] each). The type is decided only by [`sniff`]ing the
//! bytes; the file name and the declared content type are never trusted, so an
//! HTML page or an executable renamed `.jpg` is refused. SVG is refused on
//! purpose (it can carry script), and so are HEIC/HEIF/AVIF and Matroska.
//!
//! [`clean`] then validates the container structure and strips metadata. The
//! output is never longer than the input and always sniffs as the same type.
//! What is removed, per format (the names appear in [`Cleaned::removed`]):
//!
//! * **JPEG**: every APPn segment except APP0 JFIF, APP2 ICC profile and
//!   APP14 Adobe (colour). That removes Exif (GPS, camera serial, time) as
//!   `exif`, XMP as `xmp`, Photoshop/IPTC as `iptc`, FlashPix and MPF as
//!   `flashpix`/`mpf`, anything else as `app-other`; COM as `comment`; and
//!   any bytes after EOI as `trailer` (phones append MPF secondary images or
//!   whole "motion photo" MP4s there, with their own metadata).
//! * **PNG**: `eXIf` (`exif`), `tEXt`/`zTXt`/`iTXt` (`png-text`, or `xmp` for
//!   the XMP packet), `tIME` (`png-time`), `caBX` C2PA manifests (`c2pa`) and
//!   bytes after IEND (`trailer`). Other chunks are kept byte for byte.
//! * **WebP**: `EXIF` and `XMP ` chunks, bytes after the RIFF end; the VP8X
//!   EXIF/XMP flags are cleared and the RIFF size rewritten.
//! * **GIF**: comment extensions (`comment`), XMP application extensions
//!   (`xmp`) and bytes after the trailer. GIF has no Exif or GPS field.
//! * **MP4/MOV**: `udta` and `meta` boxes at top level, in `moov` and in each
//!   `trak` (`mp4-udta`, `mp4-meta`: this is where `©xyz` and the QuickTime
//!   location key live) and XMP `uuid` boxes (`xmp`). They are overwritten in
//!   place by a zero-filled `free` box of the same size, so the file keeps its
//!   length and the chunk offsets in `stco`/`co64` stay valid.
//! * **WebM**: `Tags` (`webm-tags`; ffmpeg copies an MP4's `location` there)
//!   and `Attachments` (`webm-attachments`) are overwritten in place by an
//!   EBML `Void` element of the same size, so SeekHead and Cues offsets stay
//!   valid.
//! * **PDF**: kept unchanged. Document metadata (Author, Creator, XMP) and
//!   embedded images are *not* removed, and the file may contain scripts, so
//!   PDFs must only ever be served as downloads.
//!
//! Not covered: GPS inside the media data itself (e.g. GoPro GPMF telemetry
//! tracks in MP4), text visible in the picture, and PNG CRCs (not checked).

use serde::Serialize;

use crate::{Error, ErrorCode};

/// Largest accepted attachment, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most attachments one report may carry.
pub const MAX_FILES: usize = 5;

/// A supported attachment type, decided by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Gif,
    Pdf,
    Mp4,
    Webm,
}

impl MediaType {
    /// Every type, in declaration order.
    pub const ALL: [MediaType; 7] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Gif,
        MediaType::Pdf,
        MediaType::Mp4,
        MediaType::Webm,
    ];

    /// The content type to serve the stored file with.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Gif => "image/gif",
            MediaType::Pdf => "application/pdf",
            MediaType::Mp4 => "video/mp4",
            MediaType::Webm => "video/webm",
        }
    }

    /// The file extension (without the dot) that [`safe_filename`] forces.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Gif => "gif",
            MediaType::Pdf => "pdf",
            MediaType::Mp4 => "mp4",
            MediaType::Webm => "webm",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            MediaType::Jpeg | MediaType::Png | MediaType::Webp | MediaType::Gif
        )
    }

    pub fn is_video(self) -> bool {
        matches!(self, MediaType::Mp4 | MediaType::Webm)
    }

    /// The stable name, as serialised (`"jpeg"`, `"mp4"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpeg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Gif => "gif",
            MediaType::Pdf => "pdf",
            MediaType::Mp4 => "mp4",
            MediaType::Webm => "webm",
        }
    }

    /// The inverse of [`MediaType::as_str`].
    pub fn parse(s: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The result of [`clean`]: the bytes to store and what was taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
    /// Names of what was stripped, each at most once, in order of first
    /// appearance (e.g. `"exif"`, `"xmp"`, `"comment"`, `"mp4-udta"`).
    pub removed: Vec<&'static str>,
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

/// ISO BMFF major brands accepted as MP4/MOV video.
const MP4_BRANDS: [&[u8; 4]; 16] = [
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"qt  ", b"3gp4",
    b"3gp5", b"3g2a", b"dash", b"mmp4",
];

/// HEIF/AVIF still-image brands. A file listing one of these, even as a
/// compatible brand, is an image container we do not support.
const HEIF_BRANDS: [&[u8; 4]; 12] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1", b"avif", b"avis",
];

/// Decides the type from the leading bytes alone. Returns `None` for anything
/// unsupported, including HEIC/AVIF, Matroska and SVG. A `Some` only means the
/// signature matched; [`clean`] still validates the structure.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        Some(MediaType::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(MediaType::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        // Readers accept the header anywhere in the first KiB, which lets a
        // file be both HTML and PDF; we insist on offset 0.
        Some(MediaType::Pdf)
    } else if bytes.get(4..8) == Some(b"ftyp") {
        sniff_iso_bmff(bytes)
    } else if bytes.starts_with(&EBML_MAGIC) {
        match webm_header_end(bytes) {
            Ok((_, true)) => Some(MediaType::Webm),
            _ => None,
        }
    } else {
        None
    }
}

fn sniff_iso_bmff(bytes: &[u8]) -> Option<MediaType> {
    let major = bytes.get(8..12)?;
    if !MP4_BRANDS.iter().any(|b| b.as_slice() == major) {
        return None;
    }
    let size = be32(bytes, 0)? as usize;
    // size 0 means "to the end"; size 1 (64-bit size) is absurd for ftyp.
    let ftyp_end = match size {
        0 => bytes.len(),
        1 => return None,
        n => n.min(bytes.len()),
    };
    let compatible = bytes.get(16..ftyp_end).unwrap_or_default();
    if compatible
        .chunks_exact(4)
        .take(64)
        .any(|c| HEIF_BRANDS.iter().any(|b| b.as_slice() == c))
    {
        return None;
    }
    Some(MediaType::Mp4)
}

/// Validates and cleans one upload: size limit, sniffed type, metadata stripped.
pub fn clean(bytes: &[u8]) -> Result<Cleaned, Error> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::new(ErrorCode::FileTooLarge));
    }
    if bytes.is_empty() {
        return Err(Error::validation("the file is empty"));
    }
    let media_type = sniff(bytes).ok_or_else(|| Error::new(ErrorCode::UnsupportedFileType))?;
    let mut removed = Vec::new();
    let out = match media_type {
        MediaType::Jpeg => clean_jpeg(bytes, &mut removed)?,
        MediaType::Png => clean_png(bytes, &mut removed)?,
        MediaType::Webp => clean_webp(bytes, &mut removed)?,
        MediaType::Gif => clean_gif(bytes, &mut removed)?,
        MediaType::Mp4 => clean_mp4(bytes, &mut removed)?,
        MediaType::Webm => clean_webm(bytes, &mut removed)?,
        MediaType::Pdf => bytes.to_vec(),
    };
    debug_assert!(out.len() <= bytes.len());
    Ok(Cleaned {
        media_type,
        bytes: out,
        removed,
    })
}

/// Safe display filename: keeps a short, sanitised stem from the user's name
/// and forces the sniffed extension.
///
/// Only the last path component is used; a trailing short extension is
/// dropped; every run of characters other than Unicode letters and digits
/// becomes one `_` (or `-` if it started with a dash), so path separators,
/// dots, quotes, control and bidi-override characters cannot survive. The
/// stem is at most 40 characters; an empty stem becomes `lampiran`. The
/// result may contain non-ASCII letters, so HTTP headers must encode it
/// (`filename*=UTF-8''...`).
pub fn safe_filename(original: &str, t: MediaType) -> String {
    const MAX_STEM_CHARS: usize = 40;
    const FALLBACK: &str = "lampiran";

    let base = original.rsplit(['/', '\\']).next().unwrap_or_default();
    // Only treat the last dot as an extension if what follows looks like one,
    // so "Jl. Sudirman berlubang" keeps its words.
    let stem = match base.rfind('.') {
        Some(i)
            if (1..=5).contains(&(base.len() - i - 1)) && base[i + 1..].bytes().all(|c| c.is_ascii_alphanumeric()) =>
        {
            &base[..i]
        }
        _ => base,
    };

    let mut out = String::new();
    let mut chars = 0;
    let mut pending: Option<char> = None;
    for c in stem.chars() {
        if c.is_alphanumeric() {
            if chars >= MAX_STEM_CHARS {
                break;
            }
            if let Some(sep) = pending.take()
                && chars > 0
            {
                if chars + 1 >= MAX_STEM_CHARS {
                    break;
                }
                out.push(sep);
                chars += 1;
            }
            out.push(c);
            chars += 1;
        } else if pending.is_none() {
            pending = Some(if c == '-' { '-' } else { '_' });
        }
    }

    if out.is_empty() {
        out.push_str(FALLBACK);
    } else if is_windows_device_name(&out) {
        // "CON.jpg" still names a device on Windows once downloaded.
        out.insert_str(0, "lampiran_");
    }
    format!("{out}.{}", t.extension())
}

fn is_windows_device_name(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" => true,
        _ => {
            let b = upper.as_bytes();
            b.len() == 4 && (b.starts_with(b"COM") || b.starts_with(b"LPT")) && b[3].is_ascii_digit()
        }
    }
}

// ---------------------------------------------------------------------------
// Shared helpers

fn note(removed: &mut Vec<&'static str>, what: &'static str) {
    if !removed.contains(&what) {
        removed.push(what);
    }
}

fn corrupt(detail: &str) -> Error {
    Error::validation(detail)
}

fn slice(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    slice(b, at, 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s = slice(b, at, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

// ---------------------------------------------------------------------------
// JPEG

const JPEG_TRUNCATED: &str = "the JPEG file is truncated or a segment runs past its end";

fn clean_jpeg(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pos = 2;
    let mut seen_frame = false;

    // Header segments, up to and including the first SOS.
    loop {
        if b.get(pos) != Some(&0xFF) {
            return Err(if pos >= b.len() {
                corrupt(JPEG_TRUNCATED)
            } else {
                corrupt("the JPEG file has data where a marker was expected")
            });
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos).ok_or_else(|| corrupt(JPEG_TRUNCATED))?;
        pos += 1;
        match marker {
            0x00 | 0xD8 => return Err(corrupt("the JPEG file has an invalid marker")),
            0xD9 => return Err(corrupt("the JPEG file ends before any image data")),
            0x01 | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, marker]),
            _ => {
                // SOF0..SOF15, minus DHT (C4), JPG (C8) and DAC (CC).
                if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    seen_frame = true;
                }
                if marker == 0xDA && !seen_frame {
                    return Err(corrupt("the JPEG file has a scan before its frame header"));
                }
                pos = jpeg_segment(b, pos, marker, &mut out, removed)?;
                if marker == 0xDA {
                    break;
                }
            }
        }
    }

    // Entropy-coded data. A 0xFF inside it is followed by 0x00 (stuffing) or
    // RSTn; anything else is a marker: DHT/SOS etc. between progressive
    // scans, or EOI.
    let mut start = pos;
    let mut i = pos;
    loop {
        let Some(off) = b[i..].iter().position(|&x| x == 0xFF) else {
            // No EOI: keep what there is, as decoders do.
            out.extend_from_slice(&b[start..]);
            break;
        };
        let ff = i + off;
        let mut j = ff + 1;
        while b.get(j) == Some(&0xFF) {
            j += 1;
        }
        let Some(&m) = b.get(j) else {
            out.extend_from_slice(&b[start..]);
            break;
        };
        if m == 0x00 || (0xD0..=0xD7).contains(&m) {
            i = j + 1;
            continue;
        }
        out.extend_from_slice(&b[start..ff]);
        pos = j + 1;
        match m {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                if pos < b.len() {
                    note(removed, "trailer");
                }
                break;
            }
            0x01 => out.extend_from_slice(&[0xFF, m]),
            0xD8 => return Err(corrupt("the JPEG file has an invalid marker")),
            _ => pos = jpeg_segment(b, pos, m, &mut out, removed)?,
        }
        start = pos;
        i = pos;
    }
    Ok(out)
}

/// Copies or drops the length-prefixed segment whose length field starts at
/// `pos`; returns the position after it.
fn jpeg_segment(
    b: &[u8],
    pos: usize,
    marker: u8,
    out: &mut Vec<u8>,
    removed: &mut Vec<&'static str>,
) -> Result<usize, Error> {
    let len = be16(b, pos).ok_or_else(|| corrupt(JPEG_TRUNCATED))? as usize;
    if len < 2 {
        return Err(corrupt("the JPEG file has a segment with an invalid length"));
    }
    let end = pos + len;
    if end > b.len() {
        return Err(corrupt(JPEG_TRUNCATED));
    }
    match jpeg_strip_name(marker, &b[pos + 2..end]) {
        Some(name) => note(removed, name),
        None => {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&b[pos..end]);
        }
    }
    Ok(end)
}

/// `None` keeps the segment; `Some(name)` drops it.
fn jpeg_strip_name(marker: u8, payload: &[u8]) -> Option<&'static str> {
    match marker {
        // JFIF is needed by some decoders; its optional thumbnail is raw RGB.
        0xE0 if payload.starts_with(b"JFIF\0") => None,
        0xE1 if payload.starts_with(b"Exif") => Some("exif"),
        0xE1 if payload.starts_with(b"http://ns.adobe.com/") => Some("xmp"),
        // Colour profile: dropping it would change how the photo looks.
        0xE2 if payload.starts_with(b"ICC_PROFILE\0") => None,
        0xE2 if payload.starts_with(b"MPF\0") => Some("mpf"),
        0xE2 if payload.starts_with(b"FPXR\0") => Some("flashpix"),
        0xED => Some("iptc"),
        // Adobe APP14 says whether 3/4 components are YCbCr or RGB/CMYK.
        0xEE if payload.starts_with(b"Adobe") => None,
        0xE0..=0xEF => Some("app-other"),
        0xFE => Some("comment"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// PNG

const PNG_TRUNCATED: &str = "the PNG file is truncated or a chunk runs past its end";

fn clean_png(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&PNG_SIGNATURE);
    let mut pos = PNG_SIGNATURE.len();
    let mut first = true;
    let mut has_idat = false;
    loop {
        let len = be32(b, pos).ok_or_else(|| corrupt(PNG_TRUNCATED))? as usize;
        let ty = slice(b, pos + 4, 4).ok_or_else(|| corrupt(PNG_TRUNCATED))?;
        if len > 0x7FFF_FFFF || !ty.iter().all(u8::is_ascii_alphabetic) {
            return Err(corrupt("the PNG file has an invalid chunk header"));
        }
        let end = pos + 12 + len;
        if end > b.len() {
            return Err(corrupt(PNG_TRUNCATED));
        }
        if first && (ty != b"IHDR" || len != 13) {
            return Err(corrupt("the PNG file does not start with an IHDR chunk"));
        }
        first = false;
        let data = &b[pos + 8..pos + 8 + len];
        let strip = match ty {
            b"eXIf" | b"exIf" => Some("exif"),
            b"iTXt" if data.starts_with(b"XML:com.adobe.xmp\0") => Some("xmp"),
            b"tEXt" | b"zTXt" | b"iTXt" => Some("png-text"),
            b"tIME" => Some("png-time"),
            // C2PA manifests can carry location assertions, and stripping
            // anything else invalidates their signature anyway.
            b"caBX" => Some("c2pa"),
            _ => None,
        };
        match strip {
            Some(name) => note(removed, name),
            None => out.extend_from_slice(&b[pos..end]),
        }
        has_idat |= ty == b"IDAT";
        pos = end;
        if ty == b"IEND" {
            break;
        }
    }
    if !has_idat {
        return Err(corrupt("the PNG file has no image data"));
    }
    if pos < b.len() {
        note(removed, "trailer");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// WebP

const WEBP_TRUNCATED: &str = "the WebP file is truncated or a chunk runs past its end";

fn clean_webp(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    let riff_size = le32(b, 4).ok_or_else(|| corrupt(WEBP_TRUNCATED))? as usize;
    if riff_size < 4 || riff_size > b.len() - 8 {
        return Err(corrupt(WEBP_TRUNCATED));
    }
    let end = 8 + riff_size;
    let mut out = Vec::with_capacity(end);
    out.extend_from_slice(&b[..12]);
    let mut pos = 12;
    let mut vp8x_flags = None;
    let mut has_image = false;
    while pos < end {
        let fourcc = slice(b, pos, 4)
            .filter(|_| end - pos >= 8)
            .ok_or_else(|| corrupt(WEBP_TRUNCATED))?;
        let size = le32(b, pos + 4).ok_or_else(|| corrupt(WEBP_TRUNCATED))? as usize;
        // Odd-sized payloads are followed by one padding byte.
        let next = size
            .checked_add(size & 1)
            .and_then(|s| s.checked_add(pos + 8))
            .filter(|&n| n <= end);
        let next = next.ok_or_else(|| corrupt(WEBP_TRUNCATED))?;
        match fourcc {
            b"EXIF" => note(removed, "exif"),
            b"XMP " => note(removed, "xmp"),
            _ => {
                if fourcc == b"VP8X" {
                    if pos != 12 || size < 10 {
                        return Err(corrupt("the WebP file has a misplaced or short VP8X chunk"));
                    }
                    vp8x_flags = Some(out.len() + 8);
                }
                has_image |= matches!(fourcc, b"VP8 " | b"VP8L" | b"ANMF");
                out.extend_from_slice(&b[pos..next]);
            }
        }
        pos = next;
    }
    if !has_image {
        return Err(corrupt("the WebP file has no image data"));
    }
    if let Some(at) = vp8x_flags {
        // Bit 3 = EXIF present, bit 2 = XMP present; neither is any more.
        out[at] &= !0x0C;
    }
    if end < b.len() {
        note(removed, "trailer");
    }
    let riff_out = u32::try_from(out.len() - 8).map_err(|_| corrupt(WEBP_TRUNCATED))?;
    out[4..8].copy_from_slice(&riff_out.to_le_bytes());
    Ok(out)
}

// ---------------------------------------------------------------------------
// GIF

const GIF_TRUNCATED: &str = "the GIF file is truncated";

fn clean_gif(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    // Header (6) + logical screen descriptor (7) + optional global palette.
    let packed = *b.get(10).ok_or_else(|| corrupt(GIF_TRUNCATED))?;
    let mut pos = 13 + gif_palette_len(packed);
    if pos > b.len() {
        return Err(corrupt(GIF_TRUNCATED));
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..pos]);
    let mut images = 0;
    // A GIF that stops cleanly between blocks without its trailer byte is
    // still shown by browsers, so it is accepted as it is.
    while let Some(&introducer) = b.get(pos) {
        match introducer {
            0x3B => {
                out.push(0x3B);
                if pos + 1 < b.len() {
                    note(removed, "trailer");
                }
                break;
            }
            0x2C => {
                // Image descriptor (10), local palette, LZW code size (1), data.
                let packed = *b.get(pos + 9).ok_or_else(|| corrupt(GIF_TRUNCATED))?;
                let data = pos + 10 + gif_palette_len(packed) + 1;
                let end = gif_sub_blocks_end(b, data)?;
                out.extend_from_slice(&b[pos..end]);
                images += 1;
                pos = end;
            }
            0x21 => {
                let label = *b.get(pos + 1).ok_or_else(|| corrupt(GIF_TRUNCATED))?;
                let end = gif_sub_blocks_end(b, pos + 2)?;
                let first_block = &b[pos + 2..end];
                if label == 0xFE {
                    note(removed, "comment");
                } else if label == 0xFF && first_block.starts_with(b"\x0BXMP DataXMP") {
                    note(removed, "xmp");
                } else {
                    out.extend_from_slice(&b[pos..end]);
                }
                pos = end;
            }
            _ => return Err(corrupt("the GIF file has an unknown block")),
        }
    }
    if images == 0 {
        return Err(corrupt("the GIF file has no image data"));
    }
    Ok(out)
}

fn gif_palette_len(packed: u8) -> usize {
    if packed & 0x80 == 0 { 0 } else { 3 << ((packed & 7) + 1) }
}

/// The position after a chain of data sub-blocks starting at `pos`.
fn gif_sub_blocks_end(b: &[u8], mut pos: usize) -> Result<usize, Error> {
    loop {
        let n = *b.get(pos).ok_or_else(|| corrupt(GIF_TRUNCATED))? as usize;
        pos += 1 + n;
        if n == 0 {
            return Ok(pos);
        }
        if pos > b.len() {
            return Err(corrupt(GIF_TRUNCATED));
        }
    }
}

// ---------------------------------------------------------------------------
// MP4 / ISO base media file format

const MP4_TRUNCATED: &str = "the video file is truncated or a box size is inconsistent";

/// `be7acfcb-97a9-42e8-9c71-999491e3afac`: the XMP packet box.
const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

struct Bmff {
    ty: [u8; 4],
    /// Length of the size/type fields (8, or 16 with a 64-bit size).
    size_len: usize,
    /// Where the payload starts (after the `uuid` user type, if any).
    body: usize,
    end: usize,
}

fn read_box(b: &[u8], pos: usize, limit: usize) -> Result<Bmff, Error> {
    let err = || corrupt(MP4_TRUNCATED);
    if limit - pos < 8 {
        return Err(err());
    }
    let size32 = be32(b, pos).ok_or_else(err)?;
    let mut ty = [0u8; 4];
    ty.copy_from_slice(&b[pos + 4..pos + 8]);
    let (size_len, size) = match size32 {
        // Size 0: the box runs to the end of its container.
        0 => (8, limit - pos),
        1 => {
            if limit - pos < 16 {
                return Err(err());
            }
            let large = be64(b, pos + 8).ok_or_else(err)?;
            (16, usize::try_from(large).map_err(|_| err())?)
        }
        n => (8, n as usize),
    };
    let body = size_len + if &ty == b"uuid" { 16 } else { 0 };
    if size < body || size > limit - pos {
        return Err(err());
    }
    Ok(Bmff {
        ty,
        size_len,
        body: pos + body,
        end: pos + size,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BmffLevel {
    Top,
    Moov,
    Trak,
}

fn clean_mp4(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    let mut out = b.to_vec();
    let (mut has_moov, mut has_mdat) = (false, false);
    let mut pos = 0;
    while pos < b.len() {
        let bx = read_box(b, pos, b.len())?;
        if pos == 0 && &bx.ty != b"ftyp" {
            return Err(corrupt(MP4_TRUNCATED));
        }
        has_moov |= &bx.ty == b"moov";
        has_mdat |= &bx.ty == b"mdat";
        mp4_visit(b, &mut out, pos, &bx, BmffLevel::Top, removed)?;
        pos = bx.end;
    }
    if !has_moov {
        return Err(corrupt("the video file has no movie header (moov)"));
    }
    if !has_mdat {
        return Err(corrupt("the video file has no media data (mdat)"));
    }
    Ok(out)
}

fn mp4_visit(
    b: &[u8],
    out: &mut [u8],
    pos: usize,
    bx: &Bmff,
    level: BmffLevel,
    removed: &mut Vec<&'static str>,
) -> Result<(), Error> {
    let strip = match &bx.ty {
        b"udta" => Some("mp4-udta"),
        b"meta" => Some("mp4-meta"),
        b"uuid" if b[bx.body - 16..bx.body] == XMP_UUID => Some("xmp"),
        _ => None,
    };
    if let Some(name) = strip {
        // Same size, type `free`, zeroed content: nothing after it moves.
        out[pos + 4..pos + 8].copy_from_slice(b"free");
        out[pos + bx.size_len..bx.end].fill(0);
        note(removed, name);
        return Ok(());
    }
    let child_level = match (level, &bx.ty) {
        (BmffLevel::Top, b"moov") => BmffLevel::Moov,
        (BmffLevel::Moov, b"trak") => BmffLevel::Trak,
        _ => return Ok(()),
    };
    let mut p = bx.body;
    while p < bx.end {
        let child = read_box(b, p, bx.end)?;
        mp4_visit(b, out, p, &child, child_level, removed)?;
        p = child.end;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// WebM (EBML)

const WEBM_TRUNCATED: &str = "the WebM file is truncated or an element size is inconsistent";

const EBML_HEADER_ID: u32 = 0x1A45_DFA3;
const EBML_DOCTYPE_ID: u32 = 0x4282;
const SEGMENT_ID: u32 = 0x1853_8067;
const CLUSTER_ID: u32 = 0x1F43_B675;
const TAGS_ID: u32 = 0x1254_C367;
const ATTACHMENTS_ID: u32 = 0x1941_A469;
const VOID_ID: u8 = 0xEC;
/// Elements that may follow a Cluster directly inside a Segment; one of them
/// ends a Cluster of unknown size (as written by live recorders).
const SEGMENT_CHILD_IDS: [u32; 10] = [
    0x114D_9B74, // SeekHead
    0x1549_A966, // Info
    0x1654_AE6B, // Tracks
    0x1043_A770, // Chapters
    CLUSTER_ID,
    0x1C53_BB6B, // Cues
    ATTACHMENTS_ID,
    TAGS_ID,
    EBML_HEADER_ID,
    SEGMENT_ID,
];

struct Ebml {
    id: u32,
    /// Where the payload starts.
    body: usize,
    /// Payload size; `None` for "unknown size".
    size: Option<usize>,
}

/// An element ID: 1 to 4 bytes, length marker kept as part of the value.
fn ebml_id(b: &[u8], pos: usize) -> Option<(u32, usize)> {
    let first = *b.get(pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let bytes = slice(b, pos, len)?;
    Some((bytes.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)), len))
}

/// A data size: 1 to 8 bytes, marker removed; all value bits set = unknown.
fn ebml_size(b: &[u8], pos: usize) -> Option<(Option<u64>, usize)> {
    let first = *b.get(pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let bytes = slice(b, pos, len)?;
    let mask = if len == 8 { 0 } else { 0xFFu8 >> len };
    let value = bytes[1..]
        .iter()
        .fold(u64::from(first & mask), |acc, &x| (acc << 8) | u64::from(x));
    let unknown = value == (1u64 << (7 * len)) - 1;
    Some((if unknown { None } else { Some(value) }, len))
}

fn read_ebml(b: &[u8], pos: usize, limit: usize) -> Result<Ebml, Error> {
    let err = || corrupt(WEBM_TRUNCATED);
    let (id, id_len) = ebml_id(b, pos).ok_or_else(err)?;
    let (size, size_len) = ebml_size(b, pos + id_len).ok_or_else(err)?;
    let body = pos + id_len + size_len;
    if body > limit {
        return Err(err());
    }
    let size = match size {
        None => None,
        Some(s) => {
            let s = usize::try_from(s).map_err(|_| err())?;
            if s > limit - body {
                return Err(err());
            }
            Some(s)
        }
    };
    Ok(Ebml { id, body, size })
}

/// Parses the EBML header: returns where it ends and whether its DocType is
/// exactly "webm" (Matroska proper is not supported).
fn webm_header_end(b: &[u8]) -> Result<(usize, bool), Error> {
    let header = read_ebml(b, 0, b.len())?;
    let size = header
        .size
        .filter(|_| header.id == EBML_HEADER_ID)
        .ok_or_else(|| corrupt(WEBM_TRUNCATED))?;
    let end = header.body + size;
    let mut pos = header.body;
    let mut is_webm = false;
    while pos < end {
        let el = read_ebml(b, pos, end)?;
        let size = el.size.ok_or_else(|| corrupt(WEBM_TRUNCATED))?;
        if el.id == EBML_DOCTYPE_ID {
            let value = &b[el.body..el.body + size];
            let trimmed = value
                .iter()
                .rposition(|&c| c != 0)
                .map_or(&value[..0], |i| &value[..=i]);
            is_webm = trimmed == b"webm";
        }
        pos = el.body + size;
    }
    Ok((end, is_webm))
}

fn clean_webm(b: &[u8], removed: &mut Vec<&'static str>) -> Result<Vec<u8>, Error> {
    let mut out = b.to_vec();
    let (mut pos, _) = webm_header_end(b)?;
    let mut has_segment = false;
    while pos < b.len() {
        let el = read_ebml(b, pos, b.len())?;
        pos = if el.id == SEGMENT_ID {
            has_segment = true;
            webm_segment(b, &mut out, &el, removed)?
        } else {
            el.body + el.size.ok_or_else(|| corrupt(WEBM_TRUNCATED))?
        };
    }
    if !has_segment {
        return Err(corrupt("the WebM file has no segment"));
    }
    Ok(out)
}

/// Walks the children of a Segment, voiding Tags and Attachments; returns
/// where the Segment ends.
fn webm_segment(b: &[u8], out: &mut [u8], seg: &Ebml, removed: &mut Vec<&'static str>) -> Result<usize, Error> {
    let end = seg.size.map_or(b.len(), |s| seg.body + s);
    let mut pos = seg.body;
    while pos < end {
        let el = read_ebml(b, pos, end)?;
        if seg.size.is_none() && matches!(el.id, EBML_HEADER_ID | SEGMENT_ID) {
            // An unknown-size Segment ends where the next one starts.
            return Ok(pos);
        }
        let el_end = match el.size {
            Some(s) => el.body + s,
            None if el.id == CLUSTER_ID => webm_unknown_cluster_end(b, el.body, end)?,
            None => return Err(corrupt(WEBM_TRUNCATED)),
        };
        let strip = match el.id {
            TAGS_ID => Some("webm-tags"),
            ATTACHMENTS_ID => Some("webm-attachments"),
            _ => None,
        };
        if let Some(name) = strip {
            write_void(&mut out[pos..el_end]);
            note(removed, name);
        }
        pos = el_end;
    }
    Ok(end)
}

fn webm_unknown_cluster_end(b: &[u8], mut pos: usize, limit: usize) -> Result<usize, Error> {
    while pos < limit {
        let el = read_ebml(b, pos, limit)?;
        if SEGMENT_CHILD_IDS.contains(&el.id) {
            return Ok(pos);
        }
        pos = el.body + el.size.ok_or_else(|| corrupt(WEBM_TRUNCATED))?;
    }
    Ok(limit)
}

/// Overwrites an element with a zero-filled Void element of exactly the same
/// length. The size field may use a non-minimal width, which EBML allows.
fn write_void(el: &mut [u8]) {
    // Tags/Attachments have 4-byte IDs and at least a 1-byte size.
    debug_assert!(el.len() >= 5);
    let size_len = (el.len() - 1).min(8);
    let payload = (el.len() - 1 - size_len) as u64;
    let encoded = (1u64 << (7 * size_len)) | payload;
    el[0] = VOID_ID;
    el[1..=size_len].copy_from_slice(&encoded.to_be_bytes()[8 - size_len..]);
    el[1 + size_len..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- fixture builders -------------------------------------------------

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in data {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn jpeg_seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    const GPS: &[u8] = b"GPSLatitude-6.2088,106.8456";

    /// A baseline 8x8 greyscale JPEG skeleton full of metadata.
    fn sample_jpeg() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(jpeg_seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut exif = b"Exif\0\0MM\0\x2A\0\0\0\x08".to_vec();
        exif.extend_from_slice(GPS);
        v.extend(jpeg_seg(0xE1, &exif));
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
        xmp.extend_from_slice(GPS);
        v.extend(jpeg_seg(0xE1, &xmp));
        v.extend(jpeg_seg(0xE2, b"ICC_PROFILE\0\x01\x01profile-bytes"));
        v.extend(jpeg_seg(0xE2, b"MPF\0II*\0"));
        v.extend(jpeg_seg(0xED, b"Photoshop 3.0\08BIM\x04\x04byline"));
        v.extend(jpeg_seg(0xEB, b"JP\0\0jumbf"));
        v.extend(jpeg_seg(0xFE, b"shot at Jl. Sudirman"));
        v.extend(jpeg_seg(0xEE, b"Adobe\0\x64\0\0\0\0\x01"));
        let mut dqt = vec![0u8];
        dqt.extend([1u8; 64]);
        v.extend(jpeg_seg(0xDB, &dqt));
        v.extend(jpeg_seg(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
        v.extend(jpeg_seg(
            0xC4,
            &[0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ));
        v.extend([0xFF, 0xDD, 0, 4, 0, 1]); // DRI
        v.extend(jpeg_seg(0xDA, &[1, 1, 0x00, 0, 63, 0]));
        // Entropy data with byte stuffing and a restart marker.
        v.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78]);
        v.extend([0xFF, 0xD9]);
        v.extend_from_slice(b"trailing motion photo ");
        v.extend_from_slice(GPS);
        v
    }

    fn png_chunk(ty: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(ty);
        v.extend_from_slice(data);
        let mut crc_input = ty.to_vec();
        crc_input.extend_from_slice(data);
        v.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        v
    }

    /// A real, decodable 1x1 white greyscale PNG with metadata chunks.
    fn sample_png() -> Vec<u8> {
        let mut v = PNG_SIGNATURE.to_vec();
        v.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        let mut text = b"Comment\0".to_vec();
        text.extend_from_slice(GPS);
        v.extend(png_chunk(b"tEXt", &text));
        let mut exif = b"MM\0\x2A\0\0\0\x08".to_vec();
        exif.extend_from_slice(GPS);
        v.extend(png_chunk(b"eXIf", &exif));
        let mut xmp = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
        xmp.extend_from_slice(GPS);
        v.extend(png_chunk(b"iTXt", &xmp));
        v.extend(png_chunk(b"tIME", &[0x07, 0xE8, 1, 2, 3, 4, 5]));
        v.extend(png_chunk(b"gAMA", &45455u32.to_be_bytes()));
        // zlib stream with one stored block: filter byte 0, pixel 0xFF.
        let raw = [0u8, 0xFF];
        let mut z = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF];
        z.extend_from_slice(&raw);
        z.extend_from_slice(&adler32(&raw).to_be_bytes());
        v.extend(png_chunk(b"IDAT", &z));
        v.extend(png_chunk(b"IEND", &[]));
        v
    }

    fn riff_chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = fourcc.to_vec();
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        if data.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    fn riff_webp(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
        v.extend_from_slice(b"WEBP");
        v.extend(body);
        v
    }

    fn sample_webp() -> Vec<u8> {
        // Flags: ICC (0x20) | EXIF (0x08) | XMP (0x04); canvas 1x1.
        let vp8x = [0x2C, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut exif = b"MM\0\x2A\0\0\0\x08".to_vec();
        exif.extend_from_slice(GPS); // odd length: exercises the pad byte
        let mut xmp = b"<x:xmpmeta>".to_vec();
        xmp.extend_from_slice(GPS);
        riff_webp(&[
            riff_chunk(b"VP8X", &vp8x),
            riff_chunk(b"ICCP", b"icc"),
            riff_chunk(b"VP8L", &[0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11]),
            riff_chunk(b"EXIF", &exif),
            riff_chunk(b"XMP ", &xmp),
        ])
    }

    fn sample_gif() -> Vec<u8> {
        let mut v = b"GIF89a".to_vec();
        v.extend([1, 0, 1, 0, 0x80, 0, 0]); // 1x1, 2-colour global palette
        v.extend([0, 0, 0, 0xFF, 0xFF, 0xFF]);
        v.extend([0x21, 0xFF, 11]);
        v.extend_from_slice(b"NETSCAPE2.0");
        v.extend([3, 1, 0, 0, 0]);
        v.extend([0x21, 0xFE, GPS.len() as u8]);
        v.extend_from_slice(GPS);
        v.push(0);
        v.extend([0x21, 0xFF, 11]);
        v.extend_from_slice(b"XMP DataXMP");
        v.push(GPS.len() as u8);
        v.extend_from_slice(GPS);
        v.push(0);
        v.extend([0x21, 0xF9, 4, 0, 0, 0, 0, 0]); // graphic control
        v.extend([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        v.extend([2, 2, 0x4C, 0x01, 0]); // LZW data
        v.push(0x3B);
        v
    }

    fn mp4_box(ty: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(ty);
        v.extend_from_slice(payload);
        v
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let mut p = major.to_vec();
        p.extend([0, 0, 2, 0]);
        for c in compatible {
            p.extend_from_slice(*c);
        }
        mp4_box(b"ftyp", &p)
    }

    const XYZ: &[u8] = b"+01.2345+106.8000/";

    fn location_udta() -> Vec<u8> {
        let mut xyz = vec![0, XYZ.len() as u8, 0x15, 0xC7];
        xyz.extend_from_slice(XYZ);
        mp4_box(b"udta", &mp4_box(b"\xA9xyz", &xyz))
    }

    /// Returns the file and the offset of the mdat payload.
    fn sample_mp4() -> (Vec<u8>, usize) {
        let mut v = ftyp(b"isom", &[b"isom", b"iso2", b"mp41"]);
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(mp4_box(b"keys", b"com.apple.quicktime.location.ISO6709"));
        meta.extend(mp4_box(b"ilst", XYZ));
        let stco = mp4_box(b"stco", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
        let mdia = mp4_box(b"mdia", &mp4_box(b"minf", &mp4_box(b"stbl", &stco)));
        let mut trak = mp4_box(b"tkhd", &[0; 20]);
        trak.extend(mdia);
        trak.extend(location_udta());
        let mut moov = mp4_box(b"mvhd", &[0; 20]);
        moov.extend(location_udta());
        moov.extend(mp4_box(b"meta", &meta));
        moov.extend(mp4_box(b"trak", &trak));
        v.extend(mp4_box(b"moov", &moov));
        let mut uuid = XMP_UUID.to_vec();
        uuid.extend_from_slice(XYZ);
        v.extend(mp4_box(b"uuid", &uuid));
        let mdat_at = v.len() + 8;
        v.extend(mp4_box(b"mdat", b"\0\0\0\x10sample-data-frame"));
        (v, mdat_at)
    }

    fn ebml_el(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = id.to_be_bytes().iter().copied().skip_while(|&x| x == 0).collect();
        // 8-byte size field keeps the builder simple.
        v.extend_from_slice(&((1u64 << 56) | payload.len() as u64).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn ebml_header(doctype: &[u8]) -> Vec<u8> {
        let mut h = ebml_el(0x4286, &[1]);
        h.extend(ebml_el(0x4282, doctype));
        h.extend(ebml_el(0x4287, &[4]));
        ebml_el(EBML_HEADER_ID, &h)
    }

    /// A live-recorder style WebM: unknown-size Segment and Cluster.
    fn sample_webm() -> Vec<u8> {
        let mut v = ebml_header(b"webm");
        v.extend([0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        v.extend(ebml_el(0x1549_A966, &ebml_el(0x2AD7B1, &[0x0F, 0x42, 0x40])));
        let simple_tag = [ebml_el(0x45A3, b"LOCATION"), ebml_el(0x4487, XYZ)].concat();
        v.extend(ebml_el(TAGS_ID, &ebml_el(0x7373, &ebml_el(0x67C8, &simple_tag))));
        v.extend([0x1F, 0x43, 0xB6, 0x75, 0xFF]); // Cluster, unknown size (1-byte form)
        v.extend([0xE7, 0x81, 0x00]); // Timestamp 0
        v.extend([0xA3, 0x86, 0x81, 0x00, 0x00, 0x80, 0xAB, 0xCD]); // SimpleBlock
        v.extend(ebml_el(0x1C53_BB6B, &[0xBB, 0x80])); // Cues after the cluster
        v
    }

    fn code(r: Result<Cleaned, Error>) -> ErrorCode {
        r.expect_err("expected an error").code
    }

    /// Invariants that must hold for every input: no panic, and on success
    /// the output is no longer, sniffs the same and is a fixed point.
    fn check_invariants(input: &[u8]) {
        if let Ok(c) = clean(input) {
            assert!(c.bytes.len() <= input.len());
            assert_eq!(sniff(&c.bytes), Some(c.media_type));
            assert_eq!(sniff(input), Some(c.media_type));
            let again = clean(&c.bytes).expect("cleaned output must clean again");
            assert_eq!(again.bytes, c.bytes);
        }
    }

    // ---- MediaType ----------------------------------------------------------

    #[test]
    fn media_type_names_round_trip() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
            assert!(t.mime().contains('/'));
            assert!(!(t.is_image() && t.is_video()));
        }
        assert_eq!(MediaType::parse("JPEG"), None);
        assert_eq!(MediaType::parse("svg"), None);
        assert_eq!(MediaType::Jpeg.extension(), "jpg");
        assert!(MediaType::Webp.is_image() && MediaType::Webm.is_video());
        assert!(!MediaType::Pdf.is_image() && !MediaType::Pdf.is_video());
    }

    // ---- sniffing -------------------------------------------------------------

    #[test]
    fn sniffs_each_supported_type() {
        assert_eq!(sniff(&sample_jpeg()), Some(MediaType::Jpeg));
        assert_eq!(sniff(&sample_png()), Some(MediaType::Png));
        assert_eq!(sniff(&sample_webp()), Some(MediaType::Webp));
        assert_eq!(sniff(&sample_gif()), Some(MediaType::Gif));
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0\0\0\0"), Some(MediaType::Gif));
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), Some(MediaType::Pdf));
        assert_eq!(sniff(&sample_mp4().0), Some(MediaType::Mp4));
        assert_eq!(sniff(&sample_webm()), Some(MediaType::Webm));
        for brand in [b"qt  ", b"mp42", b"M4V ", b"3gp4", b"dash", b"avc1"] {
            assert_eq!(sniff(&ftyp(brand, &[brand])), Some(MediaType::Mp4));
        }
    }

    #[test]
    fn sniff_rejects_disguised_and_unsupported_files() {
        let disguised: Vec<(&str, Vec<u8>)> = vec![
            ("html", b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec()),
            ("html with BOM", b"\xEF\xBB\xBF<html><body>".to_vec()),
            ("zip", b"PK\x03\x04\x14\0\0\0\x08\0".to_vec()),
            ("elf", b"\x7FELF\x02\x01\x01\0\0\0\0\0".to_vec()),
            ("exe", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF".to_vec()),
            (
                "svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            ),
            ("svg xml", b"<?xml version=\"1.0\"?>\n<svg><script/></svg>".to_vec()),
            ("heic", ftyp(b"heic", &[b"mif1", b"heic"])),
            ("avif", ftyp(b"avif", &[b"avif", b"mif1"])),
            ("mif1", ftyp(b"mif1", &[b"heic"])),
            ("isom+heic", ftyp(b"isom", &[b"isom", b"heic"])),
            ("m4a", ftyp(b"M4A ", &[b"M4A "])),
            (
                "matroska",
                [ebml_header(b"matroska"), ebml_el(SEGMENT_ID, &[])].concat(),
            ),
            ("bare ebml", EBML_MAGIC.to_vec()),
            ("wav", b"RIFF\x04\0\0\0WAVE".to_vec()),
            ("pdf not at 0", b" %PDF-1.4".to_vec()),
            ("jpeg magic only partly", vec![0xFF, 0xD8]),
            ("text", b"hello".to_vec()),
        ];
        for (name, bytes) in disguised {
            assert_eq!(sniff(&bytes), None, "{name}");
            assert_eq!(code(clean(&bytes)), ErrorCode::UnsupportedFileType, "{name}");
        }
    }

    // ---- JPEG -----------------------------------------------------------------

    #[test]
    fn jpeg_loses_metadata_and_keeps_image_data() {
        let input = sample_jpeg();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Jpeg);
        assert!(!contains(&c.bytes, b"GPS"));
        assert!(!contains(&c.bytes, b"Sudirman"));
        assert!(!contains(&c.bytes, b"Photoshop"));
        assert!(!contains(&c.bytes, b"MPF\0"));
        assert!(!contains(&c.bytes, b"jumbf"));
        assert_eq!(
            c.removed,
            ["exif", "xmp", "mpf", "iptc", "app-other", "comment", "trailer"]
        );
        assert!(contains(&c.bytes, b"JFIF\0"));
        assert!(contains(&c.bytes, b"ICC_PROFILE\0"));
        assert!(contains(&c.bytes, b"Adobe"));
        assert!(c.bytes.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
        // Tables, frame, scan header and entropy data survive untouched.
        let dqt = input.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
        let eoi = input.windows(2).position(|w| w == [0xFF, 0xD9]).unwrap() + 2;
        assert!(c.bytes.ends_with(&input[dqt..eoi]));
        // Cleaning is idempotent.
        let again = clean(&c.bytes).unwrap();
        assert_eq!(again.bytes, c.bytes);
        assert!(again.removed.is_empty());
    }

    #[test]
    fn jpeg_progressive_scans_are_walked_and_between_scan_metadata_dropped() {
        let mut v = vec![0xFF, 0xD8];
        v.extend(jpeg_seg(0xC2, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
        v.extend(jpeg_seg(0xDA, &[1, 1, 0x00, 0, 0, 0]));
        v.extend([0xAA, 0xFF, 0x00, 0xBB]);
        v.extend(jpeg_seg(0xC4, &[0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        v.extend(jpeg_seg(0xFE, GPS));
        v.extend([0xFF, 0xFF]); // fill bytes before a marker
        v.extend(jpeg_seg(0xDA, &[1, 1, 0x00, 1, 63, 0]));
        v.extend([0xCC, 0xFF, 0xD7, 0xDD, 0xFF, 0xD9]);
        let c = clean(&v).unwrap();
        assert!(!contains(&c.bytes, GPS));
        assert_eq!(c.removed, ["comment"]);
        assert!(c.bytes.ends_with(&[0xCC, 0xFF, 0xD7, 0xDD, 0xFF, 0xD9]));
        assert_eq!(c.bytes.len(), v.len() - GPS.len() - 4 - 2);
    }

    #[test]
    fn jpeg_structural_errors_are_validation_failures() {
        let mut long_app1 = vec![0xFF, 0xD8];
        long_app1.extend([0xFF, 0xE1, 0xFF, 0xF0]);
        long_app1.extend_from_slice(b"Exif\0\0");
        let mut no_frame = vec![0xFF, 0xD8];
        no_frame.extend(jpeg_seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        let mut bad_len = vec![0xFF, 0xD8];
        bad_len.extend([0xFF, 0xE0, 0x00, 0x01]);
        let mut garbage = vec![0xFF, 0xD8];
        garbage.extend(jpeg_seg(0xE0, b"JFIF\0"));
        garbage.extend(b"<html>");
        for (name, bytes) in [
            ("magic only", vec![0xFF, 0xD8, 0xFF]),
            ("eoi at once", vec![0xFF, 0xD8, 0xFF, 0xD9]),
            ("app1 past end", long_app1),
            ("scan without frame", no_frame),
            ("length below 2", bad_len),
            ("data instead of marker", garbage),
        ] {
            assert_eq!(code(clean(&bytes)), ErrorCode::ValidationFailed, "{name}");
        }
    }

    // ---- PNG ------------------------------------------------------------------

    /// Checks the chunk layout and every CRC of a PNG.
    fn png_chunk_types(png: &[u8]) -> Vec<[u8; 4]> {
        let mut pos = 8;
        let mut types = Vec::new();
        while pos < png.len() {
            let len = be32(png, pos).unwrap() as usize;
            let crc = be32(png, pos + 8 + len).unwrap();
            assert_eq!(crc32(&png[pos + 4..pos + 8 + len]), crc);
            types.push(png[pos + 4..pos + 8].try_into().unwrap());
            pos += 12 + len;
        }
        types
    }

    #[test]
    fn png_loses_text_exif_and_time_and_keeps_other_chunks() {
        let input = sample_png();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Png);
        assert!(!contains(&c.bytes, b"GPS"));
        assert_eq!(c.removed, ["png-text", "exif", "xmp", "png-time"]);
        assert_eq!(png_chunk_types(&c.bytes), [*b"IHDR", *b"gAMA", *b"IDAT", *b"IEND"]);
        assert_eq!(clean(&c.bytes).unwrap().bytes, c.bytes);
    }

    #[test]
    fn png_structural_errors_are_validation_failures() {
        let good = sample_png();
        let iend = png_chunk(b"IEND", &[]);
        let no_iend = good[..good.len() - iend.len()].to_vec();
        let mut not_ihdr_first = PNG_SIGNATURE.to_vec();
        not_ihdr_first.extend(png_chunk(b"gAMA", &[0; 4]));
        not_ihdr_first.extend_from_slice(&good[8..]);
        let mut huge = good[..33].to_vec();
        huge.extend([0x7F, 0xFF, 0xFF, 0xFF]);
        huge.extend_from_slice(b"IDAT");
        let mut no_idat = good[..33].to_vec();
        no_idat.extend(&iend);
        for (name, bytes) in [
            ("signature only", PNG_SIGNATURE.to_vec()),
            ("no IEND", no_iend),
            ("IHDR not first", not_ihdr_first),
            ("chunk past end", huge),
            ("no IDAT", no_idat),
        ] {
            assert_eq!(code(clean(&bytes)), ErrorCode::ValidationFailed, "{name}");
        }
        let mut trailer = good.clone();
        trailer.extend_from_slice(GPS);
        let c = clean(&trailer).unwrap();
        assert!(c.removed.contains(&"trailer") && !contains(&c.bytes, b"GPS"));
    }

    // ---- WebP -----------------------------------------------------------------

    #[test]
    fn webp_loses_exif_and_xmp_and_fixes_header() {
        let input = sample_webp();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Webp);
        assert!(!contains(&c.bytes, b"GPS"));
        assert_eq!(c.removed, ["exif", "xmp"]);
        assert_eq!(le32(&c.bytes, 4).unwrap() as usize, c.bytes.len() - 8);
        assert_eq!(c.bytes[20], 0x20, "only the ICC flag stays set");
        let expected = riff_webp(&[
            riff_chunk(b"VP8X", &[0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            riff_chunk(b"ICCP", b"icc"),
            riff_chunk(b"VP8L", &[0x2F, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11]),
        ]);
        assert_eq!(c.bytes, expected);
    }

    #[test]
    fn webp_structural_errors_are_validation_failures() {
        let good = sample_webp();
        let mut riff_too_big = good.clone();
        riff_too_big[4..8].copy_from_slice(&(good.len() as u32).to_le_bytes());
        // Drop the pad byte of the last (odd-sized) chunk but keep the RIFF size honest.
        let mut missing_pad = riff_webp(&[riff_chunk(b"VP8L", &[1, 2, 3])]);
        missing_pad.pop();
        let len = (missing_pad.len() - 8) as u32;
        missing_pad[4..8].copy_from_slice(&len.to_le_bytes());
        for (name, bytes) in [
            ("riff size past end", riff_too_big),
            ("missing pad byte", missing_pad),
            ("no image chunk", riff_webp(&[riff_chunk(b"EXIF", GPS)])),
            ("header only", riff_webp(&[])),
            (
                "vp8x not first",
                riff_webp(&[riff_chunk(b"VP8L", &[1]), riff_chunk(b"VP8X", &[0; 10])]),
            ),
        ] {
            assert_eq!(code(clean(&bytes)), ErrorCode::ValidationFailed, "{name}");
        }
    }

    // ---- GIF ------------------------------------------------------------------

    #[test]
    fn gif_loses_comments_and_xmp_and_keeps_frames() {
        let input = sample_gif();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Gif);
        assert!(!contains(&c.bytes, b"GPS"));
        assert_eq!(c.removed, ["comment", "xmp"]);
        assert!(contains(&c.bytes, b"NETSCAPE2.0"));
        assert!(
            c.bytes
                .ends_with(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B])
        );
        let mut truncated = input[..input.len() - 3].to_vec();
        assert_eq!(code(clean(&truncated)), ErrorCode::ValidationFailed);
        truncated.truncate(13);
        assert_eq!(code(clean(&truncated)), ErrorCode::ValidationFailed);
    }

    // ---- MP4 ------------------------------------------------------------------

    #[test]
    fn mp4_metadata_boxes_become_free_in_place() {
        let (input, mdat_at) = sample_mp4();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Mp4);
        assert_eq!(c.bytes.len(), input.len());
        assert!(!contains(&c.bytes, XYZ));
        assert!(!contains(&c.bytes, b"udta"));
        assert!(!contains(&c.bytes, b"quicktime.location"));
        assert_eq!(c.removed, ["mp4-udta", "mp4-meta", "xmp"]);
        // Sample data and the chunk offset table did not move.
        assert_eq!(&c.bytes[mdat_at..], &input[mdat_at..]);
        let stco = input.windows(4).position(|w| w == b"stco").unwrap();
        assert_eq!(&c.bytes[stco - 4..stco + 16], &input[stco - 4..stco + 16]);
        // Every byte that changed lies in a box now typed `free`.
        assert_eq!(c.bytes.windows(4).filter(|w| *w == b"free").count(), 4);
        assert_eq!(clean(&c.bytes).unwrap().removed, Vec::<&str>::new());
    }

    #[test]
    fn mp4_handles_large_and_open_ended_boxes() {
        let mut v = ftyp(b"mp42", &[b"mp42"]);
        let at = v.len();
        // 64-bit sized udta at top level.
        let udta = location_udta();
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"udta");
        large.extend_from_slice(&((udta.len() - 8 + 16) as u64).to_be_bytes());
        large.extend_from_slice(&udta[8..]);
        v.extend(&large);
        v.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &[0; 8])));
        // mdat with size 0: runs to the end of the file.
        v.extend([0, 0, 0, 0]);
        v.extend_from_slice(b"mdat");
        v.extend_from_slice(b"frames...");
        let c = clean(&v).unwrap();
        assert_eq!(c.bytes.len(), v.len());
        assert!(!contains(&c.bytes, XYZ));
        assert_eq!(&c.bytes[c.bytes.len() - 9..], b"frames...");
        assert_eq!(
            &c.bytes[at..at + 16],
            &[&[0, 0, 0, 1][..], b"free", &large[8..16]].concat()[..]
        );
    }

    #[test]
    fn mp4_structural_errors_are_validation_failures() {
        let (good, _) = sample_mp4();
        let mut overlong = good.clone();
        let moov = good.windows(4).position(|w| w == b"moov").unwrap() - 4;
        overlong[moov..moov + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let mut child_overflow = good.clone();
        let trak = good.windows(4).position(|w| w == b"tkhd").unwrap() - 4;
        child_overflow[trak..trak + 4].copy_from_slice(&0x0100u32.to_be_bytes());
        let mut too_small = good.clone();
        too_small[moov..moov + 4].copy_from_slice(&4u32.to_be_bytes());
        let mut huge64 = ftyp(b"isom", &[]);
        huge64.extend([0, 0, 0, 1]);
        huge64.extend_from_slice(b"moov");
        huge64.extend(u64::MAX.to_be_bytes());
        for (name, bytes) in [
            ("box past end", overlong),
            ("child past parent", child_overflow),
            ("size below header", too_small),
            ("64-bit size past end", huge64),
            ("no moov", [ftyp(b"isom", &[b"isom"]), mp4_box(b"mdat", &[1])].concat()),
            ("no mdat", [ftyp(b"isom", &[b"isom"]), mp4_box(b"moov", &[])].concat()),
            ("trailing garbage", [good.clone(), vec![1, 2, 3]].concat()),
        ] {
            assert_eq!(code(clean(&bytes)), ErrorCode::ValidationFailed, "{name}");
        }
    }

    // ---- WebM -----------------------------------------------------------------

    #[test]
    fn webm_tags_become_void_in_place() {
        let input = sample_webm();
        let c = clean(&input).unwrap();
        assert_eq!(c.media_type, MediaType::Webm);
        assert_eq!(c.bytes.len(), input.len());
        assert!(!contains(&c.bytes, XYZ));
        assert!(!contains(&c.bytes, b"LOCATION"));
        assert_eq!(c.removed, ["webm-tags"]);
        let tags = input.windows(4).position(|w| w == TAGS_ID.to_be_bytes()).unwrap();
        assert_eq!(c.bytes[tags], VOID_ID);
        assert_eq!(&c.bytes[..tags], &input[..tags]);
        // The void element spans exactly the old Tags element.
        let void = read_ebml(&c.bytes, tags, c.bytes.len()).unwrap();
        let cluster = input.windows(4).position(|w| w == CLUSTER_ID.to_be_bytes()).unwrap();
        assert_eq!(void.body + void.size.unwrap(), cluster);
        assert_eq!(&c.bytes[cluster..], &input[cluster..]);
        assert!(clean(&c.bytes).unwrap().removed.is_empty());
    }

    #[test]
    fn webm_void_fits_any_element_size() {
        for len in 5..40 {
            let mut el = vec![0xAA; len];
            write_void(&mut el);
            let v = read_ebml(&el, 0, el.len()).unwrap();
            assert_eq!(v.id, u32::from(VOID_ID));
            assert_eq!(v.body + v.size.unwrap(), len);
        }
    }

    #[test]
    fn webm_structural_errors_are_validation_failures() {
        let header = ebml_header(b"webm");
        let mut tags_past_end = header.clone();
        tags_past_end.extend(ebml_el(SEGMENT_ID, &ebml_el(TAGS_ID, &[0; 4])));
        tags_past_end.truncate(tags_past_end.len() - 2);
        let mut unknown_tags = header.clone();
        unknown_tags.extend(ebml_el(SEGMENT_ID, &[0x12, 0x54, 0xC3, 0x67, 0xFF]));
        for (name, bytes) in [
            ("header only", header.clone()),
            ("element past end", tags_past_end),
            ("unknown-size tags", unknown_tags),
        ] {
            assert_eq!(code(clean(&bytes)), ErrorCode::ValidationFailed, "{name}");
        }
    }

    // ---- PDF, size limits, robustness -------------------------------------

    #[test]
    fn pdf_is_kept_unchanged() {
        let pdf = b"%PDF-1.4\n1 0 obj << /Author (Budi) >> endobj\n%%EOF\n";
        let c = clean(pdf).unwrap();
        assert_eq!(c.media_type, MediaType::Pdf);
        assert_eq!(c.bytes, pdf);
        assert!(c.removed.is_empty());
    }

    #[test]
    fn size_limits_and_empty_files() {
        let mut big = vec![0u8; MAX_FILE_BYTES + 1];
        big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        assert_eq!(code(clean(&big)), ErrorCode::FileTooLarge);
        big.pop();
        // At the limit the size is fine; the zeros then fail validation.
        assert_eq!(code(clean(&big)), ErrorCode::ValidationFailed);
        assert_eq!(code(clean(&[])), ErrorCode::ValidationFailed);
        assert_eq!(MAX_FILES, 5);
    }

    fn fixtures() -> Vec<Vec<u8>> {
        vec![
            sample_jpeg(),
            sample_png(),
            sample_webp(),
            sample_gif(),
            sample_mp4().0,
            sample_webm(),
            b"%PDF-1.7\n".to_vec(),
        ]
    }

    #[test]
    fn every_truncation_is_handled_without_panic() {
        for f in fixtures() {
            for n in 0..f.len() {
                check_invariants(&f[..n]);
            }
        }
        // Cut inside the header structures: always a validation failure.
        let jpeg = sample_jpeg();
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for n in 3..sos + 8 {
            assert_eq!(code(clean(&jpeg[..n])), ErrorCode::ValidationFailed, "jpeg cut at {n}");
        }
        for f in [sample_png(), sample_webp(), sample_mp4().0] {
            let t = sniff(&f).unwrap();
            for n in 12..f.len() {
                let r = clean(&f[..n]);
                assert_eq!(code(r), ErrorCode::ValidationFailed, "{t:?} cut at {n}");
            }
        }
    }

    #[test]
    fn mutated_fixtures_never_panic() {
        // Deterministic xorshift so failures are reproducible.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for f in fixtures() {
            for i in 0..f.len() {
                for v in [0x00, 0xFF, 0x01, 0x80] {
                    let mut m = f.clone();
                    m[i] = v;
                    check_invariants(&m);
                }
            }
            for _ in 0..2000 {
                let mut m = f.clone();
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % m.len();
                    m[i] = next() as u8;
                }
                check_invariants(&m);
            }
        }
    }

    // ---- file names -------------------------------------------------------

    #[test]
    fn safe_filename_sanitises_and_forces_extension() {
        let cases = [
            ("../../etc/passwd.jpg", MediaType::Jpeg, "passwd.jpg"),
            ("../../etc/passwd", MediaType::Png, "passwd.png"),
            ("..\\..\\Windows\\evil.exe", MediaType::Jpeg, "evil.jpg"),
            ("invoice.pdf.exe", MediaType::Pdf, "invoice_pdf.pdf"),
            ("shell.php.jpg", MediaType::Gif, "shell_php.gif"),
            ("Foto Jalan Rusak (1).JPG", MediaType::Jpeg, "Foto_Jalan_Rusak_1.jpg"),
            ("jalan-rusak--parah.mov", MediaType::Mp4, "jalan-rusak-parah.mp4"),
            ("Jl. Sudirman berlubang", MediaType::Webp, "Jl_Sudirman_berlubang.webp"),
            ("Ñandú – 東京 ١٢.png", MediaType::Png, "Ñandú_東京_١٢.png"),
            ("photo\u{202E}gpj.exe", MediaType::Jpeg, "photo_gpj.jpg"),
            ("a\0b\r\nc\"d;e.jpg", MediaType::Jpeg, "a_b_c_d_e.jpg"),
            ("-rf.jpg", MediaType::Jpeg, "rf.jpg"),
            ("", MediaType::Jpeg, "lampiran.jpg"),
            ("....", MediaType::Webm, "lampiran.webm"),
            ("../", MediaType::Pdf, "lampiran.pdf"),
            ("🙂🙂.gif", MediaType::Gif, "lampiran.gif"),
            ("CON.jpg", MediaType::Jpeg, "lampiran_CON.jpg"),
            ("lpt1", MediaType::Pdf, "lampiran_lpt1.pdf"),
        ];
        for (input, t, expected) in cases {
            assert_eq!(safe_filename(input, t), expected, "{input:?}");
        }
    }

    #[test]
    fn safe_filename_limits_length() {
        let long = format!("{}.jpg", "a".repeat(5000));
        assert_eq!(safe_filename(&long, MediaType::Jpeg), format!("{}.jpg", "a".repeat(40)));
        let words = "kata ".repeat(100);
        let name = safe_filename(&words, MediaType::Png);
        let stem = name.strip_suffix(".png").unwrap();
        assert!(stem.chars().count() <= 40 && !stem.ends_with('_'), "{name}");
        let wide = "東".repeat(100);
        assert_eq!(safe_filename(&wide, MediaType::Jpeg).chars().count(), 40 + 4);
    }
}
