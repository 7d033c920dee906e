//! The demo city's evidence archive: due dates on its requirements (a few
//! already past), a source named on every requirement one fits (case
//! statistics where the catalogue maps categories to the standard, round
//! reports and photo pairs where it is inspected on site, the task table
//! beside every work plan), and units' materials in every state —
//! accepted, returned with a reason, waiting — with some still missing.
//! The generated materials themselves are built by the web layer
//! (`wenming_web::load_demo_materials`), which writes their workbooks.

use super::sys;
use crate::evidence::{self as ev, Decision, MaterialInput, RequirementEdit, RequirementFilter};
use crate::files::Files;
use crate::{Ctx, Store, StoreError};
use wenming_domain::evidence::Source;
use wenming_domain::framework::{EvidenceType, Method};

/// A small, well-formed one-page PDF whose text names the material.
fn demo_pdf(n: usize) -> Vec<u8> {
    let text = format!("Qinglan demo material No. {n}");
    let stream = format!("BT /F1 14 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub async fn load(store: &Store, files: &Files) -> Result<(), StoreError> {
    let Some(fw) = crate::framework::active(store).await? else {
        return Ok(());
    };
    let city = crate::org::whole_city(store).await?;
    let ctx = Ctx::system("demo");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let reqs = ev::requirements(store, &city, fw.id, &RequirementFilter::default(), today).await?;
    let catalogue = crate::case::categories(store).await?;
    // Due dates: most at the end of next month, one in nine already past.
    let next_month_end = today
        .last_of_month()
        .tomorrow()
        .map(|d| d.last_of_month())
        .unwrap_or(today);
    let standards: std::collections::HashMap<uuid::Uuid, crate::framework::StoredStandard> =
        crate::framework::nodes(store, fw.id)
            .await?
            .into_iter()
            .filter_map(|n| n.standard.map(|s| (n.id, s)))
            .collect();
    for (i, q) in reqs.iter().enumerate() {
        let on_site = standards.get(&q.standard_id).is_some_and(|s| {
            s.methods.contains(&Method::SiteInspection) && !s.site_types.is_empty()
        });
        let mapped: Vec<String> = catalogue
            .iter()
            .filter(|c| c.parent_id.is_some() && c.standard_codes.contains(&q.standard_code))
            .map(|c| c.code.clone())
            .collect();
        let surveyed = standards
            .get(&q.standard_id)
            .is_some_and(|s| s.methods.contains(&Method::Survey));
        let mut title = q.title.clone();
        let source = match q.evidence_type {
            EvidenceType::StatisticsTable if !mapped.is_empty() => {
                Some(Source::CaseStatistics { categories: mapped })
            }
            EvidenceType::StatisticsTable | EvidenceType::Statement if on_site => {
                Some(Source::RoundReports { kinds: vec![] })
            }
            EvidenceType::StatisticsTable | EvidenceType::Statement if surveyed => {
                Some(Source::SurveyResults)
            }
            EvidenceType::Photo if on_site || !mapped.is_empty() => {
                Some(Source::PhotoPairs { categories: vec![] })
            }
            // The task table is the companion of a standard's work plan.
            EvidenceType::PolicyDocument => {
                title = "工作方案、制度及任务分解表".into();
                Some(Source::TaskTable {
                    whole_framework: false,
                })
            }
            _ => None,
        };
        let due = if i % 9 == 4 {
            today.checked_sub(jiff::Span::new().days(10)).ok()
        } else {
            Some(next_month_end)
        };
        ev::update_requirement(
            store,
            &ctx,
            &sys(&city),
            q.id,
            q.version,
            &RequirementEdit {
                evidence_type: q.evidence_type,
                title,
                needed: q.needed,
                unit_id: q.unit_id,
                due_on: due,
                source,
            },
        )
        .await?;
    }
    // Units file for about half of what is asked of them (what the cases
    // can build is left to the office's generate button), and the office
    // has decided on most.
    let reqs = ev::requirements(store, &city, fw.id, &RequirementFilter::default(), today).await?;
    let doc_date = today
        .checked_sub(jiff::Span::new().days(20))
        .unwrap_or(today);
    for (i, q) in reqs.iter().enumerate() {
        // Units file their work plans (with 文号) beside the generated task
        // table; what else has a source is left to the generated material.
        let plan = q.evidence_type == EvidenceType::PolicyDocument;
        if (q.source.is_some() && !plan) || q.unit_id.is_none() || i % 2 == 1 {
            continue;
        }
        let filed = ev::file_material(
            store,
            files,
            &ctx,
            &sys(&city),
            &MaterialInput {
                evidence_type: q.evidence_type,
                title: format!("{}（{}）", q.title, q.standard_code),
                doc_date: Some(doc_date),
                doc_number: (q.evidence_type == EvidenceType::PolicyDocument)
                    .then(|| format!("青创文〔{}〕{}号", today.year(), i + 1)),
                file_name: format!("{}-{}.pdf", q.standard_code, i + 1),
                requirement_ids: vec![q.id],
                generated_from: None,
            },
            demo_pdf(i).into(),
        )
        .await?;
        let subs = ev::submissions(store, q).await?;
        let Some(s) = subs.iter().find(|s| s.material.id == filed.material.id) else {
            continue;
        };
        let decision = match i % 10 {
            0 | 2 | 4 => Some(Decision::Accept),
            6 => Some(Decision::Return {
                reason: "缺少盖章页，请补充后重新报送".into(),
            }),
            _ => None,
        };
        if let Some(d) = decision {
            ev::decide(store, &ctx, &sys(&city), s.id, s.version, &d).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_pdf_is_a_pdf_with_its_cross_reference_where_it_says() {
        let pdf = super::demo_pdf(3);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let text = String::from_utf8(pdf.clone()).unwrap();
        let at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[at..].starts_with("xref"));
        assert!(text.contains("Qinglan demo material No. 3"));
    }
}
