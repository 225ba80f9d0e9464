//! `/transfer/…`: the signed URLs of model and resource file transfers. They carry no other
//! credential — the HMAC signature and expiry in the query are the authorization, as with S3
//! presigned URLs (ngcsdk sends no `Authorization` header to them).
//!
//! * `PUT /transfer/parts/{upload}/{part}?expires=&signature=` stores one part of a file upload;
//! * `GET|HEAD /transfer/files/{sha256-hex}?expires=&signature=` reads file content, with
//!   `Range` support (an invalid range such as ngcsdk's `bytes=0--1` for empty files is ignored
//!   and answered 200, as S3 does).

use crate::app::AppState;
use crate::errors::ApiError;
use crate::oci::{body_stream, content_length, head_body, ranged, stream_body, Ranged};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The signature part of a signed URL.
#[derive(Debug, Deserialize)]
pub struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
}

impl Signed {
    fn parts(&self) -> Result<(i64, &str), ApiError> {
        match (self.expires, self.signature.as_deref()) {
            (Some(e), Some(s)) => Ok((e, s)),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "this URL needs its expires and signature parameters; request a signed URL \
                 through the API",
            )),
        }
    }
}

/// `PUT /transfer/parts/{upload}/{part}`
pub async fn put_part(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<Signed>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (expires, signature) = q.parts()?;
    let (upload, part) = path.into_inner();
    let upload = uuid::Uuid::parse_str(&upload)
        .map_err(|_| ApiError::not_found(format!("upload {upload}")))?;
    let part: u32 = part
        .parse()
        .map_err(|_| ApiError::bad_request(format!("part number '{part}' is not a number")))?;
    state
        .arca
        .put_file_part(
            upload,
            part,
            expires,
            signature,
            content_length(&req),
            body_stream(payload),
        )
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// `GET|HEAD /transfer/files/{hex}`
pub async fn get_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Signed>,
) -> Result<HttpResponse, ApiError> {
    let (expires, signature) = q.parts()?;
    let hex = path.into_inner();
    let size = state
        .arca
        .signed_file_size(&hex, expires, signature)
        .await?;
    let (mut b, range, len) = match ranged(&req, size, &format!("sha256:{hex}")) {
        Ranged::Serve {
            builder,
            range,
            len,
        } => (builder, range, len),
        Ranged::Unsatisfiable(mut b) => return Ok(b.finish()),
    };
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(head_body(&mut b, len));
    }
    let read = state
        .arca
        .read_signed_file(&hex, expires, signature, range)
        .await?;
    Ok(stream_body(&mut b, len, read))
}
