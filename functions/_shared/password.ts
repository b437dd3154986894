// Password hashing and rules. argon2id through hash-wasm (WebAssembly), so the same code
// runs under Deno (edge) and Node (tests) without native modules.
import { argon2id, argon2Verify } from "hash-wasm";
import { z } from "zod";

// OWASP's recommended argon2id baseline: 19 MiB, 2 passes, 1 lane, 16-byte salt, 32-byte
// hash (~50 ms here). Stored as a PHC string ($argon2id$v=19$m=19456,t=2,p=1$salt$hash),
// so raising these later only affects new hashes: old ones verify with their own params.
export const ARGON2_PARAMS = {
  memorySize: 19456,
  iterations: 2,
  parallelism: 1,
  hashLength: 32,
} as const;
const SALT_BYTES = 16;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

function characterClasses(password: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
}

/** 10–256 characters, at least two of: lowercase, uppercase, digits, other characters. */
export const passwordSchema = z.string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .refine(
    (p) => characterClasses(p) >= 2,
    "must mix at least two of: lowercase, uppercase, digits, symbols",
  );

// The same password typed on two keyboards can differ in Unicode form; hash one form.
const normalise = (password: string) => password.normalize("NFKC");

export async function hashPassword(password: string): Promise<string> {
  return await argon2id({
    password: normalise(password),
    salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
    ...ARGON2_PARAMS,
    outputType: "encoded",
  });
}

let dummyHash: Promise<string> | undefined;

/**
 * Check a password against a stored hash. With no hash (unknown email, OAuth-only user) it
 * still runs a full argon2id verification against a dummy hash and returns false, so the
 * response time does not reveal whether the account exists.
 */
export async function verifyPassword(
  password: string,
  encoded: string | null | undefined,
): Promise<boolean> {
  if (!encoded) {
    dummyHash ??= hashPassword(crypto.randomUUID());
    await argon2Verify({ password: normalise(password), hash: await dummyHash });
    return false;
  }
  try {
    return await argon2Verify({ password: normalise(password), hash: encoded });
  } catch {
    return false; // a malformed stored hash never lets anyone in
  }
}
