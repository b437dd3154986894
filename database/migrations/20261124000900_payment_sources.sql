-- migrate:up
-- Payment sources: the M-Pesa numbers and bank accounts a user tops up from and withdraws
-- to, the paybill (C2B) account references that route a paybill payment to a wallet, and
-- the provider helpers every money-movement capability shares. See docs/money-movement.md.
--
-- Ledger picture of money movement (all through hazina.post_transaction / holds):
--   top-up completed     debit <provider>_clearing, credit user wallet (+ funding fee, if any)
--   paybill (C2B)         same, or credit `suspense` when the account reference is unknown
--   withdrawal requested  hold on the user wallet for payouts_in_flight (amount + withdrawal fee)
--   withdrawal completed  hold posted (user → payouts_in_flight, fee → fee_revenue), then
--                         payouts_in_flight → <provider>_clearing (the money left our account)
--   withdrawal failed     hold voided (nothing moved)
--   withdrawal reversed   the posting is reversed (fee refunded) and the settlement undone
-- A clearing wallet mirrors the money held at the provider, so it runs negative by what users
-- funded through it, and rises again by what they withdrew.

-- The money providers Hazina talks to: one vocabulary for every table that names one
-- (sources, funding sessions, withdrawals, webhook events). A new provider is one
-- `alter domain` in its own migration, plus its clearing wallet and adapter.
create domain public.payment_provider as text check (value in ('mpesa', 'kcb', 'dtb'));

create table public.wallet_sources (
  id                   uuid primary key default gen_random_uuid(),
  user_id              uuid not null references public.auth_users (id),
  provider             public.payment_provider not null,
  -- M-Pesa sources are mobile money (an MSISDN); KCB and DTB sources are bank accounts.
  kind                 text not null generated always as
                         (case provider when 'mpesa' then 'mobile_money' else 'bank_account' end) stored,
  msisdn               text check (msisdn ~ '^254(7|1)[0-9]{8}$'),
  account_number       text check (account_number ~ '^[0-9]{6,20}$'),
  account_name         text check (length(account_name) between 1 and 200),
  label                text check (length(label) between 1 and 60),
  is_default           boolean not null default false,
  -- verified once money has come in from this source (a completed top-up): withdrawals
  -- only go to verified sources, so a stolen session cannot cash out to a new number.
  verification_status  text not null default 'unverified' check (verification_status in ('unverified', 'verified', 'failed')),
  verified_at          timestamptz,
  status               text not null default 'active' check (status in ('active', 'removed')),
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  constraint wallet_sources_identifier check (
    case provider when 'mpesa' then msisdn is not null and account_number is null
                  else account_number is not null and msisdn is null end),
  constraint wallet_sources_verified_at check ((verification_status = 'verified') = (verified_at is not null))
);
create unique index wallet_sources_one_per_identifier on public.wallet_sources
  (user_id, provider, coalesce(msisdn, account_number)) where status = 'active';
create unique index wallet_sources_one_default on public.wallet_sources (user_id)
  where is_default and status = 'active';
create index wallet_sources_user_idx on public.wallet_sources (user_id);

-- Paybill (C2B) account references: a customer pays our paybill with this as the
-- "account number", and the money lands in this wallet.
create table public.wallet_account_references (
  reference   text primary key check (reference ~ '^[0-9]{8}$'),
  wallet_id   uuid not null unique references public.wallets (id),
  created_at  timestamptz not null default now()
);

create trigger wallet_sources_audit after insert or update or delete on public.wallet_sources
  for each row execute function hazina.audit_row_change();

-- Whether a text is one of the payment_provider domain's values, for functions that take
-- a provider as text and answer provider_not_supported (the domain is the only list).
create function hazina.is_payment_provider(p_value text) returns boolean
  language plpgsql stable
  set search_path = ''
  as $$
begin
  return p_value is not null and p_value::public.payment_provider is not null;
exception when check_violation then
  return false;
end
$$;

create function hazina.provider_clearing_wallet(p_provider text, p_currency text) returns uuid
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_wallet uuid := hazina.system_wallet(p_provider || '_clearing', p_currency);
begin
  if v_wallet is null then
    perform hazina.raise_error('provider_not_supported', jsonb_build_object('provider', p_provider, 'currency', p_currency));
  end if;
  return v_wallet;
end
$$;

-- Provider limits on one amount. M-Pesa moves whole shillings only (KES 1–250,000 for STK
-- and paybill, KES 10–250,000 for B2C); banks move cents.
create function hazina.assert_provider_amount(p_provider text, p_direction text, p_amount numeric, p_currency text)
  returns void
  language plpgsql stable
  set search_path = ''
  as $$
begin
  perform hazina.assert_valid_amount(p_amount, p_currency);
  if p_provider = 'mpesa' then
    if p_currency <> 'KES' then
      perform hazina.raise_error('currency_not_supported', jsonb_build_object('provider', p_provider, 'currency', p_currency));
    end if;
    if p_amount <> trunc(p_amount) then
      perform hazina.raise_error('invalid_amount', jsonb_build_object(
        'reason', 'M-Pesa moves whole shillings', 'provider', p_provider, 'currency', p_currency, 'decimals', 0));
    end if;
    if p_amount < (case p_direction when 'out' then 10 else 1 end) or p_amount > 250000 then
      perform hazina.raise_error('amount_outside_provider_limits', jsonb_build_object(
        'provider', p_provider, 'currency', p_currency,
        'minimum', case p_direction when 'out' then '10' else '1' end, 'maximum', '250000'));
    end if;
  end if;
end
$$;

-- What every money movement between a user's wallet and one of their sources checks, in one
-- place and one order (funding_start, withdrawal_request): a usable client_ref, the source
-- (the user's own, active; verified too for money going out, so a stolen session cannot cash
-- out to a new number), the user's wallet in the currency (active), the provider's rules
-- for the amount, and the provider's clearing wallet (created on first use). Returns the
-- wallet's id.
create function hazina.source_movement_check(
  p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_direction text
) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_source public.wallet_sources;
  v_wallet record;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'client_ref must be 1 to 255 characters'));
  end if;
  select * into v_source from public.wallet_sources where id = p_source_id and user_id = p_user_id and status = 'active';
  if v_source.id is null then
    perform hazina.raise_error('source_not_found', jsonb_build_object('source_id', p_source_id));
  end if;
  if p_direction = 'out' and v_source.verification_status <> 'verified' then
    perform hazina.raise_error('source_not_verified', jsonb_build_object('source_id', p_source_id));
  end if;
  select id, status into v_wallet from public.wallets where user_id = p_user_id and currency = p_currency;
  if v_wallet.id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', p_currency));
  end if;
  if v_wallet.status <> 'active' then
    perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', v_wallet.id, 'status', v_wallet.status));
  end if;
  perform hazina.assert_provider_amount(v_source.provider, p_direction, p_amount, p_currency);
  perform hazina.provider_clearing_wallet(v_source.provider, p_currency);
  return v_wallet.id;
end
$$;

-- Money objects (sources, funding sessions, withdrawals, ...) have one API shape each,
-- built by one SQL function that takes the row: every SQL reply uses it (through the
-- id-taking hazina.*_json wrapper) and so does the edge, selecting it for the rows RLS lets
-- the caller read. It reads no table, so who may see an object is decided by whoever holds
-- the row (RLS), never by the shape. Times are ISO 8601 UTC with milliseconds, exactly as
-- JavaScript's Date#toISOString writes them, whichever side answers.
create function public.api_time(p_time timestamptz) returns text
  language sql stable parallel safe
  set search_path = ''
  as $$ select to_char(p_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- The API shape of a payment source.
create function public.wallet_source_json(s public.wallet_sources) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', s.id, 'provider', s.provider, 'kind', s.kind, 'msisdn', s.msisdn,
                            'account_number', s.account_number, 'account_name', s.account_name, 'label', s.label,
                            'is_default', s.is_default, 'verification_status', s.verification_status,
                            'status', s.status, 'created_at', public.api_time(s.created_at),
                            'updated_at', public.api_time(s.updated_at))
$$;

create function hazina.wallet_source_json(p_source_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.wallet_source_json(s) from public.wallet_sources s where s.id = p_source_id $$;

create function hazina.wallet_source_add(
  p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text,
  p_label text, p_is_default boolean default false
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_msisdn text;
  v_source_id uuid;
begin
  if not hazina.is_payment_provider(p_provider) then
    perform hazina.raise_error('provider_not_supported', jsonb_build_object('provider', p_provider));
  end if;
  -- Accept 07XXXXXXXX, 01XXXXXXXX, +2547..., 2547...; store 2547XXXXXXXX (Daraja's form).
  if p_provider = 'mpesa' then
    v_msisdn := regexp_replace(coalesce(p_msisdn, ''), '[\s-]', '', 'g');
    v_msisdn := regexp_replace(v_msisdn, '^(\+?254|0)', '254');
    if v_msisdn !~ '^254(7|1)[0-9]{8}$' or p_account_number is not null then
      perform hazina.raise_error('invalid_source', jsonb_build_object('reason', 'an M-Pesa source needs a Kenyan mobile number (07XXXXXXXX)'));
    end if;
  elsif p_account_number is null or p_account_number !~ '^[0-9]{6,20}$' or p_msisdn is not null then
    perform hazina.raise_error('invalid_source', jsonb_build_object('reason', 'a bank source needs an account number of 6 to 20 digits'));
  end if;
  select id into v_source_id from public.wallet_sources
   where user_id = p_user_id and provider = p_provider and status = 'active'
     and coalesce(msisdn, account_number) = coalesce(v_msisdn, p_account_number)
   for update;
  if v_source_id is not null then
    -- Adding a source twice returns it (updating only its label and default flag).
    if coalesce(p_is_default, false) then
      update public.wallet_sources set is_default = false, updated_at = now()
       where user_id = p_user_id and is_default and id <> v_source_id;
    end if;
    update public.wallet_sources
       set label = coalesce(p_label, label), account_name = coalesce(p_account_name, account_name),
           is_default = is_default or coalesce(p_is_default, false), updated_at = now()
     where id = v_source_id;
    return hazina.wallet_source_json(v_source_id) || jsonb_build_object('created', false);
  end if;
  if coalesce(p_is_default, false) then
    update public.wallet_sources set is_default = false, updated_at = now() where user_id = p_user_id and is_default;
  end if;
  insert into public.wallet_sources (user_id, provider, msisdn, account_number, account_name, label, is_default)
  values (p_user_id, p_provider, v_msisdn, p_account_number, p_account_name, p_label,
          coalesce(p_is_default, false)
            or not exists (select 1 from public.wallet_sources where user_id = p_user_id and status = 'active'))
  returning id into v_source_id;
  return hazina.wallet_source_json(v_source_id) || jsonb_build_object('created', true);
end
$$;

create function public.wallet_source_add(
  p_provider text, p_msisdn text default null, p_account_number text default null,
  p_account_name text default null, p_label text default null, p_is_default boolean default false
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.wallet_source_add(hazina.caller_id(), p_provider, p_msisdn, p_account_number, p_account_name, p_label, p_is_default);
end
$$;

create function public.wallet_source_remove(p_source_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.caller_id();  -- signed in, or unauthenticated
  update public.wallet_sources set status = 'removed', is_default = false, updated_at = now()
   where id = p_source_id and user_id = auth.uid() and status = 'active';
  if not found and not exists (select 1 from public.wallet_sources where id = p_source_id and user_id = auth.uid()) then
    perform hazina.raise_error('source_not_found', jsonb_build_object('source_id', p_source_id));
  end if;
  return hazina.wallet_source_json(p_source_id);
end
$$;

-- My paybill account reference for a wallet (created on first use).
create function public.wallet_paybill_reference(p_currency text default 'KES') returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_wallet_id uuid;
  v_reference text;
begin
  perform hazina.caller_id();  -- signed in, or unauthenticated
  if p_currency is distinct from 'KES' then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency, 'reason', 'paybill is KES only'));
  end if;
  select id into v_wallet_id from public.wallets where user_id = auth.uid() and currency = p_currency;
  if v_wallet_id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', p_currency));
  end if;
  select reference into v_reference from public.wallet_account_references where wallet_id = v_wallet_id;
  while v_reference is null loop
    insert into public.wallet_account_references (reference, wallet_id)
    values (lpad((floor(random() * 100000000))::bigint::text, 8, '0'), v_wallet_id)
    on conflict do nothing
    returning reference into v_reference;
    if v_reference is null then
      select reference into v_reference from public.wallet_account_references where wallet_id = v_wallet_id;
    end if;
  end loop;
  return jsonb_build_object('wallet_id', v_wallet_id, 'account_reference', v_reference, 'currency', p_currency);
end
$$;

-- Row level security: owners read their own sources and paybill references. Nobody writes
-- directly; the functions above do.
alter table public.wallet_sources enable row level security;
alter table public.wallet_account_references enable row level security;
revoke all on table public.wallet_sources, public.wallet_account_references from public, anon, authenticated;
grant select on table public.wallet_sources, public.wallet_account_references to authenticated, service_role;
create policy "owner reads own sources" on public.wallet_sources
  for select to authenticated using (user_id = auth.uid());
create policy "owner reads own paybill references" on public.wallet_account_references
  for select to authenticated
  using (exists (select 1 from public.wallets w where w.id = wallet_id and w.user_id = auth.uid()));

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.wallet_source_add(text, text, text, text, text, boolean),
  public.wallet_source_remove(uuid), public.wallet_paybill_reference(text) from public, anon;
grant execute on function public.wallet_source_add(text, text, text, text, text, boolean),
  public.wallet_source_remove(uuid), public.wallet_paybill_reference(text) to authenticated;
revoke execute on function public.api_time(timestamptz), public.wallet_source_json(public.wallet_sources)
  from public, anon;
grant execute on function public.api_time(timestamptz), public.wallet_source_json(public.wallet_sources)
  to authenticated, service_role;
grant execute on function hazina.provider_clearing_wallet(text, text), hazina.wallet_source_json(uuid),
  hazina.source_movement_check(uuid, uuid, numeric, text, text, text),
  hazina.wallet_source_add(uuid, text, text, text, text, text, boolean) to service_role;

-- migrate:down
drop function if exists public.wallet_paybill_reference(text);
drop function if exists public.wallet_source_remove(uuid);
drop function if exists public.wallet_source_add(text, text, text, text, text, boolean);
drop function if exists hazina.wallet_source_add(uuid, text, text, text, text, text, boolean);
drop function if exists hazina.wallet_source_json(uuid);
drop function if exists hazina.source_movement_check(uuid, uuid, numeric, text, text, text);
drop function if exists public.wallet_source_json(public.wallet_sources);
drop function if exists public.api_time(timestamptz);
drop function if exists hazina.assert_provider_amount(text, text, numeric, text);
drop function if exists hazina.provider_clearing_wallet(text, text);
drop function if exists hazina.is_payment_provider(text);
drop table if exists public.wallet_account_references;
drop table if exists public.wallet_sources;
drop domain if exists public.payment_provider;
