import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse } from 'yaml'
import { ERROR_CODES } from '../../agent/errors.ts'
import { configJsonSchema, renderConfigJsonSchema } from '../../agent/config/index.ts'

const root = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))

test('every error code in agent/errors.ts is documented in docs/errors.md', async () => {
  const docs = await readFile(root('docs/errors.md'), 'utf8')
  const missing = Object.keys(ERROR_CODES).filter((code) => !docs.includes(`### \`${code}\``))
  assert.deepEqual(missing, [], `add a "### \`CODE\`" section to docs/errors.md for: ${missing.join(', ')}`)
})

test('the committed JSON Schema is the one generated from the validator', async () => {
  const committed = await readFile(root('docs/schemas/outrigger.config.schema.json'), 'utf8')
  assert.equal(committed, renderConfigJsonSchema(), 'stale: run `npm run agent -- schema > docs/schemas/outrigger.config.schema.json`')
})

test('the JSON Schema accepts the example as written and rejects an unknown key and a bad duration', async () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  const validate = ajv.compile(configJsonSchema())
  const example: unknown = parse(await readFile(root('examples/outrigger.yaml'), 'utf8'))
  assert.ok(validate(example), JSON.stringify(validate.errors))

  const withUnknownKey = parse('defaults: { intervall: 5s }\ntargets: [{ name: a, process: { pid: 1 } }]\n') as unknown
  assert.equal(validate(withUnknownKey), false)
  const withBadDuration = parse('defaults: { interval: 5 seconds }\ntargets: [{ name: a, process: { pid: 1 } }]\n') as unknown
  assert.equal(validate(withBadDuration), false)
  const withVariable = parse('defaults: { interval: "${INTERVAL:-5s}" }\ntargets: [{ name: a, process: { port: "${PORT}" } }]\n') as unknown
  assert.ok(validate(withVariable), JSON.stringify(validate.errors))
})

test('docs/configuration.md shows examples/outrigger.yaml verbatim', async () => {
  const docs = await readFile(root('docs/configuration.md'), 'utf8')
  const example = await readFile(root('examples/outrigger.yaml'), 'utf8')
  const shown = /<!-- example:begin -->\n```yaml\n([\s\S]*?)```\n<!-- example:end -->/.exec(docs)?.[1]
  assert.equal(shown, example)
})

test('docs/configuration.md names every key the schema accepts', async () => {
  const docs = await readFile(root('docs/configuration.md'), 'utf8')
  const keys = new Set<string>()
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(collect)
    } else if (typeof node === 'object' && node !== null) {
      const properties = (node as { properties?: Record<string, unknown> }).properties
      for (const key of Object.keys(properties ?? {})) keys.add(key)
      Object.values(node).forEach(collect)
    }
  }
  collect(configJsonSchema())
  assert.ok(keys.size > 40, `expected the whole schema, found ${keys.size} keys`)
  const missing = [...keys].filter((key) => !docs.includes(`\`${key}\``) && !docs.includes(`.${key}\``))
  assert.deepEqual(missing, [])
})
