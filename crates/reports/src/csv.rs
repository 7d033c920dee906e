//! CSV export of lists, readable by Excel and WPS as Chinese text: UTF-8 with
//! a byte-order mark, CRLF line ends, and cells quoted where needed. Cells
//! that a spreadsheet would run as a formula are defused.

pub fn write(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let parts: Vec<String> = cells.map(cell).collect();
        out.push_str(&parts.join(","));
        out.push_str("\r\n");
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out.into_bytes()
}

fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_defuses_cells() {
        let out = super::write(
            &["名称", "备注"],
            &[
                vec!["城管局".into(), "a,\"b\"".into()],
                vec!["=1+1".into(), "".into()],
            ],
        );
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "\u{FEFF}名称,备注\r\n城管局,\"a,\"\"b\"\"\"\r\n'=1+1,\r\n"
        );
    }
}
