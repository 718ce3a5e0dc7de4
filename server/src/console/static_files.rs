//! The console's one stylesheet and one small script, compiled into the
//! binary and served with a content hash in their address (so a new build
//! is never hidden by a browser's cache).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../../static/console.css");
const JS: &str = include_str!("../../static/console.js");

fn versioned(path: &str, body: &str, cell: &'static OnceLock<String>) -> &'static str {
    cell.get_or_init(|| {
        let hash = crate::auth::sha256_hex(body);
        format!("{path}?v={}", &hash[..12])
    })
}

pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    versioned("/static/console.css", CSS, &URL)
}

pub fn js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    versioned("/static/console.js", JS, &URL)
}

const CACHE: &str = "public, max-age=31536000, immutable";

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        CSS,
    )
}

pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        JS,
    )
}
