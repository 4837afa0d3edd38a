//! The security hardening's findings, one test each: every test here failed on the
//! code before its fix (SECURITY.md names them).

use super::{yamada, Kit};
use maina_server::ServerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The audit actions written so far, with the officer who did them.
async fn audit_actions(kit: &Kit) -> Vec<(String, String, Option<u64>)> {
    kit.store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.officer, e.action, e.resident))
        .collect()
}

fn returning(code: &str, family: &str) -> Value {
    let mut form = yamada();
    form["municipality"] = json!("011002");
    form["prior_resident_code"] = json!(code);
    form["family_name"] = json!(family);
    form
}

#[tokio::test]
async fn another_municipalitys_residents_cannot_be_probed_or_taken_over_by_prior_code() {
    let kit = Kit::start().await;
    let chiyoda = kit.login("registrar").await;
    let sapporo = kit.login("sapporo").await;
    let code = kit.register_yamada(&chiyoda).await;
    let unknown = kit.store.authority().resident_code(987_654).unwrap();

    // Wrong name, right name of an active resident, an unknown code: one answer.
    let mut answers = vec![];
    for form in [
        returning(&code, "佐藤"),
        returning(&code, "山田"),
        returning(&unknown.as_digits(), "山田"),
    ] {
        let (status, body) = kit
            .call("POST", "/api/v1/residents", Some(&sapporo), Some(form))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1], "an active record answered apart");
    assert_eq!(answers[0], answers[2], "an unknown code answered apart");
    // Every refused attempt is in the trail, by the officer who tried.
    let refused = audit_actions(&kit)
        .await
        .into_iter()
        .filter(|(officer, action, _)| {
            officer == "sapporo" && action.starts_with("register-refused")
        })
        .count();
    assert_eq!(refused, 3);

    // Departed abroad, back into another municipality: its own audited step,
    // naming both municipalities.
    let (status, _) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/departure"),
            Some(&chiyoda),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&sapporo),
            Some(returning(&code, "山田")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["returned"], json!(true));
    assert!(audit_actions(&kit)
        .await
        .iter()
        .any(|(officer, action, _)| {
            officer == "sapporo" && action == "return-from-abroad from 131016 into 011002"
        }));
}

#[tokio::test]
async fn denied_reads_are_audited() {
    let kit = Kit::start().await;
    let chiyoda = kit.login("registrar").await;
    let code = kit.register_yamada(&chiyoda).await;
    let key = kit
        .store
        .authority()
        .resident_key(&code.parse().unwrap())
        .unwrap();
    let sapporo = kit.login("sapporo").await;
    let (status, _) = kit
        .call(
            "GET",
            &format!("/api/v1/residents/{code}"),
            Some(&sapporo),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let auditor = kit.login("auditor").await;
    let (status, _) = kit
        .call(
            "GET",
            &format!("/api/v1/residents/{code}"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let actions = audit_actions(&kit).await;
    assert!(
        actions
            .iter()
            .any(|(officer, action, resident)| officer == "sapporo"
                && action.starts_with("denied ReadResident")
                && *resident == Some(key)),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(officer, action, _)| officer == "auditor" && action.starts_with("denied")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_reveal_needs_a_stated_purpose_and_the_counter_may_not_reveal() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let code = kit.register_yamada(&registrar).await;
    let url = format!("{}/api/v1/residents/{code}/my-number", kit.base);
    let without_purpose = kit
        .client
        .post(&url)
        .bearer_auth(&registrar)
        .send()
        .await
        .unwrap();
    assert_eq!(without_purpose.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = without_purpose.json().await.unwrap();
    assert_eq!(body["code"], json!("purpose_required"), "{body}");
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/my-number"),
            Some(&registrar),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reveal = kit
        .store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "reveal-my-number")
        .unwrap();
    assert_eq!(reveal.purpose, "integration test");
    let counter = kit.login("counter").await;
    let (status, _) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/my-number"),
            Some(&counter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Logs in on the console's page and returns the session cookie.
pub(crate) async fn console_cookie(kit: &Kit, user: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/login", kit.base))
        .header("origin", &kit.base)
        .form(&[("username", user), ("password", super::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn the_api_takes_bearer_tokens_only() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let code = kit.register_yamada(&registrar).await;
    let cookie = console_cookie(&kit, "registrar").await;
    let plain = reqwest::Client::new();
    let read = plain
        .get(format!("{}/api/v1/residents/{code}", kit.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED);
    // The same cookie still opens the console.
    let page = plain
        .get(format!("{}/console/residents/{code}", kit.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn cookie_posts_need_our_origin_with_its_scheme() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let code = kit.register_yamada(&registrar).await;
    let cookie = console_cookie(&kit, "registrar").await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let https_origin = kit.base.replace("http://", "https://");
    let post = |origin: Option<&str>, referer: Option<&str>, path: &str| {
        // A new address each time: the same one twice is refused as no change.
        let address = format!(
            "東京都千代田区丸の内1-{}",
            path.len() + origin.map_or(0, str::len)
        );
        let mut request = plain
            .post(format!("{}{path}", kit.base))
            .header("cookie", &cookie)
            .form(&[("address", address)]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        request.send()
    };
    let change = format!("/console/residents/{code}/address");
    for (origin, referer) in [
        (None, None),
        (Some("http://evil.example"), None),
        (Some(https_origin.as_str()), None),
        (Some("null"), None),
        (None, Some("http://evil.example/")),
    ] {
        let answer = post(origin, referer, &change).await.unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::FORBIDDEN,
            "{origin:?} {referer:?}"
        );
    }
    // Log-out is guarded too.
    let logout = post(None, None, "/logout").await.unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    let view = kit
        .store
        .resident_by_code(&code.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(view.version, 1, "a refused post changed the record");
    let referer = format!("{}/console/residents/{code}", kit.base);
    let answer = post(None, Some(&referer), &change).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let answer = post(Some(&kit.base), None, &change).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let kit = Kit::start().await;
    for path in [
        "/",
        "/login",
        "/status",
        "/healthz",
        "/api/v1/openapi.json",
        "/nowhere",
    ] {
        let response = kit
            .client
            .get(format!("{}{path}", kit.base))
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
    }
    let https = Kit::start_with(ServerConfig {
        public_url: Some("https://maina.example.jp".into()),
        ..ServerConfig::default()
    })
    .await;
    let response = https
        .client
        .get(format!("{}/", https.base))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[tokio::test]
async fn no_e_mailed_link_is_built_from_the_host_header() {
    let kit = Kit::start_bare(ServerConfig::default()).await;
    let registrar = kit.login("registrar").await;
    let form = kit.yamada_with_notice(&registrar, 4243).await;
    let page = kit
        .client
        .get(format!("{}/apply?lang=en", kit.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (answer, token) = super::solve_captcha(&page);
    // An attacker's Host header (and a matching Origin): before, the e-mailed link
    // pointed at their site.
    let answer = reqwest::Client::new()
        .post(format!("{}/apply?lang=en", kit.base))
        .header("host", "evil.example")
        .header("origin", "https://evil.example")
        .form(&[
            ("form_id", form.as_digits()),
            ("name", "山田 花子".into()),
            ("email", "hanako@example.jp".into()),
            ("captcha", answer.to_string()),
            ("captcha_token", token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(kit.store.due_mail(10).await.unwrap().len(), 0);
}

#[tokio::test]
async fn the_front_page_speaks_the_browsers_language_and_counts_nobody() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    kit.register_yamada(&registrar).await;
    let page = |language: &'static str| {
        kit.client
            .get(format!("{}/", kit.base))
            .header("accept-language", language)
            .send()
    };
    let english = page("en-GB,en;q=0.9").await.unwrap().text().await.unwrap();
    assert!(english.contains("lang=\"en\""), "{english}");
    for link in ["href=\"/status\"", "href=\"/apply\"", "href=\"/login\""] {
        assert!(english.contains(link), "{link}");
    }
    assert!(!english.contains("residents on"), "{english}");
    let japanese = page("ja").await.unwrap().text().await.unwrap();
    assert!(
        japanese.contains("lang=\"ja\"") && japanese.contains("マイナンバー"),
        "{japanese}"
    );
}

#[tokio::test]
async fn the_openapi_document_links_operations_for_stateful_fuzzing() {
    let kit = Kit::start().await;
    let (_, doc) = kit.call("GET", "/api/v1/openapi.json", None, None).await;
    let links = &doc["paths"]["/api/v1/residents"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["show"]["parameters"]["code"],
        "$response.body#/resident_code"
    );
    // Every linked operation exists.
    let operations: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    for link in links.as_object().unwrap().values() {
        let id = link["operationId"].as_str().unwrap();
        assert!(operations.contains(&id), "{id} is not an operation");
    }
    // The search is a POST now: no query string carries a name or a birth date.
    assert!(doc["paths"]["/api/v1/residents"].get("get").is_none());
}
