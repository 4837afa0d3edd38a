//! What the printed documents share (the Individual Number Notice, the card face,
//! the issue notice): the embedded Japanese font, and a pen on a krilla page that
//! writes text, rules, boxes, QR codes, JPEG photos and raised Braille dots.
//! Coordinates are PDF points from the page's top-left corner.

use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

/// Debian's IPAex Gothic (package fonts-ipaexfont-gothic), the default font.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf";

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "font {path}: {message} (Debian: apt-get install fonts-ipaexfont-gothic, or --font PATH)"
    )]
    Font { path: String, message: String },
    #[error("QR code: {0}")]
    Qr(String),
    #[error("photo: {0}")]
    Image(String),
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("PDF: {0}")]
    Pdf(String),
}

/// Loads the font once for a batch (a `Font` is cheap to clone).
pub fn load_font(path: &std::path::Path) -> Result<Font, PdfError> {
    let error = |message: String| PdfError::Font {
        path: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    Font::new(bytes.into(), 0).ok_or_else(|| error("not a font krilla can read".into()))
}

/// A document of pages of the given sizes (points), each drawn by `draw(page index,
/// pen)`; the font is embedded as a subset of the glyphs used.
pub(crate) fn document(
    font: &Font,
    pages: &[(f32, f32)],
    mut draw: impl FnMut(usize, &mut Pen<'_, '_>) -> Result<(), PdfError>,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    for (index, (width, height)) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(*width, *height)
            .ok_or_else(|| PdfError::Pdf("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let drawn = {
            let mut pen = Pen {
                surface: page.surface(),
                font,
            };
            let drawn = draw(index, &mut pen);
            pen.surface.finish();
            drawn
        };
        page.finish();
        drawn?;
    }
    document
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

/// Draws on one page.
pub(crate) struct Pen<'a, 'b> {
    surface: Surface<'b>,
    font: &'a Font,
}

/// The width `text` takes at `size` points, roughly: full-width (CJK, kana) glyphs
/// are one em, others about half (enough to lay out and wrap lines).
pub(crate) fn text_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if (c as u32) < 0x2000 { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// `text` cut into lines no wider than `width` at `size` (at spaces where it can,
/// anywhere in Japanese text).
pub(crate) fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for ch in text.chars() {
        line.push(ch);
        if text_width(&line, size) > width {
            let cut = line
                .rfind(' ')
                .filter(|&at| at > 0)
                .unwrap_or_else(|| line.len() - ch.len_utf8());
            if cut == 0 {
                // A single glyph wider than the line: it stands alone.
                continue;
            }
            let rest = line.split_off(cut);
            lines.push(line.trim_end().to_string());
            line = rest.trim_start().to_string();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn filled(surface: &mut Surface<'_>, path: PathBuilder) {
    if let Some(path) = path.finish() {
        surface.set_fill(Some(Fill::default()));
        surface.set_stroke(None);
        surface.draw_path(&path);
    }
}

impl Pen<'_, '_> {
    /// Text with its baseline's left end at (x, y).
    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.surface.set_fill(Some(Fill::default()));
        self.surface.set_stroke(None);
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Lines of text wrapped to `width`, from the baseline `y` down; returns the
    /// baseline below the last line.
    pub(crate) fn paragraph(&mut self, x: f32, y: f32, size: f32, width: f32, text: &str) -> f32 {
        let mut y = y;
        for line in wrap(text, size, width) {
            self.text(x, y, size, &line);
            y += size * 1.45;
        }
        y
    }

    /// A horizontal rule `width` long.
    pub(crate) fn rule(&mut self, x: f32, y: f32, width: f32) {
        let mut path = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(x, y, width, 0.8) {
            path.push_rect(rect);
        }
        filled(&mut self.surface, path);
    }

    /// The outline of a box (for a field to fill in, a check box, a panel).
    pub(crate) fn frame(&mut self, x: f32, y: f32, width: f32, height: f32, line: f32) {
        let mut path = PathBuilder::new();
        if let Some(rect) = Rect::from_xywh(x, y, width, height) {
            path.push_rect(rect);
        }
        if let Some(path) = path.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                width: line,
                ..Stroke::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill::default()));
        }
    }

    /// A QR code of `data`, `size` points wide with its quiet zone, its top-left
    /// corner at (x, y).
    pub(crate) fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) -> Result<(), PdfError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| PdfError::Qr(e.to_string()))?;
        let modules = code.width();
        let quiet = 4;
        let module = size / (modules + 2 * quiet) as f32;
        let mut path = PathBuilder::new();
        for (index, color) in code.to_colors().iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (row, column) = (index / modules, index % modules);
                if let Some(rect) = Rect::from_xywh(
                    x + (column + quiet) as f32 * module,
                    y + (row + quiet) as f32 * module,
                    module,
                    module,
                ) {
                    path.push_rect(rect);
                }
            }
        }
        filled(&mut self.surface, path);
        Ok(())
    }

    /// A JPEG photo in the box (x, y, width, height). The JPEG is embedded as it is
    /// (no decoding or re-encoding).
    pub(crate) fn jpeg(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        jpeg: &[u8],
    ) -> Result<(), PdfError> {
        let image = Image::from_jpeg(jpeg.to_vec().into(), true).map_err(PdfError::Image)?;
        let size =
            Size::from_wh(width, height).ok_or_else(|| PdfError::Pdf("photo size".into()))?;
        self.surface
            .push_transform(&Transform::from_translate(x, y));
        self.surface.draw_image(image, size);
        self.surface.pop();
        Ok(())
    }

    /// Filled circles of `radius` at the given centres (raised Braille dots).
    pub(crate) fn dots(&mut self, centres: &[(f32, f32)], radius: f32) {
        // A circle from four cubic Béziers.
        const K: f32 = 0.552_284_8;
        let mut path = PathBuilder::new();
        for &(cx, cy) in centres {
            let (r, k) = (radius, radius * K);
            path.move_to(cx + r, cy);
            path.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
            path.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
            path.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
            path.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
            path.close();
        }
        filled(&mut self.surface, path);
    }
}

#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    //! How the documents' tests read a PDF as a person's tools would.

    use std::process::Command;

    pub(crate) fn run(program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program}: {e} (scripts/test.sh installs poppler-utils and zbar-tools)")
            });
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The text of a PDF (pdftotext -layout), and the QR codes zbarimg reads on
    /// page `page` rendered at `dpi`.
    pub(crate) fn read(pdf: &[u8], page: u32, dpi: u32) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.pdf");
        std::fs::write(&path, pdf).unwrap();
        let file = path.to_str().unwrap();
        let text = run("pdftotext", &["-layout", file, "-"]);
        let fonts = run("pdffonts", &[file]);
        assert!(
            fonts.lines().skip(2).all(|l| l.contains(" yes ")),
            "the font travels with the document: {fonts}"
        );
        let png = dir.path().join("page");
        let (page, dpi) = (page.to_string(), dpi.to_string());
        run(
            "pdftoppm",
            &[
                "-r",
                &dpi,
                "-f",
                &page,
                "-l",
                &page,
                "-png",
                "-singlefile",
                file,
                png.to_str().unwrap(),
            ],
        );
        let decoded = run(
            "zbarimg",
            &[
                "--quiet",
                "--raw",
                dir.path().join("page.png").to_str().unwrap(),
            ],
        );
        (text, decoded.trim().to_string())
    }

    #[test]
    fn lines_wrap_at_spaces_or_anywhere_in_japanese() {
        let lines = super::wrap("one two three four", 10.0, 60.0);
        assert_eq!(lines, ["one two", "three four"]);
        let lines = super::wrap("東京都千代田区千代田一丁目", 10.0, 50.0);
        assert_eq!(lines, ["東京都千代", "田区千代田", "一丁目"]);
        assert_eq!(super::wrap("東京", 10.0, 5.0), ["東", "京"]);
    }
}
