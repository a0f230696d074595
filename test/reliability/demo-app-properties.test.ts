/**
 * Property-based tests over what clients send the demo app: request bodies, query strings, path
 * parameters and headers. Every answer is a 2xx or a 4xx JSON error; a validation error names the
 * request part and field at fault. Never a 5xx.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { startTestApp } from '../demo-app/test-app.ts'
import { jsonish } from './json-mutation.ts'

/** `encodeURIComponent` for any string: lone surrogates (which it refuses) become U+FFFD first. */
const encode = (text: string): string => encodeURIComponent(text.toWellFormed())

/** Text that tends to break things: control characters, NUL, lone surrogates, SQL and LIKE metacharacters. */
const nastyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', ' ', '%', '\\', "'", '"', ';', '\u0000', '\u0001', '\ud800', '😀', '\n', '/', '?', '#', '&', '='), maxLength: 40 }),
  fc.constantFrom("' OR 1=1 --", '%', '_', '\\', '%_%', 'NaN', 'Infinity', '-Infinity', '-0', '1e309', '-1e309', '0x10', '  7  ', '', 'x'.repeat(5000))
)

const fieldValue = fc.oneof(nastyText, jsonish, fc.integer(), fc.double(), fc.constantFrom(0, -1, 2_147_483_647, 2_147_483_648, Number.MAX_SAFE_INTEGER))

/** Item bodies: the known fields with arbitrary values, sometimes an unknown field, sometimes anything at all. */
const itemBody = fc.oneof(
  fc.record({ sku: fieldValue, name: fieldValue, category: fieldValue, priceCents: fieldValue, stock: fieldValue }, { requiredKeys: [] }),
  fc.record({ sku: nastyText, name: nastyText, category: nastyText, priceCents: fc.integer(), stock: fc.integer() }, { requiredKeys: ['sku', 'name', 'category', 'priceCents'] }),
  fc.dictionary(fc.string({ maxLength: 10 }), fieldValue, { maxKeys: 4 }),
  // Valid apart from the free-text name, so the text reaches the database.
  fc.record({
    sku: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/),
    name: nastyText,
    category: fc.constantFrom('tools', 'garden', 'toys'),
    priceCents: fc.nat({ max: 2_147_483_647 }),
    stock: fc.nat({ max: 2_147_483_647 })
  }),
  jsonish
)

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=latin1', 'application/json;;', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '', 'application/jsonx', 'json']

/** Checks one answer: a 2xx, or a 4xx JSON error that says what was wrong; never a 5xx. */
function assertClientSafe (request: InjectOptions, response: LightMyRequestResponse): void {
  const what = `${request.method ?? 'GET'} ${String(request.url).slice(0, 200)} ${typeof request.payload === 'string' ? request.payload.slice(0, 200) : JSON.stringify(request.payload)?.slice(0, 200)} → ${response.statusCode} ${response.body.slice(0, 300)}`
  assert.ok(response.statusCode < 500, `no 5xx: ${what}`)
  if (response.statusCode < 400) return
  const body = response.json() as { statusCode: number, code: string, message: string, field?: string }
  assert.equal(body.statusCode, response.statusCode, what)
  assert.match(body.code, /^DEMO_ERR_/, what)
  assert.ok(typeof body.message === 'string' && body.message.length > 0, what)
  if (body.code === 'DEMO_ERR_VALIDATION') {
    assert.match(body.message, /^(body|query|params|headers)\b/, `a validation message names the request part: ${what}`)
    if (body.field !== undefined) assert.ok(body.message.includes(body.field), `the message names the field ${body.field}: ${what}`)
    else assert.match(body.message, /^(body|query|params) (must|is)/, `without a field, the part as a whole is at fault: ${what}`)
  }
}

async function check (app: FastifyInstance, request: InjectOptions): Promise<void> {
  assertClientSafe(request, await app.inject(request))
}

test('demo app: arbitrary bodies, query strings, path parameters and headers get a 2xx or a 4xx naming the field, never a 5xx', { timeout: 120_000 }, async (t) => {
  const { app } = await startTestApp(t)

  await t.test('POST /api/items bodies', async () => {
    await fc.assert(fc.asyncProperty(itemBody, async (body) => {
      await check(app, { method: 'POST', url: '/api/items', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'undefined' })
    }), { numRuns: 300 })
  })

  await t.test('PATCH /api/items/:id with any id and body', async () => {
    const id = fc.oneof(fc.integer({ min: -5, max: 60 }).map(String), nastyText.map(encode), fc.constantFrom('1.5', '1e3', '1e309', 'Infinity', '0x1', '99999999999999999999', '%00', '..', '1;2'))
    await fc.assert(fc.asyncProperty(id, itemBody, async (itemId, body) => {
      await check(app, { method: 'PATCH', url: `/api/items/${itemId}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? 'null' })
    }), { numRuns: 200 })
  })

  await t.test('GET /api/items/:id with any id', async () => {
    const id = fc.oneof(fc.integer().map(String), nastyText.map(encode), fc.constantFrom('%2e%2e', '%ff', '%', '1%00', '-0', '+1', ' 1', '1e309', 'Infinity', '-Infinity', 'x'.repeat(101)))
    await fc.assert(fc.asyncProperty(id, async (itemId) => {
      await check(app, { method: 'GET', url: `/api/items/${itemId}` })
    }), { numRuns: 300 })
  })

  await t.test('GET /api/items with any query string', async () => {
    const key = fc.oneof(fc.constantFrom('category', 'q', 'q', 'q', 'minPriceCents', 'maxPriceCents', 'inStock', 'limit', 'offset'), fc.string({ maxLength: 8 }))
    const query = fc.array(fc.tuple(key, fc.oneof(nastyText, fc.integer().map(String), fc.constantFrom('true', 'false', '1', '0', 'yes', '', '-1', '101', '1.5'))), { maxLength: 5 })
    await fc.assert(fc.asyncProperty(query, async (pairs) => {
      const search = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')
      await check(app, { method: 'GET', url: `/api/items?${search}` })
    }), { numRuns: 300 })
  })

  await t.test('GET /api/upstream/quote with any delay that is not a valid wait', async () => {
    // Valid delays make the upstream wait that long; only invalid ones are generated here.
    const delay = fc.oneof(nastyText, fc.integer({ min: 60_001 }).map(String)).filter((value) => !(Number.isFinite(Number(value)) && Number(value) <= 60_000))
    await fc.assert(fc.asyncProperty(delay, async (value) => {
      await check(app, { method: 'GET', url: `/api/upstream/quote?delay=${encode(value)}` })
    }), { numRuns: 100 })
  })

  await t.test('raw bodies under any content type, and odd headers', async () => {
    const header = fc.string({ unit: fc.constantFrom('a', '1', ' ', ';', '=', ',', '/', '*', '"', '\t'), maxLength: 40 })
    const raw = fc.oneof(nastyText, fc.jsonValue().map((value) => JSON.stringify(value)), fc.constantFrom('{', '{"sku":', '[]', 'null', '"x"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '\ufeff{}'))
    await fc.assert(fc.asyncProperty(fc.constantFrom(...CONTENT_TYPES), raw, header, header, async (contentType, payload, accept, extra) => {
      const headers: Record<string, string> = { accept, 'x-extra': extra, 'accept-encoding': extra }
      if (contentType !== '') headers['content-type'] = contentType
      await check(app, { method: 'POST', url: '/api/items', headers, payload })
      await check(app, { method: 'GET', url: '/api/items/1', headers })
    }), { numRuns: 300 })
  })

  assert.equal(app.requestStats.errors, 0, 'no request above ended in a 5xx')
})

test('inputs the properties once found to end in a 5xx or a foreign error shape: each is now a 4xx naming the field', async (t) => {
  const { app } = await startTestApp(t)
  const cases: Array<{ request: InjectOptions, status: number, code: string, field?: string }> = [
    { request: { url: '/api/items?limit=1e309' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'limit' },
    { request: { url: '/api/items?offset=-Infinity' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'offset' },
    { request: { url: '/api/items/Infinity' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'id' },
    { request: { url: '/api/upstream/quote?delay=1e309' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'delay' },
    { request: { url: '/api/items?q=%00' }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'q' },
    { request: { method: 'POST', url: '/api/items', payload: { sku: 'NUL-1', name: 'a\u0000b', category: 'tools', priceCents: 1 } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'name' },
    { request: { method: 'PATCH', url: '/api/items/1', payload: { name: '\u0000' } }, status: 400, code: 'DEMO_ERR_VALIDATION', field: 'name' },
    { request: { url: `/api/items/${'1'.repeat(101)}` }, status: 414, code: 'DEMO_ERR_BAD_REQUEST' },
    { request: { url: '/api/items/%E0%A4%A' }, status: 400, code: 'DEMO_ERR_BAD_REQUEST' }
  ]
  for (const c of cases) {
    const response = await app.inject(c.request)
    assertClientSafe(c.request, response)
    assert.equal(response.statusCode, c.status, `${String(c.request.url)}: ${response.body}`)
    assert.equal(response.json().code, c.code, String(c.request.url))
    if (c.field !== undefined) assert.equal(response.json().field, c.field, String(c.request.url))
  }
})
