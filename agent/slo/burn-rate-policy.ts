/**
 * The multi-window, multi-burn-rate alerting policy of the Google SRE workbook ("Alerting on SLOs",
 * table 5-8) for a 30-day SLO period, and the windows the SLI is recorded over. Fixed here rather
 * than in the spec so that every SLO pages on the same terms and the dashboards can rely on the
 * recorded windows existing.
 */

/** The SLO period, in days: error budget and budget remaining are measured over it. */
export const SLO_PERIOD_DAYS = 30

/** Every window the error ratio is recorded over, shortest first (Prometheus durations). */
export const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const
export type SliWindow = typeof SLI_WINDOWS[number]

/** Which alert a condition belongs to: `page` wakes someone, `ticket` is handled in working hours. */
export type BurnRateSeverity = 'page' | 'ticket'

/**
 * One condition: the error ratio over both windows is above `factor` × the error budget. The long
 * window proves the burn is significant; the short one proves it is still going on, so the alert
 * resolves minutes after the burn stops instead of hours.
 */
export interface BurnRateCondition {
  readonly severity: BurnRateSeverity
  readonly factor: number
  readonly longWindow: SliWindow
  readonly shortWindow: SliWindow
  /** Share of the 30-day budget spent when the condition first holds (factor × long window / period). */
  readonly budgetSpent: string
}

/** The four conditions; the two of one severity form one alert. */
export const BURN_RATE_CONDITIONS: readonly BurnRateCondition[] = Object.freeze([
  { severity: 'page', factor: 14.4, longWindow: '1h', shortWindow: '5m', budgetSpent: '2%' },
  { severity: 'page', factor: 6, longWindow: '6h', shortWindow: '30m', budgetSpent: '5%' },
  { severity: 'ticket', factor: 3, longWindow: '1d', shortWindow: '2h', budgetSpent: '10%' },
  { severity: 'ticket', factor: 1, longWindow: '3d', shortWindow: '6h', budgetSpent: '10%' }
])

/**
 * How long a condition must hold before the alert fires. Short, because the windows already smooth
 * the signal; long enough that one bad evaluation (a scrape gap, a counter reset) does not page.
 */
export const ALERT_FOR: Readonly<Record<BurnRateSeverity, string>> = Object.freeze({ page: '2m', ticket: '15m' })
