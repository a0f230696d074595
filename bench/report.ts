/** The readable end of a run: every step's figures as plain-text tables, then the targets. */
import type { BenchResults, StepOutcome } from './results.ts'
import type { AppFigures } from './steps/app-profiles.ts'

/** Right-aligned columns (the first left-aligned) with a rule under the header. */
export function formatTable (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A number with `digits` decimals and thousands separators, or `-`. */
export function num (value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

const pct = (value: number | null | undefined, digits = 1): string => value === null || value === undefined ? '-' : `${num(value * 100, digits)}%`
const times = (value: number | null | undefined, digits = 2): string => value === null || value === undefined ? '-' : `${num(value, digits)}×`

function outcomeNote<T> (name: string, outcome: StepOutcome<T>): string | undefined {
  if (outcome.status === 'measured') return undefined
  return `${name}: ${outcome.status} — ${outcome.reason}`
}

function appRow (scenario: string, label: string, f: AppFigures): string[] {
  return [scenario, label, num(f.requestsPerSecond), num(f.latencyP50Ms, 2), num(f.latencyP99Ms, 2), num(f.rssMiB, 0), num(f.cpuPercent, 0), num(f.dbCpuPercent, 0),
    num(f.requestsPerCpuSecond), pct(f.cacheHitRate), num(f.dbStatementMeanMs, 3), num(f.dbStatementsPerRequest, 2), num(f.poolAcquireMeanMs, 3), String(f.errors)]
}

/** The whole report for `results`. */
export function renderReport (results: BenchResults): string {
  const out: string[] = []
  const m = results.machine
  out.push(`Outrigger benchmark (${results.mode}), ${results.startedAt}, ${results.durationSeconds} s`,
    `machine: ${m.cores} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}; load ${m.loadAverageAtStart.join(' ')} → ${m.loadAverageAtEnd.join(' ')}`)
  const notes = [
    outcomeNote('app', results.steps.app), outcomeNote('concurrency', results.steps.concurrency), outcomeNote('overhead', results.steps.overhead),
    outcomeNote('peers', results.steps.peers), outcomeNote('footprint', results.steps.footprint), outcomeNote('render', results.steps.render)
  ].filter((n) => n !== undefined)

  const { app, concurrency, overhead, peers, footprint, render } = results.steps
  if (app.status === 'measured') {
    const a = app.result
    out.push('', `== Demo app, baseline vs optimized: median of ${a.rounds} alternating round(s), ${a.connections} connections, ${a.measureSeconds} s windows ==`)
    const rows: string[][] = []
    for (const s of a.scenarios) {
      rows.push(appRow(s.name, 'baseline', s.baseline.median), appRow('', 'optimized', s.optimized.median),
        ['', 'ratio o/b', times(s.ratio.throughput), times(s.ratio.latencyP50), times(s.ratio.latencyP99), times(s.ratio.rss), times(s.ratio.cpu), '', times(s.ratio.requestsPerCpuSecond), '', '', '', '', ''])
    }
    rows.push(appRow('hello-world', 'ceiling', a.helloWorld.median))
    out.push(formatTable(['scenario', 'profile', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'CPU %', 'DB CPU %', 'req/CPU-s', 'hit rate', 'DB ms/stmt', 'stmt/req', 'acquire ms', 'errors'], rows))
    out.push(`cached read as a fraction of the hello-world ceiling: throughput ${pct(a.cachedReadOfCeiling, 0)} (hot keys), ${pct(a.cachedReadSpreadOfCeiling, 0)} (Zipf spread); ` +
      `requests per CPU second ${pct(a.cachedReadCpuEfficiencyOfCeiling, 0)} (hot keys)`,
    'req/CPU-s counts the app\'s and its database\'s CPU; CPU % is of one core.')

    const spread = a.scenarios.find((s) => s.name === 'read-spread')
    if (spread !== undefined) {
      const b = spread.baseline.median
      const o = spread.optimized.median
      const users = concurrency.status === 'measured' ? concurrency.result : undefined
      const held = (p: 'baseline' | 'optimized'): string => users === undefined ? '-' : `${num(users[p].maxConnectionsHeld)}${users[p].limitNotReached ? '+' : ''}`
      out.push('', '== The report\'s table, measured (reads by id with the Zipf key spread; users from step 3) ==')
      out.push(formatTable(['metric', 'report before', 'report after', 'measured baseline', 'measured optimized', 'optimized/baseline'], [
        ['throughput', '1,000 req/s', '3,000–5,000 req/s', `${num(b.requestsPerSecond)} req/s`, `${num(o.requestsPerSecond)} req/s`, times(spread.ratio.throughput)],
        ['latency p50 / p99', '50–100 ms', '15–30 ms', `${num(b.latencyP50Ms, 2)} / ${num(b.latencyP99Ms, 2)} ms`, `${num(o.latencyP50Ms, 2)} / ${num(o.latencyP99Ms, 2)} ms`, times(spread.ratio.latencyP99)],
        ['memory (RSS)', '100 MB', '70–80 MB', `${num(b.rssMiB)} MiB`, `${num(o.rssMiB)} MiB`, times(spread.ratio.rss)],
        ['CPU efficiency', '60 %', '85–95 %', `${num(b.requestsPerCpuSecond)} req/CPU-s`, `${num(o.requestsPerCpuSecond)} req/CPU-s`, times(spread.ratio.requestsPerCpuSecond)],
        ['concurrent users', '1,000', '10,000+', held('baseline'), held('optimized'), '-'],
        ['DB time per request', '100 ms avg', '40 ms avg', `${num(b.dbTimePerRequestMs, 3)} ms`, `${num(o.dbTimePerRequestMs, 3)} ms`, '-'],
        ['DB time per statement', '-', '-', `${num(b.dbStatementMeanMs, 3)} ms`, `${num(o.dbStatementMeanMs, 3)} ms`, '-'],
        ['cache hit rate', '70 %', '85–95 %', b.cacheHitRate === null ? 'no cache' : pct(b.cacheHitRate), pct(o.cacheHitRate), '-']
      ]))
    }
  }
  if (concurrency.status === 'measured') {
    const c = concurrency.result
    out.push('', `== Concurrent users: each a keep-alive connection sending ${c.ratePerConnection} read(s) per second; held = p99 < ${c.p99LimitMs} ms, no errors ==`)
    const rows: string[][] = []
    for (const profile of ['optimized', 'baseline'] as const) {
      for (const s of c[profile].steps) {
        rows.push([profile, num(s.connections), num(s.offeredRequestsPerSecond), num(s.requestsPerSecond), num(s.latencyP50Ms, 2), num(s.latencyP99Ms, 2), String(s.errors), num(s.appCpuPercent), num(s.generatorDelayP99Ms, 1), s.held ? 'held' : 'NOT held'])
      }
    }
    out.push(formatTable(['profile', 'users', 'offered/s', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'app CPU %', 'generator delay p99 ms', ''], rows))
    out.push(`most users held: optimized ${num(c.optimized.maxConnectionsHeld)}${c.optimized.limitNotReached ? ' (largest step tried)' : ''}, baseline ${num(c.baseline.maxConnectionsHeld)}${c.baseline.limitNotReached ? ' (largest step tried)' : ''}`)
  }
  if (overhead.status === 'measured') {
    const o = overhead.result
    out.push('', `== Agent overhead on the app: ${o.scenario}, ${o.connections} connections, agent collecting every ${o.intervalSeconds} s ==`)
    out.push(formatTable(['round', 'agent', 'req/s', 'p50 ms', 'p99 ms', 'app CPU %', 'agent CPU %', 'agent RSS MiB'],
      o.rounds.map((r, i) => [String(i + 1), r.withAgent ? 'yes' : 'no', num(r.requestsPerSecond), num(r.latencyP50Ms, 2), num(r.latencyP99Ms, 2), num(r.appCpuPercent, 0), num(r.agentCpuPercent, 2), num(r.agentRssMiB, 1)])))
    out.push(`throughput with/without agent: ${times(o.throughputRatio, 4)} (overhead ${num(o.overheadPercent, 2)} %; pair ratios spread ${num(o.ratioSpread, 4)}), p99 ratio ${times(o.p99Ratio, 3)}`,
      `agent CPU ${num(o.agentCpuPercent, 2)} % of a core = ${num(o.agentCpuOfAppPercent, 2)} % of the app's CPU`)
  }
  if (peers.status === 'measured') {
    const p = peers.result
    out.push('', `== Agent vs the peers it replaces: ${p.durationSeconds} s window, scrape every ${p.scrapeInterval}, machine CPU busy ${num(p.machineBusyPercent, 1)} % ==`)
    out.push(formatTable(['process', 'RSS MiB', 'peak MiB', 'PSS MiB', 'CPU %'], [
      ...p.peers.map((r) => [r.name, num(r.rssMiB, 1), num(r.peakRssMiB, 1), num(r.pssMiB, 1), num(r.cpuPercent, 2)]),
      ['peers total', num(p.peersTotal.rssMiB, 1), '', num(p.peersTotal.pssMiB, 1), num(p.peersTotal.cpuPercent, 2)],
      ['outrigger agent', num(p.agent.rssMiB, 1), num(p.agent.peakRssMiB, 1), num(p.agent.pssMiB, 1), num(p.agent.cpuPercent, 2)]
    ]))
    out.push(`agent / peers: RSS ${times(p.rssRatio, 3)}, CPU ${times(p.cpuRatio, 3)} (PSS ${times(p.pssRatio, 3)})${p.failedChecks.length > 0 ? `; FAILED CHECKS: ${p.failedChecks.join('; ')}` : ''}`)
  }
  if (footprint.status === 'measured') {
    const f = footprint.result
    out.push('', `== Agent footprint: each target = ${f.sourcesPerTarget} sources (stats of ${f.routesPerTarget} routes, HTTP, TCP, process) ==`)
    out.push(formatTable(['targets', 'sources', 'interval', 'window s', 'RSS MiB', 'CPU %', 'CPU ms/target/cycle'],
      f.rows.map((r) => [String(r.targets), String(r.sources), `${r.intervalSeconds} s`, num(r.windowSeconds, 0), num(r.rssMiB, 1), num(r.cpuPercent, 2), num(r.cpuMsPerTargetPerCycle, 3)])))
    out.push(f.perTargetCostGrowth.map((g) => `per-target cost growth ${g.fromTargets}→${g.toTargets} targets at ${g.intervalSeconds} s: ${times(g.factor, 2)}`).join('; '))
  }
  if (render.status === 'measured') {
    out.push('', '== /metrics render time (client on loopback, whole body) ==')
    out.push(formatTable(['series', 'targets', 'body KiB', 'scrapes', 'p50 ms', 'p99 ms', 'max ms', 'agent RSS MiB'],
      render.result.rows.map((r) => [num(r.series), String(r.targets), num(r.bodyBytes / 1024), String(r.samples), num(r.p50Ms, 2), num(r.p99Ms, 2), num(r.maxMs, 2), num(r.agentRssMiB, 1)])))
  }
  out.push('', '== Targets ==')
  out.push(formatTable(['target', 'threshold', 'measured', 'met'],
    results.targets.map((t) => [t.description, `${t.kind === 'min' ? '≥' : '≤'} ${t.threshold} ${t.unit}`, t.measured === null ? '-' : `${num(t.measured, 3)} ${t.unit}`, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO'])))
  if (notes.length > 0) out.push('', ...notes)
  return out.join('\n')
}
