//! Any list as a workbook: a title row, a bold header, one row per record,
//! frozen header and an autofilter, so an exported list is ready to sort.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

pub enum Cell {
    Text(String),
    Number(f64),
}

/// One sheet of a workbook: a titled table.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub header: &'a [(&'a str, f64)],
    pub rows: &'a [Vec<Cell>],
}

pub fn write(
    sheet: &str,
    title: &str,
    header: &[(&str, f64)],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, XlsxError> {
    write_sheets(&[Sheet {
        name: sheet,
        title,
        header,
        rows,
    }])
}

/// Several tables, one a sheet (a report's parts).
pub fn write_sheets(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_background_color("#EEF0F4")
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    for sh in sheets {
        let ws = wb.add_worksheet().set_name(sh.name)?;
        let last = sh.header.len().saturating_sub(1) as u16;
        ws.merge_range(
            0,
            0,
            0,
            last,
            sh.title,
            &Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
        )?;
        for (i, (h, w)) in sh.header.iter().enumerate() {
            ws.write_string_with_format(1, i as u16, *h, &head)?;
            ws.set_column_width(i as u16, *w)?;
        }
        ws.set_freeze_panes(2, 0)?;
        for (r, row) in sh.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (2 + r as u32, c as u16);
                match v {
                    Cell::Text(t) => ws.write_string_with_format(r, c, t, &cell)?,
                    Cell::Number(n) => ws.write_number_with_format(r, c, *n, &cell)?,
                };
            }
        }
        ws.autofilter(1, 0, 1 + sh.rows.len() as u32, last)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_land_under_the_header() {
        let bytes = write(
            "案件",
            "案件清单",
            &[("编号", 14.0), ("返工次数", 8.0)],
            &[vec![Cell::Text("2026-000001".into()), Cell::Number(2.0)]],
        )
        .unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let r = wb.worksheet_range("案件").unwrap();
        assert_eq!(
            r.get_value((1, 1)),
            Some(&calamine::Data::String("返工次数".into()))
        );
        assert_eq!(r.get_value((2, 1)), Some(&calamine::Data::Float(2.0)));
    }
}
