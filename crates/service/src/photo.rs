//! Photo checks, the same for every channel: the file is examined here (format,
//! colour, size, pixels, the camera's date, faces found by SeetaFace through
//! `rustface`) and judged by `maina_core::application::check_photo`.

use chrono::NaiveDate;
use maina_core::application::{check_photo, photo_rules, PhotoFacts, PhotoFormat, PhotoProblem};
use std::sync::OnceLock;

/// SeetaFace's frontal face model, as the `rustface` crate ships it (BSD-2-Clause,
/// `models/LICENSE-rustface-seetaface`).
const MODEL: &[u8] = include_bytes!("../models/seeta_fd_frontal_v1.0.bin");

fn model() -> Option<&'static rustface::Model> {
    static PARSED: OnceLock<Option<rustface::Model>> = OnceLock::new();
    PARSED
        .get_or_init(|| rustface::read_model(MODEL).ok())
        .as_ref()
}

/// The longest side the detector works on (larger photos are scaled down first:
/// detection time grows with the pixels, accuracy does not).
const DETECTION_SIDE: u32 = 640;

/// What a photo is and what is wrong with it.
#[derive(Debug, Clone)]
pub struct PhotoCheck {
    pub facts: PhotoFacts,
    pub problems: Vec<PhotoProblem>,
}

impl PhotoCheck {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The number of colour components a JPEG declares in its frame header (1 grey,
/// 3 YCbCr/RGB, 4 CMYK), read from the markers without decoding.
fn jpeg_components(bytes: &[u8]) -> Option<u8> {
    let mut at = 2usize;
    while at + 4 <= bytes.len() {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return bytes.get(at + 9).copied();
        }
        at += 2 + len;
    }
    None
}

/// The date the camera recorded (EXIF DateTimeOriginal, else DateTime).
fn taken(bytes: &[u8]) -> Option<NaiveDate> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()?;
    [exif::Tag::DateTimeOriginal, exif::Tag::DateTime]
        .into_iter()
        .find_map(|tag| {
            let field = exif.get_field(tag, exif::In::PRIMARY)?;
            let text = field.display_value().to_string();
            NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
        })
}

/// The faces SeetaFace finds: (x, y, width, height) in the photo's pixels.
fn faces(image: &image::DynamicImage) -> Vec<(u32, u32, u32, u32)> {
    let Some(model) = model() else {
        return Vec::new();
    };
    let (width, height) = (image.width(), image.height());
    let scale = (f64::from(width.max(height)) / f64::from(DETECTION_SIDE)).max(1.0);
    let gray = if scale > 1.0 {
        image
            .resize(
                (f64::from(width) / scale) as u32,
                (f64::from(height) / scale) as u32,
                image::imageops::FilterType::Triangle,
            )
            .to_luma8()
    } else {
        image.to_luma8()
    };
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_min_face_size(40);
    detector.set_score_thresh(2.0);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let data = rustface::ImageData::new(&gray, gray.width(), gray.height());
    detector
        .detect(&data)
        .iter()
        .map(|face| {
            let bbox = face.bbox();
            let up = |v: f64| (v * scale).max(0.0).round() as u32;
            (
                up(f64::from(bbox.x())),
                up(f64::from(bbox.y())),
                up(f64::from(bbox.width())),
                up(f64::from(bbox.height())),
            )
        })
        .collect()
}

/// Examines a photo file and judges it.
pub fn examine(bytes: &[u8], today: NaiveDate) -> PhotoCheck {
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => PhotoFormat::Jpeg,
        _ => PhotoFormat::Other,
    };
    let mut facts = PhotoFacts {
        format,
        rgb: format == PhotoFormat::Jpeg && jpeg_components(bytes) == Some(3),
        bytes: bytes.len(),
        width: 0,
        height: 0,
        taken: taken(bytes),
        faces: Vec::new(),
    };
    // Never decode what the rules refuse anyway: a file too large, or one that is
    // not a JPEG (a decompression bomb costs nothing this way).
    if format == PhotoFormat::Jpeg && bytes.len() <= photo_rules::MAX_BYTES {
        let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
        reader.set_format(image::ImageFormat::Jpeg);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(photo_rules::MAX_SIDE * 2);
        limits.max_image_height = Some(photo_rules::MAX_SIDE * 2);
        limits.max_alloc = Some(512 * 1024 * 1024);
        reader.limits(limits);
        if let Ok(image) = reader.decode() {
            facts.width = image.width();
            facts.height = image.height();
            if facts.width <= photo_rules::MAX_SIDE && facts.height <= photo_rules::MAX_SIDE {
                facts.faces = faces(&image);
            }
        }
    }
    let problems = check_photo(&facts, today);
    PhotoCheck { facts, problems }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// NASA's public-domain portrait of Eileen Collins, as scikit-image ships it
    /// (scripts/test.sh fetches it from PyPI into .venv/testdata).
    fn astronaut() -> image::DynamicImage {
        let path = std::env::var("MAINA_TESTDATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/testdata")
            })
            .join("astronaut.png");
        image::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/test.sh)", path.display()))
    }

    fn jpeg(image: &image::DynamicImage, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&image.to_rgb8())
            .unwrap();
        out
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    /// A 35:45 portrait around the face, 700 x 900 pixels.
    fn portrait() -> image::DynamicImage {
        astronaut().crop_imm(100, 0, 245, 315).resize_exact(
            700,
            900,
            image::imageops::FilterType::Lanczos3,
        )
    }

    /// The JPEG with an EXIF block saying when it was taken.
    fn with_exif_date(jpeg: &[u8], date: &str) -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        tiff.extend(1u16.to_le_bytes());
        tiff.extend(0x0132u16.to_le_bytes()); // DateTime
        tiff.extend(2u16.to_le_bytes()); // ASCII
        tiff.extend(20u32.to_le_bytes());
        tiff.extend(26u32.to_le_bytes());
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(format!("{date} 10:00:00\0").as_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_good_portrait_passes() {
        let check = examine(&jpeg(&portrait(), 90), today());
        assert_eq!(check.problems, vec![], "{:?}", check.facts);
        assert_eq!(check.facts.faces.len(), 1);
        assert!(check.passed());
    }

    #[test]
    fn each_fault_is_found() {
        let good = jpeg(&portrait(), 90);
        // Not a JPEG: a PNG, and something that is no image at all.
        let mut png = Vec::new();
        portrait()
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(examine(&png, today())
            .problems
            .contains(&PhotoProblem::NotJpeg));
        let text = examine(b"hello, this is not a photo", today());
        assert!(text.problems.contains(&PhotoProblem::NotJpeg));
        assert!(text.problems.contains(&PhotoProblem::TooSmallFile));
        // Grey.
        let mut grey = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut grey, 90)
            .encode_image(&portrait().to_luma8())
            .unwrap();
        assert!(examine(&grey, today())
            .problems
            .contains(&PhotoProblem::NotRgb));
        // Square.
        let square = examine(&jpeg(&astronaut(), 95), today());
        assert!(
            square.problems.contains(&PhotoProblem::WrongRatio),
            "{:?}",
            square.problems
        );
        // No face: the sky behind her, made portrait-sized.
        let sky = astronaut().crop_imm(380, 0, 105, 135).resize_exact(
            700,
            900,
            image::imageops::FilterType::Triangle,
        );
        assert!(examine(&jpeg(&sky, 95), today())
            .problems
            .contains(&PhotoProblem::NoFace));
        // Two faces.
        let face = astronaut().crop_imm(140, 30, 165, 165);
        let mut two = image::DynamicImage::new_rgb8(700, 900);
        image::imageops::overlay(
            &mut two,
            &face.resize_exact(300, 300, image::imageops::FilterType::Lanczos3),
            20,
            300,
        );
        image::imageops::overlay(
            &mut two,
            &face.resize_exact(300, 300, image::imageops::FilterType::Lanczos3),
            380,
            300,
        );
        assert!(examine(&jpeg(&two, 90), today())
            .problems
            .contains(&PhotoProblem::SeveralFaces));
        // Taken over six months ago, by the camera's own date.
        let old = examine(&with_exif_date(&good, "2025:01:01"), today());
        assert_eq!(old.facts.taken, NaiveDate::from_ymd_opt(2025, 1, 1));
        assert_eq!(old.problems, vec![PhotoProblem::TooOld]);
        let recent = examine(&with_exif_date(&good, "2026:10:01"), today());
        assert_eq!(recent.problems, vec![]);
    }
}
