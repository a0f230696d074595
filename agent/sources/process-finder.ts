/**
 * Finds the target process: by pid, by the pid in a pidfile, by a command-line regex, or by the TCP
 * port it listens on. Linux procfs only (pid and pidfile also work elsewhere, see the process source).
 */
import { readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isGone, isUnreadable, readProcFile, readStat, ProcessGoneError } from './process-usage.ts'

/**
 * How the target process is chosen. Exactly one key:
 * - `pid`: that process; if the pid is reused by another process (start time differs), not found;
 * - `pidfile`: the pid written in that file (re-read whenever the followed process is gone);
 * - `cmdline`: the oldest process whose command line (arguments joined by spaces) matches, never
 *   the agent itself;
 * - `port`: the oldest process holding a socket listening on that TCP port (IPv4 or IPv6).
 */
export type ProcessSelector =
  | { pid: number }
  | { pidfile: string }
  | { cmdline: RegExp }
  | { port: number }

/** What {@link findProcess} found: a pid, or why none matches (for a `not_found` failure message). */
export type FindResult = { pid: number } | { notFound: string }

/** Where and how to look. */
export interface FindOptions {
  /** procfs mount point, `/proc` unless the host's is mounted elsewhere. */
  procRoot: string
  /** The agent's own pid, never chosen by `cmdline`. */
  selfPid: number
  signal: AbortSignal
}

/** Most bytes read from a pidfile; a pid is a few digits. */
const MAX_PIDFILE_BYTES = 256
/** TCP state `LISTEN` in `/proc/net/tcp`. */
const TCP_LISTEN = '0A'

/** A short description of a selector for messages: `pid 42`, `port 8000`, `cmdline /app\.js/`. */
export function describeSelector (selector: ProcessSelector): string {
  if ('pid' in selector) return `pid ${selector.pid}`
  if ('pidfile' in selector) return `pidfile ${selector.pidfile}`
  if ('cmdline' in selector) return `cmdline ${String(selector.cmdline)}`
  return `port ${selector.port}`
}

/** Resolves `selector` to a live (non-zombie) process. Never throws for "not there"; rethrows I/O failures and aborts. */
export async function findProcess (selector: ProcessSelector, options: FindOptions): Promise<FindResult> {
  if ('pid' in selector) return await alive(selector.pid, options, `no process has pid ${selector.pid}`)
  if ('pidfile' in selector) return await findByPidfile(selector.pidfile, options)
  if ('cmdline' in selector) return await findByCmdline(selector.cmdline, options)
  return await findByPort(selector.port, options)
}

async function alive (pid: number, options: FindOptions, notFound: string): Promise<FindResult> {
  try {
    await readStat(options.procRoot, pid, options.signal)
    return { pid }
  } catch (error) {
    if (error instanceof ProcessGoneError) return { notFound }
    throw error
  }
}

/**
 * Reads the pid written in a pidfile without checking that it runs (the caller does, with procfs or
 * pidusage). A missing or unreadable file, or content that is not a pid, is `notFound`.
 */
export async function readPidfile (path: string, signal: AbortSignal): Promise<FindResult> {
  let text: string
  try {
    text = await readProcFile(path, signal, MAX_PIDFILE_BYTES)
  } catch (error) {
    if (isUnreadable(error)) return { notFound: `pidfile ${path} cannot be read (${(error as { code?: string }).code})` }
    throw error
  }
  const trimmed = text.trim()
  const pid = Number(trimmed)
  if (!/^\d+$/.test(trimmed) || pid < 1) return { notFound: `pidfile ${path} holds ${JSON.stringify(trimmed.slice(0, 32))}, not a pid` }
  return { pid }
}

async function findByPidfile (path: string, options: FindOptions): Promise<FindResult> {
  const found = await readPidfile(path, options.signal)
  if ('notFound' in found) return found
  return await alive(found.pid, options, `pidfile ${path} names pid ${found.pid}, which is not running`)
}

/** Numeric entries of procfs: one per process (threads are not listed at the top level). */
async function listPids (procRoot: string): Promise<number[]> {
  const entries = await readdir(procRoot)
  return entries.filter((name) => /^\d+$/.test(name)).map(Number)
}

/** Among candidate pids, the live one that started first; a pid whose stat vanished is skipped. */
async function oldest (pids: Iterable<number>, options: FindOptions): Promise<number | undefined> {
  let best: { pid: number, startTicks: number } | undefined
  for (const pid of pids) {
    try {
      const { startTicks } = await readStat(options.procRoot, pid, options.signal)
      if (best === undefined || startTicks < best.startTicks || (startTicks === best.startTicks && pid < best.pid)) best = { pid, startTicks }
    } catch (error) {
      if (!(error instanceof ProcessGoneError) && !isUnreadable(error)) throw error
    }
  }
  return best?.pid
}

async function findByCmdline (pattern: RegExp, options: FindOptions): Promise<FindResult> {
  // A global or sticky regex keeps state between test() calls; matching must not depend on history.
  const regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
  const matches: number[] = []
  for (const pid of await listPids(options.procRoot)) {
    options.signal.throwIfAborted()
    if (pid === options.selfPid) continue
    let cmdline: string
    try {
      cmdline = await readProcFile(join(options.procRoot, String(pid), 'cmdline'), options.signal)
    } catch (error) {
      if (isUnreadable(error)) continue
      throw error
    }
    // Arguments are NUL-terminated; kernel threads and zombies have an empty command line.
    const joined = cmdline.replace(/\0+$/, '').replaceAll('\0', ' ')
    if (joined !== '' && regex.test(joined)) matches.push(pid)
  }
  const pid = await oldest(matches, options)
  return pid === undefined ? { notFound: `no process's command line matches ${String(pattern)}` } : { pid }
}

/** Inodes of sockets in state LISTEN on `port` from `/proc/net/tcp` and `/proc/net/tcp6`. */
export function parseListeningInodes (table: string, port: number): string[] {
  const inodes: string[] = []
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/)
    const local = fields[1]
    const inode = fields[9]
    if (local === undefined || inode === undefined || fields[3] !== TCP_LISTEN || inode === '0') continue
    const localPort = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16)
    if (localPort === port) inodes.push(inode)
  }
  return inodes
}

async function findByPort (port: number, options: FindOptions): Promise<FindResult> {
  const inodes = new Set<string>()
  for (const table of ['tcp', 'tcp6']) {
    try {
      const text = await readProcFile(join(options.procRoot, 'net', table), options.signal)
      for (const inode of parseListeningInodes(text, port)) inodes.add(inode)
    } catch (error) {
      // tcp6 is absent when IPv6 is disabled.
      if (!isGone(error)) throw error
    }
  }
  const notFound = { notFound: `no process listens on TCP port ${port}` }
  if (inodes.size === 0) return notFound

  const links = new Set([...inodes].map((inode) => `socket:[${inode}]`))
  const holders: number[] = []
  for (const pid of await listPids(options.procRoot)) {
    options.signal.throwIfAborted()
    const fdDir = join(options.procRoot, String(pid), 'fd')
    let fds: string[]
    try {
      fds = await readdir(fdDir)
    } catch (error) {
      if (isUnreadable(error)) continue
      throw error
    }
    for (const fd of fds) {
      let link: string
      try {
        link = await readlink(join(fdDir, fd))
      } catch (error) {
        if (isUnreadable(error)) continue
        throw error
      }
      if (links.has(link)) {
        holders.push(pid)
        break
      }
    }
  }
  const pid = await oldest(holders, options)
  return pid === undefined ? notFound : { pid }
}
