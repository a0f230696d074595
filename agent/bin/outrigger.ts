#!/usr/bin/env node
/**
 * The `outrigger` command (package.json "bin"). Everything happens in main.ts.
 */
import { main } from '../main.ts'

process.exitCode = await main(process.argv.slice(2), process.env)
