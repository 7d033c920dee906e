//! The task decomposition table (任务分解表) as a workbook.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// One row of the table, already in words.
pub struct Row {
    pub code: String,
    pub standard: String,
    pub lead_unit: String,
    pub cooperating: String,
    pub responsible: String,
    pub target: String,
    pub deadline: String,
    pub progress: i64,
    pub state: String,
    pub latest_note: String,
}

const HEAD: [(&str, f64); 10] = [
    ("编码", 9.0),
    ("测评标准", 46.0),
    ("牵头单位", 18.0),
    ("配合单位", 22.0),
    ("责任人", 10.0),
    ("量化目标", 30.0),
    ("完成时限", 12.0),
    ("进度（%）", 9.0),
    ("状态", 8.0),
    ("最近进展", 30.0),
];

pub fn write(title: &str, rows: &[Row]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("任务分解表")?;
    let head = Format::new()
        .set_bold()
        .set_background_color("#EEF0F4")
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Center);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    ws.merge_range(
        0,
        0,
        0,
        HEAD.len() as u16 - 1,
        title,
        &Format::new()
            .set_bold()
            .set_font_size(14)
            .set_align(FormatAlign::Center),
    )?;
    for (i, (h, w)) in HEAD.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *h, &head)?;
        ws.set_column_width(i as u16, *w)?;
    }
    ws.set_freeze_panes(2, 2)?;
    for (i, r) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        let texts = [
            &r.code,
            &r.standard,
            &r.lead_unit,
            &r.cooperating,
            &r.responsible,
            &r.target,
            &r.deadline,
        ];
        for (c, t) in texts.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, t.as_str(), &cell)?;
        }
        ws.write_number_with_format(row, 7, r.progress as f64, &cell)?;
        ws.write_string_with_format(row, 8, &r.state, &cell)?;
        ws.write_string_with_format(row, 9, &r.latest_note, &cell)?;
    }
    ws.autofilter(1, 0, 1 + rows.len() as u32, HEAD.len() as u16 - 1)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_a_readable_table() {
        let rows = vec![super::Row {
            code: "1.1.1".into(),
            standard: "信息公开".into(),
            lead_unit: "市政务服务管理办公室".into(),
            cooperating: "".into(),
            responsible: "王伟".into(),
            target: "目录完整率 100%".into(),
            deadline: "2026-06-30".into(),
            progress: 40,
            state: "进行中".into(),
            latest_note: "已完成目录梳理".into(),
        }];
        let bytes = super::write("任务分解表", &rows).unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("任务分解表").unwrap();
        assert_eq!(
            range.get_value((1, 5)),
            Some(&calamine::Data::String("量化目标".into()))
        );
        assert_eq!(
            range.get_value((2, 4)),
            Some(&calamine::Data::String("王伟".into()))
        );
        assert_eq!(range.get_value((2, 7)), Some(&calamine::Data::Float(40.0)));
    }
}
