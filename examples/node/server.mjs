// A web backend that sells GPU compute to its users through @gpufuel/sdk: it quotes, submits
// matrix products and ONNX models (an uploaded .onnx file and .npy input) for them, follows the
// jobs and serves a marketplace page that updates live (Server-Sent Events). It runs on a local market by default; set GPUFUEL_URL (and the Solana CLI
// keypair/config) to use a cluster.
//
//   node server.mjs            # http://127.0.0.1:8080
import http from 'node:http'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'

const { LocalNetwork, Client } = createRequire(import.meta.url)('@gpufuel/sdk')
const page = new URL('./public/index.html', import.meta.url)

// A random m×k matrix: the backend's stand-in for its customer's uploaded data.
const random = (rows, cols) => Float32Array.from({ length: rows * cols }, () => Math.random() * 2 - 1)

function product(a, b, m, k, n) {
  const c = new Float32Array(m * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
    const x = a[i * k + p]
    for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j]
  }
  return c
}

// A .npy file (NumPy format 1.0, C order) as the SDK's ONNX input: bytes, dtype and shape.
const DTYPES = { '<f4': 'f32', '<f2': 'f16', '<f8': 'f64', '|i1': 'i8', '<i4': 'i32', '<i8': 'i64', '|u1': 'u8', '|b1': 'bool' }
function npy(bytes) {
  const invalid = (message) => Object.assign(new Error(message), { code: 'INVALID_ARGUMENT' })
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw invalid('the input is not a .npy file')
  const length = bytes.readUInt16LE(8)
  const header = bytes.toString('latin1', 10, 10 + length)
  const dtype = DTYPES[/'descr':\s*'([^']+)'/.exec(header)?.[1]]
  if (!dtype || !/'fortran_order':\s*False/.test(header)) throw invalid('the .npy input must be a C-order array of a numeric dtype')
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((d) => d.trim()).filter(Boolean).map(Number)
  return { dtype, shape, data: bytes.subarray(10 + length) }
}

// A tensor of the result, summarised for the page: name, dtype, shape and its first values.
function summary({ name, dtype, shape, data }) {
  const view = { f32: Float32Array, f64: Float64Array, i32: Int32Array, i64: BigInt64Array, i8: Int8Array, u8: Uint8Array }[dtype]
  const head = data.buffer.slice(data.byteOffset, data.byteOffset + Math.min(data.length, 4 * 8))
  const values = view ? Array.from(new view(head), (v) => (typeof v === 'number' ? String(+v.toPrecision(4)) : String(v))).slice(0, 4) : []
  return `${name} ${dtype} [${shape.join(', ')}] ${values.join(' ')}…`
}

async function body(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  try { return JSON.parse(text || '{}') } catch { throw Object.assign(new Error('the body is not JSON'), { code: 'INVALID_ARGUMENT' }) }
}

function send(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}

/** Starts the backend; resolves to { url, close }. */
/** `dishonest`: the local market's cheating nodes (a lazy one by default, to show slashing). */
export async function start({ port = 8080, host = '127.0.0.1', dishonest = ['lazy'] } = {}) {
  const network = process.env.GPUFUEL_URL ? null : await LocalNetwork.start({ nodes: 3, validators: 3, dishonest })
  const client = network ? await network.client(1_000_000_000) : await Client.connect({ url: process.env.GPUFUEL_URL })
  await client.register() // on a cluster, a wallet's first run stakes the market's minimum; then a no-op
  // What the backend learned about each job it submitted: its shape and, once settled, how far
  // the verified result is from the backend's own check of it.
  const mine = new Map()

  async function snapshot() {
    const [prices, nodes, jobs] = await Promise.all([client.prices(), client.nodes(), client.jobs(false)])
    return { prices, nodes, jobs: jobs.map((j) => ({ ...j, ...mine.get(j.address) })) }
  }

  async function follow(job, a, b, m, k, n) {
    try {
      const { values } = await client.result(job, 600)
      const expected = product(a, b, m, k, n)
      const error = values.reduce((max, v, i) => Math.max(max, Math.abs(v - expected[i])), 0)
      mine.get(job).check = `max |Δ| ${error.toExponential(1)}`
    } catch (e) {
      mine.get(job).check = e.code === 'NOT_SETTLED' ? 'refunded' : e.message
    }
  }

  const routes = {
    'GET /': async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(await readFile(page))
    },
    'GET /api/market': async (_req, res) => send(res, 200, await snapshot()),
    'POST /api/quote': async (req, res) => {
      const { urgent = false } = await body(req)
      send(res, 200, await client.quote({ gpuSeconds: 10, urgent }))
    },
    'POST /api/jobs': async (req, res) => {
      const { size = 64, urgent = false } = await body(req)
      if (!Number.isInteger(size) || size < 1 || size > 512) {
        return send(res, 400, { code: 'INVALID_ARGUMENT', message: 'size must be an integer from 1 to 512' })
      }
      const quote = await client.quote({ gpuSeconds: 10, urgent })
      const [m, k, n] = [size, size, size]
      const a = random(m, k), b = random(k, n)
      const job = await client.submitMatmul(a, b, { m, k, n }, { gpuSeconds: 10, urgent, maxPrice: quote.priceHigh })
      mine.set(job, { size: `${m}×${k}×${n}`, check: 'pending' })
      void follow(job, a, b, m, k, n)
      send(res, 201, { job, quote })
    },
    // An ONNX job: the model and one batched input, both uploaded as base64 by the page.
    'POST /api/onnx': async (req, res) => {
      const { model, input, name = 'x' } = await body(req)
      if (typeof model !== 'string' || typeof input !== 'string') {
        return send(res, 400, { code: 'INVALID_ARGUMENT', message: 'model and input must be base64 files' })
      }
      const x = npy(Buffer.from(input, 'base64'))
      const quote = await client.quote({ gpuSeconds: 10 })
      const job = await client.submitOnnx(Buffer.from(model, 'base64'), [{ name, ...x }], {}, { gpuSeconds: 10, maxPrice: quote.priceHigh })
      mine.set(job, { size: `ONNX, ${name} [${x.shape.join(', ')}]`, check: 'pending' })
      void client.result(job, 600)
        .then(({ tensors }) => { Object.assign(mine.get(job), { check: 'verified', outputs: tensors.map(summary) }) })
        .catch((e) => { mine.get(job).check = e.code === 'NOT_SETTLED' ? 'refunded' : e.message })
      send(res, 201, { job, quote })
    },
    'GET /api/events': async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
      let open = true
      req.on('close', () => { open = false })
      while (open) {
        res.write(`data: ${JSON.stringify(await snapshot())}\n\n`)
        await new Promise((r) => setTimeout(r, 400))
      }
    },
  }

  const server = http.createServer(async (req, res) => {
    const route = routes[`${req.method} ${new URL(req.url, 'http://x').pathname}`]
    if (!route) return send(res, 404, { code: 'NOT_FOUND', message: `${req.method} ${req.url}` })
    try {
      await route(req, res)
    } catch (e) {
      if (!res.headersSent) send(res, e.code === 'INVALID_ARGUMENT' || e.code === 'INVALID_TASK' ? 400 : 502, { code: e.code, message: e.message })
    }
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const url = `http://${host}:${server.address().port}`
  return {
    url,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => { network?.close(); resolve() })
    }),
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await start({ port: Number(process.env.PORT ?? 8080) })
  console.log(`GPUFuel marketplace on ${url}`)
}
