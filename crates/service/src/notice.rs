//! The Individual Number Notice (個人番号通知書) as a PDF: the resident's name,
//! address, birth date and My Number, and below it the application form for the card
//! with its 23-digit form ID and a QR code carrying the online application address
//! with the form ID. English beside Japanese; the Japanese font is embedded (as a
//! subset of the glyphs used), so the letter renders on a machine with no fonts.

use crate::pdf::{document, Pen};
use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::{ApplicationFormId, MyNumber};

pub use crate::pdf::{load_font, PdfError as NoticeError, DEFAULT_FONT};

/// What a notice says.
#[derive(Debug, Clone)]
pub struct NoticeLetter {
    pub municipality_ja: String,
    pub municipality_en: String,
    pub name: String,
    pub address: String,
    pub birth_date: NaiveDate,
    pub my_number: MyNumber,
    pub form_id: ApplicationFormId,
    pub issued: NaiveDate,
    /// The online application address (the QR code carries it with the form ID).
    pub apply_base_url: String,
}

impl NoticeLetter {
    /// What the QR code carries: the application address with the form ID.
    pub fn apply_url(&self) -> String {
        format!(
            "{}/apply?form={}",
            self.apply_base_url.trim_end_matches('/'),
            self.form_id.as_digits()
        )
    }
}

const WIDTH: f32 = 595.0; // A4, points
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;

/// Renders one notice.
pub fn render(font: &Font, letter: &NoticeLetter) -> Result<Vec<u8>, NoticeError> {
    document(font, &[(WIDTH, HEIGHT)], |_, pen| draw(pen, letter))
}

fn draw(w: &mut Pen<'_, '_>, letter: &NoticeLetter) -> Result<(), NoticeError> {
    {
        let x = MARGIN;
        // Japanese letters date in the era calendar; the ISO date beside it serves
        // readers of the English text.
        let birth = crate::dates::japanese_era_and_iso(letter.birth_date);
        let number = letter.my_number.to_string();
        w.text(x, 70.0, 20.0, "個人番号通知書");
        w.text(x, 92.0, 12.0, "Individual Number Notice");
        w.text(
            x,
            116.0,
            10.0,
            &format!(
                "{}（{}）　{}",
                letter.municipality_ja,
                letter.municipality_en,
                crate::dates::japanese_era_and_iso(letter.issued)
            ),
        );
        w.rule(MARGIN, 128.0, WIDTH - 2.0 * MARGIN);
        let rows = [
            ("氏名 / Name", letter.name.clone()),
            ("住所 / Address", letter.address.clone()),
            ("生年月日 / Date of birth", birth.clone()),
            ("個人番号 / My Number", number),
        ];
        let mut y = 160.0;
        for (label, value) in rows {
            w.text(x, y, 9.0, label);
            w.text(x + 150.0, y, 13.0, &value);
            y += 28.0;
        }
        w.text(
            x,
            y + 6.0,
            9.0,
            "この通知書は身分証明書として使えません。個人番号は大切に保管してください。",
        );
        w.text(
            x,
            y + 20.0,
            9.0,
            "This notice is not proof of identity. Keep your My Number safe.",
        );
        // The detachable application form.
        let form_top = 420.0;
        w.rule(MARGIN, form_top, WIDTH - 2.0 * MARGIN);
        w.text(x, form_top + 30.0, 16.0, "個人番号カード交付申請書");
        w.text(
            x,
            form_top + 50.0,
            11.0,
            "Application for the My Number Card",
        );
        w.text(x, form_top + 80.0, 9.0, "申請書ID / Application form ID");
        w.text(x, form_top + 98.0, 14.0, &letter.form_id.to_string());
        w.text(x, form_top + 126.0, 9.0, "氏名 / Name");
        w.text(x + 150.0, form_top + 126.0, 12.0, &letter.name);
        w.text(x, form_top + 148.0, 9.0, "住所 / Address");
        w.text(x + 150.0, form_top + 148.0, 11.0, &letter.address);
        w.text(x, form_top + 170.0, 9.0, "生年月日 / Date of birth");
        w.text(x + 150.0, form_top + 170.0, 12.0, &birth);
        w.text(
            x,
            form_top + 200.0,
            9.0,
            "スマートフォンでQRコードを読み取るか、次のアドレスから申請できます。",
        );
        w.text(
            x,
            form_top + 214.0,
            9.0,
            "Scan the QR code with a smartphone, or apply online at:",
        );
        w.text(x, form_top + 230.0, 9.0, &letter.apply_url());
        w.text(
            x,
            form_top + 252.0,
            9.0,
            "郵送の場合は写真（縦4.5cm×横3.5cm）を貼り、同封の封筒でお送りください。",
        );
        w.text(
            x,
            form_top + 266.0,
            9.0,
            "By post: attach a photo (4.5 cm high, 3.5 cm wide) and use the enclosed envelope.",
        );
        w.qr(
            WIDTH - MARGIN - 150.0,
            form_top + 60.0,
            150.0,
            &letter.apply_url(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::pdf::testing::read;

    fn letter() -> NoticeLetter {
        NoticeLetter {
            municipality_ja: "千代田区".into(),
            municipality_en: "Chiyoda City".into(),
            name: "山田 花子".into(),
            address: "東京都千代田区千代田1-1".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
            my_number: "621498320257".parse().unwrap(),
            form_id: ApplicationFormId::new("131016".parse().unwrap(), 1234_5678_9012_3456)
                .unwrap(),
            issued: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            apply_base_url: "https://maina.example.jp".into(),
        }
    }

    #[test]
    fn the_notice_reads_renders_and_its_qr_code_decodes() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let pdf = render(&font, &letter()).unwrap();
        assert!(
            pdf.len() < 200_000,
            "a subset font keeps the letter small: {} bytes",
            pdf.len()
        );
        if let Ok(keep) = std::env::var("MAINA_KEEP_NOTICE") {
            std::fs::write(keep, &pdf).unwrap();
        }
        // Rendered to pixels, the QR code decodes with an ordinary reader.
        let (text, decoded) = read(&pdf, 1, 150);
        for expected in [
            "個人番号通知書",
            "Individual Number Notice",
            "山田 花子",
            "東京都千代田区千代田1-1",
            "6214 9832 0257",
            "131016 1234 5678 9012 3456",
            "個人番号カード交付申請書",
            // Dates in the Japanese era calendar, the ISO date beside them.
            "平成2年4月1日 (1990-04-01)",
            "令和8年11月26日 (2026-11-26)",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert_eq!(
            decoded,
            "https://maina.example.jp/apply?form=1310161234567890123456"
                .replace("1310161234567890123456", &letter().form_id.as_digits())
        );
    }
}
