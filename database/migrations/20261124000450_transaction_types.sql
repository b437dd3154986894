-- migrate:up
-- The transaction types: one row per kind of money movement Hazina posts, saying who pays
-- its fee. It is the one vocabulary the fee catalog, merchant fee profiles and the ledger
-- (wallet_transactions.kind) draw on, and hazina.fee_payer (below) reads it.
--
-- A new capability that posts a new type adds its row in its own migration
-- (`insert into public.transaction_types ...`); no earlier migration changes. The rows
-- below are only the types that exist today: invoice payments, escrow releases and
-- installments arrive with their capabilities, as rows of their own.
--
-- fee_payer: whose wallet a fee of this type is charged to, when the catalog or a merchant
-- profile prices one. `sender` (the wallet money leaves) or `receiver` (the wallet it
-- reaches: a merchant's takings, a top-up's credited wallet).
--
-- Ledger rows do not carry a foreign key to this table, deliberately (as for ledger
-- lines, see the ledger migration): the check would take a KEY SHARE lock on the type's
-- row for every posting, and concurrent postings of one type all lock the same row, so
-- they pile up as multixacts on it. Measured, see the figures at the end of this file.
-- Instead the posting path refuses an unknown type (hazina.fee_payer raises
-- unknown_transaction_type on transfers, holds and batches) and hazina.reconcile() reports
-- any transaction, hold or billing row whose type is not here.
create table public.transaction_types (
  code         public.transaction_kind primary key,
  fee_payer    text not null check (fee_payer in ('sender', 'receiver')),
  description  text not null check (length(description) between 1 and 300)
);

insert into public.transaction_types (code, fee_payer, description) values
  ('p2p_transfer', 'sender',
   'A payment from one user''s wallet to another''s: the sender pays amount + fee.'),
  ('merchant_payment', 'receiver',
   'A payment into a merchant''s wallet: the merchant bears the fee, out of what it receives.'),
  ('funding', 'receiver',
   'A top-up (STK push, bank collection, paybill): money arrives from a provider''s clearing wallet; '
   'the credited wallet pays any funding fee.'),
  ('withdrawal', 'sender',
   'A payout to a user''s own M-Pesa number or bank account, held until the provider answers; '
   'the user pays the withdrawal fee.'),
  ('withdrawal_settlement', 'sender',
   'Platform bookkeeping after a payout: payouts_in_flight to the provider''s clearing wallet. Never priced.'),
  ('reversal', 'sender',
   'Undoes a posted transaction fully or partly; a full reversal refunds the original fees. Never priced.');

-- Reference data: everyone may read it (apps show what a type means); nobody writes it
-- except migrations, which run as the table owner.
alter table public.transaction_types enable row level security;
revoke all on table public.transaction_types from public, anon, authenticated, service_role;
grant select on table public.transaction_types to anon, authenticated, service_role;
create policy "anyone reads transaction types" on public.transaction_types
  for select to anon, authenticated using (true);

-- Who pays the fee of a transaction type, from the table; an unknown type is refused with
-- unknown_transaction_type (a stable code the edge maps to 400). It runs on every transfer,
-- hold and batch item. PL/pgSQL without a SET clause: its one query is planned once per
-- session. (A SQL function reading a table is never inlined, so it would be planned again
-- in every transaction that calls it; measured no faster, slower on one connection.)
create function hazina.fee_payer(p_transaction_type text) returns text
  language plpgsql stable
  as $$
declare
  v_fee_payer text;
begin
  select t.fee_payer into v_fee_payer from public.transaction_types t where t.code = p_transaction_type;
  if v_fee_payer is null then
    perform hazina.raise_error('unknown_transaction_type', jsonb_build_object('transaction_type', p_transaction_type));
  end if;
  return v_fee_payer;
end
$$;

-- The ledger's transaction headers: no foreign key (see the top of this file). Measured
-- with pgbench on one prepared bench database (2 000 wallets, fees charged), the variants
-- swapped in between interleaved 5 s runs, 8 rounds, median postings/s, on the shared
-- 2-vCPU machine (load ~10, so single runs vary by ±30%):
--                                          P2P 1 conn   P2P 8 conns   hot merchant 8 conns
--   fee_payer as the old CASE (no table)       122          452             435
--   this lookup, no foreign key                139          419             378
--   this lookup as a SQL function              107          420             379
--   this lookup + wallet_transactions FK        85          352             384
-- and, counted exactly (fixed 2 000 postings at 8 connections, next_multixact_id before
-- and after): with the key 1 990 to 2 157 multixacts, about one per posting, on the
-- 'p2p_transfer' or 'merchant_payment' row; without it 0 to 31. The key cost P2P postings
-- 16% (8 connections) to 39% (1) and a multixact each (hot merchant payments, bound by
-- their pooled wallet, showed no difference), so it is left out.

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
drop function if exists hazina.fee_payer(text);
drop table if exists public.transaction_types;
