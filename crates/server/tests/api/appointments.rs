//! Offices and appointments over HTTP: 20 parallel bookings of one slot get
//! exactly its seats; a wrong number and a wrong birth date get the status
//! inquiry's one answer and are held off; the e-mails carry an `.ics` file that
//! follows the booking, the move and the cancellation; the day list is the
//! municipality's counter's; the office record is its supervisor's.

use super::Kit;
use chrono::NaiveDate;
use maina_core::officer::Actor;
use maina_core::IssueNoticeNumber;
use maina_store::pickup::{IssueNoticeDetails, IssueNoticeRow};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BIRTH: &str = "1990-04-01";

/// An issue notice (and its card) in Chiyoda for resident `key`.
async fn notice(kit: &Kit, key: u64, email: Option<&str>, language: &str) -> String {
    let card = format!("APPT-CARD-{key:04}");
    kit.store
        .put_card(
            &card,
            None,
            b"chip",
            &[],
            &Actor::administrator("setup", "test"),
        )
        .await
        .unwrap();
    let number = IssueNoticeNumber::new("131016".parse().unwrap(), 100_000 + key).unwrap();
    kit.store
        .insert_issue_notice_for_tests(&IssueNoticeRow {
            number,
            birth_date: NaiveDate::parse_from_str(BIRTH, "%Y-%m-%d").unwrap(),
            card_id: card,
            application_id: key,
            resident_key: key,
            municipality: "131016".parse().unwrap(),
            office_id: None,
            deadline: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            details: IssueNoticeDetails {
                notice_number: number.as_digits(),
                email: email.map(str::to_owned),
                language: language.into(),
                name: format!("山田 太郎{key}"),
            },
        })
        .await
        .unwrap();
    number.as_digits()
}

/// Sets the office: open every day 08:00–18:00, `counters` seats, 30-minute slots.
async fn set_office(kit: &Kit, counters: u32) -> Value {
    let token = kit.login("supervisor").await;
    let (status, body) = kit
        .put_office(
            &token,
            json!({
                "name_ja": "千代田区役所 2階 戸籍住民課", "name_en": "Chiyoda City Office, 2F",
                "address_ja": "東京都千代田区九段南1-2-1", "address_en": "1-2-1 Kudan-minami, Chiyoda",
                "phone": "03-3264-2111", "hours": "mon-sun 08:00-18:00",
                "counters": counters, "slot_minutes": 30, "book_from_days": 1, "book_to_days": 14,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

impl Kit {
    async fn put_office(&self, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .put(format!("{}/api/v1/offices/131016", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A console page as an officer (the session cookie).
    async fn page_as(&self, officer: &str, path: &str) -> (StatusCode, String) {
        let token = self.login(officer).await;
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("maina_session={token}"))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn first_slot(&self, number: &str) -> String {
        let (status, view) = self
            .call(
                "POST",
                "/api/v1/pickup/slots",
                None,
                Some(json!({"number": number, "birth_date": BIRTH})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        view["days"][0]["slots"][0]["starts_at"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn twenty_parallel_bookings_of_one_slot_take_exactly_its_seats() {
    let kit = Kit::start().await;
    set_office(&kit, 3).await;
    let mut numbers = Vec::new();
    for key in 0..20 {
        numbers.push(notice(&kit, key, None, "ja").await);
    }
    let slot = kit.first_slot(&numbers[0]).await;
    let requests: Vec<_> = numbers
        .iter()
        .map(|number| {
            kit.client
                .post(format!("{}/api/v1/pickup/appointments", kit.base))
                .json(&json!({"number": number, "birth_date": BIRTH, "starts_at": slot}))
        })
        .collect();
    let sent: Vec<_> = requests
        .into_iter()
        .map(|request| {
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut booked = 0;
    for handle in sent {
        let (status, body) = handle.await.unwrap();
        match status {
            StatusCode::CREATED => booked += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "slot_full", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(booked, 3);
    // The slots page agrees: no seat left at that time.
    let (_, view) = kit
        .call(
            "POST",
            "/api/v1/pickup/slots",
            None,
            Some(json!({"number": numbers[19], "birth_date": BIRTH})),
        )
        .await;
    let free = view["days"][0]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["starts_at"] == slot.as_str())
        .unwrap()["free"]
        .clone();
    assert_eq!(free, 0);
}

#[tokio::test]
async fn a_wrong_number_or_birth_date_gets_the_inquirys_answer_and_is_held_off() {
    let kit = Kit::start().await;
    let number = notice(&kit, 1, None, "en").await;
    let unknown = IssueNoticeNumber::new("131016".parse().unwrap(), 7).unwrap();
    let ask = |number: String, birth: &str| {
        kit.call(
            "POST",
            "/api/v1/pickup/slots",
            None,
            Some(json!({"number": number, "birth_date": birth})),
        )
    };
    let wrong_birth = ask(number.clone(), "1990-04-02").await;
    let wrong_number = ask(unknown.as_digits(), BIRTH).await;
    assert_eq!(wrong_birth.0, StatusCode::NOT_FOUND);
    assert_eq!(wrong_birth, wrong_number);
    // The status inquiry's very answer to an unknown form ID.
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), 1234).unwrap();
    let inquiry = kit
        .call(
            "POST",
            "/api/v1/application-status",
            None,
            Some(json!({"number": form.as_digits(), "birth_date": BIRTH})),
        )
        .await;
    assert_eq!(inquiry, wrong_birth);
    assert_eq!(wrong_birth.1["code"], "no_match");
    assert_eq!(
        wrong_birth.1["message"],
        "no application matches this number and birth date"
    );
    // Malformed input names the field and counts nothing.
    let (status, body) = ask("1234".into(), BIRTH).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "number");
    let (status, body) = ask(number.clone(), "1 April").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "birth_date");
    // Three wrong tries a quarter hour per number (the inquiry's limit): the next
    // is held off, even with the right birth date, and a booking too.
    ask(number.clone(), "1990-04-03").await;
    ask(number.clone(), "1990-04-04").await;
    let (status, body) = ask(number.clone(), BIRTH).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/pickup/appointments",
            None,
            Some(json!({"number": number, "birth_date": BIRTH, "starts_at": "2030-01-07T09:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Every failure is in the audit trail, without the number.
    let supervisor = kit.login("supervisor").await;
    let (_, trail) = kit
        .call("GET", "/api/v1/audit", Some(&supervisor), None)
        .await;
    let text = trail.to_string();
    assert!(!text.contains(&number), "the audit trail names the number");
}

/// The outbox's mails with their attachments, oldest first.
async fn sent_calendars(kit: &Kit) -> Vec<(String, String, String)> {
    kit.store
        .due_mail(100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|queued| {
            let file = queued.attachment?;
            assert_eq!(file.filename, "my-number-card-pickup.ics");
            assert!(file.content_type.starts_with("text/calendar"));
            let ics = String::from_utf8(file.content).unwrap();
            // Lines of at most 75 octets, CRLF; unfolded for the checks.
            for line in ics.split("\r\n") {
                assert!(line.len() <= 75, "{line}");
            }
            Some((
                queued.mail.subject,
                queued.mail.body,
                ics.replace("\r\n ", ""),
            ))
        })
        .collect()
}

/// A `YYYY-MM-DDTHH:MM` Japan time as iCalendar's UTC form.
fn utc_stamp(japan: &str) -> String {
    let local = chrono::NaiveDateTime::parse_from_str(japan, "%Y-%m-%dT%H:%M").unwrap();
    (local - chrono::Duration::hours(9))
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

#[tokio::test]
async fn bookings_moves_and_cancellations_are_mailed_with_a_calendar_file() {
    let kit = Kit::start().await;
    set_office(&kit, 2).await;
    let number = notice(&kit, 1, Some("taro@example.jp"), "ja").await;
    let first = kit.first_slot(&number).await;
    let book = |path: &'static str, starts_at: &str| {
        let body = json!({"number": number, "birth_date": BIRTH, "starts_at": starts_at});
        let kit = &kit;
        async move {
            kit.call(
                "POST",
                &format!("/api/v1/pickup/appointments{path}"),
                None,
                Some(body),
            )
            .await
        }
    };
    let (status, booked) = book("", &first).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["starts_at"], first.as_str());
    assert_eq!(booked["office"]["name_ja"], "千代田区役所 2階 戸籍住民課");
    // A second booking is refused: move it instead.
    let (status, body) = book("", &first).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_booked"))
    );
    // A time that is not a slot is refused with the field named.
    let (status, body) = book("/move", &first.replace(":00", ":07")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "starts_at");
    // Move half an hour later (30-minute slots), then cancel.
    let later = {
        let time = chrono::NaiveDateTime::parse_from_str(&first, "%Y-%m-%dT%H:%M").unwrap();
        (time + chrono::Duration::minutes(30))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let (status, moved) = book("/move", &later).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/pickup/appointments/cancel",
            None,
            Some(json!({"number": number, "birth_date": BIRTH})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mails = sent_calendars(&kit).await;
    assert_eq!(mails.len(), 3, "{mails:?}");
    let (subject, body, ics) = &mails[0];
    assert!(
        subject.starts_with("マイナンバーカード受け取りのご予約"),
        "{subject}"
    );
    assert!(body.contains(&first.replace('T', " ")), "{body}");
    assert!(body.contains("千代田区役所 2階 戸籍住民課"));
    assert!(!body.contains(&number), "the mail names the notice number");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.contains("\r\nMETHOD:PUBLISH\r\n"));
    assert!(ics.contains(&format!("\r\nDTSTART:{}\r\n", utc_stamp(&first))));
    let end = utc_stamp(&later);
    assert!(ics.contains(&format!("\r\nDTEND:{end}\r\n")), "{ics}");
    assert!(ics.contains("SUMMARY:マイナンバーカードの受け取り"));
    assert!(ics.contains("LOCATION:千代田区役所 2階 戸籍住民課\\, 東京都千代田区九段南1-2-1"));
    let uid = |ics: &str| {
        ics.lines()
            .find(|l| l.starts_with("UID:"))
            .unwrap()
            .to_owned()
    };
    let sequence = |ics: &str| {
        ics.lines()
            .find_map(|l| l.strip_prefix("SEQUENCE:"))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    // The move replaces the event (same UID, later sequence); the cancellation
    // removes it.
    let (_, _, moved_ics) = &mails[1];
    assert!(moved_ics.contains(&format!("\r\nDTSTART:{}\r\n", utc_stamp(&later))));
    assert_eq!(uid(ics), uid(moved_ics));
    assert!(sequence(moved_ics) > sequence(ics));
    let (subject, _, cancel_ics) = &mails[2];
    assert!(subject.contains("取り消し"), "{subject}");
    assert!(
        cancel_ics.contains("\r\nMETHOD:CANCEL\r\n")
            && cancel_ics.contains("\r\nSTATUS:CANCELLED\r\n")
    );
    assert_eq!(uid(cancel_ics), uid(ics));
    assert!(sequence(cancel_ics) > sequence(moved_ics));
    // Book again and get the reminder the day before, once.
    let (status, _) = book("", &first).await;
    assert_eq!(status, StatusCode::CREATED);
    let day = NaiveDate::parse_from_str(&first[..10], "%Y-%m-%d").unwrap();
    let eve = (day - chrono::Duration::days(1))
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let service = kit.state.service();
    assert_eq!(service.send_appointment_reminders(eve).await.unwrap(), 1);
    assert_eq!(service.send_appointment_reminders(eve).await.unwrap(), 0);
    let mails = sent_calendars(&kit).await;
    let (subject, _, _) = mails.last().unwrap();
    assert!(
        subject.starts_with("明日はマイナンバーカードの受け取り日です"),
        "{subject}"
    );
}

#[tokio::test]
async fn the_day_list_is_the_municipalitys_and_the_office_its_supervisors() {
    let kit = Kit::start().await;
    set_office(&kit, 2).await;
    let number = notice(&kit, 1, None, "en").await;
    let slot = kit.first_slot(&number).await;
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/pickup/appointments",
            None,
            Some(json!({"number": number, "birth_date": BIRTH, "starts_at": slot})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/v1/pickup/day-list?date={}", &slot[..10]);
    let counter = kit.login("counter").await;
    let (status, list) = kit.call("GET", &path, Some(&counter), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["appointments"][0]["name"], "山田 太郎1");
    assert_eq!(list["appointments"][0]["starts_at"], slot.as_str());
    for officer in ["registrar", "sapporo"] {
        let token = kit.login(officer).await;
        let (status, _) = kit.call("GET", &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{officer}");
    }
    let (status, body) = kit
        .call(
            "GET",
            "/api/v1/pickup/day-list?date=tomorrow",
            Some(&counter),
            None,
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("date"))
    );
    // The office: public to read; only its supervisor changes it; a bad field is
    // named and changes nothing.
    let (status, office) = kit.call("GET", "/api/v1/offices/131016", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(office["hours"], "mon-sun 08:00-18:00");
    let mut change = office.clone();
    for key in ["municipality", "updated_at", "updated_by"] {
        change.as_object_mut().unwrap().remove(key);
    }
    let registrar = kit.login("registrar").await;
    assert_eq!(
        kit.put_office(&registrar, change.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let supervisor = kit.login("supervisor").await;
    change["hours"] = json!("mon-fri 8:30-17:15");
    let (status, body) = kit.put_office(&supervisor, change).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "hours");
    assert!(body["message"].as_str().unwrap().contains("\"8:30\""));
    let (_, after) = kit.call("GET", "/api/v1/offices/131016", None, None).await;
    assert_eq!(after, office);
    let contact = kit
        .state
        .service()
        .office_contact("131016", "ja")
        .await
        .unwrap();
    assert_eq!(
        contact,
        "千代田区役所 2階 戸籍住民課, 東京都千代田区九段南1-2-1, 03-3264-2111"
    );
    // The console pages render for the counter.
    let (status, page) = kit
        .page_as(
            "counter",
            &format!("/console/appointments?date={}", &slot[..10]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("山田 太郎1"), "{page}");
}

#[tokio::test]
async fn the_booking_page_books_in_the_residents_language() {
    let kit = Kit::start().await;
    set_office(&kit, 1).await;
    let number = notice(&kit, 1, None, "ja").await;
    let page = |form: Vec<(&'static str, String)>| {
        kit.client
            .post(format!("{}/pickup/book?lang=ja", kit.base))
            .form(&form)
            .send()
    };
    let response = page(vec![
        ("number", number.clone()),
        ("birth_date", "1990-04-02".into()),
        ("action", "show".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let text = response.text().await.unwrap();
    let no_match = kit.state.service().message("ja", "status-no-match");
    assert!(text.contains(&no_match), "{text}");
    let response = page(vec![
        ("number", number.clone()),
        ("birth_date", BIRTH.into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("千代田区役所 2階 戸籍住民課") && text.contains("id=\"no-appointment\""));
    let slot = kit.first_slot(&number).await;
    let response = page(vec![
        ("number", number.clone()),
        ("birth_date", BIRTH.into()),
        ("action", "book".into()),
        ("starts_at", slot.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&kit.state.service().message("ja", "book-booked")),
        "{text}"
    );
    assert!(text.contains(&format!("data-starts-at=\"{slot}\"")));
    let english = kit
        .client
        .get(format!("{}/pickup/book?lang=en", kit.base))
        .send()
        .await
        .unwrap();
    assert!(english
        .text()
        .await
        .unwrap()
        .contains("Book a time to collect your card"));
}

/// Each delivered message's parts as `content-type|filename|decoded text`.
fn delivered_parts(maildir: &std::path::Path) -> Vec<String> {
    let script = r#"
import email, glob, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], 'new', '*'))):
    m = email.message_from_binary_file(open(f, 'rb'))
    for part in m.walk():
        if part.is_multipart():
            continue
        text = part.get_payload(decode=True).decode('utf-8')
        print(part.get_content_type() + '|' + str(part.get_filename()) + '|' + text + '\x1e')
"#;
    let out = std::process::Command::new(super::python())
        .args(["-c", script])
        .arg(maildir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\u{1e}')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_calendar_file_reaches_the_resident_as_an_attachment() {
    let port = super::free_port();
    let config = maina_server::ServerConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        mail_retry_seconds: 1,
        ..maina_server::ServerConfig::default()
    };
    let smtpd = super::Smtpd::start(port, &[]);
    let kit = Kit::start_with(config).await;
    set_office(&kit, 1).await;
    let number = notice(&kit, 1, Some("hanako@example.jp"), "en").await;
    let slot = kit.first_slot(&number).await;
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/pickup/appointments",
            None,
            Some(json!({"number": number, "birth_date": BIRTH, "starts_at": slot})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while kit.store.pending_mail().await.unwrap() > 0 {
        assert!(std::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let parts = delivered_parts(smtpd.maildir.path());
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(
        parts[0].starts_with("text/plain|None|This is maina"),
        "{}",
        parts[0]
    );
    assert!(parts[0].contains("Chiyoda City Office, 2F, 1-2-1 Kudan-minami, Chiyoda"));
    let ics = parts[1].replace("\r\n ", "");
    assert!(
        ics.starts_with("text/calendar|my-number-card-pickup.ics|BEGIN:VCALENDAR"),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTSTART:{}", utc_stamp(&slot))),
        "{ics}"
    );
    assert!(ics.contains("SUMMARY:Collect your My Number Card"), "{ics}");
}
