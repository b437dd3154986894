// Money at the edge is a decimal string, never a JS number: it goes to PostgreSQL as text
// and is parsed there as NUMERIC. The database enforces the currency's minor units.
import { z } from "zod";

export const DECIMAL = /^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$/;

/**
 * A positive amount: "1250", "1250.5", "1250.00" (< 10^15, at most 4 decimals, the finest
 * any currency has). Its currency's own rule (KES: 2 decimals; M-Pesa: whole shillings) is
 * checked by the database, whose error states it.
 */
export const Amount = z.string({ error: 'amount must be a string such as "1250.00"' })
  .regex(
    DECIMAL,
    'amount must be a positive decimal string with no more decimals than its currency has (KES: 2), e.g. "1250.00"',
  )
  .refine((value) => /[1-9]/.test(value), "amount must be greater than zero");

export const Currency = z.string().regex(
  /^[A-Z]{3}$/,
  "currency must be an ISO 4217 code such as KES",
);
