-- migrate:up
-- Fees: the catalog, per-merchant overrides, the fee calculation and the billing ledger.
--
-- Rounding rule (one place: hazina.fee_apply, used by fee_quote, transfer and the batch path): fee = fixed + amount × bps / 10 000,
-- rounded half away from zero (half-up for fees, which are never negative) to the
-- currency's minor units (KES: 2 decimals), then clamped to [minimum, maximum].
-- Precedence: an active merchant override → the active catalog entry → no fee.
-- The catalog and the overrides price the types of public.transaction_types (foreign keys:
-- both are written rarely, by operators, so the key check costs nothing that matters).

create table public.billing_fee_catalog (
  id                uuid primary key default gen_random_uuid(),
  transaction_type  text not null references public.transaction_types (code),
  currency          char(3) not null default 'KES' references public.currencies (code),
  percentage_bps    integer not null default 0 check (percentage_bps between 0 and 10000),
  fixed_amount      numeric(19, 4) not null default 0 check (fixed_amount >= 0),
  minimum_amount    numeric(19, 4) not null default 0 check (minimum_amount >= 0),
  maximum_amount    numeric(19, 4) check (maximum_amount >= minimum_amount),
  active_from       timestamptz not null default now(),
  active_to         timestamptz check (active_to > active_from),
  description       text,
  created_at        timestamptz not null default now(),
  -- At most one catalog entry per type and currency at any instant.
  constraint billing_fee_catalog_no_overlap exclude using gist (
    transaction_type with =, currency with =, tstzrange(active_from, active_to) with &&)
);

create table public.merchant_fee_profiles (
  id                uuid primary key default gen_random_uuid(),
  merchant_id       uuid not null references public.auth_users (id),
  transaction_type  text not null references public.transaction_types (code),
  currency          char(3) not null default 'KES' references public.currencies (code),
  waived            boolean not null default false,
  percentage_bps    integer not null default 0 check (percentage_bps between 0 and 10000),
  fixed_amount      numeric(19, 4) not null default 0 check (fixed_amount >= 0),
  minimum_amount    numeric(19, 4) not null default 0 check (minimum_amount >= 0),
  maximum_amount    numeric(19, 4) check (maximum_amount >= minimum_amount),
  active_from       timestamptz not null default now(),
  active_to         timestamptz check (active_to > active_from),
  note              text,
  created_at        timestamptz not null default now(),
  constraint merchant_fee_profiles_no_overlap exclude using gist (
    merchant_id with =, transaction_type with =, currency with =, tstzrange(active_from, active_to) with &&)
);

-- Like wallet_ledger, two indexes: `ref` ('<transaction id>#fee' for a charge,
-- '<transaction id>#refund-<n>' for a refund) is the primary key and, in the "C"
-- collation, finds a transaction's fee records (hazina.transaction_fees); payer_idx
-- serves a payer's own fee history.
-- (Domains, not table CHECKs, for the same reason as the ledger's: see its migration.)
create domain public.billing_direction as text check (value in ('charge', 'refund'));
create domain public.fee_rule_source as text check (value in ('catalog', 'merchant_profile', 'original'));

create table public.billing_ledger (
  ref               text collate "C" primary key,
  -- No FKs to the transaction or the wallet (see the wallet_ledger note): each would cost
  -- a lookup and a row lock per fee, and the payer is often a hot merchant wallet. Only
  -- the fee functions write this table, in the transaction that posted the money, headers
  -- and wallets are never deleted, and hazina.reconcile() reports any orphan.
  transaction_id    uuid not null,
  payer_wallet_id   uuid not null,
  -- No FK to auth_users either: it would KEY SHARE-lock the user row on every fee.
  payer_user_id     uuid,
  transaction_type  text not null,
  direction         public.billing_direction not null,
  amount            public.positive_amount not null,
  currency          public.currency_code not null,
  base_amount       public.non_negative_amount not null,
  rule_source       public.fee_rule_source not null,
  rule_id           uuid,
  refund_of         text collate "C" references public.billing_ledger (ref),
  created_at        timestamptz not null default now(),
  constraint billing_ledger_ref_names_transaction check (starts_with(ref, transaction_id::text || '#')),
  constraint billing_ledger_refund_links_original check ((direction = 'refund') = (refund_of is not null))
);
create index billing_ledger_payer_idx on public.billing_ledger (payer_user_id, created_at);
create index billing_ledger_refund_of_idx on public.billing_ledger (refund_of) where refund_of is not null;

-- A transaction's fee records, through the primary key (see hazina.transaction_entries).
create function hazina.transaction_fees(p_transaction_id uuid) returns setof public.billing_ledger
  language sql stable
  as $$
  select * from public.billing_ledger
   where ref > p_transaction_id::text || '#' and ref < p_transaction_id::text || '$'
$$;

create trigger billing_ledger_immutable before update or delete on public.billing_ledger
  for each row execute function hazina.ledger_is_immutable();
create trigger billing_fee_catalog_audit after insert or update or delete on public.billing_fee_catalog
  for each row execute function hazina.audit_row_change();
create trigger merchant_fee_profiles_audit after insert or update or delete on public.merchant_fee_profiles
  for each row execute function hazina.audit_row_change();

-- The rule that prices a transaction: an active merchant override first, else the active
-- catalog entry; no row when neither exists. (Plain SQL without SET clauses, so the
-- planner inlines it into batch queries; it runs with its caller's rights.)
create function hazina.fee_rule(p_transaction_type text, p_currency text, p_payer_user_id uuid)
  returns table (source text, rule_id uuid, waived boolean, percentage_bps integer,
                 fixed_amount numeric, minimum_amount numeric, maximum_amount numeric)
  language sql stable
  as $$
  select c.source, c.id, c.waived, c.percentage_bps, c.fixed_amount, c.minimum_amount, c.maximum_amount
    from (
      select 1 as precedence, 'merchant_profile' as source, p.id, p.waived, p.percentage_bps,
             p.fixed_amount, p.minimum_amount, p.maximum_amount
        from public.merchant_fee_profiles p
       where p_payer_user_id is not null and p.merchant_id = p_payer_user_id
         and p.transaction_type = p_transaction_type and p.currency = p_currency
         and p.active_from <= now() and (p.active_to is null or p.active_to > now())
      union all
      select 2, 'catalog', k.id, false, k.percentage_bps, k.fixed_amount, k.minimum_amount, k.maximum_amount
        from public.billing_fee_catalog k
       where k.transaction_type = p_transaction_type and k.currency = p_currency
         and k.active_from <= now() and (k.active_to is null or k.active_to > now())
    ) c
   order by c.precedence
   limit 1
$$;

-- The fee a rule charges on an amount: THE rounding rule (see the top of this file).
-- A missing rule (null bps) or a waiver charges nothing.
create function hazina.fee_apply(p_amount numeric, p_percentage_bps integer, p_fixed_amount numeric,
                                 p_minimum_amount numeric, p_maximum_amount numeric, p_waived boolean,
                                 p_minor_units smallint) returns numeric
  language sql immutable
  as $$
  select case
           when p_percentage_bps is null or p_waived then 0
           else least(greatest(round(p_fixed_amount + p_amount * p_percentage_bps / 10000, p_minor_units),
                               p_minimum_amount),
                      coalesce(p_maximum_amount, 'infinity'::numeric))
         end
$$;

create function hazina.fee_quote(
  p_transaction_type text,
  p_amount numeric,
  p_currency text,
  p_payer_user_id uuid default null,
  out fee numeric,
  out rule_source text,
  out rule_id uuid
)
  language plpgsql stable
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_rule record;
begin
  -- One query: the currency's minor units and the winning rule.
  select c.minor_units, r.*
    into v_rule
    from public.currencies c
    left join lateral hazina.fee_rule(p_transaction_type, p_currency, p_payer_user_id) r on true
   where c.code = p_currency;
  if v_rule.minor_units is null then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency));
  end if;
  fee := hazina.fee_apply(p_amount, v_rule.percentage_bps, v_rule.fixed_amount, v_rule.minimum_amount,
                          v_rule.maximum_amount, v_rule.waived, v_rule.minor_units);
  rule_source := coalesce(v_rule.source, 'none');
  rule_id := v_rule.rule_id;
end
$$;

-- Clients may preview the fee they would pay (their own merchant overrides apply).
create function public.quote_fee(p_transaction_type text, p_amount numeric, p_currency text default 'KES')
  returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_quote record;
begin
  -- The bounds every posting enforces; `>= 1e15` also refuses NaN and Infinity, which
  -- NUMERIC accepts and which would otherwise be quoted the maximum fee.
  if p_amount is null or p_amount <= 0 or p_amount >= 1e15 or p_amount <> round(p_amount, 4) then
    perform hazina.raise_error('invalid_amount');
  end if;
  select * into v_quote from hazina.fee_quote(p_transaction_type, p_amount, p_currency, auth.uid());
  return jsonb_build_object('transaction_type', p_transaction_type, 'amount', p_amount::text,
                            'fee', v_quote.fee::text, 'currency', p_currency, 'rule_source', v_quote.rule_source);
end
$$;

-- Reconciliation: every row returned is a discrepancy; an empty result means the books
-- are right. Checks: wallet balance = sum of its entries; each transaction balances per
-- currency; held = open holds (when holds exist); entry currency = wallet currency;
-- no user/merchant wallet below zero; every transaction type is known.
create function hazina.reconcile()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select 'wallet_balance_matches_entries', b.wallet_id::text,
         coalesce(e.net, 0), b.balance
    from public.wallet_balances b
    left join (select wallet_id,
                      sum(case direction when 'credit' then amount else -amount end) as net
                 from public.wallet_ledger group by wallet_id) e on e.wallet_id = b.wallet_id
   where b.balance <> coalesce(e.net, 0)
  union all
  select 'transaction_balances', l.transaction_id::text || ':' || l.currency,
         0, sum(case direction when 'credit' then amount else -amount end)
    from public.wallet_ledger l
   group by l.transaction_id, l.currency
  having sum(case direction when 'credit' then amount else -amount end) <> 0
  union all
  select 'transaction_has_entries', t.id::text, 2, count(l.id)
    from public.wallet_transactions t left join public.wallet_ledger l on l.transaction_id = t.id
   group by t.id having count(l.id) < 2
  union all
  select 'entry_has_wallet_of_its_currency', l.id::text, null, null
    from public.wallet_ledger l left join public.wallets w on w.id = l.wallet_id
   where w.id is null or l.currency <> w.currency
  union all
  select 'entry_has_transaction', l.id::text, null, null
    from public.wallet_ledger l left join public.wallet_transactions t on t.id = l.transaction_id
   where t.id is null
  union all
  select 'user_wallet_not_negative', b.wallet_id::text, 0, b.available
    from public.wallet_balances b
   where b.kind <> 'system' and (b.balance < 0 or b.available < 0)
  union all
  -- balance_after is the running balance (plain wallets; pooled credits carry none).
  select 'balance_after_is_running_balance', r.id::text, r.running, r.balance_after
    from (select l.id, l.balance_after,
                 sum(case l.direction when 'credit' then l.amount else -l.amount end)
                   over (partition by l.wallet_id order by l.id) as running
            from public.wallet_ledger l join public.wallets w on w.id = l.wallet_id
           where w.credit_buckets = 1) r
   where r.balance_after is distinct from r.running
  union all
  -- Every fee record belongs to a posted transaction and a wallet.
  select 'billing_row_has_transaction_and_wallet', b.ref, null, null
    from public.billing_ledger b
    left join public.wallet_transactions t on t.id = b.transaction_id
    left join public.wallets w on w.id = b.payer_wallet_id
   where t.id is null or w.id is null
  union all
  -- Fees are posted exactly as billed: per transaction, what its fee legs moved into fee
  -- revenue equals its billing charges minus refunds.
  select 'fee_entries_match_billing', t.id::text, coalesce(b.net, 0), coalesce(f.net, 0)
    from public.wallet_transactions t
    left join (select transaction_id, sum(case direction when 'charge' then amount else -amount end) as net
                 from public.billing_ledger group by transaction_id) b on b.transaction_id = t.id
    left join (select l.transaction_id, sum(case l.direction when 'credit' then l.amount else -l.amount end) as net
                 from public.wallet_ledger l join public.wallets w on w.id = l.wallet_id
                where l.leg = 'fee' and w.system_code = 'fee_revenue'
                group by l.transaction_id) f on f.transaction_id = t.id
   where coalesce(b.net, 0) <> coalesce(f.net, 0)
  union all
  select 'held_matches_pending_holds', w.id::text, coalesce(h.pending, 0), w.held
    from public.wallets w
    left join (select wallet_id, sum(amount + fee_amount) as pending from public.wallet_holds
                where status = 'pending' group by wallet_id) h on h.wallet_id = w.id
   where w.held <> coalesce(h.pending, 0)
  union all
  -- Every type posted, held or billed is a known transaction type: the ledger carries no
  -- foreign key to transaction_types (see its migration), so this is where a stray one shows.
  select 'transaction_type_known', x.subject, null, null
    from (select 'transaction ' || t.id::text || ': ' || t.kind as subject, t.kind::text as code
            from public.wallet_transactions t
          union all
          select 'hold ' || h.id::text || ': ' || h.transaction_type, h.transaction_type from public.wallet_holds h
          union all
          select 'billing ' || b.ref || ': ' || b.transaction_type, b.transaction_type from public.billing_ledger b) x
   where not exists (select 1 from public.transaction_types k where k.code = x.code)
$$;

-- Trial balance: per currency, all wallets sum to zero (money in = money out).
create function hazina.trial_balance()
  returns table (currency text, total numeric, wallets bigint)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select currency::text, sum(balance), count(*) from public.wallet_balances group by currency order by currency
$$;

alter table public.billing_fee_catalog enable row level security;
alter table public.merchant_fee_profiles enable row level security;
alter table public.billing_ledger enable row level security;
revoke all on table public.billing_fee_catalog, public.merchant_fee_profiles, public.billing_ledger
  from public, anon, authenticated;
grant select on table public.billing_fee_catalog to anon, authenticated;
grant select on table public.merchant_fee_profiles, public.billing_ledger to authenticated;
grant select, insert, update on table public.billing_fee_catalog, public.merchant_fee_profiles to service_role;
grant select on table public.billing_ledger to service_role;

create policy "anyone reads the fee catalog" on public.billing_fee_catalog
  for select to anon, authenticated using (true);
create policy "merchant reads own fee profiles" on public.merchant_fee_profiles
  for select to authenticated using (merchant_id = auth.uid());
create policy "payer reads own fee charges" on public.billing_ledger
  for select to authenticated using (payer_user_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.quote_fee(text, numeric, text) from public, anon;
grant execute on function public.quote_fee(text, numeric, text) to authenticated, service_role;
grant execute on function hazina.reconcile(), hazina.trial_balance() to service_role;
grant execute on function hazina.fee_quote(text, numeric, text, uuid), hazina.fee_rule(text, text, uuid),
  hazina.fee_apply(numeric, integer, numeric, numeric, numeric, boolean, smallint) to service_role;

-- migrate:down
drop function if exists hazina.trial_balance();
drop function if exists hazina.reconcile();
drop function if exists public.quote_fee(text, numeric, text);
drop function if exists hazina.fee_quote(text, numeric, text, uuid);
drop function if exists hazina.fee_apply(numeric, integer, numeric, numeric, numeric, boolean, smallint);
drop function if exists hazina.fee_rule(text, text, uuid);
drop function if exists hazina.transaction_fees(uuid);
drop table if exists public.billing_ledger;
drop domain if exists public.fee_rule_source;
drop domain if exists public.billing_direction;
drop table if exists public.merchant_fee_profiles;
drop table if exists public.billing_fee_catalog;
