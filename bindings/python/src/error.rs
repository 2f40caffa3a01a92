//! Rust errors as the `gpufuel.errors` exceptions, keyed by the Rust crates' stable codes.

use std::fmt::Display;

use gpufuel_core::ErrorCode;
use pyo3::prelude::*;

use crate::runtime;

/// The `gpufuel.errors` exception for `code` with `message` (from any thread).
pub fn error(code: &str, message: impl Into<String>) -> PyErr {
    let message = message.into();
    runtime::attach(|py| {
        let make = || -> PyResult<PyErr> {
            let e = py.import("gpufuel.errors")?.getattr("_make")?.call1((code, message))?;
            Ok(PyErr::from_value(e))
        };
        make().unwrap_or_else(|e| e)
    })
    .unwrap_or_else(runtime::exiting)
}

/// A bad argument: `gpufuel.InvalidArgumentError` (also a `ValueError`).
pub fn invalid(message: impl Into<String>) -> PyErr {
    error("INVALID_ARGUMENT", message)
}

/// The exception for any of the SDK's errors.
pub fn coded(e: impl ErrorCode + Display) -> PyErr {
    error(e.code(), e.to_string())
}
