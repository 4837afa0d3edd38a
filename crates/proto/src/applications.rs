//! Applications for the card: the staff and booth channels' bodies, the review
//! steps and the public status inquiry.

wire! {
    /// A status inquiry: the 23-digit form ID or the 16-digit receipt number, and
    /// the applicant's birth date.
    request StatusRequest {
        pub number: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
    }

    response StatusResponse {
        /// received | under-review | returned-for-correction | card-issuance-in-process | shipped | at-municipality | ready-for-pickup | posted-to-resident | handed-over | destroyed | cancelled
        pub status: String,
        /// The date of the last change (YYYY-MM-DD).
        pub since: String,
        /// What happens next, in English (the page says it in Japanese too).
        pub next: String,
    }

    /// A mailed application as the back office enters it.
    #[derive(Default)]
    request MailApplicationRequest {
        pub form_id: String,
        /// YYYY-MM-DD, as written on the form.
        pub birth_date: String,
        pub name: String,
        /// The photo as scanned (JPEG, base64); absent when none was attached.
        pub photo_base64: Option<String>,
        /// Envelope check 1: a photo is attached (and conforms: the scan is checked too).
        pub photo_attached: bool,
        /// Envelope check 2: the form is complete.
        pub form_complete: bool,
        /// Envelope check 3: nothing else is in the envelope.
        pub nothing_else_enclosed: bool,
        #[serde(default)]
        pub electronic_certificate: bool,
        #[serde(default)]
        pub braille: bool,
    }

    /// An application, as staff see it.
    response ApplicationResponse {
        pub receipt: String, pub status: String, pub channel: String,
        pub municipality: String, pub since: String,
        /// What was wrong with the photo, if anything (codes).
        pub photo_problems: Vec<String>,
    }

    /// A step of the review.
    request ApplicationEventRequest {
        /// start-review | return-for-correction | resubmit | approve | cancel
        pub event: String,
        /// For return-for-correction: photo-missing | photo-not-conforming | form-incomplete | something-else-enclosed | details-mismatch
        pub reason: Option<String>,
    }

    /// An application from a photo booth: the form ID the booth decoded from the QR
    /// code, the photo it took, and what the applicant approved on its screen.
    #[derive(Default)]
    request BoothApplicationRequest {
        pub form_id: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
        pub name: String,
        /// The photo (JPEG, base64).
        pub photo_base64: String,
        pub electronic_certificate: bool,
        pub braille: bool,
        /// The applicant pressed "approve" after checking the details on the screen.
        pub approved: bool,
        /// Where to tell the applicant of changes (optional).
        pub email: Option<String>,
        /// `en` or `ja` (default `ja`).
        pub language: Option<String>,
    }

    /// The booth's printable receipt.
    response BoothReceipt {
        pub receipt: String,
        pub status: String,
        /// The receipt to print, in the applicant's language.
        pub printable: String,
    }
}
