// Test inputs and the reference computations the suites check results against.
import assert from 'node:assert/strict'

/** A deterministic rows×cols matrix with values in [-1, 1]. */
export const matrix = (rows, cols, seed) => Float32Array.from({ length: rows * cols }, (_, i) => ((i * 7919 + seed * 104729) % 2001) / 1000 - 1)

/** `a·b` for row-major `a` (m×k) and `b` (k×n): the shape of a node executor's `work`. */
export function gemm({ a, b, m, k, n }) {
  const c = new Float32Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0
    for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j]
    c[i * n + j] = s
  }
  return c
}

/** Equal within f32 rounding of a k-term sum. */
export function assertClose(values, expected) {
  assert.equal(values.length, expected.length)
  values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])), `${v} vs ${expected[i]}`))
}
