//! Open311 GeoReport v2 on the wire: the documents the server sends, in
//! both of the spec's formats, the spec's error documents, and the query
//! filters of `GET requests` with its defaults. The routes (which
//! institution a `jurisdiction_id` names, which reports are public) live in
//! the server; this module only knows the format.
//!
//! Ids and service codes are always strings, in JSON as in XML, as the spec
//! and its clients expect.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Serialize;

/// `GET requests` returns at most this many.
pub const MAX_REQUESTS: usize = 1000;
/// The window `GET requests` looks back over without dates, and the widest
/// it accepts.
pub const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `requests.json` into (`requests`, Json); `None` for another
    /// extension or none.
    pub fn split(path: &str) -> Option<(&str, Format)> {
        if let Some(p) = path.strip_suffix(".json") {
            Some((p, Format::Json))
        } else {
            path.strip_suffix(".xml").map(|p| (p, Format::Xml))
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Whether `services/{code}` has attributes to ask for.
    pub metadata: bool,
    /// `realtime`: the request's status is kept current.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    /// False for an informational attribute that takes no input.
    pub variable: bool,
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: &'static str,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// One service request as `GET requests` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: Option<String>,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: Option<DateTime<Utc>>,
    pub updated_datetime: Option<DateTime<Utc>>,
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// The answer to `POST requests`: the id at once, or a token to look it
/// up by later.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

/// FixMyStreet's `servicerequestupdates` extension: one update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub update_id: String,
    pub service_request_id: String,
    pub status: &'static str,
    pub updated_datetime: DateTime<Utc>,
    pub description: String,
    pub media_url: Option<String>,
}

/// An error as the spec writes it; the HTTP status is its code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Error {
    pub code: u16,
    pub description: String,
}

impl Error {
    pub fn new(code: u16, description: impl Into<String>) -> Error {
        Error {
            code,
            description: description.into(),
        }
    }
}

/// What a document holds: the element names XML needs, the array JSON
/// sends.
pub enum Doc<'a> {
    Services(&'a [Service]),
    Definition(&'a ServiceDefinition),
    Requests(&'a [Request]),
    Created(&'a [Created]),
    /// `tokens/{token}`: the request a token became, once it has.
    Tokens(&'a [(String, Option<String>)]),
    Updates(&'a [Update]),
    Errors(&'a [Error]),
}

/// Renders a document in the asked format.
pub fn render(doc: &Doc<'_>, format: Format) -> String {
    match format {
        Format::Json => json(doc),
        Format::Xml => xml(doc),
    }
}

fn json(doc: &Doc<'_>) -> String {
    let v = match doc {
        Doc::Services(s) => serde_json::to_value(s),
        Doc::Definition(d) => serde_json::to_value(d),
        Doc::Requests(r) => serde_json::to_value(r),
        Doc::Created(c) => serde_json::to_value(c),
        Doc::Tokens(t) => Ok(serde_json::Value::Array(
            t.iter()
                .map(|(token, id)| serde_json::json!({ "token": token, "service_request_id": id }))
                .collect(),
        )),
        Doc::Updates(u) => Ok(serde_json::json!({ "service_request_updates": u })),
        Doc::Errors(e) => serde_json::to_value(e),
    };
    v.map(|v| v.to_string()).unwrap_or_else(|_| "[]".into())
}

/// Escapes text for XML content (the five predefined entities; control
/// characters XML 1.0 cannot carry are dropped).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The spec's order of each element's children (XML readers may depend on
/// it; JSON objects are unordered).
fn field_order(element: &str) -> &'static [&'static str] {
    match element {
        "service" => &[
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ],
        "service_definition" => &["service_code", "attributes"],
        "attribute" => &[
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ],
        "value" => &["key", "name"],
        "request" => &[
            "service_request_id",
            "token",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
            "account_id",
        ],
        "request_update" => &[
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        ],
        "error" => &["code", "description"],
        _ => &[],
    }
}

fn ordered<'a>(
    element: &str,
    o: &'a serde_json::Map<String, serde_json::Value>,
) -> Vec<(&'a String, &'a serde_json::Value)> {
    let order = field_order(element);
    let mut v: Vec<_> = o.iter().collect();
    v.sort_by_key(|(k, _)| order.iter().position(|f| f == k).unwrap_or(order.len()));
    v
}

/// Writes `<name>value</name>` for each field of a serialised object, in
/// order; a nested array becomes repeated elements named by `item`.
fn element(out: &mut String, name: &str, v: &serde_json::Value, item: &str) {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Bool(b) => out.push_str(&format!("<{name}>{b}</{name}>")),
        Value::Number(n) => out.push_str(&format!("<{name}>{n}</{name}>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", esc(s))),
        Value::Array(a) => {
            out.push_str(&format!("<{name}>"));
            for x in a {
                element(out, item, x, item);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(o) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in ordered(name, o) {
                let child_item = match k.as_str() {
                    "attributes" => "attribute",
                    "values" => "value",
                    _ => "item",
                };
                element(out, k, x, child_item);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

fn xml(doc: &Doc<'_>) -> String {
    let (root, item, v) = match doc {
        Doc::Services(s) => ("services", "service", serde_json::to_value(s)),
        Doc::Definition(d) => ("service_definition", "", serde_json::to_value(d)),
        Doc::Requests(r) => ("service_requests", "request", serde_json::to_value(r)),
        Doc::Created(c) => ("service_requests", "request", serde_json::to_value(c)),
        Doc::Tokens(t) => (
            "service_requests",
            "request",
            Ok(serde_json::Value::Array(
                t.iter()
                    .map(|(token, id)| serde_json::json!({ "service_request_id": id, "token": token }))
                    .collect(),
            )),
        ),
        Doc::Updates(u) => ("service_requests_updates", "request_update", serde_json::to_value(u)),
        Doc::Errors(e) => ("errors", "error", serde_json::to_value(e)),
    };
    let v = v.unwrap_or(serde_json::Value::Null);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    match &v {
        serde_json::Value::Object(o) => {
            out.push_str(&format!("<{root}>"));
            for (k, x) in ordered(root, o) {
                let child = if k == "attributes" { "attribute" } else { "item" };
                element(&mut out, k, x, child);
            }
            out.push_str(&format!("</{root}>"));
        }
        other => element(&mut out, root, other, item),
    }
    out
}

/// The filters of `GET requests`, checked, with the spec's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestQuery {
    /// When given, the other filters are ignored (as the spec says).
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `open`, `closed`, or both when empty.
    pub statuses: Vec<&'static str>,
}

fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn when(name: &str, v: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::<FixedOffset>::parse_from_rfc3339(v.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            Error::new(
                400,
                format!("{name} must be a w3c datetime, e.g. 2026-11-24T09:00:00+07:00"),
            )
        })
}

/// Reads the query of `GET requests` at `now`.
pub fn request_query(
    service_request_id: Option<&str>,
    service_code: Option<&str>,
    start_date: Option<&str>,
    end_date: Option<&str>,
    status: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RequestQuery, Error> {
    let ids = list(service_request_id);
    if ids.len() > MAX_REQUESTS {
        return Err(Error::new(400, "too many service_request_id values"));
    }
    let end = end_date.map(|v| when("end_date", v)).transpose()?;
    let start = start_date.map(|v| when("start_date", v)).transpose()?;
    let window = Duration::days(DEFAULT_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, (s + window).min(now)),
        (None, Some(e)) => (e - window, e),
        (None, None) => (now - window, now),
    };
    if start > end {
        return Err(Error::new(400, "start_date is after end_date"));
    }
    if end - start > window {
        return Err(Error::new(
            400,
            format!("the date range may span at most {DEFAULT_DAYS} days"),
        ));
    }
    let mut statuses = Vec::new();
    for s in list(status) {
        match s.to_ascii_lowercase().as_str() {
            "open" => statuses.push("open"),
            "closed" => statuses.push("closed"),
            _ => return Err(Error::new(400, format!("status must be open or closed, not {s}"))),
        }
    }
    statuses.sort_unstable();
    statuses.dedup();
    Ok(RequestQuery {
        ids,
        service_codes: list(service_code),
        start,
        end,
        statuses,
    })
}

/// The `attribute[CODE]=value` fields of a `POST requests` form.
pub fn attributes(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter()
        .filter_map(|(k, v)| {
            let code = k.strip_prefix("attribute[")?.strip_suffix(']')?;
            // Multi-value lists arrive as attribute[CODE][]=a&attribute[CODE][]=b.
            let code = code.strip_suffix("][").unwrap_or(code);
            (!code.is_empty()).then_some((code, v.as_str()))
        })
        .collect()
}

/// The discovery document: where the GeoReport v2 endpoint of this
/// instance is and what it speaks. `base` ends with `/`.
pub fn discovery(base: &str, contact: &str, format: Format) -> String {
    const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";
    const CHANGESET: &str = "2026-11-24T00:00:00Z";
    let formats = ["application/json", "text/xml"];
    match format {
        Format::Json => serde_json::json!({
            "changeset": CHANGESET,
            "contact": contact,
            "key_service": format!("{contact} (API keys: the national admin, lapor integration create-client)"),
            "endpoints": [{
                "specification": SPEC,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": formats,
            }],
        })
        .to_string(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><discovery>");
            out.push_str(&format!(
                "<changeset>{CHANGESET}</changeset><contact>{}</contact><key_service>{}</key_service><endpoints><endpoint>\
                 <specification>{SPEC}</specification><url>{}</url><changeset>{CHANGESET}</changeset><type>production</type><formats>",
                esc(contact),
                esc(&format!("{contact} (API keys: the national admin, lapor integration create-client)")),
                esc(base)
            ));
            for f in formats {
                out.push_str(&format!("<format>{f}</format>"));
            }
            out.push_str("</formats></endpoint></endpoints></discovery>");
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn request() -> Request {
        Request {
            service_request_id: "7KQ4-M2XJ".into(),
            status: "open",
            status_notes: None,
            service_name: Some("Jalan & jembatan".into()),
            service_code: Some("101".into()),
            description: Some("Lubang <besar> di \"Jl. Dago\"".into()),
            agency_responsible: Some("Pemerintah Kota Bandung".into()),
            service_notice: None,
            requested_datetime: Some(t("2026-11-20T01:15:03Z")),
            updated_datetime: None,
            expected_datetime: None,
            address: None,
            address_id: None,
            zipcode: None,
            lat: Some(-6.9025),
            long: Some(107.6186),
            media_url: None,
        }
    }

    #[test]
    fn discovery_names_the_endpoint_in_both_formats() {
        let j: serde_json::Value = serde_json::from_str(&discovery(
            "https://lapor.example/open311/v2/",
            "https://lapor.example",
            Format::Json,
        ))
        .unwrap();
        assert_eq!(j["endpoints"][0]["url"], "https://lapor.example/open311/v2/");
        assert_eq!(
            j["endpoints"][0]["specification"],
            "http://wiki.open311.org/GeoReport_v2"
        );
        let x = discovery("https://lapor.example/open311/v2/?a=1&b=2", "c", Format::Xml);
        assert!(
            x.contains("<url>https://lapor.example/open311/v2/?a=1&amp;b=2</url>"),
            "{x}"
        );
        assert!(x.contains("<format>text/xml</format>") && x.ends_with("</discovery>"));
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::split("requests.json"), Some(("requests", Format::Json)));
        assert_eq!(Format::split("services/101.xml"), Some(("services/101", Format::Xml)));
        assert_eq!(Format::split("requests"), None);
        assert_eq!(Format::split("requests.csv"), None);
    }

    #[test]
    fn requests_in_both_formats_with_string_ids() {
        let r = [request()];
        let j: serde_json::Value = serde_json::from_str(&render(&Doc::Requests(&r), Format::Json)).unwrap();
        assert_eq!(j[0]["service_request_id"], "7KQ4-M2XJ");
        assert_eq!(j[0]["service_code"], "101", "codes are strings");
        assert_eq!(j[0]["requested_datetime"], "2026-11-20T01:15:03Z");
        assert_eq!(j[0]["long"], 107.6186);
        let x = render(&Doc::Requests(&r), Format::Xml);
        assert!(
            x.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>"),
            "{x}"
        );
        assert!(x.contains("<service_code>101</service_code>"));
        assert!(
            x.contains(
                "<request><service_request_id>7KQ4-M2XJ</service_request_id><status>open</status><status_notes/>"
            ),
            "the spec's element order: {x}"
        );
        assert!(
            x.contains("<description>Lubang &lt;besar&gt; di &quot;Jl. Dago&quot;</description>"),
            "{x}"
        );
        assert!(x.contains("<service_name>Jalan &amp; jembatan</service_name>"));
        assert!(x.contains("<media_url/>") && x.ends_with("</request></service_requests>"));
    }

    #[test]
    fn definitions_errors_tokens_and_updates() {
        let d = ServiceDefinition {
            service_code: "101".into(),
            attributes: vec![Attribute {
                variable: true,
                code: "rt_rw".into(),
                datatype: "singlevaluelist",
                required: false,
                datatype_description: String::new(),
                order: 1,
                description: "RT/RW".into(),
                values: vec![AttributeValue {
                    key: "01".into(),
                    name: "RT 01".into(),
                }],
            }],
        };
        let x = render(&Doc::Definition(&d), Format::Xml);
        assert!(
            x.contains(
                "<service_definition><service_code>101</service_code><attributes><attribute><variable>true</variable>"
            ),
            "{x}"
        );
        assert!(
            x.contains("<values><value><key>01</key><name>RT 01</name></value></values>"),
            "{x}"
        );
        let e = [Error::new(404, "jurisdiction_id not found")];
        assert_eq!(
            render(&Doc::Errors(&e), Format::Json),
            r#"[{"code":404,"description":"jurisdiction_id not found"}]"#
        );
        assert!(render(&Doc::Errors(&e), Format::Xml).ends_with(
            "<errors><error><code>404</code><description>jurisdiction_id not found</description></error></errors>"
        ));
        let tk = [("tok-1".to_string(), Some("7KQ4-M2XJ".to_string()))];
        let j: serde_json::Value = serde_json::from_str(&render(&Doc::Tokens(&tk), Format::Json)).unwrap();
        assert_eq!(j[0]["token"], "tok-1");
        let u = [Update {
            update_id: "55".into(),
            service_request_id: "7KQ4-M2XJ".into(),
            status: "closed",
            updated_datetime: t("2026-11-22T03:00:00Z"),
            description: "Sudah ditambal".into(),
            media_url: None,
        }];
        let j: serde_json::Value = serde_json::from_str(&render(&Doc::Updates(&u), Format::Json)).unwrap();
        assert_eq!(j["service_request_updates"][0]["update_id"], "55");
        let x = render(&Doc::Updates(&u), Format::Xml);
        assert!(
            x.contains("<service_requests_updates><request_update><update_id>55</update_id>"),
            "{x}"
        );
    }

    #[test]
    fn xml_drops_what_it_cannot_carry() {
        let mut r = request();
        r.description = Some("a\u{0}b\u{1b}c\nd".into());
        let x = render(&Doc::Requests(&[r]), Format::Xml);
        assert!(x.contains("<description>abc\nd</description>"), "{x}");
    }

    #[test]
    fn request_filters_and_defaults() {
        let now = t("2026-11-24T00:00:00Z");
        let q = request_query(None, None, None, None, None, now).unwrap();
        assert_eq!((q.start, q.end), (now - Duration::days(90), now), "the last 90 days");
        assert!(q.statuses.is_empty() && q.ids.is_empty());
        let q = request_query(
            Some("A, B,,"),
            Some("101,102"),
            Some("2026-11-01T00:00:00+07:00"),
            None,
            Some("closed,open,open"),
            now,
        )
        .unwrap();
        assert_eq!(q.ids, ["A", "B"]);
        assert_eq!(q.service_codes, ["101", "102"]);
        assert_eq!(q.start, t("2026-10-31T17:00:00Z"));
        assert_eq!(q.end, now, "not past now");
        assert_eq!(q.statuses, ["closed", "open"]);
        for (s, e, st) in [
            (Some("kemarin"), None, None),
            (Some("2026-11-20T00:00:00Z"), Some("2026-11-01T00:00:00Z"), None),
            (Some("2026-01-01T00:00:00Z"), Some("2026-11-01T00:00:00Z"), None),
            (None, None, Some("pending")),
        ] {
            let err = request_query(None, None, s, e, st, now).unwrap_err();
            assert_eq!(err.code, 400, "{s:?} {e:?} {st:?}");
        }
    }

    #[test]
    fn attribute_fields() {
        let form = vec![
            ("service_code".to_string(), "101".to_string()),
            ("attribute[rt_rw]".to_string(), "01".to_string()),
            ("attribute[jenis][]".to_string(), "a".to_string()),
            ("attribute[jenis][]".to_string(), "b".to_string()),
            ("attribute[]".to_string(), "x".to_string()),
        ];
        assert_eq!(attributes(&form), [("rt_rw", "01"), ("jenis", "a"), ("jenis", "b")]);
    }
}
