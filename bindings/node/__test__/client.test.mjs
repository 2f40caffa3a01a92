// The Client on a local market: typed arrays in, the verified product out.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { assertClose, gemm, matrix } from './matrices.mjs'

const { LocalNetwork } = createRequire(import.meta.url)('../index.js')

let net
before(async () => { net = await LocalNetwork.start({ nodes: 2, validators: 2 }) })
after(() => net.close())

test('a matrix product settles and its result is the product', async () => {
  const client = await net.client()
  const before = await client.balance()
  const [m, k, n] = [12, 20, 8]
  const a = matrix(m, k, 1), b = matrix(k, n, 2)
  const quote = await client.quote({ gpuSeconds: 4 })
  assert.ok(quote.eligibleNodes >= 2 && quote.priceLow <= quote.priceHigh)
  assert.equal(quote.escrow, quote.priceHigh * 4)
  const job = await client.submitMatmul(a, b, { m, k, n }, { gpuSeconds: 4, maxPrice: quote.priceHigh })
  const result = await client.result(job, 60)
  assert.ok(result.values instanceof Float32Array)
  assert.deepEqual(result.shape, [m, n])
  assertClose(result.values, gemm({ a, b, m, k, n }))
  const status = await client.status(job)
  assert.equal(status.state, 'Settled')
  assert.ok(status.done && status.votesPass >= 1 && status.votesFail === 0)
  assert.equal(await client.balance(), before - status.price * 4)
  assert.ok((await client.jobs(true)).some((j) => j.address === job))
  const nodes = await client.nodes()
  assert.ok(nodes.length >= 2 && nodes.every((node) => node.className === 'cpu' && node.stake > 0))
})

// The MLP of the training workload: W1 (hidden×inputs), b1, w2, b2; tanh hidden layer, linear output.
function mse(params, x, y, inputs, hidden) {
  let sum = 0
  for (let r = 0; r < y.length; r++) {
    let out = params[hidden * inputs + 2 * hidden]
    for (let h = 0; h < hidden; h++) {
      let z = params[hidden * inputs + h]
      for (let i = 0; i < inputs; i++) z += params[h * inputs + i] * x[r * inputs + i]
      out += params[hidden * inputs + hidden + h] * Math.tanh(z)
    }
    sum += (out - y[r]) ** 2
  }
  return sum / y.length
}

test('training steps settle and the trained parameters fit better', async () => {
  const client = await net.client()
  const [rows, inputs, hidden] = [64, 4, 8]
  const x = matrix(rows, inputs, 7)
  const y = Float32Array.from({ length: rows }, (_, r) => x[r * inputs] * 0.5 - x[r * inputs + 2])
  const init = Float32Array.from({ length: hidden * inputs + 2 * hidden + 1 }, (_, i) => (((i * 37) % 17) / 17 - 0.5) * 0.6)
  const job = await client.submitTraining(x, y, init, { inputs, hidden, batch: 16, learningRate: 0.1, segments: 6, stepsPerSegment: 3 })
  const result = await client.result(job, 120)
  assert.deepEqual(result.shape, [init.length])
  assert.ok(mse(result.values, x, y, inputs, hidden) < mse(init, x, y, inputs, hidden))
  // x must be rows (y's length) × inputs; the parameter count must fit the model.
  await assert.rejects(client.submitTraining(x.subarray(1), y, init, { inputs, hidden }), (e) => e.code === 'INVALID_ARGUMENT' && /x: 255 values is not 64 rows/.test(e.message))
  await assert.rejects(client.submitTraining(x, y, init.subarray(1), { inputs, hidden }), (e) => e.code === 'INVALID_TASK' && /initial parameters/.test(e.message))
  await assert.rejects(client.submitTraining(x, y, init, { inputs, hidden, learningRate: -1 }), (e) => e.code === 'INVALID_TASK')
})

test('quoteSync, prices and wait', async () => {
  const client = await net.client()
  const q = client.quoteSync({ gpuClass: 'cpu', urgent: true })
  assert.ok(q.escrow > client.quoteSync().escrow, 'urgent pays a premium')
  const prices = await client.prices()
  assert.equal(prices.find((p) => p.className === 'cpu').price, q.referencePrice)
  const job = await client.submitMatmul(new Float32Array(4).fill(1), new Float32Array(4).fill(2), { m: 2, k: 2, n: 2 }, { urgent: true })
  const status = await client.wait(job, 60)
  assert.equal(status.state, 'Settled')
  assert.ok(status.urgent && status.premium > 0)
})

test('cancel returns the escrow; the result is then NOT_SETTLED', async () => {
  const client = await net.client()
  const before = await client.balance()
  const job = await client.submitMatmul(new Float32Array(4), new Float32Array(4), { m: 2, k: 2, n: 2 }, { gpuClass: 'h100' })
  assert.ok((await client.balance()) < before)
  await client.cancel(job)
  assert.equal(await client.balance(), before)
  await assert.rejects(client.result(job, 5), (e) => e instanceof Error && e.code === 'NOT_SETTLED' && /Cancelled/.test(e.message))
})

test('a new wallet registers before it submits', async () => {
  const client = await net.client(5_000_000, false)
  assert.equal(await client.isRegistered(), false)
  const args = [new Float32Array(4).fill(1), new Float32Array(4).fill(1), { m: 2, k: 2, n: 2 }]
  await assert.rejects(client.submitMatmul(...args), (e) => e.code === 'NOT_REGISTERED' && e.message.includes(client.address))
  assert.equal(await client.balance(), 5_000_000)
  await assert.rejects(client.register(-1), (e) => e.code === 'INVALID_ARGUMENT' && /stake/.test(e.message))
  await client.register() // the market's minimum stake
  const staked = 5_000_000 - (await client.balance())
  await client.register(1) // already registered: nothing moves
  assert.ok((await client.isRegistered()) && staked > 0)
  assert.equal(await client.balance(), 5_000_000 - staked)
  assert.equal((await client.wait(await client.submitMatmul(...args), 60)).state, 'Settled')
})
