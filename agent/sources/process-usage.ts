/**
 * Reads what the Linux kernel knows about one process from procfs: CPU time, memory, threads, page
 * faults, context switches, file descriptors and IO. Pure reads with a signal; no state.
 */
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Clock ticks per second for the times in `/proc/<pid>/stat`. This is `USER_HZ`, part of the kernel's
 * user-space ABI: 100 on every architecture Linux supports regardless of the kernel's own `HZ`, so it
 * is a constant here rather than a `getconf CLK_TCK` child process on every start.
 */
export const CLOCK_TICKS_PER_SECOND = 100

/** Largest procfs file read whole; `/proc/net/tcp` on a busy host is the big one. */
const MAX_PROC_FILE_BYTES = 32 * 1024 * 1024

/** The process is gone (or a zombie waiting to be reaped) — the caller resolves again or reports `not_found`. */
export class ProcessGoneError extends Error {
  readonly pid: number
  constructor (pid: number, options?: { cause?: unknown }) {
    super(`process ${pid} is gone`, options)
    this.name = 'ProcessGoneError'
    this.pid = pid
  }
}

/** Fields of `/proc/<pid>/stat` the agent uses. Times in clock ticks. */
export interface ProcStat {
  pid: number
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string
  userTicks: number
  systemTicks: number
  minorFaults: number
  majorFaults: number
  threads: number
  /** Start time in clock ticks after boot; with the pid it identifies a process across pid reuse. */
  startTicks: number
  virtualBytes: number
}

/** One reading of a process. Optional fields are absent when the kernel refuses them (another user's process). */
export interface ProcessUsage {
  pid: number
  startTicks: number
  userSeconds: number
  systemSeconds: number
  residentBytes: number
  virtualBytes: number
  threads: number
  minorFaults: number
  majorFaults: number
  voluntaryContextSwitches?: number
  involuntaryContextSwitches?: number
  /** Open file descriptors; absent when `/proc/<pid>/fd` is not readable. */
  openFds?: number
  /** Soft limit on open files; absent when unlimited or unreadable. */
  maxFds?: number
  /**
   * Bytes the process caused to be fetched from / sent to the storage layer (`read_bytes` and
   * `write_bytes` of `/proc/<pid>/io`), as process-exporter reports them. Not `rchar`/`wchar`, which
   * count every read and write call including sockets and page-cache hits. Absent when the kernel
   * refuses `/proc/<pid>/io` (it does for other users' processes unless the agent is privileged).
   */
  ioReadBytes?: number
  ioWriteBytes?: number
}

/**
 * Reads a procfs file (or a pidfile) whole, honouring `signal`, and refuses one longer than
 * `maxBytes`. procfs files report size 0, so the limit is counted while reading.
 */
export async function readProcFile (path: string, signal: AbortSignal, maxBytes = MAX_PROC_FILE_BYTES): Promise<string> {
  signal.throwIfAborted()
  const handle = await open(path, 'r')
  try {
    const chunks: Buffer[] = []
    let total = 0
    const buffer = Buffer.allocUnsafe(64 * 1024)
    for (;;) {
      signal.throwIfAborted()
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`)
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)))
    }
    return Buffer.concat(chunks).toString('utf8')
  } finally {
    await handle.close()
  }
}

/** Parses `/proc/<pid>/stat`; the command name may hold spaces and parentheses, so fields are counted after the last `)`. */
export function parseStat (text: string): ProcStat {
  const close = text.lastIndexOf(')')
  const pid = Number.parseInt(text, 10)
  if (close < 0 || !Number.isInteger(pid)) throw new Error(`unexpected /proc/<pid>/stat content: ${JSON.stringify(text.slice(0, 80))}`)
  // fields[0] is field 3 of proc(5) (state); field N of proc(5) is fields[N - 3].
  const fields = text.slice(close + 2).trim().split(' ')
  const field = (n: number): number => {
    const value = Number(fields[n - 3])
    if (!Number.isFinite(value)) throw new Error(`field ${n} of /proc/${pid}/stat is ${JSON.stringify(fields[n - 3])}`)
    return value
  }
  return {
    pid,
    state: fields[0] ?? '?',
    minorFaults: field(10),
    majorFaults: field(12),
    userTicks: field(14),
    systemTicks: field(15),
    threads: field(20),
    startTicks: field(22),
    virtualBytes: field(23)
  }
}

/** `Key: value` lines of `/proc/<pid>/status` or `/proc/<pid>/io`. */
function parseKeyValues (text: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return map
}

/** A `kB` figure of `/proc/<pid>/status` in bytes (the kernel's kB is KiB). */
function kibibytes (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number.parseInt(value, 10)
  return Number.isFinite(n) ? n * 1024 : undefined
}

function integer (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : undefined
}

/** The soft `Max open files` limit from `/proc/<pid>/limits`; undefined when unlimited. */
export function parseMaxOpenFiles (text: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(text)
  if (match === null || match[1] === 'unlimited') return undefined
  return integer(match[1])
}

/** Boot time in seconds since the epoch, from the `btime` line of `/proc/stat`. */
export async function readBootTimeSeconds (procRoot: string, signal: AbortSignal): Promise<number> {
  const text = await readProcFile(join(procRoot, 'stat'), signal)
  const match = /^btime (\d+)$/m.exec(text)
  if (match === null) throw new Error(`no btime line in ${join(procRoot, 'stat')}`)
  return Number(match[1])
}

/** Reads and parses `/proc/<pid>/stat`; a missing or zombie process is {@link ProcessGoneError}. */
export async function readStat (procRoot: string, pid: number, signal: AbortSignal): Promise<ProcStat> {
  let text: string
  try {
    text = await readProcFile(join(procRoot, String(pid), 'stat'), signal)
  } catch (error) {
    if (isGone(error)) throw new ProcessGoneError(pid, { cause: error })
    throw error
  }
  const stat = parseStat(text)
  // A killed process stays a zombie until its parent reaps it: it has no memory, no fds, no future.
  if (stat.state === 'Z' || stat.state === 'X') throw new ProcessGoneError(pid)
  return stat
}

/**
 * Reads one process's usage. `stat` and `status` are required (missing → {@link ProcessGoneError});
 * `io`, `limits` and `fd/` are optional because the kernel refuses them for other users' processes.
 */
export async function readProcessUsage (procRoot: string, pid: number, signal: AbortSignal): Promise<ProcessUsage> {
  const dir = join(procRoot, String(pid))
  const [stat, statusText, ioText, limitsText, fds] = await Promise.all([
    readStat(procRoot, pid, signal),
    readProcFile(join(dir, 'status'), signal).catch((error: unknown) => {
      if (isGone(error)) throw new ProcessGoneError(pid, { cause: error })
      throw error
    }),
    optional(readProcFile(join(dir, 'io'), signal)),
    optional(readProcFile(join(dir, 'limits'), signal)),
    optional(readdir(join(dir, 'fd')))
  ])
  signal.throwIfAborted()
  const status = parseKeyValues(statusText)
  const io = ioText === undefined ? undefined : parseKeyValues(ioText)
  return {
    pid,
    startTicks: stat.startTicks,
    userSeconds: stat.userTicks / CLOCK_TICKS_PER_SECOND,
    systemSeconds: stat.systemTicks / CLOCK_TICKS_PER_SECOND,
    residentBytes: kibibytes(status.get('VmRSS')) ?? 0,
    virtualBytes: stat.virtualBytes,
    threads: stat.threads,
    minorFaults: stat.minorFaults,
    majorFaults: stat.majorFaults,
    voluntaryContextSwitches: integer(status.get('voluntary_ctxt_switches')),
    involuntaryContextSwitches: integer(status.get('nonvoluntary_ctxt_switches')),
    openFds: fds?.length,
    maxFds: limitsText === undefined ? undefined : parseMaxOpenFiles(limitsText),
    ioReadBytes: integer(io?.get('read_bytes')),
    ioWriteBytes: integer(io?.get('write_bytes'))
  }
}

/** True for the errors procfs gives for a process that exited (or a pid that never existed). */
export function isGone (error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'ENOENT' || code === 'ESRCH'
}

/** True for the errors procfs gives when a file is refused or absent: skipped quietly when scanning. */
export function isUnreadable (error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR'
}

async function optional<T> (read: Promise<T>): Promise<T | undefined> {
  try {
    return await read
  } catch (error) {
    if (isUnreadable(error)) return undefined
    throw error
  }
}
