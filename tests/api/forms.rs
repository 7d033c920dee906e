//! Forms that keep faith: a form sent back for a mistake keeps what was
//! typed and attached, and says what is wrong beside the field, in a
//! clerk's words.

use crate::cases::{IN_LJ, catalogue, register_and_dispatch, report, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::StatusCode;

on_both!(
    a_report_sent_back_keeps_its_photos,
    a_step_sent_back_says_what_is_wrong_beside_the_field,
);

/// The value of the form's hidden `staged` field.
fn staged(html: &str) -> String {
    let at = html
        .find("name=\"staged\" value=\"")
        .expect("the form carries its photos")
        + 21;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

async fn a_report_sent_back_keeps_its_photos(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let cats = catalogue(&app).await;
    let form = |description: &str, staged: &str, photo: Option<Vec<u8>>| {
        let mut f = reqwest::multipart::Form::new()
            .text("csrf", s.csrf.clone())
            .text("client_id", uuid::Uuid::new_v4().to_string())
            .text("source", "hotline")
            .text("category_id", sub(&cats, "0101").id.to_string())
            .text("description", description.to_string())
            .text("address", "望岳路 12 号")
            .text("staged", staged.to_string());
        if let Some(p) = photo {
            f = f.part(
                "photos",
                reqwest::multipart::Part::bytes(p).file_name("井盖.jpg"),
            );
        }
        f
    };
    let photo = wenming_store::photo::synthetic_jpeg(41, Some(jiff::Timestamp::now()), None);
    // The description is forgotten: the form comes back, and the photo
    // with it, shown and carried.
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form("", "", Some(photo)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let kept = staged(&html);
    let id: uuid::Uuid = kept.parse().expect("one staged photo");
    assert!(html.contains(&format!("/photos/{id}/thumbnail")), "shown");
    assert!(html.contains("以下照片已保留"));
    assert!(
        html.contains("id=\"e-description\""),
        "the error is at the field"
    );
    // Sent again with the description, and no new file: the photo goes
    // with the case.
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form("人行道井盖缺失", &kept, None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case_id: uuid::Uuid = location(&r)
        .trim_start_matches("/cases/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let photos = wenming_store::photo::of_case(&app.store, case_id)
        .await
        .unwrap();
    assert_eq!(photos.iter().map(|p| p.id).collect::<Vec<_>>(), vec![id]);

    // Someone else's staged photo is not theirs to attach.
    let theirs = wenming_store::photo::synthetic_jpeg(42, Some(jiff::Timestamp::now()), None);
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form("", "", Some(theirs)))
        .send()
        .await
        .unwrap();
    let other = staged(&r.text().await.unwrap());
    let inspector = app.as_role("inspector").await;
    let f = reqwest::multipart::Form::new()
        .text("csrf", inspector.csrf.clone())
        .text("client_id", uuid::Uuid::new_v4().to_string())
        .text("source", "inspection")
        .text("category_id", sub(&cats, "0101").id.to_string())
        .text("description", "路面破损")
        .text("address", "滨江路 1 号")
        .text("staged", other.clone());
    let r = inspector
        .client
        .post(inspector.url("/cases"))
        .multipart(f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(!html.contains(&other), "the foreign id is not carried on");
    assert_eq!(app.count("case_record").await, 1);
}

async fn a_step_sent_back_says_what_is_wrong_beside_the_field(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let c = report(&app, &office, sub(&cats, "0101").id, IN_LJ).await;
    let c = register_and_dispatch(&app, &office, &c, "市城市管理局", 48).await;
    let id = c["id"].as_str().unwrap();
    let version = c["version"].to_string();
    // The unit asks for an extension and forgets the date: told beside the
    // date, in words, with the reason it typed still there.
    let unit = app.as_role("unit").await;
    let r = unit
        .post(
            &format!("/cases/{id}/step"),
            &[
                ("version", &version),
                ("step", "ask"),
                ("ask", "extend"),
                ("reason", "需要等待配件到货"),
                ("until", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let at = html
        .find("id=\"e-until\"")
        .expect("the error stands at the date");
    assert!(html[at..].starts_with("id=\"e-until\">⚠ 请选择申请延期到的日期和时间"));
    assert!(
        html.contains("value=\"需要等待配件到货\""),
        "the reason is kept"
    );
    assert!(html.contains("<details open>"), "the request form is open");
    assert!(!html.contains("格式"), "not called a format error");

    // The office voids a case and leaves the reason empty.
    let s = app.as_role("office").await;
    let r = s
        .post(
            &format!("/cases/{id}/step"),
            &[("version", &version), ("step", "void"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let at = html
        .find("id=\"e-vreason\"")
        .expect("the error stands at the reason");
    assert!(html[at..].starts_with("id=\"e-vreason\">⚠ 请填写此项"));
    // A refusal that belongs to no field is said above the forms.
    let r = unit
        .post(
            &format!("/cases/{id}/step"),
            &[
                ("version", &version),
                ("step", "void"),
                ("reason", "不归我们管"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("role=\"alert\">⚠ 您不能"));
}
