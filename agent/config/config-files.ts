/**
 * The file access the config schema needs, relative to the config file's folder: resolving paths
 * and reading secret files (tokens, passwords) and PEM files (certificates, keys, CA bundles), so
 * the loaded config carries their contents and a missing file is a config problem with a position.
 */
import { open } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import type { ConfigFileAccess } from './config-schema.ts'

/** Largest secret file read, in bytes; a secret is a line, so anything larger is a mistake. */
export const SECRET_FILE_MAX_BYTES = 64 * 1024
/** Largest PEM file read, in bytes; a long certificate chain is a few tens of KiB. */
export const PEM_FILE_MAX_BYTES = 1024 * 1024

/** Says what went wrong with a file, in words, keeping the system code for searching. */
export function describeFileError (error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT': return 'no such file (ENOENT)'
    case 'EACCES': return 'permission denied (EACCES)'
    case 'EISDIR': return 'is a directory, not a file (EISDIR)'
    default: return (error as Error | undefined)?.message ?? String(error)
  }
}

/**
 * Reads a whole text file of at most `maxBytes`.
 * @throws an error whose message is {@link describeFileError}'s wording, or names the size.
 */
export async function readTextFile (path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r')
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw Object.assign(new Error('is a directory, not a file (EISDIR)'), { code: 'EISDIR' })
    if (info.size > maxBytes) throw new Error(`is ${info.size} bytes, more than the ${maxBytes} allowed`)
    return await handle.readFile({ encoding: 'utf8' })
  } finally {
    await handle.close()
  }
}

/** File access bound to `baseDir`, the folder relative paths in the config start from. */
export function configFileAccess (baseDir: string): ConfigFileAccess {
  return {
    resolve: (path) => isAbsolute(path) ? path : resolve(baseDir, path),
    async readSecret (path) {
      let text: string
      try {
        text = (await readTextFile(path, SECRET_FILE_MAX_BYTES)).replace(/\r?\n$/, '')
      } catch (error) {
        throw new Error(`cannot read secret file \`${path}\`: ${describeFileError(error)}`, { cause: error })
      }
      if (text === '') throw new Error(`secret file \`${path}\` is empty`)
      return text
    },
    async readPem (path) {
      let text: string
      try {
        text = await readTextFile(path, PEM_FILE_MAX_BYTES)
      } catch (error) {
        throw new Error(`cannot read \`${path}\`: ${describeFileError(error)}`, { cause: error })
      }
      if (!text.includes('-----BEGIN ')) throw new Error(`\`${path}\` is not a PEM file (no \`-----BEGIN\` line)`)
      return text
    }
  }
}
