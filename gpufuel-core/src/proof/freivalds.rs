//! Freivalds' check of a matrix product `C = A·B` (row-major `A: m×k`, `B: k×n`, `C: m×n`).
//!
//! The validator draws `q` random sign vectors `r ∈ {−1, +1}^n` (a matrix `R: n×q` from the
//! challenge seed) and compares `C·R` with `A·(B·R)`: three thin products, `O(q(mk + kn + mn))`
//! work against the node's `O(mkn)`, and one read of each matrix.
//!
//! Tolerance, per row `i` (so honest float rounding is never rejected, whatever the summation
//! order, blocking or FMA use of the node's GEMM): with `u = 2^-24`, `γ_j = j·u / (1 − j·u)`,
//! `t = |A|·(|B|·1)` and `c = |C|·1`, an honest `f32` product satisfies `|C − AB| ≤ γ_k |A||B|`,
//! and the verifier's own `f32` products err by at most `γ_n` and `γ_k` relative to the same
//! magnitudes, so
//!
//! ```text
//! |(C·r)_i − (A·(B·r))_i| ≤ τ_i = 2 · ((2γ_k + γ_n)·t_i + (γ_n + ρ + μ)·c_i)
//! ```
//!
//! holds for honest results, where `ρ` is the output rounding (0 for `f32`, `2^-8` for a `bf16`
//! output) and `μ` the watermark's one-ulp change. The factor 2 covers second-order terms and the
//! rounding of `t` and `c` themselves.
//!
//! Detection: let `D = C − AB`. If some `|D_ij| > τ_i`, fix every sign but `r_j`: the two values of
//! `(D·r)_i` differ by `2|D_ij|`, so at least one exceeds `τ_i`. Each round therefore catches the
//! deviation with probability at least 1/2, and `q` rounds miss it with probability at most
//! `2^-q`. Deviations spread over a row (lazy, partial and random outputs) add up in `(D·r)_i` and
//! are caught far more surely than this bound says.

use half::bf16;

use super::{Hash, Prf, ProofError, check_finite};

/// Default rounds: a deviation beyond tolerance escapes with probability at most `2^-16`.
pub const DEFAULT_ROUNDS: u32 = 16;
/// Most rounds accepted.
pub const MAX_ROUNDS: u32 = 64;
/// Largest dimension: keeps `γ_j = j·u / (1 − j·u)` meaningful.
pub const MAX_DIM: usize = 1 << 22;

/// Dimensions of `C (m×n) = A (m×k) · B (k×n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Rows of `A` and `C`.
    pub m: usize,
    /// Columns of `A`, rows of `B`.
    pub k: usize,
    /// Columns of `B` and `C`.
    pub n: usize,
}

/// Storage format of the output `C` (inputs are exact in `f32` either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub enum Precision {
    /// `f32` output.
    #[default]
    F32,
    /// `bf16` output rounded from an `f32` accumulation.
    Bf16,
}

/// Parameters of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Rounds `q` (1..=[`MAX_ROUNDS`]).
    pub rounds: u32,
    /// The output's storage format.
    pub precision: Precision,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: DEFAULT_ROUNDS, precision: Precision::F32 }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Rounds run.
    pub rounds: u32,
    /// Rows where some round exceeded the tolerance.
    pub failed_rows: usize,
    /// Largest `|(C·r)_i − (A·(B·r))_i| / τ_i` seen (≤ 1 for a passing check).
    pub worst: f64,
}

impl Report {
    /// Whether the product is accepted.
    pub fn passed(&self) -> bool {
        self.failed_rows == 0
    }
}

/// Checks `C = A·B` for `f32` matrices, with sign vectors drawn from `seed`.
pub fn check(a: &[f32], b: &[f32], c: &[f32], shape: Shape, params: Params, seed: &Hash) -> Result<Report, ProofError> {
    validate(a.len(), b.len(), c.len(), shape, params)?;
    let Shape { m, k, n } = shape;
    let q = params.rounds as usize;
    let r = signs(seed, n, q);
    // One pass over each matrix: the sign products and the magnitudes for the tolerance.
    let (mut s, mut t, mut cs) = (vec![0.0; k], vec![0.0; m], vec![0.0; m]);
    let mut diffs = vec![0.0f64; m]; // per row, the largest |(C·r)_i − (A·(B·r))_i|
    for (block, lanes) in r.iter().enumerate() {
        let first = block == 0;
        let x = lanes.pass(b, n, &lanes.signs, first.then_some((&mut s, None))); // B·R, |B|·1
        let y = lanes.pass(a, k, &x, first.then_some((&mut t, Some(&s)))); // A·(B·R), |A|·|B|·1
        let z = lanes.pass(c, n, &lanes.signs, first.then_some((&mut cs, None))); // C·R, |C|·1
        for ((d, zr), yr) in diffs.iter_mut().zip(z.chunks_exact(lanes.width)).zip(y.chunks_exact(lanes.width)) {
            let lane = |(z, y): (&f32, &f32)| (f64::from(*z) - f64::from(*y)).abs();
            *d = zr[..lanes.used].iter().zip(&yr[..lanes.used]).map(lane).fold(*d, f64::max);
        }
        if first {
            // A NaN or infinity makes its row's magnitude sum non-finite, so the inputs are
            // checked without a pass of their own; a finite overflow is out of range instead.
            finite("B", b, &s, "B")?;
            finite("A", a, &t, "A·B")?;
            finite("C", c, &cs, "C")?;
        }
    }

    let gamma = |j: usize| {
        let ju = j as f64 / (1u64 << 24) as f64;
        ju / (1.0 - ju)
    };
    let (rho, mu) = match params.precision {
        Precision::F32 => (0.0, 1.0 / (1u64 << 23) as f64),
        Precision::Bf16 => (1.0 / 256.0, 1.0 / 128.0),
    };
    let (wt, wc) = (2.0 * gamma(k) + gamma(n), gamma(n) + rho + mu);
    let mut report = Report { rounds: params.rounds, failed_rows: 0, worst: 0.0 };
    for i in 0..m {
        let tau = 2.0 * (wt * t[i] as f64 + wc * cs[i] as f64);
        if !tau.is_finite() {
            return Err(ProofError::OutOfRange { what: "C" });
        }
        let row_worst = diffs[i];
        let ratio = if tau > 0.0 {
            row_worst / tau
        } else if row_worst > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        if ratio > 1.0 || row_worst.is_nan() {
            report.failed_rows += 1;
        }
        report.worst = report.worst.max(ratio);
    }
    Ok(report)
}

/// Checks `C = A·B` for `bf16` matrices (converted exactly to `f32`); `params.precision` is
/// taken as [`Precision::Bf16`].
pub fn check_bf16(
    a: &[bf16],
    b: &[bf16],
    c: &[bf16],
    shape: Shape,
    params: Params,
    seed: &Hash,
) -> Result<Report, ProofError> {
    let f = |v: &[bf16]| v.iter().map(|x| x.to_f32()).collect::<Vec<f32>>();
    check(&f(a), &f(b), &f(c), shape, Params { precision: Precision::Bf16, ..params }, seed)
}

/// Errors if a magnitude sum of `mat` is not finite: `NonFinite` at the first bad value, or
/// `OutOfRange` when the values are finite but their sum overflows.
fn finite(what: &'static str, mat: &[f32], sums: &[f32], sum_of: &'static str) -> Result<(), ProofError> {
    if sums.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    check_finite(what, mat)?;
    Err(ProofError::OutOfRange { what: sum_of })
}

fn validate(a: usize, b: usize, c: usize, s: Shape, p: Params) -> Result<(), ProofError> {
    if !(1..=MAX_ROUNDS).contains(&p.rounds) {
        return Err(ProofError::InvalidParams("rounds must be within 1..=64"));
    }
    if s.m == 0 || s.k == 0 || s.n == 0 {
        return Err(ProofError::InvalidSize("a matrix dimension is zero"));
    }
    if s.m > MAX_DIM || s.k > MAX_DIM || s.n > MAX_DIM {
        return Err(ProofError::InvalidSize("a matrix dimension exceeds 2^22"));
    }
    let len = |r: usize, c: usize| r.checked_mul(c).ok_or(ProofError::InvalidSize("matrix size overflows"));
    for (what, expected, got) in [("A", len(s.m, s.k)?, a), ("B", len(s.k, s.n)?, b), ("C", len(s.m, s.n)?, c)] {
        if expected != got {
            return Err(ProofError::ShapeMismatch { what, expected, got });
        }
    }
    Ok(())
}

/// A block of up to 16 rounds, padded to `width` lanes (8 or 16) so the kernel's inner loop is
/// one or two vector registers wide.
struct Lanes {
    width: usize,
    used: usize,
    /// `n × width` signs (±1 in used lanes, 0 in padding).
    signs: Vec<f32>,
}

/// `R: n×q` of ±1 from the seed, in blocks of at most 16 rounds.
fn signs(seed: &Hash, n: usize, q: usize) -> Vec<Lanes> {
    let mut prf = Prf::new(b"gpufuel/freivalds/v1", &[seed]);
    let mut bits = core::iter::from_fn(move || Some(prf.next_u8())).flat_map(|b| (0..8).map(move |i| b >> i & 1 == 1));
    (0..q)
        .step_by(16)
        .map(|first| {
            let used = (q - first).min(16);
            let width = if used <= 8 { 8 } else { 16 };
            let mut signs = vec![0.0f32; n * width];
            for row in signs.chunks_exact_mut(width) {
                for v in &mut row[..used] {
                    *v = if bits.next() == Some(true) { 1.0 } else { -1.0 };
                }
            }
            Lanes { width, used, signs }
        })
        .collect()
}

impl Lanes {
    /// For row-major `mat` with `cols` columns and `rhs: cols × width`: returns `mat · rhs`
    /// (rows × width) and, if asked, writes `Σ_j |mat_ij| · w_j` (`w = 1` when `None`) into
    /// `abs`. Picks an AVX-512 or AVX2 build of the kernel when the CPU has one (sixteen rounds
    /// are one AVX-512 FMA per matrix element).
    fn pass(&self, mat: &[f32], cols: usize, rhs: &[f32], abs: Option<(&mut Vec<f32>, Option<&Vec<f32>>)>) -> Vec<f32> {
        let mut out = vec![0.0f32; mat.len() / cols * self.width];
        let abs = abs.map(|(a, w)| (a.as_mut_slice(), w.map(Vec::as_slice)));
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX-512F and FMA (checked just above).
            unsafe { kernel_avx512(self.width, mat, cols, rhs, &mut out, abs) };
            return out;
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { kernel_avx2(self.width, mat, cols, rhs, &mut out, abs) };
            return out;
        }
        kernel::<false>(self.width, mat, cols, rhs, &mut out, abs);
        out
    }
}

/// The kernel compiled for a CPU feature set, with fused multiply-adds.
macro_rules! simd_kernel {
    ($name:ident, $features:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(width: usize, mat: &[f32], cols: usize, rhs: &[f32], out: &mut [f32], abs: Abs) {
            kernel::<true>(width, mat, cols, rhs, out, abs);
        }
    };
}
simd_kernel!(kernel_avx2, "avx2,fma");
simd_kernel!(kernel_avx512, "avx512f,avx2,fma");

/// Where to write the magnitude sums, and their weights.
type Abs<'a> = Option<(&'a mut [f32], Option<&'a [f32]>)>;

#[inline(always)]
fn kernel<const FMA: bool>(width: usize, mat: &[f32], cols: usize, rhs: &[f32], out: &mut [f32], abs: Abs) {
    match width {
        8 => rows::<8, FMA>(mat, cols, rhs, out, abs),
        _ => rows::<16, FMA>(mat, cols, rhs, out, abs),
    }
}

/// Four rows at a time: each `rhs` row loaded serves four rows of `mat` (rhs lives in L2, so
/// loading it once per matrix element would be the bottleneck), and the four rows' sums are
/// independent chains that hide the FMA latency. Sums are bounded in any order.
#[inline(always)]
fn rows<const L: usize, const FMA: bool>(mat: &[f32], cols: usize, rhs: &[f32], out: &mut [f32], mut abs: Abs) {
    const R: usize = 4;
    let full = mat.len() / cols / R * R;
    let (blocks, rest) = mat.split_at(full * cols);
    let (out_blocks, out_rest) = out.split_at_mut(full * L);
    for (b, (block, o)) in blocks.chunks_exact(R * cols).zip(out_blocks.chunks_exact_mut(R * L)).enumerate() {
        group::<L, R, FMA>(block, cols, rhs, o);
        if let Some((abs, w)) = abs.as_mut() {
            for (r, row) in block.chunks_exact(cols).enumerate() {
                abs[b * R + r] = abs_dot(row, *w);
            }
        }
    }
    for (r, (row, o)) in rest.chunks_exact(cols).zip(out_rest.chunks_exact_mut(L)).enumerate() {
        group::<L, 1, FMA>(row, cols, rhs, o);
        if let Some((abs, w)) = abs.as_mut() {
            abs[full + r] = abs_dot(row, *w);
        }
    }
}

/// `out[r] = block[r] · rhs` for the `R` rows of `block`.
#[inline(always)]
fn group<const L: usize, const R: usize, const FMA: bool>(block: &[f32], cols: usize, rhs: &[f32], out: &mut [f32]) {
    let rows: [&[f32]; R] = core::array::from_fn(|r| &block[r * cols..(r + 1) * cols]);
    let mut acc = [[0.0f32; L]; R];
    for (j, rj) in rhs.chunks_exact(L).take(cols).enumerate() {
        for r in 0..R {
            let v = rows[r][j];
            for l in 0..L {
                acc[r][l] = if FMA { v.mul_add(rj[l], acc[r][l]) } else { acc[r][l] + v * rj[l] };
            }
        }
    }
    for (o, a) in out.chunks_exact_mut(L).zip(&acc) {
        o.copy_from_slice(a);
    }
}

/// `Σ_j |row_j| · w_j` (`w = 1` when `None`), with sixteen partial sums so it vectorises.
#[inline(always)]
fn abs_dot(row: &[f32], w: Option<&[f32]>) -> f32 {
    const L: usize = 16;
    let mut acc = [0.0f32; L];
    let done = row.len() - row.len() % L;
    let tail: f32 = match w {
        Some(w) => {
            for (rc, wc) in row.chunks_exact(L).zip(w.chunks_exact(L)) {
                for l in 0..L {
                    acc[l] += rc[l].abs() * wc[l];
                }
            }
            row[done..].iter().zip(&w[done..]).map(|(a, b)| a.abs() * b).sum()
        }
        None => {
            for rc in row.chunks_exact(L) {
                for l in 0..L {
                    acc[l] += rc[l].abs();
                }
            }
            row[done..].iter().map(|a| a.abs()).sum()
        }
    };
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for test matrices.
    fn matrix(len: usize, salt: u8) -> Vec<f32> {
        let mut prf = Prf::new(b"test", &[&[salt]]);
        (0..len).map(|_| (prf.below(2001) as f32 - 1000.0) / 250.0).collect()
    }

    fn gemm(a: &[f32], b: &[f32], s: Shape, reverse: bool) -> Vec<f32> {
        let mut c = vec![0.0f32; s.m * s.n];
        for i in 0..s.m {
            for j in 0..s.n {
                let term = |p: usize| a[i * s.k + p] * b[p * s.n + j];
                c[i * s.n + j] = if reverse { (0..s.k).rev().map(term).sum() } else { (0..s.k).map(term).sum() };
            }
        }
        c
    }

    #[test]
    fn honest_products_pass_in_any_summation_order() {
        let s = Shape { m: 33, k: 250, n: 17 };
        let (a, b) = (matrix(s.m * s.k, 1), matrix(s.k * s.n, 2));
        for reverse in [false, true] {
            let c = gemm(&a, &b, s, reverse);
            let r = check(&a, &b, &c, s, Params::default(), &[7; 32]).unwrap();
            assert!(r.passed(), "{r:?}");
        }
    }

    #[test]
    fn one_wrong_entry_is_caught() {
        let s = Shape { m: 20, k: 30, n: 40 };
        let (a, b) = (matrix(s.m * s.k, 3), matrix(s.k * s.n, 4));
        let mut c = gemm(&a, &b, s, false);
        c[5 * s.n + 11] += 1.0;
        for seed in 0..20u8 {
            let r = check(&a, &b, &c, s, Params::default(), &[seed; 32]).unwrap();
            assert_eq!(r.failed_rows, 1, "seed {seed}");
        }
    }

    #[test]
    fn bf16_products_pass_and_wrong_ones_fail() {
        let s = Shape { m: 16, k: 64, n: 16 };
        let (a, b) = (matrix(s.m * s.k, 5), matrix(s.k * s.n, 6));
        let to = |v: &[f32]| v.iter().map(|&x| bf16::from_f32(x)).collect::<Vec<_>>();
        let (ab, bb) = (to(&a), to(&b));
        let exact = |v: &[bf16]| v.iter().map(|x| x.to_f32()).collect::<Vec<_>>();
        let c = to(&gemm(&exact(&ab), &exact(&bb), s, true));
        assert!(check_bf16(&ab, &bb, &c, s, Params::default(), &[1; 32]).unwrap().passed());
        let zeros = vec![bf16::ZERO; c.len()];
        assert!(!check_bf16(&ab, &bb, &zeros, s, Params::default(), &[1; 32]).unwrap().passed());
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let s = Shape { m: 2, k: 2, n: 2 };
        let ok = [1.0f32; 4];
        let p = Params::default();
        assert!(matches!(check(&ok, &ok, &ok[..3], s, p, &[0; 32]), Err(ProofError::ShapeMismatch { what: "C", .. })));
        assert!(matches!(
            check(&ok, &ok, &[1.0, f32::NAN, 1.0, 1.0], s, p, &[0; 32]),
            Err(ProofError::NonFinite { what: "C", index: 1 })
        ));
        assert!(matches!(
            check(&[], &[], &[], Shape { m: 0, k: 1, n: 1 }, p, &[0; 32]),
            Err(ProofError::InvalidSize(_))
        ));
        let huge = Shape { m: usize::MAX / 2, k: 4, n: 1 };
        assert!(matches!(check(&ok, &ok, &ok, huge, p, &[0; 32]), Err(ProofError::InvalidSize(_))));
        assert!(matches!(
            check(&ok, &ok, &ok, s, Params { rounds: 0, ..p }, &[0; 32]),
            Err(ProofError::InvalidParams(_))
        ));
        let big = [f32::MAX; 4];
        assert_eq!(check(&big, &big, &ok, s, p, &[0; 32]), Err(ProofError::OutOfRange { what: "B" }));
        assert_eq!(check(&big, &[1e30; 4], &ok, s, p, &[0; 32]), Err(ProofError::OutOfRange { what: "A·B" }));
        assert!(matches!(
            check(&[f32::NEG_INFINITY; 4], &ok, &ok, s, p, &[0; 32]),
            Err(ProofError::NonFinite { what: "A", index: 0 })
        ));
        assert_eq!(check(&ok, &ok, &big, s, p, &[0; 32]), Err(ProofError::OutOfRange { what: "C" }));
    }
}
