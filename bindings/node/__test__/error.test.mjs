// Bad input rejects with an Error carrying a stable code, and submits nothing.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const { LocalNetwork, Client } = createRequire(import.meta.url)('../index.js')

let net
before(async () => { net = await LocalNetwork.start({ nodes: 2, validators: 2 }) })
after(() => net.close())

test('bad input rejects with a code and submits nothing', async () => {
  const client = await net.client()
  const before = await client.balance()
  const ok = [new Float32Array(6), new Float32Array(6), { m: 2, k: 3, n: 2 }]
  const cases = [
    [[new Float32Array(5), ok[1], ok[2]], 'INVALID_ARGUMENT', /a: 5 values is not 2×3/],
    [[...ok, { gpuClass: 'tpu' }], 'INVALID_ARGUMENT', /unknown GPU class 'tpu'/],
    [[...ok, { gpuClass: 99 }], 'INVALID_ARGUMENT', /unknown GPU class 99/],
    [[...ok, { maxPrice: -1 }], 'INVALID_ARGUMENT', /maxPrice must be an integer/],
    [[...ok, { gpuSeconds: 1.5 }], 'INVALID_ARGUMENT', /gpuSeconds/],
    [[...ok, { maxPrice: 0 }], 'INVALID_ARGUMENT', /must be positive/],
    [[ok[0], ok[1], { m: 2, k: 0, n: 2 }], 'INVALID_ARGUMENT', /0 values|not 2×0/],
  ]
  for (const [args, code, message] of cases) {
    await assert.rejects(client.submitMatmul(...args), (e) => e.code === code && message.test(e.message), `${code} ${message}`)
  }
  // Wrong JS types are refused by the binding's argument conversion, as JS errors.
  assert.throws(() => client.submitMatmul([1, 2], ok[1], ok[2]), (e) => e instanceof Error && e.code === 'InvalidArg')
  await assert.rejects(client.status('not-a-key'), (e) => e.code === 'INVALID_ARGUMENT' && /base58/.test(e.message))
  await assert.rejects(client.status('11111111111111111111111111111111'), (e) => e.code === 'ACCOUNT_NOT_FOUND')
  await assert.rejects(client.quote({ gpuClass: 'h100' }), (e) => e.code === 'NO_QUOTE')
  await assert.rejects(
    client.submitMatmul(...ok, { maxPrice: 1e12, gpuSeconds: 1e6 }),
    (e) => e.code === 'TRANSACTION_FAILED' || e.code === 'PROGRAM_ERROR',
  )
  assert.equal(await client.balance(), before)
  assert.deepEqual(await client.jobs(true), [])
  await assert.rejects(LocalNetwork.start({ dishonest: ['sneaky'] }), (e) => e.code === 'INVALID_ARGUMENT')
  await assert.rejects(Client.connect({ keypair: '/nonexistent.json', config: '/nonexistent.yml' }), (e) => e.code === 'CONFIG_ERROR')
  await assert.rejects(
    Client.connect({ config: '/nonexistent.yml', programId: 'not-base58!' }),
    (e) => e.code === 'CONFIG_ERROR' && /program id/.test(e.message),
  )
  await assert.rejects(
    Client.connect({ config: '/nonexistent.yml', pinToken: 'secret' }),
    (e) => e.code === 'INVALID_ARGUMENT' && /both its endpoint and its token/.test(e.message),
  )
})
