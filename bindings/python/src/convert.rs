//! Python values in and out: numpy arrays and bytes to `f32`s, ints to checked integers, GPU class
//! names to ids.

use gpufuel_core::class;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::{prelude::*, types::PyBytes};
use solana_address::Address;

use crate::error::invalid;

/// A non-negative integer argument that must fit the unsigned type `T`.
pub fn uint<T: TryFrom<i128>>(name: &str, value: i128) -> PyResult<T> {
    let bits = std::mem::size_of::<T>() * 8;
    T::try_from(value).map_err(|_| invalid(format!("{name} must be an integer from 0 to 2^{bits}-1, got {value}")))
}

/// An optional [`uint`]: `None` takes the Rust default.
pub fn opt<T: TryFrom<i128>>(name: &str, value: Option<i128>) -> PyResult<Option<T>> {
    value.map(|v| uint(name, v)).transpose()
}

/// A GPU class given by id (`3`) or name (`"h100"`).
pub fn gpu_class(value: &Bound<'_, PyAny>) -> PyResult<u8> {
    let given = if let Ok(name) = value.extract::<String>() {
        name
    } else if let Ok(id) = value.extract::<i128>() {
        id.to_string()
    } else {
        return Err(invalid(format!("gpu_class must be an int or a class name, not {}", type_name(value))));
    };
    class::class_id(&given).map_err(|e| invalid(e.to_string()))
}

/// A job or account address (base58 string).
pub fn address(value: &str) -> PyResult<Address> {
    value.parse().map_err(|_| invalid(format!("'{value}' is not a base58 address")))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A real-valued array (a numpy array of any float dtype, or anything `numpy.asarray` takes
/// that has one) as `f32`s in row-major order with its shape. Integer, complex, boolean and
/// object arrays are refused rather than guessed at.
pub fn array(name: &str, value: &Bound<'_, PyAny>) -> PyResult<(Vec<f32>, Vec<usize>)> {
    let np = value.py().import("numpy")?;
    let arr = np.call_method1("asarray", (value,)).map_err(|e| invalid(format!("{name}: not an array ({e})")))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if kind != "f" {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(invalid(format!("{name}: dtype {dtype} is not a float dtype (float16, float32 or float64)")));
    }
    let arr = np.call_method1("ascontiguousarray", (arr, "float32"))?;
    let ro: PyReadonlyArrayDyn<'_, f32> = arr.extract()?;
    Ok((ro.as_slice().map_err(|e| invalid(format!("{name}: {e}")))?.to_vec(), ro.shape().to_vec()))
}

/// A matrix: a 2-D array, or raw little-endian `f32` bytes of the given shape.
pub fn matrix(
    name: &str,
    value: &Bound<'_, PyAny>,
    shape: Option<(usize, usize)>,
) -> PyResult<(Vec<f32>, usize, usize)> {
    if value.is_instance_of::<PyBytes>() || value.is_instance_of::<pyo3::types::PyByteArray>() {
        let bytes: Vec<u8> = value.extract()?;
        let Some((rows, cols)) = shape else {
            return Err(invalid(format!("{name}: raw bytes need the matrix shape (the m, k and n arguments)")));
        };
        if bytes.len() != rows * cols * 4 {
            return Err(invalid(format!("{name}: {} bytes is not {rows}×{cols} f32 values", bytes.len())));
        }
        let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        return Ok((values, rows, cols));
    }
    let (values, dims) = array(name, value)?;
    let [rows, cols] = dims[..] else {
        return Err(invalid(format!("{name}: expected a 2-D array, got shape {dims:?}")));
    };
    if let Some(expected) = shape.filter(|&s| s != (rows, cols)) {
        return Err(invalid(format!("{name}: shape ({rows}, {cols}) differs from the given {expected:?}")));
    }
    Ok((values, rows, cols))
}

/// `values` as a numpy array of `shape`.
pub fn ndarray<'py>(py: Python<'py>, values: Vec<f32>, shape: Vec<usize>) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, values).reshape(shape)?.into_any())
}

/// An ONNX model: a path (`str` or `os.PathLike`), its bytes, or an `onnx.ModelProto`.
pub fn model(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if value.is_instance_of::<PyBytes>() || value.is_instance_of::<pyo3::types::PyByteArray>() {
        return value.extract();
    }
    if value.hasattr("SerializeToString")? {
        return value.call_method0("SerializeToString")?.extract();
    }
    let path: std::path::PathBuf = value
        .extract()
        .map_err(|_| invalid(format!("model must be a path, bytes or an onnx.ModelProto, not {}", type_name(value))))?;
    std::fs::read(&path).map_err(|e| invalid(format!("model: cannot read {}: {e}", path.display())))
}

/// An array (anything `numpy.asarray` takes) as a typed tensor, in C order and little-endian.
/// Its dtype must be one jobs carry (float16/32/64, bfloat16, int8/32/64, uint8, bool).
pub fn tensor_in(name: &str, value: &Bound<'_, PyAny>) -> PyResult<gpufuel_core::task::tensor::Tensor> {
    use gpufuel_core::task::tensor::{DType, Tensor};
    let np = value.py().import("numpy")?;
    let arr = np.call_method1("asarray", (value,)).map_err(|e| invalid(format!("{name}: not an array ({e})")))?;
    let descr: String = arr.getattr("dtype")?.getattr("str")?.extract()?;
    let Some(dtype) = DType::ALL.into_iter().find(|d| d.npy_descr() == descr) else {
        let dtype = arr.getattr("dtype")?.str()?.to_string();
        return Err(invalid(format!(
            "{name}: dtype {dtype} is not one ONNX jobs carry (float16/32/64, bfloat16, int8/32/64, uint8, bool)"
        )));
    };
    let shape: Vec<u64> = arr.getattr("shape")?.extract()?;
    let data: Vec<u8> = np.call_method1("ascontiguousarray", (arr,))?.call_method0("tobytes")?.extract()?;
    Tensor::new(dtype, shape, data).map_err(|e| invalid(format!("{name}: {e}")))
}

/// A typed tensor as a numpy array of its dtype (bfloat16 as two-byte voids: view it with
/// `ml_dtypes.bfloat16`).
pub fn tensor<'py>(py: Python<'py>, t: &gpufuel_core::task::tensor::Tensor) -> PyResult<Bound<'py, PyAny>> {
    let numpy = py.import("numpy")?;
    let flat = numpy.call_method1("frombuffer", (pyo3::types::PyBytes::new(py, &t.data), t.dtype.npy_descr()))?;
    flat.call_method1("reshape", (t.shape.clone(),))?.call_method0("copy")
}
