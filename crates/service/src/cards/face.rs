//! The card's face (placeholder until the renderer lands).

use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::person::Sex;
use maina_core::{CardNumber, MyNumber};

/// What the card's front and back show.
#[derive(Debug, Clone)]
pub struct CardFace {
    pub name: String,
    pub alias: Option<String>,
    pub address: String,
    pub birth_date: NaiveDate,
    pub japanese_national: bool,
    pub sex: Sex,
    pub photo_jpeg: Option<Vec<u8>>,
    pub expires: NaiveDate,
    pub notes: Vec<String>,
    pub my_number: MyNumber,
    pub card_number: CardNumber,
    pub braille: Option<String>,
    pub municipality_name: String,
}

/// The face as a PDF.
pub fn render_face_pdf(
    _font: &Font,
    _face: &CardFace,
) -> Result<Vec<u8>, crate::notice::NoticeError> {
    Ok(Vec::new())
}
