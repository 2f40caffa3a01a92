//! Errors as JS `Error`s whose `code` is the Rust crates' stable code, and the Promises that
//! reject with them.

use std::{fmt::Display, future::Future};

use gpufuel_core::ErrorCode;
use napi::{
    Env, JsValue, Status,
    bindgen_prelude::{JsObjectValue, PromiseRaw, ToNapiValue},
};

/// An error whose JS `code` is the SDK's code (`INVALID_ARGUMENT`, `PROGRAM_ERROR`, …).
pub type Error = napi::Error<String>;
/// A result whose error carries the SDK's code.
pub type Result<T> = std::result::Result<T, Error>;

/// An error with `code` and `message`.
pub fn error(code: &str, message: impl Into<String>) -> Error {
    napi::Error::new(code.to_string(), message.into())
}

/// A bad argument.
pub fn invalid(message: impl Into<String>) -> Error {
    error("INVALID_ARGUMENT", message)
}

/// The error for any of the SDK's errors.
pub fn coded(e: impl ErrorCode + Display) -> Error {
    error(e.code(), e.to_string())
}

/// A Promise of `fut`'s value that rejects with a JS `Error` carrying the SDK's `code` (napi's
/// own async functions only carry its fixed `Status` names).
pub fn promise<T, F>(env: &Env, fut: F) -> napi::Result<PromiseRaw<'_, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, r| r.map_err(|e| js_error(env, e)))
}

fn js_error(env: &Env, e: Error) -> napi::Error {
    let make = || -> napi::Result<napi::Error> {
        let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.reason.clone()))?;
        obj.set_named_property("code", e.status.as_str())?;
        Ok(napi::Error::from(obj.to_unknown()))
    };
    make().unwrap_or_else(|err| err)
}
