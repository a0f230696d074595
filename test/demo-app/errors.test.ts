import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { DEMO_ERROR_CODES, DemoAppError } from '../../demo-app/errors.ts'

test('every error code is documented in docs/demo-app.md with its status', async () => {
  const doc = await readFile(new URL('../../docs/demo-app.md', import.meta.url), 'utf8')
  for (const [code, { status }] of Object.entries(DEMO_ERROR_CODES)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`))
    assert.ok(row !== undefined, `${code} has no row in the errors table`)
    if (code !== 'DEMO_ERR_CONFIG_INVALID') assert.ok(row.includes(`| ${status} |`), `${code} is documented with another status: ${row}`)
  }
  const documented = [...doc.matchAll(/^\| `(DEMO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1])
  assert.deepEqual(documented.filter((code) => !(code! in DEMO_ERROR_CODES)), [], 'documented codes that do not exist')
})

test('a DemoAppError carries its code, status, field and cause', () => {
  const cause = new Error('root')
  const error = new DemoAppError('DEMO_ERR_SKU_CONFLICT', 'sku "A" is taken', { cause, field: 'sku' })
  assert.equal(error.code, 'DEMO_ERR_SKU_CONFLICT')
  assert.equal(error.statusCode, 409)
  assert.equal(error.field, 'sku')
  assert.equal(error.cause, cause)
})
