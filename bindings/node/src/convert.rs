//! JS values in: numbers to checked integers, GPU classes by id or name, base58 addresses.

use gpufuel_core::class;
use solana_address::Address;

use crate::error::{Result, invalid};

/// A non-negative whole number that fits `T`.
pub fn uint<T: TryFrom<i64>>(name: &str, value: f64) -> Result<T> {
    let bits = std::mem::size_of::<T>() * 8;
    let fail = || invalid(format!("{name} must be an integer from 0 to 2^{bits}-1, got {value}"));
    if value.fract() != 0.0 || !(0.0..=9.007_199_254_740_991e15).contains(&value) {
        return Err(fail());
    }
    T::try_from(value as i64).map_err(|_| fail())
}

/// An optional [`uint`]: `undefined` takes the Rust default.
pub fn opt<T: TryFrom<i64>>(name: &str, value: Option<f64>) -> Result<Option<T>> {
    value.map(|v| uint(name, v)).transpose()
}

/// A GPU class by id (`3`) or name (`"h100"`); `None` when absent.
pub fn gpu_class(value: &Option<napi::Either<u32, String>>) -> Result<Option<u8>> {
    let given = match value {
        None => return Ok(None),
        Some(napi::Either::A(id)) => id.to_string(),
        Some(napi::Either::B(name)) => name.clone(),
    };
    class::class_id(&given).map(Some).map_err(|e| invalid(e.to_string()))
}

/// A job or account address (base58).
pub fn address(value: &str) -> Result<Address> {
    value.parse().map_err(|_| invalid(format!("'{value}' is not a base58 address")))
}
