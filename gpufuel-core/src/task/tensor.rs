//! Typed tensors as ONNX jobs return them: one `.npy` file (NumPy's format, version 1.0) per chunk
//! and output, so a submitter, or anyone holding the CID, reads it with `numpy.load`.
//!
//! The same type carries the two checks a validator runs on a file: the keyed watermark in the low
//! mantissa bits of a float tensor ([`Tensor::mark`], [`Tensor::marked`]) and the comparison of the
//! node's values with the validator's recomputed ones ([`Tensor::agrees`]).

use borsh::{BorshDeserialize, BorshSerialize};
use half::{bf16, f16};

use super::TaskError;
use crate::proof::{
    challenge::Tolerance,
    watermark::{Markable, Watermark},
};

/// Element type of a tensor (ONNX `TensorProto.DataType` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum DType {
    /// 32-bit float.
    F32 = 1,
    /// Unsigned byte.
    U8 = 2,
    /// Signed byte.
    I8 = 3,
    /// 32-bit integer.
    I32 = 6,
    /// 64-bit integer.
    I64 = 7,
    /// Boolean, one byte.
    Bool = 9,
    /// 16-bit float.
    F16 = 10,
    /// 64-bit float.
    F64 = 11,
    /// bfloat16.
    BF16 = 16,
}

impl DType {
    /// Every type, for lookups by name.
    pub const ALL: [Self; 9] =
        [Self::F32, Self::U8, Self::I8, Self::I32, Self::I64, Self::Bool, Self::F16, Self::F64, Self::BF16];

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Self::U8 | Self::I8 | Self::Bool => 1,
            Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
            Self::I64 | Self::F64 => 8,
        }
    }

    /// Whether values are floats (compared within a tolerance, and watermarked).
    pub fn is_float(self) -> bool {
        matches!(self, Self::F32 | Self::F16 | Self::BF16 | Self::F64)
    }

    /// The default comparison: a few units in the last place of the type's precision after
    /// reordered sums (engines, thread counts and graph optimisations change the order), above the
    /// watermark's change; exact for integers.
    pub fn default_tolerance(self) -> Tolerance {
        match self {
            Self::F64 => Tolerance { rel: 1e-9, abs: 1e-12 },
            Self::F32 => Tolerance { rel: 1e-4, abs: 1e-5 },
            Self::F16 => Tolerance { rel: 1e-2, abs: 1e-3 },
            Self::BF16 => Tolerance { rel: 3e-2, abs: 1e-2 },
            Self::U8 | Self::I8 | Self::I32 | Self::I64 | Self::Bool => Tolerance { rel: 0.0, abs: 0.0 },
        }
    }

    /// NumPy's `descr` of the type (little-endian). NumPy has no bfloat16: its values are stored
    /// as two-byte voids, which `a.view(ml_dtypes.bfloat16)` reads.
    pub fn npy_descr(self) -> &'static str {
        match self {
            Self::F32 => "<f4",
            Self::U8 => "|u1",
            Self::I8 => "|i1",
            Self::I32 => "<i4",
            Self::I64 => "<i8",
            Self::Bool => "|b1",
            Self::F16 => "<f2",
            Self::F64 => "<f8",
            Self::BF16 => "<V2",
        }
    }

    /// The short name used by the SDK and the CLI (`f32`, `i64`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::U8 => "u8",
            Self::I8 => "i8",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::Bool => "bool",
            Self::F16 => "f16",
            Self::F64 => "f64",
            Self::BF16 => "bf16",
        }
    }
}

impl core::str::FromStr for DType {
    type Err = TaskError;

    /// A type by its short name (`f32`, `i64`, `bool`, …), as the SDK, the bindings and the CLI
    /// take it.
    fn from_str(name: &str) -> Result<Self, TaskError> {
        Self::ALL.into_iter().find(|d| d.name() == name).ok_or_else(|| {
            TaskError::Unsupported(format!("dtype {name:?} (f32, f16, bf16, f64, i8, i32, i64, u8, bool)"))
        })
    }
}

/// A dense, row-major, little-endian tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Element type.
    pub dtype: DType,
    /// Dimensions (a scalar has none).
    pub shape: Vec<u64>,
    /// `elements × dtype.size()` bytes.
    pub data: Vec<u8>,
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY\x01\x00";
/// Longest `.npy` header accepted (NumPy writes ~70 bytes for rank ≤ 8).
const MAX_NPY_HEADER: usize = 1024;

impl Tensor {
    /// A tensor, checking that `data` has the size `shape` and `dtype` give.
    pub fn new(dtype: DType, shape: Vec<u64>, data: Vec<u8>) -> Result<Self, TaskError> {
        let elements = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
        let expected = elements.and_then(|n| n.checked_mul(dtype.size())).ok_or(TaskError::Invalid("tensor shape"))?;
        if data.len() as u64 != expected {
            return Err(TaskError::Size { what: "tensor", expected, got: data.len() as u64 });
        }
        Ok(Self { dtype, shape, data })
    }

    /// Number of elements.
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// The tensor as a `.npy` file.
    pub fn to_npy(&self) -> Vec<u8> {
        let shape = match self.shape.as_slice() {
            [d] => format!("({d},)"),
            dims => format!("({})", dims.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        };
        let mut header =
            format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", self.dtype.npy_descr());
        // Magic, version, header length, header and its newline: a multiple of 64 bytes.
        let unpadded = NPY_MAGIC.len() + 2 + header.len() + 1;
        header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
        header.push('\n');
        let mut out = Vec::with_capacity(NPY_MAGIC.len() + 2 + header.len() + self.data.len());
        out.extend_from_slice(NPY_MAGIC);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Reads a `.npy` file (version 1.0, C order, one of [`DType`]'s types) whose data has exactly
    /// the size its header gives.
    pub fn from_npy(bytes: &[u8]) -> Result<Self, TaskError> {
        let bad = TaskError::Encoding("npy tensor");
        let rest = bytes.strip_prefix(NPY_MAGIC).ok_or(bad.clone())?;
        let (len, rest) = rest.split_at_checked(2).ok_or(bad.clone())?;
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        if len > MAX_NPY_HEADER {
            return Err(bad);
        }
        let (header, data) = rest.split_at_checked(len).ok_or(bad.clone())?;
        let header = core::str::from_utf8(header).map_err(|_| bad.clone())?;
        let field = |key: &str| -> Option<&str> {
            let start = header.find(&format!("'{key}':"))? + key.len() + 3;
            Some(header[start..].trim_start())
        };
        let descr = field("descr").and_then(|s| s.strip_prefix('\'')).and_then(|s| s.split('\'').next());
        let dtype = DType::ALL.into_iter().find(|d| Some(d.npy_descr()) == descr).ok_or(bad.clone())?;
        if !field("fortran_order").is_some_and(|s| s.starts_with("False")) {
            return Err(bad);
        }
        let dims =
            field("shape").and_then(|s| s.strip_prefix('(')).and_then(|s| s.split(')').next()).ok_or(bad.clone())?;
        let shape = dims
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.parse::<u64>().map_err(|_| bad.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(dtype, shape, data.to_vec())
    }

    /// Marks a float tensor in place with `wm` (one mantissa ulp per block of values). Integer
    /// tensors, and float tensors holding a NaN or an infinity, carry no mark: they are checked by
    /// value alone. Returns whether a mark was made.
    pub fn mark(&mut self, wm: &Watermark) -> Result<bool, TaskError> {
        fn embed<T: Markable>(
            data: &mut [u8],
            wm: &Watermark,
            decode: fn(&[u8]) -> T,
            encode: fn(T) -> Vec<u8>,
        ) -> Result<bool, TaskError> {
            let size = size_of::<T>();
            let mut values: Vec<T> = data.chunks_exact(size).map(decode).collect();
            if values.is_empty() || !values.iter().all(|v| v.finite()) {
                return Ok(false);
            }
            wm.embed(&mut values, T::MAX_RELATIVE_CHANGE)?;
            for (out, v) in data.chunks_exact_mut(size).zip(values) {
                out.copy_from_slice(&encode(v));
            }
            Ok(true)
        }
        match self.dtype {
            DType::F32 => embed(
                &mut self.data,
                wm,
                |b| f32::from_le_bytes(b.try_into().expect("4")),
                |v| v.to_le_bytes().to_vec(),
            ),
            DType::F64 => embed(
                &mut self.data,
                wm,
                |b| f64::from_le_bytes(b.try_into().expect("8")),
                |v| v.to_le_bytes().to_vec(),
            ),
            DType::F16 => embed(&mut self.data, wm, |b| f16::from_le_bytes([b[0], b[1]]), |v| v.to_le_bytes().to_vec()),
            DType::BF16 => {
                embed(&mut self.data, wm, |b| bf16::from_le_bytes([b[0], b[1]]), |v| v.to_le_bytes().to_vec())
            }
            _ => Ok(false),
        }
    }

    /// Whether the tensor carries `wm`'s marks, where [`Tensor::mark`] would have made them.
    pub fn marked(&self, wm: &Watermark) -> Result<bool, TaskError> {
        fn check<T: Markable>(data: &[u8], wm: &Watermark, decode: fn(&[u8]) -> T) -> Result<bool, TaskError> {
            let values: Vec<T> = data.chunks_exact(size_of::<T>()).map(decode).collect();
            if values.is_empty() || !values.iter().all(|v| v.finite()) {
                return Ok(true);
            }
            Ok(wm.verify(&values)?.passed())
        }
        match self.dtype {
            DType::F32 => check(&self.data, wm, |b| f32::from_le_bytes(b.try_into().expect("4"))),
            DType::F64 => check(&self.data, wm, |b| f64::from_le_bytes(b.try_into().expect("8"))),
            DType::F16 => check(&self.data, wm, |b| f16::from_le_bytes([b[0], b[1]])),
            DType::BF16 => check(&self.data, wm, |b| bf16::from_le_bytes([b[0], b[1]])),
            _ => Ok(true),
        }
    }

    /// The values as `f64`, for comparisons (integers exactly up to 2^53, which covers indices).
    pub fn to_f64s(&self) -> Vec<f64> {
        let b = &self.data;
        match self.dtype {
            DType::F32 => b.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4")))).collect(),
            DType::F64 => b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8"))).collect(),
            DType::F16 => b.chunks_exact(2).map(|c| f64::from(f16::from_le_bytes([c[0], c[1]]))).collect(),
            DType::BF16 => b.chunks_exact(2).map(|c| f64::from(bf16::from_le_bytes([c[0], c[1]]))).collect(),
            DType::I32 => b.chunks_exact(4).map(|c| f64::from(i32::from_le_bytes(c.try_into().expect("4")))).collect(),
            DType::I64 => b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8")) as f64).collect(),
            DType::I8 => b.iter().map(|&v| f64::from(v as i8)).collect(),
            DType::U8 | DType::Bool => b.iter().map(|&v| f64::from(v)).collect(),
        }
    }

    /// How many of the node's values (`self`) lie outside `tol` of the validator's `recomputed`
    /// ones (`|r − s| ≤ abs + rel·|r|`; integers exactly). A NaN must meet a NaN and an infinity
    /// the same infinity. `None` when type or shape differ, which no tolerance excuses.
    pub fn mismatches(&self, recomputed: &Self, tol: Tolerance) -> Option<usize> {
        if self.dtype != recomputed.dtype || self.shape != recomputed.shape || self.data.len() != recomputed.data.len()
        {
            return None;
        }
        if !self.dtype.is_float() {
            return Some(
                self.data
                    .chunks(self.dtype.size() as usize)
                    .zip(recomputed.data.chunks(self.dtype.size() as usize))
                    .filter(|(a, b)| a != b)
                    .count(),
            );
        }
        let (rel, abs) = (f64::from(tol.rel), f64::from(tol.abs));
        let ok = |s: f64, r: f64| {
            if r.is_finite() {
                s.is_finite() && (s - r).abs() <= abs + rel * r.abs()
            } else {
                s.is_nan() && r.is_nan() || s == r
            }
        };
        Some(self.to_f64s().into_iter().zip(recomputed.to_f64s()).filter(|&(s, r)| !ok(s, r)).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(shape: &[u64], values: &[f32]) -> Tensor {
        Tensor::new(DType::F32, shape.to_vec(), values.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap()
    }

    #[test]
    fn npy_round_trips_with_numpys_header() {
        let t = f32s(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let npy = t.to_npy();
        // NumPy 1.x/2.x writes this exact header for a C-order float32 (2, 3) array.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        assert_eq!(&npy[10..10 + header.len()], header.as_bytes());
        assert_eq!((npy.len() - 24) % 64, 0);
        assert_eq!(Tensor::from_npy(&npy).unwrap(), t);
        let v = Tensor::new(DType::I64, vec![3], vec![0; 24]).unwrap();
        assert!(String::from_utf8_lossy(&v.to_npy()).contains("'shape': (3,)"));
        assert_eq!(Tensor::from_npy(&v.to_npy()).unwrap(), v);
        let scalar = Tensor::new(DType::F64, vec![], vec![0; 8]).unwrap();
        assert_eq!(Tensor::from_npy(&scalar.to_npy()).unwrap(), scalar);
    }

    #[test]
    fn malformed_npy_is_refused() {
        let npy = f32s(&[2], &[1.0, 2.0]).to_npy();
        let bad = |b: &[u8]| assert!(Tensor::from_npy(b).is_err(), "{:?}", String::from_utf8_lossy(b));
        bad(&npy[..npy.len() - 1]);
        bad(&[npy.as_slice(), &[0]].concat());
        bad(b"\x93NUMPY\x01\x00");
        bad(&String::from_utf8_lossy(&npy).replace("False", "True ").into_bytes());
        bad(&String::from_utf8_lossy(&npy).replace("<f4", "<c8").into_bytes());
        assert!(Tensor::new(DType::F32, vec![2, 2], vec![0; 15]).is_err());
        assert!(Tensor::new(DType::F32, vec![u64::MAX, 2], vec![]).is_err());
    }

    #[test]
    fn marks_bind_floats_and_skip_what_cannot_carry_them() {
        let wm = Watermark::new(&[1; 32], &[2; 32], &[3; 32]);
        let other = Watermark::new(&[1; 32], &[9; 32], &[3; 32]);
        let values: Vec<f32> = (0..1000).map(|i| i as f32 * 0.37 + 1.0).collect();
        let mut t = f32s(&[1000], &values);
        assert!(t.mark(&wm).unwrap());
        assert!(t.marked(&wm).unwrap());
        assert!(!t.marked(&other).unwrap());
        assert_eq!(t.mismatches(&f32s(&[1000], &values), DType::F32.default_tolerance()), Some(0));
        for dtype in [DType::F16, DType::BF16, DType::F64] {
            let mut h = Tensor::new(dtype, vec![512], vec![0x3c; 512 * dtype.size() as usize]).unwrap();
            assert!(h.mark(&wm).unwrap(), "{dtype:?}");
            assert!(h.marked(&wm).unwrap() && !h.marked(&other).unwrap(), "{dtype:?}");
        }
        let mut nan = f32s(&[2], &[f32::NAN, 1.0]);
        assert!(!nan.mark(&wm).unwrap());
        assert!(nan.marked(&other).unwrap());
    }

    #[test]
    fn comparisons_follow_the_tolerance_and_non_finite_values_match_exactly() {
        let tol = Tolerance { rel: 1e-3, abs: 0.0 };
        let r = f32s(&[4], &[1.0, f32::NAN, f32::INFINITY, -2.0]);
        assert_eq!(f32s(&[4], &[1.0005, f32::NAN, f32::INFINITY, -2.001]).mismatches(&r, tol), Some(0));
        assert_eq!(f32s(&[4], &[1.01, 0.0, f32::NEG_INFINITY, -2.0]).mismatches(&r, tol), Some(3));
        assert_eq!(f32s(&[2, 2], &[1.0, 0.0, 0.0, 0.0]).mismatches(&r, tol), None);
        let ints = Tensor::new(DType::I64, vec![2], [3i64, 4].iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap();
        let other = Tensor::new(DType::I64, vec![2], [3i64, 5].iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap();
        assert_eq!(other.mismatches(&ints, tol), Some(1));
        assert_eq!(ints.to_f64s(), vec![3.0, 4.0]);
        assert_eq!("i64".parse::<DType>(), Ok(DType::I64));
        assert!("complex64".parse::<DType>().is_err());
    }
}
