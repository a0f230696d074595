/**
 * `outrigger --help` and `outrigger --version`.
 */
import { AGENT_VERSION } from '../version.ts'

/** The help text, ending in a newline. */
export const USAGE = `outrigger ${AGENT_VERSION} - an observability sidecar: app stats, health probes and process usage as Prometheus metrics

Usage:
  outrigger --config FILE [--listen HOST:PORT]  run the agent
  outrigger check --config FILE                 validate a config file; exit 0, or 2 listing every problem
  outrigger probe --config FILE                 run every source once and print a report
  outrigger schema                              print the JSON Schema of config files (for editors)
  outrigger slo generate --spec FILE [--out FILE]  write Prometheus SLO rules from an SLO spec
  outrigger --help | --version

Options:
  -c, --config FILE       the config file (default: $OUTRIGGER_CONFIG)
  -l, --listen HOST:PORT  where to serve /metrics and the API (default: $OUTRIGGER_LISTEN,
                          then server.listen in the config, then 127.0.0.1:9465)
  -h, --help              show this help
  -V, --version           print the version

Environment:
  OUTRIGGER_CONFIG     the config file when --config is not given
  OUTRIGGER_LISTEN     the address when --listen is not given
  OUTRIGGER_LOG_LEVEL  fatal, error, warn, info (default), debug, trace or silent
  Config files expand \${VAR} and \${VAR:-default} from the environment.

Signals: SIGHUP reloads the config (a bad one keeps the old running); SIGTERM and SIGINT
stop the agent, forcibly after 10 s.

Exit codes: 0 ok; 1 runtime failure (or a failing source under \`probe\`); 2 bad usage or config.
`
