//! The photo rules every channel applies (REFERENCE section 2).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The image format of an uploaded or scanned photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Other,
}

/// What the server learnt from a photo file (decoding and face detection happen
/// outside this crate, which does no I/O).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoFacts {
    pub format: PhotoFormat,
    /// Three colour components (RGB/YCbCr); grey or CMYK is not RGB.
    pub rgb: bool,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
    /// The date the camera recorded (EXIF), when the file has one.
    pub taken: Option<NaiveDate>,
    /// Faces found: (x, y, width, height) in pixels.
    pub faces: Vec<(u32, u32, u32, u32)>,
}

/// What is wrong with a photo; each has a message telling the resident what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotoProblem {
    NotJpeg,
    NotRgb,
    TooSmallFile,
    TooLargeFile,
    TooFewPixels,
    TooManyPixels,
    WrongRatio,
    NoFace,
    SeveralFaces,
    FaceNotCentred,
    FaceTooSmall,
    FaceTooLarge,
    TooOld,
}

impl PhotoProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotJpeg => "photo-not-jpeg",
            Self::NotRgb => "photo-not-rgb",
            Self::TooSmallFile => "photo-file-too-small",
            Self::TooLargeFile => "photo-file-too-large",
            Self::TooFewPixels => "photo-too-few-pixels",
            Self::TooManyPixels => "photo-too-many-pixels",
            Self::WrongRatio => "photo-wrong-ratio",
            Self::NoFace => "photo-no-face",
            Self::SeveralFaces => "photo-several-faces",
            Self::FaceNotCentred => "photo-face-not-centred",
            Self::FaceTooSmall => "photo-face-too-small",
            Self::FaceTooLarge => "photo-face-too-large",
            Self::TooOld => "photo-too-old",
        }
    }
}

/// The upload rules (REFERENCE section 2) and our tolerances.
pub mod photo_rules {
    pub const MIN_BYTES: usize = 20 * 1024;
    pub const MAX_BYTES: usize = 7 * 1024 * 1024;
    pub const MIN_SIDE: u32 = 480;
    pub const MAX_SIDE: u32 = 6000;
    /// Width : height = 35 : 45, within this relative tolerance *(our design)*.
    pub const RATIO_TOLERANCE: f64 = 0.04;
    /// The face's centre may be this far from the photo's vertical axis, as a share
    /// of the width; and in the upper 25–60% of the height *(our design)*.
    pub const CENTRE_TOLERANCE: f64 = 0.15;
    /// The face box's width as a share of the photo's width *(our design: the rule
    /// asks for a face of 3.2–3.6 cm in a 4.5 cm photo; detectors box less than the
    /// whole head)*.
    pub const MIN_FACE_SHARE: f64 = 0.25;
    pub const MAX_FACE_SHARE: f64 = 0.85;
    /// Months within which the photo must have been taken.
    pub const MAX_AGE_MONTHS: u32 = 6;
}

/// Every problem of a photo (empty when it passes), in a stable order.
pub fn check_photo(facts: &PhotoFacts, today: NaiveDate) -> Vec<PhotoProblem> {
    use photo_rules::*;
    let mut problems = Vec::new();
    if facts.format != PhotoFormat::Jpeg {
        problems.push(PhotoProblem::NotJpeg);
    }
    if !facts.rgb {
        problems.push(PhotoProblem::NotRgb);
    }
    if facts.bytes < MIN_BYTES {
        problems.push(PhotoProblem::TooSmallFile);
    }
    if facts.bytes > MAX_BYTES {
        problems.push(PhotoProblem::TooLargeFile);
    }
    if facts.width < MIN_SIDE || facts.height < MIN_SIDE {
        problems.push(PhotoProblem::TooFewPixels);
    }
    if facts.width > MAX_SIDE || facts.height > MAX_SIDE {
        problems.push(PhotoProblem::TooManyPixels);
    }
    let ratio = f64::from(facts.width) / f64::from(facts.height.max(1));
    let wanted = 35.0 / 45.0;
    if ((ratio - wanted) / wanted).abs() > RATIO_TOLERANCE {
        problems.push(PhotoProblem::WrongRatio);
    }
    match facts.faces.as_slice() {
        [] => problems.push(PhotoProblem::NoFace),
        [(x, y, w, h)] => {
            let width = f64::from(facts.width.max(1));
            let height = f64::from(facts.height.max(1));
            let centre_x = (f64::from(*x) + f64::from(*w) / 2.0) / width;
            let centre_y = (f64::from(*y) + f64::from(*h) / 2.0) / height;
            if (centre_x - 0.5).abs() > CENTRE_TOLERANCE || !(0.25..=0.6).contains(&centre_y) {
                problems.push(PhotoProblem::FaceNotCentred);
            }
            let share = f64::from(*w) / width;
            if share < MIN_FACE_SHARE {
                problems.push(PhotoProblem::FaceTooSmall);
            }
            if share > MAX_FACE_SHARE {
                problems.push(PhotoProblem::FaceTooLarge);
            }
        }
        _ => problems.push(PhotoProblem::SeveralFaces),
    }
    if let Some(taken) = facts.taken {
        let limit = today.checked_sub_months(Months::new(MAX_AGE_MONTHS));
        if limit.is_some_and(|limit| taken < limit) {
            problems.push(PhotoProblem::TooOld);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn good() -> PhotoFacts {
        PhotoFacts {
            format: PhotoFormat::Jpeg,
            rgb: true,
            bytes: 200_000,
            width: 700,
            height: 900,
            taken: NaiveDate::from_ymd_opt(2026, 10, 1),
            faces: vec![(220, 220, 260, 300)],
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn a_conforming_photo_passes_and_each_fault_is_named() {
        assert_eq!(check_photo(&good(), today()), vec![]);
        let with = |change: &dyn Fn(&mut PhotoFacts)| {
            let mut facts = good();
            change(&mut facts);
            check_photo(&facts, today())
        };
        assert_eq!(
            with(&|f| f.format = PhotoFormat::Other),
            vec![PhotoProblem::NotJpeg]
        );
        assert_eq!(with(&|f| f.rgb = false), vec![PhotoProblem::NotRgb]);
        assert_eq!(
            with(&|f| f.bytes = 10_000),
            vec![PhotoProblem::TooSmallFile]
        );
        assert_eq!(
            with(&|f| f.bytes = 8 << 20),
            vec![PhotoProblem::TooLargeFile]
        );
        assert_eq!(with(&|f| f.width = 900), vec![PhotoProblem::WrongRatio]);
        assert_eq!(with(&|f| f.faces.clear()), vec![PhotoProblem::NoFace]);
        assert_eq!(
            with(&|f| f.faces.push((0, 0, 10, 10))),
            vec![PhotoProblem::SeveralFaces]
        );
        assert_eq!(
            with(&|f| f.faces = vec![(0, 220, 260, 300)]),
            vec![PhotoProblem::FaceNotCentred]
        );
        assert_eq!(
            with(&|f| f.faces = vec![(300, 350, 100, 120)]),
            vec![PhotoProblem::FaceTooSmall]
        );
        assert_eq!(
            with(&|f| f.taken = NaiveDate::from_ymd_opt(2026, 5, 1)),
            vec![PhotoProblem::TooOld]
        );
        assert_eq!(with(&|f| f.taken = None), vec![]);
        let tiny = with(&|f| {
            f.width = 350;
            f.height = 450;
            f.faces = vec![(110, 110, 130, 150)];
        });
        assert_eq!(tiny, vec![PhotoProblem::TooFewPixels]);
    }
}
