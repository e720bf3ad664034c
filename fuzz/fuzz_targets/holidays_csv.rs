//! Holiday files loaded by operators: any bytes give either a calendar or a
//! list of line-numbered errors, never a panic.
#![no_main]
use lapor_domain::calendar::Calendar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    match Calendar::parse_csv(data) {
        Ok(days) => {
            let cal = Calendar::new(days);
            if let Some(d) = chrono::NaiveDate::from_ymd_opt(2026, 3, 20) {
                let _ = cal.add_working_days(d, 20);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| e.line >= 1));
        }
    }
});
