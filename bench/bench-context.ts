/** What every benchmark step is given: the options, a progress log, and the shared services. */
import type { BenchOptions } from './bench-options.ts'
import type { BenchPostgres } from './bench-postgres.ts'

/** The environment a step runs in. */
export interface BenchContext {
  readonly options: BenchOptions
  /** Prints one line of progress. */
  log (line: string): void
  /** Folder for children's logs and generated configs (kept after the run). */
  readonly logDir: string
  /** The database server; started when a step needs it. */
  postgres (): Promise<BenchPostgres>
  /** URL of the upstream service the demo app calls; started when a step needs it. */
  upstreamUrl (): Promise<string>
}
