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

test('the backend refuses a bad size with a code', async () => {
  const res = await fetch(`${server.url}/api/jobs`, { method: 'POST', body: JSON.stringify({ size: -3 }) })
  assert.equal(res.status, 400)
  assert.equal((await res.json()).code, 'INVALID_ARGUMENT')
})
