/**
 * The targets the benchmark measures against, each checked on a run's figures. A target whose step
 * did not run is reported with `measured: null` and `met: null`, never as met.
 */
import type { BenchResults, StepOutcome, TargetCheck } from './results.ts'

/** How much the CPU per target per cycle may grow from 10 to 100 targets and still count as linear. */
export const LINEAR_GROWTH_LIMIT = 1.25

function measured<T> (outcome: StepOutcome<T> | undefined): T | undefined {
  return outcome?.status === 'measured' ? outcome.result : undefined
}

/** Checks every target against `results`. */
export function evaluateTargets (results: Pick<BenchResults, 'steps'>): TargetCheck[] {
  const app = measured(results.steps.app)
  const scenario = (name: string) => app?.scenarios.find((s) => s.name === name)
  const overhead = measured(results.steps.overhead)
  const peers = measured(results.steps.peers)
  const footprint = measured(results.steps.footprint)
  const render = measured(results.steps.render)
  const concurrency = measured(results.steps.concurrency)
  const growth = footprint?.perTargetCostGrowth.find((g) => g.intervalSeconds === 1) ?? footprint?.perTargetCostGrowth[0]

  const check = (id: string, description: string, kind: 'min' | 'max', threshold: number, unit: string, value: number | null | undefined): TargetCheck => {
    const m = value ?? null
    return { id, description, threshold, kind, unit, measured: m, met: m === null ? null : kind === 'min' ? m >= threshold : m <= threshold }
  }
  return [
    check('cached-read-throughput', 'optimized ≥ 5× baseline throughput on cached reads (hot keys)', 'min', 5, '×', scenario('read-hot')?.ratio.throughput),
    check('cached-read-spread-throughput', 'optimized ≥ 5× baseline throughput on cached reads (Zipf key spread)', 'min', 5, '×', scenario('read-spread')?.ratio.throughput),
    check('cached-read-p99', 'optimized p99 ≤ 30 % of baseline on cached reads (hot keys)', 'max', 0.3, '× baseline', scenario('read-hot')?.ratio.latencyP99),
    check('cached-read-spread-p99', 'optimized p99 ≤ 30 % of baseline on cached reads (Zipf key spread)', 'max', 0.3, '× baseline', scenario('read-spread')?.ratio.latencyP99),
    check('ceiling', 'cached read ≥ 60 % of the hello-world ceiling (throughput)', 'min', 0.6, 'of ceiling', app?.cachedReadOfCeiling),
    check('ceiling-cpu', 'cached read ≥ 60 % of the hello-world ceiling (requests per CPU second)', 'min', 0.6, 'of ceiling', app?.cachedReadCpuEfficiencyOfCeiling),
    check('agent-overhead', 'agent overhead ≤ 1 % of app throughput at a 1 s interval', 'max', 1, '%', overhead?.overheadPercent),
    check('agent-overhead-cpu', 'agent CPU ≤ 1 % of the app\'s CPU at a 1 s interval (noise-free bound on the overhead)', 'max', 1, '%', overhead?.agentCpuOfAppPercent),
    check('agent-rss-vs-peers', 'agent RSS ≤ the three peers\' sum (ratio ≤ 1.0)', 'max', 1, 'ratio', peers?.rssRatio),
    check('agent-cpu-vs-peers', 'agent CPU ≤ the three peers\' sum (ratio ≤ 1.0)', 'max', 1, 'ratio', peers?.cpuRatio),
    check('metrics-p99-10k', '/metrics p99 ≤ 20 ms at 10k series', 'max', 20, 'ms', render?.rows.find((r) => r.seriesTarget === 10_000)?.p99Ms),
    check('cost-per-target-linear', `cost per target per cycle linear in targets (growth ${growth?.fromTargets ?? '?'}→${growth?.toTargets ?? '?'} targets ≤ ${LINEAR_GROWTH_LIMIT}×)`,
      'max', LINEAR_GROWTH_LIMIT, '×', growth?.factor),
    check('report-concurrent-users', 'the report\'s claim: 10,000+ concurrent users (p99 < 100 ms, no errors)', 'min', 10_000, 'users', concurrency?.optimized.maxConnectionsHeld)
  ]
}
