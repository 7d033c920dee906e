//! Reading any workbook defensively: the file is size-checked as a zip
//! before it is parsed, rows and cells are capped, merged cells are looked
//! through, and every problem names its cell. The framework table and the
//! generic tables (sites, third-party findings) both read through here.

use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;
use wenming_domain::framework::Problem;

/// Limits that keep a hostile file from exhausting memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: usize,
    /// Sum of the uncompressed sizes of the zip's entries.
    pub max_unpacked_bytes: u64,
    pub max_rows: usize,
    pub max_cell_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 20 << 20,
            max_unpacked_bytes: 64 << 20,
            max_rows: 20_000,
            max_cell_chars: 10_000,
        }
    }
}

pub(crate) fn col_letter(mut c: u32) -> String {
    let mut s = String::new();
    c += 1;
    while c > 0 {
        let r = ((c - 1) % 26) as u8;
        s.insert(0, (b'A' + r) as char);
        c = (c - 1) / 26;
    }
    s
}

pub(crate) fn cell_ref(sheet: &str, row: u32, col: u32) -> String {
    format!("{sheet}!{}{}", col_letter(col), row + 1)
}

pub(crate) fn problem(place: String, code: &'static str, detail: impl Into<String>) -> Problem {
    Problem {
        place,
        code,
        detail: detail.into(),
    }
}

/// Refuses what is not an xlsx, or unpacks too large (a zip bomb), before
/// any XML is parsed.
fn check_container(bytes: &[u8], limits: &Limits) -> Result<(), Problem> {
    if bytes.len() > limits.max_file_bytes {
        return Err(problem(
            "file".into(),
            "file_too_large",
            format!("{} bytes", bytes.len()),
        ));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| problem("file".into(), "not_xlsx", ""))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|_| problem("file".into(), "not_xlsx", ""))?;
        total = total.saturating_add(f.size());
        if total > limits.max_unpacked_bytes {
            return Err(problem("file".into(), "file_too_large", "unpacked size"));
        }
    }
    if zip.index_for_name("xl/workbook.xml").is_none() {
        return Err(problem("file".into(), "not_xlsx", ""));
    }
    Ok(())
}

/// A cell read as text: numbers as written (1.2, not 1.2000001), dates and
/// errors refused.
pub(crate) fn text(
    d: Option<&Data>,
    place: impl Fn() -> String,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> String {
    let s = match d {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Float(f)) => {
            let s = format!("{f}");
            s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
        }
        Some(Data::Bool(b)) => b.to_string(),
        Some(Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_)) => {
            problems.push(problem(place(), "date_in_text", ""));
            String::new()
        }
        Some(Data::Error(e)) => {
            problems.push(problem(place(), "cell_error", format!("{e:?}")));
            String::new()
        }
    };
    if s.chars().count() > limits.max_cell_chars {
        problems.push(problem(
            place(),
            "cell_too_long",
            format!("{} characters", s.chars().count()),
        ));
        return String::new();
    }
    s
}

pub(crate) struct Sheet {
    pub(crate) name: String,
    pub(crate) range: calamine::Range<Data>,
    /// (first row, first col, last row, last col), absolute.
    merged: Vec<(u32, u32, u32, u32)>,
}

impl Sheet {
    /// The value at an absolute cell, looking through merged regions to the
    /// top-left cell that holds it.
    pub(crate) fn get(&self, row: u32, col: u32) -> Option<&Data> {
        for &(r0, c0, r1, c1) in &self.merged {
            if (r0..=r1).contains(&row) && (c0..=c1).contains(&col) {
                return self.range.get_value((r0, c0));
            }
        }
        self.range.get_value((row, col))
    }
    /// Whether an absolute cell starts or sits outside any merged region.
    pub(crate) fn merge_start(&self, row: u32, col: u32) -> Option<u32> {
        self.merged
            .iter()
            .find(|&&(r0, c0, r1, c1)| (r0..=r1).contains(&row) && (c0..=c1).contains(&col))
            .map(|m| m.0)
    }
}

pub(crate) type Book = Xlsx<Cursor<Vec<u8>>>;

pub(crate) fn open(bytes: &[u8], limits: &Limits) -> Result<(Book, Vec<String>), Vec<Problem>> {
    check_container(bytes, limits).map_err(|p| vec![p])?;
    let wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(
        |e: calamine::XlsxError| vec![problem("file".into(), "not_xlsx", e.to_string())],
    )?;
    let names = wb.sheet_names().to_vec();
    Ok((wb, names))
}

pub(crate) fn load_sheet(
    wb: &mut Book,
    name: &str,
    limits: &Limits,
) -> Result<Sheet, Vec<Problem>> {
    let range = wb
        .worksheet_range(name)
        .map_err(|e| vec![problem(name.into(), "not_xlsx", e.to_string())])?;
    if range.height() > limits.max_rows + 20 {
        return Err(vec![problem(
            name.into(),
            "too_many_rows",
            format!("{} rows", range.height()),
        )]);
    }
    let merged = wb
        .merge_cells_by_sheet_name(name)
        .map_err(|e| vec![problem(name.into(), "not_xlsx", e.to_string())])?
        .iter()
        .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
        .collect();
    Ok(Sheet {
        name: name.to_string(),
        range,
        merged,
    })
}
