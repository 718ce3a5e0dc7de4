//! What the approve / reject forms of the branch's queues (reversals,
//! disbursements) share: the form, its checks before the database is asked,
//! and how the answer is shown. Whoever decides is a supervisor or an
//! admin; a refusal needs a reason.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::Signed;
use super::view::{self, Ui};
use crate::api::review::reviewer;
use crate::db::{DbResult, Reviewer};
use crate::error::AppError;

/// A decision's reason, at most this many characters.
pub const REASON_CHARS: usize = 500;

/// An approve or reject form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    reason: String,
    /// Approving a disbursement paid by transfer: the bank's reference.
    pub transfer_ref: String,
}

/// A decision form checked.
pub enum Checked {
    /// Go on: who decides, and the reason when refusing.
    Go(Reviewer, Option<String>),
    /// Answered already: a form without this session's token, a role that
    /// does not decide.
    Answered(Response),
    /// A refusal without a reason: the list again, with this message.
    NoReason(String),
}

/// The checks before the database: the form's token, the role, a reason
/// when refusing (`missing`: what to say without one, Vietnamese and
/// English).
pub fn check(
    signed: &Signed,
    ip: Option<String>,
    form: &DecideForm,
    approve: bool,
    missing: (&str, &str),
) -> Checked {
    if let Some(r) = signed.forgery(&form.csrf) {
        return Checked::Answered(r);
    }
    let who = match reviewer(&signed.user, ip) {
        Ok(w) => w,
        Err(e) => return Checked::Answered(signed.ui().app_error(e)),
    };
    let reason: String = form.reason.trim().chars().take(REASON_CHARS).collect();
    if approve {
        Checked::Go(who, None)
    } else if reason.is_empty() {
        Checked::NoReason(signed.lang.t(missing.0, missing.1).to_string())
    } else {
        Checked::Go(who, Some(reason))
    }
}

/// What the database answered, for the page.
pub enum Outcome {
    /// Decided: the list page (`list?decided=id`), or an error page (a
    /// failure, or something outside the reviewer's scope).
    Answered(Response),
    /// Refused (decided already, not by the asker, ...): the list again,
    /// with this message and status.
    Refused(String, StatusCode),
}

pub fn outcome<T>(ui: &Ui, answer: DbResult<T>, list: &str, id: i64) -> Outcome {
    match answer {
        Ok(_) => Outcome::Answered(
            Redirect::to(&view::link(list, &[("decided", id.to_string())])).into_response(),
        ),
        Err(e) => {
            let e = AppError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                Outcome::Answered(ui.app_error(e))
            } else {
                Outcome::Refused(ui.message(&e).to_string(), e.status)
            }
        }
    }
}
