//! Reading a plain table from the first sheet of a workbook: a header row
//! (found among the first rows, by any of each column's usual names) and a
//! record a row. Cells are text; every problem names its cell.

use crate::framework_xlsx::{Limits, cell_ref, load_sheet, open, problem, text};
use std::collections::HashMap;
use wenming_domain::framework::Problem;
use wenming_domain::validation::match_key;

/// One record: its row number as the sheet shows it (1-based), and its
/// cells by column key.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: u32,
    pub cells: HashMap<&'static str, String>,
}

impl Record {
    pub fn get(&self, key: &str) -> &str {
        self.cells.get(key).map(String::as_str).unwrap_or("")
    }
}

/// Reads the first sheet. `columns` gives each column's key and the header
/// words it goes by; those in `required` must be present.
pub fn read(
    bytes: &[u8],
    limits: &Limits,
    columns: &[(&'static str, &[&str])],
    required: &[&'static str],
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
            .map(|(c, k)| (*k, cell(r, *c, &mut problems)))
            .collect();
        if cells.values().all(|v| v.is_empty()) {
            continue;
        }
        out.push(Record { row: r + 1, cells });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The files of a zip (photos sent with a result sheet), by name, refusing
/// one that unpacks larger than `max_total` bytes (a zip bomb) or holds more
/// than `max_files`.
pub fn zip_files(
    bytes: &[u8],
    max_total: u64,
    max_files: usize,
) -> Result<HashMap<String, Vec<u8>>, Problem> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| problem("photos".into(), "not_zip", ""))?;
    if zip.len() > max_files {
        return Err(problem(
            "photos".into(),
            "too_many_files",
            zip.len().to_string(),
        ));
    }
    let mut out = HashMap::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|_| problem("photos".into(), "not_zip", ""))?;
        if f.is_dir() {
            continue;
        }
        total = total.saturating_add(f.size());
        if total > max_total {
            return Err(problem("photos".into(), "file_too_large", "unpacked size"));
        }
        let size = f.size();
        let mut buf = Vec::with_capacity(size as usize);
        // Read no more than declared: a lying header cannot grow past it.
        (&mut f)
            .take(size)
            .read_to_end(&mut buf)
            .map_err(|_| problem("photos".into(), "not_zip", ""))?;
        let name = f
            .name()
            .map_err(|_| problem("photos".into(), "not_zip", "file name"))?
            .to_string();
        out.insert(name, buf);
    }
    Ok(out)
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
        let rows = read(&bytes, &Limits::default(), cols, &["place", "result"]).unwrap();
        assert_eq!(rows.len(), 2, "the empty row is skipped");
        assert_eq!((rows[0].row, rows[0].get("result")), (3, "合格"));
        assert_eq!((rows[1].row, rows[1].get("place")), (5, "凤鸣街"));
        let e = read(&bytes, &Limits::default(), &[("x", &["编号"])], &["x"]).unwrap_err();
        assert_eq!(e[0].code, "missing_columns");
    }
}
