// Environment every suite runs with: the throwaway database from `npm test` and a test secret.
import process from "node:process";

export const TEST_JWT_SECRET = "hazina-test-secret-0123456789abcdef-0123456789";
process.env.JWT_SECRET ??= TEST_JWT_SECRET;
process.env.LOG_LEVEL ??= "silent";
// Low enough for a suite to reach it quickly (wallets.test.ts), high enough for the rest.
process.env.RATE_LIMIT_PER_MINUTE ??= "200";
if (!process.env.DATABASE_URL) {
  throw new Error("DATABASE_URL is unset: run the suites through `npm test`, which creates a throwaway database.");
}
