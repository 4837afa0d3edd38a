//! The signed-PDF reader: any bytes are a PDF whose signatures' byte ranges lie
//! inside the file, or are refused with a reason; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signatures) = maina_pki::pdf_signatures(data) {
        for signature in signatures {
            let [a, b, c, d] = signature.byte_range;
            assert!(a + b <= data.len() && c + d <= data.len());
        }
    }
});
