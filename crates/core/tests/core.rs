//! maina-core's integration suite: property tests of the identifiers, and the
//! oracle test against python-stdnum.
// Tests may panic: a failed assertion is how they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use maina_core::{ApplicationFormId, IdError, MunicipalityCode, MyNumber, ResidentCode};
use proptest::prelude::*;
use std::io::Write;
use std::process::Command;

proptest! {
    /// Any 11 digits make exactly one valid My Number, which prints and parses back.
    #[test]
    fn my_number_round_trip(serial in 0u64..100_000_000_000) {
        let number = MyNumber::from_serial(serial).unwrap();
        prop_assert_eq!(number.serial(), serial);
        prop_assert_eq!(number.to_string().parse::<MyNumber>().unwrap(), number);
        prop_assert_eq!(number.as_digits().parse::<MyNumber>().unwrap(), number);
        let full_width: String = number.as_digits().chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
        prop_assert_eq!(full_width.parse::<MyNumber>().unwrap(), number);
        prop_assert!(number.masked().starts_with("**** **** "));
        let debug = format!("{:?}", number);
        prop_assert!(!debug.contains(&number.as_digits()[..8]));
        // Every other check digit is refused, naming the expected one.
        let check = number.digits()[11];
        for wrong in (0..10u8).filter(|d| *d != check) {
            let text = format!("{}{}", &number.as_digits()[..11], wrong);
            prop_assert_eq!(text.parse::<MyNumber>(), Err(IdError::CheckDigit { what: "My Number", expected: check, found: wrong }));
        }
    }

    /// Parsing never panics and accepts only what it can explain.
    #[test]
    fn parsers_are_total(input in "\\PC{0,30}") {
        let _ = input.parse::<MyNumber>();
        let _ = input.parse::<ResidentCode>();
        let _ = input.parse::<MunicipalityCode>();
        let _ = input.parse::<ApplicationFormId>();
        let _ = input.parse::<maina_core::CorporateNumber>();
    }

    /// The form ID's Damm digit catches every single-digit error and every
    /// transposition of adjacent digits.
    #[test]
    fn form_id_detects_typos(random in 0u64..ApplicationFormId::RANDOM_SPACE, position in 0usize..23, delta in 1u8..10) {
        let id = ApplicationFormId::new("131016".parse().unwrap(), random).unwrap();
        let mut digits = *id.digits();
        digits[position] = (digits[position] + delta) % 10;
        let typo: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        prop_assert!(typo.parse::<ApplicationFormId>().is_err());
        if position < 22 && id.digits()[position] != id.digits()[position + 1] {
            let mut swapped = *id.digits();
            swapped.swap(position, position + 1);
            let swapped: String = swapped.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(swapped.parse::<ApplicationFormId>().is_err());
        }
    }

    #[test]
    fn resident_code_round_trip(serial in 0u64..10_000_000_000) {
        let code = ResidentCode::from_serial(serial).unwrap();
        prop_assert_eq!(code.to_string().parse::<ResidentCode>().unwrap(), code);
    }
}

/// The Python interpreter with python-stdnum: $MAINA_PYTHON, or the workspace's
/// .venv that `scripts/test.sh` creates.
fn oracle_python() -> String {
    if let Ok(python) = std::env::var("MAINA_PYTHON") {
        return python;
    }
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin/python");
    assert!(
        std::path::Path::new(venv).exists(),
        "python-stdnum oracle not found: run scripts/test.sh (it creates .venv with python-stdnum) or set MAINA_PYTHON"
    );
    venv.to_string()
}

/// Our My Number check digits and validity agree with python-stdnum's
/// `stdnum.jp.in_` on 100,000 random numbers (half valid, half random).
#[test]
fn my_number_agrees_with_python_stdnum() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d61696e61);
    let mut input = tempfile_path();
    let mut file = std::fs::File::create(&input).unwrap();
    let mut ours = Vec::with_capacity(100_000);
    for i in 0..100_000u32 {
        let payload: u64 = rng.gen_range(0..100_000_000_000);
        let candidate = if i % 2 == 0 {
            MyNumber::from_serial(payload).unwrap().as_digits()
        } else {
            format!("{payload:011}{}", rng.gen_range(0..10))
        };
        let valid = candidate.parse::<MyNumber>().is_ok();
        let check =
            MyNumber::check_digit_for(&std::array::from_fn(|k| candidate.as_bytes()[k] - b'0'));
        writeln!(file, "{candidate}").unwrap();
        ours.push(format!("{} {}", u8::from(valid), check));
    }
    drop(file);
    let script = "import sys\nfrom stdnum.jp import in_\nfor line in open(sys.argv[1]):\n    n = line.strip()\n    print(int(in_.is_valid(n)), in_.calc_check_digit(n[:11]))\n";
    let output = Command::new(oracle_python())
        .arg("-c")
        .arg(script)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python-stdnum failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(theirs.len(), ours.len());
    let valid_count = ours.iter().filter(|l| l.starts_with('1')).count();
    assert!(
        valid_count > 50_000,
        "the sample must hold valid and invalid numbers"
    );
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "disagreement on line {}", i + 1);
    }
    let _ = std::fs::remove_file(&input);
    input.clear();
}

fn tempfile_path() -> String {
    let dir = std::env::temp_dir();
    format!("{}/maina-oracle-{}.txt", dir.display(), std::process::id())
}
