/**
 * The benchmark's short mode runs every step end to end and writes a results file that matches
 * bench/results.schema.json. No figure is judged here: speed is for the benchmark itself.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import schema from '../../bench/results.schema.json' with { type: 'json' }

const REPO_ROOT = join(import.meta.dirname, '..', '..')

test('bench --short writes a well-formed results file with every step run', { timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const outFile = join(dir, 'results.json')

  const child = spawn(process.execPath, ['bench/run.ts', '--short', '--out', outFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exitCode = await new Promise<number | null>((resolve) => { child.once('close', (code) => { resolve(code) }) })
  assert.equal(exitCode, 0, `bench --short failed:\n${output}`)
  assert.match(output, /== Targets ==/, 'the final table is printed')

  const results = JSON.parse(await readFile(outFile, 'utf8')) as { mode: string, steps: Record<string, { status: string, reason?: string }>, targets: unknown[] }
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  addFormats.default(ajv)
  const validate = ajv.compile(schema)
  assert.ok(validate(results), `results do not match bench/results.schema.json: ${ajv.errorsText(validate.errors)}`)

  assert.equal(results.mode, 'short')
  for (const [name, outcome] of Object.entries(results.steps)) {
    // Only the peers step may be skipped, and only because the exporters are not installed here.
    if (name === 'peers' && outcome.status === 'skipped') {
      assert.match(outcome.reason ?? '', /peers not available/)
      continue
    }
    assert.equal(outcome.status, 'measured', `step ${name}: ${outcome.reason ?? ''}`)
  }
  assert.ok(results.targets.length >= 10, 'every target is listed')
})
