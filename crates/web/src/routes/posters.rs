//! Posters of public links to print and put up in a community or at a
//! service window: each card a name, the link's QR code and the link.

use crate::AppState;
use crate::page::{PageCtx, render};
use askama::Template;
use axum::http::{HeaderMap, header};
use axum::response::Response;

pub struct Card {
    pub name: String,
    pub url: String,
    /// The QR code as an SVG element (made by us, not by the user).
    pub svg: String,
}

#[derive(Template)]
#[template(path = "posters.html")]
struct PostersPage {
    p: PageCtx,
    title: String,
    cards: Vec<Card>,
    /// What a passer-by reads under the code.
    call: &'static str,
    back: String,
}

/// The address phones reach the server at: the configured public address,
/// else the one this request came to.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// One card a link (`(name, path)`), QR codes drawn for the full address.
pub fn page(
    p: PageCtx,
    base: &str,
    title: String,
    links: Vec<(String, String)>,
    call: &'static str,
    back: String,
) -> Response {
    let cards = links
        .into_iter()
        .map(|(name, path)| {
            let url = format!("{base}{path}");
            Card {
                svg: wenming_reports::qr::svg(&url).unwrap_or_default(),
                name,
                url,
            }
        })
        .collect();
    render(&PostersPage {
        p,
        title,
        cards,
        call,
        back,
    })
}
