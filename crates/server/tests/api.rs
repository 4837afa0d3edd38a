//! The API's integration suite: a real server, started in-process on a free port
//! over a temporary SQLite store (the kanidm test-kit way), driven over HTTP.

// Tests may panic: a failed assertion is how they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use maina_core::officer::{Actor, Role};
use maina_server::{AppState, ServerConfig};
use maina_store::{Keys, Municipality, Store};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[path = "api/security.rs"]
mod security;

const PASSWORD: &str = "correct horse battery";

#[path = "api/pickup.rs"]
mod pickup;
#[path = "api/throttles.rs"]
mod throttles;

#[path = "api/appointments.rs"]
mod appointments;

#[path = "api/counter.rs"]
mod counter;

#[path = "api/counter_paths.rs"]
mod counter_paths;

#[path = "api/chip.rs"]
mod chip;
#[path = "api/suspension.rs"]
mod suspension;

#[path = "api/card_history.rs"]
mod card_history;

#[path = "api/card_life_property.rs"]
mod card_life_property;

#[path = "api/renewal.rs"]
mod renewal;

#[path = "api/card_moves.rs"]
mod card_moves;

#[path = "api/oidc.rs"]
mod oidc;
#[path = "api/oidc_hardening.rs"]
mod oidc_hardening;
#[path = "api/oidc_portal.rs"]
mod oidc_portal;
#[path = "api/oidc_refusals.rs"]
mod oidc_refusals;
#[path = "api/portal.rs"]
mod portal;
#[path = "api/portal_reveal.rs"]
mod portal_reveal;
#[path = "api/signatures.rs"]
mod signatures;

struct Kit {
    base: String,
    store: Store,
    state: AppState,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Kit {
    async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    async fn start_with(config: ServerConfig) -> Self {
        Self::start_full(config, false, true).await
    }

    /// With the card authorities (made in the test's directory).
    async fn start_with_pki() -> Self {
        Self::start_full(ServerConfig::default(), true, true).await
    }

    /// As configured, without the `public_url` the kit otherwise sets to its own
    /// address.
    async fn start_bare(config: ServerConfig) -> Self {
        Self::start_full(config, false, false).await
    }

    async fn start_full(mut config: ServerConfig, pki: bool, own_public_url: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &maina_store::sqlite_url(&dir.path().join("db.sqlite3")),
            &Keys::from_bytes([5u8; 32]),
        )
        .await
        .unwrap();
        for (code, ja, en) in [
            ("131016", "千代田区", "Chiyoda"),
            ("011002", "札幌市", "Sapporo"),
        ] {
            store
                .put_municipality(&Municipality {
                    code: code.parse().unwrap(),
                    name_ja: ja.into(),
                    name_en: en.into(),
                })
                .await
                .unwrap();
        }
        let admin = Actor::administrator("setup", "test");
        for (name, role, municipality) in [
            ("registrar", Role::Registrar, "131016"),
            ("counter", Role::Counter, "131016"),
            ("supervisor", Role::Supervisor, "131016"),
            ("auditor", Role::Auditor, "131016"),
            ("sapporo", Role::Registrar, "011002"),
            ("helpline", Role::Helpline, "131016"),
        ] {
            store
                .add_officer(
                    &name.parse().unwrap(),
                    role,
                    municipality.parse().unwrap(),
                    PASSWORD,
                    &admin,
                )
                .await
                .unwrap();
        }
        let port = free_port();
        config.listen = format!("127.0.0.1:{port}").parse().unwrap();
        if own_public_url && config.public_url.is_none() {
            config.public_url = Some(format!("http://127.0.0.1:{port}"));
        }
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let mut state = AppState::new(store.clone(), config.clone());
        if pki {
            let authorities = maina_pki::Authorities::create(
                &dir.path().join("pki-root"),
                &dir.path().join("pki"),
                chrono::Utc::now(),
            )
            .unwrap();
            maina_service::cards::refresh_crls(&store, &authorities)
                .await
                .unwrap();
            state = state.with_authorities(authorities);
        }
        let served_state = state.clone();
        tokio::spawn(async move {
            maina_server::serve(
                config.listen,
                served_state,
                async {
                    let _ = shutdown_rx.await;
                },
                move |addr| {
                    let _ = ready_tx.send(addr);
                },
            )
            .await
            .unwrap();
        });
        let addr = ready_rx.await.unwrap();
        let base = format!("http://{addr}");
        // A browser names the page's origin on every post; the CSRF layer wants it.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
        Self {
            client: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            base,
            store,
            state,
            _dir: dir,
            _shutdown: shutdown_tx,
        }
    }

    /// Logs in through the API, with the wire types the server itself uses.
    async fn login(&self, user: &str) -> String {
        let request = maina_proto::LoginRequest {
            username: user.into(),
            password: PASSWORD.into(),
        };
        let response = self
            .client
            .post(format!("{}/api/v1/login", self.base))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let answer: maina_proto::LoginResponse = response.json().await.unwrap();
        assert_eq!(answer.officer.username, user);
        answer.token
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        };
        if let Some(token) = token {
            request = request
                .bearer_auth(token)
                .header("x-purpose", "integration test");
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

impl Kit {
    /// Registers Hanako Yamada in Chiyoda with `token`; returns her record code.
    async fn register_yamada(&self, token: &str) -> String {
        let (status, body) = self
            .call("POST", "/api/v1/residents", Some(token), Some(yamada()))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["resident_code"].as_str().unwrap().to_string()
    }

    /// Registers Hanako Yamada and gives her a notice with form ID `serial`.
    async fn yamada_with_notice(&self, token: &str, serial: u64) -> maina_core::ApplicationFormId {
        let code: maina_core::ResidentCode = self.register_yamada(token).await.parse().unwrap();
        let key = self
            .store
            .resident_by_code(&code)
            .await
            .unwrap()
            .resident_key;
        let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), serial).unwrap();
        let setup = Actor::administrator("setup", "test");
        self.store.put_notice(key, &form, &setup).await.unwrap();
        form
    }
}

impl Kit {
    /// Hanako Yamada with a notice (form ID `serial`) and a mailed application under
    /// `receipt`, entered straight into the store.
    async fn yamada_with_application(
        &self,
        token: &str,
        serial: u64,
        receipt: u64,
    ) -> (maina_core::ApplicationFormId, maina_core::ReceiptNumber) {
        self.yamada_applies(token, serial, receipt, None).await
    }

    /// [`Kit::yamada_with_application`], with the e-mail address given (and then the
    /// resident reads in English).
    async fn yamada_applies(
        &self,
        token: &str,
        serial: u64,
        receipt: u64,
        email: Option<&str>,
    ) -> (maina_core::ApplicationFormId, maina_core::ReceiptNumber) {
        let form = self.yamada_with_notice(token, serial).await;
        let receipt = maina_core::ReceiptNumber::new(receipt).unwrap();
        let details = maina_store::ApplicationDetails {
            name: "山田 花子".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
            email: email.map(str::to_owned),
            language: if email.is_some() { "en" } else { "ja" }.into(),
            electronic_certificate: true,
            braille: false,
            receipt: receipt.as_digits(),
        };
        let application = maina_store::NewApplication {
            form_id: form,
            receipt,
            channel: maina_core::application::Channel::Mail,
            details,
            photo: None,
        };
        let setup = Actor::administrator("setup", "test");
        self.store
            .submit_application(&application, &setup, None)
            .await
            .unwrap();
        (form, receipt)
    }
}

/// The answer and token of the CAPTCHA on an English online-application page.
fn solve_captcha(page: &str) -> (u32, String) {
    let question = between(page, "what is ", " =</label>");
    let token = between(page, "name=\"captcha_token\" value=\"", "\"").to_string();
    let answer = question
        .split(" + ")
        .map(|n| n.trim().parse::<u32>().unwrap())
        .sum();
    (answer, token)
}

fn yamada() -> Value {
    json!({
        "municipality": "131016", "reason": "move-in-from-abroad",
        "family_name": "山田", "given_name": "花子", "family_kana": "ヤマダ", "given_kana": "ハナコ",
        "birth_date": "1990-04-01", "sex": "female", "address": "東京都千代田区千代田1-1"
    })
}

#[tokio::test]
async fn register_read_change_and_audit() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = body["resident_code"].as_str().unwrap().to_string();
    assert!(body["my_number_masked"]
        .as_str()
        .unwrap()
        .starts_with("**** **** "));

    let (status, shown) = kit
        .call(
            "GET",
            &format!("/api/v1/residents/{code}"),
            Some(&registrar),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["family_name"], "山田");
    assert!(
        !shown.to_string().contains("my_number\""),
        "no clear number in a read"
    );

    let (status, revealed) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/my-number"),
            Some(&registrar),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The one wire type that carries a My Number in clear reads it back.
    let clear: maina_proto::RevealResponse = serde_json::from_value(revealed).unwrap();
    let number = clear.my_number.as_digits();
    let (status, found) = kit
        .call(
            "POST",
            "/api/v1/residents/lookup",
            Some(&registrar),
            Some(json!({"my_number": number})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["resident_code"], code.as_str());

    let (status, found) = kit
        .call(
            "POST",
            "/api/v1/residents/search",
            Some(&registrar),
            Some(json!({"birth_date": "1990-04-01", "name": "やまだ"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1);

    let (status, moved) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/address"),
            Some(&registrar),
            Some(json!({"address": "東京都千代田区二番町2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["version"], 2);
    let (_, history) = kit
        .call(
            "GET",
            &format!("/api/v1/residents/{code}/history"),
            Some(&registrar),
            None,
        )
        .await;
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["registered", "address-changed"]);

    // Roles: a registrar cannot change numbers, a supervisor can; an auditor reads
    // the trail and nothing else; a counter reads but does not change.
    let (status, _) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/number-change"),
            Some(&registrar),
            Some(json!({"reason": "leak"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let supervisor = kit.login("supervisor").await;
    let (status, changed) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/number-change"),
            Some(&supervisor),
            Some(json!({"reason": "leak"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_ne!(changed["my_number"].as_str().unwrap(), number);
    let counter = kit.login("counter").await;
    let (status, _) = kit
        .call(
            "GET",
            &format!("/api/v1/residents/{code}"),
            Some(&counter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/departure"),
            Some(&counter),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
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
    let (status, trail) = kit
        .call(
            "GET",
            &format!("/api/v1/audit?resident={code}"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let actions: Vec<(&str, &str)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["officer"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("registrar", "register"),
        ("registrar", "read"),
        ("registrar", "reveal-my-number"),
        ("registrar", "read-by-my-number"),
        ("supervisor", "number-changed"),
        ("counter", "read"),
    ] {
        assert!(
            actions.contains(&expected),
            "{expected:?} missing from {actions:?}"
        );
    }
    assert!(trail
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["purpose"] == "integration test"));
    assert_eq!(kit.store.verify_audit().await.unwrap().problem, None);
}

#[tokio::test]
async fn officers_see_only_their_own_municipality() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let (_, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    let code = body["resident_code"].as_str().unwrap().to_string();
    let sapporo = kit.login("sapporo").await;
    for (method, path, body) in [
        ("GET", format!("/api/v1/residents/{code}"), None),
        ("GET", format!("/api/v1/residents/{code}/history"), None),
        ("POST", format!("/api/v1/residents/{code}/my-number"), None),
        (
            "POST",
            format!("/api/v1/residents/{code}/address"),
            Some(json!({"address": "札幌"})),
        ),
        (
            "POST",
            format!("/api/v1/residents/{code}/death"),
            Some(json!({})),
        ),
    ] {
        let (status, answer) = kit.call(method, &path, Some(&sapporo), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    // Registering into another municipality is refused, and a search sees nothing.
    let (status, _) = kit
        .call("POST", "/api/v1/residents", Some(&sapporo), Some(yamada()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, found) = kit
        .call(
            "POST",
            "/api/v1/residents/search",
            Some(&sapporo),
            Some(json!({"birth_date": "1990-04-01"})),
        )
        .await;
    assert_eq!(found, json!([]));
    assert_eq!(
        kit.store
            .resident(
                kit.store
                    .authority()
                    .resident_key(&code.parse().unwrap())
                    .unwrap()
            )
            .await
            .unwrap()
            .version,
        1
    );
}

#[tokio::test]
async fn log_in_lockout_and_throttle() {
    let kit = Kit::start_with(ServerConfig {
        login_attempts_per_minute: 8,
        ..ServerConfig::default()
    })
    .await;
    let wrong = |user: &str| json!({"username": user, "password": "wrong password 1"});
    let (status, body) = kit
        .call("POST", "/api/v1/login", None, Some(wrong("nobody")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "bad_credentials");
    for _ in 0..4 {
        let (status, _) = kit
            .call("POST", "/api/v1/login", None, Some(wrong("counter")))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The fifth failure locks the account; the right password no longer works.
    let (status, body) = kit
        .call("POST", "/api/v1/login", None, Some(wrong("counter")))
        .await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"username": "counter", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::LOCKED);
    // This address has now tried 7 times (none succeeded); the limit is 8 a minute.
    kit.call("POST", "/api/v1/login", None, Some(wrong("auditor")))
        .await;
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/login",
            None,
            Some(json!({"username": "auditor", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // No token, a made-up token, and a logged-out token are all refused.
    let (status, body) = kit
        .call("GET", "/api/v1/residents/24727059608", None, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (status, _) = kit
        .call(
            "GET",
            "/api/v1/residents/24727059608",
            Some("made-up"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_a_stable_error_and_changes_nothing() {
    let kit = Kit::start_with(ServerConfig {
        max_body_bytes: 4096,
        ..ServerConfig::default()
    })
    .await;
    let registrar = kit.login("registrar").await;
    let post = |body: String| {
        kit.client
            .post(format!("{}/api/v1/residents", kit.base))
            .bearer_auth(&registrar)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let check = |status: StatusCode,
                 body: Value,
                 expected_status: StatusCode,
                 code: &str,
                 field: Option<&str>| {
        assert_eq!(status, expected_status, "{body}");
        assert_eq!(body["code"], code, "{body}");
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{body}");
        }
        assert!(!body.to_string().contains("621498320257"));
    };
    let response = post("{\"municipality\": ".into()).await.unwrap();
    check(
        response.status(),
        response.json().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
        None,
    );
    let mut unknown = yamada();
    unknown["surname"] = json!("x");
    let response = post(unknown.to_string()).await.unwrap();
    check(
        response.status(),
        response.json().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
        Some("surname"),
    );
    let mut wrong_type = yamada();
    wrong_type["birth_date"] = json!(621498320257u64);
    let response = post(wrong_type.to_string()).await.unwrap();
    check(
        response.status(),
        response.json().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
        Some("birth_date"),
    );
    let mut bad_field = yamada();
    bad_field["municipality"] = json!("131017");
    let response = post(bad_field.to_string()).await.unwrap();
    check(
        response.status(),
        response.json().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("municipality"),
    );
    let mut huge = yamada();
    huge["address"] = json!("x".repeat(10_000));
    let response = post(huge.to_string()).await.unwrap();
    check(
        response.status(),
        response.json().await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        None,
    );
    let (status, body) = kit
        .call("GET", "/api/v1/residents/12345", Some(&registrar), None)
        .await;
    check(
        status,
        body,
        StatusCode::BAD_REQUEST,
        "invalid_identifier",
        Some("code"),
    );
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/residents/lookup",
            Some(&registrar),
            Some(json!({"my_number": "621498320258"})),
        )
        .await;
    check(
        status,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("my_number"),
    );
    let (status, body) = kit
        .call("GET", "/api/v1/nothing-here", Some(&registrar), None)
        .await;
    check(status, body, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(kit.store.resident_count().await.unwrap(), 0);
}

#[tokio::test]
async fn openapi_document_and_probes() {
    let kit = Kit::start().await;
    let (status, doc) = kit.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/residents",
        "/api/v1/residents/{code}",
        "/api/v1/residents/{code}/history",
        "/api/v1/login",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let response = kit
        .client
        .get(format!("{}/healthz", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-request-id").is_some());
    let (status, ready) = kit.call("GET", "/readyz", None, None).await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

#[tokio::test]
async fn crls_ca_certificates_and_ocsp_are_public() {
    let plain = Kit::start().await;
    let response = plain
        .client
        .get(format!("{}/pki/auth.crl", plain.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let kit = Kit::start_with_pki().await;
    let get = |path: &str| kit.client.get(format!("{}{path}", kit.base)).send();
    let auth_ca = get("/pki/auth-ca.crt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let sign_ca = get("/pki/sign-ca.crt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let auth_root = get("/pki/auth-root.crt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let sign_root = get("/pki/sign-root.crt")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let response = get("/pki/sign.crl").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pkix-crl");
    let crl = response.bytes().await.unwrap();
    let mut trust = maina_pki::TrustStore::new(&auth_root, &sign_root).unwrap();
    let now = chrono::Utc::now();
    trust.add_issuing_ca(&auth_ca, now).unwrap();
    trust.add_issuing_ca(&sign_ca, now).unwrap();
    assert_eq!(trust.load_crl(&crl, now).unwrap(), 0);
    assert_eq!(
        get("/pki/other.crl").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Garbage is answered in OCSP's own terms: malformedRequest.
    for body in [&b""[..], b"not an OCSP request", &[0x30, 0x82, 0xFF, 0xFF]] {
        let response = kit
            .client
            .post(format!("{}/ocsp", kit.base))
            .header("content-type", "application/ocsp-request")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            &[0x30, 0x03, 0x0A, 0x01, 0x01]
        );
    }
    let response = get("/ocsp/%%%").await.unwrap();
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        &[0x30, 0x03, 0x0A, 0x01, 0x01]
    );
}

/// Runs openssl in `dir`; its success and its output.
fn openssl_in(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn crls_are_signed_on_revocation_not_on_request_and_ocsp_by_the_responder() {
    use maina_core::card::{Pin, PinKind, RevocationReason};
    use maina_service::cards::{issue_card, CardHolder, CardPins};
    let kit = Kit::start_with_pki().await;
    let authorities = kit.state.service.authorities.clone().unwrap();
    let get = |path: String| {
        let request = kit.client.get(format!("{}{path}", kit.base)).send();
        async move { request.await.unwrap().bytes().await.unwrap().to_vec() }
    };

    // A GET of a CRL neither signs nor writes: the same bytes twice, the stored
    // CRL (and its number) unmoved.
    // (The base CRL's number: delta CRLs take numbers from the same sequence.)
    let stored = kit.store.stored_crl("auth").await.unwrap();
    assert_eq!(stored.base_number, 1);
    let base = || {
        kit.store
            .crl_document("auth", maina_store::CrlDocument::Base)
    };
    let stored_der = base().await.unwrap();
    let first = get("/pki/auth.crl".into()).await;
    assert_eq!(first, get("/pki/auth.crl".into()).await);
    assert_eq!(Some(&first), stored_der.as_ref());
    let again = kit.store.stored_crl("auth").await.unwrap();
    assert_eq!(
        (again.base_number, base().await.unwrap()),
        (stored.base_number, stored_der)
    );

    let admin = Actor::administrator("setup", "test");
    let holder = CardHolder {
        resident_key: None,
        my_number: maina_core::MyNumber::from_payload([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]).unwrap(),
        resident_code: maina_core::ResidentCode::from_payload([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
            .unwrap(),
        name: "山田 太郎".into(),
        address: "東京都千代田区千代田1-1".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
        sex: maina_core::person::Sex::Male,
    };
    let pins = CardPins {
        authentication: Pin::new(PinKind::Authentication, "1234").unwrap(),
        signature: Pin::new(PinKind::Signature, "ABC123").unwrap(),
        residence: Pin::new(PinKind::Residence, "5678").unwrap(),
        support: Pin::new(PinKind::Support, "9012").unwrap(),
    };
    let issued = issue_card(&kit.store, &authorities, &holder, &pins, &kit.base, &admin)
        .await
        .unwrap();
    let (_, card_der) = kit
        .store
        .certificate(&issued.authentication_serial.to_hex())
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let pem = |der: &[u8]| maina_pki::pem::encode("CERTIFICATE", der);
    std::fs::write(d.join("card.pem"), pem(&card_der)).unwrap();
    std::fs::write(d.join("ca.pem"), pem(&get("/pki/auth-ca.crt".into()).await)).unwrap();
    std::fs::write(
        d.join("root.pem"),
        pem(&get("/pki/auth-root.crt".into()).await),
    )
    .unwrap();
    // The card's certificate ends at the last second of its day in Japan.
    let (_, text) = openssl_in(d, &["x509", "-in", "card.pem", "-noout", "-enddate"]);
    assert!(text.contains("14:59:59 "), "{text}");
    // openssl asks the server in-process: on a blocking thread, so the server runs.
    let ocsp = |out: &'static str| {
        let url = format!("{}/ocsp", kit.base);
        let dir = d.to_path_buf();
        tokio::task::spawn_blocking(move || {
            openssl_in(
                &dir,
                &[
                    "ocsp", "-url", &url, "-issuer", "ca.pem", "-CAfile", "root.pem", "-cert",
                    "card.pem", "-respout", out,
                ],
            )
        })
    };
    let (ok, text) = ocsp("first.der").await.unwrap();
    assert!(
        ok && text.contains("Response verify OK") && text.contains("card.pem: good"),
        "{text}"
    );
    // Asked again: the cached answer, byte for byte (no new signature).
    let (_, again) = ocsp("again.der").await.unwrap();
    assert!(again.contains("card.pem: good"), "{again}");
    assert_eq!(
        std::fs::read(d.join("first.der")).unwrap(),
        std::fs::read(d.join("again.der")).unwrap()
    );

    // A revocation makes the CRL worker sign CRL number 2; OCSP answers revoked.
    kit.store
        .revoke_card(&issued.card_id, RevocationReason::LostCard, &admin)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while kit.store.stored_crl("auth").await.unwrap().base_number < 2 {
        assert!(std::time::Instant::now() < deadline, "no new CRL");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let after = get("/pki/auth.crl".into()).await;
    assert_ne!(after, first);
    std::fs::write(
        d.join("auth.crl"),
        maina_pki::pem::encode("X509 CRL", &after),
    )
    .unwrap();
    let (ok, text) = openssl_in(
        d,
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ca.pem",
            "-CRLfile",
            "auth.crl",
            "card.pem",
        ],
    );
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (ok, text) = ocsp("revoked.der").await.unwrap();
    assert!(
        ok && text.contains("Response verify OK")
            && text.contains("card.pem: revoked")
            && text.contains("keyCompromise"),
        "{text}"
    );
}

/// The venv's Python (scripts/test.sh makes it, with aiosmtpd).
fn python() -> String {
    std::env::var("MAINA_PYTHON")
        .unwrap_or_else(|_| format!("{}/../../.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn e_mail_waits_in_the_outbox_until_the_mail_server_is_up() {
    let port = free_port();
    let config = ServerConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_retry_seconds: 1,
        ..ServerConfig::default()
    };
    let kit = Kit::start_with(config).await;
    kit.store
        .enqueue_mail(&maina_store::Mail {
            to: "hanako@example.jp".into(),
            subject: "受付 / received".into(),
            body: "status: received".into(),
        })
        .await
        .unwrap();
    // Nobody listens yet: the message stays, its attempts counted.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(kit.store.pending_mail().await.unwrap(), 1);
    let smtpd = Smtpd::start(port, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while kit.store.pending_mail().await.unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the message was never delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let delivered = smtpd.delivered();
    assert_eq!(delivered.len(), 1);
    assert!(
        delivered[0].contains("To: hanako@example.jp"),
        "{}",
        delivered[0]
    );
    assert!(
        delivered[0].contains("status: received"),
        "{}",
        delivered[0]
    );
}

/// aiosmtpd (from the venv) delivering into a maildir; killed when dropped.
struct Smtpd {
    child: std::process::Child,
    maildir: tempfile::TempDir,
}

impl Smtpd {
    fn start(port: u16, tls_args: &[&str]) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(maildir.path().join(sub)).unwrap();
        }
        let child = std::process::Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(tls_args)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (scripts/test.sh installs it into .venv)");
        Self { child, maildir }
    }

    /// The messages delivered so far, as text.
    fn delivered(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.path().join("new"))
            .unwrap()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private CA and a certificate for 127.0.0.1 it signed (made with the openssl CLI).
fn private_ca(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    // A self-signed CA, then a certificate for 127.0.0.1 signed by it.
    let new_certificate = |name: &str, subject: &str, extra: &[&str]| {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec![
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ];
        args.extend(["-keyout", &key, "-out", &pem, "-subj", subject]);
        args.extend(extra);
        run(&args);
    };
    new_certificate("ca", "/CN=maina test mail CA", &[]);
    new_certificate(
        "server",
        "/CN=127.0.0.1",
        &[
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[tokio::test]
async fn e_mail_goes_over_tls_and_never_to_an_untrusted_server() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(pki.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    // STARTTLS: this aiosmtpd refuses mail until the client has started TLS.
    let starttls_port = free_port();
    let starttls = Smtpd::start(starttls_port, &["--tlscert", cert, "--tlskey", key]);
    // SMTPS: TLS from the first byte.
    let smtps_port = free_port();
    let smtps = Smtpd::start(smtps_port, &["--smtpscert", cert, "--smtpskey", key]);
    // A server that offers no STARTTLS at all.
    let plain_port = free_port();
    let plain = Smtpd::start(plain_port, &[]);
    // A bundle whose CA is its second certificate: every certificate is read.
    let bundle = pki.path().join("bundle.pem");
    std::fs::write(
        &bundle,
        [std::fs::read(cert).unwrap(), std::fs::read(&ca).unwrap()].concat(),
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let cases = [
        (
            format!("smtp://127.0.0.1:{starttls_port}?tls=required"),
            Some(bundle.clone()),
            &starttls,
            true,
        ),
        // STARTTLS required, and the server does not offer it: nothing goes in clear.
        (
            format!("smtp://127.0.0.1:{plain_port}?tls=required"),
            Some(ca.clone()),
            &plain,
            false,
        ),
        (
            format!("smtps://127.0.0.1:{smtps_port}"),
            Some(ca.clone()),
            &smtps,
            true,
        ),
        // The same server without its CA: the certificate is not trusted, nothing goes.
        (
            format!("smtps://127.0.0.1:{smtps_port}"),
            None,
            &smtps,
            false,
        ),
    ];
    for (url, ca_file, server, trusted) in cases {
        let before = server.delivered().len();
        let kit = Kit::start_with(ServerConfig {
            smtp_url: Some(url.clone()),
            smtp_ca_file: ca_file,
            mail_retry_seconds: 60,
            ..ServerConfig::default()
        })
        .await;
        kit.store
            .enqueue_mail(&maina_store::Mail {
                to: "hanako@example.jp".into(),
                subject: "受付 / received".into(),
                body: format!("sent by {url}"),
            })
            .await
            .unwrap();
        let deadline = std::time::Instant::now()
            + std::time::Duration::from_secs(if trusted { 30 } else { 4 });
        while kit.store.pending_mail().await.unwrap() > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let delivered = server.delivered();
        if trusted {
            assert_eq!(
                kit.store.pending_mail().await.unwrap(),
                0,
                "{url}: not delivered"
            );
            assert_eq!(delivered.len(), before + 1, "{url}");
            assert!(
                delivered
                    .iter()
                    .any(|text| text.contains(&format!("sent by {url}"))),
                "{url}"
            );
        } else {
            assert_eq!(
                kit.store.pending_mail().await.unwrap(),
                1,
                "{url}: sent to an untrusted server"
            );
            assert_eq!(delivered.len(), before, "{url}");
        }
    }
}

#[test]
fn mail_settings_name_the_mistake() {
    use maina_service::mail::MailSettings;
    let parse = |url: &str| MailSettings::parse(url, None, "maina <a@example.jp>", 30);
    let fails = |url: &str, expected: &str| {
        let error = parse(url).unwrap_err();
        assert!(error.contains(expected), "{url}: {error}");
        assert!(
            !error.contains("s3cret"),
            "{url}: the password leaked: {error}"
        );
    };
    fails("http://mail.example.jp", "expected smtp:// or smtps://");
    fails(
        "smtp://mail.example.jp?tls=opportunistic",
        "tls=opportunistic is not supported",
    );
    fails("smtp://user:s3cret@mail.example.jp", "a password needs TLS");
    fails("smtps://", "smtp_url");
    fails(
        "smtps://mail.example.jp?tls=required",
        "tls= is not used with smtps://",
    );
    fails(
        "smtps://:s3cret@mail.example.jp",
        "a password without a user name",
    );
    // Debug prints (of the configuration, of errors) never show the password.
    let config = ServerConfig {
        smtp_url: Some("smtps://user:s3cret@mail.example.jp".into()),
        ..ServerConfig::default()
    };
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("s3cret") && shown.contains("smtps://user:***@mail.example.jp"),
        "{shown}"
    );
    let refused = |url: &str, ca: Option<&str>, from: &str| {
        MailSettings::parse(url, ca.map(std::path::Path::new), from, 1).unwrap_err()
    };
    let error = refused("smtp://relay:25", Some("/ca.pem"), "a@example.jp");
    assert!(error.contains("smtp_ca_file"), "{error}");
    let error = refused(
        "smtps://mail.example.jp",
        Some("/nonexistent/ca.pem"),
        "a@example.jp",
    );
    assert!(
        error.contains("smtp_ca_file: /nonexistent/ca.pem"),
        "{error}"
    );
    let error = refused("smtps://mail.example.jp", None, "not an address");
    assert!(error.contains("mail_from"), "{error}");
    let settings = parse("smtps://user%40city:s3cret@mail.example.jp").unwrap();
    assert!(
        !settings.shown_url.contains("s3cret"),
        "{}",
        settings.shown_url
    );
    assert!(parse("smtp://mail.example.jp:587?tls=required").is_ok());
    assert!(parse("smtp://127.0.0.1:2525").is_ok());
}

#[tokio::test]
async fn the_status_inquiry_answers_alike_and_holds_off_guessing() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let (form, receipt) = kit
        .yamada_with_application(&registrar, 5555_6666_7777_8888, 123_456_789_012_345)
        .await;
    let ask = |number: String, birth: &str| {
        let body = json!({"number": number, "birth_date": birth});
        async {
            kit.call("POST", "/api/v1/application-status", None, Some(body))
                .await
        }
    };
    let (status, body) = ask(form.to_string(), "1990-04-01").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "received");
    // The page answers the same; in Japanese its date is in the era calendar.
    let page = kit
        .client
        .post(format!("{}/status", kit.base))
        .header("cookie", "maina_lang=ja")
        .form(&[
            ("number", form.as_digits()),
            ("birth_date", "1990-04-01".into()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let today = maina_service::dates::japan_date(maina_store::now_micros()).unwrap();
    assert!(
        page.contains(&format!("令和{}年", chrono::Datelike::year(&today) - 2018))
            && page.contains(&today.format("(%Y-%m-%d)").to_string()),
        "{page}"
    );
    let (status, body) = ask(receipt.as_digits(), "1990-04-01").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("received"))
    );
    // A wrong birth date and an unknown form ID: the same answer.
    let (wrong_status, wrong_body) = ask(form.as_digits(), "1990-04-02").await;
    let other = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 1).unwrap();
    let (unknown_status, unknown_body) = ask(other.as_digits(), "1990-04-01").await;
    assert_eq!(wrong_status, StatusCode::NOT_FOUND);
    assert_eq!((wrong_status, &wrong_body), (unknown_status, &unknown_body));
    // A malformed number names the field; a malformed date too.
    let (status, body) = ask("12345".into(), "1990-04-01").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("number"))
    );
    let (status, body) = ask(form.as_digits(), "1 April 1990").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("birth_date"))
    );
    // Guessing birth dates: after three misses the number must wait, even with the
    // right date.
    for day in 3..=4 {
        ask(form.as_digits(), &format!("1990-04-{day:02}")).await;
    }
    let (status, body) = ask(form.as_digits(), "1990-04-01").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Every failure is in the audit trail.
    let failures = kit
        .store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("application.inquiry-"))
        .count();
    assert!(failures >= 5, "{failures}");
    // The page, in Japanese.
    let page = kit
        .client
        .get(format!("{}/status?lang=ja", kit.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("申請状況の確認") && page.contains("lang=\"ja\""));
}

/// A conforming portrait (NASA's astronaut.png, fetched by scripts/test.sh).
fn portrait_jpeg() -> Vec<u8> {
    let path = std::env::var("MAINA_TESTDATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/testdata")
        })
        .join("astronaut.png");
    let image = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/test.sh)", path.display()));
    let portrait = image.crop_imm(100, 0, 245, 315).resize_exact(
        700,
        900,
        image::imageops::FilterType::Lanczos3,
    );
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&portrait.to_rgb8())
        .unwrap();
    out
}

#[tokio::test]
async fn mailed_applications_are_checked_entered_and_reviewed() {
    use base64::Engine as _;
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let supervisor = kit.login("supervisor").await;
    let sapporo = kit.login("sapporo").await;
    let admin = Actor::administrator("setup", "test");
    let mut forms = Vec::new();
    for (i, family) in ["山田", "田中"].into_iter().enumerate() {
        let mut form = yamada();
        form["family_name"] = json!(family);
        let (_, body) = kit
            .call("POST", "/api/v1/residents", Some(&registrar), Some(form))
            .await;
        let code: maina_core::ResidentCode =
            body["resident_code"].as_str().unwrap().parse().unwrap();
        let key = kit
            .store
            .resident_by_code(&code)
            .await
            .unwrap()
            .resident_key;
        let form_id =
            maina_core::ApplicationFormId::new("131016".parse().unwrap(), 1000 + i as u64).unwrap();
        kit.store.put_notice(key, &form_id, &admin).await.unwrap();
        forms.push(form_id.as_digits());
    }
    let photo = base64::engine::general_purpose::STANDARD.encode(portrait_jpeg());
    let request = |form: &str, photo: Option<&str>| {
        json!({"form_id": form, "birth_date": "1990-04-01", "name": "山田 花子", "photo_base64": photo,
               "photo_attached": photo.is_some(), "form_complete": true, "nothing_else_enclosed": true})
    };
    // Another municipality's officer cannot enter it.
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&sapporo),
            Some(request(&forms[0], Some(&photo))),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, good) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&registrar),
            Some(request(&forms[0], Some(&photo))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{good}");
    assert_eq!(
        (
            good["status"].as_str(),
            good["photo_problems"].as_array().map(Vec::len)
        ),
        (Some("received"), Some(0)),
        "{good}"
    );
    // The same form again: refused.
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&registrar),
            Some(request(&forms[0], Some(&photo))),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_used"))
    );
    // No photo in the envelope: returned with the reason.
    let (status, returned) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&registrar),
            Some(request(&forms[1], None)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(returned["status"], "returned-for-correction");
    // Bad input names the field and changes nothing.
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&registrar),
            Some(request("1234", Some(&photo))),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("form_id"))
    );
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/applications/mail",
            Some(&registrar),
            Some(request(&forms[1], Some("%%%"))),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("photo_base64"))
    );

    // Review: supervisors only; in order only.
    let receipt = good["receipt"].as_str().unwrap();
    let event = |e: &str| json!({"event": e});
    let path = format!("/api/v1/applications/{receipt}/events");
    let (status, _) = kit
        .call("POST", &path, Some(&registrar), Some(event("start-review")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = kit
        .call("POST", &path, Some(&supervisor), Some(event("approve")))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_allowed")),
        "{body}"
    );
    for step in ["start-review", "approve"] {
        let (status, body) = kit
            .call("POST", &path, Some(&supervisor), Some(event(step)))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, shown) = kit
        .call(
            "GET",
            &format!("/api/v1/applications/{receipt}"),
            Some(&registrar),
            None,
        )
        .await;
    assert_eq!(shown["status"], "card-issuance-in-process");
    let (status, body) = kit
        .call(
            "POST",
            &path,
            Some(&supervisor),
            Some(json!({"event": "return-for-correction"})),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    // Not stuck yet (approved today).
    let (status, list) = kit
        .call("GET", "/api/v1/applications/stuck", Some(&supervisor), None)
        .await;
    assert_eq!(
        (status, list.as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let (status, _) = kit
        .call("GET", "/api/v1/applications/stuck", Some(&registrar), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The text of the e-mails in a Maildir, oldest first, decoded by Python's email
/// package (bodies may be quoted-printable or base64).
fn mails(maildir: &std::path::Path) -> Vec<String> {
    let script = r#"
import email, email.header, glob, os, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], 'new', '*')), key=os.path.getmtime)
for f in files:
    m = email.message_from_binary_file(open(f, 'rb'))
    subject = str(email.header.make_header(email.header.decode_header(m['Subject'])))
    print('Subject: ' + subject)
    print(m.get_payload(decode=True).decode('utf-8'))
    print('\x1e')
"#;
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(maildir)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!("mail parsing: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .split('\u{1e}')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in {text}"))
        + start.len();
    let to = from + text[from..].find(end).unwrap();
    &text[from..to]
}

#[tokio::test]
async fn apply_online_from_the_link_in_the_e_mail() {
    let port = free_port();
    let smtpd = Smtpd::start(port, &[]);
    let config = ServerConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_retry_seconds: 1,
        office_contacts: [("131016".to_owned(), "住民課 03-1234-5678".to_owned())].into(),
        ..ServerConfig::default()
    };
    let kit = Kit::start_with(config).await;
    let registrar = kit.login("registrar").await;
    let (_, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    let code: maina_core::ResidentCode = body["resident_code"].as_str().unwrap().parse().unwrap();
    let key = kit
        .store
        .resident_by_code(&code)
        .await
        .unwrap()
        .resident_key;
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 4242).unwrap();
    kit.store
        .put_notice(key, &form, &Actor::administrator("setup", "test"))
        .await
        .unwrap();
    let wait_for_mails = |count: usize| {
        let dir = smtpd.maildir.path().to_path_buf();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let found = mails(&dir);
                if found.len() >= count {
                    return found;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "only {} e-mails: {found:?}",
                    found.len()
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    };

    // Step 1: the QR code's URL fills the form ID in.
    let page = kit
        .client
        .get(format!("{}/apply?form={}", kit.base, form.as_digits()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&form.as_digits()));
    let (answer, token) = solve_captcha(&page);
    let step_one = |captcha: String, token: String| {
        let form = [
            ("form_id", form.as_digits()),
            ("name", "山田 花子".into()),
            ("email", "hanako@example.jp".into()),
            ("captcha", captcha),
            ("captcha_token", token),
        ];
        kit.client
            .post(format!("{}/apply", kit.base))
            .form(&form)
            .send()
    };
    let wrong = step_one((answer + 1).to_string(), token.clone())
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let sent = step_one(answer.to_string(), token.clone()).await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("id=\"sent\""));
    // A CAPTCHA answers once.
    assert_eq!(
        step_one(answer.to_string(), token).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Step 2: the link from the real e-mail.
    let first = wait_for_mails(1).await;
    let link = first[0]
        .lines()
        .find(|l| l.contains("/apply/continue?token="))
        .unwrap()
        .trim()
        .to_string();
    let token = link.split("token=").nth(1).unwrap().to_string();
    let page = kit.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("capture=\"user\""));
    let upload = |photo: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("token", token.clone())
            .text("birth_date", "1990-04-01")
            .text("certificate", "yes")
            .text("braille", "no")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(photo)
                    .file_name(name)
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        kit.client
            .post(format!("{}/apply/continue", kit.base))
            .multipart(form)
            .send()
    };
    // A photo that is not one: told what to fix, the link still works.
    let bad = upload(b"not a photo".to_vec(), "x.jpg").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("data-problem=\"photo-not-jpeg\""));
    let done = upload(portrait_jpeg(), "me.jpg").await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let done = done.text().await.unwrap();
    let receipt = between(&done, "<strong id=\"receipt\">", "</strong>").replace(' ', "");
    assert_eq!(receipt.len(), 16, "{done}");
    // Single use.
    assert_eq!(
        upload(portrait_jpeg(), "me.jpg").await.unwrap().status(),
        StatusCode::GONE
    );
    assert_eq!(
        kit.client.get(&link).send().await.unwrap().status(),
        StatusCode::GONE
    );

    // Step 3: the confirmation e-mail, then one for every change.
    let mails_now = wait_for_mails(2).await;
    assert!(
        mails_now[1].contains(&receipt) && mails_now[1].contains("Received"),
        "{}",
        mails_now[1]
    );
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/application-status",
            None,
            Some(json!({"number": receipt, "birth_date": "1990-04-01"})),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("received"))
    );
    let supervisor = kit.login("supervisor").await;
    let path = format!("/api/v1/applications/{receipt}/events");
    let step = |event: &'static str| {
        kit.call(
            "POST",
            &path,
            Some(&supervisor),
            Some(json!({"event": event})),
        )
    };
    assert_eq!(step("start-review").await.0, StatusCode::OK);
    let mails_now = wait_for_mails(3).await;
    assert!(mails_now[2].contains("Under review"), "{}", mails_now[2]);
    // Approved: in card issuance. Were it there past the cut-off, the applicant is
    // told once, with the office to contact.
    assert_eq!(step("approve").await.0, StatusCode::OK);
    let now = maina_store::now_micros();
    let notify = |before: i64| kit.state.service().notify_stuck_since(before);
    assert_eq!(
        notify(now - 3_600_000_000).await.unwrap(),
        0,
        "not stuck an hour ago"
    );
    assert_eq!(notify(now + 3_600_000_000).await.unwrap(), 1);
    assert_eq!(notify(now + 3_600_000_000).await.unwrap(), 0, "told once");
    let late = &wait_for_mails(5).await[4];
    assert!(
        late.contains("Chiyoda (131016)") && late.contains("住民課 03-1234-5678"),
        "{late}"
    );
}

#[tokio::test]
async fn a_photo_booth_applies_with_its_key() {
    use base64::Engine as _;
    let config = ServerConfig {
        booth_keys: vec!["booth-key-0001".into()],
        ..ServerConfig::default()
    };
    let kit = Kit::start_with(config).await;
    let registrar = kit.login("registrar").await;
    let (_, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    let code: maina_core::ResidentCode = body["resident_code"].as_str().unwrap().parse().unwrap();
    let key = kit
        .store
        .resident_by_code(&code)
        .await
        .unwrap()
        .resident_key;
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 777).unwrap();
    kit.store
        .put_notice(key, &form, &Actor::administrator("setup", "test"))
        .await
        .unwrap();
    let request = |photo: &[u8], approved: bool| {
        json!({"form_id": form.as_digits(), "birth_date": "1990-04-01", "name": "山田 花子",
               "photo_base64": base64::engine::general_purpose::STANDARD.encode(photo),
               "electronic_certificate": true, "braille": false, "approved": approved, "language": "en"})
    };
    let send = |key: &'static str, body: Value| {
        kit.client
            .post(format!("{}/api/v1/booth/applications", kit.base))
            .header("x-booth-key", key)
            .json(&body)
            .send()
    };
    let portrait = portrait_jpeg();
    assert_eq!(
        send("wrong-key", request(&portrait, true))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let response = send("booth-key-0001", request(&portrait, false))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A photo that does not conform: told what to fix, nothing recorded.
    let response = send("booth-key-0001", request(b"blurry", true))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "photo_base64");
    assert!(body["message"].as_str().unwrap().contains("JPEG"), "{body}");
    assert!(!kit.store.form_in_use(&form).await.unwrap());
    let response = send("booth-key-0001", request(&portrait, true))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["status"], "received");
    assert!(
        receipt["printable"]
            .as_str()
            .unwrap()
            .contains("Receipt number"),
        "{receipt}"
    );
    assert!(kit.store.form_in_use(&form).await.unwrap());
}

#[tokio::test]
async fn the_booth_page_takes_the_qr_photo_and_approval_and_prints_a_receipt() {
    let config = ServerConfig {
        booth_keys: vec!["booth-key-0002".into()],
        ..ServerConfig::default()
    };
    let kit = Kit::start_with(config).await;
    let registrar = kit.login("registrar").await;
    let (_, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    let code: maina_core::ResidentCode = body["resident_code"].as_str().unwrap().parse().unwrap();
    let key = kit
        .store
        .resident_by_code(&code)
        .await
        .unwrap()
        .resident_key;
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 888).unwrap();
    kit.store
        .put_notice(key, &form, &Actor::administrator("setup", "test"))
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Without its key the page is refused; with a wrong one too.
    assert_eq!(
        client
            .get(format!("{}/booth", kit.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        client
            .get(format!("{}/booth?key=nope", kit.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let opened = client
        .get(format!("{}/booth?key=booth-key-0002", kit.base))
        .send()
        .await
        .unwrap();
    let cookie = opened.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("maina_booth="));
    let page = client
        .get(format!("{}/booth?lang=ja", kit.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("capture=\"user\"") && page.contains("マイナンバーカード交付申請"),
        "{page}"
    );
    let submit = |approved: bool| {
        let mut form_data = reqwest::multipart::Form::new()
            .text("form_id", form.as_digits())
            .text("name", "山田 花子")
            .text("birth_date", "1990-04-01")
            .text("certificate", "yes")
            .text("braille", "no")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(portrait_jpeg()).file_name("cam.jpg"),
            );
        if approved {
            form_data = form_data.text("approved", "yes");
        }
        client
            .post(format!("{}/booth", kit.base))
            .header("origin", &kit.base)
            .header("cookie", &cookie)
            .header("accept-language", "en")
            .multipart(form_data)
            .send()
    };
    let refused = submit(false).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let printed = submit(true).await.unwrap();
    assert_eq!(printed.status(), StatusCode::OK);
    let printed = printed.text().await.unwrap();
    assert!(
        printed.contains("id=\"printable\"") && printed.contains("Receipt number"),
        "{printed}"
    );
    assert!(kit.store.form_in_use(&form).await.unwrap());
}

#[tokio::test]
async fn supervisors_see_the_stuck_applications_page() {
    let kit = Kit::start().await;
    let supervisor = kit.login("supervisor").await;
    let registrar = kit.login("registrar").await;
    let get = |token: String| {
        kit.client
            .get(format!("{}/console/applications/stuck?lang=ja", kit.base))
            .header("cookie", format!("maina_session={token}"))
            .send()
    };
    let page = get(supervisor).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("発行手続が滞っている申請") && text.contains("id=\"none\""),
        "{text}"
    );
    assert_eq!(
        get(registrar).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_back_office_enters_a_mailed_application_on_its_page() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let (_, body) = kit
        .call(
            "POST",
            "/api/v1/residents",
            Some(&registrar),
            Some(yamada()),
        )
        .await;
    let code: maina_core::ResidentCode = body["resident_code"].as_str().unwrap().parse().unwrap();
    let key = kit
        .store
        .resident_by_code(&code)
        .await
        .unwrap()
        .resident_key;
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 999).unwrap();
    kit.store
        .put_notice(key, &form, &Actor::administrator("setup", "test"))
        .await
        .unwrap();
    let cookie = format!("maina_session={registrar}");
    let page = kit
        .client
        .get(format!("{}/console/applications/mail?lang=en", kit.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Envelope checks"));
    // The photo is attached, but something else was in the envelope: returned.
    let form_data = reqwest::multipart::Form::new()
        .text("form_id", form.as_digits())
        .text("name", "山田 花子")
        .text("birth_date", "1990-04-01")
        .text("photo_attached", "yes")
        .text("form_complete", "yes")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(portrait_jpeg()).file_name("scan.jpg"),
        );
    let done = kit
        .client
        .post(format!("{}/console/applications/mail", kit.base))
        .header("cookie", &cookie)
        .header("accept-language", "en")
        .multipart(form_data)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let text = done.text().await.unwrap();
    assert!(
        text.contains("data-status=\"returned-for-correction\"")
            && text.contains("Returned for correction"),
        "{text}"
    );
}
