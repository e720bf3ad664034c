//! Reference files loaded by operators (regions by level, postal codes,
//! institutions): any bytes give rows or line-numbered errors, never a
//! panic, and what parses keeps the shape the import relies on.
#![no_main]
use lapor_domain::institution::{InstitutionKind, valid_code};
use lapor_store::Region;
use lapor_store::reference_csv::{parse_institution, parse_postal_codes, parse_regions, rows};
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};

fuzz_target!(|data: &[u8]| {
    let postal = parse_postal_codes(data).unwrap_or_default();
    assert!(
        postal
            .values()
            .all(|p| p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()))
    );
    for level in 1..=4 {
        match parse_regions(data, level, &HashMap::new()) {
            Ok(regions) => {
                let mut seen = HashSet::new();
                for r in &regions {
                    assert_eq!(Region::level_of(&r.code), Some(level));
                    let parent = if level == 1 { None } else { Region::parent_of(&r.code) };
                    assert_eq!(r.parent_code, parent);
                    assert!(!r.name.is_empty() && r.name.trim() == r.name);
                    assert!(seen.insert(r.code.clone()), "duplicate {}", r.code);
                }
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                assert!(errors.iter().all(|e| e.starts_with("line ")));
            }
        }
    }
    match rows(data) {
        Ok(rows) => {
            for (line, rec) in rows {
                assert!(line >= 2);
                if let Ok(i) = parse_institution(&rec) {
                    assert!(valid_code(&i.code));
                    assert!(!i.name.is_empty() && i.name.chars().count() <= 300);
                    assert_eq!(i.parent.is_none(), i.kind == InstitutionKind::NationalOperator);
                }
            }
        }
        Err(e) => assert!(e.starts_with("line "), "{e}"),
    }
});
