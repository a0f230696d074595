/** Renders any input value briefly for a message. */
export function describeValue (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the text \`${value.length > 60 ? `${value.slice(0, 57)}...` : value}\``
  return `${typeof value} ${String(value)}`
}
