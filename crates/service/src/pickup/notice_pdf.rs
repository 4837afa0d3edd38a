//! The issue notice (個人番号カード交付・電子証明書発行通知書兼照会書) as a two-page
//! A4 PDF in the resident's language, and the same facts as an e-mail (REFERENCE
//! sections 4 and 7).
//!
//! Front: the title (saying so when it is a reminder), the notice number, the
//! resident's name, address and birth date, where to collect the card (office,
//! address, phone, opening hours), by when, what to bring, how to book, and a QR code
//! of the booking page. The QR code carries the page's address only: identifiers
//! never go into a URL, so the notice number is printed beside it for the resident
//! to type. Back: the reply to the inquiry (the resident's signature), the proxy
//! form with the listed reasons as check boxes, and the four PIN boxes under a
//! "seal here" note, for a proxy pickup.
//!
//! Every word a resident reads comes from the Fluent catalogues (`pickup-notice-*`,
//! `pickup-mail-*`), in English or Japanese.

use crate::i18n::{self, Messages};
use crate::pdf::{document, PdfError, Pen};
use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::IssueNoticeNumber;

/// The office that hands the card over, as the notice prints it.
#[derive(Debug, Clone)]
pub struct OfficeInfo {
    pub name: String,
    pub address: String,
    pub phone: String,
    /// Already formatted, one line per `\n` (e.g. "Mon–Fri 8:30–17:15").
    pub opening_hours: String,
}

/// What one issue notice says.
#[derive(Debug, Clone)]
pub struct IssueNoticeDocument {
    /// `ja` or `en` (anything else is English).
    pub language: String,
    pub notice_number: IssueNoticeNumber,
    pub resident_name: String,
    pub resident_address: String,
    pub birth_date: NaiveDate,
    /// Japanese nationals' birth dates are printed in the era in Japanese notices.
    pub japanese_national: bool,
    pub office: OfficeInfo,
    /// The last day to collect the card.
    pub deadline: NaiveDate,
    /// The booking page's address (the QR code carries exactly this).
    pub booking_url: String,
    pub issued_on: NaiveDate,
    /// A reminder notice says so in its title.
    pub reminder: bool,
}

const WIDTH: f32 = 595.0; // A4, points
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const TEXT_WIDTH: f32 = WIDTH - 2.0 * MARGIN;

/// The reasons a proxy may collect the card (REFERENCE section 7), as message ids.
const PROXY_REASONS: [&str; 7] = [
    "pickup-notice-reason-age",
    "pickup-notice-reason-child",
    "pickup-notice-reason-hospital",
    "pickup-notice-reason-disability",
    "pickup-notice-reason-care",
    "pickup-notice-reason-pregnancy",
    "pickup-notice-reason-abroad",
];

/// The four PINs: message id and the number of boxes.
const PIN_BOXES: [(&str, usize); 4] = [
    ("pickup-notice-pin-sign", 16),
    ("pickup-notice-pin-auth", 4),
    ("pickup-notice-pin-residence", 4),
    ("pickup-notice-pin-support", 4),
];

impl IssueNoticeDocument {
    fn lang(&self) -> &'static str {
        i18n::language(&self.language)
    }

    /// The deadline as the notice's language writes dates (the era with the ISO
    /// date in Japanese, ISO in English).
    pub fn deadline_text(&self) -> String {
        crate::dates::for_language(self.deadline, self.lang())
    }

    fn birth_text(&self) -> String {
        if self.japanese_national {
            crate::dates::for_language(self.birth_date, self.lang())
        } else {
            self.birth_date.format("%Y-%m-%d").to_string()
        }
    }

    fn title(&self, messages: &Messages) -> String {
        let title = messages.message(self.lang(), "pickup-notice-title");
        if self.reminder {
            let reminder = messages.message(self.lang(), "pickup-notice-reminder");
            match self.lang() {
                "ja" => format!("【{reminder}】{title}"),
                _ => format!("{reminder}: {title}"),
            }
        } else {
            title
        }
    }

    /// The facts of the front as (label, value) lines, shared by the PDF and the
    /// e-mail.
    fn facts(&self, m: &dyn Fn(&str) -> String) -> Vec<(String, String)> {
        vec![
            (m("pickup-notice-number"), self.notice_number.to_string()),
            (m("pickup-notice-name"), self.resident_name.clone()),
            (m("pickup-notice-address"), self.resident_address.clone()),
            (m("pickup-notice-birth"), self.birth_text()),
        ]
    }

    fn bring(&self, m: &dyn Fn(&str) -> String) -> Vec<String> {
        [
            "pickup-notice-bring-notice",
            "pickup-notice-bring-id",
            "pickup-notice-bring-notification",
            "pickup-notice-bring-juki",
            "pickup-notice-bring-representative",
        ]
        .into_iter()
        .map(m)
        .collect()
    }
}

/// Renders one notice (front and back) in its language.
pub fn render_issue_notice(
    font: &Font,
    messages: &Messages,
    notice: &IssueNoticeDocument,
) -> Result<Vec<u8>, PdfError> {
    document(
        font,
        &[(WIDTH, HEIGHT), (WIDTH, HEIGHT)],
        |page, pen| match page {
            0 => front(pen, messages, notice),
            _ => {
                back(pen, messages, notice);
                Ok(())
            }
        },
    )
}

fn heading(pen: &mut Pen<'_, '_>, y: f32, text: &str) -> f32 {
    pen.text(MARGIN, y, 11.0, &format!("■ {text}"));
    y + 16.0
}

fn front(
    pen: &mut Pen<'_, '_>,
    messages: &Messages,
    notice: &IssueNoticeDocument,
) -> Result<(), PdfError> {
    let lang = notice.lang();
    let m = |id: &str| messages.message(lang, id);
    let x = MARGIN;
    let mut y = pen.paragraph(x, 64.0, 15.0, TEXT_WIDTH, &notice.title(messages));
    pen.text(
        x,
        y,
        9.0,
        &format!(
            "{}: {}",
            m("pickup-notice-issued"),
            crate::dates::for_language(notice.issued_on, lang)
        ),
    );
    y += 8.0;
    pen.rule(x, y, TEXT_WIDTH);
    y += 20.0;
    for (label, value) in notice.facts(&m) {
        pen.text(x, y, 9.0, &label);
        pen.text(x + 120.0, y, 12.0, &value);
        y += 20.0;
    }
    y = pen.paragraph(x, y + 4.0, 10.0, TEXT_WIDTH, &m("pickup-notice-intro")) + 8.0;
    y = heading(pen, y, &m("pickup-notice-where"));
    pen.text(x + 12.0, y, 13.0, &notice.office.name);
    y += 17.0;
    pen.text(x + 12.0, y, 10.0, &notice.office.address);
    y += 15.0;
    pen.text(
        x + 12.0,
        y,
        10.0,
        &format!("{}: {}", m("pickup-notice-phone"), notice.office.phone),
    );
    y += 15.0;
    pen.text(x + 12.0, y, 10.0, &m("pickup-notice-hours"));
    for line in notice.office.opening_hours.lines() {
        pen.text(x + 120.0, y, 10.0, line);
        y += 14.0;
    }
    y += 8.0;
    y = heading(pen, y, &m("pickup-notice-deadline"));
    pen.text(x + 12.0, y + 2.0, 14.0, &notice.deadline_text());
    y = pen.paragraph(
        x + 12.0,
        y + 20.0,
        9.0,
        TEXT_WIDTH - 12.0,
        &m("pickup-notice-deadline-note"),
    ) + 6.0;
    y = heading(pen, y, &m("pickup-notice-bring"));
    for item in notice.bring(&m) {
        pen.text(x + 12.0, y, 9.0, "・");
        y = pen.paragraph(x + 24.0, y, 9.0, TEXT_WIDTH - 24.0, &item) + 2.0;
    }
    y += 6.0;
    // How to book, the QR code of the booking page beside it.
    let qr = 120.0;
    y = heading(pen, y, &m("pickup-notice-book"));
    let text_width = TEXT_WIDTH - qr - 12.0;
    let top = y;
    y = pen.paragraph(x + 12.0, y, 9.0, text_width, &m("pickup-notice-book-how")) + 4.0;
    pen.text(x + 12.0, y, 9.0, &m("pickup-notice-booking-page"));
    y = pen.paragraph(x + 12.0, y + 13.0, 9.0, text_width, &notice.booking_url);
    pen.text(x + 12.0, y + 2.0, 9.0, &m("pickup-notice-number"));
    pen.text(x + 12.0, y + 18.0, 13.0, &notice.notice_number.to_string());
    pen.qr(WIDTH - MARGIN - qr, top - 16.0, qr, &notice.booking_url)
}

fn back(pen: &mut Pen<'_, '_>, messages: &Messages, notice: &IssueNoticeDocument) {
    let lang = notice.lang();
    let m = |id: &str| messages.message(lang, id);
    let x = MARGIN;
    pen.text(x, 56.0, 13.0, &m("pickup-notice-back"));
    pen.text(
        WIDTH - MARGIN - 150.0,
        56.0,
        9.0,
        &format!("{} {}", m("pickup-notice-number"), notice.notice_number),
    );
    pen.rule(x, 64.0, TEXT_WIDTH);
    // The reply to the inquiry.
    let mut y = heading(pen, 86.0, &m("pickup-notice-reply"));
    y = pen.paragraph(
        x + 12.0,
        y,
        9.0,
        TEXT_WIDTH - 12.0,
        &m("pickup-notice-reply-text"),
    ) + 14.0;
    line_field(pen, x + 12.0, y, 300.0, &m("pickup-notice-signature"));
    line_field(pen, x + 330.0, y, 160.0, &m("pickup-notice-date"));
    // The proxy form.
    y += 34.0;
    y = heading(pen, y, &m("pickup-notice-proxy"));
    y = pen.paragraph(
        x + 12.0,
        y,
        9.0,
        TEXT_WIDTH - 12.0,
        &m("pickup-notice-proxy-text"),
    ) + 14.0;
    line_field(pen, x + 12.0, y, 300.0, &m("pickup-notice-proxy-name"));
    y += 30.0;
    line_field(
        pen,
        x + 12.0,
        y,
        TEXT_WIDTH - 12.0,
        &m("pickup-notice-proxy-address"),
    );
    y += 38.0;
    pen.text(x + 12.0, y, 9.0, &m("pickup-notice-proxy-reason"));
    y += 14.0;
    for (i, reason) in PROXY_REASONS.iter().enumerate() {
        let column = (i % 2) as f32 * 240.0;
        let row = (i / 2) as f32 * 17.0;
        pen.frame(x + 12.0 + column, y + row - 8.0, 9.0, 9.0, 0.7);
        pen.text(x + 26.0 + column, y + row, 9.0, &m(reason));
    }
    y += 4.0 * 17.0;
    y = pen.paragraph(
        x + 12.0,
        y,
        8.0,
        TEXT_WIDTH - 12.0,
        &m("pickup-notice-proxy-note"),
    );
    line_field(
        pen,
        x + 12.0,
        y + 22.0,
        300.0,
        &m("pickup-notice-signature"),
    );
    // The PIN boxes, under a cover seal.
    y += 52.0;
    y = heading(pen, y, &m("pickup-notice-pins"));
    let top = y - 6.0;
    y = pen.paragraph(
        x + 18.0,
        y + 8.0,
        9.0,
        TEXT_WIDTH - 24.0,
        &m("pickup-notice-pins-seal"),
    ) + 4.0;
    for (id, boxes) in PIN_BOXES {
        pen.text(x + 18.0, y, 9.0, &m(id));
        y += 6.0;
        for b in 0..boxes {
            pen.frame(x + 18.0 + b as f32 * 18.0, y, 16.0, 20.0, 0.7);
        }
        y += 36.0;
    }
    // The seal's outline, around the boxes.
    pen.frame(x + 6.0, top, TEXT_WIDTH - 6.0, y - top - 6.0, 1.2);
}

/// A label above a line to write on.
fn line_field(pen: &mut Pen<'_, '_>, x: f32, y: f32, width: f32, label: &str) {
    pen.text(x, y, 8.0, label);
    pen.rule(x, y + 18.0, width);
}

/// The notice as an e-mail for a resident who gave an address: subject and plain
/// text body, in the notice's language, with the same facts as the printed front.
pub fn issue_notice_email(messages: &Messages, notice: &IssueNoticeDocument) -> (String, String) {
    let lang = notice.lang();
    let m = |id: &str| messages.message(lang, id);
    let subject = if notice.reminder {
        m("pickup-mail-subject-reminder")
    } else {
        m("pickup-mail-subject")
    };
    let mut body = format!(
        "{}\n\n{}\n\n",
        notice.title(messages),
        m("pickup-notice-intro")
    );
    for (label, value) in notice.facts(&m) {
        body.push_str(&format!("{label}: {value}\n"));
    }
    let office = &notice.office;
    body.push_str(&format!(
        "\n■ {}\n{}\n{}\n{}: {}\n{}:\n",
        m("pickup-notice-where"),
        office.name,
        office.address,
        m("pickup-notice-phone"),
        office.phone,
        m("pickup-notice-hours"),
    ));
    for line in office.opening_hours.lines() {
        body.push_str(&format!("  {line}\n"));
    }
    body.push_str(&format!(
        "\n■ {}\n{}\n{}\n\n■ {}\n",
        m("pickup-notice-deadline"),
        notice.deadline_text(),
        m("pickup-notice-deadline-note"),
        m("pickup-notice-bring"),
    ));
    for item in notice.bring(&m) {
        body.push_str(&format!("・{item}\n"));
    }
    body.push_str(&format!(
        "\n■ {}\n{}\n{}: {}\n{}: {}\n\n{}\n",
        m("pickup-notice-book"),
        m("pickup-notice-book-how"),
        m("pickup-notice-booking-page"),
        notice.booking_url,
        m("pickup-notice-number"),
        notice.notice_number,
        m("pickup-mail-footer"),
    ));
    (subject, body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::pdf::testing::read;
    use crate::pdf::{load_font, DEFAULT_FONT};

    fn notice(language: &str) -> IssueNoticeDocument {
        IssueNoticeDocument {
            language: language.into(),
            notice_number: IssueNoticeNumber::new("131016".parse().unwrap(), 123_456_789).unwrap(),
            resident_name: "山田 花子".into(),
            resident_address: "東京都千代田区千代田1-1".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
            japanese_national: true,
            office: OfficeInfo {
                name: "千代田区役所 区民課".into(),
                address: "東京都千代田区九段南1-2-1".into(),
                phone: "03-3264-2111".into(),
                opening_hours: "月〜金 8:30–17:00\n第2・第4土曜 9:00–12:00".into(),
            },
            deadline: NaiveDate::from_ymd_opt(2027, 2, 26).unwrap(),
            booking_url: "https://maina.example.jp/pickup/book".into(),
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            reminder: false,
        }
    }

    #[test]
    fn the_notice_reads_in_both_languages_and_its_qr_code_is_the_booking_page() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let messages = Messages::load();
        for (language, expected) in [
            (
                "ja",
                [
                    "個人番号カード交付・電子証明書発行通知書兼照会書",
                    "交付期限",
                    "令和9年2月26日",
                    "平成2年4月1日",
                    "委任状",
                    "75歳以上",
                    "暗証番号",
                ],
            ),
            (
                "en",
                [
                    "My Number Card issue",
                    "Collect by",
                    "2027-02-26",
                    "1990-04-01",
                    "Proxy form",
                    "Aged 75 or over",
                    "Signature certificate password",
                ],
            ),
        ] {
            let notice = notice(language);
            let pdf = render_issue_notice(&font, &messages, &notice).unwrap();
            if let Ok(dir) = std::env::var("MAINA_KEEP_NOTICE_DIR") {
                std::fs::write(format!("{dir}/issue-notice-{language}.pdf"), &pdf).unwrap();
            }
            let (text, decoded) = read(&pdf, 1, 150);
            let number = notice.notice_number.to_string();
            for expected in expected.iter().chain(&[
                "千代田区役所 区民課",
                "東京都千代田区九段南1-2-1",
                "03-3264-2111",
                "第2・第4土曜 9:00–12:00",
                "山田 花子",
                number.as_str(),
                "https://maina.example.jp/pickup/book",
            ]) {
                assert!(
                    text.contains(expected),
                    "{language}: {expected} missing from:\n{text}"
                );
            }
            // The QR code carries the booking page only: no identifier in a URL.
            assert_eq!(decoded, "https://maina.example.jp/pickup/book");
            assert!(pdf.len() < 300_000, "{} bytes", pdf.len());
        }
    }

    #[test]
    fn a_reminder_says_so_and_the_email_has_the_same_facts() {
        let messages = Messages::load();
        for language in ["ja", "en"] {
            let reminder = IssueNoticeDocument {
                reminder: true,
                ..notice(language)
            };
            let (subject, body) = issue_notice_email(&messages, &reminder);
            let (first, _) = issue_notice_email(&messages, &notice(language));
            assert_ne!(subject, first);
            let marker = messages.message(language, "pickup-notice-reminder");
            assert!(
                body.starts_with(&format!("【{marker}】"))
                    || body.starts_with(&format!("{marker}: ")),
                "{body}"
            );
            for expected in [
                "千代田区役所 区民課",
                "03-3264-2111",
                "https://maina.example.jp/pickup/book",
                &reminder.notice_number.to_string(),
                &reminder.deadline_text(),
            ] {
                assert!(
                    body.contains(expected),
                    "{language}: {expected} missing from:\n{body}"
                );
            }
            // Every message was found (a missing one would show its id).
            assert!(!body.contains("pickup-"), "{body}");
            assert!(!subject.contains("pickup-"), "{subject}");
        }
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let pdf = render_issue_notice(
            &font,
            &messages,
            &IssueNoticeDocument {
                reminder: true,
                ..notice("ja")
            },
        )
        .unwrap();
        assert!(read(&pdf, 1, 150).0.contains("【再通知】"));
    }
}
