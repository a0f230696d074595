/**
 * A copy of the config safe to show: in `/api/targets`, logs and `outrigger check` output.
 */
import type { AgentConfig } from './config-schema.ts'
import { deepFreeze } from './deep-freeze.ts'

/** What every hidden value is replaced with. */
export const REDACTED = '<redacted>'

/** Keys whose values are secrets wherever they appear (`key` is the server's TLS private key). */
const SECRET_KEYS = new Set(['token', 'password', 'key'])
/** Query parameters that commonly carry credentials. */
const SECRET_QUERY = /token|secret|password|passwd|key|sig|auth/i

/**
 * Hides the credentials in a URL-like text: the userinfo password and credential-looking query
 * parameters. Text that is not a URL comes back unchanged.
 */
export function redactUrl (text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // Not parseable, yet it looks like a URL: hide anything between `:` and `@` in the authority.
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^@/]*@/i, `$1${REDACTED}@`)
  }
  let changed = false
  if (url.password !== '') {
    url.password = REDACTED
    changed = true
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY.test(name)) {
      url.searchParams.set(name, REDACTED)
      changed = true
    }
  }
  // Only re-serialise when something changed, so untouched URLs keep their exact spelling.
  return changed ? url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED) : text
}

function redactValue (value: unknown, key: string | undefined, inHeaders: boolean): unknown {
  if (typeof value === 'string') {
    // Header values are hidden whole: `Authorization`, cookies and API keys all travel there.
    if (inHeaders || (key !== undefined && SECRET_KEYS.has(key))) return REDACTED
    return redactUrl(value)
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined, false))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([childKey, child]) => [childKey, redactValue(child, childKey, key === 'headers')]))
  }
  return value
}

/**
 * A deep-frozen copy of `config` with tokens, passwords, header values and URL credentials replaced
 * by `<redacted>`. File paths (`tokenFile`, `passwordFile`) stay visible; their contents do not.
 */
export function redactConfig (config: AgentConfig): AgentConfig {
  return deepFreeze(redactValue(config, undefined, false) as AgentConfig)
}
