//! Small values that arrive in HTTP requests: Accept-Language and list
//! cursors. Never a panic; a decoded cursor encodes back to the same text.
#![no_main]
use lapor_domain::Lang;
use lapor_store::filter::Cursor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = Lang::from_accept_language(data);
    if let Ok(c) = Cursor::decode(data) {
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }
});
