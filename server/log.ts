// Structured request logs: one JSON object per line on stdout. Injected so tests stay quiet.

/** One log record; `msg` names the event, the rest are fields. */
export type LogEntry = { msg: string } & Record<string, unknown>;

/** Where log records go. */
export type Logger = (entry: LogEntry) => void;

/** Writes each entry as one JSON line with an ISO timestamp. */
export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  return (entry) => write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

/** Drops everything (tests, benchmarks). */
export const silentLogger: Logger = () => {};
