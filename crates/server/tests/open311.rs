//! Open311 GeoReport v2 conformance over real HTTP, on both backends:
//! discovery, services and definitions, POST requests with api_key and
//! attribute[CODE], GET requests with the spec's filters and defaults,
//! requests/{id}, tokens/{token}, FixMyStreet's servicerequestupdates, the
//! jurisdiction rules and the error format, in JSON and XML.

mod common;

use common::TestApp;
use lapor_integration::client::parse_scopes;
use lapor_server::integration::clients;
use serde_json::{Value, json};

const CITY: &str = "pemkot-32.73";

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app
        .client
        .get(format!("{}/open311/v2/{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let (s, ct, body) = get(app, path).await;
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    (
        s,
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}")),
    )
}

async fn post(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/open311/v2/requests.json", app.base))
        .form(form)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, serde_json::from_str(&r.text().await.unwrap()).unwrap())
}

fn error_code(v: &Value) -> u64 {
    v[0]["code"]
        .as_u64()
        .unwrap_or_else(|| panic!("not an Open311 error: {v}"))
}

async fn georeport(app: &TestApp) {
    let store = app.db.store.as_ref();
    let key = clients::create(
        store,
        "lapor",
        "Aplikasi warga",
        &parse_scopes("open311").unwrap(),
        None,
    )
    .await
    .unwrap()
    .key;
    let no_scope = clients::create(store, CITY, "SIMPEL", &parse_scopes("reports:read").unwrap(), None)
        .await
        .unwrap()
        .key;

    // Discovery, in both forms.
    let (s, d) = get_json(app, "discovery.json").await;
    assert_eq!(s, 200);
    assert!(d["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2/"));
    let (s, ct, xml) = get(app, "discovery.xml").await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/xml") && xml.contains("<discovery>"), "{xml}");
    // No format, or an unknown resource.
    assert_eq!(get(app, "services").await.0, 404);
    assert_eq!(get(app, "nothing.json").await.0, 404);

    // jurisdiction_id: missing is 400, unknown is 404, in the spec's format.
    let (s, v) = get_json(app, "services.json").await;
    assert_eq!((s, error_code(&v)), (400, 400));
    assert!(v[0]["description"].as_str().unwrap().contains("jurisdiction_id"));
    let (s, v) = get_json(app, "services.json?jurisdiction_id=pemkab-0000").await;
    assert_eq!((s, error_code(&v)), (404, 404));
    let (s, _, xml) = get(app, "services.xml").await;
    assert_eq!(s, 400);
    assert!(xml.contains("<errors><error><code>400</code>"), "{xml}");

    // Services and a definition; codes are strings.
    let (s, v) = get_json(app, &format!("services.json?jurisdiction_id={CITY}")).await;
    assert_eq!(s, 200);
    let jalan = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_code"] == json!("jalan"))
        .unwrap();
    assert_eq!(
        (jalan["metadata"].as_bool(), jalan["type"].as_str()),
        (Some(true), Some("realtime"))
    );
    let (s, v) = get_json(app, &format!("services/jalan.json?jurisdiction_id={CITY}")).await;
    assert_eq!((s, v["service_code"].as_str()), (200, Some("jalan")));
    let codes: Vec<&str> = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["classification", "title", "incident_date", "anonymous", "confidential"]
    );
    let (s, _, xml) = get(app, &format!("services/jalan.xml?jurisdiction_id={CITY}")).await;
    assert!(
        s == 200 && xml.contains("<service_definition><service_code>jalan</service_code>"),
        "{xml}"
    );
    assert_eq!(
        get_json(app, &format!("services/kapal.json?jurisdiction_id={CITY}"))
            .await
            .0,
        404
    );

    // POST requests: the key, the service, a location and a description.
    let base = vec![
        ("jurisdiction_id", CITY),
        ("service_code", "jalan"),
        ("lat", "-6.9025"),
        ("long", "107.6186"),
        (
            "description",
            "Trotoar ambles di depan pasar, hubungi saya di 081234567890 untuk detailnya.",
        ),
        ("email", "warga@contoh.id"),
        ("first_name", "Dewi"),
        ("attribute[classification]", "aspirasi"),
        ("attribute[anonymous]", "true"),
    ];
    let with = |extra: &[(&'static str, &'static str)], drop: &[&str]| -> Vec<(&'static str, &'static str)> {
        let mut f: Vec<(&str, &str)> = base.iter().filter(|(k, _)| !drop.contains(k)).cloned().collect();
        f.extend_from_slice(extra);
        f
    };
    let before = app.outbox_count().await;
    for (form, code) in [
        (with(&[], &[]), 403),
        (
            with(
                &[("api_key", "lapor_nope_0000000000000000000000000000000000000000000")],
                &[],
            ),
            403,
        ),
        (
            with(&[("api_key", Box::leak(no_scope.clone().into_boxed_str()))], &[]),
            403,
        ),
        (
            with(
                &[("api_key", Box::leak(key.clone().into_boxed_str()))],
                &["service_code"],
            ),
            400,
        ),
        (
            with(
                &[
                    ("api_key", Box::leak(key.clone().into_boxed_str())),
                    ("service_code", "kapal"),
                ],
                &["service_code"],
            ),
            400,
        ),
        (
            with(
                &[("api_key", Box::leak(key.clone().into_boxed_str()))],
                &["lat", "long"],
            ),
            400,
        ),
        (
            with(&[("api_key", Box::leak(key.clone().into_boxed_str()))], &["long"]),
            400,
        ),
        (
            with(
                &[("api_key", Box::leak(key.clone().into_boxed_str()))],
                &["description"],
            ),
            400,
        ),
        (
            with(
                &[
                    ("api_key", Box::leak(key.clone().into_boxed_str())),
                    ("attribute[anonymous]", "maybe"),
                ],
                &["attribute[anonymous]"],
            ),
            400,
        ),
        (
            with(
                &[("api_key", Box::leak(key.clone().into_boxed_str()))],
                &["jurisdiction_id"],
            ),
            400,
        ),
    ] {
        let (s, v) = post(app, &form).await;
        assert_eq!((s, error_code(&v)), (code, code as u64), "{form:?}: {v}");
    }
    assert_eq!(app.outbox_count().await, before, "nothing written by a refused request");
    let k: &'static str = Box::leak(key.clone().into_boxed_str());
    let (s, v) = post(app, &with(&[("api_key", k)], &[])).await;
    assert_eq!(s, 200, "{v}");
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let token = v[0]["token"].as_str().unwrap().to_string();
    assert!(v[0]["service_notice"].as_str().unwrap().contains("PIN"));
    let tid = lapor_domain::ids::TrackingId::parse(&id).unwrap();
    let r = app.db.store.report(&tid).await.unwrap().unwrap().report;
    assert_eq!(
        (r.category.as_deref(), r.classification.as_str(), r.anonymous),
        (Some("jalan"), "aspirasi", true)
    );
    assert_eq!(r.suggested_institution.as_deref(), Some(CITY));
    // The form may come as XML too (the response format follows the path).
    let r = app
        .client
        .post(format!("{}/open311/v2/requests.xml", app.base))
        .form(&with(
            &[("api_key", k), ("address_string", "Jl. Braga 10")],
            &["lat", "long"],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<service_requests><request><service_request_id>"), "{xml}");

    // tokens/{token}
    let (s, v) = get_json(app, &format!("tokens/{token}.json?jurisdiction_id={CITY}")).await;
    assert_eq!(
        (s, v[0]["service_request_id"].as_str(), v[0]["token"].as_str()),
        (200, Some(id.as_str()), Some(token.as_str()))
    );
    assert_eq!(
        get_json(app, &format!("tokens/unknown.json?jurisdiction_id={CITY}"))
            .await
            .0,
        404
    );

    // Not public until verified: GET requests does not show it yet.
    let list = |q: String| async move { get_json(app, &format!("requests.json?jurisdiction_id={CITY}{q}")).await };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = list(String::new()).await;
    assert_eq!(s, 200);
    assert!(!ids(&v).contains(&id));
    assert_eq!(
        get_json(app, &format!("requests/{id}.json?jurisdiction_id={CITY}"))
            .await
            .0,
        404
    );
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/disposition"),
            Some("national"),
            json!({"institution": CITY}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = list(String::new()).await;
    assert_eq!(ids(&v), vec![id.clone()]);
    let r = &v[0];
    assert_eq!(
        (r["status"].as_str(), r["service_code"].as_str()),
        (Some("open"), Some("jalan"))
    );
    let text = r["description"].as_str().unwrap();
    assert!(!text.contains("081234567890"), "personal data masked: {text}");
    assert!(
        (r["lat"].as_f64().unwrap() - -6.903).abs() < 1e-9,
        "rounded like the public site"
    );
    assert!(r["agency_responsible"].as_str().is_some());

    // The spec's filters and their checks.
    assert_eq!(ids(&list("&status=closed".into()).await.1).len(), 0);
    assert_eq!(ids(&list("&status=open,closed".into()).await.1), vec![id.clone()]);
    assert_eq!(ids(&list("&service_code=lampu".into()).await.1).len(), 0);
    assert_eq!(ids(&list("&service_code=lampu,jalan".into()).await.1), vec![id.clone()]);
    assert_eq!(
        ids(
            &list("&start_date=2030-01-01T00:00:00Z&end_date=2030-02-01T00:00:00Z".into())
                .await
                .1
        )
        .len(),
        0
    );
    assert_eq!(
        ids(&list(format!("&service_request_id={id},ZZZZ-ZZZZ")).await.1),
        vec![id.clone()]
    );
    for bad in [
        "&status=pending",
        "&start_date=yesterday",
        "&start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z",
    ] {
        let (s, v) = list(bad.into()).await;
        assert_eq!((s, error_code(&v)), (400, 400), "{bad}");
    }
    // Another jurisdiction does not see it; its parent does.
    assert!(ids(&get_json(app, "requests.json?jurisdiction_id=kemenkes").await.1).is_empty());
    assert_eq!(
        ids(&get_json(app, "requests.json?jurisdiction_id=pemprov-32").await.1),
        vec![id.clone()]
    );
    assert_eq!(
        get_json(app, &format!("requests/{id}.json?jurisdiction_id=kemenkes"))
            .await
            .0,
        404
    );

    // requests/{id} carries the latest public note; updates list it.
    let (s, _) = app
        .post(
            &format!("/api/v1/reports/{id}/accept"),
            Some("bandung_admin"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = app
        .post(
            &format!("/api/v1/reports/{id}/follow-up"),
            Some("bandung_admin"),
            json!({"body": "Trotoar diperbaiki pekan ini oleh Dinas PU."}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = get_json(app, &format!("requests/{id}.json?jurisdiction_id={CITY}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        v[0]["status_notes"].as_str(),
        Some("Trotoar diperbaiki pekan ini oleh Dinas PU.")
    );
    let (s, v) = get_json(app, &format!("servicerequestupdates.json?jurisdiction_id={CITY}")).await;
    assert_eq!(s, 200, "{v}");
    // FixMyStreet's shape: an object around the list (XML: service_requests_updates).
    let ups = v["service_request_updates"].as_array().unwrap();
    assert!(
        ups.iter().any(|u| u["service_request_id"] == json!(id)
            && u["description"] == json!("Trotoar diperbaiki pekan ini oleh Dinas PU.")),
        "{v}"
    );
    assert!(ups.iter().all(|u| u["update_id"].is_string()));
    let (s, _, xml) = get(app, &format!("servicerequestupdates.xml?jurisdiction_id={CITY}")).await;
    assert!(
        s == 200 && xml.contains("<service_requests_updates><request_update>"),
        "{xml}"
    );

    // A confidential report never shows.
    let (conf, _) = app.submit(json!({"confidential": true})).await;
    app.post(
        &format!("/api/v1/reports/{conf}/disposition"),
        Some("national"),
        json!({"institution": CITY}),
    )
    .await;
    assert_eq!(
        get_json(app, &format!("requests/{conf}.json?jurisdiction_id={CITY}"))
            .await
            .0,
        404
    );
    assert!(!ids(&list(String::new()).await.1).contains(&conf));
}
on_both_backends!(georeport);
