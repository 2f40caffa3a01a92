//! JS values in and out, and errors with a stable `code`.

use std::future::Future;

use gpufuel_exec::{client::ClientError, executor, job::JobOptions};
use napi::{
    Env, JsValue, Status,
    bindgen_prelude::{JsObjectValue, PromiseRaw, ToNapiValue},
};
use napi_derive::napi;
use solana_address::Address;

/// An error whose JS `code` is the SDK's code (`INVALID_ARGUMENT`, `PROGRAM_ERROR`, …).
pub type Error = napi::Error<String>;
pub type Result<T> = std::result::Result<T, Error>;

pub fn error(code: &str, message: impl Into<String>) -> Error {
    napi::Error::new(code.to_string(), message.into())
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

pub fn invalid(message: impl Into<String>) -> Error {
    error("INVALID_ARGUMENT", message)
}

pub fn client_error(e: ClientError) -> Error {
    error(e.code(), e.to_string())
}

/// A non-negative whole number that fits `T`.
pub fn uint<T: TryFrom<i64>>(name: &str, value: f64) -> Result<T> {
    let bits = std::mem::size_of::<T>() * 8;
    let fail = || invalid(format!("{name} must be an integer from 0 to 2^{bits}-1, got {value}"));
    if value.fract() != 0.0 || !(0.0..=9.007_199_254_740_991e15).contains(&value) {
        return Err(fail());
    }
    T::try_from(value as i64).map_err(|_| fail())
}

/// A GPU class by id (`3`) or name (`"h100"`); `cpu` when absent.
pub fn gpu_class(value: &Option<napi::Either<u32, String>>) -> Result<u8> {
    let given = match value {
        None => return Ok(0),
        Some(napi::Either::A(id)) => id.to_string(),
        Some(napi::Either::B(name)) => name.clone(),
    };
    executor::class_id(&given).map_err(|e| invalid(e.to_string()))
}

pub fn address(value: &str) -> Result<Address> {
    value.parse().map_err(|_| invalid(format!("'{value}' is not a base58 address")))
}

/// What a job asks of the market. Amounts are base units; prices base units per GPU-second.
#[napi(object)]
#[derive(Default)]
pub struct JobRequest {
    /// Class id or name (`"cpu"`, `"h100"`, …); default `cpu`.
    pub gpu_class: Option<napi::Either<u32, String>>,
    pub gpu_count: Option<f64>,
    pub min_vram_mib: Option<f64>,
    /// GPU-seconds billed (default 10).
    pub gpu_seconds: Option<f64>,
    /// Highest price accepted (default 1000).
    pub max_price: Option<f64>,
    /// Seconds from now to the deadline (default 3600).
    pub deadline_secs: Option<f64>,
    pub urgent: Option<bool>,
}

impl JobRequest {
    pub fn options(&self) -> Result<JobOptions> {
        let d = JobOptions::default();
        let or = |name, v: Option<f64>, default: f64| uint::<u64>(name, v.unwrap_or(default));
        Ok(JobOptions {
            gpu_class: gpu_class(&self.gpu_class)?,
            gpu_count: uint("gpuCount", self.gpu_count.unwrap_or(1.0))?,
            min_vram_mib: uint("minVramMib", self.min_vram_mib.unwrap_or(0.0))?,
            min_compute_capability: 0,
            gpu_seconds: uint("gpuSeconds", self.gpu_seconds.unwrap_or(f64::from(d.gpu_seconds)))?,
            max_price: or("maxPrice", self.max_price, d.max_price as f64)?,
            deadline_secs: uint::<u32>("deadlineSecs", self.deadline_secs.unwrap_or(d.deadline_secs as f64))?.into(),
            urgent: self.urgent.unwrap_or(false),
        })
    }
}
