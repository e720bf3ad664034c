//! The Web Push client against a local push service that checks what real
//! ones check (`support/push_standin.rs`): the VAPID signature and claims,
//! the headers, and the encrypted body, decrypted as a browser would.

#[path = "support/push_standin.rs"]
mod push_standin;

use lapor_server::notify::SendError;
use lapor_server::notify::webpush::{self, Notice, SubscriptionKeys, Target, Vapid};
use push_standin::PushStandIn;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_push_arrives_signed_and_encrypted_and_refusals_are_told_apart() {
    let service = PushStandIn::start().await;
    let vapid = Vapid::from_setting(&Vapid::generate(), "mailto:pengelola@lapor.go.id").unwrap();
    let browser = service.subscribe(&vapid.public_key());
    let keys = SubscriptionKeys {
        p256dh: browser.p256dh.clone(),
        auth: browser.auth.clone(),
    };
    let target = Target::parse(&browser.endpoint, &keys, true).unwrap();
    let http = reqwest::Client::new();
    let notice = Notice {
        title: "Laporan Y8WD-3015 ditindaklanjuti".into(),
        body: "Dinas Perhubungan Kota Bandung menanggapi laporan Anda.".into(),
        url: "/lacak/Y8WD-3015".into(),
        tag: "Y8WD-3015".into(),
    };
    let payload = serde_json::to_vec(&notice).unwrap();
    webpush::send(&http, &vapid, &target, &payload, "Y8WD-3015:4", now())
        .await
        .unwrap();
    let got = service.received();
    assert_eq!(got.len(), 1, "refused: {:?}", service.refused());
    assert_eq!(got[0].plaintext, payload, "the browser reads exactly what was sent");
    assert_eq!(got[0].ttl, webpush::TTL_SECONDS);
    assert!(got[0].topic.as_deref().is_some_and(|t| t.len() <= 32));

    // Each message is encrypted afresh: the same notice twice is two different bodies.
    webpush::send(&http, &vapid, &target, &payload, "Y8WD-3015:4", now())
        .await
        .unwrap();
    assert_eq!(service.received().len(), 2);

    // Signed by another instance's key: the service refuses, for good.
    let other = Vapid::from_setting(&Vapid::generate(), "mailto:lain@contoh.id").unwrap();
    let e = webpush::send(&http, &other, &target, &payload, "t", now())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)), "{e}");
    assert!(
        service.refused().iter().any(|r| r.contains("not the key")),
        "{:?}",
        service.refused()
    );

    // A token that has expired (made 13 hours ago, valid for 12) is refused too.
    let e = webpush::send(&http, &vapid, &target, &payload, "t", now() - 13 * 3600)
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Transient(_) | SendError::Permanent(_)), "{e}");
    assert!(
        service.refused().iter().any(|r| r.contains("exp")),
        "{:?}",
        service.refused()
    );

    // Too large for one record: refused before anything is sent.
    let big = vec![b'x'; webpush::MAX_PAYLOAD + 1];
    let before = service.received().len() + service.refused().len();
    assert!(matches!(
        webpush::send(&http, &vapid, &target, &big, "t", now()).await,
        Err(SendError::Permanent(_))
    ));
    assert_eq!(service.received().len() + service.refused().len(), before);

    // The user revoked the permission: the subscription is gone for good.
    service.unsubscribe(&browser.endpoint);
    let e = webpush::send(&http, &vapid, &target, &payload, "t", now())
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Undeliverable(_)), "{e}");
}
