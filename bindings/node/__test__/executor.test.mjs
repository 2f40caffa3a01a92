// JS functions as nodes' workloads: a synchronous and an async executor serve the jobs of their
// class with verified results; a wrong answer is slashed; a throw or a mistyped answer fails the run
// and the job expires, without taking the process down.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { assertClose, gemm, matrix } from './matrices.mjs'

const { LocalNetwork, NodeAgent } = createRequire(import.meta.url)('../index.js')

let net
// No CPU nodes: a job of a class only a JS node offers can only go to that node.
before(async () => { net = await LocalNetwork.start({ nodes: 0, validators: 2 }) })
after(() => net.close())

test('a JS function is the workload of a node', async () => {
  const calls = []
  const operator = await net.addNode((work) => {
    calls.push([work.kind, work.m, work.k, work.n, work.a instanceof Float32Array])
    return gemm(work)
  }, { gpuClass: 'a100', vramMib: 40960 })
  const client = await net.client()
  const [m, k, n] = [5, 7, 3]
  const a = matrix(m, k, 1), b = matrix(k, n, 2)
  const job = await client.submitMatmul(a, b, { m, k, n }, { gpuClass: 'a100', minVramMib: 40000 })
  const result = await client.result(job, 60)
  assert.deepEqual(result.shape, [m, n])
  assertClose(result.values, gemm({ a, b, m, k, n }))
  assert.deepEqual(calls, [['matmul', 5, 7, 3, true]])
  const node = (await client.nodes()).find((x) => x.operator === operator)
  assert.equal(node.className, 'a100')
  assert.equal(node.vramMib, 40960)
  assert.equal(node.completed, 1)
})

test('an async executor (a Promise of the product) serves a job', async () => {
  await net.addNode(async (work) => {
    await new Promise((resolve) => setTimeout(resolve, 20))
    return gemm(work)
  }, { gpuClass: 'h200' })
  const client = await net.client()
  const [m, k, n] = [4, 9, 6]
  const a = matrix(m, k, 3), b = matrix(k, n, 4)
  const job = await client.submitMatmul(a, b, { m, k, n }, { gpuClass: 'h200' })
  assertClose((await client.result(job, 60)).values, gemm({ a, b, m, k, n }))
})

test('a wrong answer is slashed and the submitter refunded', async () => {
  await net.addNode((work) => new Float32Array(work.m * work.n), { gpuClass: 'h100' })
  const client = await net.client()
  const before = await client.balance()
  const job = await client.submitMatmul(matrix(4, 4, 5), matrix(4, 4, 6), { m: 4, k: 4, n: 4 }, { gpuClass: 'h100' })
  const status = await client.wait(job, 60)
  assert.equal(status.state, 'Slashed')
  assert.ok(status.votesFail >= 1)
  assert.ok((await client.balance()) > before, 'escrow back plus a share of the slashed stake')
  await assert.rejects(client.result(job, 5), (e) => e.code === 'NOT_SETTLED' && /Slashed/.test(e.message))
})

test('a throwing or mistyped executor fails its run; the job expires', async () => {
  const calls = { throws: 0, array: 0 }
  await net.addNode(() => { calls.throws++; throw new Error('out of GPU memory') }, { gpuClass: 'rtx-4090' })
  await net.addNode(() => { calls.array++; return [1, 2, 3, 4] }, { gpuClass: 'other' }) // not a Float32Array
  const client = await net.client()
  const shape = { m: 2, k: 2, n: 2 }
  const jobs = await Promise.all(['rtx-4090', 'other'].map((gpuClass) =>
    client.submitMatmul(new Float32Array(4).fill(1), new Float32Array(4).fill(1), shape, { gpuClass, deadlineSecs: 60 })))
  for (const job of jobs) assert.equal((await client.wait(job, 120)).state, 'Expired')
  assert.deepEqual(calls, { throws: 1, array: 1 })
})

test('a node agent on a client runs a JS executor; bad executor options are refused', async () => {
  const operator = await net.client(50_000_000)
  const agent = await NodeAgent.start(operator, { executor: gemm, gpuClass: 'cpu', vramMib: 8192, floor: 15 })
  assert.deepEqual((await agent.tick()).errors, [])
  assert.ok((await operator.nodes()).some((x) => x.operator === operator.address && x.vramMib === 8192 && x.priceFloor === 15))
  await assert.rejects(net.addNode(gemm, { gpuClass: 'tpu' }), (e) => e.code === 'INVALID_ARGUMENT' && /unknown GPU class 'tpu'/.test(e.message))
  await assert.rejects(net.addNode(gemm, { vramMib: -1 }), (e) => e.code === 'INVALID_ARGUMENT' && /vramMib/.test(e.message))
  assert.throws(() => net.addNode('not a function'), (e) => e instanceof Error)
})
