import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { ProcessSource, PROCESS_METRICS } from '../../agent/sources/process-source.ts'
import type { ProcessSelector } from '../../agent/sources/process-source.ts'
import { OutriggerError } from '../../agent/errors.ts'
import type { CollectResult, MetricFamily } from '../../agent/types.ts'

interface Child {
  process: ChildProcess
  pid: number
  port: number
  tag: string
}

// A child that listens on 127.0.0.1 (port 0 = any) and prints its port; the tag makes its argv unique.
const CHILD_CODE = `
const server = require('node:net').createServer()
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log(server.address().port))
`

async function startChild (t: { after: (fn: () => unknown) => void }, tag: string, port = 0): Promise<Child> {
  const child = spawn(process.execPath, ['-e', CHILD_CODE, tag, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => stopChild(child))
  const [line] = await Promise.race([
    once(child.stdout!, 'data') as Promise<[Buffer]>,
    once(child, 'exit').then(([code]) => { throw new Error(`child exited with ${code} before listening`) })
  ])
  assert.ok(child.pid !== undefined)
  return { process: child, pid: child.pid, port: Number(line.toString().trim()), tag }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

function uniqueTag (): string {
  return `outrigger-process-test-${randomUUID()}`
}

function source (selector: ProcessSelector, extra: Partial<ConstructorParameters<typeof ProcessSource>[0]> = {}): ProcessSource {
  return new ProcessSource({ target: 'app', selector, intervalSeconds: 5, timeoutSeconds: 4, ...extra })
}

async function collect (s: ProcessSource): Promise<CollectResult> {
  return await s.collect(AbortSignal.timeout(10_000))
}

function value (result: CollectResult, name: string, labels: Record<string, string> = { target: 'app' }): number {
  const family = result.families.find((f) => f.name === name)
  assert.ok(family, `${name} in ${JSON.stringify(result.families.map((f) => f.name))} (failure ${JSON.stringify(result.failure)})`)
  assert.notEqual(family.type, 'histogram')
  const sample = family.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))
  assert.ok(sample, `${name} sample ${JSON.stringify(labels)} in ${JSON.stringify(family.samples.map((s) => s.labels))}`)
  return (sample as { value: number }).value
}

async function vmRssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  assert.ok(match, 'VmRSS in status')
  return Number(match[1]) * 1024
}

async function assertFollows (result: CollectResult, child: Child): Promise<void> {
  assert.equal(result.failure, undefined, JSON.stringify(result.failure))
  assert.equal(value(result, 'app_process_pid'), child.pid)
  const rss = value(result, 'app_process_resident_memory_bytes')
  const expected = await vmRssBytes(child.pid)
  assert.ok(Math.abs(rss - expected) <= expected * 0.05, `RSS ${rss} within 5 % of VmRSS ${expected}`)
  assert.ok(value(result, 'app_process_virtual_memory_bytes') >= rss)
  const user = value(result, 'app_process_cpu_seconds_total', { target: 'app', mode: 'user' })
  const system = value(result, 'app_process_cpu_seconds_total', { target: 'app', mode: 'system' })
  assert.ok(user + system > 0, 'a node process has used some CPU')
  assert.ok(value(result, 'app_process_threads') >= 1)
  const fds = value(result, 'app_process_open_fds')
  assert.ok(fds >= 4 && fds < value(result, 'app_process_max_fds'), `open fds ${fds}`)
  assert.ok(value(result, 'app_process_page_faults_total', { target: 'app', kind: 'minor' }) > 0)
  assert.ok(value(result, 'app_process_context_switches_total', { target: 'app', kind: 'voluntary' }) >= 0)
  assert.ok(value(result, 'app_process_io_read_bytes_total') >= 0)
  assert.ok(value(result, 'app_process_io_write_bytes_total') >= 0)
  // The child started after the machine booted and before now.
  const bootTime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1])
  const started = value(result, 'app_process_start_time_seconds')
  assert.ok(started >= bootTime && started <= Date.now() / 1000 + 1, `start time ${started}`)
  for (const family of result.families) {
    assert.ok(Object.values(PROCESS_METRICS).some((m) => m.name === family.name && m.type === family.type), family.name)
  }
}

test('selected by pid, the child is read: pid, RSS within 5 % of VmRSS, CPU, fds, IO', async (t) => {
  const child = await startChild(t, uniqueTag())
  const s = source({ pid: child.pid })
  assert.equal(s.id, 'app/process')
  assert.equal(s.kind, 'process')
  await assertFollows(await collect(s), child)
  assert.equal(s.pid, child.pid)
  await s.close()
  await s.close()
})

test('selected by pidfile', async (t) => {
  const child = await startChild(t, uniqueTag())
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-pidfile-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const pidfile = join(dir, 'app.pid')
  await writeFile(pidfile, `${child.pid}\n`)
  await assertFollows(await collect(source({ pidfile })), child)
})

test('a missing or garbled pidfile is not_found naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-pidfile-'))
  try {
    const missing = await collect(source({ pidfile: join(dir, 'none.pid') }))
    assert.equal(missing.failure?.reason, 'not_found')
    assert.match(missing.failure.message, /none\.pid/)
    await writeFile(join(dir, 'bad.pid'), 'hello')
    const garbled = await collect(source({ pidfile: join(dir, 'bad.pid') }))
    assert.equal(garbled.failure?.reason, 'not_found')
    assert.match(garbled.failure.message, /"hello", not a pid/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('selected by command-line regex, the oldest match wins', async (t) => {
  const tag = uniqueTag()
  const older = await startChild(t, tag)
  const younger = await startChild(t, tag)
  assert.notEqual(older.pid, younger.pid)
  await assertFollows(await collect(source({ cmdline: new RegExp(`${tag}\\b`, 'g') })), older)
})

test('a command-line regex that matches nothing is not_found with the selector', async () => {
  const result = await collect(source({ cmdline: new RegExp(uniqueTag()) }))
  assert.deepEqual(result.families, [])
  assert.equal(result.failure?.reason, 'not_found')
  assert.match(result.failure.message, /cmdline \/outrigger-process-test-/)
})

test('the agent never selects itself by command line', async () => {
  const own = (await readFile('/proc/self/cmdline', 'utf8')).split('\0').filter((arg) => arg !== '')
  // Every argument of this very process must appear: only this process (or an identical one) matches.
  const pattern = new RegExp(own.map((arg) => arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(' ') + '$')
  assert.match(own.join(' '), pattern)
  const result = await collect(source({ cmdline: pattern }))
  assert.equal(result.failure?.reason, 'not_found', JSON.stringify(result))
})

test('selected by port; a killed child is not_found; a new child on the port is followed', async (t) => {
  const first = await startChild(t, uniqueTag())
  const s = source({ port: first.port })
  await assertFollows(await collect(s), first)

  await stopChild(first.process)
  const gone = await collect(s)
  assert.deepEqual(gone.families, [])
  assert.equal(gone.failure?.reason, 'not_found')
  assert.ok(gone.failure.message.includes(`port ${first.port}`), gone.failure.message)
  assert.equal(s.pid, undefined)

  const second = await startChild(t, uniqueTag(), first.port)
  assert.equal(second.port, first.port)
  await assertFollows(await collect(s), second)
  assert.equal(s.pid, second.pid)
})

test('selected by pid, a killed child is not_found naming the pid', async (t) => {
  const child = await startChild(t, uniqueTag())
  const s = source({ pid: child.pid })
  await assertFollows(await collect(s), child)
  await stopChild(child.process)
  const result = await collect(s)
  assert.deepEqual(result.families, [])
  assert.equal(result.failure?.reason, 'not_found')
  assert.ok(result.failure.message.includes(`pid ${child.pid}`), result.failure.message)
})

test('an aborted run is a timeout, not an exception', async (t) => {
  const child = await startChild(t, uniqueTag())
  const result = await source({ pid: child.pid }).collect(AbortSignal.abort())
  assert.deepEqual(result.families, [])
  assert.equal(result.failure?.reason, 'timeout')
})

test('off Linux, pidusage reads the child: CPU seconds without mode, RSS, start time, pid', async (t) => {
  const child = await startChild(t, uniqueTag())
  const s = source({ pid: child.pid }, { platform: 'darwin' })
  t.after(() => s.close())
  const result = await collect(s)
  assert.equal(result.failure, undefined, JSON.stringify(result.failure))
  assert.equal(value(result, 'app_process_pid'), child.pid)
  assert.ok(value(result, 'app_process_cpu_seconds_total') > 0)
  const rss = value(result, 'app_process_resident_memory_bytes')
  const expected = await vmRssBytes(child.pid)
  assert.ok(Math.abs(rss - expected) <= expected * 0.05, `RSS ${rss} within 5 % of VmRSS ${expected}`)
  assert.ok(value(result, 'app_process_start_time_seconds') <= Date.now() / 1000 + 1)

  const byPort = await collect(source({ port: child.port }, { platform: 'darwin' }))
  assert.equal(byPort.failure?.reason, 'not_found')
  assert.match(byPort.failure.message, /needs Linux procfs/)

  await stopChild(child.process)
  assert.equal((await collect(s)).failure?.reason, 'not_found')
})

test('malformed options throw OUTRIGGER_ERR_CONFIG_INVALID naming the problem', () => {
  const bad = (options: unknown, fragment: string): void => {
    assert.throws(() => new ProcessSource(options as ConstructorParameters<typeof ProcessSource>[0]), (error: unknown) => {
      assert.ok(error instanceof OutriggerError)
      assert.equal(error.code, 'OUTRIGGER_ERR_CONFIG_INVALID')
      assert.ok(error.message.includes(fragment), `${error.message} includes ${fragment}`)
      return true
    })
  }
  const base = { target: 'app', intervalSeconds: 5, timeoutSeconds: 4 }
  bad({ ...base, selector: { pid: 0 } }, 'pid must be a positive integer, got 0')
  bad({ ...base, selector: { port: 70000 } }, 'port must be an integer 1-65535, got 70000')
  bad({ ...base, selector: { cmdline: 'app.js' } }, 'cmdline must be a RegExp')
  bad({ ...base, selector: { pid: 1, port: 80 } }, 'exactly one of')
  bad({ ...base, selector: { name: 'x' } }, 'unknown selector "name"')
  bad({ ...base, selector: { pid: 1 }, timeoutSeconds: 0 }, 'timeoutSeconds must be a positive number')
})

// A procfs tree in a temporary folder: exact values, and the refused / unlimited cases that a
// privileged test process cannot provoke on the real /proc.
async function fakeProc (t: { after: (fn: () => unknown) => void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'outrigger-fakeproc-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  const { mkdir, symlink } = await import('node:fs/promises')
  await writeFile(join(root, 'stat'), 'cpu  1 2 3 4\nintr 0\nbtime 1700000000\nprocesses 10\n')
  await mkdir(join(root, 'net'))
  await writeFile(join(root, 'net', 'tcp'), [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0 100 0 0 10 0',
    '   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 6666 1 0 100 0 0 10 0',
    ''
  ].join('\n'))
  // No tcp6: IPv6 disabled.
  for (const [pid, startTicks] of [[321, 5000], [322, 9000]] as const) {
    const dir = join(root, String(pid))
    await mkdir(join(dir, 'fd'), { recursive: true })
    // Fields 3…: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice threads itrealvalue starttime vsize rss
    await writeFile(join(dir, 'stat'), `${pid} (my (odd) app) S 1 ${pid} ${pid} 0 -1 4194560 1234 0 5 0 250 75 0 0 20 0 7 0 ${startTicks} 987654321 1000 18446744073709551615\n`)
    await writeFile(join(dir, 'status'), 'Name:\tapp\nVmSize:\t  964506 kB\nVmRSS:\t    4000 kB\nThreads:\t7\nvoluntary_ctxt_switches:\t42\nnonvoluntary_ctxt_switches:\t3\n')
    await writeFile(join(dir, 'limits'), 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            unlimited            unlimited            files\n')
    await writeFile(join(dir, 'cmdline'), 'node\0server.js\0--fake\0')
    await symlink('/dev/null', join(dir, 'fd', '0'))
    // Both hold the listening socket (a forked worker inherits it): the older one is the app.
    await symlink('socket:[5555]', join(dir, 'fd', '3'))
  }
  return root
}

test('on a procfs tree: exact values, unreadable io and unlimited fds are omitted without failing', async (t) => {
  const procRoot = await fakeProc(t)
  const result = await collect(source({ port: 8080 }, { procRoot }))
  assert.equal(result.failure, undefined, JSON.stringify(result.failure))
  assert.equal(value(result, 'app_process_pid'), 321)
  assert.equal(value(result, 'app_process_cpu_seconds_total', { target: 'app', mode: 'user' }), 2.5)
  assert.equal(value(result, 'app_process_cpu_seconds_total', { target: 'app', mode: 'system' }), 0.75)
  assert.equal(value(result, 'app_process_resident_memory_bytes'), 4000 * 1024)
  assert.equal(value(result, 'app_process_virtual_memory_bytes'), 987654321)
  assert.equal(value(result, 'app_process_threads'), 7)
  assert.equal(value(result, 'app_process_open_fds'), 2)
  assert.equal(value(result, 'app_process_page_faults_total', { target: 'app', kind: 'minor' }), 1234)
  assert.equal(value(result, 'app_process_page_faults_total', { target: 'app', kind: 'major' }), 5)
  assert.equal(value(result, 'app_process_context_switches_total', { target: 'app', kind: 'voluntary' }), 42)
  assert.equal(value(result, 'app_process_context_switches_total', { target: 'app', kind: 'involuntary' }), 3)
  assert.equal(value(result, 'app_process_start_time_seconds'), 1700000000 + 50)
  const names = result.families.map((f: MetricFamily) => f.name)
  assert.ok(!names.includes('app_process_io_read_bytes_total'), 'no io families without /proc/<pid>/io')
  assert.ok(!names.includes('app_process_max_fds'), 'no max_fds when unlimited')

  const byCmdline = await collect(source({ cmdline: /server\.js --fake$/ }, { procRoot }))
  assert.equal(value(byCmdline, 'app_process_pid'), 321)
  const otherPort = await collect(source({ port: 8081 }, { procRoot }))
  assert.equal(otherPort.failure?.reason, 'not_found')
})

test('on a procfs tree: a zombie is gone, and a reused pid (new start time) is not followed', async (t) => {
  const procRoot = await fakeProc(t)
  const s = source({ pid: 321 }, { procRoot })
  assert.equal(value(await collect(s), 'app_process_pid'), 321)

  const statPath = join(procRoot, '321', 'stat')
  const stat = await readFile(statPath, 'utf8')
  await writeFile(statPath, stat.replace(') S ', ') Z '))
  assert.equal((await collect(s)).failure?.reason, 'not_found')

  await writeFile(statPath, stat.replace(' 5000 ', ' 7777 '))
  const reused = await collect(s)
  assert.equal(reused.failure?.reason, 'not_found')
  assert.match(reused.failure.message, /pid 321 now belongs to another process/)

  // A cmdline selector follows a restart: the oldest living match is picked again.
  await writeFile(statPath, stat.replace(') S ', ') Z '))
  const follower = source({ cmdline: /server\.js/ }, { procRoot })
  assert.equal(value(await collect(follower), 'app_process_pid'), 322)
  await writeFile(statPath, stat)
  assert.equal(value(await collect(follower), 'app_process_pid'), 322, 'the followed process is kept while it lives')
  await rm(join(procRoot, '322'), { recursive: true })
  assert.equal(value(await collect(follower), 'app_process_pid'), 321)
})
