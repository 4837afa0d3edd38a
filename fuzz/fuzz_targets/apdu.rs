//! The APDU parser: any bytes parse into a command whose parts account for every byte,
//! or are refused with 6700.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maina_card::{Command, StatusWord};

fuzz_target!(|data: &[u8]| {
    match Command::parse(data) {
        Ok(command) => {
            assert!(data.len() >= 4);
            assert!(command.data.len() <= data.len() - 4);
            if let Some(le) = command.le {
                assert!((1..=65536).contains(&le));
            }
        }
        Err(status) => assert_eq!(status, StatusWord::WRONG_LENGTH),
    }
});
