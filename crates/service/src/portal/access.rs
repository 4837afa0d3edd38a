//! The record of who used my data: one page (newest first) with each entry's
//! audit-chain position and whether the chain verifies up to it, and the CSV
//! export of the same list.

use super::{resident_actor, rfc3339};
use crate::{i18n, Result, Service};
use maina_proto::{AccessEntryResponse, AccessRecordResponse};
use maina_store::{AccessEntry, AccessKind};

/// Entries on a page.
pub const PAGE_SIZE: u32 = 20;
/// The most entries a CSV export carries (newest first).
pub const MAX_CSV_ENTRIES: u32 = 10_000;

/// An entry's description's message id: a known action's own, else its kind's.
fn label_id(entry: &AccessEntry) -> String {
    let action = entry.action.as_str();
    let known = [
        "read",
        "read-history",
        "read-by-my-number",
        "reveal-my-number",
        "search-hit",
        "card.suspend",
        "card.pin-reset",
        "card.history-read",
        "card.list-read",
        "card.caller-identified",
        "pickup.card-read",
    ];
    match entry.kind {
        AccessKind::Signin if action.starts_with("oidc.signin-refused") => {
            "portal-access-signin-refused".into()
        }
        AccessKind::Signin => "portal-access-signin".into(),
        _ if known.contains(&action) => format!("portal-access-{}", action.replace('.', "-")),
        _ if action.starts_with("denied") => "portal-access-denied".into(),
        AccessKind::Card => "portal-access-card".into(),
        AccessKind::Resident if action == "portal.reveal-refused" => {
            "portal-access-reveal-refused".into()
        }
        AccessKind::Resident => "portal-access-reveal-my-number-own".into(),
        AccessKind::Officer => "portal-access-other".into(),
    }
}

/// What an entry says happened, in `lang`.
pub fn access_label(service: &Service, entry: &AccessEntry, lang: &str) -> String {
    service.message(lang, &label_id(entry))
}

/// A CSV cell that a spreadsheet will not run: text an officer typed (a purpose)
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
/// apostrophe (OWASP's CSV-injection rule).
pub fn csv_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

impl Service {
    /// One page (1-based) of the signed-in resident's record of who used their data,
    /// each entry with its chain position and whether the chain verifies up to it.
    /// Audited as the resident's own read (`portal.access-read`).
    pub async fn portal_access_record(
        &self,
        resident_key: u64,
        page: u64,
        lang: &str,
    ) -> Result<AccessRecordResponse> {
        let lang = i18n::language(lang);
        let page = page.max(1);
        self.store
            .audit(&resident_actor(), "portal.access-read", Some(resident_key))
            .await?;
        let found = self
            .store
            .access_record(
                resident_key,
                PAGE_SIZE,
                (page - 1).saturating_mul(u64::from(PAGE_SIZE)),
            )
            .await?;
        let (entries, check) = self.checked_entries(found.entries, lang).await?;
        Ok(AccessRecordResponse {
            entries,
            total: found.total,
            page,
            pages: found.total.div_ceil(u64::from(PAGE_SIZE)).max(1),
            chain_verified_upto: check.verified_upto,
            chain_problem: check.problem,
        })
    }

    /// The whole record (up to [`MAX_CSV_ENTRIES`], newest first) as CSV (UTF-8 with
    /// a byte-order mark, so spreadsheets read the Japanese), headed in `lang`.
    /// Audited as `portal.access-export`.
    pub async fn portal_access_csv(&self, resident_key: u64, lang: &str) -> Result<Vec<u8>> {
        let lang = i18n::language(lang);
        self.store
            .audit(
                &resident_actor(),
                "portal.access-export",
                Some(resident_key),
            )
            .await?;
        let found = self
            .store
            .access_record(resident_key, MAX_CSV_ENTRIES, 0)
            .await?;
        let (entries, _) = self.checked_entries(found.entries, lang).await?;
        let mut out = Vec::from("\u{feff}".as_bytes());
        {
            let mut writer = csv::Writer::from_writer(&mut out);
            let m = |id: &str| self.message(lang, id);
            let header = [
                m("portal-csv-at"),
                m("portal-csv-kind"),
                m("portal-csv-what"),
                m("portal-csv-action"),
                m("portal-csv-role"),
                m("portal-csv-municipality"),
                m("portal-csv-purpose"),
                m("portal-csv-detail"),
                m("portal-csv-seq"),
                m("portal-csv-verified"),
            ];
            let csv_error = |e: csv::Error| crate::ServiceError::internal(&e.to_string());
            writer.write_record(&header).map_err(csv_error)?;
            for entry in entries {
                writer
                    .write_record([
                        entry.at,
                        entry.kind,
                        csv_cell(&entry.label),
                        csv_cell(&entry.action),
                        csv_cell(&entry.role),
                        csv_cell(&entry.municipality),
                        csv_cell(&entry.purpose),
                        csv_cell(&entry.detail),
                        entry.seq.map(|s| s.to_string()).unwrap_or_default(),
                        (if entry.verified { "yes" } else { "no" }).to_owned(),
                    ])
                    .map_err(csv_error)?;
            }
            writer
                .flush()
                .map_err(|e| crate::ServiceError::internal(&e.to_string()))?;
        }
        Ok(out)
    }

    /// The entries as the resident reads them, with the chain checked up to the
    /// newest one's position (from where this process last verified it) and each
    /// entry's own link checked.
    async fn checked_entries(
        &self,
        entries: Vec<AccessEntry>,
        lang: &str,
    ) -> Result<(Vec<AccessEntryResponse>, maina_store::ChainCheck)> {
        let positions: Vec<u64> = entries.iter().filter_map(|e| e.seq).collect();
        let check = match positions.iter().max() {
            Some(&newest) => self.store.verify_audit_upto(newest).await?,
            None => self.store.verify_audit_upto(0).await?,
        };
        let broken = self.store.audit_links_broken(&positions).await?;
        let entries = entries
            .into_iter()
            .map(|entry| AccessEntryResponse {
                at: rfc3339(entry.at),
                kind: entry.kind.code().to_owned(),
                label: access_label(self, &entry, lang),
                verified: entry
                    .seq
                    .is_some_and(|seq| check.covers(seq) && !broken.contains(&seq)),
                action: entry.action,
                role: entry.role,
                municipality: entry.municipality,
                purpose: entry.purpose,
                detail: entry.detail,
                seq: entry.seq,
            })
            .collect();
        Ok((entries, check))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_defused() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("tax check"), "tax check");
        assert_eq!(csv_cell(""), "");
    }
}
