/**
 * Runs Prometheus's own tools for the tests: `promtool` (Debian package `prometheus`) and `amtool`
 * (package `prometheus-alertmanager`), both installed by .ci/run. A missing tool fails the test
 * with the package to install; it never skips.
 */
import { execFile } from 'node:child_process'

/** The outcome of one tool run. */
export interface ToolRun {
  code: number
  output: string
}

/**
 * Runs `command args` and resolves with its exit code and combined output.
 * @throws Error naming the package to install when the command is not on PATH.
 */
export async function runTool (command: 'promtool' | 'amtool' | 'docker-compose', args: readonly string[], options: { cwd?: string, timeoutMs?: number } = {}): Promise<ToolRun> {
  return await new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        const pkg = command === 'promtool' ? 'prometheus' : command === 'amtool' ? 'prometheus-alertmanager' : 'docker-compose'
        reject(new Error(`${command} is not installed: install Debian's \`${pkg}\` package (.ci/run does)`, { cause: error }))
        return
      }
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, output })
    })
  })
}
