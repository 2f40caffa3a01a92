// ONNX jobs from Node: the model's bytes and typed arrays in, verified named tensors out; bad jobs
// reject with INVALID_TASK or INVALID_ARGUMENT before anything is submitted.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const { LocalNetwork } = createRequire(import.meta.url)('../index.js')
const model = readFileSync(new URL('../../../gpufuel-fixtures/models/classifier.onnx', import.meta.url))

let net
before(async () => { net = await LocalNetwork.start({ nodes: 2, validators: 2 }) })
after(() => net.close())

function images (rows, seed) {
  const x = new Float32Array(rows * 64)
  for (let i = 0; i < x.length; i++) x[i] = (((i * 7919 + seed * 104729) % 2001) / 1000) - 1
  return { name: 'x', dtype: 'f32', shape: [rows, 1, 8, 8], data: Buffer.from(x.buffer, x.byteOffset, x.byteLength) }
}

test('an ONNX job settles with each label the argmax of its logits', async () => {
  const client = await net.client()
  const job = await client.submitOnnx(model, [images(50, 1)], { outputs: ['logits', 'label'], scores: { label: 'logits' } }, { gpuSeconds: 4 })
  const result = await client.result(job, 120)
  assert.deepEqual(result.tensors.map((t) => [t.name, t.dtype, t.shape]), [['logits', 'f32', [50, 10]], ['label', 'i64', [50]]])
  const logits = new Float32Array(result.tensors[0].data.buffer.slice(result.tensors[0].data.byteOffset, result.tensors[0].data.byteOffset + 2000))
  const labels = new BigInt64Array(result.tensors[1].data.buffer.slice(result.tensors[1].data.byteOffset, result.tensors[1].data.byteOffset + 400))
  for (let r = 0; r < 50; r++) {
    const row = Array.from(logits.subarray(r * 10, r * 10 + 10))
    assert.equal(Number(labels[r]), row.indexOf(Math.max(...row)))
  }
  const status = await client.status(job)
  assert.equal(status.state, 'Settled')
  assert.equal(status.votesFail, 0)
})

test('bad ONNX jobs reject with a code and submit nothing', async () => {
  const client = await net.client()
  const before = await client.balance()
  const rejects = (args, code, message) => assert.rejects(client.submitOnnx(...args), (e) => e.code === code && message.test(e.message))
  await rejects([Buffer.from('not a model'), [images(2, 2)]], 'INVALID_TASK', /ONNX protobuf/)
  await rejects([model, [{ ...images(2, 2), name: 'y' }]], 'INVALID_TASK', /no input "y"/)
  await rejects([model, [{ ...images(2, 2), dtype: 'f64' }]], 'INVALID_ARGUMENT', /bytes/)
  await rejects([model, [{ ...images(2, 2), shape: [2, 1, 8, 9] }]], 'INVALID_ARGUMENT', /bytes/)
  await rejects([model, [{ ...images(2, 2), dtype: 'complex64' }]], 'INVALID_ARGUMENT', /dtype/)
  await rejects([model, [images(2, 2)], { outputs: ['hidden'] }], 'INVALID_TASK', /no output/)
  await rejects([model, [images(2, 2)], { chunkRows: -1 }], 'INVALID_ARGUMENT', /chunkRows/)
  assert.equal(await client.balance(), before)
})

test('a model that fails for everyone rejects its result with TASK_FAILED and the reason', async () => {
  const client = await net.client()
  const broken = readFileSync(new URL('../../../gpufuel-fixtures/models/broken.onnx', import.meta.url))
  const x = { name: 'x', dtype: 'f32', shape: [4, 4], data: Buffer.alloc(64) }
  const job = await client.submitOnnx(broken, [x], {}, { gpuSeconds: 4 })
  await assert.rejects(client.result(job, 120), (e) => e.code === 'TASK_FAILED' && /Incompatible dimensions/.test(e.message))
  assert.equal((await client.status(job)).state, 'Invalid')
})

test('a step graph settles and its result is the final state', async () => {
  const client = await net.client()
  const stepper = readFileSync(new URL('../../../gpufuel-fixtures/models/stepper.onnx', import.meta.url))
  const f32 = (n, seed, scale = 1) => {
    const a = new Float32Array(n)
    for (let i = 0; i < n; i++) a[i] = ((((i * 7919 + seed * 104729) % 2001) / 1000) - 1) * scale
    return Buffer.from(a.buffer)
  }
  const state = [{ name: 'z', next: 'z_next', dtype: 'f32', shape: [4, 16], data: f32(64, 1) }]
  const inputs = [
    { name: 'noise', dtype: 'f32', shape: [20, 16], data: f32(320, 2) },
    { name: 'w', dtype: 'f32', shape: [16, 16], data: f32(256, 3, 0.3), constant: true }
  ]
  const job = await client.submitOnnxSteps(stepper, state, inputs, { steps: 20, checkpointEvery: 5, stepInput: 't' }, { gpuSeconds: 4 })
  const result = await client.result(job, 120)
  assert.deepEqual(result.tensors.map((t) => [t.name, t.dtype, t.shape]), [['z', 'f32', [4, 16]]])
  assert.equal((await client.status(job)).state, 'Settled')
  await assert.rejects(
    client.submitOnnxSteps(stepper, [{ ...state[0], next: 'z_after' }], inputs, { steps: 20, checkpointEvery: 5, stepInput: 't' }),
    (e) => e.code === 'INVALID_TASK' && /no output "z_after"/.test(e.message))
  const infinite = Buffer.from(state[0].data)
  infinite.writeFloatLE(Infinity, 12)
  await assert.rejects(
    client.submitOnnxSteps(stepper, [{ ...state[0], data: infinite }], inputs, { steps: 20, checkpointEvery: 5, stepInput: 't' }),
    (e) => e.code === 'INVALID_TASK' && /NaN or an infinity/.test(e.message))
})
