//! Before and after photos side by side (整改前后对比图), one case a row,
//! with when and where: a 实景图片 material built from closed cases.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Image, Workbook, XlsxError};

/// One case, in words, with its two photos (JPEG thumbnails).
pub struct PairRow {
    pub number: String,
    pub category: String,
    pub place: String,
    pub unit: String,
    pub found_at: String,
    pub closed_at: String,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

const HEAD: [(&str, f64); 8] = [
    ("案件编号", 16.0),
    ("问题类别", 14.0),
    ("地点", 22.0),
    ("责任单位", 16.0),
    ("发现时间", 17.0),
    ("整改前", 0.0),
    ("结案时间", 17.0),
    ("整改后", 0.0),
];

/// Photo columns and rows, in pixels: a thumbnail fits, aspect kept.
const PHOTO_W: u32 = 260;
const ROW_H: u32 = 200;

pub fn write(title: &str, rows: &[PairRow]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("整改前后对比")?;
    let head = Format::new()
        .set_bold()
        .set_background_color("#EEF0F4")
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let last = HEAD.len() as u16 - 1;
    ws.merge_range(
        0,
        0,
        0,
        last,
        title,
        &Format::new()
            .set_bold()
            .set_font_size(14)
            .set_align(FormatAlign::Center),
    )?;
    for (i, (h, w)) in HEAD.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *h, &head)?;
        if *w > 0.0 {
            ws.set_column_width(i as u16, *w)?;
        } else {
            ws.set_column_width_pixels(i as u16, PHOTO_W)?;
        }
    }
    ws.set_freeze_panes(2, 0)?;
    for (i, r) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        ws.set_row_height_pixels(row, ROW_H)?;
        let text = [
            (0, &r.number),
            (1, &r.category),
            (2, &r.place),
            (3, &r.unit),
            (4, &r.found_at),
            (6, &r.closed_at),
        ];
        for (c, t) in text {
            ws.write_string_with_format(row, c, t, &cell)?;
        }
        for (c, bytes) in [(5u16, &r.before), (7, &r.after)] {
            ws.write_blank(row, c, &cell)?;
            let image = Image::new_from_buffer(bytes)?;
            ws.insert_image_fit_to_cell(row, c, &image, true)?;
        }
    }
    wb.save_to_buffer()
}
