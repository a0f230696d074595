/**
 * Property-based tests over agent configuration files: every generated input either loads (a
 * frozen config) or fails with a ConfigError whose every problem names where it is — a path or a
 * line — without a stack trace and without hanging. Many inputs go through `parseConfigText`; a
 * sample goes through the real CLI, `outrigger check`, which must exit 0 or 2.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { ConfigError, parseConfigText, type ConfigFileAccess } from '../../agent/config/index.ts'
import { jsonish, mutate, mutation } from './json-mutation.ts'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')

/** A valid config touching every section and source kind. */
const BASE = {
  server: { listen: '127.0.0.1:9465', auth: { bearer: { token: 'secret-token' }, openPaths: ['/healthz'] } },
  defaults: { interval: '15s', timeout: '5s' },
  limits: { bodyBytes: 1048576, seriesPerTarget: 10000 },
  tracing: { exporter: 'none' },
  targets: [
    {
      name: 'app',
      stats: { url: 'http://127.0.0.1:8000/stats', interval: '5s', timeout: '2s', headers: { authorization: 'Bearer x' } },
      probes: [
        { name: 'health', http: { url: 'http://127.0.0.1:8000/health', expectStatus: [200], bodyRegex: 'ok', jsonEquals: { path: '$.status', value: 'ok' } } },
        { name: 'port', tcp: { address: '127.0.0.1:8000', send: 'PING\n', expect: '^PONG' } },
        { name: 'db', postgres: { url: 'postgres://app:pw@127.0.0.1:5432/app', query: 'SELECT 1' }, interval: '30s' }
      ],
      process: { port: 8000 }
    },
    {
      name: 'json',
      stats: {
        url: 'http://127.0.0.1:8000/other',
        format: 'mapping',
        mappings: [{ name: 'queue_depth', type: 'gauge', path: '$.queues[*]', value: '$.depth', labels: { queue: '$.name' }, valueMap: { up: 1 } }]
      }
    }
  ]
}

/** Values a config key might plausibly be given, right or wrong. */
const configValue: fc.Arbitrary<unknown> = fc.oneof(
  jsonish,
  fc.constantFrom('0s', '-1s', '1ms', '10m', '1h', '1d', '15', 15, 0, 0.001, 1e12, '127.0.0.1:0', ':65536', 'localhost', '[::1]:80', 'http://', 'https://x/y', 'postgres://@h/db',
    'ftp://x', '${UNSET_VAR}', '${SET_VAR}', '${SET_VAR:-7}', '$${LITERAL}', '${', '${1BAD}', '[unclosed', '(?<', '$..x', '@key', 'gauge', 'counter', 'mapping', 'contract',
    'otlp', 'jaeger', 'bogus', 'tokenFile.txt', '/no/such/file', true, false, [], {}),
  fc.string({ maxLength: 30 })
)

/** Keys: real ones in the wrong place, near misses, and anything. */
const configKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('listen', 'interval', 'timeout', 'url', 'name', 'probes', 'stats', 'process', 'http', 'tcp', 'postgres', 'tokenFile', 'passwordFile', 'certFile', 'intervall', 'Url', '__proto__', 'constructor', 'toString', ''),
  fc.string({ maxLength: 12 })
)

/** In-memory file access: one readable secret, everything else missing. */
const files: ConfigFileAccess = {
  resolve: (path) => isAbsolute(path) ? path : `/config/${path}`,
  readSecret: async (path) => {
    if (path === '/config/tokenFile.txt') return 'file-token'
    throw new Error(`cannot read secret file \`${path}\`: no such file (ENOENT)`)
  },
  readPem: async (path) => { throw new Error(`cannot read \`${path}\`: no such file (ENOENT)`) }
}

const ENV = { SET_VAR: '5s' }

/** Loads `text` or checks the failure is a ConfigError whose every problem says where it is. */
async function loadsOrNamesWhere (text: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`parseConfigText did not finish within 5 s for:\n${text.slice(0, 2000)}`)), 5000)
  })
  try {
    const config = await Promise.race([parseConfigText(text, { env: ENV, files, file: 'outrigger.yaml' }), deadline])
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.targets), 'a loaded config is frozen')
  } catch (error) {
    if (!(error instanceof ConfigError)) throw new Error(`not a ConfigError for:\n${text.slice(0, 2000)}`, { cause: error })
    assert.ok(['OUTRIGGER_ERR_CONFIG_INVALID', 'OUTRIGGER_ERR_CONFIG_READ'].includes(error.code), error.code)
    assert.ok(error.problems.length > 0, 'at least one problem')
    for (const problem of error.problems) {
      // An empty document has nowhere to point at but the file, which the problem names.
      const wholeFile = problem.file !== undefined && /the configuration is empty/.test(problem.message)
      assert.ok(problem.path !== '' || problem.line !== undefined || wholeFile, `the problem says where it is: ${JSON.stringify(problem)}`)
      assert.ok(problem.message.length > 0)
      assert.ok(!problem.message.includes('    at '), `no stack trace: ${problem.message}`)
      assert.ok(!problem.message.includes('secret-token'), 'no secret in a message')
    }
  } finally {
    clearTimeout(timer)
  }
}

test('the base config loads: the properties below start from a valid file', async () => {
  const config = await parseConfigText(stringify(BASE), { env: ENV, files })
  assert.equal(config.targets.length, 2)
})

test('a damaged config loads or fails naming the path of every problem; never a crash or a hang', async () => {
  await fc.assert(fc.asyncProperty(fc.array(mutation(configValue, configKey), { minLength: 1, maxLength: 4 }), async (mutations) => {
    const document = mutations.reduce<unknown>((doc, change) => mutate(doc, change), BASE)
    await loadsOrNamesWhere(stringify(document) ?? '')
  }), { numRuns: 400 })
})

test('arbitrary text as a config file: loads or fails with a path or a line; never a crash or a hang', async () => {
  const yamlish = fc.string({ unit: fc.constantFrom('a', ':', ' ', '\n', '-', '{', '}', '[', ']', '"', "'", '#', '&', '*', '!', '|', '>', '$', '%', '@', '`', '\t', '?', ',', '1', '\u0000', '\ufeff'), maxLength: 200 })
  await fc.assert(fc.asyncProperty(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 200 })), async (text) => {
    await loadsOrNamesWhere(text)
  }), { numRuns: 500 })
})

test('YAML tricks: alias bombs, deep nesting, duplicate keys and tags fail plainly', async () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`), 'targets: *j'].join('\n')
  for (const text of [
    bomb,
    `targets: ${'['.repeat(5000)}${']'.repeat(5000)}`,
    'targets: []\ntargets: []\n',
    'targets: !!js/function "function () {}"\n',
    'targets: !!binary aGVsbG8=\n',
    'targets:\n  - name: a\n    process: { pid: 99999999999999999999999 }\n',
    `targets:\n  - name: ${'a'.repeat(100_000)}\n    process: { pid: 1 }\n`
  ]) {
    await loadsOrNamesWhere(text)
  }
})

test('outrigger check on a sample of generated configs: exit 0 or 2, problems one per line with a place, no stack trace', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-check-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const samples = fc.sample(fc.array(mutation(configValue, configKey), { minLength: 1, maxLength: 3 }), { numRuns: 8, seed: 7 })
    .map((mutations) => stringify(mutations.reduce<unknown>((doc, change) => mutate(doc, change), BASE)) ?? '')
  samples.push(stringify(BASE), 'targets: [unclosed\n', '')
  const outcomes = await Promise.all(samples.map(async (text, index) => {
    const file = join(dir, `config-${index}.yaml`)
    await writeFile(file, text)
    const result = await run(process.execPath, ['agent/bin/outrigger.ts', 'check', '--config', file], { cwd: ROOT, env: { PATH: process.env.PATH, ...ENV }, timeout: 30_000 })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code?: number, stdout: string, stderr: string, killed?: boolean }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr, killed: error.killed }))
    return { file, text, ...result }
  }))
  assert.equal(outcomes.at(-3)?.code, 0, `the base config passes: ${outcomes.at(-3)?.stderr}`)
  for (const outcome of outcomes) {
    assert.ok(outcome.code === 0 || outcome.code === 2, `exit ${outcome.code} for\n${outcome.text}\n${outcome.stderr}`)
    assert.ok(!outcome.stderr.includes('    at '), `no stack trace:\n${outcome.stderr}`)
    if (outcome.code === 2) {
      const lines = outcome.stderr.trim().split('\n')
      assert.match(lines.at(-1) ?? '', /^outrigger: /, outcome.stderr)
      for (const line of lines.slice(0, -1)) assert.ok(line.startsWith(`${outcome.file}:`), `each problem starts with file:line:col: ${line}`)
    } else {
      assert.match(outcome.stdout, /: ok \(/)
    }
  }
})

test('valueMap cannot map a word to NaN or Infinity: the config names both entries', async () => {
  const text = [
    'targets:',
    '  - name: a',
    '    stats:',
    '      url: http://127.0.0.1:1/x',
    '      format: mapping',
    '      mappings:',
    '        - { name: s, type: gauge, path: $.s, valueMap: { up: .nan, down: .inf } }',
    ''
  ].join('\n')
  await assert.rejects(parseConfigText(text, { env: {}, files }), (error: ConfigError) => {
    assert.deepEqual(error.problems.map((problem) => problem.path), ['targets[0].stats.mappings[0].valueMap.up', 'targets[0].stats.mappings[0].valueMap.down'])
    return true
  })
})
