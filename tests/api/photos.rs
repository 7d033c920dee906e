//! Photos on cases: judged by content, fingerprinted, shown only to those
//! who may see the case, and flagged for the verifier when an "after"
//! picture is re-used, old or taken elsewhere.

use crate::cases::*;
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wenming_domain::geo::Point;
use wenming_store::photo::synthetic_jpeg;

on_both!(
    photos_are_judged_by_content_and_only_their_cases_viewers_see_them,
    reused_old_and_distant_after_photos_are_flagged_for_the_verifier,
    refused_reports_and_abandoned_uploads_leave_no_files,
);

fn code(v: &serde_json::Value) -> (&str, &str) {
    (
        v["errors"][0]["field"].as_str().unwrap_or(""),
        v["errors"][0]["code"].as_str().unwrap_or(""),
    )
}

async fn photos_of(app: &TestApp, token: &str, case: &serde_json::Value) -> serde_json::Value {
    let call = bearer(&format!("http://{}", app.addr));
    call(
        Method::GET,
        &format!("/cases/{}/photos", case["id"].as_str().unwrap()),
        token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn photos_are_judged_by_content_and_only_their_cases_viewers_see_them(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    // Not a picture, whatever it is called; and one over the size cap.
    let r = upload_photo(&app, &inspector, b"%PDF-1.7 a renamed document".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&r.json().await.unwrap()), ("file", "not_an_image"));
    let mut huge = synthetic_jpeg(1, None, None);
    // Just past the cap, so that the refusal is read rather than cut off
    // while the rest of the body is still being sent.
    huge.resize(10 * 1024 * 1024 + 4096, 0);
    let r = upload_photo(&app, &inspector, huge).await;
    assert_eq!(code(&r.json().await.unwrap()), ("file", "photo_too_large"));
    assert_eq!(app.count("photo").await, 0, "nothing refused is kept");

    // A report with a picture of the problem.
    let here = Point {
        lon: IN_LJ.0,
        lat: IN_LJ.1,
    };
    let taken = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
    let bytes = synthetic_jpeg(11, Some(taken), Some(here));
    let r = upload_photo(&app, &inspector, bytes.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let staged: serde_json::Value = r.json().await.unwrap();
    assert_eq!(staged["kind"], "jpeg");
    assert_eq!(staged["case_id"], serde_json::Value::Null);
    assert_eq!(
        staged["sha256"].as_str().unwrap(),
        {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&bytes))
        },
        "the fingerprint is of the file as sent"
    );
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::POST, "/cases", &inspector)
        .json(&json!({"source": "inspection", "category_id": sub(&cats, "0101").id,
            "description": "垃圾桶满溢", "lon": IN_LJ.0, "lat": IN_LJ.1, "photo_ids": [staged["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: serde_json::Value = r.json().await.unwrap();
    let list = photos_of(&app, &office, &c).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let p = &list[0];
    assert_eq!(p["role"], "before");
    assert_eq!(p["width"], 640);
    // EXIF read back: the capture time (to the second) and the place.
    let read_back: jiff::Timestamp = p["taken_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(read_back.as_second(), taken.as_second());
    assert!((p["gps_lon"].as_f64().unwrap() - IN_LJ.0).abs() < 1e-4);
    assert_eq!(p["flags"], json!([]));
    // The same upload cannot go on a second case.
    let r = call(Method::POST, "/cases", &inspector)
        .json(&json!({"source": "inspection", "category_id": sub(&cats, "0101").id,
            "description": "再报一次", "lon": IN_LJ.0, "lat": IN_LJ.1, "photo_ids": [staged["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        code(&r.json().await.unwrap()),
        ("photo_ids", "unknown_photo")
    );

    // The original comes back byte for byte, and a thumbnail as JPEG, to
    // those who may see the case; a unit it was never sent to gets nothing.
    let pid = p["id"].as_str().unwrap();
    let r = call(Method::GET, &format!("/photos/{pid}/original"), &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    let r = call(Method::GET, &format!("/photos/{pid}/thumbnail"), &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let thumb = r.bytes().await.unwrap();
    assert_eq!(&thumb[..3], &[0xFF, 0xD8, 0xFF]);
    for path in [
        format!("/photos/{pid}/original"),
        format!("/photos/{pid}"),
        format!("/cases/{}/photos", c["id"].as_str().unwrap()),
    ] {
        let r = call(Method::GET, &path, &unit).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The page route serves the same file to a signed-in browser.
    let s = app.as_role("office").await;
    let r = s.get(&format!("/photos/{pid}/thumbnail")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn reused_old_and_distant_after_photos_are_flagged_for_the_verifier(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit) = (
        app.token("office", false).await,
        app.token("unit", false).await,
    );
    let here = Point {
        lon: IN_LJ.0,
        lat: IN_LJ.1,
    };
    let ten_minutes_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10);
    let before_bytes = synthetic_jpeg(21, Some(ten_minutes_ago), Some(here));
    let r = upload_photo(&app, &office, before_bytes.clone()).await;
    let before: serde_json::Value = r.json().await.unwrap();
    let call = bearer(&format!("http://{}", app.addr));
    let c: serde_json::Value = call(Method::POST, "/cases", &office)
        .json(&json!({"source": "hotline", "category_id": sub(&cats, "0101").id,
            "description": "路边堆放建筑垃圾", "lon": IN_LJ.0, "lat": IN_LJ.1, "photo_ids": [before["id"]]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = register_and_dispatch(&app, &office, &c, "市城市管理局", 48).await;
    // A fix reported with no picture is refused; so is someone else's upload.
    let r = step_with(
        &app,
        &unit,
        &c,
        json!({"step": "handle", "note": "已清理"}),
        &[],
    )
    .await;
    assert_eq!(
        code(&r.json().await.unwrap()),
        ("photo_ids", "photo_required")
    );
    let office_upload: serde_json::Value = upload_photo(
        &app,
        &office,
        synthetic_jpeg(22, Some(jiff::Timestamp::now()), Some(here)),
    )
    .await
    .json()
    .await
    .unwrap();
    let r = step_with(
        &app,
        &unit,
        &c,
        json!({"step": "handle", "note": "已清理"}),
        &[office_upload["id"].as_str().unwrap().to_string()],
    )
    .await;
    assert_eq!(
        code(&r.json().await.unwrap()),
        ("photo_ids", "unknown_photo")
    );
    // The unit hands in: the problem's own photo again, one taken two days
    // ago, one taken a kilometre away, and one honest picture.
    let mut ids = vec![];
    let old = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48);
    let away = Point {
        lon: IN_LJ.0,
        lat: IN_LJ.1 + 0.01,
    };
    for bytes in [
        before_bytes.clone(),
        synthetic_jpeg(23, Some(old), Some(here)),
        synthetic_jpeg(24, Some(jiff::Timestamp::now()), Some(away)),
        synthetic_jpeg(25, Some(jiff::Timestamp::now()), Some(here)),
    ] {
        let v: serde_json::Value = upload_photo(&app, &unit, bytes).await.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let r = step_with(
        &app,
        &unit,
        &c,
        json!({"step": "handle", "note": "已清理"}),
        &ids,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let list = photos_of(&app, &office, &c).await;
    let flags_of = |id: &str| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["flag"].as_str().unwrap().to_string())
            .collect()
    };
    // The problem's own picture was also taken before the dispatch.
    assert_eq!(flags_of(&ids[0]), ["taken_before_dispatch", "same_file"]);
    assert_eq!(flags_of(&ids[1]), ["taken_before_dispatch"]);
    assert_eq!(flags_of(&ids[2]), ["far_from_case"]);
    assert!(
        flags_of(&ids[3]).is_empty(),
        "an honest photo carries no flag"
    );
    // The verifier is told on the case page, with the reasons under the pictures.
    let s = app.as_role("inspector").await;
    let (_, page) = s
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("下方有整改照片带有警示"), "{page}");
    assert!(page.contains("与本案的“整改前”照片是同一文件"));
    assert!(page.contains("拍摄时间早于派遣时间"));
    assert!(page.contains("拍摄地点距问题位置"));

    // The same picture re-encoded (no EXIF, other bytes) reported on
    // another case is near-identical, and names the first case.
    let copy = synthetic_jpeg(21, None, None);
    let v: serde_json::Value = upload_photo(&app, &office, copy)
        .await
        .json()
        .await
        .unwrap();
    let c2: serde_json::Value = call(Method::POST, "/cases", &office)
        .json(
            &json!({"source": "hotline", "category_id": sub(&cats, "0102").id,
            "description": "另一处问题", "lon": IN_FM.0, "lat": IN_FM.1, "photo_ids": [v["id"]]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = photos_of(&app, &office, &c2).await;
    let f = &list[0]["flags"][0];
    assert_eq!(f["flag"], "near_identical");
    assert_eq!(f["case_id"], c["id"]);
    assert_eq!(f["role"], "before");
}

async fn refused_reports_and_abandoned_uploads_leave_no_files(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    // The report form, with a photo and no category: the form comes back
    // with the error, and the photo it carried is kept for it (staged, not
    // attached), so the clerk need not choose it again.
    let bytes = synthetic_jpeg(31, Some(jiff::Timestamp::now()), None);
    let form = reqwest::multipart::Form::new()
        .text("csrf", s.csrf.clone())
        .text("source", "hotline")
        .text("description", "井盖缺失")
        .text("address", "望岳路 12 号")
        .part(
            "photos",
            reqwest::multipart::Part::bytes(bytes).file_name("a.jpg"),
        );
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("请填写此项"));
    assert_eq!(app.count("photo").await, 1);
    let at = html.find("name=\"staged\" value=\"").unwrap() + 21;
    let staged = html[at..at + 36].to_string();
    // A document sent as a photo is named as such on the form.
    let cats = catalogue(&app).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", s.csrf.clone())
        .text("source", "hotline")
        .text("category_id", sub(&cats, "0101").id.to_string())
        .text("description", "井盖缺失")
        .text("address", "望岳路 12 号")
        .part(
            "photos",
            reqwest::multipart::Part::bytes(b"<html>not a photo</html>".to_vec())
                .file_name("a.jpg"),
        );
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("这不是照片"));
    assert_eq!(
        app.count("case_record").await,
        0,
        "no case without its photo"
    );
    // The same form done right, with the photo it kept, makes the case.
    let form = reqwest::multipart::Form::new()
        .text("csrf", s.csrf.clone())
        .text("source", "hotline")
        .text("category_id", sub(&cats, "0101").id.to_string())
        .text("description", "井盖缺失")
        .text("address", "望岳路 12 号")
        .text("staged", staged);
    let r = s
        .client
        .post(s.url("/cases"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("photo").await, 1);

    // An upload never used, and a file whose row never landed (a crash
    // between the two): the sweep removes both, and nothing attached.
    let office = app.token("office", false).await;
    let abandoned: serde_json::Value = upload_photo(&app, &office, synthetic_jpeg(32, None, None))
        .await
        .json()
        .await
        .unwrap();
    let abandoned = abandoned["id"].as_str().unwrap().to_string();
    app.files
        .put(
            "photos/00000000-0000-0000-0000-000000000001",
            vec![1u8, 2, 3].into(),
        )
        .await
        .unwrap();
    // A day is the grace period; the test asks for none.
    let removed = wenming_store::photo::sweep(&app.store, &app.files, -60)
        .await
        .unwrap();
    assert_eq!(
        removed, 3,
        "the abandoned original and thumbnail, and the orphan"
    );
    assert_eq!(app.count("photo").await, 1, "the attached photo stays");
    assert!(app.files.get(&format!("photos/{abandoned}")).await.is_err());
}
