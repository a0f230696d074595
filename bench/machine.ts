/** The machine a run measured on, for the results file: figures only compare on the same one. */
import { availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os'

/** What the results file records about the machine. */
export interface MachineFacts {
  cpuModel: string
  /** Cores Node may use (`os.availableParallelism()`). */
  cores: number
  totalMemoryGiB: number
  os: string
  node: string
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverageAtStart: number[]
}

/** The machine now, plus a way to read the load average later. */
export function describeMachine (): MachineFacts & { loadNow (): number[], snapshot (): MachineFacts } {
  const facts: MachineFacts = {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    totalMemoryGiB: Math.round(totalmem() / 1024 ** 3 * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverageAtStart: loadNow()
  }
  return { ...facts, loadNow, snapshot: () => ({ ...facts }) }
}

function loadNow (): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100)
}
