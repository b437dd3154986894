// Structured JSON logs, one line per event, so operators can grep and ship them. Every
// field passes the redaction rules (redact.ts) first: no secret reaches a log line.
import { config } from "./config.ts";
import { redactFields, redactText } from "./redact.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
type Level = Exclude<keyof typeof LEVELS, "silent">;

function threshold(): number {
  try {
    return LEVELS[config().LOG_LEVEL];
  } catch {
    return LEVELS.info;
  }
}

/** Whether a line at `level` would be written (skip building fields nobody reads). */
export function logs(level: Level): boolean {
  return LEVELS[level] >= threshold();
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS[level] < threshold()) return;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    msg: redactText(msg),
    ...(redactFields(fields) as object),
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
