#!/usr/bin/env node
/**
 * The `outrigger` command (package.json "bin"). Everything happens in main.ts; this file only
 * makes the process lean before anything else loads.
 *
 * A Node process that runs TypeScript keeps Node's type stripper (a WebAssembly module of about
 * 17 MiB) resident for as long as it lives, and V8's default young generation grows to tens of MiB
 * that an agent allocating little per second never needs. So the command first replaces itself
 * (`execve`: same pid, same stdio, no process left behind) with a Node that runs with
 * {@link AGENT_V8_FLAGS} and with Node's compile cache on: from the second start on, every module
 * comes stripped and compiled from the cache and the type stripper is never loaded.
 * Where `process.execve` does not exist (Node before 23.11) or `OUTRIGGER_NO_REEXEC=1` is set, it
 * runs as started. An explicit `NODE_COMPILE_CACHE` is kept; flags given to `node` are kept too and
 * win over these.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** V8 flags of the agent process: a 1 MiB semi-space keeps the young generation small. */
export const AGENT_V8_FLAGS: readonly string[] = ['--max-semi-space-size=1']

/** Set in the replacing process only, so it does not replace itself again. */
const REEXECUTED = 'OUTRIGGER_REEXECUTED'

if (process.env[REEXECUTED] === undefined && process.env.OUTRIGGER_NO_REEXEC !== '1' && typeof process.execve === 'function' && process.argv[1] !== undefined) {
  const env = { ...process.env, [REEXECUTED]: '1', NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache') }
  try {
    process.execve(process.execPath, [process.execPath, ...AGENT_V8_FLAGS, ...process.execArgv, process.argv[1], ...process.argv.slice(2)], env)
  } catch {
    // Could not replace the process (a seccomp policy, say): run as started, only less lean.
  }
}
delete process.env[REEXECUTED]

const { main } = await import('../main.ts')
process.exitCode = await main(process.argv.slice(2), process.env)
