//! The tokio runtime the module runs on, how its threads enter Python, asyncio awaitables of its
//! futures, and the `_sync` variants of the awaitable methods.
//!
//! A tokio thread must never be inside Python while the interpreter finalizes: CPython aborts the
//! process ("PyGILState_Release: thread state must be current when releasing"). That is what
//! pyo3-async-runtimes' delivery thread did at the end of a script, about one run in five here
//! (its issue #40), so results are delivered here instead: every entry from a tokio thread goes
//! through [`attach`], and the `atexit` hook [`shutdown`] closes the door and waits for the
//! threads already inside. Work that finishes later is dropped, as the process is ending.

use std::{
    cell::Cell,
    future::Future,
    sync::{
        LazyLock,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    time::Duration,
};

use pyo3::{
    IntoPyObjectExt,
    exceptions::PyRuntimeError,
    prelude::*,
    types::{PyDict, PyTuple},
};
use tokio::task::AbortHandle;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the tokio runtime starts")
});
static CLOSED: AtomicBool = AtomicBool::new(false);
static INSIDE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while a `_sync` variant calls its awaitable twin on this thread.
    static BLOCKING: Cell<bool> = const { Cell::new(false) };
}

/// Calls `obj.method(*args, **kwargs)`, an awaitable method of this module, so that it blocks for
/// its value instead: the `_sync` variants take the same arguments as their twins without
/// restating them.
pub fn call_blocking<'py>(
    obj: &Bound<'py, PyAny>,
    method: &str,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            BLOCKING.set(self.0);
        }
    }
    let _reset = Reset(BLOCKING.replace(true));
    obj.call_method(method, args, kwargs)
}

/// `fut` as an awaitable ([`spawn`]), or its value when called through [`call_blocking`].
pub fn run<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Taken, not read: only the call `call_blocking` made blocks.
    if BLOCKING.replace(false) { block_on(py, fut)?.into_bound_py_any(py) } else { spawn(py, fut) }
}

/// Runs `fut` to completion with the GIL released, so Python callbacks (a node's executor) can
/// run meanwhile.
pub fn block_on<F: Future + Send>(py: Python<'_>, fut: F) -> F::Output
where
    F::Output: Send,
{
    py.detach(|| RUNTIME.block_on(fut))
}

/// Runs `f` inside Python from any thread, or returns `None` once the interpreter is exiting.
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    // Counted before the check, so `shutdown` either sees this thread or is seen by it.
    INSIDE.fetch_add(1, SeqCst);
    let out = (!CLOSED.load(SeqCst)).then(|| Python::attach(f));
    INSIDE.fetch_sub(1, SeqCst);
    out
}

/// Why Python work was refused once the interpreter is exiting.
pub const EXITING: &str = "the Python interpreter is exiting";

/// [`EXITING`] as an exception (made lazily, without entering Python).
pub fn exiting() -> PyErr {
    PyRuntimeError::new_err(EXITING)
}

/// The `atexit` hook: no tokio thread enters Python from now on; waits for those inside.
#[pyfunction]
pub fn shutdown(py: Python<'_>) {
    CLOSED.store(true, SeqCst);
    py.detach(|| {
        while INSIDE.load(SeqCst) > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// An awaitable of `fut`, run on the tokio runtime: an asyncio future of the running loop that
/// gets `fut`'s value or exception. Cancelling the future cancels `fut`.
pub fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (loop_ref, future_ref) = (event_loop.unbind(), future.clone().unbind());
    let task = RUNTIME.spawn(async move {
        let result = fut.await;
        attach(|py| {
            let (method, value) = match result.and_then(|v| v.into_bound_py_any(py)) {
                Ok(value) => ("set_result", value),
                Err(e) => ("set_exception", e.into_value(py).into_bound(py).into_any()),
            };
            let settle = wrap_pyfunction!(settle, py)?;
            // A closed loop means nobody awaits any more: nothing to deliver.
            let _ = loop_ref.call_method1(py, "call_soon_threadsafe", (settle, future_ref, method, value));
            PyResult::Ok(())
        });
    });
    future.call_method1("add_done_callback", (Abort(task.abort_handle()),))?;
    Ok(future)
}

/// Sets an asyncio future's result or exception unless it was cancelled meanwhile (on the loop).
#[pyfunction]
fn settle(future: &Bound<'_, PyAny>, method: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if !future.call_method0("done")?.is_truthy()? {
        future.call_method1(method, (value,))?;
    }
    Ok(())
}

/// The done-callback that cancels a future's tokio task when the awaiting side cancels.
#[pyclass(frozen)]
struct Abort(AbortHandle);

#[pymethods]
impl Abort {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}
