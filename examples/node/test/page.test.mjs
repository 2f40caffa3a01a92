// The marketplace page in a real browser (Debian's chromium through playwright-core): submit a job
// from the page and watch it settle with a passing proof and a result that checks out.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'
import { start } from '../server.mjs'

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run']

let server, browser
before(async () => {
  server = await start({ port: 0, dishonest: [] })
  // scripts/node-test.sh installs Debian's chromium: no browser is a failure, not a skip.
  browser = await chromium.launch({ executablePath, args })
})
after(async () => { await browser?.close(); await server?.close() })

test('a job submitted from the page settles and the page shows its proof', async () => {
  const page = await browser.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(server.url)
  await page.locator('#quote').filter({ hasText: 'escrow' }).waitFor()
  // Nodes and prices come in through the live stream.
  await page.locator('#nodes tr').nth(2).waitFor()
  assert.equal(await page.locator('#prices tr[data-key="cpu"] td').nth(1).textContent().then(Number) > 0, true)

  await page.selectOption('#size', '32')
  await page.click('#submit-job')
  await page.waitForFunction(() => document.getElementById('submit').dataset.lastJob)
  const job = await page.evaluate(() => document.getElementById('submit').dataset.lastJob)
  const row = page.locator(`#jobs tr[data-key="${job}"]`)
  await row.waitFor()
  // The page updates by itself (no reload) until the job settles and the backend has checked
  // the verified result against its own product.
  await row.locator('td.Settled').waitFor({ timeout: 60_000 })
  await row.locator('td', { hasText: 'max |Δ|' }).waitFor()
  const cells = await row.locator('td').allTextContents()
  assert.equal(cells[1], '32×32×32')
  const [pass, fail] = cells[5].split('/').map(Number)
  assert.ok(pass >= 1 && fail === 0, `votes ${cells[5]}`)
  const delta = Number(cells[6].split(' ').pop())
  assert.ok(delta < 1e-3, `result differs from the backend's own product by ${delta}`)
  assert.match(cells[4], /^\d+\/s$/)
  await page.screenshot({ path: new URL('../../../target/marketplace.png', import.meta.url).pathname, fullPage: true })
  assert.deepEqual(errors, [])
})

// A .npy file of float32 values (NumPy format 1.0).
function npy(values, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'
  const head = Buffer.alloc(10)
  Buffer.from('\x93NUMPY\x01\x00', 'latin1').copy(head)
  head.writeUInt16LE(header.length, 8)
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)])
}

test('an ONNX model and input uploaded from the page run and its verified outputs show', async () => {
  const page = await browser.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(server.url)
  const model = new URL('../../../gpufuel-fixtures/models/classifier.onnx', import.meta.url).pathname
  const images = Array.from({ length: 20 * 64 }, (_, i) => ((i * 7919) % 2001) / 1000 - 1)
  await page.setInputFiles('#onnx-model', model)
  await page.setInputFiles('#onnx-input', { name: 'x.npy', mimeType: 'application/octet-stream', buffer: npy(images, [20, 1, 8, 8]) })
  await page.click('#submit-onnx')
  await page.waitForFunction(() => document.getElementById('onnx').dataset.lastJob)
  const job = await page.evaluate(() => document.getElementById('onnx').dataset.lastJob)
  const row = page.locator(`#jobs tr[data-key="${job}"]`)
  await row.locator('td.Settled').waitFor({ timeout: 60_000 })
  const outputs = page.locator(`#outputs li[data-job="${job}"]`)
  await outputs.nth(2).waitFor()
  const texts = await outputs.allTextContents()
  assert.match(texts[0], /logits f32 \[20, 10\]/)
  assert.match(texts[1], /probs f32 \[20, 10\]/)
  assert.match(texts[2], /label i64 \[20\] \d/)
  assert.equal((await row.locator('td').allTextContents())[1], 'ONNX, x [20, 1, 8, 8]')
  await page.screenshot({ path: new URL('../../../target/marketplace-onnx.png', import.meta.url).pathname, fullPage: true })
  assert.deepEqual(errors, [])
  const bad = await fetch(`${server.url}/api/onnx`, { method: 'POST', body: JSON.stringify({ model: 'AAAA', input: 'AAAA' }) })
  assert.equal(bad.status, 400)
  assert.equal((await bad.json()).code, 'INVALID_ARGUMENT')
})

test('the backend refuses a bad size with a code', async () => {
  const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: JSON.stringify({ size: -3 }) })
  assert.equal(res.status, 400)
  assert.equal((await res.json()).code, 'INVALID_ARGUMENT')
})
