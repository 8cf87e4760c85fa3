//! Errors as RFC 9457 problem objects (`application/problem+json`). A rule's refusal carries the
//! same `code` and data as the command line's `--json` (`kind`, `code`, `message`, `refusal`), so
//! a client of the server tells refusals apart exactly as a script of the command line does.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::domain::authority::Forbidden;
use crate::store::StoreError;

/// A problem object: `type`, `title`, `status`, `detail` as RFC 9457 names them, and coldcall's
/// members beside them: `kind` (refused, invalid, not_found, conflict, forbidden, unauthorized,
/// too_many_requests, error, database) and, by kind, `code` and `refusal`, `fields`, `what` and
/// `key`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub kind: String,
    /// The refusal's or error's stable code (`on_another_call`, `too_soon`, `session_expired`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The other members, by kind: `refusal`, `fields`, `what`/`key`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, Value>,
    /// Seconds to wait before trying again (429).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// A problem, boxed: handlers return it in every `Err`, so it stays one pointer wide.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Problem(pub Box<ProblemBody>);

impl std::ops::Deref for Problem {
    type Target = ProblemBody;
    fn deref(&self) -> &ProblemBody {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemBody {
        &mut self.0
    }
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemBody {
            type_: format!("https://coldcall.invalid/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            kind: kind.to_string(),
            code: None,
            extra: serde_json::Map::new(),
            retry_after: None,
        }))
    }

    pub fn with_code(mut self, code: &str) -> Problem {
        self.code = Some(code.to_string());
        self
    }

    pub fn with(mut self, key: &str, value: Value) -> Problem {
        self.extra.insert(key.to_string(), value);
        self
    }

    /// 401: no session, or one that has expired or been revoked (`code` says which).
    pub fn unauthorized(code: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail).with_code(code)
    }

    /// 422 for input that fails validation, naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Problem {
        let message = message.into();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{field}: {message}"),
        )
        .with("fields", json!([{ "field": field, "message": message }]))
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail).with_code("forbidden")
    }

    pub fn not_found(what: &str, key: impl ToString) -> Problem {
        let key = key.to_string();
        Problem::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found: {key}"))
            .with("what", json!(what))
            .with("key", json!(key))
    }

    pub fn too_many(wait_s: u64, detail: impl Into<String>) -> Problem {
        let mut p = Problem::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", detail).with_code("slow_down");
        p.retry_after = Some(wait_s.max(1));
        p.with("retry_after_s", json!(wait_s.max(1)))
    }
}

impl From<Forbidden> for Problem {
    fn from(err: Forbidden) -> Problem {
        Problem::forbidden(err.to_string())
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Problem {
        let message = err.to_string();
        match err {
            StoreError::Refused(refusal) => Problem::new(StatusCode::CONFLICT, "refused", message)
                .with_code(refusal.code())
                .with("refusal", serde_json::to_value(&refusal).unwrap_or(Value::Null)),
            StoreError::Invalid(errors) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
                .with("fields", serde_json::to_value(&errors.0).unwrap_or(Value::Null)),
            StoreError::BadInput(text) => {
                // The store's messages start with the field they are about ("callback time: …").
                let (field, rest) = text
                    .split_once(": ")
                    .filter(|(field, _)| field.len() <= 40 && !field.contains('.'))
                    .unwrap_or(("input", text.as_str()));
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", text.clone())
                    .with("fields", json!([{ "field": field, "message": rest }]))
            }
            StoreError::NotFound { what, key } => Problem::not_found(what, key),
            StoreError::Conflict(_) => Problem::new(StatusCode::CONFLICT, "conflict", message).with_code("conflict"),
            StoreError::Forbidden(_) => Problem::forbidden(message),
            StoreError::BadSetting(_) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "bad_setting", message).with_code("bad_setting")
            }
            StoreError::Database(_) | StoreError::Migrate(_) => {
                // The cause goes to the server's log, not to the client.
                tracing::error!(error = %message, "database error");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database",
                    "the database did not answer; try again",
                )
                .with_code("database")
            }
            StoreError::Backup(_) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            // Only a store that is itself a floor server's client says these.
            StoreError::Unavailable(_) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "database", message).with_code("database")
            }
            StoreError::SessionEnded(_) => Problem::unauthorized("session_ended", message),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let mut response = (status, axum::Json(&*self.0)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(wait) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, Problem>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Refusal;

    #[test]
    fn a_refusal_is_a_409_with_the_command_line_s_code_and_data() {
        let p = Problem::from(StoreError::Refused(Refusal::OnAnotherCall {
            agent: "bob".into(),
            since: chrono::DateTime::UNIX_EPOCH,
        }));
        assert_eq!(p.status, 409);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["kind"], "refused");
        assert_eq!(v["code"], "on_another_call");
        assert_eq!(v["refusal"]["agent"], "bob");
        assert_eq!(v["refusal"]["reason"], "on_another_call");
        assert!(v["detail"].as_str().unwrap().contains("bob is on a call"));
    }

    #[test]
    fn bad_input_is_a_422_naming_the_field() {
        let p = Problem::from(StoreError::BadInput("callback time: must be in the future".into()));
        assert_eq!(p.status, 422);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["fields"][0]["field"], "callback time");
    }
}
