//! The security hardening's findings at the command line and in the real server's
//! logs: each test failed on the code before its fix (SECURITY.md names them).

use super::{fails, field, initialised, maina, maina_in, ok, with_server_log, YAMADA};
use std::io::{Read, Write};

#[test]
fn a_my_number_is_read_from_standard_input_never_from_argv() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");
    let revealed = ok(maina(
        data,
        &[
            "--purpose",
            "test of the reveal",
            "resident",
            "show",
            &code,
            "--reveal-number",
        ],
    ));
    let number = field(&revealed, "My Number").replace(' ', "");
    for command in [
        vec!["number", "check", number.as_str()],
        vec!["resident", "show", number.as_str()],
        vec!["resident", "history", number.as_str()],
        vec!["number", "change", number.as_str(), "--reason", "leak"],
    ] {
        let err = fails(maina(data, &command));
        assert!(
            err.contains("not taken as a command-line argument") && err.contains("`-`"),
            "{command:?}: {err}"
        );
        assert!(
            !err.contains(&number[4..]),
            "the refusal echoed the number: {err}"
        );
    }
    // Typed with separators it is still refused.
    let spaced = format!("{} {} {}", &number[..4], &number[4..8], &number[8..]);
    fails(maina(data, &["resident", "show", &spaced]));
    // From standard input it works.
    assert!(ok(maina_in(data, &["resident", "show", "-"], &number)).contains("山田"));
}

#[test]
fn a_reveal_at_the_command_line_needs_a_stated_purpose() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");
    let err = fails(maina(data, &["resident", "show", &code, "--reveal-number"]));
    assert!(err.contains("stated purpose"), "{err}");
    let trail = ok(maina(data, &["audit", "show", "--resident", &code]));
    assert!(!trail.contains("reveal-my-number"), "{trail}");
}

#[test]
fn logs_carry_the_route_template_not_the_identifier() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");
    let ((), log) = with_server_log(data, Some("debug"), |addr| {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /api/v1/residents/{code}/history HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    });
    assert!(
        log.contains("/api/v1/residents/{code}/history"),
        "no route template in the log: {log}"
    );
    assert!(!log.contains(&code), "the code is in the log: {log}");
}

#[test]
fn the_demo_officers_get_a_fresh_password() {
    let first = super::TestDir::new();
    let second = super::TestDir::new();
    let password = |dir: &std::path::Path| {
        let out = ok(maina(dir, &["demo", "--no-serve", "--residents", "3"]));
        let from = out.find("(password: ").unwrap() + "(password: ".len();
        out[from..].split(')').next().unwrap().to_string()
    };
    let (a, b) = (password(first.path()), password(second.path()));
    assert_ne!(a, b);
    assert!(a.len() >= 16, "{a}");
    assert_ne!(a, "demo password 2026");
}
