//! Replacing the holiday calendar at runtime, from the CLI
//! (`lapor import holidays`) or the national admins' calendar page: the
//! file is checked whole, stored, and every process switches to it on its
//! next scheduler pass.

use chrono::Datelike;
use lapor_domain::Error;
use lapor_domain::calendar::{Calendar, HolidayFileError};
use lapor_store::Store;
use lapor_store::ts::Ts;

/// Why a holiday file was not imported.
#[derive(Debug)]
pub enum HolidayImportError {
    /// Problems with line numbers; nothing was stored.
    Invalid(Vec<HolidayFileError>),
    Store(Error),
}

/// What was imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub id: i64,
    pub days: usize,
    pub first: i32,
    pub last: i32,
    pub provisional: Vec<i32>,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let prov = if self.provisional.is_empty() {
            "none".to_string()
        } else {
            self.provisional
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "holidays: {} days {}–{} imported as calendar #{} (provisional years: {prov})",
            self.days, self.first, self.last, self.id
        )
    }
}

/// Checks a holiday file whole and stores it as the calendar in use.
/// Provisional years default to those with estimated dates ("perkiraan",
/// "estimated"): their joint-leave decree is not out yet.
pub async fn import(
    store: &dyn Store,
    source: &str,
    text: &str,
    provisional: Option<Vec<i32>>,
) -> Result<Imported, HolidayImportError> {
    let holidays = Calendar::parse_csv(text).map_err(HolidayImportError::Invalid)?;
    let provisional = provisional.unwrap_or_else(|| {
        let mut years: Vec<i32> = holidays
            .iter()
            .filter(|h| {
                let n = h.name.to_lowercase();
                n.contains("perkiraan") || n.contains("estimated")
            })
            .map(|h| h.date.year())
            .collect();
        years.sort_unstable();
        years.dedup();
        years
    });
    let id = store
        .save_holiday_file(source, text, &provisional, Ts::now())
        .await
        .map_err(HolidayImportError::Store)?;
    Ok(Imported {
        id,
        days: holidays.len(),
        first: holidays.iter().map(|h| h.date.year()).min().unwrap_or_default(),
        last: holidays.iter().map(|h| h.date.year()).max().unwrap_or_default(),
        provisional,
    })
}

/// Parses "2027, 2028" (empty: None, let the file decide).
pub fn parse_years(s: &str) -> Result<Option<Vec<i32>>, Error> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    s.split(',')
        .map(|y| match y.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Ok(y),
            _ => Err(Error::validation(format!(
                "provisional: {:?} bukan tahun / is not a year",
                y.trim()
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
