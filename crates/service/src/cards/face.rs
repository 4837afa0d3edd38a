//! The card's face as the card bureau prints it (REFERENCE section 2), as a
//! two-page PDF the size of the card (ID-1, 85.6 × 54 mm) and a raster preview of
//! the front.
//!
//! Front: name (and the alias, 通称, where the resident asked), address, birth date
//! (the Japanese era for Japanese nationals, the Western calendar for others), sex,
//! the photo, the expiry (always Western), the notes panel (追記欄), 「個人番号カード」
//! and the card number. Back: the My Number in 4-4-4 groups and a QR code of its
//! 12 digits, and, where asked, the name in raised Braille dots (drawn as the
//! embossing die would press them; no font is needed for them).
//!
//! The card's printed labels are fixed, the same for every holder (Japanese with
//! English beside), so they are constants here rather than catalogue messages.

use crate::pdf::{document, wrap, PdfError, Pen};
use chrono::{Datelike, NaiveDate};
use image::{ImageEncoder, Rgb, RgbImage};
use krilla::text::Font;
use maina_core::card::braille;
use maina_core::person::Sex;
use maina_core::{CardNumber, MyNumber};

/// What a card's face shows.
#[derive(Debug, Clone)]
pub struct CardFace {
    /// The registered name as printed (kanji, or the alphabet name).
    pub name: String,
    /// The alias (通称), printed beside the name when the resident asked.
    pub alias: Option<String>,
    pub address: String,
    pub birth_date: NaiveDate,
    /// Japanese nationals' birth dates are printed in the Japanese era.
    pub japanese_national: bool,
    pub sex: Sex,
    /// The application's photo (JPEG). A large one is scaled down by [`card_photo`]
    /// on each render: [`render_face`] scales it once for both renderings.
    pub photo_jpeg: Option<Vec<u8>>,
    /// The card's last valid day.
    pub expires: NaiveDate,
    /// The notes panel's entries (追記欄), oldest first.
    pub notes: Vec<String>,
    pub my_number: MyNumber,
    pub card_number: CardNumber,
    /// The name to emboss in Braille where the resident asked: its reading in kana
    /// or the Latin alphabet (or Unicode Braille patterns, used as they are).
    pub braille: Option<String>,
    /// The issuing municipality (printed under the photo).
    pub municipality_name: String,
}

/// ID-1 card, in points.
pub const CARD_WIDTH: f32 = 242.65;
pub const CARD_HEIGHT: f32 = 153.07;

/// The photo's box on the front (3.5 : 4.5, as the photo rules ask).
const PHOTO: (f32, f32, f32, f32) = (170.0, 12.0, 62.0, 79.7);

/// The largest photo embedded as it is (pixels); larger ones are scaled to it.
const PHOTO_PIXELS: (u32, u32) = (280, 360);

/// The birth date as printed: the era for Japanese nationals, Western otherwise.
pub fn printed_birth_date(birth: NaiveDate, japanese_national: bool) -> String {
    if japanese_national {
        crate::dates::japanese_era(birth)
    } else {
        western(birth)
    }
}

fn western(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn sex_label(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "男",
        Sex::Female => "女",
        Sex::NotApplicable => "",
    }
}

/// The photo as the card prints it: a JPEG of at most 280 × 360 pixels. A photo
/// that already fits passes through untouched (its header is read, nothing is
/// decoded); a larger one is decoded once, scaled and re-encoded.
pub fn card_photo(jpeg: &[u8]) -> Result<Vec<u8>, PdfError> {
    let bad = |e: image::ImageError| PdfError::Image(e.to_string());
    let mut reader = image::ImageReader::new(std::io::Cursor::new(jpeg));
    reader.set_format(image::ImageFormat::Jpeg);
    let (width, height) = reader.into_dimensions().map_err(bad)?;
    if width <= PHOTO_PIXELS.0 && height <= PHOTO_PIXELS.1 {
        return Ok(jpeg.to_vec());
    }
    let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .map_err(bad)?
        .thumbnail(PHOTO_PIXELS.0, PHOTO_PIXELS.1)
        .to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(bad)?;
    Ok(out)
}

/// Centres of the raised dots for `cells` from (x, y), cell after cell, wrapping
/// within the card: dots 2.5 mm apart in a cell (about 7 pt), cells 5.5 mm.
pub fn braille_dots(cells: &str, x: f32, y: f32, right: f32) -> Vec<(f32, f32)> {
    const DOT: f32 = 6.5;
    const CELL: f32 = 15.5;
    const LINE: f32 = 24.0;
    let mut centres = vec![];
    let (mut cx, mut cy) = (x, y);
    for cell in cells.chars() {
        if cx + DOT > right {
            cx = x;
            cy += LINE;
        }
        for dot in braille::dots(cell) {
            let (column, row): (u8, u8) = if dot <= 3 { (0, dot - 1) } else { (1, dot - 4) };
            centres.push((cx + f32::from(column) * DOT, cy + f32::from(row) * DOT));
        }
        cx += CELL;
    }
    centres
}

/// The face as a two-page PDF (front, back) the size of the card.
pub fn render_face_pdf(font: &Font, face: &CardFace) -> Result<Vec<u8>, PdfError> {
    let photo = face.photo_jpeg.as_deref().map(card_photo).transpose()?;
    let cells = face
        .braille
        .as_deref()
        .map(braille::to_braille)
        .transpose()
        .map_err(|e| PdfError::Field {
            field: "braille",
            message: e.to_string(),
        })?;
    document(
        font,
        &[(CARD_WIDTH, CARD_HEIGHT), (CARD_WIDTH, CARD_HEIGHT)],
        |page, pen| match page {
            0 => front(pen, face, photo.as_deref()),
            _ => back(pen, face, cells.as_deref()),
        },
    )
}

fn front(pen: &mut Pen<'_, '_>, face: &CardFace, photo: Option<&[u8]>) -> Result<(), PdfError> {
    pen.frame(2.0, 2.0, CARD_WIDTH - 4.0, CARD_HEIGHT - 4.0, 0.6);
    let (label, x) = (4.5, 30.0);
    pen.text(8.0, 18.0, label, "氏名");
    pen.text(8.0, 23.0, 3.5, "Name");
    pen.text(x, 20.0, 10.0, &face.name);
    let mut y = 31.0;
    if let Some(alias) = &face.alias {
        pen.text(x, y, 7.0, &format!("通称 {alias}"));
        y += 8.0;
    }
    pen.text(8.0, y + 5.0, label, "住所");
    pen.text(8.0, y + 10.0, 3.5, "Address");
    for line in wrap(&face.address, 7.0, 134.0).iter().take(3) {
        pen.text(x, y + 6.0, 7.0, line);
        y += 9.0;
    }
    let y = y.max(58.0) + 8.0;
    pen.text(8.0, y, label, "生年月日");
    pen.text(
        x,
        y,
        7.0,
        &format!(
            "{}生",
            printed_birth_date(face.birth_date, face.japanese_national)
        ),
    );
    pen.text(122.0, y, label, "性別");
    pen.text(136.0, y, 7.0, sex_label(face.sex));
    // The expiry, always in the Western calendar.
    let expiry = face.expires;
    pen.frame(8.0, y + 5.0, 150.0, 14.0, 0.5);
    pen.text(12.0, y + 14.5, 7.0, &format!("{}まで有効", western(expiry)));
    pen.text(
        92.0,
        y + 14.5,
        4.5,
        &format!("valid until {}", expiry.format("%Y-%m-%d")),
    );
    // The notes panel (追記欄): as many entries as it holds.
    let panel = y + 23.0;
    let height = CARD_HEIGHT - 8.0 - panel;
    pen.frame(8.0, panel, 150.0, height, 0.5);
    pen.text(10.0, panel + 5.5, 3.8, "追記欄 Notes");
    let lines = ((height - 7.0) / 6.0).max(0.0) as usize;
    for (i, note) in face.notes.iter().take(lines).enumerate() {
        pen.text(10.0, panel + 11.5 + 6.0 * i as f32, 4.8, note);
    }
    // The photo, the card's name, the municipality and the card number.
    let (px, py, pw, ph) = PHOTO;
    match photo {
        Some(jpeg) => pen.jpeg(px, py, pw, ph, jpeg)?,
        None => pen.frame(px, py, pw, ph, 0.4),
    }
    pen.text(px - 1.0, py + ph + 12.0, 8.2, "個人番号カード");
    pen.text(px, py + ph + 18.0, 3.8, "Individual Number Card");
    pen.text(px, py + ph + 27.0, 4.5, &face.municipality_name);
    pen.text(
        px,
        CARD_HEIGHT - 10.0,
        5.0,
        &format!("No. {}", face.card_number),
    );
    Ok(())
}

fn back(pen: &mut Pen<'_, '_>, face: &CardFace, cells: Option<&str>) -> Result<(), PdfError> {
    pen.frame(2.0, 2.0, CARD_WIDTH - 4.0, CARD_HEIGHT - 4.0, 0.6);
    pen.text(12.0, 20.0, 5.0, "個人番号 Individual Number");
    pen.text(12.0, 40.0, 15.0, &face.my_number.to_string());
    pen.text(12.0, 56.0, 4.5, "氏名");
    pen.text(28.0, 56.0, 7.0, &face.name);
    pen.text(12.0, 66.0, 4.5, "生年月日");
    pen.text(
        36.0,
        66.0,
        6.0,
        &format!(
            "{}生",
            printed_birth_date(face.birth_date, face.japanese_national)
        ),
    );
    // The QR code carries the 12 digits only.
    pen.qr(CARD_WIDTH - 84.0, 6.0, 78.0, &face.my_number.as_digits())?;
    if let Some(cells) = cells {
        pen.text(12.0, 92.0, 3.8, "点字 Braille");
        pen.dots(&braille_dots(cells, 14.0, 102.0, CARD_WIDTH - 12.0), 1.3);
    }
    Ok(())
}

/// Both renderings of a face.
#[derive(Debug, Clone)]
pub struct RenderedFace {
    pub pdf: Vec<u8>,
    pub png: Vec<u8>,
}

/// The PDF and the PNG preview, the photo scaled once for both.
pub fn render_face(font: &Font, face: &CardFace) -> Result<RenderedFace, PdfError> {
    let scaled;
    let face = match face.photo_jpeg.as_deref() {
        Some(jpeg) => {
            scaled = CardFace {
                photo_jpeg: Some(card_photo(jpeg)?),
                ..face.clone()
            };
            &scaled
        }
        None => face,
    };
    Ok(RenderedFace {
        pdf: render_face_pdf(font, face)?,
        png: render_face_png(face)?,
    })
}

/// Pixels per point of the raster preview (150 dpi).
const PNG_SCALE: f32 = 150.0 / 72.0;

/// A raster preview of the front (150 dpi PNG, about 506 × 319 pixels) for the
/// counter's screen: the card's outline, the photo in its place and the panels
/// where the text is printed. The text itself is in the PDF: drawing glyphs into
/// pixels would need a rasteriser the workspace does not carry.
pub fn render_face_png(face: &CardFace) -> Result<Vec<u8>, PdfError> {
    let scale = |v: f32| (v * PNG_SCALE).round() as u32;
    let (width, height) = (scale(CARD_WIDTH), scale(CARD_HEIGHT));
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([250, 250, 247]));
    let ink = Rgb([40, 40, 40]);
    let frame = |canvas: &mut RgbImage, x: f32, y: f32, w: f32, h: f32| {
        let (x0, y0, x1, y1) = (scale(x), scale(y), scale(x + w), scale(y + h));
        for px in x0..=x1.min(width - 1) {
            for py in [y0, y1.min(height - 1)] {
                canvas.put_pixel(px, py, ink);
            }
        }
        for py in y0..=y1.min(height - 1) {
            for px in [x0, x1.min(width - 1)] {
                canvas.put_pixel(px, py, ink);
            }
        }
    };
    frame(&mut canvas, 2.0, 2.0, CARD_WIDTH - 4.0, CARD_HEIGHT - 4.0);
    frame(&mut canvas, 8.0, 90.0, 150.0, 14.0);
    frame(&mut canvas, 8.0, 108.0, 150.0, CARD_HEIGHT - 116.0);
    let (px, py, pw, ph) = PHOTO;
    match face.photo_jpeg.as_deref() {
        Some(jpeg) => {
            let small = card_photo(jpeg)?;
            let photo = image::load_from_memory_with_format(&small, image::ImageFormat::Jpeg)
                .map_err(|e| PdfError::Image(e.to_string()))?
                .resize_exact(scale(pw), scale(ph), image::imageops::FilterType::Triangle)
                .to_rgb8();
            image::imageops::replace(
                &mut canvas,
                &photo,
                i64::from(scale(px)),
                i64::from(scale(py)),
            );
        }
        None => frame(&mut canvas, px, py, pw, ph),
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        canvas.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| PdfError::Image(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::pdf::testing::read;
    use crate::pdf::{load_font, DEFAULT_FONT};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A 700 × 900 JPEG (larger than the card prints).
    fn photo() -> Vec<u8> {
        let image = RgbImage::from_fn(700, 900, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&image)
            .unwrap();
        out
    }

    pub(crate) fn face() -> CardFace {
        CardFace {
            name: "山田 花子".into(),
            alias: None,
            address: "東京都千代田区千代田1-1 千代田マンション101号室".into(),
            birth_date: date(1990, 4, 1),
            japanese_national: true,
            sex: Sex::Female,
            photo_jpeg: Some(photo()),
            expires: date(2036, 4, 1),
            notes: vec!["令和9年1月5日 転居 東京都千代田区丸の内2-2".into()],
            my_number: "621498320257".parse().unwrap(),
            card_number: CardNumber::from_serial(12_345).unwrap(),
            braille: Some("やまだ はなこ".into()),
            municipality_name: "千代田区 Chiyoda City".into(),
        }
    }

    #[test]
    fn the_face_reads_and_the_backs_qr_code_is_the_number() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let face = face();
        let pdf = render_face_pdf(&font, &face).unwrap();
        if let Ok(keep) = std::env::var("MAINA_KEEP_FACE") {
            std::fs::write(keep, &pdf).unwrap();
        }
        let (text, decoded) = read(&pdf, 2, 300);
        for expected in [
            "山田 花子",
            "東京都千代田区千代田1-1",
            // A Japanese national's birth date in the era; the expiry Western.
            "平成2年4月1日生",
            "2036年4月1日まで有効",
            "個人番号カード",
            "女",
            "転居",
            "6214 9832 0257",
            &format!("No. {}", face.card_number),
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert_eq!(decoded, "621498320257");
        assert_eq!(text.matches('\u{c}').count(), 2, "two pages");
    }

    #[test]
    fn foreign_nationals_get_western_dates_and_their_alias() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let face = CardFace {
            name: "SMITH JOHN".into(),
            alias: Some("山田 太郎".into()),
            japanese_national: false,
            sex: Sex::Male,
            photo_jpeg: None,
            braille: None,
            notes: vec![],
            ..face()
        };
        let pdf = render_face_pdf(&font, &face).unwrap();
        let text = read(&pdf, 2, 300).0;
        for expected in ["SMITH JOHN", "通称 山田 太郎", "1990年4月1日生", "男"] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(!text.contains("平成"), "{text}");
    }

    #[test]
    fn braille_is_raised_dots_and_bad_braille_names_the_field() {
        // ヤマダ: ⠌ (2 dots) ⠵ (4) ⠐ (1) ⠕ (3).
        let dots = braille_dots("⠌⠵⠐⠕", 10.0, 10.0, 200.0);
        assert_eq!(dots.len(), 10);
        // Cells that do not fit wrap to the next line.
        let long = braille_dots(&"⠿".repeat(20), 10.0, 10.0, 200.0);
        assert!(long.iter().any(|(_, y)| *y > 30.0));
        assert!(long.iter().all(|(x, _)| *x <= 200.0));
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let bad = CardFace {
            braille: Some("山田".into()),
            ..face()
        };
        match render_face_pdf(&font, &bad) {
            Err(PdfError::Field { field, .. }) => assert_eq!(field, "braille"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn large_photos_are_scaled_small_ones_pass_through() {
        let small = card_photo(&photo()).unwrap();
        let dimensions = |jpeg: &[u8]| {
            image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
                .unwrap()
                .to_rgb8()
                .dimensions()
        };
        let (width, height) = dimensions(&small);
        assert!(width <= 280 && height <= 360, "{width} x {height}");
        assert_eq!(card_photo(&small).unwrap(), small);
        assert!(matches!(card_photo(b"not a jpeg"), Err(PdfError::Image(_))));
    }

    #[test]
    fn the_png_preview_has_the_photo_in_its_place() {
        let png = render_face_png(&face()).unwrap();
        let image = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (506, 319));
        // Inside the photo box the pixels are the photo's, not the card's ground.
        let (px, py, pw, ph) = PHOTO;
        let inside = image.get_pixel(
            ((px + pw / 2.0) * PNG_SCALE) as u32,
            ((py + ph / 2.0) * PNG_SCALE) as u32,
        );
        assert_ne!(*inside, Rgb([250, 250, 247]));
    }

    #[test]
    fn render_face_gives_both_from_one_scaled_photo() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let rendered = render_face(&font, &face()).unwrap();
        assert!(rendered.pdf.starts_with(b"%PDF"));
        assert!(rendered.png.starts_with(b"\x89PNG"));
    }

    /// `cargo test -p maina-service --release --lib face_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn face_timing() {
        let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
        let mut face = face();
        // As the manufacture job passes it: the photo already scaled for the card.
        face.photo_jpeg = Some(card_photo(&photo()).unwrap());
        let rounds = 200;
        let start = std::time::Instant::now();
        let mut pdf_bytes = 0;
        for _ in 0..rounds {
            pdf_bytes = render_face_pdf(&font, &face).unwrap().len();
        }
        let pdf = start.elapsed() / rounds;
        let start = std::time::Instant::now();
        let mut png_bytes = 0;
        for _ in 0..rounds {
            png_bytes = render_face_png(&face).unwrap().len();
        }
        let png = start.elapsed() / rounds;
        let raw = CardFace {
            photo_jpeg: Some(photo()),
            ..face.clone()
        };
        let start = std::time::Instant::now();
        for _ in 0..20 {
            render_face(&font, &raw).unwrap();
        }
        let both = start.elapsed() / 20;
        let start = std::time::Instant::now();
        let large = photo();
        for _ in 0..20 {
            card_photo(&large).unwrap();
        }
        let scale = start.elapsed() / 20;
        println!(
            "card face: PDF {pdf:?} ({pdf_bytes} bytes), PNG {png:?} ({png_bytes} bytes), \
             scaling a 700x900 photo {scale:?}, render_face from that photo {both:?}"
        );
    }
}
