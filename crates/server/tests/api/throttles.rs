//! The shared throttles over HTTP: parallel bursts at the status inquiry and the
//! log-in get no more answers than the limits allow, two services over one store
//! count together, and `X-Forwarded-For` counts only from a trusted proxy.

use super::{Kit, PASSWORD};
use maina_server::{AppState, ServerConfig};
use reqwest::StatusCode;
use serde_json::json;

/// Attempts per number per quarter hour at the status inquiry.
const INQUIRY_LIMIT: usize = 3;

/// A resident with an application under a known form ID (born 1990-04-01).
async fn an_application(kit: &Kit) -> maina_core::ApplicationFormId {
    let registrar = kit.login("registrar").await;
    let (form, _) = kit
        .yamada_with_application(&registrar, 9999_1111_2222_3333, 555_444_333_222_111)
        .await;
    form
}

/// Fires every request at once and counts the answers by status.
async fn statuses(requests: Vec<reqwest::RequestBuilder>) -> Vec<StatusCode> {
    let sent: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(async move { request.send().await.unwrap().status() }))
        .collect();
    let mut statuses = Vec::new();
    for handle in sent {
        statuses.push(handle.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], wanted: StatusCode) -> usize {
    statuses.iter().filter(|status| **status == wanted).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_birth_date_guesses_get_at_most_the_allowed_answers() {
    let kit = Kit::start().await;
    let form = an_application(&kit).await;
    let guesses = (0..50)
        .map(|day| {
            let birth =
                chrono::NaiveDate::from_ymd_opt(1991, 1, 1).unwrap() + chrono::Days::new(day);
            kit.client
                .post(format!("{}/api/v1/application-status", kit.base))
                .json(&json!({"number": form.as_digits(), "birth_date": birth.to_string()}))
        })
        .collect();
    let statuses = statuses(guesses).await;
    let answered = count(&statuses, StatusCode::NOT_FOUND);
    assert!(
        answered <= INQUIRY_LIMIT,
        "{answered} answers: {statuses:?}"
    );
    assert_eq!(
        answered + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        50,
        "{statuses:?}"
    );
    // Even the right birth date now waits.
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/application-status",
            None,
            Some(json!({"number": form.as_digits(), "birth_date": "1990-04-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["message"].as_str().unwrap().contains("wait"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_log_ins_get_at_most_the_allowed_answers() {
    let limit = 10;
    let kit = Kit::start_with(ServerConfig {
        login_attempts_per_minute: limit,
        ..ServerConfig::default()
    })
    .await;
    let guesses = (0..50)
        .map(|n| {
            kit.client
                .post(format!("{}/api/v1/login", kit.base))
                .json(&json!({"username": format!("guess{n}"), "password": "wrong password 1"}))
        })
        .collect();
    let statuses = statuses(guesses).await;
    let answered = count(&statuses, StatusCode::UNAUTHORIZED);
    assert!(
        answered <= limit as usize,
        "{answered} answers: {statuses:?}"
    );
    assert_eq!(
        answered + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        50,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn two_services_over_one_store_share_the_counts() {
    let config = ServerConfig {
        login_attempts_per_minute: 2,
        ..ServerConfig::default()
    };
    let kit = Kit::start_with(config.clone()).await;
    let form = an_application(&kit).await;
    let first = kit.state.service().clone();
    let second = AppState::new(kit.store.clone(), config).service().clone();
    let address = "192.0.2.44".parse().unwrap();
    // The inquiry: tries alternate between the two; the fourth is refused.
    for (n, service) in [&first, &second, &first].into_iter().enumerate() {
        let refused = service
            .inquire(&form.as_digits(), &format!("1991-02-0{}", n + 1), address)
            .await
            .unwrap_err();
        assert_eq!(refused.code, "no_match");
    }
    let refused = second
        .inquire(&form.as_digits(), "1990-04-01", address)
        .await
        .unwrap_err();
    assert_eq!(refused.code, "too_many_attempts", "{refused:?}");
    // The log-in: two failures on one, the third try on the other is refused.
    for service in [&first, &second] {
        let refused = service
            .log_in(address, "registrar", "wrong password 1")
            .await
            .unwrap_err();
        assert_eq!(refused.code, "bad_credentials");
    }
    let refused = first
        .log_in(address, "registrar", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(refused.code, "too_many_attempts", "{refused:?}");
}

/// Three wrong log-ins, each claiming another address in `X-Forwarded-For`.
async fn forwarded_log_ins(kit: &Kit) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for n in 1..=3 {
        let response = kit
            .client
            .post(format!("{}/api/v1/login", kit.base))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .json(&json!({"username": "nobody", "password": "wrong password 1"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    statuses
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let limit = ServerConfig {
        login_attempts_per_minute: 2,
        ..ServerConfig::default()
    };
    // No trusted proxy: the header is ignored, all three count as 127.0.0.1.
    let kit = Kit::start_with(limit.clone()).await;
    assert_eq!(
        forwarded_log_ins(&kit).await,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Behind a trusted proxy (this test, on 127.0.0.1): each client counts apart,
    // and the audit trail names the client, not the proxy.
    let kit = Kit::start_with(ServerConfig {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..limit
    })
    .await;
    assert_eq!(forwarded_log_ins(&kit).await, [StatusCode::UNAUTHORIZED; 3]);
    let response = kit
        .client
        .post(format!("{}/api/v1/application-status", kit.base))
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.9")
        .json(&json!({"number": maina_core::ApplicationFormId::new("131016".parse().unwrap(), 1).unwrap().as_digits(), "birth_date": "1990-04-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let actions: Vec<String> = kit
        .store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.action)
        .collect();
    assert!(
        actions.contains(&"application.inquiry-failed:203.0.113.9".to_string()),
        "{actions:?}"
    );
}
