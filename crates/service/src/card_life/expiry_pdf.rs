//! The expiry letter (有効期限通知書) as a one-page A4 PDF in the resident's
//! language (REFERENCE section 7: sent two to three months before the end).
//!
//! It says which end is near: the card's (apply for a new card, free, from three
//! months before: online with the renewal form ID and the QR code of the online
//! application page, or at the counter), or only the certificates' (the card stays
//! valid; renew the certificates at the counter, on the same card). The QR code
//! carries the page's address only — identifiers never go into a URL — so the
//! renewal form ID is printed beside it to type. Japanese letters write dates in
//! the era (with the ISO date), as the other letters do.
//!
//! Every word a resident reads comes from the Fluent catalogues (`expiry-letter-*`).

use crate::i18n::{self, Messages};
use crate::pdf::{document, PdfError, Pen};
use crate::pickup::notice_pdf::OfficeInfo;
use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::card::ExpiryEnd;
use maina_core::ApplicationFormId;

/// What one expiry letter says.
#[derive(Debug, Clone)]
pub struct ExpiryLetterDocument {
    /// `ja` or `en` (anything else is English).
    pub language: String,
    pub ends: ExpiryEnd,
    /// The day that ends (the card's or the certificates' last day).
    pub ends_on: NaiveDate,
    /// The card's own last day.
    pub card_expires_on: NaiveDate,
    /// The first day a renewal of the card may be applied for.
    pub renewal_opens_on: NaiveDate,
    pub card_number: Option<String>,
    pub resident_name: String,
    pub resident_address: String,
    pub birth_date: NaiveDate,
    /// Japanese nationals' birth dates are printed in the era in Japanese letters.
    pub japanese_national: bool,
    pub renewal_form_id: ApplicationFormId,
    /// The online application page's address (the QR code carries exactly this).
    pub apply_url: String,
    pub office: OfficeInfo,
    pub issued_on: NaiveDate,
}

const WIDTH: f32 = 595.0; // A4, points
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const TEXT_WIDTH: f32 = WIDTH - 2.0 * MARGIN;

impl ExpiryLetterDocument {
    fn lang(&self) -> &'static str {
        i18n::language(&self.language)
    }

    /// A date as the letter's language writes it.
    pub fn date_text(&self, date: NaiveDate) -> String {
        crate::dates::for_language(date, self.lang())
    }

    fn birth_text(&self) -> String {
        if self.japanese_national {
            self.date_text(self.birth_date)
        } else {
            self.birth_date.format("%Y-%m-%d").to_string()
        }
    }

    fn suffix(&self) -> &'static str {
        match self.ends {
            ExpiryEnd::Card => "card",
            ExpiryEnd::Certificates => "certificates",
        }
    }
}

fn heading(pen: &mut Pen<'_, '_>, y: f32, text: &str) -> f32 {
    pen.text(MARGIN, y, 11.0, &format!("■ {text}"));
    y + 16.0
}

/// Renders one letter in its language.
pub fn render_expiry_letter(
    font: &Font,
    messages: &Messages,
    letter: &ExpiryLetterDocument,
) -> Result<Vec<u8>, PdfError> {
    document(font, &[(WIDTH, HEIGHT)], |_, pen| page(pen, messages, letter))
}

fn page(
    pen: &mut Pen<'_, '_>,
    messages: &Messages,
    letter: &ExpiryLetterDocument,
) -> Result<(), PdfError> {
    let lang = letter.lang();
    let m = |id: &str| messages.message(lang, id);
    let which = letter.suffix();
    let x = MARGIN;
    let mut y = pen.paragraph(x, 64.0, 15.0, TEXT_WIDTH, &m(&format!("expiry-letter-title-{which}")));
    pen.text(
        x,
        y,
        9.0,
        &format!("{}: {}", m("expiry-letter-issued"), letter.date_text(letter.issued_on)),
    );
    y += 8.0;
    pen.rule(x, y, TEXT_WIDTH);
    y += 20.0;
    let mut facts = vec![
        (m("expiry-letter-name"), letter.resident_name.clone()),
        (m("expiry-letter-address"), letter.resident_address.clone()),
        (m("expiry-letter-birth"), letter.birth_text()),
    ];
    if let Some(number) = &letter.card_number {
        facts.push((m("expiry-letter-card-number"), number.clone()));
    }
    for (label, value) in facts {
        pen.text(x, y, 9.0, &label);
        pen.text(x + 130.0, y, 12.0, &value);
        y += 20.0;
    }
    y += 6.0;
    y = heading(pen, y, &m(&format!("expiry-letter-ends-{which}")));
    pen.text(x + 12.0, y + 2.0, 14.0, &letter.date_text(letter.ends_on));
    y += 24.0;
    if letter.ends == ExpiryEnd::Certificates {
        pen.text(
            x + 12.0,
            y,
            9.0,
            &format!(
                "{}: {}",
                m("expiry-letter-card-valid-until"),
                letter.date_text(letter.card_expires_on)
            ),
        );
        y += 16.0;
    }
    y = pen.paragraph(x + 12.0, y, 10.0, TEXT_WIDTH - 12.0, &m(&format!("expiry-letter-what-{which}"))) + 10.0;
    if letter.ends == ExpiryEnd::Card {
        y = heading(pen, y, &m("expiry-letter-window"));
        pen.text(x + 12.0, y + 2.0, 12.0, &letter.date_text(letter.renewal_opens_on));
        y = pen.paragraph(x + 12.0, y + 20.0, 9.0, TEXT_WIDTH - 12.0, &m("expiry-letter-free")) + 10.0;
    }
    y = heading(pen, y, &m("expiry-letter-where"));
    pen.text(x + 12.0, y, 12.0, &letter.office.name);
    y += 16.0;
    pen.text(x + 12.0, y, 10.0, &letter.office.address);
    y += 15.0;
    pen.text(
        x + 12.0,
        y,
        10.0,
        &format!("{}: {}", m("expiry-letter-phone"), letter.office.phone),
    );
    y += 15.0;
    for line in letter.office.opening_hours.lines() {
        pen.text(x + 12.0, y, 10.0, line);
        y += 14.0;
    }
    y = pen.paragraph(x + 12.0, y + 4.0, 9.0, TEXT_WIDTH - 12.0, &m("expiry-letter-bring")) + 12.0;
    // The renewal form ID, with the QR code of the online application page beside
    // it (for the card's end: certificates are renewed at the counter only).
    let qr = 120.0;
    y = heading(pen, y, &m("expiry-letter-form"));
    let top = y;
    pen.text(x + 12.0, y + 4.0, 14.0, &letter.renewal_form_id.as_digits());
    y += 24.0;
    if letter.ends == ExpiryEnd::Card {
        let text_width = TEXT_WIDTH - qr - 12.0;
        y = pen.paragraph(x + 12.0, y, 9.0, text_width, &m("expiry-letter-online")) + 4.0;
        pen.paragraph(x + 12.0, y, 9.0, text_width, &letter.apply_url);
        pen.qr(WIDTH - MARGIN - qr, top - 16.0, qr, &letter.apply_url)?;
    } else {
        pen.paragraph(x + 12.0, y, 9.0, TEXT_WIDTH - 12.0, &m("expiry-letter-form-counter"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::pdf::testing::{read, run};
    use crate::pdf::{load_font, DEFAULT_FONT};

    fn letter(language: &str, ends: ExpiryEnd) -> ExpiryLetterDocument {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        ExpiryLetterDocument {
            language: language.into(),
            ends,
            ends_on: day(2027, 2, 26),
            card_expires_on: if ends == ExpiryEnd::Card { day(2027, 2, 26) } else { day(2032, 2, 26) },
            renewal_opens_on: day(2026, 11, 26),
            card_number: Some("0000000017".into()),
            resident_name: "山田 花子".into(),
            resident_address: "東京都千代田区千代田1-1".into(),
            birth_date: day(1990, 4, 1),
            japanese_national: true,
            renewal_form_id: ApplicationFormId::new("131016".parse().unwrap(), 1_234_567_890_123_456)
                .unwrap(),
            apply_url: "https://maina.example.jp/apply".into(),
            office: OfficeInfo {
                name: "千代田区役所 区民課".into(),
                address: "東京都千代田区九段南1-2-1".into(),
                phone: "03-3264-2111".into(),
                opening_hours: "月〜金 8:30–17:00".into(),
            },
            issued_on: day(2026, 11, 30),
        }
    }

    #[test]
    fn the_letter_names_the_end_in_both_languages_and_its_qr_code_is_the_application_page() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let messages = Messages::load();
        for (language, expected) in [
            ("ja", ["有効期限通知書", "令和9年2月26日", "平成2年4月1日", "無料"]),
            ("en", ["expiry", "2027-02-26", "1990-04-01", "free"]),
        ] {
            let letter = letter(language, ExpiryEnd::Card);
            let pdf = render_expiry_letter(&font, &messages, &letter).unwrap();
            let (text, decoded) = read(&pdf, 1, 150);
            let form = letter.renewal_form_id.as_digits();
            for expected in expected.iter().chain(&[
                form.as_str(),
                "2026-11-26",
                "千代田区役所 区民課",
                "https://maina.example.jp/apply",
            ]) {
                assert!(text.contains(expected), "{language}: {expected} missing from:\n{text}");
            }
            assert!(!text.contains("expiry-letter-"), "{text}");
            assert_eq!(decoded, "https://maina.example.jp/apply");
        }
    }

    #[test]
    fn a_certificates_letter_sends_the_resident_to_the_counter() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let messages = Messages::load();
        for (language, expected) in [("ja", "窓口"), ("en", "counter")] {
            let letter = letter(language, ExpiryEnd::Certificates);
            let pdf = render_expiry_letter(&font, &messages, &letter).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("letter.pdf");
            std::fs::write(&path, &pdf).unwrap();
            let file = path.to_str().unwrap();
            let text = run("pdftotext", &["-layout", file, "-"]);
            assert!(text.contains(expected), "{language}: {text}");
            assert!(text.contains("2032-02-26"), "{language}: the card's own end: {text}");
            assert!(text.contains(&letter.renewal_form_id.as_digits()), "{text}");
            assert!(!text.contains("expiry-letter-"), "{text}");
        }
    }
}
