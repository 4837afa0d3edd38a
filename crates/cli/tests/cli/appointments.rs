//! `maina office ...`: the default office, a change that keeps the fields not
//! given, a refusal that names the field and changes nothing, the day list.

use super::{fails, initialised, maina, ok};

#[test]
fn the_office_is_shown_set_and_refused_field_by_field() {
    let dir = initialised();
    let data = dir.path();
    let shown = ok(maina(data, &["office", "show", "--municipality", "131016"]));
    assert!(shown.contains("千代田区 本庁舎 市民課"), "{shown}");
    assert!(shown.contains("mon-fri 08:30-17:15"), "{shown}");
    let set = ok(maina(
        data,
        &[
            "office",
            "set",
            "--municipality",
            "131016",
            "--hours",
            "MON-FRI 08:30-12:00 13:00-17:15; sat 09:00-12:00",
            "--counters",
            "3",
            "--phone",
            "03-3264-2111",
        ],
    ));
    assert!(
        set.contains("mon-fri 08:30-12:00 13:00-17:15; sat 09:00-12:00"),
        "{set}"
    );
    assert!(set.contains("counters        3") && set.contains("千代田区 本庁舎 市民課"));
    let refused = fails(maina(
        data,
        &[
            "office",
            "set",
            "--municipality",
            "131016",
            "--hours",
            "mon-fri 8:30-17:15",
        ],
    ));
    assert!(
        refused.contains("hours: clause 1: \"8:30\" is not a time HH:MM"),
        "{refused}"
    );
    let refused = fails(maina(
        data,
        &[
            "office",
            "set",
            "--municipality",
            "131016",
            "--slot-minutes",
            "1",
        ],
    ));
    assert!(refused.contains("slot_minutes"), "{refused}");
    let after = ok(maina(data, &["office", "show", "--municipality", "131016"]));
    assert!(after.contains("counters        3") && after.contains("slot minutes    15"));
    let day = ok(maina(
        data,
        &[
            "office",
            "day",
            "--municipality",
            "131016",
            "--date",
            "2026-12-01",
        ],
    ));
    assert!(day.contains("0 appointments"), "{day}");
    assert!(
        fails(maina(data, &["office", "show", "--municipality", "13101"])).contains("municipality")
    );
}
