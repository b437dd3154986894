-- migrate:up
-- Ledger core: currencies, wallets, transactions, immutable double-entry wallet_ledger,
-- the one posting primitive, reconciliation and the trial balance.
--
-- Sign convention: a CREDIT raises a wallet's balance, a DEBIT lowers it. Every
-- transaction's debits equal its credits per currency, so all wallets of a currency sum
-- to zero: system wallets that mirror money held outside (M-Pesa, banks) run negative
-- by exactly what users hold.
--
-- Privileges: no role (service_role included) may write these tables directly. The
-- internal functions that move money are SECURITY DEFINER with an empty search_path and
-- are executable by service_role only; clients reach them through the public.* wrappers,
-- which check the caller from request.jwt.claims first.
--
-- Speed: the functions on the posting path set plan_cache_mode = force_generic_plan.
-- Their queries take arrays as parameters; left to choose, PL/pgSQL keeps preferring a
-- fresh custom plan (it knows the array's length) and so re-plans every statement of
-- every posting, which cost a third of the time.

-- Value types of the posting path's tables. Domains rather than table CHECKs there:
-- PostgreSQL re-parses every CHECK of a table on every INSERT or UPDATE statement (even
-- the ones on columns the UPDATE does not touch), while a domain's check is prepared once
-- per session and runs only when a value of that column is written. Wallets are updated
-- and entries inserted on every posting, so their states, amounts, refs and currency
-- codes are domains (measured: the posting path's 17 table CHECKs cost ~12% of a
-- transfer). Rules that span columns stay table CHECKs.
-- (pgTAP's is() does not accept a domain next to its base type: tests cast, `::numeric`.)
create domain public.positive_amount as numeric(19, 4) check (value > 0);
create domain public.non_negative_amount as numeric(19, 4) check (value >= 0);
create domain public.transaction_ref as text check (length(value) between 1 and 255);
create domain public.transaction_kind as text check (value ~ '^[a-z][a-z0-9_]{1,40}$');
create domain public.description_text as text check (length(value) <= 500);
create domain public.bucket_index as smallint check (value >= 0);
create domain public.currency_code as char(3) check (value ~ '^[A-Z]{3}$');
create domain public.wallet_kind as text check (value in ('user', 'merchant', 'system'));
create domain public.wallet_status as text check (value in ('active', 'frozen', 'closed'));
-- A provider's clearing wallet is '<payment_provider>_clearing' (the provider domain is in
-- the payment sources migration; tests/functions/vocabulary.test.ts keeps the two in step).
create domain public.system_wallet_code as text check (value in (
  'mpesa_clearing', 'kcb_clearing', 'dtb_clearing', 'payouts_in_flight', 'fee_revenue', 'escrow', 'suspense'));
create domain public.credit_bucket_count as smallint check (value between 1 and 64);
create domain public.entry_direction as text check (value in ('debit', 'credit'));
create domain public.entry_leg as text check (value in ('principal', 'fee'));

create table public.currencies (
  code         char(3) primary key check (code ~ '^[A-Z]{3}$'),
  minor_units  smallint not null check (minor_units between 0 and 4),
  name         text not null
);
insert into public.currencies (code, minor_units, name) values
  ('KES', 2, 'Kenyan Shilling'),
  ('UGX', 0, 'Ugandan Shilling'),
  ('TZS', 2, 'Tanzanian Shilling'),
  ('USD', 2, 'US Dollar');

create table public.wallets (
  id              uuid primary key default gen_random_uuid(),
  user_id         uuid references public.auth_users (id),
  system_code     public.system_wallet_code,
  kind            public.wallet_kind not null,
  currency        char(3) not null default 'KES' references public.currencies (code),
  status          public.wallet_status not null default 'active',
  -- balance: settled money on this row. Credits to pooled wallets (credit_buckets > 1)
  -- land in wallet_balance_buckets first; the full balance is balance + sum(buckets).
  balance         numeric(19, 4) not null default 0,
  -- held: money reserved by pending holds (two-phase transfers); available = balance - held.
  held            public.non_negative_amount not null default 0,
  credit_buckets  public.credit_bucket_count not null default 1,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  constraint wallets_owner_matches_kind check (
    case kind when 'system' then user_id is null and system_code is not null
              else user_id is not null and system_code is null end),
  -- The last line of defence: a user or merchant wallet never spends money it lacks.
  constraint wallets_never_overdrawn check (kind = 'system' or balance - held >= 0)
) with (fillfactor = 70);  -- room for HOT updates: balances change on every posting
create unique index wallets_one_per_user_currency on public.wallets (user_id, currency) where user_id is not null;
create unique index wallets_one_system_per_currency on public.wallets (system_code, currency) where system_code is not null;

-- Pooled credits for hot wallets (merchants, platform revenue): each connection credits
-- its own bucket (pg_backend_pid() % credit_buckets), so concurrent payments into one
-- merchant never wait on each other. Debits fold the buckets back into the wallet row.
create table public.wallet_balance_buckets (
  wallet_id  uuid not null references public.wallets (id),
  bucket     public.bucket_index not null,
  balance    public.non_negative_amount not null default 0,
  primary key (wallet_id, bucket)
) with (fillfactor = 70);

create table public.wallet_transactions (
  id                uuid primary key default hazina.uuid_v7(),
  ref               public.transaction_ref not null unique,
  kind              public.transaction_kind not null,
  description       public.description_text,
  metadata          jsonb not null default '{}',
  -- Fingerprint of what was asked, so a retried ref is recognised and a reused one refused.
  request_hash      text not null,
  -- The principal moved (excluding fees); reversals are bounded by it.
  principal_amount  public.non_negative_amount not null,
  currency          public.currency_code not null,
  reverses_id       uuid references public.wallet_transactions (id),
  created_by        uuid,
  created_at        timestamptz not null default now()
);
create index wallet_transactions_reverses_idx on public.wallet_transactions (reverses_id) where reverses_id is not null;

-- Entries carry no foreign keys, deliberately: an FK check per line costs a query and a
-- KEY SHARE lock on the parent, and on a hot wallet (a merchant, fee revenue) those locks
-- from concurrent postings pile up as multixacts and serialise them. Integrity holds
-- instead because (1) only apply_entries writes entries, after validating every wallet,
-- inside the transaction that inserted the header; (2) headers and wallets can never be
-- deleted (triggers below); (3) hazina.reconcile() (billing migration) reports any orphan entry.
--
-- Two indexes per entry, because every index is a write (and WAL) on every posting:
-- `ref` is the primary key, and since line refs are '<transaction id>#<n>' in the "C"
-- collation, the same index finds a transaction's entries (hazina.transaction_entries);
-- (wallet_id, id) serves statements.
create table public.wallet_ledger (
  -- Entries are numbered: the number orders a wallet's statement and pages it. Unique
  -- by construction (an identity that nobody may set), so it needs no index of its own.
  id              bigint generated always as identity,
  transaction_id  uuid not null,
  wallet_id       uuid not null,
  direction       public.entry_direction not null,
  amount          public.positive_amount not null,
  currency        char(3) not null,
  -- Balance of the wallet row right after this entry. Null for credits into pooled
  -- buckets, whose running balance is only defined once folded.
  balance_after   numeric(19, 4),
  leg             public.entry_leg not null default 'principal',
  kind            text not null,
  description     text,
  metadata        jsonb not null default '{}',
  -- '<transaction id>#<line>': unique, and time-ordered like the transaction id (the
  -- client's own ref is unique on wallet_transactions.ref).
  ref             text collate "C" primary key,
  created_at      timestamptz not null default now(),
  constraint wallet_ledger_ref_names_transaction check (starts_with(ref, transaction_id::text || '#'))
);
create index wallet_ledger_wallet_idx on public.wallet_ledger (wallet_id, id);

-- A transaction's entries, through the primary key: its refs all lie between
-- '<id>#' and '<id>$' ('$' sorts right after '#' in the "C" collation).
-- (Plain SQL without SET clauses, so it inlines into its callers' queries.)
create function hazina.transaction_entries(p_transaction_id uuid) returns setof public.wallet_ledger
  language sql stable
  as $$
  select * from public.wallet_ledger
   where ref > p_transaction_id::text || '#' and ref < p_transaction_id::text || '$'
$$;

-- Holds (two-phase transfers): amount + fee reserved on wallet_id (wallets.held) until
-- posted to counterparty_id, voided, or expired. Functions in the holds migration.
create table public.wallet_holds (
  id                  uuid primary key default hazina.uuid_v7(),
  ref                 text not null unique check (length(ref) between 1 and 255),
  request_hash        text not null,
  wallet_id           uuid not null references public.wallets (id),
  counterparty_id     uuid not null references public.wallets (id),
  currency            char(3) not null references public.currencies (code),
  amount              numeric(19, 4) not null check (amount > 0),
  fee_amount          numeric(19, 4) not null default 0 check (fee_amount >= 0),
  transaction_type    text not null,
  status              text not null default 'pending' check (status in ('pending', 'posted', 'voided', 'expired')),
  posted_amount       numeric(19, 4) check (posted_amount > 0 and posted_amount <= amount),
  transaction_id      uuid references public.wallet_transactions (id),
  expires_at          timestamptz not null,
  description         text,
  metadata            jsonb not null default '{}',
  created_at          timestamptz not null default now(),
  resolved_at         timestamptz,
  constraint wallet_holds_distinct_wallets check (wallet_id <> counterparty_id),
  constraint wallet_holds_posted_has_transaction check ((status = 'posted') = (transaction_id is not null and posted_amount is not null)),
  constraint wallet_holds_resolved_when_final check ((status = 'pending') = (resolved_at is null))
);
create index wallet_holds_wallet_idx on public.wallet_holds (wallet_id, created_at);
create index wallet_holds_expiry_idx on public.wallet_holds (expires_at) where status = 'pending';

-- Ledger rows and transaction headers are immutable for every role; fix with reversals.
create function hazina.ledger_is_immutable() returns trigger
  language plpgsql
  set search_path = ''
  as $$
begin
  raise exception using errcode = 'P0001', message = 'ledger_immutable',
    detail = jsonb_build_object('table', tg_table_name, 'operation', tg_op)::text;
end
$$;
create trigger wallet_ledger_immutable before update or delete on public.wallet_ledger
  for each row execute function hazina.ledger_is_immutable();
create trigger wallet_ledger_no_truncate before truncate on public.wallet_ledger
  for each statement execute function hazina.ledger_is_immutable();
create trigger wallet_transactions_immutable before update or delete on public.wallet_transactions
  for each row execute function hazina.ledger_is_immutable();
create trigger wallet_transactions_no_truncate before truncate on public.wallet_transactions
  for each statement execute function hazina.ledger_is_immutable();

-- Wallets are closed, never deleted: their entries must always have a wallet.
create trigger wallets_never_deleted before delete on public.wallets
  for each row execute function hazina.ledger_is_immutable();
create trigger wallets_no_truncate before truncate on public.wallets
  for each statement execute function hazina.ledger_is_immutable();

-- Second line of defence, checked at commit: every transaction has entries and
-- balances per currency, whatever function wrote it.
-- Security definer: the check fires at commit as whoever committed, and must see every
-- entry of the transaction, not only the ones RLS shows that role.
create function hazina.assert_transaction_balanced() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  -- Without this the planner keeps re-planning the query for each transaction (a custom
  -- plan for the exact ref range looks cheaper than the generic one): 250 µs a commit.
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_unbalanced text;
  v_entries bigint;
begin
  -- One query: the imbalance of each currency, and how many entries there are.
  select string_agg(currency || ':' || imbalance::text, ', ') filter (where imbalance <> 0), sum(entries)
    into v_unbalanced, v_entries
    from (select e.currency, count(*) as entries,
                 sum(case e.direction when 'debit' then e.amount else -e.amount end) as imbalance
            from hazina.transaction_entries(new.id) e group by e.currency) t;
  if v_unbalanced is not null or v_entries is null then
    raise exception using errcode = 'P0001', message = 'unbalanced_transaction',
      detail = jsonb_build_object('transaction_id', new.id, 'difference', coalesce(v_unbalanced, 'no entries'))::text;
  end if;
  return null;
end
$$;
create constraint trigger wallet_transactions_balanced
  after insert on public.wallet_transactions
  deferrable initially deferred
  for each row execute function hazina.assert_transaction_balanced();

-- Wallet status changes are audited (balances are audited by the ledger itself).
create trigger wallets_audit after insert or update of status or delete on public.wallets
  for each row execute function hazina.audit_row_change();

-- The platform's system wallets, one per code and currency.
create function hazina.system_wallet(p_code text, p_currency text default 'KES') returns uuid
  language sql stable
  set search_path = ''
  as $$ select id from public.wallets where system_code = p_code and currency = p_currency $$;

create function hazina.ensure_system_wallets(p_currency text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  insert into public.wallets (kind, system_code, currency, credit_buckets)
  select 'system', code, p_currency, 16
    from (select unnest(array['mpesa_clearing', 'kcb_clearing', 'dtb_clearing', 'payouts_in_flight',
                              'fee_revenue', 'escrow', 'suspense']) as code
          -- and every code a later migration added (a new provider's clearing wallet), so
          -- a currency added after it gets that wallet too
          union
          select system_code from public.wallets where kind = 'system') codes
  on conflict do nothing;
  insert into public.wallet_balance_buckets (wallet_id, bucket)
  select w.id, b from public.wallets w cross join generate_series(0, w.credit_buckets - 1) b
   where w.kind = 'system' and w.currency = p_currency
  on conflict do nothing;
$$;
do $$ begin perform hazina.ensure_system_wallets(code) from public.currencies; end $$;

-- Fold a pooled wallet's credit buckets into its row; the caller holds the row lock.
-- Buckets are locked in bucket order (the global order) and emptied; RETURNING gives new
-- values, so the old balances are read from the locked rows.
create function hazina.fold_buckets(p_wallet_id uuid) returns numeric
  language plpgsql
  set search_path = ''
  as $$
declare
  v_folded numeric;
begin
  with locked as (
    select wallet_id, bucket, balance from public.wallet_balance_buckets
     where wallet_id = p_wallet_id and balance <> 0
     order by bucket for no key update
  ), emptied as (
    update public.wallet_balance_buckets b set balance = 0
      from locked where b.wallet_id = locked.wallet_id and b.bucket = locked.bucket
    returning locked.balance
  )
  select coalesce(sum(balance), 0) into v_folded from emptied;
  if v_folded <> 0 then
    update public.wallets set balance = balance + v_folded, updated_at = now() where id = p_wallet_id;
  end if;
  return v_folded;
end
$$;

-- The posting primitive. Everything that moves money ends here.
--
-- Entries are parallel arrays (wallet, direction, amount, leg). The function:
--  1. validates amounts, directions and legs, that every wallet exists, and that debits
--     equal credits per currency;
--  2. locks wallet rows in id order (deadlock-free) and applies each wallet's net change
--     in one UPDATE, refusing overdrafts of user/merchant wallets (system wallets may run
--     negative: they mirror external accounts);
--  3. then handles pooled wallets (credit_buckets > 1) in id order: a net credit goes to
--     this connection's bucket; a net debit folds the buckets into the row first. Row
--     locks all come before bucket locks, so every posting takes locks in one global
--     order: rows by id, then (wallet, bucket);
--  4. writes the entries with balance_after.
-- It is written for speed (one read of the wallets, then one statement per wallet and one
-- insert; the rest is plain PL/pgSQL arithmetic) because every transfer, hold and
-- reversal runs through it.
-- Idempotency is the caller's: see begin_transaction. p_ref (the transaction's ref) is
-- reported in errors.
create function hazina.apply_entries(
  p_transaction_id uuid,
  p_kind text,
  p_description text,
  p_metadata jsonb,
  p_ref text,
  p_wallets uuid[],
  p_directions text[],
  p_amounts numeric[],
  p_legs text[]
) returns void
  language plpgsql
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_count integer := coalesce(array_length(p_wallets, 1), 0);
  v_ids uuid[];          -- distinct wallets, sorted by id
  v_deltas numeric[];    -- net change per wallet
  v_buckets smallint[];  -- credit_buckets per wallet (null: no such wallet)
  v_statuses text[];
  v_currencies text[];
  v_finals numeric[];    -- balance of the row after this posting (null: pooled credit)
  v_currency_codes text[] := '{}'::text[];
  v_currency_nets numeric[] := '{}'::numeric[];
  v_after numeric[] := array_fill(null::numeric, array[v_count]);
  v_entry_currencies text[] := array_fill(null::text, array[v_count]);
  v_signed numeric;
  v_position integer;
  v_balance numeric;
  v_status text;
  v_bucket constant smallint := (pg_backend_pid() % 64)::smallint;
begin
  if v_count < 2 or array_length(p_directions, 1) is distinct from v_count
     or array_length(p_amounts, 1) is distinct from v_count or array_length(p_legs, 1) is distinct from v_count then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'need two or more entries'));
  end if;
  for i in 1 .. v_count loop
    if p_amounts[i] is null or p_amounts[i] <= 0 or p_amounts[i] <> round(p_amounts[i], 4) or p_amounts[i] >= 1e15 then
      perform hazina.raise_error('invalid_amount');
    end if;
    if p_directions[i] is null or p_directions[i] not in ('debit', 'credit')
       or p_legs[i] is null or p_legs[i] not in ('principal', 'fee') or p_wallets[i] is null then
      perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'direction must be debit or credit, leg principal or fee'));
    end if;
  end loop;

  -- One query: per wallet (in id order) its net change and settings.
  select array_agg(d.wallet_id order by d.wallet_id), array_agg(d.delta order by d.wallet_id),
         array_agg(w.credit_buckets order by d.wallet_id), array_agg(w.status order by d.wallet_id),
         array_agg(w.currency::text order by d.wallet_id)
    into v_ids, v_deltas, v_buckets, v_statuses, v_currencies
    from (select e.wallet_id, sum(case e.direction when 'credit' then e.amount else -e.amount end) as delta
            from unnest(p_wallets, p_directions, p_amounts) as e(wallet_id, direction, amount)
           group by e.wallet_id) d
    left join public.wallets w on w.id = d.wallet_id;

  -- Every wallet exists, and debits equal credits per currency.
  for i in 1 .. array_length(v_ids, 1) loop
    if v_currencies[i] is null then
      perform hazina.raise_error('wallet_not_found');
    end if;
    v_position := array_position(v_currency_codes, v_currencies[i]);
    if v_position is null then
      v_currency_codes := v_currency_codes || v_currencies[i];
      v_currency_nets := v_currency_nets || v_deltas[i];
    else
      v_currency_nets[v_position] := v_currency_nets[v_position] + v_deltas[i];
    end if;
  end loop;
  if 0 <> any (v_currency_nets) then
    perform hazina.raise_error('unbalanced_transaction');
  end if;
  v_finals := array_fill(null::numeric, array[array_length(v_ids, 1)]);

  -- Pass 1: wallet rows, in id order.
  for i in 1 .. array_length(v_ids, 1) loop
    if v_buckets[i] > 1 then
      if v_deltas[i] < 0 then
        -- A pooled wallet being debited: take its row lock in order; fold in pass 2.
        perform 1 from public.wallets where id = v_ids[i] for no key update;
      end if;
      continue;
    end if;
    update public.wallets
       set balance = balance + v_deltas[i], updated_at = now()
     where id = v_ids[i]
       and status = 'active'
       and (kind = 'system' or balance + v_deltas[i] - held >= 0)
    returning balance into v_balance;
    if not found then
      select status into v_status from public.wallets where id = v_ids[i];
      if v_status <> 'active' then
        perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', v_ids[i], 'status', v_status));
      end if;
      perform hazina.raise_error('insufficient_funds', jsonb_build_object('wallet_id', v_ids[i], 'ref', p_ref));
    end if;
    v_finals[i] := v_balance;
  end loop;

  -- Pass 2: pooled wallets, in id order, after every row lock.
  for i in 1 .. array_length(v_ids, 1) loop
    continue when v_buckets[i] = 1;
    if v_statuses[i] <> 'active' then
      perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', v_ids[i], 'status', v_statuses[i]));
    end if;
    if v_deltas[i] > 0 then
      update public.wallet_balance_buckets
         set balance = balance + v_deltas[i]
       where wallet_id = v_ids[i] and bucket = v_bucket % v_buckets[i];
    elsif v_deltas[i] < 0 then
      perform hazina.fold_buckets(v_ids[i]);
      update public.wallets
         set balance = balance + v_deltas[i], updated_at = now()
       where id = v_ids[i]
         and (kind = 'system' or balance + v_deltas[i] - held >= 0)
      returning balance into v_balance;
      if not found then
        perform hazina.raise_error('insufficient_funds', jsonb_build_object('wallet_id', v_ids[i], 'ref', p_ref));
      end if;
      v_finals[i] := v_balance;
    end if;
  end loop;

  -- balance_after: walk the entries backwards from each wallet's final balance.
  for i in reverse v_count .. 1 loop
    v_position := array_position(v_ids, p_wallets[i]);
    v_entry_currencies[i] := v_currencies[v_position];
    if v_finals[v_position] is not null then
      v_after[i] := v_finals[v_position];
      v_signed := case p_directions[i] when 'credit' then p_amounts[i] else -p_amounts[i] end;
      v_finals[v_position] := v_finals[v_position] - v_signed;
    end if;
  end loop;

  insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency,
                                    balance_after, leg, kind, description, metadata, ref)
  select p_transaction_id, e.wallet_id, e.direction, e.amount, e.currency, e.balance_after,
         e.leg, p_kind, p_description, p_metadata, p_transaction_id::text || '#' || e.n
    from unnest(p_wallets, p_directions, p_amounts, p_legs, v_after, v_entry_currencies) with ordinality
           as e(wallet_id, direction, amount, leg, balance_after, currency, n)
   order by e.n;
end
$$;

-- Opens a transaction header, idempotently by ref: a new ref starts a transaction
-- (replayed = false); a known ref with the same request hash returns the original
-- (replayed = true); a known ref with a different request raises ref_conflict.
-- Concurrent duplicates serialise on the unique index: the loser sees the winner's row.
create function hazina.begin_transaction(
  p_ref text,
  p_kind text,
  p_request_hash text,
  p_principal numeric,
  p_currency text,
  p_description text default null,
  p_metadata jsonb default '{}',
  p_reverses_id uuid default null,
  out transaction_id uuid,
  out replayed boolean
)
  language plpgsql
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_existing_hash text;
begin
  if p_ref is null or length(p_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'ref must be 1 to 255 characters'));
  end if;
  insert into public.wallet_transactions (ref, kind, request_hash, principal_amount, currency,
                                          description, metadata, reverses_id, created_by)
  values (p_ref, p_kind, p_request_hash, p_principal, p_currency, p_description,
          coalesce(p_metadata, '{}'), p_reverses_id, auth.uid())
  on conflict (ref) do nothing
  returning id into transaction_id;
  if transaction_id is not null then
    replayed := false;
    return;
  end if;
  select t.id, t.request_hash into transaction_id, v_existing_hash
    from public.wallet_transactions t where t.ref = p_ref;
  if v_existing_hash is distinct from p_request_hash then
    perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_ref));
  end if;
  replayed := true;
end
$$;

-- General posting: N entries, all or nothing. p_entries is a JSON array of
--   {"wallet_id": uuid, "direction": "debit"|"credit", "amount": "12.50", "leg": "principal"|"fee"}
-- Amounts may be JSON strings or numbers; they are parsed as NUMERIC, never floats.
create function hazina.post_transaction(
  p_ref text,
  p_kind text,
  p_entries jsonb,
  p_description text default null,
  p_metadata jsonb default '{}'
) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_wallets uuid[];
  v_directions text[];
  v_amounts numeric[];
  v_legs text[];
  v_currency text;
  v_principal numeric;
  v_tx record;
begin
  if jsonb_typeof(p_entries) is distinct from 'array' then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'entries must be a JSON array'));
  end if;
  begin
    select array_agg((e ->> 'wallet_id')::uuid order by n),
           array_agg(e ->> 'direction' order by n),
           array_agg((e ->> 'amount')::numeric order by n),
           array_agg(coalesce(e ->> 'leg', 'principal') order by n)
      into v_wallets, v_directions, v_amounts, v_legs
      from jsonb_array_elements(p_entries) with ordinality as x(e, n);
  exception when invalid_text_representation or numeric_value_out_of_range then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'wallet_id must be a uuid and amount a decimal'));
  end;
  if exists (select 1 from unnest(v_amounts) a where a is null or a <= 0 or a <> round(a, 4) or a >= 1e15) then
    perform hazina.raise_error('invalid_amount');
  end if;
  select w.currency into v_currency from public.wallets w where w.id = v_wallets[1];
  select coalesce(sum(a), 0) into v_principal
    from unnest(v_directions, v_amounts, v_legs) as e(d, a, l) where d = 'debit' and l = 'principal';
  select * into v_tx from hazina.begin_transaction(
    p_ref, p_kind,
    md5(jsonb_build_array(p_kind, v_wallets, v_directions, v_amounts, v_legs)::text),
    v_principal, coalesce(v_currency, 'KES'), p_description, p_metadata);
  if not v_tx.replayed then
    perform hazina.apply_entries(v_tx.transaction_id, p_kind, p_description, coalesce(p_metadata, '{}'), p_ref,
                                 v_wallets, v_directions, v_amounts, v_legs);
  end if;
  return v_tx.transaction_id;
end
$$;

-- Full balance of a wallet: the row plus its pooled credit buckets.
create view public.wallet_balances with (security_invoker = true) as
select w.id as wallet_id, w.user_id, w.kind, w.system_code, w.currency, w.status,
       w.balance + coalesce(b.pooled, 0) as balance,
       w.held,
       w.balance + coalesce(b.pooled, 0) - w.held as available,
       w.created_at, w.updated_at
  from public.wallets w
  left join lateral (select sum(balance) as pooled from public.wallet_balance_buckets
                      where wallet_id = w.id) b on true;

-- Reconciliation and the trial balance live in the billing migration, which can check
-- billing rows too.


-- Row level security: owners read their own wallets and entries; nobody writes directly.
alter table public.currencies enable row level security;
alter table public.wallets enable row level security;
alter table public.wallet_balance_buckets enable row level security;
alter table public.wallet_transactions enable row level security;
alter table public.wallet_ledger enable row level security;
alter table public.wallet_holds enable row level security;

revoke all on table public.currencies, public.wallets, public.wallet_balance_buckets,
  public.wallet_transactions, public.wallet_ledger, public.wallet_holds, public.wallet_balances from public, anon, authenticated;
grant select on table public.currencies to anon, authenticated, service_role;
grant select on table public.wallets, public.wallet_balance_buckets, public.wallet_transactions,
  public.wallet_ledger, public.wallet_holds, public.wallet_balances to authenticated, service_role;

create policy "anyone reads currencies" on public.currencies
  for select to anon, authenticated using (true);
create policy "owner reads own wallets" on public.wallets
  for select to authenticated using (user_id = auth.uid());
create policy "owner reads own wallet buckets" on public.wallet_balance_buckets
  for select to authenticated
  using (exists (select 1 from public.wallets w where w.id = wallet_id and w.user_id = auth.uid()));
create policy "owner reads own ledger entries" on public.wallet_ledger
  for select to authenticated
  using (exists (select 1 from public.wallets w where w.id = wallet_id and w.user_id = auth.uid()));
create policy "owner reads own holds" on public.wallet_holds
  for select to authenticated
  using (exists (select 1 from public.wallets w where w.id = wallet_id and w.user_id = auth.uid()));
create policy "owner reads transactions touching own wallets" on public.wallet_transactions
  for select to authenticated
  using (exists (select 1 from public.wallet_ledger l join public.wallets w on w.id = l.wallet_id
                  -- the transaction's entries, by their refs (see hazina.transaction_entries)
                  where l.ref > wallet_transactions.id::text || '#' and l.ref < wallet_transactions.id::text || '$'
                    and w.user_id = auth.uid()));

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.system_wallet(text, text), hazina.ensure_system_wallets(text),
  hazina.post_transaction(text, text, jsonb, text, jsonb)
  to service_role;

-- migrate:down
drop view if exists public.wallet_balances;
drop function if exists hazina.post_transaction(text, text, jsonb, text, jsonb);
drop function if exists hazina.begin_transaction(text, text, text, numeric, text, text, jsonb, uuid);
drop function if exists hazina.apply_entries(uuid, text, text, jsonb, text, uuid[], text[], numeric[], text[]);
drop function if exists hazina.fold_buckets(uuid);
drop function if exists hazina.transaction_entries(uuid);
drop function if exists hazina.ensure_system_wallets(text);
drop function if exists hazina.system_wallet(text, text);
drop table if exists public.wallet_holds;
drop table if exists public.wallet_transactions;  -- first: its policy reads wallet_ledger
drop table if exists public.wallet_ledger;
drop function if exists hazina.assert_transaction_balanced();
drop table if exists public.wallet_balance_buckets;
drop table if exists public.wallets;
drop function if exists hazina.ledger_is_immutable();
drop table if exists public.currencies;
drop domain if exists public.entry_leg;
drop domain if exists public.bucket_index;
drop domain if exists public.description_text;
drop domain if exists public.transaction_kind;
drop domain if exists public.transaction_ref;
drop domain if exists public.non_negative_amount;
drop domain if exists public.positive_amount;
drop domain if exists public.entry_direction;
drop domain if exists public.credit_bucket_count;
drop domain if exists public.system_wallet_code;
drop domain if exists public.wallet_status;
drop domain if exists public.wallet_kind;
drop domain if exists public.currency_code;
