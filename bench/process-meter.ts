/**
 * What a process costs, read from /proc: CPU time (user + system, in clock ticks) and resident
 * memory. The benchmark takes a reading before and after a window and reports the difference, the
 * same way the peers' footprint script does, so the figures compare.
 */
import { readFileSync } from 'node:fs'

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
