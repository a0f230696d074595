/**
 * What a process costs, read from /proc: CPU time (user + system, in clock ticks) and resident
 * memory. The benchmark takes a reading before and after a window and reports the difference, the
 * same way the peers' footprint script does, so the figures compare.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100

/** One reading of a process. */
export interface ProcessReading {
  /** When it was taken, in ms since the epoch. */
  atMs: number
  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds: number
  /** Resident set size now, in bytes. */
  rssBytes: number
  /** Peak resident set size since start (VmHWM), in bytes. */
  peakRssBytes: number
}

/** CPU and memory of a process over a window. */
export interface ProcessUsage {
  /** CPU used in the window as a percentage of one core. */
  cpuPercent: number
  /** CPU seconds used in the window. */
  cpuSeconds: number
  /** Resident memory at the end of the window, in MiB. */
  rssMiB: number
  /** Peak resident memory since the process started, in MiB. */
  peakRssMiB: number
  windowSeconds: number
}

/**
 * Reads a process's CPU time and memory now.
 * @throws Error when the process does not exist (any more).
 */
export function readProcess (pid: number): ProcessReading {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return {
    atMs: Date.now(),
    cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    rssBytes: statusKiB(status, 'VmRSS') * 1024,
    peakRssBytes: statusKiB(status, 'VmHWM') * 1024
  }
}

function statusKiB (status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match === null ? 0 : Number(match[1])
}

/** The usage between two readings of the same process. */
export function usageBetween (start: ProcessReading, end: ProcessReading): ProcessUsage {
  const windowSeconds = (end.atMs - start.atMs) / 1000
  const cpuSeconds = end.cpuSeconds - start.cpuSeconds
  return {
    cpuPercent: windowSeconds > 0 ? (cpuSeconds / windowSeconds) * 100 : 0,
    cpuSeconds,
    rssMiB: end.rssBytes / 1048576,
    peakRssMiB: end.peakRssBytes / 1048576,
    windowSeconds
  }
}

/** `/proc/<pid>/stat` fields after the command name, or undefined when the process is gone. */
function statFields (pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** The parent of a process. @throws Error when the process does not exist. */
export function parentPid (pid: number): number {
  const fields = statFields(pid)
  if (fields === undefined) throw new Error(`process ${pid} does not exist`)
  return Number(fields[1])
}

/**
 * CPU seconds used so far by a process tree one level deep: `root` (including the children it has
 * reaped, so work of exited children still counts) and its live children. That is Postgres: the
 * postmaster and its backends.
 */
export function treeCpuSeconds (root: number): number {
  let ticks = 0
  const rootFields = statFields(root)
  if (rootFields !== undefined) {
    ticks += Number(rootFields[11]) + Number(rootFields[12]) + Number(rootFields[13]) + Number(rootFields[14])
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(entry)
    if (fields !== undefined && Number(fields[1]) === root) ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / CLOCK_TICKS_PER_SECOND
}
