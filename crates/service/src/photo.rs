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

/// The most pixels a photo may have to be decoded at all (40 megapixels: above the
/// 6000 x 6000 the rules allow, far below what a crafted header can claim).
pub const MAX_DECODE_PIXELS: u64 = 40_000_000;

/// The most a decode may allocate: the pixels at 4 bytes each, with room for the
/// decoder's own buffers.
const MAX_DECODE_BYTES: u64 = MAX_DECODE_PIXELS * 4 + 16 * 1024 * 1024;

/// Photos decoded at once: each may take [`MAX_DECODE_BYTES`] and a core.
const PARALLEL_DECODES: usize = 4;

/// The dimensions a JPEG's header declares, read without decoding the image.
fn header_dimensions(bytes: &[u8]) -> image::ImageResult<(u32, u32)> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
    reader.set_format(image::ImageFormat::Jpeg);
    reader.into_dimensions()
}

/// Whether a photo of these dimensions is decoded: within the rules' sides and
/// the pixel limit. Larger ones are refused from the header ("too many pixels").
fn decodable(width: u32, height: u32) -> bool {
    width <= photo_rules::MAX_SIDE
        && height <= photo_rules::MAX_SIDE
        && u64::from(width) * u64::from(height) <= MAX_DECODE_PIXELS
}

/// [`examine`] on a blocking thread (decoding and face detection take a core for
/// a while and must not hold an async worker), at most [`PARALLEL_DECODES`] at a
/// time. Gives the photo back with its check.
pub async fn examine_off_thread(
    bytes: Vec<u8>,
    today: NaiveDate,
) -> crate::Result<(Vec<u8>, PhotoCheck)> {
    static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARALLEL_DECODES);
    let _permit = DECODES
        .acquire()
        .await
        .map_err(|error| crate::ServiceError::internal(&error))?;
    tokio::task::spawn_blocking(move || {
        let check = examine(&bytes, today);
        (bytes, check)
    })
    .await
    .map_err(|error| crate::ServiceError::internal(&error))
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
    // Never decode what the rules refuse anyway: a file too large, one that is not
    // a JPEG, or one whose header claims more pixels than a photo may have (a
    // decompression bomb costs nothing this way: the header is read, not the image).
    if format == PhotoFormat::Jpeg && bytes.len() <= photo_rules::MAX_BYTES {
        let reader = || {
            let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
            reader.set_format(image::ImageFormat::Jpeg);
            let mut limits = image::Limits::default();
            limits.max_image_width = Some(photo_rules::MAX_SIDE);
            limits.max_image_height = Some(photo_rules::MAX_SIDE);
            limits.max_alloc = Some(MAX_DECODE_BYTES);
            reader.limits(limits);
            reader
        };
        if let Ok((width, height)) = header_dimensions(bytes) {
            facts.width = width;
            facts.height = height;
            if decodable(width, height) {
                match reader().decode() {
                    Ok(image) => {
                        facts.width = image.width();
                        facts.height = image.height();
                        facts.faces = faces(&image);
                    }
                    // Unreadable past its header: as if it had no pixels.
                    Err(_) => (facts.width, facts.height) = (0, 0),
                }
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

    /// A tiny JPEG (8 x 8, all its tables) whose frame header is rewritten to claim
    /// `width` x `height` pixels.
    fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = jpeg(&image::DynamicImage::new_rgb8(8, 8), 90);
        let sof = bytes
            .windows(2)
            .position(|pair| pair == [0xFF, 0xC0])
            .unwrap();
        bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        bytes
    }

    #[tokio::test]
    async fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        // 20000 x 20000 (400 megapixels) and 6500 x 6500 (over the side limit):
        // refused from the header alone, with the rule that says why.
        for (width, height) in [(20_000, 20_000), (6500, 6500)] {
            let started = std::time::Instant::now();
            let (_, check) = examine_off_thread(jpeg_claiming(width, height), today())
                .await
                .unwrap();
            assert_eq!(
                (check.facts.width, check.facts.height),
                (u32::from(width), u32::from(height))
            );
            assert!(
                check.problems.contains(&PhotoProblem::TooManyPixels),
                "{:?}",
                check.problems
            );
            assert!(check.facts.faces.is_empty());
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
        }
        assert!(!decodable(6000, 6700));
        assert!(decodable(6000, 6000));
        // A PNG is never decoded at all, whatever its header claims.
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(8, 8)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let check = examine(&png, today());
        assert!(check.problems.contains(&PhotoProblem::NotJpeg));
        assert_eq!((check.facts.width, check.facts.height), (0, 0));
    }
}
