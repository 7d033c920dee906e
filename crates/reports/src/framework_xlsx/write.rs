//! Writing the framework table (and an empty one to fill in), in the
//! layout it is read in, with drop-downs for the closed lists.

use super::*;

fn columns(doc: &FrameworkDoc) -> (bool, bool) {
    fn any(nodes: &[NodeDoc], kind: NodeKind) -> bool {
        nodes
            .iter()
            .any(|n| n.kind == kind || any(&n.children, kind))
    }
    (
        any(&doc.tree, NodeKind::Indicator),
        any(&doc.tree, NodeKind::Content),
    )
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("#EEF0F4")
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
}

fn cell_format() -> Format {
    Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top)
}

const HEAD: [&str; 14] = [
    "编码",
    "测评项目",
    "指标名称",
    "测评内容",
    "测评标准",
    "分值",
    "指标类型",
    "测评方法",
    "责任单位",
    "配合单位",
    "点位类型",
    "材料类型",
    "观测规则",
    "材料要求",
];

/// The workbook: the tree (one row a standard, upper levels merged), the
/// upper levels with their points, the negative list, and the settings.
pub fn write(doc: &FrameworkDoc) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (has_indicator, has_content) = columns(doc);
    let head: Vec<&str> = HEAD
        .iter()
        .copied()
        .filter(|h| (*h != "指标名称" || has_indicator) && (*h != "测评内容" || has_content))
        .collect();
    let col_of = |h: &str| head.iter().position(|x| *x == h).map(|i| i as u16);
    let hf = header_format();
    let cf = cell_format();
    {
        let ws = wb.add_worksheet().set_name(TREE_SHEET)?;
        ws.merge_range(
            0,
            0,
            0,
            head.len() as u16 - 1,
            &format!("{}（{}年）", doc.name, doc.year),
            &Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
        )?;
        for (i, h) in head.iter().enumerate() {
            ws.write_string_with_format(1, i as u16, *h, &hf)?;
        }
        let widths = [
            8.0, 18.0, 18.0, 18.0, 48.0, 6.0, 8.0, 18.0, 16.0, 20.0, 16.0, 16.0, 10.0, 40.0,
        ];
        for (i, h) in head.iter().enumerate() {
            let w = HEAD
                .iter()
                .position(|x| x == h)
                .map(|j| widths[j])
                .unwrap_or(12.0);
            ws.set_column_width(i as u16, w)?;
        }
        ws.set_freeze_panes(2, 0)?;
        for (row, (path, std)) in (2u32..).zip(wenming_domain::framework::standards(doc)) {
            let s = std.standard.clone().unwrap_or_default();
            let put = |h: &str, v: String, ws: &mut Worksheet| -> Result<(), XlsxError> {
                if let Some(c) = col_of(h) {
                    ws.write_string_with_format(row, c, &v, &cf)?;
                }
                Ok(())
            };
            put("编码", std.code.clone().unwrap_or_default(), ws)?;
            put("测评标准", std.title.clone(), ws)?;
            put("分值", s.points.to_string(), ws)?;
            put(
                "指标类型",
                if s.featured { "特色" } else { "基本" }.into(),
                ws,
            )?;
            put(
                "测评方法",
                s.methods
                    .iter()
                    .map(|m| m.zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                ws,
            )?;
            put("责任单位", s.lead_unit.clone().unwrap_or_default(), ws)?;
            put("配合单位", s.cooperating_units.join("、"), ws)?;
            put("点位类型", s.site_types.join("、"), ws)?;
            put(
                "材料类型",
                s.evidence_types
                    .iter()
                    .map(|e| e.zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                ws,
            )?;
            put(
                "观测规则",
                s.observation.map(|o| o.to_text()).unwrap_or_default(),
                ws,
            )?;
            put(
                "材料要求",
                super::requirements::to_text(&s.requirements),
                ws,
            )?;
            for h in ["测评项目", "指标名称", "测评内容"] {
                put(h, String::new(), ws)?;
            }
            for n in path {
                let h = match n.kind {
                    NodeKind::Aspect => "测评项目",
                    NodeKind::Indicator => "指标名称",
                    _ => "测评内容",
                };
                put(
                    h,
                    format!("{} {}", n.code.clone().unwrap_or_default(), n.title),
                    ws,
                )?;
            }
        }
        // Merge runs of the same upper-level node, as official tables do.
        for h in ["测评项目", "指标名称", "测评内容"] {
            let Some(c) = col_of(h) else { continue };
            let values: Vec<Option<String>> = wenming_domain::framework::standards(doc)
                .iter()
                .map(|(path, _)| {
                    path.iter()
                        .find(|n| match h {
                            "测评项目" => n.kind == NodeKind::Aspect,
                            "指标名称" => n.kind == NodeKind::Indicator,
                            _ => n.kind == NodeKind::Content,
                        })
                        .and_then(|n| n.code.clone())
                })
                .collect();
            let mut start = 0usize;
            for i in 1..=values.len() {
                if i == values.len() || values[i] != values[start] {
                    if i - start > 1 && values[start].is_some() {
                        let r0 = 2 + start as u32;
                        let text = find_title(doc, values[start].as_deref().unwrap_or(""));
                        ws.merge_range(r0, c, r0 + (i - start) as u32 - 1, c, &text, &cf)?;
                    }
                    start = i;
                }
            }
        }
    }
    {
        let ws = wb.add_worksheet().set_name(LEVELS_SHEET)?;
        for (i, h) in ["编码", "层级", "名称", "分值"].iter().enumerate() {
            ws.write_string_with_format(0, i as u16, *h, &hf)?;
        }
        ws.set_column_width(2, 40.0)?;
        let mut row = 1;
        fn walk(nodes: &[NodeDoc], ws: &mut Worksheet, row: &mut u32) -> Result<(), XlsxError> {
            for n in nodes.iter().filter(|n| n.kind != NodeKind::Standard) {
                ws.write_string(*row, 0, n.code.clone().unwrap_or_default())?;
                ws.write_string(*row, 1, n.kind.zh())?;
                ws.write_string(*row, 2, &n.title)?;
                if let Some(p) = n.points {
                    ws.write_string(*row, 3, p.to_string())?;
                }
                *row += 1;
                walk(&n.children, ws, row)?;
            }
            Ok(())
        }
        walk(&doc.tree, ws, &mut row)?;
    }
    {
        let ws = wb.add_worksheet().set_name(NEGATIVE_SHEET)?;
        for (i, h) in ["编码", "情形", "处理", "扣分", "追溯月数"]
            .iter()
            .enumerate()
        {
            ws.write_string_with_format(0, i as u16, *h, &hf)?;
        }
        ws.set_column_width(1, 60.0)?;
        for (i, r) in doc.settings.negative_list.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_string(row, 0, &r.code)?;
            ws.write_string(row, 1, &r.rule)?;
            ws.write_string(row, 2, r.sanction.zh())?;
            if let Some(d) = r.deduct {
                ws.write_string(row, 3, d.to_string())?;
            }
            ws.write_string(row, 4, r.lookback_months.to_string())?;
        }
        let sanctions: Vec<&str> = Sanction::ALL.iter().map(|s| s.zh()).collect();
        ws.add_data_validation(
            1,
            2,
            500,
            2,
            &DataValidation::new().allow_list_strings(&sanctions)?,
        )?;
    }
    {
        let ws = wb.add_worksheet().set_name(SETTINGS_SHEET)?;
        ws.set_column_width(0, 14.0)?;
        ws.set_column_width(1, 60.0)?;
        let s = &doc.settings;
        let rows: Vec<(&str, String)> = vec![
            ("名称", doc.name.clone()),
            ("年度", doc.year.to_string()),
            ("状态", doc.status.zh().into()),
            (
                "基本指标总分",
                doc.basic_total.map(|p| p.to_string()).unwrap_or_default(),
            ),
            (
                "特色指标总分",
                doc.featured_total
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ),
            (
                "方法权重",
                s.method_weights
                    .iter()
                    .map(|w| format!("{} {}", w.name, w.weight))
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            (
                "周期权重",
                s.cycle_weights
                    .iter()
                    .map(Points::to_string)
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            (
                "前置条件",
                s.gates
                    .iter()
                    .map(|g| format!("{}|{}|{}", g.name, g.min_score, g.weight))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            ws.write_string_with_format(i as u32, 0, *k, &hf)?;
            ws.write_string_with_format(i as u32, 1, v, &cf)?;
        }
        ws.write_string(rows.len() as u32 + 1, 0, "说明")?;
        ws.write_string(
            rows.len() as u32 + 1,
            1,
            "方法权重写作“名称 权重”，用顿号分隔；周期权重写作“15、25、60”；前置条件每行一条：名称|最低分|占比。",
        )?;
    }
    wb.save_to_buffer()
}

fn find_title(doc: &FrameworkDoc, code: &str) -> String {
    fn walk(nodes: &[NodeDoc], code: &str) -> Option<String> {
        for n in nodes {
            if n.code.as_deref() == Some(code) {
                return Some(format!("{code} {}", n.title));
            }
            if let Some(t) = walk(&n.children, code) {
                return Some(t);
            }
        }
        None
    }
    walk(&doc.tree, code).unwrap_or_default()
}

/// An empty table in the official layout, with drop-downs for the
/// enumerated columns (types; one method or evidence type, or type your own
/// list such as “材料审核、问卷调查”).
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name(TREE_SHEET)?;
    let hf = header_format();
    ws.merge_range(
        0,
        0,
        0,
        HEAD.len() as u16 - 1,
        "测评体系（请填写名称和年度）",
        &Format::new().set_bold().set_font_size(14),
    )?;
    for (i, h) in HEAD.iter().enumerate() {
        ws.write_string_with_format(1, i as u16, *h, &hf)?;
        ws.set_column_width(i as u16, if *h == "测评标准" { 48.0 } else { 16.0 })?;
    }
    ws.set_freeze_panes(2, 0)?;
    let lenient = |v: DataValidation| v.set_error_style(DataValidationErrorStyle::Information);
    let methods: Vec<&str> = Method::ALL.iter().map(|m| m.zh()).collect();
    let evidence: Vec<&str> = EvidenceType::ALL.iter().map(|e| e.zh()).collect();
    let last = 5000;
    ws.add_data_validation(
        2,
        6,
        last,
        6,
        &DataValidation::new().allow_list_strings(&["基本", "特色"])?,
    )?;
    ws.add_data_validation(
        2,
        7,
        last,
        7,
        &lenient(DataValidation::new().allow_list_strings(&methods)?),
    )?;
    ws.add_data_validation(
        2,
        11,
        last,
        11,
        &lenient(DataValidation::new().allow_list_strings(&evidence)?),
    )?;
    ws.write_string(2, 1, "1 （示例）廉洁高效的政务环境")?;
    ws.write_string(2, 2, "1.1 （示例）政务公开")?;
    ws.write_string(2, 4, "（示例）政府信息公开渠道畅通，按规定及时公开")?;
    ws.write_string(2, 5, "1.5")?;
    ws.write_string(2, 6, "基本")?;
    ws.write_string(2, 7, "材料审核、网络调查")?;
    let ns = wb.add_worksheet().set_name(NEGATIVE_SHEET)?;
    for (i, h) in ["编码", "情形", "处理", "扣分", "追溯月数"]
        .iter()
        .enumerate()
    {
        ns.write_string_with_format(0, i as u16, *h, &hf)?;
    }
    let sanctions: Vec<&str> = Sanction::ALL.iter().map(|s| s.zh()).collect();
    ns.add_data_validation(
        1,
        2,
        500,
        2,
        &DataValidation::new().allow_list_strings(&sanctions)?,
    )?;
    wb.save_to_buffer()
}
