//! The four basic facts a signature certificate carries, as subjectAltName otherNames
//! under the JPKI OIDs 1.2.392.200149.8.5.5.x (REFERENCE section 2).

use der::asn1::{Any, ObjectIdentifier, PrintableStringRef, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use serde::{Deserialize, Serialize};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};

pub const OID_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.1");
pub const OID_SEX: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.3");
pub const OID_BIRTH_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.4");
pub const OID_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.5");

/// Name, address, birth date (YYYYMMDD) and sex (ISO 5218: 1, 2 or 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderFacts {
    pub name: String,
    pub address: String,
    pub birth_date: String,
    pub sex: String,
}

impl HolderFacts {
    pub(crate) fn general_names(&self) -> der::Result<Vec<GeneralName>> {
        let utf8 =
            |text: &str| -> der::Result<Any> { Any::encode_from(&Utf8StringRef::new(text)?) };
        let printable =
            |text: &str| -> der::Result<Any> { Any::encode_from(&PrintableStringRef::new(text)?) };
        let entry = |type_id, value| GeneralName::OtherName(OtherName { type_id, value });
        Ok(vec![
            entry(OID_NAME, utf8(&self.name)?),
            entry(OID_SEX, printable(&self.sex)?),
            entry(OID_BIRTH_DATE, printable(&self.birth_date)?),
            entry(OID_ADDRESS, utf8(&self.address)?),
        ])
    }

    /// The facts from a subjectAltName's names, when all four are there.
    pub(crate) fn from_general_names(names: &[GeneralName]) -> Option<Self> {
        let mut name = None;
        let mut sex = None;
        let mut birth_date = None;
        let mut address = None;
        for general in names {
            let GeneralName::OtherName(other) = general else {
                continue;
            };
            let text = text_of(&other.value)?;
            match other.type_id {
                id if id == OID_NAME => name = Some(text),
                id if id == OID_SEX => sex = Some(text),
                id if id == OID_BIRTH_DATE => birth_date = Some(text),
                id if id == OID_ADDRESS => address = Some(text),
                _ => {}
            }
        }
        Some(Self {
            name: name?,
            address: address?,
            birth_date: birth_date?,
            sex: sex?,
        })
    }
}

fn text_of(value: &Any) -> Option<String> {
    let der = value.to_der().ok()?;
    match value.tag() {
        Tag::Utf8String => Utf8StringRef::from_der(&der)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::PrintableString => PrintableStringRef::from_der(&der)
            .ok()
            .map(|s| s.as_str().to_owned()),
        _ => None,
    }
}
