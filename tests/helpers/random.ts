// Reproducible randomness for the fuzz and concurrency suites: one seed per run, printed,
// and taken from the environment to replay a failing run exactly.
import process from "node:process";

export interface Seeded {
  seed: number;
  /** A number in [0, 1), from a linear congruential generator (same sequence per seed). */
  rand: () => number;
  pick: <T>(values: readonly T[]) => T;
}

/** `envVar` (e.g. FUZZ_SEED) replays a run; otherwise the seed comes from the clock. */
export function seeded(label: string, envVar: "FUZZ_SEED" | "CONCURRENCY_SEED", modulus = 1_000_000): Seeded {
  const seed = Number(process.env[envVar] ?? Date.now() % modulus);
  console.log(`${label} seed: ${seed} (replay with ${envVar}=${seed})`);
  let state = seed;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
  return { seed, rand, pick };
}
