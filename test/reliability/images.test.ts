/**
 * Least privilege, read from the files that build and run the images: every Dockerfile in the
 * repository ends as a non-root user, and no compose service built from them asks for root,
 * extra capabilities or privileged mode. The agent needs nothing beyond sharing the app's PID
 * namespace as the same unprivileged user, which lets it read the app's /proc entries.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'

const ROOT = resolve(import.meta.dirname, '../..')

/** Every file under `dir` whose name matches `pattern`, skipping node_modules and dot folders. */
async function findFiles (dir: string, pattern: RegExp): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...await findFiles(path, pattern))
    else if (pattern.test(entry.name)) found.push(path)
  }
  return found
}

/** Dockerfile instructions as [keyword, arguments], continuations joined and comments dropped. */
function instructions (text: string): Array<[string, string]> {
  const joined = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ')
  return joined.split('\n').map((line) => line.trim()).filter((line) => line !== '')
    .map((line) => { const [keyword = '', ...rest] = line.split(/\s+/); return [keyword.toUpperCase(), rest.join(' ')] })
}

/** Whether a USER value (name, uid, or `user:group`) is root. */
function isRoot (user: string): boolean {
  const name = user.split(':')[0]?.trim() ?? ''
  return name === '' || name === 'root' || name === '0'
}

test('every Dockerfile in the repository runs its final stage as a non-root user', async () => {
  const dockerfiles = (await findFiles(ROOT, /^Dockerfile(\.[\w-]+)?$/)).filter((path) => !path.endsWith('.dockerignore'))
  const names = dockerfiles.map((path) => relative(ROOT, path))
  assert.ok(names.includes('demo-app/Dockerfile'), `found: ${names.join(', ')}`)
  assert.ok(names.includes('compose/agent/Dockerfile'), `found: ${names.join(', ')}`)
  for (const path of dockerfiles) {
    const steps = instructions(await readFile(path, 'utf8'))
    const lastFrom = steps.map(([keyword]) => keyword).lastIndexOf('FROM')
    assert.ok(lastFrom >= 0, `${relative(ROOT, path)} has a FROM`)
    const users = steps.slice(lastFrom).filter(([keyword]) => keyword === 'USER').map(([, user]) => user)
    assert.ok(users.length > 0, `${relative(ROOT, path)}: the final stage sets USER`)
    assert.ok(!isRoot(users.at(-1) as string), `${relative(ROOT, path)}: the final stage runs as ${users.at(-1)}`)
    // Nothing after the last USER runs as root again (RUN steps after USER run as that user).
    const lastUser = steps.map(([keyword]) => keyword).lastIndexOf('USER')
    const after = steps.slice(lastUser + 1).map(([keyword]) => keyword)
    assert.ok(!after.includes('RUN'), `${relative(ROOT, path)}: no RUN after the final USER`)
  }
})

test('compose services built from this repository ask for no root, no capabilities, no privileged mode', async () => {
  const composeFiles = await findFiles(join(ROOT, 'compose'), /^docker-compose.*\.ya?ml$/)
  assert.ok(composeFiles.length > 0)
  let built = 0
  for (const path of composeFiles) {
    const document = parse(await readFile(path, 'utf8')) as { services?: Record<string, Record<string, unknown>> }
    for (const [name, service] of Object.entries(document.services ?? {})) {
      if (service.build === undefined && !String(service.image ?? '').startsWith('outrigger-')) continue
      built++
      const where = `${relative(ROOT, path)} service ${name}`
      if (service.user !== undefined) assert.ok(!isRoot(String(service.user)), `${where}: user ${String(service.user)}`)
      assert.notEqual(service.privileged, true, `${where}: privileged`)
      assert.equal(service.cap_add, undefined, `${where}: cap_add`)
      assert.notEqual(service.pid, 'host', `${where}: the host PID namespace`)
      assert.ok(!(Array.isArray(service.security_opt) && service.security_opt.some((opt) => /unconfined/.test(String(opt)))), `${where}: security_opt`)
    }
  }
  assert.ok(built >= 2, 'the demo app and the agent services are checked')
})
