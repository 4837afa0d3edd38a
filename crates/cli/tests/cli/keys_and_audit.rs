//! Key files and their modes, the data key's rotation, and the audit chain's
//! signed checkpoints, through the real binary and a real SQLite file.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Registers a resident; answers the resident record code.
fn register(data: &Path) -> String {
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    field(&ok(maina(data, &args)), "resident record code").replace(' ', "")
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_key_file_readable_by_others_is_refused_with_the_chmod_that_fixes_it() {
    let dir = initialised();
    let data = dir.path();
    let ca_key = std::fs::read_dir(data.join("pki"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_str().unwrap().ends_with(".key.pem"))
        .unwrap();
    for key in [
        data.join("keys/master.key"),
        data.join("keys/audit-checkpoint.key"),
        ca_key,
    ] {
        chmod(&key, 0o644);
        let error = fails(maina(data, &["audit", "verify"]));
        let fix = format!("chmod 600 {}", key.display());
        assert!(error.contains(&fix), "{error}");
        assert!(error.contains("readable by group or others"), "{error}");
        chmod(&key, 0o600);
        ok(maina(data, &["audit", "verify"]));
    }
}

#[test]
fn a_new_data_directory_and_its_files_are_the_owners_only() {
    let parent = super::TestDir::new();
    let data = parent.path().join("data");
    ok(maina(&data, &["init"]));
    ok(maina(
        &data,
        &[
            "municipality",
            "add",
            "131016",
            "--name-ja",
            "千代田区",
            "--name-en",
            "Chiyoda City",
        ],
    ));
    let code = register(&data);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("keys")), 0o700);
    assert_eq!(mode(&data.join("keys/master.key")), 0o600);
    assert_eq!(mode(&data.join("keys/audit-checkpoint.key")), 0o600);
    assert_eq!(mode(&data.join("maina.sqlite3")), 0o600);
    // SQLite's log files exist while maina has the database open.
    with_server(&data, |_| {
        for log in ["maina.sqlite3-wal", "maina.sqlite3-shm"] {
            assert_eq!(mode(&data.join(log)), 0o600, "{log}");
        }
    });
    let out = parent.path().join("letters");
    ok(maina(
        &data,
        &["notice", "print", "--out", out.to_str().unwrap()],
    ));
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join(format!("{code}.pdf"))), 0o600);
    ok(maina(&data, &["audit", "checkpoint"]));
    assert_eq!(mode(&data.join("audit-checkpoints")), 0o700);
    assert_eq!(mode(&data.join("audit-checkpoints/checkpoints.log")), 0o600);
}

fn key_count(status: &str, id: u32) -> Option<u64> {
    let label = format!("data key {id}: ");
    status
        .lines()
        .find(|line| line.starts_with(&label))
        .map(|line| {
            line[label.len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
}

#[test]
fn keys_rotate_reseals_everything_resumes_after_a_stop_and_retires_the_old_key() {
    let dir = initialised();
    let data = dir.path();
    let code = register(data);
    for _ in 0..4 {
        register(data);
    }
    let shown = ok(maina(data, &["resident", "show", &code]));
    let status = ok(maina(data, &["keys", "status"]));
    let sealed = key_count(&status, 1).unwrap();
    assert!(sealed >= 5, "{status}");

    // Stopped half-way, as a kill would.
    let stopped = ok(maina(
        data,
        &[
            "keys",
            "rotate",
            "--batch",
            "1",
            "--stop-after-batches",
            "2",
            "--quiet",
        ],
    ));
    assert!(stopped.contains("stopped after 2 batches"), "{stopped}");
    let status = ok(maina(data, &["keys", "status"]));
    assert!(status.contains("rotation is under way"), "{status}");
    assert_eq!(key_count(&status, 2), Some(2), "{status}");
    assert_eq!(key_count(&status, 1), Some(sealed - 2), "{status}");
    // Meanwhile everything still opens: the old key is still in the key file.
    assert_eq!(ok(maina(data, &["resident", "show", &code])), shown);

    let finished = ok(maina(data, &["keys", "rotate", "--quiet"]));
    assert!(
        finished.contains("resuming the rotation to data key 2"),
        "{finished}"
    );
    assert!(finished.contains("retired data key 1"), "{finished}");
    let status = ok(maina(data, &["keys", "status"]));
    assert_eq!(key_count(&status, 1), None, "{status}");
    assert_eq!(key_count(&status, 2), Some(sealed), "{status}");
    assert!(!status.contains("under way"), "{status}");
    let key_file = std::fs::read_to_string(data.join("keys/master.key")).unwrap();
    assert!(key_file.contains("\ndata 2 ") && !key_file.contains("\ndata 1 "));
    assert_eq!(mode(&data.join("keys/master.key")), 0o600);
    // Residents still readable, numbers unchanged, the trail intact.
    assert_eq!(ok(maina(data, &["resident", "show", &code])), shown);
    ok(maina(data, &["audit", "verify"]));
    // And again: a second rotation starts from key 2.
    let again = ok(maina(data, &["keys", "rotate", "--quiet"]));
    assert!(again.contains("retired data key 2"), "{again}");
}

/// The chain's last event, read from the database: (seq, hash).
fn last_event(conn: &rusqlite::Connection) -> (i64, Vec<u8>) {
    conn.query_row(
        "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .unwrap()
}

#[test]
fn an_audit_chain_cut_at_its_end_is_caught_by_the_signed_checkpoints() {
    let dir = initialised();
    let data = dir.path();
    let code = register(data);
    for _ in 0..3 {
        ok(maina(data, &["resident", "show", &code]));
    }
    let checkpoint = ok(maina(data, &["audit", "checkpoint"]));
    assert!(checkpoint.contains("checkpoint of event"), "{checkpoint}");
    let checkpoints = data.join("audit-checkpoints");
    let with_checkpoints = [
        "audit",
        "verify",
        "--checkpoints",
        checkpoints.to_str().unwrap(),
    ];
    let verified = ok(maina(data, &with_checkpoints));
    assert!(
        verified.contains("matches all 1 signed checkpoints"),
        "{verified}"
    );

    // Cut the last three events and rewind the head to the last survivor.
    let db = data.join("maina.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let (last, _) = last_event(&conn);
        conn.execute("DELETE FROM audit_events WHERE seq > ?1", [last - 3])
            .unwrap();
        let (seq, hash) = last_event(&conn);
        conn.execute(
            "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
            rusqlite::params![seq, hash],
        )
        .unwrap();
    }
    // The chain alone cannot tell...
    ok(maina(data, &["audit", "verify"]));
    // ...the checkpoint can.
    let error = fails(maina(data, &with_checkpoints));
    assert!(
        error.contains("checkpoint 1 of") && error.contains("removed at its end"),
        "{error}"
    );

    // Everything deleted: the same.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DELETE FROM audit_events; DELETE FROM audit_head;")
            .unwrap();
    }
    assert!(ok(maina(data, &["audit", "verify"])).contains("0 events"));
    let error = fails(maina(data, &with_checkpoints));
    assert!(error.contains("checkpoint 1 of"), "{error}");

    // A checkpoint edited to match the cut chain no longer verifies.
    let log = checkpoints.join("checkpoints.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    words[1] = "0";
    std::fs::write(&log, words.join(" ") + "\n").unwrap();
    let error = fails(maina(data, &with_checkpoints));
    assert!(error.contains("signature does not verify"), "{error}");
}

#[test]
fn serve_writes_signed_checkpoints_at_start_and_at_shutdown() {
    let dir = initialised();
    let data = dir.path();
    with_server(data, |_| {
        std::thread::sleep(Duration::from_millis(500));
    });
    let log = data.join("audit-checkpoints/checkpoints.log");
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(lines >= 2, "{lines} checkpoints");
    let checkpoints = data.join("audit-checkpoints");
    ok(maina(
        data,
        &[
            "audit",
            "verify",
            "--checkpoints",
            checkpoints.to_str().unwrap(),
        ],
    ));
}
