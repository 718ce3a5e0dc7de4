//! The console speaks Vietnamese by default and English when asked
//! (`?lang=en`, remembered in a cookie).

use axum::http::request::Parts;

/// The language a page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "sotay_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The Vietnamese or the English text.
    pub fn t<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// Like [`Lang::t`] for texts made with `format!`.
    pub fn pick(self, vi: String, en: String) -> String {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// `?lang=` first, then the cookie, then Vietnamese.
    pub fn of(parts: &Parts) -> Lang {
        query_lang(parts.uri.query())
            .or_else(|| super::session::cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or_default()
    }
}

/// The language a query string asks for, if any.
pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_then_cookie_then_vietnamese() {
        let req = |uri: &str, cookie: Option<&str>| {
            let mut b = axum::http::Request::builder().uri(uri);
            if let Some(c) = cookie {
                b = b.header(axum::http::header::COOKIE, c);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(Lang::of(&req("/", None)), Lang::Vi);
        assert_eq!(Lang::of(&req("/?lang=en", None)), Lang::En);
        assert_eq!(Lang::of(&req("/", Some("a=b; sotay_lang=en"))), Lang::En);
        assert_eq!(
            Lang::of(&req("/workers?q=lan&lang=vi", Some("sotay_lang=en"))),
            Lang::Vi
        );
        assert_eq!(Lang::of(&req("/?lang=fr", None)), Lang::Vi);
    }
}
