// The local network: tokens are conserved across a job.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const { LocalNetwork } = createRequire(import.meta.url)('../index.js')

let net
before(async () => { net = await LocalNetwork.start({ nodes: 2, validators: 2 }) })
after(() => net.close())

test('tokens are conserved', async () => {
  const held = await net.tokensHeld()
  const client = await net.client(2_000_000)
  await client.wait(await client.submitMatmul(new Float32Array(4).fill(1), new Float32Array(4).fill(1), { m: 2, k: 2, n: 2 }), 60)
  assert.equal(await net.tokensHeld(), held + 2_000_000)
})
