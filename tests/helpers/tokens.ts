// Mint access tokens the way the auth service does, for tests.
import { SignJWT } from "jose";
import { TEST_JWT_SECRET } from "./env.ts";

export interface TokenOptions {
  role?: string;
  appRole?: "customer" | "merchant" | "admin";
  expiresIn?: string;
  audience?: string;
  secret?: string;
}

export async function accessToken(userId: string, opts: TokenOptions = {}): Promise<string> {
  return await new SignJWT({
    role: opts.role ?? "authenticated",
    app_metadata: { role: opts.appRole ?? "customer" },
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setAudience(opts.audience ?? "authenticated")
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "1h")
    .sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
}
