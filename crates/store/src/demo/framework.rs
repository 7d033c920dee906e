//! The demo city's framework: a made-up evaluation framework in the
//! national one's shape (seven aspects, basic and featured points), in our
//! own words.

/// The demo framework: the seven parts of the 2011 national framework with
/// indicators and standards of our own wording (`demo/framework.txt`).
pub fn demo_framework() -> wenming_domain::framework::FrameworkDoc {
    use wenming_domain::framework::*;
    let mut tree: Vec<NodeDoc> = vec![];
    for line in include_str!("../../demo/framework.txt").lines() {
        let node = |kind, title: &str| NodeDoc {
            kind,
            code: None,
            title: title.trim().to_string(),
            points: None,
            standard: None,
            children: vec![],
        };
        if let Some(t) = line.strip_prefix("== ") {
            if let Some(a) = tree.last_mut() {
                a.children.push(node(NodeKind::Indicator, t));
            }
        } else if let Some(t) = line.strip_prefix("= ") {
            tree.push(node(NodeKind::Aspect, t));
        } else if let Some(t) = line.strip_prefix("- ") {
            let f: Vec<&str> = t.split('|').map(str::trim).collect();
            let featured = f[0].starts_with('★');
            let list = |i: usize| -> Vec<String> {
                f.get(i)
                    .map(|s| parse_list(s, |x| Some(x.to_string())).unwrap_or_default())
                    .unwrap_or_default()
            };
            let points = f
                .get(6)
                .and_then(|p| Points::parse(p))
                .unwrap_or(if featured { Points(200) } else { Points(100) });
            let standard = StandardSpec {
                points,
                methods: parse_list(f[1], Method::parse).expect("demo methods are valid"),
                featured,
                site_types: list(4),
                evidence_types: parse_list(f.get(5).copied().unwrap_or(""), EvidenceType::parse)
                    .expect("demo evidence types are valid"),
                lead_unit: Some(f[2].to_string()).filter(|s| !s.is_empty()),
                cooperating_units: list(3),
                observation: f
                    .get(7)
                    .map(|o| {
                        wenming_domain::site::Observation::parse_text(o)
                            .expect("demo rules are valid")
                    })
                    .filter(|o| *o != wenming_domain::site::Observation::PassFail),
                requirements: vec![],
            };
            let mut n = node(NodeKind::Standard, f[0].trim_start_matches('★'));
            n.standard = Some(standard);
            if let Some(ind) = tree.last_mut().and_then(|a| a.children.last_mut()) {
                ind.children.push(n);
            }
        }
    }
    assign_codes(&mut tree);
    let part = |name: &str, w: i64| WeightedPart {
        name: name.into(),
        weight: Points(w * 100),
    };
    let rule = |code: &str, rule: &str, sanction, deduct: Option<i64>| NegativeListRule {
        code: code.into(),
        rule: rule.into(),
        sanction,
        deduct: deduct.map(Points),
        lookback_months: 12,
    };
    FrameworkDoc {
        format: FORMAT.into(),
        name: "青岚市文明城市测评体系（示范）".into(),
        year: 2026,
        status: FrameworkStatus::Draft,
        basic_total: Some(Points(10_000)),
        featured_total: Some(Points(2_000)),
        settings: Settings {
            method_weights: vec![
                part("网上材料申报", 40),
                part("实地测评", 40),
                part("问卷调查", 20),
            ],
            cycle_weights: vec![Points(1_500), Points(2_500), Points(6_000)],
            gates: vec![Gate {
                name: "未成年人思想道德建设测评".into(),
                min_score: Points(8_500),
                weight: Points(2_000),
            }],
            negative_list: vec![
                rule(
                    "N1",
                    "发生在全国造成重大影响的安全生产责任事故",
                    Sanction::DeductPoints,
                    Some(300),
                ),
                rule(
                    "N2",
                    "发生严重危害群众健康的食品药品安全事件",
                    Sanction::DeductPoints,
                    Some(200),
                ),
                rule(
                    "N3",
                    "测评材料弄虚作假、组织群众应付测评",
                    Sanction::StopNomination,
                    None,
                ),
                rule(
                    "N4",
                    "发生严重违背社会公德、影响恶劣的群体性事件",
                    Sanction::Suspend,
                    None,
                ),
            ],
        },
        tree,
    }
}
