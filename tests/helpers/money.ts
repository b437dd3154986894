// Fixtures for money tests: users with wallets, funding through the ledger, and the
// reconciliation every money test ends with.
import { expect } from "vitest";
import { admin, asUser, createUser } from "./db.ts";
import { fromUnits, toUnits } from "./decimal.ts";
import { accessToken } from "./tokens.ts";

export interface Party {
  userId: string;
  token: string;
  walletId: string;
}

/** A user (customer or merchant) with an open KES wallet and a valid access token. */
export async function partyWithWallet(role: "customer" | "merchant" = "customer"): Promise<Party> {
  const userId = await createUser(role);
  const token = await accessToken(userId, { appRole: role });
  const [row] = await asUser(userId, (tx) => tx`select public.wallet_open('KES') ->> 'id' as id`);
  return { userId, token, walletId: row.id };
}

/** Credit a wallet from the M-Pesa clearing wallet, as a completed top-up would. */
export async function fund(walletId: string, amount: string): Promise<void> {
  await admin`select hazina.post_transaction(${"test-fund:" + crypto.randomUUID()}, 'funding',
    jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', ${amount}::text),
      jsonb_build_object('wallet_id', ${walletId}::text, 'direction', 'credit', 'amount', ${amount}::text)))`;
}

export async function balanceOf(walletId: string): Promise<string> {
  const [row] = await admin`select balance::text from public.wallet_balances where wallet_id = ${walletId}`;
  return row.balance;
}

/** What the wallet holds back (pending holds), as text to the cent. */
export async function heldOf(walletId: string): Promise<string> {
  const [row] = await admin`select held::text from public.wallets where id = ${walletId}`;
  return row.held;
}

/** The books must be right after every money test. */
export async function expectBooksBalanced(): Promise<void> {
  const discrepancies = await admin`select * from hazina.reconcile()`;
  expect(discrepancies).toEqual([]);
  const unbalanced = await admin`select * from hazina.trial_balance() where total <> 0`;
  expect(unbalanced).toEqual([]);
}

/** A posted transfer as the API and hazina.transfer answer it (amounts as strings). */
export interface PostedTransfer {
  from_wallet_id: string;
  to_wallet_id: string;
  amount: string;
  fee: string;
  fee_payer: string;
}

/**
 * Every wallet's balance is exactly its starting balance moved by the accepted transfers
 * (in exact units), and no user balance is negative. Returns the fees the transfers charged.
 */
export async function expectBalancesFromAnswers(start: Map<string, bigint>, posted: Iterable<PostedTransfer>): Promise<bigint> {
  const expected = new Map(start);
  let fees = 0n;
  for (const p of posted) {
    const amount = toUnits(p.amount);
    const fee = toUnits(p.fee);
    fees += fee;
    expected.set(p.from_wallet_id, expected.get(p.from_wallet_id)! - amount - (p.fee_payer === "sender" ? fee : 0n));
    expected.set(p.to_wallet_id, expected.get(p.to_wallet_id)! + amount - (p.fee_payer === "receiver" ? fee : 0n));
  }
  for (const [walletId, units] of expected) {
    const actual = await balanceOf(walletId);
    expect(actual, walletId).toBe(fromUnits(units));
    expect(toUnits(actual) >= 0n, walletId).toBe(true);
  }
  return fees;
}
