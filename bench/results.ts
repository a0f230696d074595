/**
 * The results file: every figure of a run, the machine it ran on, and each target with whether it
 * was met. bench/results.schema.json describes the same shape for other readers (and the smoke test).
 */
import type { MachineFacts } from './machine.ts'
import type { FootprintResult } from './steps/agent-footprint.ts'
import type { OverheadResult } from './steps/agent-overhead.ts'
import type { AppStepResult } from './steps/app-profiles.ts'
import type { ConcurrencyResult } from './steps/concurrency.ts'
import type { RenderResult } from './steps/metrics-render.ts'
import type { PeersResult } from './steps/peers.ts'

/** The value of the `schema` field. */
export const RESULTS_SCHEMA = 'outrigger.bench/v1'

/** How a step ended. A skipped or failed step keeps the others' figures. */
export type StepOutcome<T> =
  | { status: 'measured', /** load average (1, 5, 15 min) when the step ended */ loadAverage: number[], seconds: number, result: T }
  | { status: 'skipped', reason: string }
  | { status: 'failed', reason: string }

/** One target from the issue, measured. */
export interface TargetCheck {
  id: string
  /** The target in words, e.g. "optimized ≥ 5× baseline throughput on cached reads". */
  description: string
  /** The threshold, in `unit`. */
  threshold: number
  /** `min`: measured must be ≥ threshold; `max`: ≤ threshold. */
  kind: 'min' | 'max'
  unit: string
  /** null when the step that measures it did not run. */
  measured: number | null
  met: boolean | null
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA
  mode: 'full' | 'short'
  /** The command that produced the file. */
  command: string
  startedAt: string
  finishedAt: string
  durationSeconds: number
  machine: MachineFacts & { loadAverageAtEnd: number[] }
  steps: {
    app: StepOutcome<AppStepResult>
    concurrency: StepOutcome<ConcurrencyResult>
    overhead: StepOutcome<OverheadResult>
    peers: StepOutcome<PeersResult>
    footprint: StepOutcome<FootprintResult>
    render: StepOutcome<RenderResult>
  }
  targets: TargetCheck[]
}
