// Configuration from the environment, validated once, with errors that say what to fix.
import process from "node:process";
import { z } from "zod";

const optionalString = z.string().trim().min(1).optional().catch(undefined);

const ConfigSchema = z.object({
  DATABASE_URL: z.string().url({ message: "must be a postgres:// URL" }),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  // JWT verification: HS256 with JWT_SECRET, and/or a JWKS (ES256/RS256) at JWT_JWKS_URL.
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: z.string().default("authenticated"),
  CORS_ORIGINS: z.string().default("*"),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
}).refine((c) => c.JWT_SECRET || c.JWT_JWKS_URL, {
  message: "set JWT_SECRET (HS256) or JWT_JWKS_URL (ES256/RS256) so callers can be verified",
  path: ["JWT_SECRET"],
});

export type Config = z.infer<typeof ConfigSchema>;

let cached: Config | undefined;

/** The validated configuration; throws one readable error listing every bad variable. */
export function config(): Config {
  if (cached) return cached;
  // Supabase gives edge functions SUPABASE_DB_URL; elsewhere DATABASE_URL is the name.
  const env = { ...process.env };
  env.DATABASE_URL ??= env.SUPABASE_DB_URL;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join(".") || "env"}: ${issue.message}`)
      .join("\n");
    throw new Error(`Invalid Hazina configuration:\n${problems}`);
  }
  cached = parsed.data;
  return cached;
}

/** Tests change env between suites; this forgets the cached copy. */
export function resetConfigForTests(): void {
  cached = undefined;
}
