//! The iCalendar (RFC 5545) file sent with an appointment's e-mails: one VEVENT,
//! its UID stable per issue notice so that a move replaces the event in the
//! resident's calendar (a higher SEQUENCE) and a cancellation removes it
//! (`METHOD:CANCEL`, `STATUS:CANCELLED`).
//!
//! Written here rather than with a calendar crate: one event of six properties
//! needs only RFC 5545's text escaping (section 3.3.11) and line folding at 75
//! octets (section 3.1), both tested below; a dependency would bring more than it
//! saves.

use chrono::{DateTime, Utc};

/// One appointment as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable for the notice: `pickup-NOTICE_ID@HOST`.
    pub uid: String,
    /// Grows with every change (the appointment's id does).
    pub sequence: u64,
    pub stamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
}

/// The MIME type of the file.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// A property value as RFC 5545 TEXT: backslash, semicolon and comma escaped,
/// line breaks as `\n`, other control characters dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (never inside a UTF-8 character), each
/// continuation starting with one space, every line ending CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let size = c.len_utf8();
        // The first line holds 75 octets; a continuation 74 after its space.
        if width + size > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += size;
    }
    out.push_str("\r\n");
    out
}

fn utc(time: &DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The `.ics` file of one event.
pub fn calendar(event: &CalendarEvent) -> String {
    let method = if event.cancelled { "CANCEL" } else { "PUBLISH" };
    let status = if event.cancelled {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//maina//My Number Card pickup//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{method}"),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape_text(&event.uid)),
        format!("SEQUENCE:{}", event.sequence),
        format!("DTSTAMP:{}", utc(&event.stamp)),
        format!("DTSTART:{}", utc(&event.start)),
        format!("DTEND:{}", utc(&event.end)),
        format!("SUMMARY:{}", escape_text(&event.summary)),
        format!("LOCATION:{}", escape_text(&event.location)),
        format!("DESCRIPTION:{}", escape_text(&event.description)),
        format!("STATUS:{status}"),
        "TRANSP:OPAQUE".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|line| fold(line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event() -> CalendarEvent {
        CalendarEvent {
            uid: "pickup-7@maina".into(),
            sequence: 3,
            stamp: Utc.with_ymd_and_hms(2026, 11, 30, 1, 2, 3).unwrap(),
            start: Utc.with_ymd_and_hms(2026, 12, 2, 0, 30, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 2, 0, 45, 0).unwrap(),
            summary: "マイナンバーカードの受け取り / My Number Card pickup".into(),
            location: "千代田区役所 2階, 1-2-1 Kudan-minami; Chiyoda".into(),
            description: "Bring the notice\nand a photo ID.".into(),
            cancelled: false,
        }
    }

    #[test]
    fn the_calendar_has_one_event_in_utc_with_crlf_lines() {
        let ics = calendar(&event());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(ics.contains("\r\nDTSTART:20261202T003000Z\r\n"));
        assert!(ics.contains("\r\nDTEND:20261202T004500Z\r\n"));
        assert!(ics.contains("\r\nMETHOD:PUBLISH\r\n"));
        assert!(ics.contains("\r\nSTATUS:CONFIRMED\r\n"));
        assert!(ics.contains("\r\nUID:pickup-7@maina\r\n"));
        assert!(ics.contains("LOCATION:千代田区役所 2階\\, 1-2-1 Kudan-minami\\; Chiyoda"));
        assert!(ics.contains("DESCRIPTION:Bring the notice\\nand a photo ID."));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        let cancelled = calendar(&CalendarEvent {
            cancelled: true,
            ..event()
        });
        assert!(cancelled.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(cancelled.contains("\r\nSTATUS:CANCELLED\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("SUMMARY:{}", "受け取り".repeat(20));
        let folded = fold(&line);
        for part in folded.split("\r\n").filter(|p| !p.is_empty()) {
            assert!(part.len() <= 75, "{} octets: {part}", part.len());
        }
        // Unfolding (CRLF + space removed) gives the line back.
        assert_eq!(folded.replace("\r\n ", "").trim_end(), line);
        assert_eq!(fold("SHORT:1"), "SHORT:1\r\n");
    }

    #[test]
    fn text_is_escaped_as_rfc_5545_says() {
        assert_eq!(
            escape_text("a\\b;c,d\r\ne\nf\u{7}"),
            "a\\\\b\\;c\\,d\\ne\\nf"
        );
    }
}
