//! The reference files operators load — Kemendagri regions by level, postal
//! codes, institutions — parsed from bytes without touching the database, so
//! the parsing can be fuzzed (`fuzz/fuzz_targets/reference_csv.rs`). The CLI
//! reads the files, adds what only the database knows (parents already
//! stored) and writes. Every error names its line, counting the header as
//! line 1.

use crate::types::Region;
use lapor_domain::calendar::Zone;
use lapor_domain::institution::{Institution, InstitutionKind, valid_code};
use std::collections::{HashMap, HashSet};

/// The rows of a CSV file with a header line, each with its line number.
pub fn rows(data: &[u8]) -> Result<Vec<(usize, csv::StringRecord)>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(data);
    let mut out = Vec::new();
    // Lines are counted from the bytes where each record starts: blank
    // lines are skipped and a quoted field may span lines, so counting
    // records would drift (and the reader's own line count includes the
    // blank lines before a record).
    let mut lines = LineCounter::new(data);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.at(p.byte() as usize));
            format!("line {line}: {e}")
        })?;
        let line = rec.position().map_or(0, |p| lines.at(p.byte() as usize));
        out.push((line, rec));
    }
    Ok(out)
}

/// Line numbers of byte offsets, for offsets seen in increasing order
/// (one pass over the file in all).
struct LineCounter<'a> {
    data: &'a [u8],
    byte: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineCounter { data, byte: 0, line: 1 }
    }

    /// The line of the first byte at or after `byte` that is not a line
    /// break (where the record's text starts).
    fn at(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.data.len());
        while start < self.data.len() && matches!(self.data[start], b'\n' | b'\r') {
            start += 1;
        }
        if start >= self.byte {
            // As the reader ends lines: LF, CR, or CR LF counted once.
            let span = &self.data[self.byte..start];
            self.line += span
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && span.get(i + 1) != Some(&b'\n')))
                .count();
            self.byte = start;
        }
        self.line
    }
}

/// `kode_desa,kodepos` rows: village code to five-digit postal code.
pub fn parse_postal_codes(data: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut postal = HashMap::new();
    for (line, rec) in rows(data)? {
        let code = rec.get(1).map(str::trim).unwrap_or("");
        if rec.len() != 2 || code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("line {line}: expected kode_desa,kodepos"));
        }
        postal.insert(rec[0].trim().to_string(), code.to_string());
    }
    Ok(postal)
}

/// One region level file (`code,parent_code,name`, or `code,name` for
/// provinces). All errors are collected.
pub fn parse_regions(data: &[u8], level: i64, postal: &HashMap<String, String>) -> Result<Vec<Region>, Vec<String>> {
    let rows = rows(data).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    for (line, rec) in rows {
        let (code, parent, name) = match (level, rec.len()) {
            (1, 2) => (rec[0].trim(), None, rec[1].trim()),
            (_, 3) if level > 1 => (rec[0].trim(), Some(rec[1].trim()), rec[2].trim()),
            _ => {
                errors.push(format!(
                    "line {line}: expected {} columns",
                    if level == 1 { 2 } else { 3 }
                ));
                continue;
            }
        };
        if Region::level_of(code) != Some(level) {
            errors.push(format!("line {line}: {code:?} is not a level-{level} region code"));
            continue;
        }
        if parent.is_some() && parent.map(str::to_string) != Region::parent_of(code) {
            errors.push(format!(
                "line {line}: parent {:?} does not match code {code}",
                parent.unwrap_or_default()
            ));
            continue;
        }
        if name.is_empty() {
            errors.push(format!("line {line}: empty name"));
            continue;
        }
        if !seen.insert(code.to_string()) {
            errors.push(format!("line {line}: duplicate code {code}"));
            continue;
        }
        out.push(Region {
            code: code.to_string(),
            level,
            parent_code: parent.map(str::to_string),
            name: name.to_string(),
            postal_code: postal.get(code).cloned(),
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// One row of an institutions CSV
/// (`code,name,kind,parent_code,region_code,timezone`), checked on its own.
pub fn parse_institution(rec: &csv::StringRecord) -> Result<Institution, String> {
    if rec.len() != 6 {
        return Err("expected 6 columns: code,name,kind,parent_code,region_code,timezone".into());
    }
    let code = rec[0].trim();
    if !valid_code(code) {
        return Err(format!("code {code:?}: use lowercase letters, digits, '-' and '.'"));
    }
    let name = rec[1].trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err("name: 1-300 characters".into());
    }
    let kind = InstitutionKind::parse(rec[2].trim()).ok_or_else(|| format!("kind {:?} is not known", &rec[2]))?;
    let parent = Some(rec[3].trim()).filter(|p| !p.is_empty()).map(str::to_string);
    let region_code = Some(rec[4].trim()).filter(|p| !p.is_empty()).map(str::to_string);
    let zone = match rec[5].trim() {
        "" => region_code.as_deref().map(Zone::for_province).unwrap_or(Zone::Wib),
        z => Zone::parse(z).ok_or_else(|| format!("timezone {z:?}: WIB, WITA or WIT"))?,
    };
    if kind == InstitutionKind::NationalOperator && parent.is_some() {
        return Err("the national operator has no parent".into());
    }
    if kind != InstitutionKind::NationalOperator && parent.is_none() {
        return Err("parent_code is required".into());
    }
    Ok(Institution {
        code: code.to_string(),
        name: name.to_string(),
        kind,
        parent,
        region_code,
        zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_report_every_bad_line() {
        let data = b"code,parent_code,name\n32.73,32,Kota Bandung\n32.7,32,Pendek\n33.01,32,Salah induk\n32.74,32,\n32.73,32,Lagi\n";
        let errs = parse_regions(data, 2, &HashMap::new()).unwrap_err();
        assert_eq!(
            errs,
            [
                "line 3: \"32.7\" is not a level-2 region code",
                "line 4: parent \"32\" does not match code 33.01",
                "line 5: empty name",
                "line 6: duplicate code 32.73",
            ]
        );
        let ok = parse_regions(b"code,name\n32,JAWA BARAT\n", 1, &HashMap::new()).unwrap();
        assert_eq!((ok[0].code.as_str(), ok[0].parent_code.as_deref()), ("32", None));
    }

    #[test]
    fn postal_codes_are_five_digits() {
        let p = parse_postal_codes(b"kode_desa,kodepos\n32.73.01.1001,40161\n").unwrap();
        assert_eq!(p["32.73.01.1001"], "40161");
        assert_eq!(
            parse_postal_codes(b"kode_desa,kodepos\n32.73.01.1001,4016\n").unwrap_err(),
            "line 2: expected kode_desa,kodepos"
        );
        assert!(parse_postal_codes(b"kode_desa,kodepos\n32.73.01.1001\n").is_err());
    }

    #[test]
    fn institution_rows() {
        let rows = rows(
            b"code,name,kind,parent_code,region_code,timezone\n\
              pemkot-32.73,Pemerintah Kota Bandung,city,pemprov-32,32.73,\n\
              Pemkot,X,city,pemprov-32,,\n\
              lapor,LAPOR,national_operator,x,,\n\
              a,B,city,pemprov-32,,WIB,extra\n\
              b,B,city,pemprov-32,,CET\n",
        )
        .unwrap();
        let got: Vec<Result<Institution, String>> = rows.iter().map(|(_, r)| parse_institution(r)).collect();
        let city = got[0].as_ref().unwrap();
        assert_eq!((city.kind, city.zone), (InstitutionKind::City, Zone::Wib));
        assert!(got[1].as_ref().unwrap_err().starts_with("code \"Pemkot\""));
        assert_eq!(got[2].as_ref().unwrap_err(), "the national operator has no parent");
        assert!(got[3].as_ref().unwrap_err().starts_with("expected 6 columns"));
        assert_eq!(got[4].as_ref().unwrap_err(), "timezone \"CET\": WIB, WITA or WIT");
    }

    #[test]
    fn lines_count_blank_lines_and_quoted_newlines() {
        let r = rows(b"code,name\n\n32,\"JAWA\nBARAT\"\n33,JAWA TENGAH\n").unwrap();
        let lines: Vec<usize> = r.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 5]);
        // Windows and old Mac line ends.
        let r = rows(b"code,name\r\n32,A\r\n\r\n33,B\r34,C").unwrap();
        let lines: Vec<usize> = r.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4, 5]);
    }

    #[test]
    fn bytes_that_are_not_utf8_name_the_line() {
        let e = rows(b"a,b\n1,2\n\xff\xfe,3\n").unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
    }
}
