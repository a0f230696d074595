/**
 * docs/reliability.md names, for each guarantee, the test that proves it as
 * `` `test/….test.ts`: *test name* ``. This keeps every such reference pointing at a test that exists.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { test } from 'node:test'

const ROOT = resolve(import.meta.dirname, '../..')

/** Every (file, test name) the document cites. */
function citations (markdown: string): Array<{ file: string, name: string }> {
  const found: Array<{ file: string, name: string }> = []
  for (const line of markdown.split('\n')) {
    const parts = line.split(/`(test\/[\w./-]+\.test\.ts)`/)
    // parts: text, file, text, file, text…; the names cited for a file follow it.
    for (let i = 1; i < parts.length; i += 2) {
      for (const match of (parts[i + 1] ?? '').matchAll(/\*([^*]+)\*/g)) found.push({ file: parts[i] as string, name: match[1] as string })
    }
  }
  return found
}

test('every test docs/reliability.md cites exists under that name in that file', async () => {
  const cited = citations(await readFile(resolve(ROOT, 'docs/reliability.md'), 'utf8'))
  assert.ok(cited.length >= 60, `${cited.length} citations found`)
  const sources = new Map<string, string>()
  for (const { file, name } of cited) {
    if (!sources.has(file)) sources.set(file, await readFile(resolve(ROOT, file), 'utf8').catch(() => ''))
    const source = sources.get(file) as string
    assert.ok(source !== '', `${file} exists`)
    const quoted = [`'${name.replaceAll("'", "\\'")}'`, `"${name}"`, `\`${name}\``]
    assert.ok(quoted.some((text) => source.includes(`test(${text}`) || source.includes(`t.test(${text}`)), `${file} has a test named: ${name}`)
  }
})
