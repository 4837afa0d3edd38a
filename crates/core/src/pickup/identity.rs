//! Who may take a card at the counter, and on what proof (REFERENCE sections 4 and 7):
//! the identity documents, the rule "one photo ID, or two other documents", proxy
//! pickup for a listed reason only, legal representatives of under-15s and adult
//! wards, the old cards surrendered, and the certificates the holder declines.
//!
//! [`PickupChecks::new`] is the one gate: what the officer recorded (a
//! [`PickupForm`], as codes typed or chosen) either becomes a `PickupChecks` or is
//! refused with the field at fault named.

pub use super::documents::{DocumentClass, IdDocument, ProxyReason, SurrenderedCard};
use crate::person::FieldError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// What the officer recorded at the counter, as codes (from the console's form, the
/// JSON API or the command line). Checked by [`PickupChecks::new`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PickupForm {
    /// The holder's documents (shown by the holder, or brought by the proxy).
    #[serde(default)]
    pub documents: Vec<String>,
    /// Set when a proxy collects the card: one of the listed reasons.
    #[serde(default)]
    pub proxy_reason: Option<String>,
    /// The proxy's own documents.
    #[serde(default)]
    pub proxy_documents: Vec<String>,
    /// The proof of the proxy's reason was seen (e.g. a facility head's certificate).
    #[serde(default)]
    pub proxy_reason_proof: bool,
    /// The legal representative's documents (under-15s and adult wards).
    #[serde(default)]
    pub representative_documents: Vec<String>,
    /// The proof of the representative's authority was seen.
    #[serde(default)]
    pub representative_authority_proof: bool,
    /// The holder is an adult ward (成年被後見人): no signature certificate.
    #[serde(default)]
    pub adult_ward: bool,
    /// Old cards surrendered.
    #[serde(default)]
    pub surrendered: Vec<String>,
    /// The holder declines the electronic certificates.
    #[serde(default)]
    pub decline_certificates: bool,
}

/// A proxy collecting the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proxy {
    pub reason: ProxyReason,
    pub documents: Vec<IdDocument>,
}

/// A legal representative accompanying an under-15 or an adult ward (and setting
/// the PINs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    pub documents: Vec<IdDocument>,
}

/// The checks of one pickup, all passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupChecks {
    documents: Vec<IdDocument>,
    proxy: Option<Proxy>,
    representative: Option<Representative>,
    adult_ward: bool,
    surrendered: Vec<SurrenderedCard>,
    decline_certificates: bool,
    under_15: bool,
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    on.year() - birth.year() - i32::from((on.month(), on.day()) < (birth.month(), birth.day()))
}

fn parse_list<T: Ord + Copy>(
    field: &'static str,
    codes: &[String],
    parse: fn(&str) -> Option<T>,
    choices: &str,
) -> Result<Vec<T>, FieldError> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let item = parse(code).ok_or_else(|| {
            FieldError::new(field, format!("{:?} is not one of {choices}", code.trim()))
        })?;
        if out.contains(&item) {
            return Err(FieldError::new(
                field,
                format!("{:?} is listed twice", code.trim()),
            ));
        }
        out.push(item);
    }
    out.sort();
    Ok(out)
}

fn documents(field: &'static str, codes: &[String]) -> Result<Vec<IdDocument>, FieldError> {
    let choices: Vec<&str> = IdDocument::ALL.iter().map(|d| d.code()).collect();
    parse_list(field, codes, IdDocument::from_code, &choices.join(", "))
}

/// One official photo ID, or two other documents.
pub fn proves_identity(documents: &[IdDocument]) -> bool {
    let photo = documents.iter().filter(|d| d.is_photo_id()).count();
    photo >= 1 || documents.len() >= 2
}

/// A proxy's proof of the holder: two photo IDs, or one photo ID and one other, or
/// three others of which one bears the holder's photo.
pub fn proves_absent_holder(documents: &[IdDocument]) -> bool {
    let photo = documents.iter().filter(|d| d.is_photo_id()).count();
    let others = documents.len() - photo;
    let others_with_photo = documents
        .iter()
        .filter(|d| d.class() == DocumentClass::Other { photo: true })
        .count();
    photo >= 2 || (photo == 1 && others >= 1) || (others >= 3 && others_with_photo >= 1)
}

impl PickupChecks {
    /// Checks what was recorded for the holder born on `birth`, collecting on
    /// `today`. Refusals name the field.
    pub fn new(form: &PickupForm, birth: NaiveDate, today: NaiveDate) -> Result<Self, FieldError> {
        let age = age_on(birth, today);
        let under_15 = age < 15;
        let holder_documents = documents("documents", &form.documents)?;
        let surrendered = {
            let choices: Vec<&str> = SurrenderedCard::ALL.iter().map(|c| c.code()).collect();
            parse_list(
                "surrendered",
                &form.surrendered,
                SurrenderedCard::from_code,
                &choices.join(", "),
            )?
        };
        let proxy = match form.proxy_reason.as_deref().map(str::trim) {
            None | Some("") => {
                if !form.proxy_documents.is_empty() || form.proxy_reason_proof {
                    return Err(FieldError::new(
                        "proxy_reason",
                        "a proxy's documents were given without the proxy's reason",
                    ));
                }
                None
            }
            Some(code) => {
                let reason = ProxyReason::from_code(code).ok_or_else(|| {
                    let listed: Vec<&str> = ProxyReason::ALL.iter().map(|r| r.code()).collect();
                    FieldError::new(
                        "proxy_reason",
                        format!(
                            "{code:?} is not a reason for a proxy pickup (work is not one); \
                             the reasons are {}",
                            listed.join(", ")
                        ),
                    )
                })?;
                match reason {
                    ProxyReason::Age75Plus if age < 75 => {
                        return Err(FieldError::new(
                            "proxy_reason",
                            "age-75-plus: the holder is under 75",
                        ))
                    }
                    ProxyReason::Under16 if age >= 16 => {
                        return Err(FieldError::new(
                            "proxy_reason",
                            "under-16: the holder is 16 or older",
                        ))
                    }
                    _ => {}
                }
                if !form.proxy_reason_proof {
                    return Err(FieldError::new(
                        "proxy_reason_proof",
                        "the proof of the proxy's reason must be seen",
                    ));
                }
                let own = documents("proxy_documents", &form.proxy_documents)?;
                if !proves_identity(&own) {
                    return Err(FieldError::new(
                        "proxy_documents",
                        "the proxy needs one photo ID or two other documents",
                    ));
                }
                Some(Proxy {
                    reason,
                    documents: own,
                })
            }
        };
        if proxy.is_some() {
            if !proves_absent_holder(&holder_documents) {
                return Err(FieldError::new(
                    "documents",
                    "for a proxy pickup the holder's documents must be two photo IDs, one \
                     photo ID and one other, or three others including one with a photo",
                ));
            }
        } else if !proves_identity(&holder_documents) {
            return Err(FieldError::new(
                "documents",
                "one photo ID, or two other documents, are needed",
            ));
        }
        let needs_representative = under_15 || form.adult_ward;
        let representative = if form.representative_documents.is_empty() {
            if needs_representative {
                return Err(FieldError::new(
                    "representative_documents",
                    "an under-15 or an adult ward comes with the legal representative, whose \
                     documents are checked",
                ));
            }
            if form.representative_authority_proof {
                return Err(FieldError::new(
                    "representative_documents",
                    "the representative's proof of authority was given without their documents",
                ));
            }
            None
        } else {
            let own = documents("representative_documents", &form.representative_documents)?;
            if !proves_identity(&own) {
                return Err(FieldError::new(
                    "representative_documents",
                    "the representative needs one photo ID or two other documents",
                ));
            }
            if !form.representative_authority_proof {
                return Err(FieldError::new(
                    "representative_authority_proof",
                    "the proof of the representative's authority must be seen",
                ));
            }
            Some(Representative { documents: own })
        };
        Ok(Self {
            documents: holder_documents,
            proxy,
            representative,
            adult_ward: form.adult_ward,
            surrendered,
            decline_certificates: form.decline_certificates,
            under_15,
        })
    }

    pub fn documents(&self) -> &[IdDocument] {
        &self.documents
    }

    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    pub fn representative(&self) -> Option<&Representative> {
        self.representative.as_ref()
    }

    pub fn adult_ward(&self) -> bool {
        self.adult_ward
    }

    pub fn surrendered(&self) -> &[SurrenderedCard] {
        &self.surrendered
    }

    pub fn certificates_declined(&self) -> bool {
        self.decline_certificates
    }

    /// Whether the authentication certificate is issued: unless declined.
    pub fn authentication_certificate(&self) -> bool {
        !self.decline_certificates
    }

    /// Whether the signature certificate is issued: not declined, wanted on the
    /// application, and allowed (15 or older, not an adult ward).
    pub fn signature_certificate(&self, wanted: bool) -> bool {
        wanted && !self.decline_certificates && !self.under_15 && !self.adult_ward
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        date(2026, 11, 30)
    }

    fn adult() -> NaiveDate {
        date(1990, 4, 1)
    }

    fn form(documents: &[&str]) -> PickupForm {
        PickupForm {
            documents: documents.iter().map(|s| s.to_string()).collect(),
            ..PickupForm::default()
        }
    }

    #[test]
    fn one_photo_id_or_two_others() {
        assert!(PickupChecks::new(&form(&["passport"]), adult(), today()).is_ok());
        assert!(PickupChecks::new(
            &form(&["health-insurance-card", "pension-book"]),
            adult(),
            today()
        )
        .is_ok());
        let refused =
            PickupChecks::new(&form(&["health-insurance-card"]), adult(), today()).unwrap_err();
        assert_eq!(refused.field, "documents");
        assert_eq!(
            PickupChecks::new(&form(&[]), adult(), today())
                .unwrap_err()
                .field,
            "documents"
        );
    }

    #[test]
    fn unknown_or_repeated_documents_name_their_field() {
        let error = PickupChecks::new(&form(&["library-card"]), adult(), today()).unwrap_err();
        assert_eq!(error.field, "documents");
        assert!(error.reason.contains("library-card"), "{}", error.reason);
        let error = PickupChecks::new(
            &form(&["health-insurance-card", "health-insurance-card"]),
            adult(),
            today(),
        )
        .unwrap_err();
        assert!(error.reason.contains("twice"));
        let mut f = form(&["passport"]);
        f.surrendered = vec!["old-phone".into()];
        assert_eq!(
            PickupChecks::new(&f, adult(), today()).unwrap_err().field,
            "surrendered"
        );
        f.surrendered = vec!["notification-card".into()];
        let checks = PickupChecks::new(&f, adult(), today()).unwrap();
        assert_eq!(checks.surrendered(), [SurrenderedCard::NotificationCard]);
    }

    fn proxy_form(reason: &str) -> PickupForm {
        PickupForm {
            documents: vec!["passport".into(), "health-insurance-card".into()],
            proxy_reason: Some(reason.into()),
            proxy_documents: vec!["drivers-licence".into()],
            proxy_reason_proof: true,
            ..PickupForm::default()
        }
    }

    #[test]
    fn a_proxy_only_for_a_listed_reason_with_proof() {
        let checks = PickupChecks::new(&proxy_form("hospital-stay"), adult(), today()).unwrap();
        assert_eq!(checks.proxy().unwrap().reason, ProxyReason::HospitalStay);
        let error = PickupChecks::new(&proxy_form("work"), adult(), today()).unwrap_err();
        assert_eq!(error.field, "proxy_reason");
        assert!(error.reason.contains("work is not one"));
        // Age reasons are checked against the birth date.
        assert_eq!(
            PickupChecks::new(&proxy_form("age-75-plus"), adult(), today())
                .unwrap_err()
                .field,
            "proxy_reason"
        );
        assert!(PickupChecks::new(&proxy_form("age-75-plus"), date(1950, 1, 1), today()).is_ok());
        let mut f = proxy_form("illness");
        f.proxy_reason_proof = false;
        assert_eq!(
            PickupChecks::new(&f, adult(), today()).unwrap_err().field,
            "proxy_reason_proof"
        );
        let mut f = proxy_form("illness");
        f.proxy_documents = vec![];
        assert_eq!(
            PickupChecks::new(&f, adult(), today()).unwrap_err().field,
            "proxy_documents"
        );
        // A proxy needs more of the holder's documents than the holder would.
        let mut f = proxy_form("illness");
        f.documents = vec!["passport".into()];
        assert_eq!(
            PickupChecks::new(&f, adult(), today()).unwrap_err().field,
            "documents"
        );
        f.documents = vec![
            "health-insurance-card".into(),
            "pension-book".into(),
            "student-id".into(),
        ];
        assert!(PickupChecks::new(&f, adult(), today()).is_ok());
        f.documents = vec![
            "health-insurance-card".into(),
            "pension-book".into(),
            "bank-passbook".into(),
        ];
        assert!(PickupChecks::new(&f, adult(), today()).is_err());
        // Proxy documents without a reason.
        let mut f = form(&["passport"]);
        f.proxy_documents = vec!["passport".into()];
        assert_eq!(
            PickupChecks::new(&f, adult(), today()).unwrap_err().field,
            "proxy_reason"
        );
    }

    #[test]
    fn under_15s_and_adult_wards_come_with_their_representative_and_get_no_signature() {
        let child = date(2015, 6, 1);
        let f = form(&["health-insurance-card", "student-id"]);
        assert_eq!(
            PickupChecks::new(&f, child, today()).unwrap_err().field,
            "representative_documents"
        );
        let mut f = f;
        f.representative_documents = vec!["drivers-licence".into()];
        assert_eq!(
            PickupChecks::new(&f, child, today()).unwrap_err().field,
            "representative_authority_proof"
        );
        f.representative_authority_proof = true;
        let checks = PickupChecks::new(&f, child, today()).unwrap();
        assert!(checks.authentication_certificate());
        assert!(!checks.signature_certificate(true));
        let mut ward = form(&["passport"]);
        ward.adult_ward = true;
        assert!(PickupChecks::new(&ward, adult(), today()).is_err());
        ward.representative_documents = vec!["passport".into()];
        ward.representative_authority_proof = true;
        let checks = PickupChecks::new(&ward, adult(), today()).unwrap();
        assert!(!checks.signature_certificate(true));
        // The day of the 15th birthday allows it.
        let fifteen = PickupChecks::new(&form(&["passport"]), date(2011, 11, 30), today()).unwrap();
        assert!(fifteen.signature_certificate(true));
        assert!(!fifteen.signature_certificate(false));
    }

    #[test]
    fn declining_leaves_no_certificate() {
        let mut f = form(&["passport"]);
        f.decline_certificates = true;
        let checks = PickupChecks::new(&f, adult(), today()).unwrap();
        assert!(!checks.authentication_certificate());
        assert!(!checks.signature_certificate(true));
    }

    fn any_codes() -> impl Strategy<Value = Vec<String>> {
        let mut codes: Vec<String> = IdDocument::ALL.iter().map(|d| d.code().into()).collect();
        codes.push("work-badge".into());
        prop::collection::vec(prop::sample::select(codes), 0..5)
    }

    proptest! {
        /// Whatever is recorded: accepted checks always satisfy the rules, a child
        /// under 15 never gets a signature certificate, and a refusal names a field
        /// of the form.
        #[test]
        fn accepted_checks_keep_the_rules(
            documents in any_codes(),
            proxy_documents in any_codes(),
            representative_documents in any_codes(),
            reason in prop::option::of(prop::sample::select(vec!["illness", "work", "under-16", "age-75-plus", ""])),
            proof in any::<bool>(),
            authority in any::<bool>(),
            ward in any::<bool>(),
            decline in any::<bool>(),
            birth_year in 1920i32..2026,
        ) {
            let f = PickupForm {
                documents, proxy_reason: reason.map(str::to_owned), proxy_documents,
                proxy_reason_proof: proof, representative_documents,
                representative_authority_proof: authority, adult_ward: ward,
                surrendered: vec![], decline_certificates: decline,
            };
            let birth = date(birth_year, 3, 1);
            match PickupChecks::new(&f, birth, today()) {
                Ok(checks) => {
                    match checks.proxy() {
                        Some(proxy) => {
                            prop_assert!(proves_absent_holder(checks.documents()));
                            prop_assert!(proves_identity(&proxy.documents));
                        }
                        None => prop_assert!(proves_identity(checks.documents())),
                    }
                    if age_on(birth, today()) < 15 || ward {
                        prop_assert!(checks.representative().is_some());
                        prop_assert!(!checks.signature_certificate(true));
                    }
                    if decline {
                        prop_assert!(!checks.authentication_certificate());
                    }
                }
                Err(error) => {
                    prop_assert!([
                        "documents", "proxy_reason", "proxy_documents", "proxy_reason_proof",
                        "representative_documents", "representative_authority_proof",
                        "surrendered",
                    ].contains(&error.field));
                }
            }
        }
    }
}
