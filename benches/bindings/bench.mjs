// Node side of `gpufuel-bench bindings`: the same calls the Rust side times, through the package.
// Prints one JSON line: the median per-call time of a sync quote (µs) and of an awaited matrix
// product submission (µs), on a fresh local network like the Rust side's.
import { createRequire } from 'node:module'

const { LocalNetwork } = createRequire(import.meta.url)('../../bindings/node/index.js')
const [quotes, batches, submits, size] = process.argv.slice(2).map(Number)
const median = (v) => { const s = [...v].sort((x, y) => x - y); return s[Math.floor(s.length / 2)] }
const now = () => Number(process.hrtime.bigint()) / 1e3

const net = await LocalNetwork.start({ nodes: 3, validators: 3 })
const client = await net.client(1_000_000_000)
const batch = Math.floor(quotes / batches)
const means = []
for (let i = 0; i < batches; i++) {
  const t = now()
  for (let j = 0; j < batch; j++) client.quoteSync({ gpuSeconds: 10 })
  means.push((now() - t) / batch)
}
const a = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i))
const b = Float32Array.from({ length: size * size }, (_, i) => Math.cos(i))
const times = []
for (let i = 0; i < submits; i++) {
  const t = now()
  await client.submitMatmul(a, b, { m: size, k: size, n: size }, { gpuSeconds: 10 })
  times.push(now() - t)
}
net.close()
console.log(JSON.stringify({ sync_us: median(means), submit_us: median(times) }))
process.exit(0)
