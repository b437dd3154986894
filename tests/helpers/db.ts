// A superuser connection to the test database, for arranging fixtures and asserting state.
import postgres from "postgres";
import process from "node:process";

export const admin = postgres(process.env.DATABASE_URL!, { max: 4, onnotice: () => {} });

/** Create a user row (as the auth service would) and return its id. */
export async function createUser(role: "customer" | "merchant" | "admin" = "customer"): Promise<string> {
  const email = `user-${crypto.randomUUID()}@example.com`;
  const [row] = await admin`insert into public.auth_users (email, role) values (${email}, ${role}) returning id`;
  return row.id as string;
}

/** Run SQL as a signed-in user, exactly as PostgREST sets it: the `authenticated` role and the
 *  JWT claims (`sub`, `role`) for this transaction only. */
export async function asUser<T>(userId: string, fn: (tx: typeof admin) => Promise<T>): Promise<T> {
  return await admin.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true)`;
    return await fn(tx as unknown as typeof admin);
  }) as T;
}
