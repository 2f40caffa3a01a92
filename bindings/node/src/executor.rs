//! A JS function as a node's workload: `executor(work)` returns `C = A·B` as a `Float32Array` (or a
//! Promise of one, for WebGPU or other async compute). It runs on the event-loop thread; the
//! agent waits for it on a blocking thread, then watermarks and commits as for any executor.

use std::sync::{Arc, mpsc};

use gpufuel_core::task::MatMulTask;
use gpufuel_exec::executor::{CallbackExecutor, MatMulFn};
use napi::{
    Either, Status, ValueType,
    bindgen_prelude::{Float32Array, FromNapiValue, Promise, TypeName, ValidateNapiValue, block_on},
    sys,
    threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode},
};
use napi_derive::napi;

use crate::{
    convert::{gpu_class, opt},
    error::Result,
};

/// A matrix product to compute: `a` (m×k) · `b` (k×n), row-major.
#[napi(object, object_from_js = false)]
pub struct Work {
    /// `"matmul"`.
    pub kind: String,
    /// Rows of `a`.
    pub m: u32,
    /// Columns of `a`, rows of `b`.
    pub k: u32,
    /// Columns of `b`.
    pub n: u32,
    /// `m×k`.
    pub a: Float32Array,
    /// `k×n`.
    pub b: Float32Array,
}

/// A `Float32Array` copied out where it arrives: on the event-loop thread that owns it.
pub struct Values(Vec<f32>);

impl TypeName for Values {
    fn type_name() -> &'static str {
        Float32Array::type_name()
    }

    fn value_type() -> ValueType {
        Float32Array::value_type()
    }
}

impl ValidateNapiValue for Values {
    unsafe fn validate(env: sys::napi_env, value: sys::napi_value) -> napi::Result<sys::napi_value> {
        unsafe { Float32Array::validate(env, value) }
    }
}

impl FromNapiValue for Values {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        Ok(Values(unsafe { Float32Array::from_napi_value(env, value) }?.to_vec()))
    }
}

type Answer = Either<Values, Promise<Values>>;

/// `(work: Work) => Float32Array | Promise<Float32Array>`; weak, so a pending agent does not keep
/// the process alive.
pub type JsExecutor = ThreadsafeFunction<Work, Answer, Work, Status, false, true>;

/// The device a JS executor offers.
#[napi(object)]
#[derive(Default)]
pub struct ExecutorOptions {
    /// Class id or name the node offers (default `cpu`).
    pub gpu_class: Option<Either<u32, String>>,
    /// Memory offered, MiB (default 16384).
    pub vram_mib: Option<f64>,
    /// A name for the device (default `"js"`).
    pub device: Option<String>,
}

/// An executor whose matrix products `f` computes.
pub fn callback_executor(f: JsExecutor, options: &ExecutorOptions) -> Result<CallbackExecutor> {
    let (class, vram) = (gpu_class(&options.gpu_class)?, opt("vramMib", options.vram_mib)?);
    let device = options.device.clone().unwrap_or_else(|| "js".into());
    Ok(CallbackExecutor::new(device, class, vram, matmul_fn(f)))
}

/// Calls `f` on the event loop and waits for its answer; a throw or rejection becomes the run's
/// error message.
fn matmul_fn(f: JsExecutor) -> Arc<MatMulFn> {
    Arc::new(move |task: &MatMulTask, a: Vec<f32>, b: Vec<f32>| {
        let (m, k, n) = (task.m, task.k, task.n);
        let work = Work { kind: "matmul".into(), m, k, n, a: Float32Array::new(a), b: Float32Array::new(b) };
        let (tx, rx) = mpsc::channel();
        let status = f.call_with_return_value(work, ThreadsafeFunctionCallMode::Blocking, move |answer, _| {
            let _ = tx.send(answer);
            Ok(())
        });
        if status != Status::Ok {
            return Err(format!("the JS executor cannot be called ({status})"));
        }
        let answer = rx.recv().map_err(|_| "the JS executor did not answer".to_string())?;
        let Values(values) = match answer.map_err(|e| e.reason)? {
            Either::A(values) => values,
            Either::B(pending) => block_on(pending).map_err(|e| e.reason)?,
        };
        Ok(values)
    })
}
