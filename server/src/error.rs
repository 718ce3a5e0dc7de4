//! Errors as RFC 9457 problem details: a stable machine `code`, a message a
//! person can act on (Vietnamese by default, English when the request prefers
//! it), and never a server internal in a 5xx.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbError;
use crate::import::rows::RowError;

/// An error a handler returns (boxed: errors are the rare path).
#[derive(Debug)]
pub struct AppError(Box<ErrorDetail>);

/// What an [`AppError`] says.
#[derive(Debug)]
pub struct ErrorDetail {
    pub status: StatusCode,
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
    pub errors: Vec<RowError>,
    /// Records the error is about (an approval's records that cannot post).
    pub records: Vec<uuid::Uuid>,
    pub retry_after: Option<u64>,
    /// Logged, never sent.
    pub internal: Option<String>,
}

impl std::ops::Deref for AppError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for AppError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

impl AppError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        vi: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        AppError(Box::new(ErrorDetail {
            status,
            code,
            message_vi: vi.into(),
            message_en: en.into(),
            errors: Vec::new(),
            records: Vec::new(),
            retry_after: None,
            internal: None,
        }))
    }

    pub fn bad_request(code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, vi, en)
    }

    /// A field that fails validation: the message names it.
    pub fn invalid_field(field: &str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", vi, en);
        let item = RowError {
            file: String::new(),
            line: 0,
            column: field.to_string(),
            message_vi: e.message_vi.clone(),
            message_en: e.message_en.clone(),
            refers_to: None,
            unlisted: 0,
        };
        e.errors.push(item);
        e
    }

    pub fn unauthorized(code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, vi, en)
    }

    pub fn forbidden_role() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Vai trò của bạn không được phép thực hiện thao tác này",
            "your role is not allowed to do this",
        )
    }

    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Không tìm thấy {what_vi}, hoặc bạn không có quyền xem"),
            format!("{what_en} not found, or not yours to see"),
        )
    }

    pub fn conflict(code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, vi, en)
    }

    pub fn import_rejected(errors: Vec<RowError>) -> Self {
        // The line that says how many were left out counts them.
        let n: usize = errors.iter().map(|e| e.unlisted.max(1)).sum();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!("Tệp nhập bị từ chối: {n} lỗi; không có dữ liệu nào được nhập"),
            format!("the import was refused: {n} error(s); nothing was imported"),
        );
        e.errors = errors;
        e
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Lỗi máy chủ; thao tác không được thực hiện. Vui lòng thử lại hoặc báo quản trị viên",
            "server error; nothing was done. Try again or tell your administrator",
        );
        e.internal = Some(detail.to_string());
        e
    }

    /// The database, not the server, does not answer: said as it is, to
    /// the user (the operator's to fix, not a moment's wait) and in the log.
    pub fn database_unavailable(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Máy chủ không kết nối được cơ sở dữ liệu: không có gì được ghi; thử lại sau ít phút, nếu vẫn vậy hãy báo quản trị viên (kiểm tra cơ sở dữ liệu có đang chạy và đường mạng tới nó)",
            "the server cannot reach its database: nothing was written; try again in a few minutes, and if it lasts tell your administrator (check that the database is running and reachable)",
        );
        e.retry_after = Some(5);
        e.internal = Some(detail.to_string());
        e
    }

    /// The database's disk is full: said as such, to the person and in the
    /// log, rather than as an error of the server.
    pub fn storage_full(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_full",
            "Ổ đĩa của máy chủ đã đầy nên không có gì được ghi lên máy chủ; hãy báo quản trị viên giải phóng chỗ trống cho cơ sở dữ liệu rồi thử lại",
            "the server's disk is full, so nothing was written to it; tell your administrator to free space for the database, then try again",
        );
        e.retry_after = Some(60);
        e.internal = Some(detail.to_string());
        e
    }

    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Máy chủ đang bận; vui lòng thử lại sau ít phút",
            "the server is busy; try again in a moment",
        );
        e.retry_after = Some(5);
        e.internal = Some(detail.to_string());
        e
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::not_found("đối tượng", "object"),
            DbError::Conflict(m) => AppError::conflict("conflict", m.clone(), m),
            DbError::Rows(rows) => AppError::import_rejected(rows),
            DbError::Invalid(m) => AppError::bad_request("invalid", m.clone(), m),
            DbError::Refused(r) => {
                let mut e = AppError::new(
                    StatusCode::from_u16(r.status).unwrap_or(StatusCode::CONFLICT),
                    r.code,
                    r.vi,
                    r.en,
                );
                e.records = r.records;
                e
            }
            DbError::Unreachable(cause) => AppError::database_unavailable(cause),
            e if e.is_storage_full() => AppError::storage_full(e),
            e if e.is_transient() => AppError::unavailable(e),
            e => AppError::internal(e),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => invalid_body(&e.body_text()),
            JsonRejection::JsonSyntaxError(e) => AppError::bad_request(
                "malformed_json",
                format!("JSON không đúng cú pháp: {}", e.body_text()),
                format!("malformed JSON: {}", e.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_expected",
                "Cần gửi Content-Type: application/json",
                "send Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large()
            }
            other => AppError::bad_request("bad_request", other.body_text(), other.body_text()),
        }
    }
}

/// A JSON body that parsed but does not fit the request (a field missing,
/// of the wrong type, not a UUID, unknown): 422 `invalid_body`, naming the
/// field in words a person can act on, and in `errors`.
fn invalid_body(text: &str) -> AppError {
    // axum, then serde: "Failed to deserialize the JSON body into the
    // target type: client_id: UUID parsing failed: … at line 1 column 24".
    let detail = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let detail = detail.rfind(" at line ").map_or(detail, |i| &detail[..i]);
    let (path, why) = match detail.split_once(": ") {
        Some((p, w)) if !p.is_empty() && !p.contains(' ') => (Some(p), w),
        _ => (None, detail),
    };
    let named = |name: &str| path.map_or(name.to_string(), |p| format!("{p}.{name}"));
    let quoted = |rest: &str| rest.split('`').next().unwrap_or_default().to_string();
    let (field, vi, en) = if let Some(rest) = why.strip_prefix("missing field `") {
        let field = named(&quoted(rest));
        (
            field.clone(),
            format!("Thiếu trường \"{field}\""),
            format!("the field \"{field}\" is missing"),
        )
    } else if let Some(rest) = why.strip_prefix("unknown field `") {
        let field = named(&quoted(rest));
        let known = rest
            .split_once(", expected ")
            .map(|(_, k)| k.trim_start_matches("one of ").replace('`', ""))
            .unwrap_or_default();
        (
            field.clone(),
            format!("Không nhận trường \"{field}\" (các trường: {known})"),
            format!("the field \"{field}\" is not taken (the fields are: {known})"),
        )
    } else if why.starts_with("UUID parsing failed") {
        let field = path.unwrap_or("id").to_string();
        (
            field.clone(),
            format!("\"{field}\" phải là một mã UUID, ví dụ 01936f0e-5c8a-7b31-9f2e-4d1a2b3c4d5e (mỗi yêu cầu một mã mới)"),
            format!("\"{field}\" must be a UUID, e.g. 01936f0e-5c8a-7b31-9f2e-4d1a2b3c4d5e (a new one for each request)"),
        )
    } else {
        let field = path.unwrap_or("body").to_string();
        (
            field.clone(),
            format!("Trường \"{field}\" không hợp lệ ({why})"),
            format!("the field \"{field}\" is not valid ({why})"),
        )
    };
    let mut e = AppError::invalid_field(&field, vi, en);
    e.code = "invalid_body";
    e
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        path_rejected(&r)
    }
}

/// An address whose id does not read (`/loans/abc`): nothing by that
/// name, as for an id that does not exist.
pub fn path_rejected(r: &PathRejection) -> AppError {
    match r {
        PathRejection::FailedToDeserializePathParams(_) => {
            AppError::not_found("đối tượng", "object")
        }
        other => AppError::internal(other.body_text()),
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        invalid_query(&r)
    }
}

/// A query string that does not read (`?days=30 ngày`): 422, naming the
/// parameter.
pub fn invalid_query(r: &QueryRejection) -> AppError {
    invalid_query_in(r, None)
}

/// [`invalid_query`], with the address's query string to quote the value
/// that did not read (`branch_id=abc`): a number is asked for with an
/// example, not with the parser's own words.
pub fn invalid_query_in(r: &QueryRejection, query: Option<&str>) -> AppError {
    let text = r.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    // serde, through axum: "q: unknown field `q`, expected one of `worker_id`, `status`"
    if let Some((field, expected)) = detail
        .split_once(": unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
    {
        let known = expected
            .trim_start_matches(", expected ")
            .trim_start_matches("one of ")
            .replace('`', "");
        return AppError::invalid_field(
            field,
            format!("Địa chỉ này không nhận tham số \"{field}\" (tham số dùng được: {known})"),
            format!("this address takes no parameter \"{field}\" (it takes: {known})"),
        );
    }
    match detail.split_once(": ") {
        Some((field, why)) if !field.is_empty() && !field.contains(' ') => {
            // What was typed, as the address has it (decoded).
            let typed = query
                .and_then(|q| {
                    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
                        &format!("/?{q}").parse().ok()?,
                    )
                    .ok()
                })
                .and_then(|axum::extract::Query(pairs)| {
                    pairs.into_iter().find(|(k, _)| k == field).map(|(_, v)| v)
                })
                // Quoted, not the whole of whatever was sent.
                .map(|v| match v.char_indices().nth(40) {
                    Some((cut, _)) => format!("{}…", &v[..cut]),
                    None => v,
                });
            let (typed_vi, typed_en) = match &typed {
                Some(v) => (
                    format!(" (nhận được \"{v}\")"),
                    format!(" (\"{v}\" was given)"),
                ),
                None => (String::new(), String::new()),
            };
            let number = [
                "invalid digit found in string",
                "cannot parse integer from empty string",
                "number too large to fit in target type",
                "number too small to fit in target type",
            ];
            if number.contains(&why) {
                let example = match field {
                    "days" => "30",
                    "limit" => "50",
                    "offset" => "0",
                    _ => "1",
                };
                return AppError::invalid_field(
                    field,
                    format!("Tham số \"{field}\" trên địa chỉ phải là một số nguyên, ví dụ {field}={example}{typed_vi}"),
                    format!("query parameter \"{field}\" must be a whole number, e.g. {field}={example}{typed_en}"),
                );
            }
            if why.starts_with("provided string was not `true` or `false`") {
                return AppError::invalid_field(
                    field,
                    format!("Tham số \"{field}\" trên địa chỉ phải là true hoặc false, ví dụ {field}=true{typed_vi}"),
                    format!("query parameter \"{field}\" must be true or false, e.g. {field}=true{typed_en}"),
                );
            }
            AppError::invalid_field(
                field,
                format!("Tham số \"{field}\" trên địa chỉ không hợp lệ ({why})"),
                format!("query parameter \"{field}\" is not valid ({why})"),
            )
        }
        _ => AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            format!("Địa chỉ có tham số không hợp lệ ({detail})"),
            format!("the address has a parameter that is not valid ({detail})"),
        ),
    }
}

pub fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Nội dung gửi lên quá lớn",
        "the request body is too large",
    )
}

/// JSON body extractor whose rejections are problem details.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Path extractor whose rejections are problem details.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query string extractor whose rejections are problem details, quoting
/// the value that did not read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|r| invalid_query_in(&r, parts.uri.query()))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The problem-details body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The detail in English too, when `detail` is in Vietnamese: a phone
    /// shows the officer both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_en: Option<String>,
    /// Stable machine code, e.g. `invalid_credentials`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
    /// The records the problem is about, e.g. those that cannot post when
    /// an approval is refused (`posting_refused`): exclude them and approve again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<uuid::Uuid>,
}

/// One field or row error inside a problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemItem {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub line: u64,
    pub column: String,
    pub message: String,
    /// The message in English too, when `message` is in Vietnamese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_en: Option<String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Both languages travel with the response until [`localize`] picks one.
#[derive(Clone)]
struct Localized(std::sync::Arc<AppError>);

impl AppError {
    fn problem(&self, english: bool) -> Problem {
        let status = self.status;
        Problem {
            kind: format!("/problems/{}", self.code.replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: if english {
                &self.message_en
            } else {
                &self.message_vi
            }
            .clone(),
            detail_en: (!english).then(|| self.message_en.clone()),
            code: self.code.to_string(),
            errors: self
                .errors
                .iter()
                .map(|r| ProblemItem {
                    file: r.file.clone(),
                    line: r.line,
                    column: r.column.clone(),
                    message: if english {
                        &r.message_en
                    } else {
                        &r.message_vi
                    }
                    .clone(),
                    message_en: (!english).then(|| r.message_en.clone()),
                })
                .collect(),
            records: self.records.clone(),
        }
    }

    fn render(&self, english: bool) -> Response {
        let mut resp = (self.status, axum::Json(self.problem(english))).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(
                code = self.code,
                internal = self.internal.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let mut resp = self.render(false);
        resp.extensions_mut()
            .insert(Localized(std::sync::Arc::new(self)));
        resp
    }
}

/// True when the request's Accept-Language prefers English over Vietnamese.
pub fn prefers_english(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(&str, f32)> = None;
    for part in value.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = if tag.starts_with("en") {
            "en"
        } else if tag.starts_with("vi") {
            "vi"
        } else {
            continue;
        };
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((lang, q));
        }
    }
    matches!(best, Some(("en", _)))
}

/// Middleware: re-renders problem responses in English when asked, and turns
/// axum's plain-text 413 into a problem.
pub async fn localize(req: Request, next: Next) -> Response {
    let english = prefers_english(req.headers());
    let mut resp = next.run(req).await;
    if let Some(Localized(err)) = resp.extensions_mut().remove::<Localized>() {
        if english {
            return err.render(true);
        }
        return resp;
    }
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large().render(english);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_negotiation() {
        let mut h = HeaderMap::new();
        assert!(!prefers_english(&h));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-US,en;q=0.9"),
        );
        assert!(prefers_english(&h));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("vi-VN,vi;q=0.9,en;q=0.8"),
        );
        assert!(!prefers_english(&h));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, en;q=0.5"),
        );
        assert!(prefers_english(&h));
    }

    #[test]
    fn a_pool_with_no_connection_is_a_database_unreachable() {
        use crate::db::DbError;
        let down = AppError::from(DbError::Unreachable(
            "Connection refused (os error 111)".into(),
        ));
        assert_eq!(
            (down.status, down.code),
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
        );
        assert!(down.message_vi.contains("không kết nối được cơ sở dữ liệu"));
        // Every connection busy: a moment's wait.
        let busy = AppError::from(DbError::Sqlx(sqlx::Error::PoolTimedOut));
        assert_eq!(busy.code, "unavailable");
    }

    #[test]
    fn internals_never_leak() {
        let e = AppError::internal("connection string postgres://secret@db");
        let p = e.problem(true);
        assert_eq!(p.status, 500);
        assert!(!serde_json::to_string(&p).unwrap().contains("secret"));
    }
}
