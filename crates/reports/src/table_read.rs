//! Reading a plain table from the first sheet of a workbook: a header row
//! (found among the first rows, by any of each column's usual names) and a
//! record a row. Cells are text; every problem names its cell.

use crate::workbook::{Limits, cell_ref, load_sheet, open, problem, text};
use std::collections::HashMap;
use wenming_domain::framework::Problem;
use wenming_domain::validation::match_key;

/// One record: its row number as the sheet shows it (1-based), and its
/// cells by column key.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: u32,
    pub cells: HashMap<&'static str, String>,
    /// Each column's cell of this row ("问卷!C5"), for problems.
    pub places: HashMap<&'static str, String>,
}

impl Record {
    pub fn get(&self, key: &str) -> &str {
        self.cells.get(key).map(String::as_str).unwrap_or("")
    }
    /// Where a column's cell of this row is; the row alone when the sheet
    /// has no such column.
    pub fn place(&self, key: &str) -> String {
        self.places
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("row {}", self.row))
    }
}

/// Reads the first sheet. `columns` gives each column's key and the header
/// words it goes by; those in `required` must be present. In `free_text`
/// columns (notes) a date is kept as the date written, not refused.
pub fn read(
    bytes: &[u8],
    limits: &Limits,
    columns: &[(&'static str, &[&str])],
    required: &[&'static str],
    free_text: &[&'static str],
) -> Result<Vec<Record>, Vec<Problem>> {
    let (mut wb, names) = open(bytes, limits)?;
    let Some(first) = names.first() else {
        return Err(vec![problem("file".into(), "not_xlsx", "no sheet")]);
    };
    let sheet = load_sheet(&mut wb, first, limits)?;
    let (r0, c0) = sheet.range.start().unwrap_or((0, 0));
    let (r1, c1) = sheet.range.end().unwrap_or((0, 0));
    let mut problems = vec![];
    let cell = |r: u32, c: u32, problems: &mut Vec<Problem>| {
        text(sheet.get(r, c), || cell_ref(first, r, c), limits, problems)
    };
    // The header: the first of the top rows naming every required column.
    let mut header: Option<(u32, Vec<(u32, &'static str)>)> = None;
    for r in r0..=r1.min(r0 + 5) {
        let mut found = vec![];
        for c in c0..=c1 {
            let h = match_key(&cell(r, c, &mut vec![]));
            if let Some((key, _)) = columns
                .iter()
                .find(|(_, words)| words.iter().any(|w| match_key(w) == h))
                && !found.iter().any(|(_, k)| k == key)
            {
                found.push((c, *key));
            }
        }
        if required.iter().all(|k| found.iter().any(|(_, f)| f == k)) {
            header = Some((r, found));
            break;
        }
    }
    let Some((hr, cols)) = header else {
        let missing: Vec<&str> = required
            .iter()
            .filter_map(|k| columns.iter().find(|(c, _)| c == k).map(|(_, w)| w[0]))
            .collect();
        return Err(vec![problem(
            format!("{first}!1"),
            "missing_columns",
            missing.join("、"),
        )]);
    };
    if (r1 - hr) as usize > limits.max_rows {
        return Err(vec![problem(
            first.clone(),
            "too_many_rows",
            format!("{} rows", r1 - hr),
        )]);
    }
    let mut out = vec![];
    for r in hr + 1..=r1 {
        let cells: HashMap<&'static str, String> = cols
            .iter()
            .map(|(c, k)| {
                let v = match sheet.get(r, *c) {
                    Some(d) if free_text.contains(k) => date_text(d),
                    _ => None,
                };
                (*k, v.unwrap_or_else(|| cell(r, *c, &mut problems)))
            })
            .collect();
        if cells.values().all(|v| v.is_empty()) {
            continue;
        }
        let places = cols
            .iter()
            .map(|(c, k)| (*k, cell_ref(first, r, *c)))
            .collect();
        out.push(Record {
            row: r + 1,
            cells,
            places,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A date or time cell as the text a person reads in it.
fn date_text(d: &calamine::Data) -> Option<String> {
    use calamine::Data;
    match d {
        Data::DateTime(dt) => {
            let (y, m, day, h, min, sec, _) = dt.to_ymd_hms_milli();
            Some(if (h, min, sec) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{day:02}")
            } else {
                format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}")
            })
        }
        Data::DateTimeIso(t) | Data::DurationIso(t) => Some(t.trim().to_string()),
        _ => None,
    }
}

/// A zip of photos sent with a result sheet, read from a file one entry at
/// a time, so that memory holds one photo whatever the zip holds. Opening
/// refuses a zip with more than `max_files` entries or whose entries
/// declare more than `max_total` bytes unpacked (a zip bomb).
pub struct ZipPhotos {
    archive: zip::ZipArchive<std::fs::File>,
    /// The entries' names as written in the zip (folders included).
    names: Vec<String>,
}

impl ZipPhotos {
    pub fn open(
        path: &std::path::Path,
        max_total: u64,
        max_files: usize,
    ) -> Result<ZipPhotos, Problem> {
        let not_zip = || problem("photos".into(), "not_zip", "");
        let file = std::fs::File::open(path).map_err(|_| not_zip())?;
        let mut archive = zip::ZipArchive::new(file).map_err(|_| not_zip())?;
        if archive.len() > max_files {
            return Err(problem(
                "photos".into(),
                "too_many_files",
                archive.len().to_string(),
            ));
        }
        let (mut names, mut total) = (vec![], 0u64);
        for i in 0..archive.len() {
            let f = archive.by_index_raw(i).map_err(|_| not_zip())?;
            if f.is_dir() {
                continue;
            }
            total = total.saturating_add(f.size());
            if total > max_total {
                return Err(problem("photos".into(), "file_too_large", "unpacked size"));
            }
            names.push(
                f.name()
                    .map_err(|_| problem("photos".into(), "not_zip", "file name"))?
                    .to_string(),
            );
        }
        Ok(ZipPhotos { archive, names })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// One entry's bytes, at most `max` of them (more is refused: the
    /// photo is over the size cap); `None` for a name the zip lacks.
    pub fn read(&mut self, name: &str, max: u64) -> Result<Option<Vec<u8>>, Problem> {
        use std::io::Read;
        let mut f = match self.archive.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(_) => return Err(problem(format!("photos.{name}"), "not_zip", "")),
        };
        if f.size() > max {
            return Err(problem(format!("photos.{name}"), "photo_too_large", ""));
        }
        let mut buf = Vec::with_capacity(f.size() as usize);
        // Read no more than declared: a lying header cannot grow past it.
        (&mut f)
            .take(max + 1)
            .read_to_end(&mut buf)
            .map_err(|_| problem(format!("photos.{name}"), "not_zip", ""))?;
        if buf.len() as u64 > max {
            return Err(problem(format!("photos.{name}"), "photo_too_large", ""));
        }
        Ok(Some(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    #[test]
    fn finds_the_header_below_a_title_and_keeps_sheet_row_numbers() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "十一月第三方测评结果").unwrap();
        ws.write_string(1, 0, "点位").unwrap();
        ws.write_string(1, 2, "结果").unwrap();
        ws.write_string(2, 0, "望岳路北段").unwrap();
        ws.write_string(2, 2, "合格").unwrap();
        ws.write_string(4, 0, "凤鸣街").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let cols: &[(&'static str, &[&str])] =
            &[("place", &["点位", "地点"]), ("result", &["结果"])];
        let rows = read(&bytes, &Limits::default(), cols, &["place", "result"], &[]).unwrap();
        assert_eq!(rows.len(), 2, "the empty row is skipped");
        assert_eq!((rows[0].row, rows[0].get("result")), (3, "合格"));
        assert_eq!((rows[1].row, rows[1].get("place")), (5, "凤鸣街"));
        let e = read(&bytes, &Limits::default(), &[("x", &["编号"])], &["x"], &[]).unwrap_err();
        assert_eq!(e[0].code, "missing_columns");
    }

    #[test]
    fn a_date_in_a_note_is_text_and_elsewhere_a_problem_naming_its_cell() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "点位").unwrap();
        ws.write_string(0, 1, "备注").unwrap();
        ws.write_string(1, 0, "望岳路北段").unwrap();
        let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 3).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        ws.write_datetime_with_format(1, 1, &day, &fmt).unwrap();
        ws.write_datetime_with_format(2, 0, &day, &fmt).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let cols: &[(&'static str, &[&str])] = &[("place", &["点位"]), ("note", &["备注"])];
        let rows = read(&bytes, &Limits::default(), cols, &["place"], &["note"]);
        let e = rows.unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].code, e[0].place.as_str()),
            ("date_in_text", "Sheet1!A3")
        );
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "点位").unwrap();
        ws.write_string(0, 1, "备注").unwrap();
        ws.write_string(1, 0, "望岳路北段").unwrap();
        ws.write_datetime_with_format(1, 1, &day, &fmt).unwrap();
        let rows = read(
            &wb.save_to_buffer().unwrap(),
            &Limits::default(),
            cols,
            &["place"],
            &["note"],
        )
        .unwrap();
        assert_eq!(rows[0].get("note"), "2026-11-03");
    }
}
