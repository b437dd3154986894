// A cap on refused webhook calls per source address (WEBHOOK_REFUSALS_PER_MINUTE): past it
// a caller gets 429 and nothing more is stored, so nobody can fill the events table
// without the secret. Counted in this edge process's memory (fixed one-minute windows):
// with N processes a source may make up to N times the cap — still bounded, and no
// database write is spent on counting what we refuse.
const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;
const windows = new Map<string, { startedAt: number; count: number }>();

/** Count one refusal from `source`; returns the seconds to wait when over the cap, else null. */
export function overRefusalLimit(
  source: string,
  perMinute: number,
  now = Date.now(),
): number | null {
  let window = windows.get(source);
  if (!window || now - window.startedAt >= WINDOW_MS) {
    if (windows.size >= MAX_TRACKED) {
      for (const [key, w] of windows) if (now - w.startedAt >= WINDOW_MS) windows.delete(key);
      if (windows.size >= MAX_TRACKED) windows.clear(); // a flood of sources: start over rather than grow
    }
    window = { startedAt: now, count: 0 };
    windows.set(source, window);
  }
  window.count += 1;
  if (window.count <= perMinute) return null;
  return Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - now) / 1000));
}
