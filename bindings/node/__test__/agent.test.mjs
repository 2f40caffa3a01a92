// Node and validator agents built from a client, as an operator runs them over RPC.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const { LocalNetwork, NodeAgent, ValidatorAgent } = createRequire(import.meta.url)('../index.js')

let net
before(async () => { net = await LocalNetwork.start({ nodes: 2, validators: 2 }) })
after(() => net.close())

test('node and validator agents run on a client', async () => {
  const operator = await net.client(50_000_000)
  const agent = await NodeAgent.start(operator, { floor: 15, cpu: true })
  const tick = await agent.tick()
  assert.deepEqual(tick.errors, [])
  assert.ok((await operator.nodes()).some((n) => n.operator === operator.address && n.priceFloor === 15))
  const validator = await ValidatorAgent.start(await net.client(50_000_000))
  const v = await validator.tick()
  assert.ok(v.votes >= 0 && v.settled >= 0 && v.expired >= 0)
  await assert.rejects(NodeAgent.start(await net.client(), { pricing: 'cheap' }), (e) => e.code === 'INVALID_ARGUMENT')
})
