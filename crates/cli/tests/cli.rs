//! End-to-end tests: they run the real `maina` binary.
// Tests may panic: a failed assertion is how they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const MAINA: &str = env!("CARGO_BIN_EXE_maina");

#[path = "cli/security.rs"]
mod security;

#[path = "cli/appointments.rs"]
mod appointments;

#[path = "cli/suspension.rs"]
mod suspension;

fn maina(data: &Path, args: &[&str]) -> Output {
    Command::new(MAINA)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("MAINA_DATABASE_URL")
        .output()
        .unwrap()
}

/// `maina` with `input` on its standard input (a My Number is never an argument).
fn maina_in(data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(MAINA)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("MAINA_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{input}").unwrap();
    child.wait_with_output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "maina failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fails(output: Output) -> String {
    assert!(
        !output.status.success(),
        "maina should have failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
}

fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(label)).unwrap()[label.len()..].trim()
}

/// A temporary directory that, when it goes, also takes the card roots' directory
/// `maina init` puts beside a data directory (`DIR-pki-root`, outside it by design).
struct TestDir(tempfile::TempDir);

impl TestDir {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let mut roots = self.0.path().as_os_str().to_owned();
        roots.push("-pki-root");
        let _ = std::fs::remove_dir_all(roots);
    }
}

fn initialised() -> TestDir {
    let dir = TestDir::new();
    ok(maina(dir.path(), &["init"]));
    ok(maina(
        dir.path(),
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
    ok(maina(
        dir.path(),
        &[
            "municipality",
            "add",
            "011002",
            "--name-ja",
            "札幌市",
            "--name-en",
            "Sapporo",
        ],
    ));
    dir
}

const YAMADA: [&str; 16] = [
    "resident",
    "register",
    "--municipality",
    "131016",
    "--family-name",
    "山田",
    "--given-name",
    "太郎",
    "--family-kana",
    "ヤマダ",
    "--given-kana",
    "タロウ",
    "--birth-date",
    "1985-06-15",
    "--sex",
    "male",
];

#[test]
fn register_show_change_and_history() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let out = ok(maina(data, &args));
    let code = field(&out, "resident record code").replace(' ', "");
    let masked = field(&out, "My Number").to_string();
    assert!(masked.starts_with("**** **** "), "{masked}");

    let shown = ok(maina(data, &["resident", "show", &code]));
    assert!(shown.contains("山田 太郎 (ヤマダ タロウ)"));
    assert_eq!(field(&shown, "My Number"), masked);

    let revealed = ok(maina(
        data,
        &[
            "--actor",
            "officer-7",
            "--purpose",
            "identity check at the counter",
            "resident",
            "show",
            &code,
            "--reveal-number",
        ],
    ));
    let number = field(&revealed, "My Number").replace(' ', "");
    assert_eq!(number.len(), 12);
    assert!(ok(maina_in(data, &["number", "check", "-"], &number)).contains("issued and in use"));
    // The same record is found by its number, typed on standard input.
    assert!(ok(maina_in(data, &["resident", "show", "-"], &number)).contains(&code[..4]));

    ok(maina(
        data,
        &[
            "resident",
            "address",
            &code,
            "--address",
            "東京都千代田区二番町2",
        ],
    ));
    ok(maina(
        data,
        &[
            "resident",
            "move",
            &code,
            "--municipality",
            "011002",
            "--address",
            "札幌市中央区北1条西2丁目",
        ],
    ));
    ok(maina(
        data,
        &[
            "resident",
            "rename",
            &code,
            "--family-name",
            "佐藤",
            "--family-kana",
            "サトウ",
        ],
    ));
    let shown = ok(maina(data, &["resident", "show", &code]));
    assert!(shown.contains("佐藤 太郎"));
    assert_eq!(field(&shown, "municipality"), "011002");
    let history = ok(maina(data, &["resident", "history", &code]));
    let kinds: Vec<&str> = history
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(kinds, ["registered", "address-changed", "moved", "renamed"]);

    ok(maina(data, &["resident", "depart", &code]));
    let err = fails(maina(
        data,
        &["resident", "address", &code, "--address", "どこか"],
    ));
    assert!(
        err.contains("departed: address-changed is not possible"),
        "{err}"
    );

    // Returning with the earlier code takes the same number back.
    let mut back = YAMADA.to_vec();
    back[5] = "佐藤";
    back[9] = "サトウ";
    back.extend([
        "--address",
        "東京都千代田区三番町3",
        "--prior-resident-code",
        &code,
        "--reveal-number",
        "--purpose",
        "tell the returning resident the number",
    ]);
    let out = ok(maina(data, &back));
    assert!(out.contains("returning resident"));
    assert_eq!(field(&out, "My Number").replace(' ', ""), number);

    // Number change: the old number is retired, the new one works.
    let out = ok(maina(
        data,
        &[
            "number",
            "change",
            &code,
            "--reason",
            "leaked by a former employer",
        ],
    ));
    let new_number = field(&out, "new").replace(' ', "");
    assert_ne!(new_number, number);
    assert!(ok(maina_in(data, &["number", "check", "-"], &number)).contains("retired"));
    assert!(
        ok(maina_in(data, &["number", "check", "-"], &new_number)).contains("issued and in use")
    );
}

#[test]
fn bad_input_names_the_field_and_changes_nothing() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    args[3] = "131017";
    let err = fails(maina(data, &args));
    assert!(
        err.contains(
            "municipality: local government code has a wrong check digit: expected 6, found 7"
        ),
        "{err}"
    );

    let err = fails(maina(
        data,
        &[
            "resident",
            "register",
            "--municipality",
            "131016",
            "--alphabet-name",
            "DOE JANE",
            "--nationality",
            "US",
            "--passport",
            "X123",
            "--residence-status",
            "temporary-visitor",
            "--period-of-stay",
            "90d",
            "--birth-date",
            "1990-01-01",
            "--sex",
            "female",
            "--address",
            "東京都千代田区",
        ],
    ));
    assert!(
        err.contains("residence_status: temporary visitors"),
        "{err}"
    );
    let err = fails(maina(
        data,
        &[
            "resident",
            "register",
            "--municipality",
            "131016",
            "--alphabet-name",
            "DOE JANE",
            "--nationality",
            "US",
            "--passport",
            "X123",
            "--residence-status",
            "student",
            "--period-of-stay",
            "3m",
            "--birth-date",
            "1990-01-01",
            "--sex",
            "female",
            "--address",
            "東京都千代田区",
        ],
    ));
    assert!(
        err.contains("period_of_stay: a stay of 3m is not more than 3 months"),
        "{err}"
    );

    let err = fails(maina_in(data, &["number", "check", "-"], "6214-9832-025x"));
    assert!(err.contains("'x' at position 14"), "{err}");
    let err = fails(maina(data, &["resident", "show", "1234"]));
    assert!(err.contains("must have 11 digits, found 4"), "{err}");
    // Nothing was registered by any of that.
    let listing = ok(maina(data, &["resident", "import", "--help"]));
    assert!(listing.contains("CSV"));
    let other = TestDir::new();
    let err = fails(maina(other.path(), &["resident", "show", "24727059608"]));
    assert!(err.contains("run `maina init`"), "{err}");
    let err = fails(maina(data, &["init"]));
    assert!(err.contains("already exists"), "{err}");
}

const HEADER: &str = "municipality,reason,family_name,given_name,family_kana,given_kana,alphabet_name,nationality,passport,residence_status,period_of_stay,birth_date,sex,address\n";

fn csv_row(i: usize) -> String {
    match i % 50 {
        7 => format!("131016,move-in-from-abroad,,,,,NGUYEN VAN AN,VN,P{i:07},student,2y,1999-01-01,male,東京都千代田区{i}\n"),
        13 => format!("131016,move-in-from-abroad,山田,{i},ヤマダ,タロウ,,,,,,1980-02-30,male,東京都千代田区{i}\n"),
        29 => format!("131017,move-in-from-abroad,山田,太郎,ヤマダ,タロウ,,,,,,1980-02-03,male,東京都千代田区{i}\n"),
        47 => "131016,move-in-from-abroad,山田,太郎,ヤマダ\n".to_string(),
        41 => format!("131016,move-in-from-abroad,,,,,DOE JANE,US,X{i:07},temporary-visitor,90d,1990-01-01,female,東京都千代田区{i}\n"),
        _ => format!("131016,move-in-from-abroad,山田,太郎,ヤマダ,タロウ,,,,,,1980-02-03,male,東京都千代田区{i}\n"),
    }
}

/// The number of residents in the registry's database.
fn resident_count(data: &Path) -> u64 {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("maina.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row("SELECT COUNT(*) FROM residents", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn import_reports_rejections_and_resumes_after_a_kill() {
    let dir = initialised();
    let data = dir.path();
    let rows = 40_000;
    let file = data.join("residents.csv");
    let mut text = String::from(HEADER);
    for i in 0..rows {
        text.push_str(&csv_row(i));
    }
    std::fs::write(&file, text).unwrap();
    let bad_per_50 = 4;
    let expected_rejected = rows / 50 * bad_per_50;
    let expected_accepted = rows - expected_rejected;

    // Start the import and kill it part-way through.
    let mut child = Command::new(MAINA)
        .arg("--data")
        .arg(data)
        .args(["resident", "import", "--quiet", "--batch", "500"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it as soon as its first batch has committed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed_line(data) == 0 && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the import made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed_early = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();

    let out = ok(maina(
        data,
        &["resident", "import", "--quiet"]
            .into_iter()
            .chain([file.to_str().unwrap()])
            .collect::<Vec<_>>(),
    ));
    assert!(
        killed_early,
        "the import finished before it could be killed: make the file larger"
    );
    assert!(out.contains("resuming"), "{out}");
    assert!(
        out.contains(&format!(
            "{expected_accepted} accepted, {expected_rejected} rejected"
        )),
        "{out}"
    );
    assert_eq!(resident_count(data), expected_accepted as u64);

    let report = std::fs::read_to_string(format!("{}.rejects.csv", file.display())).unwrap();
    assert_eq!(report.lines().count(), expected_rejected + 1);
    assert!(
        report.contains("15,birth_date,"),
        "{}",
        &report[..300.min(report.len())]
    );
    assert!(report.contains("31,municipality,"));
    assert!(report.contains("43,residence_status,"));
    assert!(
        report.contains("49,row,"),
        "a short row is rejected, not registered"
    );

    // Running it again changes nothing.
    let again = ok(maina(
        data,
        &["resident", "import", "--quiet", file.to_str().unwrap()],
    ));
    assert!(again.contains("imported before"), "{again}");
    assert_eq!(resident_count(data), expected_accepted as u64);

    // A file with an unknown column is refused before any row goes in.
    let bad = data.join("bad.csv");
    std::fs::write(&bad, "municipality,surname\n131016,x\n").unwrap();
    let err = fails(maina(data, &["resident", "import", bad.to_str().unwrap()]));
    assert!(err.contains("unknown field `surname`"), "{err}");
}

/// The import checkpoint committed so far (0 before the first batch).
fn committed_line(data: &Path) -> i64 {
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        data.join("maina.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return 0;
    };
    conn.query_row("SELECT next_line FROM imports", [], |row| row.get(0))
        .unwrap_or(0)
}

/// Runs `maina serve` on a free port for the duration of `f`.
fn with_server<T>(data: &Path, f: impl FnOnce(&str) -> T) -> T {
    with_server_log(data, None, f).0
}

/// Runs `maina serve` (with the log filter `log`, if given) on a free port for the
/// duration of `f`; returns what `f` returned and the server's log.
fn with_server_log<T>(data: &Path, log: Option<&str>, f: impl FnOnce(&str) -> T) -> (T, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = Command::new(MAINA);
    command
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", &addr]);
    if let Some(filter) = log {
        command.env("MAINA_LOG", filter);
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = f(&addr);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "server did not shut down cleanly: {:?}",
        output.status
    );
    (result, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn demo_and_serve() {
    let dir = TestDir::new();
    let data = dir.path().join("demo");
    let out = ok(maina(&data, &["demo", "--no-serve", "--residents", "300"]));
    assert!(out.contains("registered 300 residents"), "{out}");
    let (health, ready, index) = with_server(&data, |addr| {
        (
            http_get(addr, "/healthz"),
            http_get(addr, "/readyz"),
            http_get(addr, "/"),
        )
    });
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );
    assert!(ready.contains("\"status\":\"ready\""), "{ready}");
    // The front page links the public services and counts nobody.
    assert!(
        index.contains("href=\"/status\"") && !index.contains("300"),
        "{index}"
    );
}

#[test]
fn officers_and_the_audit_trail() {
    let dir = initialised();
    let data = dir.path();
    let add = |name: &str, role: &str, municipality: &str, password: &str| {
        let mut child = Command::new(MAINA)
            .arg("--data")
            .arg(data)
            .args([
                "officer",
                "add",
                name,
                "--role",
                role,
                "--municipality",
                municipality,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    ok(add("sato", "registrar", "131016", "correct horse battery"));
    let err = fails(add("sato", "counter", "131016", "correct horse battery"));
    assert!(err.contains("username: is already taken"), "{err}");
    let err = fails(add("kato", "root", "131016", "correct horse battery"));
    assert!(err.contains("role:"), "{err}");
    let err = fails(add("kato", "counter", "131016", "short"));
    assert!(
        err.contains("password: must be at least 12 characters"),
        "{err}"
    );
    let err = fails(add("kato", "counter", "131130", "correct horse battery"));
    assert!(
        err.contains("municipality: 131130 is not a municipality of this registry"),
        "{err}"
    );
    ok(maina(data, &["officer", "disable", "sato"]));
    let list = ok(maina(data, &["officer", "list"]));
    assert!(list.contains("sato") && list.contains("disabled"), "{list}");

    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let out = ok(maina(data, &args));
    let code = field(&out, "resident record code").replace(' ', "");
    ok(maina(
        data,
        &[
            "--actor",
            "tanaka",
            "--purpose",
            "counter inquiry",
            "resident",
            "show",
            &code,
        ],
    ));
    let trail = ok(maina(data, &["audit", "show", "--resident", &code]));
    assert!(
        trail.contains("register") && trail.contains("tanaka") && trail.contains("counter inquiry"),
        "{trail}"
    );
    let verified = ok(maina(data, &["audit", "verify"]));
    assert!(verified.contains("audit trail intact"), "{verified}");

    // Edit one event behind maina's back: verify fails and says which.
    let conn = rusqlite::Connection::open(data.join("maina.sqlite3")).unwrap();
    conn.execute(
        "UPDATE audit_events SET officer = 'nobody' WHERE seq = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let err = fails(maina(data, &["audit", "verify"]));
    assert!(err.contains("event 2 was altered"), "{err}");
}

/// Runs a program; returns whether it succeeded and everything it printed.
fn run(program: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run ({e}): scripts/test.sh installs pcscd, opensc and vsmartcard-vpcd"));
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// pcscd, started when it is not running (it has no service manager here).
fn ensure_pcscd() {
    let running = Command::new("pgrep")
        .args(["-x", "pcscd"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !running {
        let (ok, text) = run("pcscd", &[]);
        assert!(ok, "pcscd did not start: {text}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

struct Attached(std::process::Child);

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const P11: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";

fn tries(list_pins: &str) -> Vec<u32> {
    list_pins
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Tries left"))
        .map(|l| l.trim_start_matches([' ', ':']).trim().parse().unwrap())
        .collect()
}

#[test]
fn a_card_in_a_pcsc_reader_works_with_opensc_openssl_and_maina() {
    ensure_pcscd();
    let dir = initialised();
    let data = dir.path();
    let work = TestDir::new();
    let file = |name: &str| work.path().join(name).to_string_lossy().into_owned();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");

    // PINs are checked against their rules before anything is made.
    let pins = [
        "--auth-pin",
        "1234",
        "--sign-pin",
        "abc123",
        "--residence-pin",
        "5678",
        "--support-pin",
        "9012",
    ];
    let mut bad = vec!["card", "create", "--resident", &code];
    bad.extend([
        "--auth-pin",
        "12a4",
        "--sign-pin",
        "abc123",
        "--residence-pin",
        "5678",
        "--support-pin",
        "9012",
    ]);
    assert!(fails(maina(data, &bad)).contains("auth PIN must be exactly 4 digits"));
    let mut bad = vec!["card", "create", "--resident", &code];
    bad.extend([
        "--auth-pin",
        "1234",
        "--sign-pin",
        "abcdef",
        "--residence-pin",
        "5678",
        "--support-pin",
        "9012",
    ]);
    assert!(fails(maina(data, &bad)).contains("at least one letter and one digit"));
    assert!(ok(maina(data, &["card", "list"])).lines().count() == 1);

    let mut create = vec!["card", "create", "--resident", &code];
    create.extend(pins);
    let card_id = ok(maina(data, &create)).trim().to_string();
    assert_eq!(card_id.len(), 16);
    let shown = ok(maina(data, &["card", "show", &card_id]));
    let auth_serial = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate auth "))
        .unwrap()[..32]
        .to_string();
    assert!(shown.contains("auth       3/3"), "{shown}");

    let attach = Command::new(MAINA)
        .arg("--data")
        .arg(data)
        .args(["card", "attach", &card_id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _attached = Attached(attach);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (ok, text) = run("opensc-tool", &["-n"]);
        if ok && text.contains("jpki") {
            break;
        }
        assert!(Instant::now() < deadline, "the card never appeared: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // OpenSC's jpki driver reads what maina-pki issued.
    let (ok_, certs) = run("pkcs15-tool", &["--list-certificates"]);
    assert!(ok_, "{certs}");
    assert!(certs.contains(&auth_serial), "{certs}");
    assert!(
        certs.contains("Digital Signature Certificate CA"),
        "{certs}"
    );
    let (_, pins_text) = run("pkcs15-tool", &["--list-pins"]);
    assert_eq!(tries(&pins_text), vec![3, 5], "{pins_text}");
    // The signature certificate stays unreadable without its PIN.
    let (read_ok, _) = run("pkcs15-tool", &["--read-certificate", "02"]);
    assert!(!read_ok);
    let (_, raw) = run(
        "opensc-tool",
        &[
            "-s",
            "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
            "-s",
            "00 A4 02 0C 02 00 01",
            "-s",
            "00 B0 00 00 04",
        ],
    );
    assert!(
        raw.contains("00 B0 00 00 04 \nReceived (SW1=0x69, SW2=0x82)"),
        "{raw}"
    );

    // PKCS#11 signatures, checked by openssl and by maina.
    std::fs::write(file("doc.txt"), "a tax return\n").unwrap();
    let (ok_, text) = run(
        "pkcs11-tool",
        &[
            "--module",
            P11,
            "--login",
            "--pin",
            "1234",
            "--sign",
            "-m",
            "SHA256-RSA-PKCS",
            "--id",
            "01",
            "-i",
            &file("doc.txt"),
            "-o",
            &file("auth.sig"),
        ],
    );
    assert!(ok_, "{text}");
    let (_, cert) = run("pkcs15-tool", &["--read-certificate", "01"]);
    std::fs::write(file("auth.pem"), cert).unwrap();
    let (_, key) = run(
        "openssl",
        &["x509", "-in", &file("auth.pem"), "-pubkey", "-noout"],
    );
    std::fs::write(file("auth.pub"), key).unwrap();
    let (ok_, text) = run(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            &file("auth.pub"),
            "-signature",
            &file("auth.sig"),
            &file("doc.txt"),
        ],
    );
    assert!(ok_ && text.contains("Verified OK"), "{text}");
    let (ok_, text) = run(
        "pkcs11-tool",
        &[
            "--module",
            P11,
            "--slot-index",
            "1",
            "--login",
            "--pin",
            "ABC123",
            "--sign",
            "-m",
            "SHA256-RSA-PKCS",
            "--id",
            "02",
            "-i",
            &file("doc.txt"),
            "-o",
            &file("p11sign.sig"),
        ],
    );
    assert!(ok_, "{text}");

    // maina's own client, through PC/SC like any other program.
    let read = ok(maina(data, &["card", "read"]));
    assert!(
        read.contains("token: JPKIAPICCTOKEN2")
            && read.contains("authentication PIN: 3 tries left"),
        "{read}"
    );
    ok(maina(
        data,
        &["card", "sign", &file("doc.txt"), "--pin", "abc123", "--pem"],
    ));
    let verified = ok(maina(data, &["verify", &file("doc.txt")]));
    assert!(
        verified.contains("signature valid") && verified.contains("山田 太郎"),
        "{verified}"
    );
    std::fs::write(file("doc.txt"), "a tax return, edited\n").unwrap();
    assert!(fails(maina(
        data,
        &[
            "verify",
            &file("doc.txt"),
            "--signature",
            &file("doc.txt.sig")
        ]
    ))
    .contains("does not verify"));
    std::fs::write(file("doc.txt"), "a tax return\n").unwrap();
    // The PKCS#11 signature verifies under the signature certificate too.
    let (_, sign_pem) = run("openssl", &["x509", "-in", &file("doc.txt.sig")]);
    std::fs::write(file("sign.pem"), &sign_pem).unwrap();
    let (_, key) = run(
        "openssl",
        &["x509", "-in", &file("sign.pem"), "-pubkey", "-noout"],
    );
    std::fs::write(file("sign.pub"), key).unwrap();
    let (ok_, text) = run(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            &file("sign.pub"),
            "-signature",
            &file("p11sign.sig"),
            &file("doc.txt"),
        ],
    );
    assert!(ok_, "{text}");
    // ...and under maina-pki: the PKCS#11 signature wrapped as a maina signature file.
    let (_, b64) = run("openssl", &["base64", "-in", &file("p11sign.sig")]);
    std::fs::write(
        file("p11.maina.sig"),
        format!("-----BEGIN MAINA SIGNATURE-----\n{b64}-----END MAINA SIGNATURE-----\n{sign_pem}"),
    )
    .unwrap();
    assert!(ok(maina(
        data,
        &[
            "verify",
            &file("doc.txt"),
            "--signature",
            &file("p11.maina.sig")
        ]
    ))
    .contains("signature valid"));
    assert!(ok(maina(data, &["card", "auth", "--pin", "1234"])).contains("authenticated"));
    // CMS and PAdES signatures made by the chip, checked by openssl, pdfsig and maina.
    esign::card_signatures_verify_with_openssl_pdfsig_and_maina(data, work.path());

    // The chain (root, issuing CA), the CRL and the OCSP responder, checked by
    // openssl.
    ok(maina(
        data,
        &[
            "pki",
            "ca-cert",
            "--ca",
            "sign",
            "--out",
            &file("sign-ca.pem"),
        ],
    ));
    ok(maina(
        data,
        &[
            "pki",
            "root-cert",
            "--ca",
            "sign",
            "--out",
            &file("sign-root.pem"),
        ],
    ));
    ok(maina(
        data,
        &["pki", "crl", "--ca", "sign", "--out", &file("sign.crl")],
    ));
    let (ok_, text) = run(
        "openssl",
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            &file("sign-root.pem"),
            "-untrusted",
            &file("sign-ca.pem"),
            "-CRLfile",
            &file("sign.crl"),
            &file("sign.pem"),
        ],
    );
    assert!(ok_, "{text}");
    let ocsp = |addr: &str| {
        run(
            "openssl",
            &[
                "ocsp",
                "-url",
                &format!("http://{addr}/ocsp"),
                "-issuer",
                &file("sign-ca.pem"),
                "-CAfile",
                &file("sign-root.pem"),
                "-cert",
                &file("sign.pem"),
            ],
        )
        .1
    };
    let answer = with_server(data, |addr| ocsp(addr));
    assert!(
        answer.contains("Response verify OK") && answer.contains(": good"),
        "{answer}"
    );

    // Wrong PINs count down, persist, and lock.
    for left in [2, 1, 0] {
        let (ok_, _) = run(
            "pkcs11-tool",
            &[
                "--module",
                P11,
                "--login",
                "--pin",
                "0000",
                "--sign",
                "-m",
                "SHA256-RSA-PKCS",
                "--id",
                "01",
                "-i",
                &file("doc.txt"),
                "-o",
                &file("x.sig"),
            ],
        );
        assert!(!ok_);
        let (_, pins_text) = run("pkcs15-tool", &["--list-pins"]);
        assert_eq!(tries(&pins_text)[0], left, "{pins_text}");
    }
    let (ok_, _) = run(
        "pkcs11-tool",
        &[
            "--module",
            P11,
            "--login",
            "--pin",
            "1234",
            "--sign",
            "-m",
            "SHA256-RSA-PKCS",
            "--id",
            "01",
            "-i",
            &file("doc.txt"),
            "-o",
            &file("x.sig"),
        ],
    );
    assert!(!ok_, "a blocked PIN must not sign");
    assert!(fails(maina(data, &["card", "auth", "--pin", "1234"])).contains("blocked"));
    assert!(
        ok(maina(data, &["card", "show", &card_id])).contains("auth       0/3 tries left  BLOCKED")
    );

    // Revocation reaches the CRL, OCSP and maina verify.
    assert!(ok(maina(
        data,
        &["card", "revoke", &card_id, "--reason", "lost-card"]
    ))
    .contains("2 certificate(s)"));
    ok(maina(
        data,
        &["pki", "crl", "--ca", "sign", "--out", &file("sign.crl")],
    ));
    let (ok_, text) = run(
        "openssl",
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            &file("sign-root.pem"),
            "-untrusted",
            &file("sign-ca.pem"),
            "-CRLfile",
            &file("sign.crl"),
            &file("sign.pem"),
        ],
    );
    assert!(!ok_ && text.contains("certificate revoked"), "{text}");
    let answer = with_server(data, |addr| ocsp(addr));
    assert!(
        answer.contains("Response verify OK")
            && answer.contains(": revoked")
            && answer.contains("keyCompromise"),
        "{answer}"
    );
    assert!(fails(maina(data, &["verify", &file("doc.txt")])).contains("revoked"));
    assert!(fails(maina(
        data,
        &["card", "revoke", &card_id, "--reason", "stolen"]
    ))
    .contains("reason: expected one of"));
    // An abolished card stays abolished; its history says who did what, and why.
    assert!(fails(maina(
        data,
        &["card", "revoke", &card_id, "--reason", "death"]
    ))
    .contains("the card is revoked: it cannot abolish"));
    let history = ok(maina(data, &["card", "history", &card_id]));
    assert!(history.contains("Abolished [abolished]"), "{history}");
    assert!(history.contains("— lost-card"), "{history}");
    assert!(
        history.contains("auth") && history.contains("revoked"),
        "{history}"
    );
    let ja = ok(maina(data, &["card", "history", &card_id, "--lang", "ja"]));
    assert!(ja.contains("廃止"), "{ja}");
    // The holder's audit trail shows the card's life.
    let audit = ok(maina(data, &["audit", "show", "--resident", &code]));
    assert!(
        audit.contains("card.create") && audit.contains("card.revoke:lost-card"),
        "{audit}"
    );
}

/// Every key file under `dir` whose certificate (next to it) is self-signed: a
/// root's key.
fn root_keys_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".key.pem") else {
                continue;
            };
            let certificate = path.with_file_name(format!("{stem}.pem"));
            let (_, subject) = run(
                "openssl",
                &[
                    "x509",
                    "-in",
                    certificate.to_str().unwrap(),
                    "-noout",
                    "-subject",
                ],
            );
            let (_, issuer) = run(
                "openssl",
                &[
                    "x509",
                    "-in",
                    certificate.to_str().unwrap(),
                    "-noout",
                    "-issuer",
                ],
            );
            if subject.trim_start_matches("subject=") == issuer.trim_start_matches("issuer=") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_root_ca_keys_stay_out_of_the_data_directory() {
    let dir = TestDir::new();
    let data = dir.path().join("data");
    ok(maina(&data, &["init"]));
    assert_eq!(root_keys_under(&data), Vec::<std::path::PathBuf>::new());
    // By default the roots go next to the data directory, to be carried offline.
    let roots = dir.path().join("data-pki-root");
    assert_eq!(root_keys_under(&roots).len(), 2);
    // Nothing the server loads needs them.
    let offline = dir.path().join("offline");
    std::fs::rename(&roots, &offline).unwrap();
    let status = ok(maina(&data, &["pki", "status"]));
    assert!(
        status.contains("auth: root until") && status.contains("sign: root until"),
        "{status}"
    );
    // Renewals: the issuing CA from the offline root, the responder online.
    let renewed = ok(maina(
        &data,
        &[
            "pki",
            "renew-ca",
            "--ca",
            "auth",
            "--root-dir",
            offline.to_str().unwrap(),
        ],
    ));
    assert!(renewed.contains("same key"), "{renewed}");
    assert!(fails(maina(
        &data,
        &[
            "pki",
            "renew-ca",
            "--ca",
            "auth",
            "--root-dir",
            data.to_str().unwrap()
        ]
    ))
    .contains("no root keys"));
    ok(maina(&data, &["pki", "renew-responder", "--ca", "sign"]));
    ok(maina(
        &data,
        &[
            "pki",
            "crl",
            "--ca",
            "auth",
            "--out",
            dir.path().join("auth.crl").to_str().unwrap(),
        ],
    ));

    // `maina demo` too (the roots' directory named by the environment).
    let demo = dir.path().join("demo");
    let demo_roots = dir.path().join("demo-roots");
    let output = Command::new(MAINA)
        .arg("--data")
        .arg(&demo)
        .args(["demo", "--no-serve", "--residents", "3"])
        .env("MAINA_PKI_ROOT_DIR", &demo_roots)
        .env_remove("MAINA_DATABASE_URL")
        .output()
        .unwrap();
    ok(output);
    assert_eq!(root_keys_under(&demo), Vec::<std::path::PathBuf>::new());
    assert_eq!(root_keys_under(&demo_roots).len(), 2);
}

#[test]
fn notices_are_printed_once_read_back_and_tracked() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");
    let out = TestDir::new();
    let out_dir = out.path().to_str().unwrap();
    let printed = ok(maina(
        data,
        &[
            "notice",
            "print",
            "--out",
            out_dir,
            "--base-url",
            "https://maina.example.jp",
        ],
    ));
    assert!(printed.contains("printed 1 notices"), "{printed}");
    // Printed once: a second run has nothing to do.
    assert!(ok(maina(data, &["notice", "print", "--out", out_dir])).contains("printed 0 notices"));
    let pdf = out.path().join(format!("{code}.pdf"));
    let (ok_, text) = run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    assert!(
        ok_ && text.contains("山田 太郎") && text.contains("個人番号通知書"),
        "{text}"
    );
    let shown = ok(maina(data, &["notice", "show", &code]));
    let form: String = shown
        .trim_start_matches("form ID ")
        .split("  mail")
        .next()
        .unwrap()
        .replace(' ', "");
    assert_eq!(form.len(), 23, "{shown}");
    assert!(text.contains(&form[..6]), "the form ID is printed");
    let png = out.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let (ok_, decoded) = run(
        "zbarimg",
        &[
            "--quiet",
            "--raw",
            out.path().join("page.png").to_str().unwrap(),
        ],
    );
    assert!(ok_, "{decoded}");
    assert_eq!(
        decoded.lines().next().unwrap().trim(),
        format!("https://maina.example.jp/apply?form={form}")
    );
    // Registered mail: in the post's order only.
    assert!(fails(maina(
        data,
        &["notice", "track", &code, "--status", "delivered"]
    ))
    .contains("printed cannot become delivered"));
    for status in ["posted", "absent", "redelivery-requested", "delivered"] {
        ok(maina(data, &["notice", "track", &code, "--status", status]));
    }
    assert!(ok(maina(data, &["notice", "show", &code])).contains("mail delivered"));
    assert!(
        fails(maina(data, &["notice", "track", &code, "--status", "lost"]))
            .contains("status: expected")
    );
    let audit = ok(maina(data, &["audit", "show", "--resident", &code]));
    assert!(
        audit.contains("notice.print") && audit.contains("notice.mail:delivered"),
        "{audit}"
    );
}

#[path = "cli/keys_and_audit.rs"]
mod keys_and_audit;

#[path = "cli/counter.rs"]
mod counter;

#[path = "cli/chip.rs"]
mod chip;

#[path = "cli/pickup.rs"]
mod pickup;

#[path = "cli/renewal.rs"]
mod renewal;

#[path = "cli/card_moves.rs"]
mod card_moves;

#[path = "cli/esign.rs"]
mod esign;
