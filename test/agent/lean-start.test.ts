/**
 * The `outrigger` command replaces its own process (same pid) with a leaner Node: a small young
 * generation and the compile cache. The pid a supervisor or the process source knows must stay
 * the agent's, and `OUTRIGGER_NO_REEXEC=1` must turn it off.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort } from '../support/postgres.ts'
import { startChild, waitForHttp } from '../support/stack.ts'

async function startAgentCommand (t: { after: (fn: () => Promise<unknown>) => void }, env: Record<string, string>): Promise<{ pid: number, cmdline: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-lean-'))
  const port = await freePort()
  const config = join(dir, 'outrigger.yaml')
  await writeFile(config, `server: { listen: "127.0.0.1:${port}" }\ntargets:\n  - name: self\n    probes:\n      - name: port\n        tcp: { address: "127.0.0.1:${port}" }\n`)
  const agent = startChild('agent', process.execPath, ['agent/bin/outrigger.ts', '--config', config], env)
  t.after(async () => { await agent.stop(); await rm(dir, { recursive: true, force: true }) })
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, agent, 'the agent')
  const pid = agent.process.pid as number
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ')
  return { pid, cmdline }
}

test('the command keeps its pid and runs with the lean V8 flags', async (t) => {
  const { cmdline } = await startAgentCommand(t, {})
  assert.match(cmdline, /--max-semi-space-size=1/)
  assert.match(cmdline, /agent\/bin\/outrigger\.ts --config /)
})

test('OUTRIGGER_NO_REEXEC=1 runs the agent as started', async (t) => {
  const { cmdline } = await startAgentCommand(t, { OUTRIGGER_NO_REEXEC: '1' })
  assert.doesNotMatch(cmdline, /--max-semi-space-size/)
})
