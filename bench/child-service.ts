/**
 * A server the benchmark runs as a child process (demo app, upstream, hello world, target farm,
 * agent): started with this Node, its output kept in a log file (printed when it fails), ready once
 * a URL answers, stopped with SIGTERM and, past a deadline, SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitUntil } from '../test/support/wait.ts'

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Short name for logs and messages. */
  name: string
  /** Arguments to Node: the script and its arguments (V8 flags first if any). */
  args: string[]
  /** Extra environment over the benchmark's own. */
  env?: Record<string, string>
  /** Folder for the child's log file. */
  logDir: string
  /** URL that answers 2xx once the child is ready. */
  readyUrl: string
  /** Give up waiting for `readyUrl` after this long, in ms; default 60,000. */
  readyTimeoutMs?: number
}

/** A running child. */
export interface RunningChild {
  readonly name: string
  readonly pid: number
  /** Where its stdout and stderr go. */
  readonly logFile: string
  /** Whether it has exited. */
  readonly exited: boolean
  /** Stops it: SIGTERM, then SIGKILL after `graceMs` (default 10,000). Safe to call twice. */
  stop (graceMs?: number): Promise<void>
}

/** The working directory of every child: the repository root. */
export const REPO_ROOT = join(import.meta.dirname, '..')

/**
 * Starts `node <args>` and resolves once `readyUrl` answers 2xx.
 * @throws Error naming the child, with the end of its log, when it exits or is not ready in time.
 */
export async function startChild (options: ChildOptions): Promise<RunningChild> {
  const logFile = join(options.logDir, `${options.name}.log`)
  const log = createWriteStream(logFile, { flags: 'a' })
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1)
      resolve()
    })
  })
  const pid = child.pid
  if (pid === undefined) {
    throw new Error(`${options.name}: could not start ${process.execPath} ${options.args.join(' ')}`)
  }

  let stopping: Promise<void> | undefined
  const running: RunningChild = {
    name: options.name,
    pid,
    logFile,
    get exited () { return exitCode !== undefined },
    stop (graceMs = 10_000) {
      stopping ??= (async () => {
        if (exitCode === undefined) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
          timer.unref()
          await exited
          clearTimeout(timer)
        }
        await new Promise<void>((resolve) => { log.end(resolve) })
      })()
      return stopping
    }
  }

  try {
    await waitUntil(async () => {
      if (exitCode !== undefined) throw new Error(`${options.name} exited with code ${String(exitCode)}`)
      const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(2000) })
      await response.body?.cancel()
      return response.ok
    }, {
      what: `${options.name} to answer ${options.readyUrl}`,
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      intervalMs: 100
    })
  } catch (error) {
    await running.stop(2000)
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n')
    throw new Error(`${(error as Error).message}\n--- last lines of ${logFile} ---\n${tail}`, { cause: error })
  }
  return running
}
