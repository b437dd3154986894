// Operator endpoints (admins only; the database checks the role): reconciliation and
// trial balance, the periodic sweeps, and freezing wallets.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";

type Env = { Variables: AuthVariables & { requestId: string } };

export const app = createFunctionApp<Env>("ops");
app.use("*", requireUser);

app.get("/reconciliation", async (c) => {
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`select public.ops_reconciliation() as report`);
  return c.json(row.report);
});

// Safe to call any number of times: each sweep only acts on what is overdue.
app.post("/sweeps", async (c) => {
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`select public.ops_run_sweeps() as result`);
  return c.json(row.result);
});

const WalletStatus = z.object({ status: z.enum(["active", "frozen", "closed"]) }).strict();

// Setting the same status again returns the same wallet: naturally idempotent.
app.post("/wallets/:id/status", async (c) => {
  const walletId = z.string().uuid().parse(c.req.param("id"));
  const { status } = WalletStatus.parse(await c.req.json());
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.ops_set_wallet_status(${walletId}, ${status}) as wallet`);
  return c.json(row.wallet);
});
