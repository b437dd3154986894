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
