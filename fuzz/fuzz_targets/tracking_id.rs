//! Tracking IDs typed by people: parsing never panics, and what parses
//! prints back to something that parses to the same ID.
#![no_main]
use lapor_domain::ids::TrackingId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(id) = TrackingId::parse(data) {
        let again = TrackingId::parse(id.as_str()).expect("canonical form parses");
        assert_eq!(again, id);
        assert_eq!(id.as_str().len(), 9);
    }
});
