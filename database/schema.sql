-- Roles PostgREST/Supabase use (cluster-wide, so pg_dump leaves them out).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
  -- The edge's login role (as in *_authenticator.sql).
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
  END IF;
  IF NOT pg_has_role('authenticator', 'anon', 'member') OR NOT pg_has_role('authenticator', 'authenticated', 'member')
     OR NOT pg_has_role('authenticator', 'service_role', 'member') THEN
    GRANT anon, authenticated, service_role TO authenticator;
  END IF;
END
$$;

--
-- PostgreSQL database dump
--

\restrict cyiJzqUKmnWgefSJW762YyGhBGgDx6SRRRkVUEoDHrBHX1kxrkgUSPyv1b6RjqN


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: auth; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA auth;


--
-- Name: dbmate; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA dbmate;


--
-- Name: extensions; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA extensions;


--
-- Name: hazina; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA hazina;


--
-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA extensions;


--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;


--
-- Name: auth_sign_in; Type: TYPE; Schema: hazina; Owner: -
--

CREATE TYPE hazina.auth_sign_in AS (
	outcome text,
	user_id uuid,
	email text,
	role text,
	session_id uuid,
	refresh_expires_at timestamp with time zone
);


--
-- Name: billing_direction; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.billing_direction AS text
	CONSTRAINT billing_direction_check CHECK ((VALUE = ANY (ARRAY['charge'::text, 'refund'::text])));


--
-- Name: bucket_index; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.bucket_index AS smallint
	CONSTRAINT bucket_index_check CHECK ((VALUE >= 0));


--
-- Name: credit_bucket_count; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.credit_bucket_count AS smallint
	CONSTRAINT credit_bucket_count_check CHECK (((VALUE >= 1) AND (VALUE <= 64)));


--
-- Name: currency_code; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.currency_code AS character(3)
	CONSTRAINT currency_code_check CHECK ((VALUE ~ '^[A-Z]{3}$'::text));


--
-- Name: description_text; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.description_text AS text
	CONSTRAINT description_text_check CHECK ((length(VALUE) <= 500));


--
-- Name: entry_direction; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.entry_direction AS text
	CONSTRAINT entry_direction_check CHECK ((VALUE = ANY (ARRAY['debit'::text, 'credit'::text])));


--
-- Name: entry_leg; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.entry_leg AS text
	CONSTRAINT entry_leg_check CHECK ((VALUE = ANY (ARRAY['principal'::text, 'fee'::text])));


--
-- Name: fee_rule_source; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.fee_rule_source AS text
	CONSTRAINT fee_rule_source_check CHECK ((VALUE = ANY (ARRAY['catalog'::text, 'merchant_profile'::text, 'original'::text])));


--
-- Name: non_negative_amount; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.non_negative_amount AS numeric(19,4)
	CONSTRAINT non_negative_amount_check CHECK ((VALUE >= (0)::numeric));


--
-- Name: payment_provider; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.payment_provider AS text
	CONSTRAINT payment_provider_check CHECK ((VALUE = ANY (ARRAY['mpesa'::text, 'kcb'::text, 'dtb'::text])));


--
-- Name: positive_amount; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.positive_amount AS numeric(19,4)
	CONSTRAINT positive_amount_check CHECK ((VALUE > (0)::numeric));


--
-- Name: system_wallet_code; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.system_wallet_code AS text
	CONSTRAINT system_wallet_code_check CHECK ((VALUE = ANY (ARRAY['mpesa_clearing'::text, 'kcb_clearing'::text, 'dtb_clearing'::text, 'payouts_in_flight'::text, 'fee_revenue'::text, 'escrow'::text, 'suspense'::text])));


--
-- Name: transaction_kind; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.transaction_kind AS text
	CONSTRAINT transaction_kind_check CHECK ((VALUE ~ '^[a-z][a-z0-9_]{1,40}$'::text));


--
-- Name: transaction_ref; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.transaction_ref AS text
	CONSTRAINT transaction_ref_check CHECK (((length(VALUE) >= 1) AND (length(VALUE) <= 255)));


--
-- Name: wallet_kind; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.wallet_kind AS text
	CONSTRAINT wallet_kind_check CHECK ((VALUE = ANY (ARRAY['user'::text, 'merchant'::text, 'system'::text])));


--
-- Name: wallet_status; Type: DOMAIN; Schema: public; Owner: -
--

CREATE DOMAIN public.wallet_status AS text
	CONSTRAINT wallet_status_check CHECK ((VALUE = ANY (ARRAY['active'::text, 'frozen'::text, 'closed'::text])));


--
-- Name: jwt(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $$;


--
-- Name: role(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $$;


--
-- Name: uid(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $$;


--
-- Name: api_key_create(uuid, text, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.api_key_create(p_user_id uuid, p_name text, p_mode text, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.api_keys;
  v_secret text;
  v_id uuid := gen_random_uuid();
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  if not exists (select 1 from public.auth_users where id = p_user_id and role = 'merchant') then
    perform hazina.raise_error('api_keys_merchants_only');
  end if;
  select * into v_existing from public.api_keys where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.name <> p_name or v_existing.mode <> p_mode then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.api_key_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if p_name is null or length(p_name) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 100 characters'));
  end if;
  if p_mode is null or p_mode not in ('test', 'live') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'mode', 'reason', 'test or live'));
  end if;
  v_secret := 'hz_' || p_mode || '_' || encode(extensions.gen_random_bytes(32), 'hex');
  insert into public.api_keys (id, user_id, name, mode, prefix, key_hash, client_ref)
  values (v_id, p_user_id, p_name, p_mode, left(v_secret, length('hz_' || p_mode || '_') + 8),
          encode(sha256(convert_to(v_secret, 'UTF8')), 'hex'), p_client_ref)
  on conflict (user_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate api key; retry';
  end if;
  return hazina.api_key_json(v_id) || jsonb_build_object('created', true, 'secret', v_secret);
end
$$;


--
-- Name: api_key_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.api_key_json(p_key_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.api_key_json(k) from public.api_keys k where k.id = p_key_id $$;


--
-- Name: api_key_resolve(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.api_key_resolve(p_secret text) RETURNS TABLE(api_key_id uuid, user_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_key public.api_keys;
begin
  if p_secret is null or p_secret !~ '^hz_(test|live)_[0-9a-f]{64}$' then
    return;
  end if;
  select k.* into v_key from public.api_keys k
    join public.auth_users u on u.id = k.user_id and u.role = 'merchant'
   where k.key_hash = encode(sha256(convert_to(p_secret, 'UTF8')), 'hex') and k.revoked_at is null;
  if v_key.id is null then
    return;
  end if;
  update public.api_keys set last_used_at = now()
   where id = v_key.id and (last_used_at is null or last_used_at < now() - interval '1 minute');
  return query select v_key.id, v_key.user_id;
end
$_$;


--
-- Name: api_key_revoke(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.api_key_revoke(p_key_id uuid, p_user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  update public.api_keys set revoked_at = coalesce(revoked_at, now()), updated_at = now()
   where id = p_key_id and user_id = p_user_id;
  if not found then
    perform hazina.raise_error('api_key_not_found', jsonb_build_object('api_key_id', p_key_id));
  end if;
  return hazina.api_key_json(p_key_id);
end
$$;


--
-- Name: applied_schema_version(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.applied_schema_version() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$ select max(version)::text from dbmate.schema_migrations $$;


--
-- Name: apply_entries(uuid, text, text, jsonb, text, uuid[], text[], numeric[], text[]); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.apply_entries(p_transaction_id uuid, p_kind text, p_description text, p_metadata jsonb, p_ref text, p_wallets uuid[], p_directions text[], p_amounts numeric[], p_legs text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: assert_admin(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.assert_admin() RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.caller_id();
  if not public.is_admin() then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'admins only'));
  end if;
end
$$;


--
-- Name: assert_provider_amount(text, text, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.assert_provider_amount(p_provider text, p_direction text, p_amount numeric, p_currency text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
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


--
-- Name: assert_transaction_balanced(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.assert_transaction_balanced() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: assert_valid_amount(numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.assert_valid_amount(p_amount numeric, p_currency text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_minor_units smallint;
begin
  select minor_units into v_minor_units from public.currencies where code = p_currency;
  if p_amount is null or p_amount <= 0 or p_amount >= 1e15 or p_amount <> round(p_amount, coalesce(v_minor_units, 4)) then
    perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', p_currency, 'decimals', v_minor_units));
  end if;
end
$$;


--
-- Name: audit_logs_are_append_only(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.audit_logs_are_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception using errcode = 'P0001', message = 'audit_log_append_only',
    detail = jsonb_build_object('operation', tg_op)::text;
end
$$;


--
-- Name: audit_row_change(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.audit_row_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - coalesce(tg_argv, '{}') end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - coalesce(tg_argv, '{}') end;
begin
  insert into public.audit_logs (actor_id, actor_role, action, table_name, row_id,
                                 old_values, new_values, request_id)
  values (auth.uid(), coalesce(auth.role(), current_user), tg_op, tg_table_name,
          coalesce(v_new ->> 'id', v_old ->> 'id'), v_old, v_new, hazina.request_id());
  return null;
end
$$;


--
-- Name: auth_check_password_hash(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.auth_check_password_hash(p_hash text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
begin
  -- Catches the one bug that must never ship: a plaintext password reaching the table.
  if p_hash is null or p_hash !~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'password_hash', 'expected', 'argon2id PHC string'));
  end if;
end
$_$;


--
-- Name: auth_check_token_hash(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.auth_check_token_hash(p_hash text, p_field text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
begin
  if p_hash is null or p_hash !~ '^[0-9a-f]{64}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', p_field, 'expected', 'sha-256 hex'));
  end if;
end
$_$;


--
-- Name: auth_purge_expired(interval); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.auth_purge_expired(p_keep interval DEFAULT '30 days'::interval) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_sessions integer;
  v_tokens integer;
begin
  delete from public.auth_verification_token
   where coalesce(consumed_at, expires_at) < now() - p_keep;
  get diagnostics v_tokens = row_count;
  -- Whole families only, so reuse detection never loses the rows it needs.
  delete from public.auth_sessions s
   where s.family_id in (select f.family_id from public.auth_sessions f
                          group by f.family_id
                         having max(coalesce(f.revoked_at, f.expires_at)) < now() - p_keep
                            and bool_and(f.revoked_at is not null or f.expires_at < now()));
  get diagnostics v_sessions = row_count;
  return v_sessions + v_tokens;
end
$$;


--
-- Name: auth_user_suspended(text, timestamp with time zone); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.auth_user_suspended(p_status text, p_locked_until timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$ select p_status = 'disabled' or (p_status = 'locked' and p_locked_until is null) $$;


--
-- Name: begin_transaction(text, text, text, numeric, text, text, jsonb, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.begin_transaction(p_ref text, p_kind text, p_request_hash text, p_principal numeric, p_currency text, p_description text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb, p_reverses_id uuid DEFAULT NULL::uuid, OUT transaction_id uuid, OUT replayed boolean) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: caller_id(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.caller_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_refusal jsonb := hazina.caller_refusal();
begin
  if v_refusal is not null then
    raise exception using errcode = 'P0001', message = v_refusal ->> 'code',
      detail = (v_refusal - 'code')::text;
  end if;
  return auth.uid();
end
$$;


--
-- Name: caller_refusal(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.caller_refusal() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_uid uuid := auth.uid();
  v_session text := auth.jwt() ->> 'session_id';
  v_user public.auth_users;
begin
  if v_uid is null then
    return jsonb_build_object('code', 'unauthenticated');
  end if;
  if v_session ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and hazina.session_revoked(v_session::uuid) then
    return jsonb_build_object('code', 'unauthenticated', 'reason', 'session_revoked');
  end if;
  select * into v_user from public.auth_users where id = v_uid;
  if not found then
    return jsonb_build_object('code', 'unauthenticated', 'reason', 'user_not_found');
  end if;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    return jsonb_build_object('code', 'account_disabled', 'reason', 'user_' || v_user.status);
  end if;
  return null;
end
$_$;


--
-- Name: checkout_lock(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.checkout_lock(p_provider text, p_checkout_id text) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$ select pg_advisory_xact_lock(hashtextextended('hazina.funding_checkout:' || coalesce(p_provider, '') || ':' || p_checkout_id, 0)) $$;


--
-- Name: clock(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.clock() RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select now() + coalesce((select "offset" from hazina.clock_offset), interval '0')
$$;


--
-- Name: clock_travel(interval, boolean); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.clock_travel(p_by interval, p_reset boolean DEFAULT false) RETURNS timestamp with time zone
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  update hazina.clock_offset
     set "offset" = case when p_reset then interval '0' else "offset" + p_by end, updated_at = now();
  return hazina.clock();
end
$$;


--
-- Name: email_verify_confirm(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.email_verify_confirm(p_token_hash text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_user_id uuid := hazina.verification_token_consume(p_token_hash, 'email_verification');
begin
  update public.auth_users
     set email_verified_at = now(), updated_at = now()
   where id = v_user_id and email_verified_at is null;
  return v_user_id;
end
$$;


--
-- Name: ensure_system_wallets(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.ensure_system_wallets(p_currency text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: escrow_event(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.escrow_event(p_escrow_id uuid, p_type text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select hazina.event_emit(e.merchant_id, p_type, 'goods_escrow', e.id, public.goods_escrow_json(e))
    from public.goods_escrows e where e.id = p_escrow_id
$$;


--
-- Name: escrow_pay_merchant(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.escrow_pay_merchant(p_escrow_id uuid, p_status text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_escrow public.goods_escrows;
  v_held numeric;
  v_wallet uuid;
  v_result jsonb;
begin
  select * into v_escrow from public.goods_escrows where id = p_escrow_id for update;
  v_held := v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount;
  select id into v_wallet from public.wallets
   where user_id = v_escrow.merchant_id and currency = v_escrow.currency and kind = 'merchant';
  if v_wallet is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_escrow.currency));
  end if;
  v_result := hazina.transfer('escrow:' || v_escrow.id || ':release', v_escrow.wallet_id, v_wallet, v_held, 'escrow_release',
                              'Escrow release for order ' || v_escrow.order_id,
                              jsonb_build_object('goods_escrow_id', v_escrow.id, 'order_id', v_escrow.order_id));
  update public.goods_escrows
     set status = p_status, released_amount = released_amount + v_held, released_at = now(),
         release_transaction_id = (v_result ->> 'transaction_id')::uuid, auto_release_at = null, updated_at = now()
   where id = v_escrow.id;
  update public.orders
     set status = 'completed', completed_at = now(), delivered_at = coalesce(delivered_at, now()), updated_at = now()
   where id = v_escrow.order_id;
  perform hazina.escrow_event(v_escrow.id, 'escrow.' || p_status);
  perform hazina.order_event(v_escrow.order_id, 'order.completed');
end
$$;


--
-- Name: escrow_resolve(uuid, uuid, text, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.escrow_resolve(p_escrow_id uuid, p_admin_id uuid, p_outcome text, p_buyer_amount numeric, p_note text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order_id uuid := (select order_id from public.goods_escrows where id = p_escrow_id);
  v_escrow public.goods_escrows;
  v_held numeric;
begin
  if v_order_id is null then
    perform hazina.raise_error('escrow_not_found', jsonb_build_object('goods_escrow_id', p_escrow_id));
  end if;
  if p_outcome is null or p_outcome not in ('release', 'refund', 'split') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'outcome', 'reason', 'release, refund or split'));
  end if;
  if (p_outcome = 'split') <> (p_buyer_amount is not null) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'buyer_amount', 'reason', 'required for a split, and only for a split'));
  end if;
  if length(p_note) > 1000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'note', 'reason', 'at most 1000 characters'));
  end if;
  perform hazina.order_lock_intent(v_order_id);
  perform hazina.order_lock(v_order_id, null, null);
  select * into v_escrow from public.goods_escrows where id = p_escrow_id for update;
  if v_escrow.status <> 'disputed' then
    perform hazina.raise_error('escrow_not_disputed', jsonb_build_object('goods_escrow_id', p_escrow_id, 'status', v_escrow.status));
  end if;
  v_held := v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount;
  if p_outcome = 'split' then
    perform hazina.assert_valid_amount(p_buyer_amount, v_escrow.currency);
    if p_buyer_amount >= v_held then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'buyer_amount',
        'reason', 'less than the amount held (' || v_held::numeric(19, 4)::text || '); refund it all instead'));
    end if;
  end if;
  update public.goods_escrows
     set resolution = p_outcome, resolution_note = p_note, resolved_by = p_admin_id, resolved_at = now(), updated_at = now()
   where id = p_escrow_id;
  if p_outcome in ('refund', 'split') then
    perform hazina.order_apply_refund(v_order_id, case when p_outcome = 'refund' then v_held else p_buyer_amount end,
                                      'Dispute resolution', 'escrow:' || p_escrow_id || ':refund');
  end if;
  if p_outcome in ('release', 'split') then
    perform hazina.escrow_pay_merchant(p_escrow_id, case when p_outcome = 'release' then 'released' else 'split' end);
  end if;
  perform hazina.escrow_event(p_escrow_id, 'escrow.resolved');
  return (select public.goods_escrow_json(e) from public.goods_escrows e where e.id = p_escrow_id);
end
$$;


--
-- Name: event_emit(uuid, text, text, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.event_emit(p_merchant_id uuid, p_type text, p_object_type text, p_object_id uuid, p_data jsonb) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  insert into public.events (merchant_id, type, object_type, object_id, data)
  values (p_merchant_id, p_type, p_object_type, p_object_id, p_data)
  returning id
$$;


--
-- Name: event_redeliver(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.event_redeliver(p_event_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_event public.events;
  v_now timestamptz := hazina.clock();
begin
  select * into v_event from public.events where id = p_event_id and merchant_id = p_merchant_id;
  if v_event.id is null then
    perform hazina.raise_error('event_not_found', jsonb_build_object('event_id', p_event_id));
  end if;
  insert into public.webhook_deliveries (event_id, endpoint_id, merchant_id, next_attempt_at)
  select v_event.id, e.id, v_event.merchant_id, v_now
    from public.webhook_endpoints e
   where e.merchant_id = v_event.merchant_id and e.status = 'active' and hazina.webhook_event_matches(e.events, v_event.type)
  on conflict (event_id, endpoint_id) do nothing;
  update public.webhook_deliveries d
     set status = 'pending', attempt_count = 0, next_attempt_at = v_now, succeeded_at = null, failed_at = null,
         redelivery_count = d.redelivery_count + 1, updated_at = now()
    from public.webhook_endpoints e
   where d.event_id = v_event.id and e.id = d.endpoint_id and e.status = 'active'
     and hazina.webhook_event_matches(e.events, v_event.type)
     and (d.status in ('succeeded', 'failed') or (d.status = 'pending' and d.next_attempt_at > v_now));
  return jsonb_build_object('object', 'event_redelivery', 'event_id', v_event.id,
    'deliveries', coalesce((select jsonb_agg(public.webhook_delivery_json(d) order by d.created_at, d.id)
                              from public.webhook_deliveries d
                              join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
                             where d.event_id = v_event.id), '[]'::jsonb));
end
$$;


--
-- Name: expire_holds(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.expire_holds(p_limit integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_hold public.wallet_holds;
  v_count integer := 0;
begin
  for v_hold in
    select * from public.wallet_holds
     where status = 'pending' and expires_at <= now()
     order by expires_at limit p_limit
       for update skip locked
  loop
    perform hazina.hold_release(v_hold, 'expired');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;


--
-- Name: expire_payment_intents(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.expire_payment_intents(p_limit integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_id uuid;
  v_count integer := 0;
begin
  for v_id in
    select id from public.payment_intents
     where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= hazina.clock()
     order by expires_at limit p_limit
       for update skip locked
  loop
    perform hazina.payment_intent_cancel(v_id, null, 'expired');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;


--
-- Name: fee_apply(numeric, integer, numeric, numeric, numeric, boolean, smallint); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.fee_apply(p_amount numeric, p_percentage_bps integer, p_fixed_amount numeric, p_minimum_amount numeric, p_maximum_amount numeric, p_waived boolean, p_minor_units smallint) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    AS $$
  select case
           when p_percentage_bps is null or p_waived then 0
           else least(greatest(round(p_fixed_amount + p_amount * p_percentage_bps / 10000, p_minor_units),
                               p_minimum_amount),
                      coalesce(p_maximum_amount, 'infinity'::numeric))
         end
$$;


--
-- Name: fee_payer(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.fee_payer(p_transaction_type text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: fee_quote(text, numeric, text, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.fee_quote(p_transaction_type text, p_amount numeric, p_currency text, p_payer_user_id uuid DEFAULT NULL::uuid, OUT fee numeric, OUT rule_source text, OUT rule_id uuid) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: fee_rule(text, text, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.fee_rule(p_transaction_type text, p_currency text, p_payer_user_id uuid) RETURNS TABLE(source text, rule_id uuid, waived boolean, percentage_bps integer, fixed_amount numeric, minimum_amount numeric, maximum_amount numeric)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: fold_buckets(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.fold_buckets(p_wallet_id uuid) RETURNS numeric
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
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


--
-- Name: funding_complete(uuid, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_session public.wallet_funding_sessions;
  v_post record;
begin
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.status = 'completed' then
    if p_receipt is null or v_session.provider_receipt is null or v_session.provider_receipt = p_receipt then
      return hazina.funding_session_json(p_session_id) || jsonb_build_object('replayed', true);
    end if;
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  if v_session.status not in ('pending', 'expired') then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  if p_amount is not null and p_amount <> v_session.amount then
    perform hazina.raise_error('funding_amount_mismatch', jsonb_build_object(
      'funding_session_id', p_session_id, 'expected', v_session.amount::text, 'received', p_amount::text));
  end if;
  if v_session.payment_intent_id is not null then
    select * into v_post from hazina.payment_intent_mpesa_post(v_session, p_receipt);
  else
    select * into v_post from hazina.funding_post('funding:' || v_session.id, v_session.provider, v_session.wallet_id,
      v_session.amount, 'Top-up via ' || v_session.provider,
      jsonb_build_object('funding_session_id', v_session.id, 'provider_receipt', p_receipt));
  end if;
  update public.wallet_funding_sessions
     set status = 'completed', transaction_id = v_post.transaction_id, fee = v_post.fee,
         provider_receipt = coalesce(p_receipt, provider_receipt),
         payer_msisdn = coalesce(p_payer_msisdn, payer_msisdn),
         failure_code = null, failure_reason = null, completed_at = now(), updated_at = now()
   where id = p_session_id;
  -- Money came in from this source, so it is the user's: withdrawals may go back to it.
  update public.wallet_sources set verification_status = 'verified', verified_at = now(), updated_at = now()
   where id = v_session.source_id and verification_status <> 'verified';
  return hazina.funding_session_json(p_session_id) || jsonb_build_object('replayed', false);
end
$$;


--
-- Name: funding_expire(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_expire(p_session_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_funding_sessions where id = p_session_id for update;
  if v_status is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_status = 'pending' then
    update public.wallet_funding_sessions
       set status = 'expired', failure_code = 'expired', failure_reason = left(coalesce(p_reason, 'no answer from the provider'), 500),
           updated_at = now()
     where id = p_session_id;
  elsif v_status <> 'expired' then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_status));
  end if;
  return hazina.funding_session_json(p_session_id);
end
$$;


--
-- Name: funding_fail(uuid, text, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_fail(p_session_id uuid, p_status text, p_code text, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_session public.wallet_funding_sessions;
begin
  if p_status is null or p_status not in ('failed', 'cancelled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status'));
  end if;
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.status in ('failed', 'cancelled', 'expired') then
    return hazina.funding_session_json(p_session_id);
  end if;
  if v_session.status <> 'pending' then
    perform hazina.raise_error('funding_session_not_pending', jsonb_build_object('funding_session_id', p_session_id, 'status', v_session.status));
  end if;
  update public.wallet_funding_sessions
     set status = p_status, failure_code = left(p_code, 100), failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_session_id;
  return hazina.funding_session_json(p_session_id);
end
$$;


--
-- Name: funding_mark_requested(uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_mark_requested(p_session_id uuid, p_request_id text, p_checkout_id text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_session public.wallet_funding_sessions;
  v_event_id uuid;
begin
  if p_checkout_id is null or length(p_checkout_id) not between 1 and 255 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'checkout_id'));
  end if;
  -- Serialise with a callback for the same checkout (see hazina.checkout_lock), before
  -- taking the session row lock: the callback takes them in the same order.
  perform hazina.checkout_lock((select provider from public.wallet_funding_sessions where id = p_session_id), p_checkout_id);
  select * into v_session from public.wallet_funding_sessions where id = p_session_id for update;
  if v_session.id is null then
    perform hazina.raise_error('funding_session_not_found', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  if v_session.provider_checkout_id is not null and v_session.provider_checkout_id <> p_checkout_id then
    perform hazina.raise_error('funding_session_already_requested', jsonb_build_object('funding_session_id', p_session_id));
  end if;
  update public.wallet_funding_sessions
     set provider_request_id = coalesce(p_request_id, provider_request_id), provider_checkout_id = p_checkout_id,
         updated_at = now()
   where id = p_session_id;
  for v_event_id in
    select id from public.wallet_webhook_events
     where provider = v_session.provider and status = 'unmatched' and payload ->> 'checkout_id' = p_checkout_id
     order by received_at, id
  loop
    perform hazina.webhook_event_apply(v_event_id);
  end loop;
  return hazina.funding_session_json(p_session_id);
end
$$;


--
-- Name: funding_orphan_claim(text, text, text, numeric, timestamp with time zone); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric, p_received_at timestamp with time zone) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_wallets integer;
  v_id uuid;
begin
  if p_provider <> 'mpesa' or p_checkout_id is null or p_msisdn is null or p_amount is null then
    return null;
  end if;
  select count(distinct s.wallet_id), (array_agg(s.id order by s.created_at, s.id))[1]
    into v_wallets, v_id
    from public.wallet_funding_sessions s
    left join public.wallet_sources src on src.id = s.source_id
   where s.provider = p_provider and s.status = 'expired' and s.provider_checkout_id is null
     and s.channel = 'stk_push' and s.amount = p_amount and coalesce(src.msisdn, s.payer_msisdn) = p_msisdn
     and s.created_at between p_received_at - interval '15 minutes' and p_received_at;
  if v_wallets <> 1 then
    return null;
  end if;
  update public.wallet_funding_sessions
     set provider_checkout_id = p_checkout_id, updated_at = now()
   where id = v_id and provider_checkout_id is null;
  if not found then
    return null;
  end if;
  return v_id;
end
$$;


--
-- Name: funding_post(text, text, uuid, numeric, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_post(p_ref text, p_provider text, p_wallet_id uuid, p_amount numeric, p_description text, p_metadata jsonb, OUT transaction_id uuid, OUT fee numeric) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_wallet record;
  v_clearing uuid;
  v_quote record;
begin
  select id, user_id, currency into v_wallet from public.wallets where id = p_wallet_id;
  v_clearing := hazina.provider_clearing_wallet(p_provider, v_wallet.currency);
  select * into v_quote from hazina.fee_quote('funding', p_amount, v_wallet.currency, v_wallet.user_id);
  fee := least(v_quote.fee, p_amount);
  if fee > 0 then
    transaction_id := hazina.post_transaction(p_ref, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'credit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'debit', 'amount', fee::text, 'leg', 'fee'),
      jsonb_build_object('wallet_id', hazina.system_wallet('fee_revenue', v_wallet.currency), 'direction', 'credit',
                         'amount', fee::text, 'leg', 'fee')),
      p_description, p_metadata);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (transaction_id::text || '#fee', transaction_id, p_wallet_id, v_wallet.user_id, 'funding',
            'charge', fee, v_wallet.currency, p_amount, v_quote.rule_source, v_quote.rule_id)
    on conflict (ref) do nothing;
  else
    transaction_id := hazina.post_transaction(p_ref, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', p_wallet_id, 'direction', 'credit', 'amount', p_amount::text)),
      p_description, p_metadata);
  end if;
end
$$;


--
-- Name: funding_session_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_session_json(p_session_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.funding_session_json(f) from public.wallet_funding_sessions f where f.id = p_session_id $$;


--
-- Name: funding_start(uuid, uuid, numeric, text, text, interval); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.funding_start(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval DEFAULT '00:03:00'::interval) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_source public.wallet_sources;
  v_wallet_id uuid;
  v_existing public.wallet_funding_sessions;
  v_session_id uuid;
begin
  select * into v_existing from public.wallet_funding_sessions where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id is distinct from p_source_id or v_existing.amount <> p_amount
       or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.funding_session_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  v_wallet_id := hazina.source_movement_check(p_user_id, p_source_id, p_amount, p_currency, p_client_ref, 'in');
  select * into v_source from public.wallet_sources where id = p_source_id;
  insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                              client_ref, payer_msisdn, expires_at)
  values (p_user_id, v_wallet_id, v_source.id, v_source.provider,
          case v_source.provider when 'mpesa' then 'stk_push' else 'bank_collection' end,
          p_amount, p_currency, p_client_ref, v_source.msisdn, now() + p_ttl)
  on conflict (user_id, client_ref) do nothing
  returning id into v_session_id;
  if v_session_id is null then
    raise exception using errcode = '40001', message = 'concurrent duplicate funding session; retry';
  end if;
  return hazina.funding_session_json(v_session_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: hold_create(text, uuid, uuid, numeric, timestamp with time zone, text, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.hold_create(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_expires_at timestamp with time zone, p_transaction_type text DEFAULT 'p2p_transfer'::text, p_description text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_from record;
  v_currency text;
  v_quote record;
  v_fee numeric := 0;
  v_hash text := md5(concat_ws('|', 'hold', p_transaction_type, p_from_wallet, p_to_wallet, p_amount::numeric(19, 4)));
  v_existing record;
  v_hold_id uuid;
begin
  if p_ref is null or length(p_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select id, request_hash into v_existing from public.wallet_holds where ref = p_ref;
  if v_existing.id is not null then
    if v_existing.request_hash <> v_hash then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_ref));
    end if;
    return v_existing.id;
  end if;
  if p_from_wallet is not distinct from p_to_wallet then
    perform hazina.raise_error('same_wallet');
  end if;
  select currency into v_currency from public.wallets where id = p_to_wallet;
  select id, user_id, currency, credit_buckets into v_from from public.wallets where id = p_from_wallet;
  if v_from.id is null or v_currency is null then
    perform hazina.raise_error('wallet_not_found');
  end if;
  if v_from.currency <> v_currency then
    perform hazina.raise_error('currency_mismatch');
  end if;
  perform hazina.assert_valid_amount(p_amount, v_currency);
  if p_expires_at is null or p_expires_at <= now() then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_at', 'reason', 'must be in the future'));
  end if;
  -- Only a sender-paid fee is reserved; a receiver-paid fee is charged to the receiver,
  -- at its own rate, when the hold is posted (as hazina.transfer does).
  if hazina.fee_payer(p_transaction_type) = 'sender' then
    select * into v_quote from hazina.fee_quote(p_transaction_type, p_amount, v_currency, v_from.user_id);
    v_fee := v_quote.fee;
  end if;

  perform hazina.lock_wallets(array[p_from_wallet], '{}');
  if v_from.credit_buckets > 1 then
    perform hazina.fold_buckets(p_from_wallet);
  end if;
  update public.wallets
     set held = held + p_amount + v_fee, updated_at = now()
   where id = p_from_wallet and status = 'active'
     and (kind = 'system' or balance - held - p_amount - v_fee >= 0);
  if not found then
    if exists (select 1 from public.wallets where id = p_from_wallet and status <> 'active') then
      perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', p_from_wallet));
    end if;
    perform hazina.raise_error('insufficient_funds', jsonb_build_object('wallet_id', p_from_wallet));
  end if;
  insert into public.wallet_holds (ref, request_hash, wallet_id, counterparty_id, currency, amount, fee_amount,
                                   transaction_type, expires_at, description, metadata)
  values (p_ref, v_hash, p_from_wallet, p_to_wallet, v_currency, p_amount, v_fee,
          p_transaction_type, p_expires_at, p_description, coalesce(p_metadata, '{}'))
  on conflict (ref) do nothing
  returning id into v_hold_id;
  if v_hold_id is null then
    -- A concurrent duplicate won the race: give back our reservation and return theirs.
    raise exception using errcode = '40001', message = 'concurrent duplicate hold; retry';
  end if;
  return v_hold_id;
end
$$;


--
-- Name: hold_post(uuid, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.hold_post(p_hold_id uuid, p_amount numeric DEFAULT NULL::numeric) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_hold public.wallet_holds;
  v_amount numeric;
  v_fee numeric;
  v_fee_payer text;
  v_payer_wallet uuid;
  v_payer uuid;
  v_quote record;
  v_tx record;
  v_revenue uuid;
begin
  select * into v_hold from public.wallet_holds where id = p_hold_id for update;
  if v_hold.id is null then
    perform hazina.raise_error('hold_not_found', jsonb_build_object('hold_id', p_hold_id));
  end if;
  v_amount := coalesce(p_amount, v_hold.amount);
  if v_hold.status = 'posted' and v_hold.posted_amount = v_amount then
    return v_hold.transaction_id;
  end if;
  if v_hold.status <> 'pending' then
    perform hazina.raise_error('hold_not_pending', jsonb_build_object('hold_id', p_hold_id, 'status', v_hold.status));
  end if;
  if v_hold.expires_at <= now() then
    -- Past its deadline the reservation is no longer promised; the sweep releases it.
    perform hazina.raise_error('hold_expired', jsonb_build_object('hold_id', p_hold_id, 'expired_at', v_hold.expires_at));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_hold.currency);
  if v_amount > v_hold.amount then
    perform hazina.raise_error('hold_amount_exceeded', jsonb_build_object('held', v_hold.amount::text));
  end if;
  v_fee_payer := hazina.fee_payer(v_hold.transaction_type);
  v_payer_wallet := case v_fee_payer when 'sender' then v_hold.wallet_id else v_hold.counterparty_id end;
  select user_id into v_payer from public.wallets where id = v_payer_wallet;
  select * into v_quote from hazina.fee_quote(v_hold.transaction_type, v_amount, v_hold.currency, v_payer);
  if v_fee_payer = 'sender' then
    -- The fee follows the posted amount, never above what was reserved for it.
    v_fee := least(v_quote.fee, v_hold.fee_amount);
  else
    -- The receiver pays out of what it receives, so the fee must leave it something.
    v_fee := v_quote.fee;
    if v_fee > 0 and v_fee >= v_amount then
      perform hazina.raise_error('fee_exceeds_amount', jsonb_build_object('fee', v_fee::text));
    end if;
  end if;

  v_revenue := hazina.system_wallet('fee_revenue', v_hold.currency);
  perform hazina.lock_wallets(array[v_hold.wallet_id], array[v_hold.counterparty_id]);
  -- Give back the whole reservation first; the posting below then spends what it moves.
  update public.wallets set held = held - v_hold.amount - v_hold.fee_amount, updated_at = now()
   where id = v_hold.wallet_id;
  select * into v_tx from hazina.begin_transaction(
    v_hold.ref || ':post', v_hold.transaction_type,
    md5(concat_ws('|', 'hold_post', v_hold.id, v_amount::numeric(19, 4))),
    v_amount, v_hold.currency, v_hold.description, v_hold.metadata || jsonb_build_object('hold_id', v_hold.id));
  if v_fee > 0 then
    perform hazina.apply_entries(v_tx.transaction_id, v_hold.transaction_type, v_hold.description, v_hold.metadata, v_hold.ref || ':post',
      array[v_hold.wallet_id, v_hold.counterparty_id, v_payer_wallet, v_revenue],
      array['debit', 'credit', 'debit', 'credit'], array[v_amount, v_amount, v_fee, v_fee],
      array['principal', 'principal', 'fee', 'fee']);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (v_tx.transaction_id::text || '#fee', v_tx.transaction_id, v_payer_wallet, v_payer, v_hold.transaction_type,
            'charge', v_fee, v_hold.currency, v_amount, v_quote.rule_source, v_quote.rule_id);
  else
    perform hazina.apply_entries(v_tx.transaction_id, v_hold.transaction_type, v_hold.description, v_hold.metadata, v_hold.ref || ':post',
      array[v_hold.wallet_id, v_hold.counterparty_id], array['debit', 'credit'], array[v_amount, v_amount],
      array['principal', 'principal']);
  end if;
  update public.wallet_holds
     set status = 'posted', posted_amount = v_amount, transaction_id = v_tx.transaction_id, resolved_at = now()
   where id = v_hold.id;
  return v_tx.transaction_id;
end
$$;


--
-- Name: uuid_v7(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.uuid_v7() RETURNS uuid
    LANGUAGE sql
    AS $$
  select encode(
           set_bit(set_bit(                                   -- version nibble 0100 -> 0111
             overlay(uuid_send(gen_random_uuid())             -- random bits, RFC 4122 variant
                     placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                     from 1 for 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: wallet_holds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_holds (
    id uuid DEFAULT hazina.uuid_v7() NOT NULL,
    ref text NOT NULL,
    request_hash text NOT NULL,
    wallet_id uuid NOT NULL,
    counterparty_id uuid NOT NULL,
    currency character(3) NOT NULL,
    amount numeric(19,4) NOT NULL,
    fee_amount numeric(19,4) DEFAULT 0 NOT NULL,
    transaction_type text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    posted_amount numeric(19,4),
    transaction_id uuid,
    expires_at timestamp with time zone NOT NULL,
    description text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    CONSTRAINT wallet_holds_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT wallet_holds_check CHECK (((posted_amount > (0)::numeric) AND (posted_amount <= amount))),
    CONSTRAINT wallet_holds_distinct_wallets CHECK ((wallet_id <> counterparty_id)),
    CONSTRAINT wallet_holds_fee_amount_check CHECK ((fee_amount >= (0)::numeric)),
    CONSTRAINT wallet_holds_posted_has_transaction CHECK (((status = 'posted'::text) = ((transaction_id IS NOT NULL) AND (posted_amount IS NOT NULL)))),
    CONSTRAINT wallet_holds_ref_check CHECK (((length(ref) >= 1) AND (length(ref) <= 255))),
    CONSTRAINT wallet_holds_resolved_when_final CHECK (((status = 'pending'::text) = (resolved_at IS NULL))),
    CONSTRAINT wallet_holds_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'posted'::text, 'voided'::text, 'expired'::text])))
);


--
-- Name: hold_release(public.wallet_holds, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.hold_release(p_hold public.wallet_holds, p_status text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  update public.wallets set held = held - p_hold.amount - p_hold.fee_amount, updated_at = now()
   where id = p_hold.wallet_id;
  update public.wallet_holds set status = p_status, resolved_at = now() where id = p_hold.id;
end
$$;


--
-- Name: hold_void(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.hold_void(p_hold_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_hold public.wallet_holds;
begin
  select * into v_hold from public.wallet_holds where id = p_hold_id for update;
  if v_hold.id is null then
    perform hazina.raise_error('hold_not_found', jsonb_build_object('hold_id', p_hold_id));
  end if;
  if v_hold.status = 'voided' then
    return;
  end if;
  if v_hold.status <> 'pending' then
    perform hazina.raise_error('hold_not_pending', jsonb_build_object('hold_id', p_hold_id, 'status', v_hold.status));
  end if;
  perform hazina.hold_release(v_hold, 'voided');
end
$$;


--
-- Name: idempotency_abandon(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_abandon(p_owner text, p_key text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
  delete from public.payment_idempotency
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress'
$$;


--
-- Name: idempotency_begin(text, text, text, text, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text, p_per_minute integer DEFAULT NULL::integer, OUT outcome text, OUT response_status integer, OUT response_body jsonb) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    AS $_$
declare
  v_row public.payment_idempotency;
  v_recent bigint;
  v_oldest timestamptz;
begin
  if p_key is null or p_key !~ '^[A-Za-z0-9_.:-]{8,255}$' then
    perform hazina.raise_error('invalid_idempotency_key',
      jsonb_build_object('reason', '8 to 255 characters of letters, digits, _ . : -'));
  end if;
  -- A concurrent duplicate is refused at once, never queued behind the first: while one
  -- transaction holds a key (begin → work → complete, uncommitted), its insert would make a
  -- second insert of the same key wait for it. The lock lasts the transaction.
  if not pg_try_advisory_xact_lock(hashtextextended('hazina.idempotency:' || p_owner || '/' || p_key, 0)) then
    perform hazina.raise_error('idempotency_key_in_use');
  end if;
  if p_per_minute is not null
     and not exists (select 1 from public.payment_idempotency where idempotency_key = p_owner || '/' || p_key) then
    select count(*), min(created_at) into v_recent, v_oldest
      from (select created_at from public.payment_idempotency
             where owner_id = p_owner and created_at > now() - interval '1 minute'
             order by created_at desc limit p_per_minute) recent;
    if v_recent >= p_per_minute then
      perform hazina.raise_error('rate_limited', jsonb_build_object('limit_per_minute', p_per_minute,
        'retry_after_seconds', greatest(1, ceil(extract(epoch from v_oldest + interval '1 minute' - now())))::integer));
    end if;
  end if;
  -- A few attempts: the record we collide with may be abandoned (deleted) between our
  -- insert and our read, in which case the next insert wins.
  for attempt in 1 .. 3 loop
    delete from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key and expires_at <= now();
    insert into public.payment_idempotency (owner_id, client_key, scope, request_hash)
    values (p_owner, p_key, p_scope, p_request_hash)
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is not null then
      outcome := 'started';
      return;
    end if;
    select * into v_row from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key for update;
    continue when v_row.id is null;
    if v_row.scope <> p_scope or v_row.request_hash <> p_request_hash then
      perform hazina.raise_error('idempotency_key_reused');
    end if;
    if v_row.status = 'completed' then
      outcome := 'replay';
      response_status := v_row.response_status;
      response_body := v_row.response_body;
      return;
    end if;
    if v_row.locked_until > now() then
      perform hazina.raise_error('idempotency_key_in_use');
    end if;
    update public.payment_idempotency set locked_until = now() + interval '60 seconds' where id = v_row.id;
    outcome := 'started';
    return;
  end loop;
  perform hazina.raise_error('idempotency_key_in_use');
end
$_$;


--
-- Name: idempotency_complete(text, text, integer, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_complete(p_owner text, p_key text, p_status integer, p_body jsonb) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
  update public.payment_idempotency
     set status = 'completed', response_status = p_status, response_body = p_body, completed_at = now()
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress'
$$;


--
-- Name: idempotency_complete_group(jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_complete_group(p_items jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
begin
  update public.payment_idempotency p
     set status = 'completed', response_status = (x.i ->> 'status')::integer, response_body = x.i -> 'body',
         completed_at = now()
    from jsonb_array_elements(p_items) x(i)
   where p.idempotency_key = (x.i ->> 'owner') || '/' || (x.i ->> 'key') and p.status = 'in_progress'
     and x.i ? 'status';
  delete from public.payment_idempotency p
   using jsonb_array_elements(p_items) x(i)
   where p.idempotency_key = (x.i ->> 'owner') || '/' || (x.i ->> 'key') and p.status = 'in_progress'
     and not x.i ? 'status';
end
$$;


--
-- Name: idempotency_purge_expired(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_purge_expired() RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  with gone as (delete from public.payment_idempotency where expires_at <= now() returning 1)
  select count(*)::integer from gone
$$;


--
-- Name: idempotency_unlock(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.idempotency_unlock(p_owner text, p_key text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    SET enable_seqscan TO 'off'
    AS $$
  update public.payment_idempotency set locked_until = now()
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress' and locked_until > now()
$$;


--
-- Name: install_supabase_auth_mirror(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.install_supabase_auth_mirror() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET client_min_messages TO 'warning'
    AS $$
begin
  if to_regclass('auth.users') is null then
    return false;
  end if;
  -- (Dynamic SQL: auth.users exists only on Supabase, and static references to it would
  -- not even lint elsewhere.)
  execute 'drop trigger if exists hazina_mirror_user on auth.users';
  execute 'create trigger hazina_mirror_user
             after insert or update of email, email_confirmed_at, phone, raw_app_meta_data, raw_user_meta_data or delete
             on auth.users
             for each row execute function hazina.supabase_user_changed()';
  execute 'select count(hazina.mirror_supabase_user(u.id, u.email, u.email_confirmed_at, u.phone,
                                                    u.raw_app_meta_data, u.raw_user_meta_data))
             from auth.users u';
  return true;
end
$$;


--
-- Name: payment_intents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_intents (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    payee_wallet_id uuid NOT NULL,
    customer_id uuid,
    amount numeric(19,4) NOT NULL,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    status text DEFAULT 'requires_confirmation'::text NOT NULL,
    capture_method text DEFAULT 'automatic'::text NOT NULL,
    amount_capturable numeric(19,4) DEFAULT 0 NOT NULL,
    amount_received numeric(19,4) DEFAULT 0 NOT NULL,
    amount_refunded numeric(19,4) DEFAULT 0 NOT NULL,
    description text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    subject_type text,
    subject_id uuid,
    last_payment_error jsonb,
    client_secret_hash text NOT NULL,
    client_ref text NOT NULL,
    capture_transaction_id uuid,
    expires_at timestamp with time zone NOT NULL,
    confirmed_at timestamp with time zone,
    succeeded_at timestamp with time zone,
    canceled_at timestamp with time zone,
    cancellation_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    transaction_type public.transaction_kind DEFAULT 'payment_intent'::text NOT NULL,
    confirm_attempt integer DEFAULT 0 NOT NULL,
    qr_code_id uuid,
    CONSTRAINT payment_intents_amount_capturable_check CHECK ((amount_capturable >= (0)::numeric)),
    CONSTRAINT payment_intents_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT payment_intents_amount_received_check CHECK ((amount_received >= (0)::numeric)),
    CONSTRAINT payment_intents_amount_refunded_check CHECK ((amount_refunded >= (0)::numeric)),
    CONSTRAINT payment_intents_amounts CHECK (((amount_capturable <= amount) AND (amount_received <= amount) AND (amount_refunded <= amount_received))),
    CONSTRAINT payment_intents_canceled_at CHECK (((status = 'canceled'::text) = (canceled_at IS NOT NULL))),
    CONSTRAINT payment_intents_cancellation_reason_check CHECK ((length(cancellation_reason) <= 500)),
    CONSTRAINT payment_intents_capture_method_check CHECK ((capture_method = ANY (ARRAY['automatic'::text, 'manual'::text]))),
    CONSTRAINT payment_intents_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT payment_intents_confirm_attempt_check CHECK (((confirm_attempt >= 0) AND (confirm_attempt <= 1000))),
    CONSTRAINT payment_intents_description_check CHECK ((length(description) <= 500)),
    CONSTRAINT payment_intents_metadata_check CHECK (((jsonb_typeof(metadata) = 'object'::text) AND (length((metadata)::text) <= 16000))),
    CONSTRAINT payment_intents_status_check CHECK ((status = ANY (ARRAY['requires_confirmation'::text, 'processing'::text, 'requires_capture'::text, 'succeeded'::text, 'canceled'::text]))),
    CONSTRAINT payment_intents_subject CHECK (((subject_type IS NULL) = (subject_id IS NULL))),
    CONSTRAINT payment_intents_subject_type_check CHECK ((subject_type = ANY (ARRAY['invoice'::text, 'order'::text, 'installment'::text, 'qr_code'::text]))),
    CONSTRAINT payment_intents_succeeded_captured CHECK (((status = 'succeeded'::text) = (capture_transaction_id IS NOT NULL)))
);


--
-- Name: installment_apply_payment(public.payment_intents); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_apply_payment(p_intent public.payment_intents) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_intent.subject_id, null);
  v_left numeric := p_intent.amount_received;
  v_row public.installment_schedule;
  v_take numeric;
  v_applied numeric := 0;
begin
  if v_plan.status = 'active' then
    for v_row in select * from public.installment_schedule
                  where installment_id = v_plan.id and status in ('pending', 'late') order by seq for update loop
      exit when v_left <= 0;
      v_take := least(v_left, v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived);
      update public.installment_schedule
         set amount_paid = amount_paid + v_take,
             status = case when amount_paid + v_take + amount_waived = amount + late_fee then 'paid' else status end,
             paid_at = case when amount_paid + v_take + amount_waived = amount + late_fee then hazina.clock() end,
             paid_intent_id = case when amount_paid + v_take + amount_waived = amount + late_fee then p_intent.id end,
             updated_at = now()
       where id = v_row.id;
      v_left := v_left - v_take;
      v_applied := v_applied + v_take;
    end loop;
    update public.installments set amount_paid = amount_paid + v_applied, updated_at = now() where id = v_plan.id;
    perform hazina.installment_refresh(v_plan.id);
    perform hazina.event_emit(v_plan.merchant_id, 'installment.paid', 'installment', v_plan.id,
      hazina.installment_json(v_plan.id) || jsonb_build_object('payment_intent_id', p_intent.id,
                                                               'amount', v_applied::numeric(19, 4)::text));
  end if;
  if v_left > 0 then
    perform set_config('hazina.installment_refund', v_plan.id::text, true);
    perform hazina.payment_refund_create(p_intent.merchant_id, p_intent.id, v_left,
      'installment plan needs no more money', 'installment:' || v_plan.id || ':excess:' || p_intent.id);
    perform set_config('hazina.installment_refund', '', true);
  end if;
  if v_plan.status = 'active' and not exists (select 1 from public.installment_schedule
                                               where installment_id = v_plan.id and status in ('pending', 'late')) then
    perform hazina.installment_complete(v_plan.id);
  end if;
end
$$;


--
-- Name: installment_cancel(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_cancel(p_id uuid, p_actor uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_actor);
  v_fee numeric;
begin
  if v_plan.status = 'canceled' then
    return hazina.installment_json(p_id);
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  v_fee := case when p_actor = v_plan.merchant_id then 0 else hazina.installment_cancellation_fee(v_plan) end;
  perform hazina.installment_close(p_id, 'canceled', v_fee,
    coalesce(p_reason, case when p_actor = v_plan.merchant_id then 'canceled_by_merchant' else 'canceled_by_customer' end));
  perform hazina.event_emit(v_plan.merchant_id, 'installment.canceled', 'installment', p_id, hazina.installment_json(p_id));
  return hazina.installment_json(p_id);
end
$$;


--
-- Name: installment_cancel_open_intents(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_cancel_open_intents(p_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_intent_id uuid;
begin
  for v_intent_id in select id from public.payment_intents
                      where subject_type = 'installment' and subject_id = p_id
                        and status in ('requires_confirmation', 'processing', 'requires_capture')
                      order by id for update skip locked loop
    perform hazina.payment_intent_cancel(v_intent_id, null, 'installment plan closed');
  end loop;
end
$$;


--
-- Name: installments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.installments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    shop_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    currency character(3) NOT NULL,
    total_amount numeric(19,4) NOT NULL,
    deposit_amount numeric(19,4) NOT NULL,
    installment_count smallint NOT NULL,
    "interval" text NOT NULL,
    installment_amount numeric(19,4) NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    auto_collect boolean DEFAULT false NOT NULL,
    grace_days smallint NOT NULL,
    late_fee_enabled boolean NOT NULL,
    missed_payments_to_default smallint NOT NULL,
    cancellation_fee_bps integer NOT NULL,
    cancellation_fee_fixed numeric(19,4) NOT NULL,
    max_cancellation_fee_bps integer NOT NULL,
    amount_paid numeric(19,4) DEFAULT 0 NOT NULL,
    late_fees numeric(19,4) DEFAULT 0 NOT NULL,
    amount_waived numeric(19,4) DEFAULT 0 NOT NULL,
    amount_refunded numeric(19,4) DEFAULT 0 NOT NULL,
    amount_released numeric(19,4) DEFAULT 0 NOT NULL,
    cancellation_fee numeric(19,4),
    missed_count smallint DEFAULT 0 NOT NULL,
    deposit_intent_id uuid,
    next_due_at timestamp with time zone,
    starts_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone,
    defaulted_at timestamp with time zone,
    canceled_at timestamp with time zone,
    cancellation_reason text,
    client_ref text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT installments_amount_paid_check CHECK ((amount_paid >= (0)::numeric)),
    CONSTRAINT installments_amount_refunded_check CHECK ((amount_refunded >= (0)::numeric)),
    CONSTRAINT installments_amount_released_check CHECK ((amount_released >= (0)::numeric)),
    CONSTRAINT installments_amount_waived_check CHECK ((amount_waived >= (0)::numeric)),
    CONSTRAINT installments_canceled_at CHECK (((status = 'canceled'::text) = (canceled_at IS NOT NULL))),
    CONSTRAINT installments_cancellation_fee_bps_check CHECK (((cancellation_fee_bps >= 0) AND (cancellation_fee_bps <= 10000))),
    CONSTRAINT installments_cancellation_fee_check CHECK ((cancellation_fee >= (0)::numeric)),
    CONSTRAINT installments_cancellation_fee_fixed_check CHECK ((cancellation_fee_fixed >= (0)::numeric)),
    CONSTRAINT installments_cancellation_reason_check CHECK ((length(cancellation_reason) <= 500)),
    CONSTRAINT installments_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT installments_completed_at CHECK (((status = 'completed'::text) = (completed_at IS NOT NULL))),
    CONSTRAINT installments_defaulted_at CHECK (((status = 'defaulted'::text) = (defaulted_at IS NOT NULL))),
    CONSTRAINT installments_deposit_amount_check CHECK ((deposit_amount > (0)::numeric)),
    CONSTRAINT installments_deposit_below_total CHECK ((deposit_amount < total_amount)),
    CONSTRAINT installments_grace_days_check CHECK (((grace_days >= 0) AND (grace_days <= 60))),
    CONSTRAINT installments_installment_amount_check CHECK ((installment_amount > (0)::numeric)),
    CONSTRAINT installments_installment_count_check CHECK (((installment_count >= 1) AND (installment_count <= 366))),
    CONSTRAINT installments_interval_check CHECK (("interval" = ANY (ARRAY['day'::text, 'week'::text, 'month'::text]))),
    CONSTRAINT installments_late_fees_check CHECK ((late_fees >= (0)::numeric)),
    CONSTRAINT installments_max_cancellation_fee_bps_check CHECK (((max_cancellation_fee_bps >= 0) AND (max_cancellation_fee_bps <= 10000))),
    CONSTRAINT installments_missed_count_check CHECK ((missed_count >= 0)),
    CONSTRAINT installments_missed_payments_to_default_check CHECK ((missed_payments_to_default >= 1)),
    CONSTRAINT installments_outstanding CHECK (((amount_paid + amount_waived) <= (total_amount + late_fees))),
    CONSTRAINT installments_status_check CHECK ((status = ANY (ARRAY['active'::text, 'completed'::text, 'defaulted'::text, 'canceled'::text]))),
    CONSTRAINT installments_total_amount_check CHECK ((total_amount > (0)::numeric))
);


--
-- Name: installment_cancellation_fee(public.installments); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_cancellation_fee(p_plan public.installments) RETURNS numeric
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select least(round(p_plan.cancellation_fee_fixed + p_plan.amount_paid * p_plan.cancellation_fee_bps / 10000, c.minor_units),
               round(p_plan.amount_paid * p_plan.max_cancellation_fee_bps / 10000, c.minor_units),
               p_plan.amount_paid)::numeric(19, 4)
    from public.currencies c where c.code = p_plan.currency
$$;


--
-- Name: installment_claim_reminders(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_claim_reminders(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_now timestamptz := hazina.clock();
  v_lead interval := (select reminder_lead from hazina.installment_limits);
  v_row record;
  v_out jsonb := '[]'::jsonb;
begin
  for v_row in select s.id, s.installment_id, s.seq, s.due_at,
                      (s.amount + s.late_fee - s.amount_paid - s.amount_waived)::numeric(19, 4) as due,
                      i.currency, i.merchant_id, i.auto_collect, u.email
                 from public.installment_schedule s
                 join public.installments i on i.id = s.installment_id
                 join public.auth_users u on u.id = i.customer_id
                where s.status = 'pending' and s.seq > 0 and s.reminded_at is null and i.status = 'active'
                  and s.due_at > v_now and s.due_at <= v_now + v_lead
                  and exists (select 1 from public.installment_schedule d
                               where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')
                order by s.due_at, s.id limit p_limit
                  for update of s skip locked loop
    update public.installment_schedule set reminded_at = v_now, updated_at = now() where id = v_row.id;
    perform hazina.event_emit(v_row.merchant_id, 'installment.due_soon', 'installment', v_row.installment_id,
      hazina.installment_json(v_row.installment_id) || jsonb_build_object('seq', v_row.seq, 'amount_due', v_row.due::text,
                                                                          'due_at', public.api_time(v_row.due_at)));
    v_out := v_out || jsonb_build_object('installment_id', v_row.installment_id, 'seq', v_row.seq, 'email', v_row.email,
                                         'amount', v_row.due::text, 'currency', v_row.currency,
                                         'due_at', public.api_time(v_row.due_at), 'auto_collect', v_row.auto_collect);
  end loop;
  return jsonb_build_object('reminders', v_out,
    'remaining', (select count(*) from public.installment_schedule s join public.installments i on i.id = s.installment_id
                   where s.status = 'pending' and s.seq > 0 and s.reminded_at is null and i.status = 'active'
                     and s.due_at > v_now and s.due_at <= v_now + v_lead
                     and exists (select 1 from public.installment_schedule d
                                  where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')));
end
$$;


--
-- Name: installment_clawback(public.installments, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_clawback(p_plan public.installments, p_amount numeric, p_reason text, p_ref text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_release public.wallet_transactions;
  v_merchant_wallet uuid;
  v_reversed numeric;
  v_charge public.billing_ledger;
  v_fee_refunded numeric;
  v_fee numeric := 0;
  v_minor smallint;
  v_available numeric;
  v_tx record;
  v_reason text := left(coalesce(p_reason, 'Refund'), 500);
begin
  select * into v_release from public.wallet_transactions where ref = 'installment:' || p_plan.id || ':release' for update;
  if v_release.id is null then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_plan.order_id,
      'reason', 'the plan paid nothing out to the merchant'));
  end if;
  select e.wallet_id into v_merchant_wallet from hazina.transaction_entries(v_release.id) e
   where e.leg = 'principal' and e.direction = 'credit';
  select coalesce(sum(principal_amount), 0) into v_reversed from public.wallet_transactions where reverses_id = v_release.id;
  if p_amount > v_release.principal_amount - v_reversed then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (v_release.principal_amount - v_reversed)::numeric(19, 4)::text));
  end if;
  -- The release's fee share (its one fee charge, if any), by the refund rule.
  select * into v_charge from public.billing_ledger
   where transaction_id = v_release.id and direction = 'charge' order by ref limit 1;
  if v_charge.ref is not null then
    select coalesce(sum(amount), 0) into v_fee_refunded from public.billing_ledger
     where refund_of = v_charge.ref and direction = 'refund';
    select minor_units into v_minor from public.currencies where code = v_release.currency;
    v_fee := hazina.refund_fee_share(v_charge.amount, v_fee_refunded, p_amount, v_release.principal_amount,
                                     v_reversed + p_amount = v_release.principal_amount, v_minor);
  end if;
  -- The merchant's wallet must cover it (locked: no withdrawal slips in between).
  perform 1 from public.wallets where id = v_merchant_wallet for update;
  select available into v_available from public.wallet_balances where wallet_id = v_merchant_wallet;
  if v_available < p_amount - v_fee then
    perform hazina.raise_error('order_refund_merchant_funds', jsonb_build_object('order_id', p_plan.order_id,
      'needed', (p_amount - v_fee)::numeric(19, 4)::text, 'available', v_available::numeric(19, 4)::text));
  end if;
  select * into v_tx from hazina.begin_transaction(
    p_ref, 'reversal',
    md5(concat_ws('|', 'installment_clawback', v_release.id, p_amount::numeric(19, 4), v_fee::numeric(19, 4))),
    p_amount, v_release.currency, v_reason,
    jsonb_build_object('reverses', v_release.id, 'original_kind', v_release.kind, 'installment_id', p_plan.id,
                       'order_id', p_plan.order_id),
    v_release.id);
  if v_fee > 0 then
    perform hazina.apply_entries(v_tx.transaction_id, 'reversal', v_reason,
      jsonb_build_object('reverses', v_release.id), p_ref,
      array[v_merchant_wallet, hazina.system_wallet('escrow', v_release.currency),
            hazina.system_wallet('fee_revenue', v_release.currency), v_charge.payer_wallet_id],
      array['debit', 'credit', 'debit', 'credit'], array[p_amount, p_amount, v_fee, v_fee],
      array['principal', 'principal', 'fee', 'fee']);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id, refund_of)
    values (v_tx.transaction_id::text || '#refund-1', v_tx.transaction_id, v_charge.payer_wallet_id, v_charge.payer_user_id,
            v_charge.transaction_type, 'refund', v_fee, v_charge.currency, p_amount, 'original', v_charge.rule_id, v_charge.ref);
  else
    perform hazina.apply_entries(v_tx.transaction_id, 'reversal', v_reason,
      jsonb_build_object('reverses', v_release.id), p_ref,
      array[v_merchant_wallet, hazina.system_wallet('escrow', v_release.currency)],
      array['debit', 'credit'], array[p_amount, p_amount], array['principal', 'principal']);
  end if;
  return v_tx.transaction_id;
end
$$;


--
-- Name: installment_close(uuid, text, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_close(p_id uuid, p_status text, p_fee numeric, p_reason text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
  v_refund numeric := v_plan.amount_paid - p_fee;
  v_intent public.payment_intents;
  v_take numeric;
begin
  -- The plan is closed first, so nothing that follows (an open intent canceled, a racing
  -- payment) treats it as active.
  update public.installments
     set status = p_status, cancellation_fee = p_fee, amount_refunded = v_plan.amount_paid - p_fee,
         amount_released = amount_released + p_fee, next_due_at = null,
         defaulted_at = case when p_status = 'defaulted' then hazina.clock() end,
         canceled_at = case when p_status = 'canceled' then hazina.clock() end,
         cancellation_reason = left(p_reason, 500), updated_at = now()
   where id = p_id;
  perform hazina.installment_cancel_open_intents(p_id);
  for v_intent in select * from public.payment_intents
                   where subject_type = 'installment' and subject_id = p_id and status = 'succeeded'
                     and amount_received > amount_refunded
                   order by succeeded_at desc, id desc for update loop
    exit when v_refund <= 0;
    v_take := least(v_refund, v_intent.amount_received - v_intent.amount_refunded);
    perform set_config('hazina.installment_refund', p_id::text, true);
    perform hazina.payment_refund_create(v_intent.merchant_id, v_intent.id, v_take, 'installment plan ' || p_status,
                                         'installment:' || p_id || ':refund:' || v_intent.id);
    perform set_config('hazina.installment_refund', '', true);
    v_refund := v_refund - v_take;
  end loop;
  if v_refund <> 0 then
    raise exception 'installment % refund left % unrefunded', p_id, v_refund;
  end if;
  if p_fee > 0 then
    perform hazina.transfer('installment:' || p_id || ':cancellation_fee', hazina.system_wallet('escrow', v_plan.currency),
      (select id from public.wallets where user_id = v_plan.merchant_id and currency = v_plan.currency and kind = 'merchant'),
      p_fee, 'installment_cancellation_fee', 'Installment plan cancellation fee', jsonb_build_object('installment_id', p_id));
  end if;
  perform hazina.installment_release_order(v_plan, p_status);
end
$$;


--
-- Name: installment_complete(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_complete(p_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
begin
  update public.installments
     set status = 'completed', completed_at = hazina.clock(), next_due_at = null, updated_at = now()
   where id = p_id
  returning * into v_plan;
  perform hazina.installment_cancel_open_intents(p_id);
  perform hazina.installment_settle(v_plan);
  perform hazina.event_emit(v_plan.merchant_id, 'installment.completed', 'installment', p_id, hazina.installment_json(p_id));
end
$$;


--
-- Name: orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orders (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    shop_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    status text DEFAULT 'pending_payment'::text NOT NULL,
    currency character(3) NOT NULL,
    total numeric(19,4) NOT NULL,
    amount_paid numeric(19,4) DEFAULT 0 NOT NULL,
    amount_refunded numeric(19,4) DEFAULT 0 NOT NULL,
    escrow boolean DEFAULT false NOT NULL,
    payment_intent_id uuid,
    shipping jsonb DEFAULT '{}'::jsonb NOT NULL,
    client_ref text NOT NULL,
    paid_at timestamp with time zone,
    fulfilled_at timestamp with time zone,
    delivered_at timestamp with time zone,
    completed_at timestamp with time zone,
    canceled_at timestamp with time zone,
    cancellation_reason text,
    refunded_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT orders_amount_paid_check CHECK ((amount_paid >= (0)::numeric)),
    CONSTRAINT orders_amount_refunded_check CHECK ((amount_refunded >= (0)::numeric)),
    CONSTRAINT orders_amounts CHECK (((amount_paid <= total) AND (amount_refunded <= amount_paid))),
    CONSTRAINT orders_canceled_at CHECK (((status = 'canceled'::text) = (canceled_at IS NOT NULL))),
    CONSTRAINT orders_cancellation_reason_check CHECK ((length(cancellation_reason) <= 500)),
    CONSTRAINT orders_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT orders_shipping_check CHECK (((jsonb_typeof(shipping) = 'object'::text) AND (length((shipping)::text) <= 4000))),
    CONSTRAINT orders_status_known CHECK ((status = ANY (ARRAY['pending_payment'::text, 'paid'::text, 'fulfilled'::text, 'completed'::text, 'canceled'::text, 'refunded'::text]))),
    CONSTRAINT orders_total_check CHECK ((total > (0)::numeric))
);


--
-- Name: installment_create(public.orders, numeric, integer, text, boolean); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_create(p_order public.orders, p_deposit numeric, p_count integer, p_interval text, p_auto_collect boolean) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  p_shop_id uuid := p_order.shop_id;
  p_merchant_id uuid := p_order.merchant_id;
  p_customer_id uuid := p_order.customer_id;
  p_total numeric := p_order.total;
  p_currency text := p_order.currency;
  v_settings public.shop_installment_settings;
  v_limits hazina.installment_limits;
  v_plan public.installments;
  v_id uuid := gen_random_uuid();
  v_now timestamptz := hazina.clock();
  v_part numeric;
  v_intent jsonb;
begin
  select * into v_settings from public.shop_installment_settings where shop_id = p_shop_id;
  select * into v_limits from hazina.installment_limits;
  if v_settings.shop_id is null or not v_settings.allowed then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_interval is null or p_interval not in ('day', 'week', 'month') or not (p_interval = any (v_settings.intervals)) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'interval',
      'allowed', to_jsonb(v_settings.intervals)));
  end if;
  if p_count is null or p_count < 1 or p_count > least(v_settings.max_count, v_limits.max_count) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'count',
      'max', least(v_settings.max_count, v_limits.max_count)));
  end if;
  if p_deposit is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.deposit', 'reason', 'required'));
  end if;
  perform hazina.assert_valid_amount(p_deposit, p_currency);
  if p_order.status <> 'pending_payment' or p_order.payment_intent_id is not null then
    perform hazina.raise_error('order_not_payable', jsonb_build_object('order_id', p_order.id, 'status', p_order.status));
  end if;
  if p_deposit >= p_total then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.deposit',
      'reason', 'below the order total'));
  end if;
  if p_deposit < round(p_total * v_settings.min_deposit_bps / 10000, (select minor_units from public.currencies where code = p_currency)) then
    perform hazina.raise_error('installments_not_allowed', jsonb_build_object('shop_id', p_shop_id, 'field', 'deposit',
      'min_deposit_bps', v_settings.min_deposit_bps));
  end if;
  select amount into v_part from hazina.installment_schedule_amounts(p_total, p_deposit, p_count, p_currency) where seq = 1;
  if v_part <= 0 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments.count',
      'reason', 'each payment must be at least one minor unit'));
  end if;
  insert into public.installments (id, order_id, shop_id, merchant_id, customer_id, currency, total_amount, deposit_amount,
                                   installment_count, "interval", installment_amount, auto_collect, grace_days,
                                   late_fee_enabled, missed_payments_to_default, cancellation_fee_bps,
                                   cancellation_fee_fixed, max_cancellation_fee_bps, starts_at, next_due_at, client_ref)
  values (v_id, p_order.id, p_shop_id, p_merchant_id, p_customer_id, p_currency, p_total, p_deposit, p_count, p_interval,
          v_part, coalesce(p_auto_collect, false), v_settings.grace_days, v_settings.late_fee_enabled,
          v_settings.missed_payments_to_default, v_settings.cancellation_fee_bps, v_settings.cancellation_fee_fixed,
          v_limits.max_cancellation_fee_bps, v_now, v_now, p_order.client_ref)
  returning * into v_plan;
  insert into public.installment_schedule (installment_id, seq, due_at, amount)
  select v_id, a.seq, hazina.installment_due_at(v_now, p_interval, a.seq), a.amount
    from hazina.installment_schedule_amounts(p_total, p_deposit, p_count, p_currency) a;
  v_intent := hazina.installment_intent_open(v_plan, p_deposit, 'installment:' || v_id || ':deposit', 'Deposit');
  update public.installments set deposit_intent_id = (v_intent ->> 'id')::uuid where id = v_id;
  perform hazina.event_emit(p_merchant_id, 'installment.created', 'installment', v_id, hazina.installment_json(v_id));
  return hazina.installment_json(v_id) || jsonb_build_object('deposit_intent', v_intent - 'created');
end
$$;


--
-- Name: installment_due_at(timestamp with time zone, text, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_due_at(p_starts_at timestamp with time zone, p_interval text, p_k integer) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select p_starts_at + case p_interval when 'day' then make_interval(days => p_k)
                                       when 'week' then make_interval(weeks => p_k)
                                       else make_interval(months => p_k) end
$$;


--
-- Name: installment_escrow_held(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_escrow_held(p_id uuid) RETURNS numeric
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select coalesce((select sum(p.amount_received - p.amount_refunded) from public.payment_intents p
                    where p.subject_type = 'installment' and p.subject_id = p_id), 0)
         - (select amount_released from public.installments where id = p_id)
$$;


--
-- Name: installment_guard_order(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_guard_order() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if exists (select 1 from public.installments where order_id = new.id and status = 'active') then
    perform hazina.raise_error('order_has_installment_plan', jsonb_build_object('order_id', new.id,
      'installment_id', (select id from public.installments where order_id = new.id)));
  end if;
  return new;
end
$$;


--
-- Name: installment_guard_order_intent(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_guard_order_intent() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if exists (select 1 from public.installments where order_id = new.id) then
    perform hazina.raise_error('order_has_installment_plan', jsonb_build_object('order_id', new.id,
      'installment_id', (select id from public.installments where order_id = new.id)));
  end if;
  return new;
end
$$;


--
-- Name: installment_guard_refund(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_guard_refund() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_plan_id uuid;
begin
  select subject_id into v_plan_id from public.payment_intents
   where id = new.payment_intent_id and subject_type = 'installment';
  if v_plan_id is not null and current_setting('hazina.installment_refund', true) is distinct from v_plan_id::text then
    perform hazina.raise_error('installment_refund_not_allowed', jsonb_build_object('installment_id', v_plan_id,
      'payment_intent_id', new.payment_intent_id));
  end if;
  return new;
end
$$;


--
-- Name: installment_intent_open(public.installments, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_intent_open(p_plan public.installments, p_amount numeric, p_ref text, p_description text) RETURNS jsonb
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select hazina.payment_intent_open(p_plan.merchant_id, p_amount, p_plan.currency, 'automatic', p_plan.customer_id,
                                    p_description, jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id),
                                    null, p_ref, 'installment', p_plan.id,
                                    hazina.system_wallet('escrow', p_plan.currency), 'escrow_funding')
$$;


--
-- Name: installment_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_json(p_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.installment_json(i) from public.installments i where i.id = p_id $$;


--
-- Name: installment_lock(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_lock(p_id uuid, p_actor uuid) RETURNS public.installments
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments;
begin
  select * into v_plan from public.installments
   where id = p_id and (p_actor is null or customer_id = p_actor or merchant_id = p_actor) for update;
  if v_plan.id is null then
    perform hazina.raise_error('installment_not_found', jsonb_build_object('installment_id', p_id));
  end if;
  return v_plan;
end
$$;


--
-- Name: installment_on_intent(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_on_intent() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments;
begin
  if new.status = 'succeeded' then
    perform hazina.installment_apply_payment(new);
  elsif new.status = 'canceled' then
    select * into v_plan from public.installments where deposit_intent_id = new.id;
    if v_plan.id is not null and v_plan.status = 'active' and v_plan.amount_paid = 0 then
      perform hazina.installment_close(v_plan.id, 'canceled', 0, 'deposit_not_paid');
      perform hazina.event_emit(v_plan.merchant_id, 'installment.canceled', 'installment', v_plan.id,
                                hazina.installment_json(v_plan.id));
    end if;
  end if;
  return null;
end
$$;


--
-- Name: installment_pay(uuid, uuid, numeric, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_pay(p_id uuid, p_customer_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_customer_id);
  v_outstanding numeric;
  v_amount numeric;
  v_intent jsonb;
  v_confirmed jsonb;
begin
  if v_plan.customer_id <> p_customer_id then
    perform hazina.raise_error('installment_not_found', jsonb_build_object('installment_id', p_id));
  end if;
  if p_client_ref is null or length(p_client_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  -- A replay of the same request returns the intent it opened.
  if exists (select 1 from public.payment_intents where merchant_id = v_plan.merchant_id
                and client_ref = 'installment:' || p_id || ':pay:' || p_client_ref) then
    select hazina.payment_intent_json(id) into v_intent from public.payment_intents
     where merchant_id = v_plan.merchant_id and client_ref = 'installment:' || p_id || ':pay:' || p_client_ref;
    return jsonb_build_object('installment', hazina.installment_json(p_id), 'payment_intent', v_intent);
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  v_outstanding := v_plan.total_amount + v_plan.late_fees - v_plan.amount_waived - v_plan.amount_paid;
  v_amount := coalesce(p_amount, (
    -- what is due by now, else the next unsettled row
    select coalesce(nullif(sum(s.amount + s.late_fee - s.amount_paid - s.amount_waived) filter (where s.due_at <= hazina.clock()), 0),
                    (array_agg(s.amount + s.late_fee - s.amount_paid - s.amount_waived order by s.seq))[1])
      from public.installment_schedule s where s.installment_id = p_id and s.status in ('pending', 'late')));
  perform hazina.assert_valid_amount(v_amount, v_plan.currency);
  if v_amount > v_outstanding then
    perform hazina.raise_error('amount_exceeds_outstanding', jsonb_build_object('outstanding', v_outstanding::numeric(19, 4)::text));
  end if;
  v_intent := hazina.installment_intent_open(v_plan, v_amount, 'installment:' || p_id || ':pay:' || p_client_ref,
                                             'Installment payment');
  if p_wallet_id is not null then
    v_confirmed := hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, p_customer_id,
      jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', v_amount::text)));
    v_intent := v_confirmed || jsonb_build_object('client_secret', v_intent -> 'client_secret');
  end if;
  return jsonb_build_object('installment', hazina.installment_json(p_id), 'payment_intent', v_intent - 'created');
end
$$;


--
-- Name: installment_process(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_process(p_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, null);
  v_now timestamptz := hazina.clock();
  v_row public.installment_schedule;
  v_due numeric;
  v_wallet uuid;
  v_intent jsonb;
  v_result jsonb;
  v_fee numeric;
begin
  -- Nothing falls due before the deposit is paid (its intent expiring cancels the plan).
  if v_plan.status <> 'active'
     or not exists (select 1 from public.installment_schedule where installment_id = p_id and seq = 0 and status = 'paid') then
    return;
  end if;
  if v_plan.auto_collect then
    for v_row in select * from public.installment_schedule
                  where installment_id = p_id and status in ('pending', 'late') and seq > 0 and due_at <= v_now
                    and collect_attempted_at is null order by seq for update loop
      update public.installment_schedule set collect_attempted_at = v_now, updated_at = now() where id = v_row.id;
      select status into v_plan.status from public.installments where id = p_id;
      exit when v_plan.status <> 'active';
      v_due := v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived;
      select id into v_wallet from public.wallets
       where user_id = v_plan.customer_id and currency = v_plan.currency and status = 'active';
      if v_wallet is null then
        continue;
      end if;
      v_intent := hazina.installment_intent_open(v_plan, v_due, 'installment:' || p_id || ':collect:' || v_row.seq,
                                                 'Installment auto-collection');
      -- An unaffordable collection is a failed attempt (nothing held, nothing overdrawn):
      -- the intent is canceled and the row turns late below.
      v_result := hazina.payment_intent_confirm((v_intent ->> 'id')::uuid, v_plan.customer_id,
        jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', v_wallet, 'amount', v_due::text)));
      if v_result ? 'payment_error' then
        perform hazina.payment_intent_cancel((v_intent ->> 'id')::uuid, null, 'auto_collection_failed');
      end if;
    end loop;
    select * into v_plan from public.installments where id = p_id;
    if v_plan.status <> 'active' then
      return;
    end if;
  end if;
  for v_row in select * from public.installment_schedule
                where installment_id = p_id and status = 'pending' and seq > 0 and due_at <= v_now order by seq for update loop
    update public.installment_schedule set status = 'late', late_at = v_now, updated_at = now() where id = v_row.id;
    perform hazina.event_emit(v_plan.merchant_id, 'installment.overdue', 'installment', p_id,
      hazina.installment_json(p_id) || jsonb_build_object('seq', v_row.seq));
  end loop;
  for v_row in select * from public.installment_schedule
                where installment_id = p_id and status = 'late' and missed_at is null
                  and due_at + make_interval(days => v_plan.grace_days) <= v_now order by seq for update loop
    v_fee := case when v_plan.late_fee_enabled
                  then (hazina.fee_quote('installment_late_fee', v_row.amount, v_plan.currency, v_plan.merchant_id)).fee
                  else 0 end;
    update public.installment_schedule
       set missed_at = v_now, late_fee = v_fee, late_fee_charged_at = case when v_fee > 0 then v_now end, updated_at = now()
     where id = v_row.id;
    update public.installments set late_fees = late_fees + v_fee, missed_count = missed_count + 1, updated_at = now()
     where id = p_id returning * into v_plan;
    perform hazina.event_emit(v_plan.merchant_id, 'installment.missed', 'installment', p_id,
      hazina.installment_json(p_id) || jsonb_build_object('seq', v_row.seq, 'late_fee', v_fee::numeric(19, 4)::text));
  end loop;
  perform hazina.installment_refresh(p_id);
  if v_plan.missed_count >= v_plan.missed_payments_to_default then
    perform hazina.installment_close(p_id, 'defaulted', hazina.installment_cancellation_fee(v_plan), 'missed_payments');
    perform hazina.event_emit(v_plan.merchant_id, 'installment.defaulted', 'installment', p_id, hazina.installment_json(p_id));
  end if;
end
$$;


--
-- Name: installment_refresh(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_refresh(p_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  update public.installments i
     set next_due_at = (select min(s.due_at) from public.installment_schedule s
                         where s.installment_id = i.id and s.status in ('pending', 'late')),
         updated_at = now()
   where i.id = p_id
$$;


--
-- Name: installment_release_order(public.installments, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_release_order(p_plan public.installments, p_status text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if exists (select 1 from public.orders where id = p_plan.order_id and status = 'pending_payment') then
    perform hazina.order_cancel(p_plan.order_id, p_plan.merchant_id, 'installment plan ' || p_status);
  end if;
end
$$;


--
-- Name: installment_schedule_amounts(numeric, numeric, integer, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_schedule_amounts(p_total numeric, p_deposit numeric, p_count integer, p_currency text) RETURNS TABLE(seq integer, amount numeric)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  with c as (select minor_units from public.currencies where code = p_currency),
       part as (select trunc((p_total - p_deposit) / p_count, c.minor_units) as each from c)
  select 0, p_deposit::numeric(19, 4)
  union all
  select k, (case when k < p_count then part.each
                  else (p_total - p_deposit) - part.each * (p_count - 1) end)::numeric(19, 4)
    from part, generate_series(1, p_count) k
  order by 1
$$;


--
-- Name: installment_settle(public.installments); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_settle(p_plan public.installments) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_wallet uuid;
  v_escrow_id uuid;
  -- late fees charged and not waived: paid in full once every row is settled
  v_fees_paid numeric := (select coalesce(sum(s.late_fee - s.late_fee_waived), 0)
                            from public.installment_schedule s where s.installment_id = p_plan.id);
  v_price_paid numeric := p_plan.amount_paid - v_fees_paid;
begin
  select * into v_order from public.orders where id = p_plan.order_id for update;
  select id into v_wallet from public.wallets
   where user_id = p_plan.merchant_id and currency = p_plan.currency and kind = 'merchant';
  if v_wallet is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', p_plan.currency));
  end if;
  update public.orders set status = 'paid', amount_paid = v_price_paid, paid_at = now(), updated_at = now()
   where id = v_order.id and status = 'pending_payment';
  if v_order.escrow then
    insert into public.goods_escrows (order_id, merchant_id, customer_id, wallet_id, currency, amount)
    values (v_order.id, v_order.merchant_id, v_order.customer_id, hazina.system_wallet('escrow', p_plan.currency),
            p_plan.currency, v_price_paid)
    returning id into v_escrow_id;
    perform hazina.escrow_event(v_escrow_id, 'escrow.funded');
    if v_fees_paid > 0 then
      perform hazina.transfer('installment:' || p_plan.id || ':late_fees', hazina.system_wallet('escrow', p_plan.currency),
        v_wallet, v_fees_paid, 'escrow_release', 'Installment late fees',
        jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
    end if;
  else
    perform hazina.transfer('installment:' || p_plan.id || ':release', hazina.system_wallet('escrow', p_plan.currency),
      v_wallet, p_plan.amount_paid, 'escrow_release', 'Installment plan completed',
      jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
  end if;
  update public.installments set amount_released = amount_released + p_plan.amount_paid where id = p_plan.id;
  perform hazina.order_event(v_order.id, 'order.paid');
end
$$;


--
-- Name: installment_waive(uuid, uuid, integer, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installment_waive(p_id uuid, p_merchant_id uuid, p_seq integer, p_what text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_plan public.installments := hazina.installment_lock(p_id, p_merchant_id);
  v_row public.installment_schedule;
  v_waived numeric;
begin
  if v_plan.merchant_id <> p_merchant_id then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'only the shop''s merchant waives'));
  end if;
  if v_plan.status <> 'active' then
    perform hazina.raise_error('installment_not_active', jsonb_build_object('installment_id', p_id, 'status', v_plan.status));
  end if;
  if p_what is null or p_what not in ('late_fee', 'payment') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'what', 'reason', 'late_fee or payment'));
  end if;
  select * into v_row from public.installment_schedule where installment_id = p_id and seq = p_seq for update;
  if v_row.id is null then
    perform hazina.raise_error('installment_row_not_found', jsonb_build_object('installment_id', p_id, 'seq', p_seq));
  end if;
  if v_row.status not in ('pending', 'late') then
    perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'status', v_row.status));
  end if;
  if p_what = 'late_fee' then
    -- The part of the fee neither paid (money pays the row's amount first, then its fee)
    -- nor waived before.
    v_waived := least(v_row.late_fee - v_row.late_fee_waived - greatest(v_row.amount_paid - v_row.amount, 0),
                      v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived);
    if v_waived <= 0 then
      perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'reason', 'no unpaid late fee'));
    end if;
  else
    if v_row.seq = 0 then
      perform hazina.raise_error('installment_row_not_waivable', jsonb_build_object('seq', p_seq, 'reason', 'the deposit cannot be waived'));
    end if;
    v_waived := v_row.amount + v_row.late_fee - v_row.amount_paid - v_row.amount_waived;
  end if;
  update public.installment_schedule
     set amount_waived = amount_waived + v_waived,
         late_fee_waived = late_fee_waived + case when p_what = 'late_fee' then v_waived else 0 end,
         status = case when amount_paid + amount_waived + v_waived = amount + late_fee then 'waived' else status end,
         waived_at = hazina.clock(), updated_at = now()
   where id = v_row.id;
  update public.installments set amount_waived = amount_waived + v_waived, updated_at = now() where id = p_id;
  perform hazina.installment_refresh(p_id);
  perform hazina.event_emit(v_plan.merchant_id, 'installment.waived', 'installment', p_id,
    hazina.installment_json(p_id) || jsonb_build_object('seq', p_seq, 'what', p_what, 'amount', v_waived::numeric(19, 4)::text));
  if not exists (select 1 from public.installment_schedule where installment_id = p_id and status in ('pending', 'late')) then
    perform hazina.installment_complete(p_id);
  end if;
  return hazina.installment_json(p_id);
end
$$;


--
-- Name: installments_due(timestamp with time zone); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.installments_due(p_now timestamp with time zone) RETURNS SETOF uuid
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select distinct s.installment_id
    from public.installment_schedule s join public.installments i on i.id = s.installment_id
   where s.status in ('pending', 'late') and s.seq > 0 and s.due_at <= p_now and i.status = 'active'
     and exists (select 1 from public.installment_schedule d where d.installment_id = i.id and d.seq = 0 and d.status = 'paid')
     and (s.status = 'pending'
          or (s.missed_at is null and s.due_at + make_interval(days => i.grace_days) <= p_now)
          or (i.auto_collect and s.seq > 0 and s.collect_attempted_at is null))
$$;


--
-- Name: intent_qr_on_close(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.intent_qr_on_close() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.qr_code_disable_bound('intent', new.id);
  return null;
end
$$;


--
-- Name: invoice_apply(uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_apply(p_invoice_id uuid, p_fields jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_invoice public.invoices;
  v_unknown text;
begin
  if p_fields is null or jsonb_typeof(p_fields) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  select k into v_unknown from jsonb_object_keys(p_fields) k
   where k not in ('customer_id', 'customer_email', 'customer_phone', 'customer_name', 'currency', 'due_date', 'memo',
                   'allow_partial_payment', 'metadata', 'items') limit 1;
  if v_unknown is not null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_unknown, 'reason', 'not an invoice field'));
  end if;
  select * into v_invoice from public.invoices where id = p_invoice_id;
  if p_fields ? 'currency' then
    if not exists (select 1 from public.currencies where code = p_fields ->> 'currency') then
      perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_fields ->> 'currency'));
    end if;
    v_invoice.currency := p_fields ->> 'currency';
  end if;
  if p_fields ? 'customer_id' then
    if p_fields ->> 'customer_id' is not null then
      if p_fields ->> 'customer_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
         or not exists (select 1 from public.auth_users where id = (p_fields ->> 'customer_id')::uuid) then
        perform hazina.raise_error('customer_not_found', jsonb_build_object('customer_id', p_fields ->> 'customer_id'));
      end if;
      if (p_fields ->> 'customer_id')::uuid = v_invoice.merchant_id then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id', 'reason', 'a merchant cannot invoice itself'));
      end if;
    end if;
    v_invoice.customer_id := (p_fields ->> 'customer_id')::uuid;
  end if;
  if p_fields ? 'customer_email' then
    if p_fields ->> 'customer_email' is not null and (lower(p_fields ->> 'customer_email') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
       or length(p_fields ->> 'customer_email') > 254) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_email', 'reason', 'an email address'));
    end if;
    v_invoice.customer_email := lower(p_fields ->> 'customer_email');
  end if;
  if p_fields ? 'customer_phone' then
    if p_fields ->> 'customer_phone' !~ '^\+?[1-9][0-9]{6,14}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_phone', 'reason', 'a phone number such as +254712345678'));
    end if;
    v_invoice.customer_phone := p_fields ->> 'customer_phone';
  end if;
  if p_fields ? 'customer_name' then
    if length(p_fields ->> 'customer_name') not between 1 and 200 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_name', 'reason', '1 to 200 characters'));
    end if;
    v_invoice.customer_name := p_fields ->> 'customer_name';
  end if;
  if p_fields ? 'due_date' then
    if p_fields ->> 'due_date' !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'due_date', 'reason', 'a date, YYYY-MM-DD'));
    end if;
    begin
      v_invoice.due_date := (p_fields ->> 'due_date')::date;
    exception when others then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'due_date', 'reason', 'a date, YYYY-MM-DD'));
    end;
  end if;
  if p_fields ? 'memo' then
    if length(p_fields ->> 'memo') > 2000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'memo', 'reason', 'at most 2000 characters'));
    end if;
    v_invoice.memo := p_fields ->> 'memo';
  end if;
  if p_fields ? 'allow_partial_payment' then
    if jsonb_typeof(p_fields -> 'allow_partial_payment') <> 'boolean' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'allow_partial_payment', 'reason', 'true or false'));
    end if;
    v_invoice.allow_partial_payment := (p_fields ->> 'allow_partial_payment')::boolean;
  end if;
  if p_fields ? 'metadata' then
    if jsonb_typeof(p_fields -> 'metadata') <> 'object' or length((p_fields -> 'metadata')::text) > 16000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'metadata', 'reason', 'an object of at most 16000 characters'));
    end if;
    v_invoice.metadata := p_fields -> 'metadata';
  end if;
  if v_invoice.customer_id is null and v_invoice.customer_email is null and v_invoice.customer_phone is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id',
      'reason', 'an invoice is addressed to a customer: customer_id, customer_email or customer_phone'));
  end if;
  -- The merchant is paid into its merchant wallet of the currency: it must have one.
  if not exists (select 1 from public.wallets where user_id = v_invoice.merchant_id and currency = v_invoice.currency
                                               and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_invoice.currency));
  end if;
  update public.invoices
     set customer_id = v_invoice.customer_id, customer_email = v_invoice.customer_email,
         customer_phone = v_invoice.customer_phone, customer_name = v_invoice.customer_name, currency = v_invoice.currency,
         due_date = v_invoice.due_date, memo = v_invoice.memo, allow_partial_payment = v_invoice.allow_partial_payment,
         metadata = v_invoice.metadata, updated_at = now()
   where id = p_invoice_id;
  -- Items are recomputed when they change and when the currency does (its minor units).
  if p_fields ? 'items' or p_fields ? 'currency' then
    perform hazina.invoice_set_items(p_invoice_id, coalesce(p_fields -> 'items', (
      select coalesce(jsonb_agg(jsonb_build_object('description', t.description, 'quantity', t.quantity::text,
                                                   'unit_amount', t.unit_amount::text, 'tax_rate', t.tax_rate)
                                order by t.position), '[]'::jsonb)
        from public.invoice_items t where t.invoice_id = p_invoice_id)));
  end if;
end
$_$;


--
-- Name: invoice_create(uuid, jsonb, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_create(p_merchant_id uuid, p_fields jsonb, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.invoices;
  v_id uuid := gen_random_uuid();
  v_hash text := encode(sha256(convert_to(coalesce(p_fields, 'null'::jsonb)::text, 'UTF8')), 'hex');
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.invoices where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.request_hash <> v_hash then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return public.invoice_json(v_existing) || jsonb_build_object('created', false);
  end if;
  insert into public.invoices (id, merchant_id, client_ref, request_hash)
  values (v_id, p_merchant_id, p_client_ref, v_hash)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate invoice; retry';
  end if;
  perform hazina.invoice_apply(v_id, coalesce(p_fields, '{}'::jsonb) ||
    case when p_fields ? 'items' then '{}'::jsonb else '{"items": []}'::jsonb end);
  perform hazina.invoice_event(v_id, 'created');
  return hazina.invoice_json(v_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: invoice_delete(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_delete(p_invoice_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
  v_json jsonb;
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  v_json := hazina.invoice_json(p_invoice_id) || jsonb_build_object('deleted', true);
  perform hazina.event_emit(v_invoice.merchant_id, 'invoice.deleted', 'invoice', p_invoice_id, v_json);
  delete from public.invoices where id = p_invoice_id;
  return v_json;
end
$$;


--
-- Name: invoice_event(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_event(p_invoice_id uuid, p_type text) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select hazina.event_emit(i.merchant_id, 'invoice.' || p_type, 'invoice', i.id, public.invoice_json(i))
    from public.invoices i where i.id = p_invoice_id
$$;


--
-- Name: invoice_finalize(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_finalize(p_invoice_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
  v_sequence public.invoice_sequences;
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  if v_invoice.total <= 0 then
    perform hazina.raise_error('invoice_empty', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if not exists (select 1 from public.wallets where user_id = v_invoice.merchant_id and currency = v_invoice.currency
                                               and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_invoice.currency));
  end if;
  insert into public.invoice_sequences (merchant_id) values (v_invoice.merchant_id) on conflict do nothing;
  select * into v_sequence from public.invoice_sequences where merchant_id = v_invoice.merchant_id for update;
  update public.invoice_sequences set next_number = next_number + 1, updated_at = now()
   where merchant_id = v_invoice.merchant_id;
  update public.invoices
     set status = 'open', sequence_number = v_sequence.next_number,
         number = v_sequence.number_prefix || case when v_sequence.next_number < 1000000
                                                   then lpad(v_sequence.next_number::text, 6, '0')
                                                   else v_sequence.next_number::text end,
         pay_token = 'inv_' || encode(extensions.gen_random_bytes(24), 'hex'),
         due_date = coalesce(due_date, (hazina.clock() at time zone 'Africa/Nairobi')::date + 30),
         amount_due = total, finalized_at = hazina.clock(), updated_at = now()
   where id = p_invoice_id;
  perform hazina.invoice_event(p_invoice_id, 'finalized');
  return hazina.invoice_json(p_invoice_id);
end
$$;


--
-- Name: invoice_guest_refund_created(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_guest_refund_created() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice_id uuid;
begin
  select subject_id into v_invoice_id from public.payment_intents
   where id = new.payment_intent_id and subject_type = 'invoice';
  if v_invoice_id is null then
    return null;
  end if;
  perform 1 from public.invoices where id = v_invoice_id for update;
  perform hazina.invoice_release_intents(v_invoice_id);
  return null;
end
$$;


--
-- Name: invoice_guest_refund_failed(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_guest_refund_failed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices;
  v_was text;
begin
  select v.* into v_invoice from public.payment_intents i join public.invoices v on v.id = i.subject_id
   where i.id = new.payment_intent_id and i.subject_type = 'invoice';
  if v_invoice.id is null then
    return null;
  end if;
  select * into v_invoice from public.invoices where id = v_invoice.id for update;
  v_was := v_invoice.status;
  if v_invoice.status not in ('open', 'uncollectible') or new.amount > v_invoice.amount_due then
    perform hazina.raise_error('invoice_overpayment', jsonb_build_object('invoice_id', v_invoice.id, 'status', v_invoice.status,
      'amount_due', v_invoice.amount_due::text, 'amount', new.amount::text, 'payment_refund_id', new.id));
  end if;
  update public.invoices
     set amount_paid = amount_paid + new.amount, amount_due = amount_due - new.amount,
         status = case when amount_due = new.amount then 'paid' else status end,
         paid_at = case when amount_due = new.amount then hazina.clock() end,
         updated_at = now()
   where id = v_invoice.id
  returning * into v_invoice;
  perform hazina.invoice_event(v_invoice.id, 'refund_failed');
  if v_invoice.status = 'paid' and v_was <> 'paid' then
    perform hazina.invoice_event(v_invoice.id, 'paid');
  end if;
  return null;
end
$$;


--
-- Name: invoice_intent_succeeded(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_intent_succeeded() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices;
begin
  select * into v_invoice from public.invoices where id = new.subject_id for update;
  if v_invoice.id is null or v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_payable', jsonb_build_object('invoice_id', new.subject_id, 'status', v_invoice.status));
  end if;
  if new.amount_received > v_invoice.amount_due or new.currency <> v_invoice.currency then
    perform hazina.raise_error('invoice_overpayment', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text, 'amount', new.amount_received::text));
  end if;
  update public.invoices
     set amount_paid = amount_paid + new.amount_received, amount_due = amount_due - new.amount_received,
         status = case when amount_due = new.amount_received then 'paid' else status end,
         paid_at = case when amount_due = new.amount_received then hazina.clock() end,
         updated_at = now()
   where id = v_invoice.id
  returning * into v_invoice;
  perform hazina.invoice_event(v_invoice.id, case when v_invoice.status = 'paid' then 'paid' else 'partially_paid' end);
  return null;
end
$$;


--
-- Name: invoice_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_json(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.invoice_json(i) from public.invoices i where i.id = p_invoice_id $$;


--
-- Name: invoices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invoices (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    customer_id uuid,
    customer_email text,
    customer_phone text,
    customer_name text,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    status text DEFAULT 'draft'::text NOT NULL,
    number text,
    sequence_number bigint,
    due_date date,
    memo text,
    subtotal numeric(19,4) DEFAULT 0 NOT NULL,
    tax numeric(19,4) DEFAULT 0 NOT NULL,
    total numeric(19,4) DEFAULT 0 NOT NULL,
    amount_paid numeric(19,4) DEFAULT 0 NOT NULL,
    amount_due numeric(19,4) DEFAULT 0 NOT NULL,
    allow_partial_payment boolean DEFAULT false NOT NULL,
    pay_token text,
    payment_attempts integer DEFAULT 0 NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    client_ref text NOT NULL,
    request_hash text NOT NULL,
    finalized_at timestamp with time zone,
    paid_at timestamp with time zone,
    voided_at timestamp with time zone,
    marked_uncollectible_at timestamp with time zone,
    overdue_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoices_amount_due_check CHECK ((amount_due >= (0)::numeric)),
    CONSTRAINT invoices_amount_paid_check CHECK ((amount_paid >= (0)::numeric)),
    CONSTRAINT invoices_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT invoices_customer CHECK (((status = 'draft'::text) OR (customer_id IS NOT NULL) OR (customer_email IS NOT NULL) OR (customer_phone IS NOT NULL))),
    CONSTRAINT invoices_customer_email_check CHECK (((customer_email = lower(customer_email)) AND (customer_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text) AND (length(customer_email) <= 254))),
    CONSTRAINT invoices_customer_name_check CHECK (((length(customer_name) >= 1) AND (length(customer_name) <= 200))),
    CONSTRAINT invoices_customer_phone_check CHECK ((customer_phone ~ '^\+?[1-9][0-9]{6,14}$'::text)),
    CONSTRAINT invoices_due CHECK ((amount_due =
CASE
    WHEN (status = ANY (ARRAY['draft'::text, 'void'::text])) THEN
    CASE
        WHEN (status = 'draft'::text) THEN total
        ELSE (0)::numeric
    END
    ELSE (total - amount_paid)
END)),
    CONSTRAINT invoices_memo_check CHECK ((length(memo) <= 2000)),
    CONSTRAINT invoices_metadata_check CHECK (((jsonb_typeof(metadata) = 'object'::text) AND (length((metadata)::text) <= 16000))),
    CONSTRAINT invoices_numbered CHECK ((((status = 'draft'::text) = (number IS NULL)) AND ((number IS NULL) = (sequence_number IS NULL)) AND ((number IS NULL) = (pay_token IS NULL)) AND ((number IS NULL) = (finalized_at IS NULL)))),
    CONSTRAINT invoices_paid CHECK ((((status = 'paid'::text) = (paid_at IS NOT NULL)) AND ((status <> 'paid'::text) OR (amount_due = (0)::numeric)))),
    CONSTRAINT invoices_pay_token_check CHECK ((pay_token ~ '^inv_[0-9a-f]{48}$'::text)),
    CONSTRAINT invoices_payment_attempts_check CHECK ((payment_attempts >= 0)),
    CONSTRAINT invoices_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'open'::text, 'paid'::text, 'void'::text, 'uncollectible'::text]))),
    CONSTRAINT invoices_subtotal_check CHECK ((subtotal >= (0)::numeric)),
    CONSTRAINT invoices_tax_check CHECK ((tax >= (0)::numeric)),
    CONSTRAINT invoices_total_check CHECK ((total >= (0)::numeric)),
    CONSTRAINT invoices_totals CHECK (((total = (subtotal + tax)) AND (amount_paid <= total))),
    CONSTRAINT invoices_voided CHECK (((status = 'void'::text) = (voided_at IS NOT NULL)))
);


--
-- Name: invoice_lock(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_lock(p_invoice_id uuid, p_merchant_id uuid) RETURNS public.invoices
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices;
begin
  select * into v_invoice from public.invoices
   where id = p_invoice_id and (p_merchant_id is null or merchant_id = p_merchant_id) for update;
  if v_invoice.id is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  return v_invoice;
end
$$;


--
-- Name: invoice_mark_overdue(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_mark_overdue(p_limit integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_id uuid;
  v_count integer := 0;
  v_today date := (hazina.clock() at time zone 'Africa/Nairobi')::date;
begin
  for v_id in
    select id from public.invoices
     where status = 'open' and overdue_at is null and due_date < v_today
     order by due_date, id limit p_limit
       for update skip locked
  loop
    update public.invoices set overdue_at = hazina.clock(), updated_at = now() where id = v_id;
    perform hazina.invoice_event(v_id, 'overdue');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;


--
-- Name: invoice_mark_uncollectible(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_mark_uncollectible(p_invoice_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status = 'uncollectible' then
    return hazina.invoice_json(p_invoice_id);
  end if;
  if v_invoice.status <> 'open' then
    perform hazina.raise_error('invoice_not_open', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  update public.invoices set status = 'uncollectible', marked_uncollectible_at = hazina.clock(), updated_at = now()
   where id = p_invoice_id;
  perform hazina.invoice_event(p_invoice_id, 'marked_uncollectible');
  return hazina.invoice_json(p_invoice_id);
end
$$;


--
-- Name: invoice_pay(uuid, uuid, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices;
  v_amount numeric;
  v_customer uuid;
  v_reuse public.payment_intents;
  v_result jsonb;
begin
  if p_pay_token is not null then
    select * into v_invoice from public.invoices where pay_token = p_pay_token for update;
  else
    select * into v_invoice from public.invoices
     where id = p_invoice_id and customer_id = p_payer_id and status <> 'draft' for update;
  end if;
  if v_invoice.id is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_payable', jsonb_build_object('invoice_id', v_invoice.id, 'status', v_invoice.status));
  end if;
  if hazina.invoice_refund_pending(v_invoice.id) then
    perform hazina.raise_error('invoice_refund_pending', jsonb_build_object('invoice_id', v_invoice.id));
  end if;
  v_amount := coalesce(p_amount, v_invoice.amount_due);
  perform hazina.assert_valid_amount(v_amount, v_invoice.currency);
  if v_amount > v_invoice.amount_due then
    perform hazina.raise_error('amount_exceeds_due', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  if v_amount <> v_invoice.amount_due and not v_invoice.allow_partial_payment then
    perform hazina.raise_error('partial_payment_not_allowed', jsonb_build_object('invoice_id', v_invoice.id,
      'amount_due', v_invoice.amount_due::text));
  end if;
  v_customer := case when p_pay_token is null then p_payer_id end;
  -- The addressed customer asking again for the same amount gets the same intent back.
  if p_pay_token is null then
    select * into v_reuse from public.payment_intents
     where subject_type = 'invoice' and subject_id = v_invoice.id and status = 'requires_confirmation'
       and customer_id = v_customer and amount = v_amount and expires_at > hazina.clock() + interval '5 minutes'
     order by created_at desc limit 1;
  end if;
  perform hazina.invoice_release_intents(v_invoice.id, v_reuse.id);
  if v_reuse.id is not null then
    return hazina.payment_intent_json(v_reuse.id) || jsonb_build_object('created', false);
  end if;
  update public.invoices set payment_attempts = payment_attempts + 1, updated_at = now() where id = v_invoice.id
  returning * into v_invoice;
  v_result := hazina.payment_intent_open(v_invoice.merchant_id, v_amount, v_invoice.currency, 'automatic', v_customer,
    'Invoice ' || v_invoice.number, jsonb_build_object('invoice_id', v_invoice.id, 'invoice_number', v_invoice.number),
    null, 'invoice:' || v_invoice.id || ':attempt:' || v_invoice.payment_attempts, 'invoice', v_invoice.id, null, null);
  return v_result;
end
$$;


--
-- Name: invoice_pay_link_json(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_pay_link_json(p_pay_token text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_json jsonb;
begin
  select jsonb_build_object('object', 'invoice_pay_link', 'id', i.id, 'number', i.number, 'status', i.status,
                            'merchant', jsonb_build_object('id', i.merchant_id, 'name', coalesce(u.name, 'Merchant')),
                            'customer_name', i.customer_name, 'currency', i.currency, 'due_date', i.due_date::text,
                            'memo', i.memo, 'subtotal', i.subtotal::text, 'tax', i.tax::text, 'total', i.total::text,
                            'amount_paid', i.amount_paid::text, 'amount_due', i.amount_due::text,
                            'allow_partial_payment', i.allow_partial_payment, 'items', public.invoice_json(i) -> 'items')
    into v_json
    from public.invoices i join public.auth_users u on u.id = i.merchant_id
   where i.pay_token = p_pay_token;
  if v_json is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object());
  end if;
  return v_json;
end
$$;


--
-- Name: invoice_payment_refunded(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_payment_refunded() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice_id uuid;
begin
  select subject_id into v_invoice_id from public.payment_intents
   where id = new.payment_intent_id and subject_type = 'invoice';
  if v_invoice_id is null then
    return null;
  end if;
  perform 1 from public.invoices where id = v_invoice_id for update;
  update public.invoices
     set amount_paid = amount_paid - new.amount, amount_due = amount_due + new.amount,
         status = case when status = 'paid' then 'open' else status end,
         paid_at = null, updated_at = now()
   where id = v_invoice_id;
  perform hazina.invoice_event(v_invoice_id, 'payment_refunded');
  return null;
end
$$;


--
-- Name: invoice_qr_on_close(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_qr_on_close() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.qr_code_disable_bound('invoice', new.id);
  return null;
end
$$;


--
-- Name: invoice_qr_on_finalise(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_qr_on_finalise() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.amount_due > 0 then
    perform hazina.qr_code_create(new.merchant_id, 'invoice', left('Invoice ' || coalesce(new.number, new.id::text), 100),
                                  new.amount_due, new.currency, new.id, null, null, 'invoice:' || new.id || ':qr');
  end if;
  return null;
end
$$;


--
-- Name: invoice_qr_on_reopen(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_qr_on_reopen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_status text;
begin
  for v_code in select * from public.qr_codes
                 where invoice_id = new.id and status = 'disabled' and disabled_reason = 'subject_closed'
                 order by id for update loop
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
    update public.qr_codes set status = v_status, disabled_reason = null, updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.' || v_status, 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
  return null;
end
$$;


--
-- Name: invoice_refund_pending(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_refund_pending(p_invoice_id uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select exists (select 1 from public.payment_refunds r join public.payment_intents i on i.id = r.payment_intent_id
                  where i.subject_type = 'invoice' and i.subject_id = p_invoice_id and r.status = 'pending')
$$;


--
-- Name: invoice_release_intents(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_release_intents(p_invoice_id uuid, p_keep uuid DEFAULT NULL::uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_open integer;
  v_locked uuid[];
  v_intent public.payment_intents;
begin
  select count(*) into v_open from public.payment_intents
   where subject_type = 'invoice' and subject_id = p_invoice_id
     and status in ('requires_confirmation', 'processing', 'requires_capture');
  select coalesce(array_agg(id), '{}') into v_locked from (
    select id from public.payment_intents
     where subject_type = 'invoice' and subject_id = p_invoice_id
       and status in ('requires_confirmation', 'processing', 'requires_capture')
     order by id for update skip locked) l;
  if cardinality(v_locked) < v_open then
    perform hazina.raise_error('invoice_payment_in_progress', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  for v_intent in select * from public.payment_intents where id = any (v_locked) and id is distinct from p_keep order by id loop
    if v_intent.status <> 'requires_confirmation' then
      perform hazina.raise_error('invoice_payment_in_progress', jsonb_build_object('invoice_id', p_invoice_id,
        'payment_intent_id', v_intent.id));
    end if;
    perform hazina.payment_intent_cancel(v_intent.id, null, 'replaced');
  end loop;
end
$$;


--
-- Name: invoice_sequence_get(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_sequence_get(p_merchant_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  insert into public.invoice_sequences (merchant_id) values (p_merchant_id) on conflict do nothing;
  select public.invoice_sequence_json(s) from public.invoice_sequences s where s.merchant_id = p_merchant_id;
$$;


--
-- Name: invoice_set_items(uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_set_items(p_invoice_id uuid, p_items jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
declare
  v_invoice public.invoices;
  v_item jsonb;
  v_position integer := 0;
  v_minor smallint;
  v_quantity numeric;
  v_unit numeric;
  v_rate integer;
  v_subtotal numeric;
  v_tax numeric;
begin
  select * into v_invoice from public.invoices where id = p_invoice_id;
  select minor_units into v_minor from public.currencies where code = v_invoice.currency;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) > 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', 'an array of at most 100 items'));
  end if;
  delete from public.invoice_items where invoice_id = p_invoice_id;
  for v_item in select value from jsonb_array_elements(p_items) loop
    v_position := v_position + 1;
    if jsonb_typeof(v_item) <> 'object' or jsonb_typeof(v_item -> 'description') is distinct from 'string'
       or length(v_item ->> 'description') not between 1 and 500 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.description', 'position', v_position,
        'reason', '1 to 500 characters'));
    end if;
    if jsonb_typeof(v_item -> 'quantity') is distinct from 'string' or v_item ->> 'quantity' !~ '^[0-9]{1,9}(\.[0-9]{1,4})?$'
       or (v_item ->> 'quantity')::numeric <= 0 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.quantity', 'position', v_position,
        'reason', 'a positive decimal string with at most 4 decimals, e.g. "1" or "0.333"'));
    end if;
    if jsonb_typeof(v_item -> 'unit_amount') is distinct from 'string' or v_item ->> 'unit_amount' !~ '^[0-9]{1,12}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.unit_amount', 'position', v_position,
        'reason', 'a decimal string with at most 4 decimals, e.g. "1250.00"'));
    end if;
    if v_item ? 'tax_rate' and (jsonb_typeof(v_item -> 'tax_rate') is distinct from 'number'
       or (v_item ->> 'tax_rate') !~ '^[0-9]{1,5}$' or (v_item ->> 'tax_rate')::integer > 10000) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.tax_rate', 'position', v_position,
        'reason', 'basis points, 0 to 10000 (1600 = 16%)'));
    end if;
    v_quantity := (v_item ->> 'quantity')::numeric;
    v_unit := (v_item ->> 'unit_amount')::numeric;
    v_rate := coalesce((v_item ->> 'tax_rate')::integer, 0);
    -- The rounding rule: half away from zero, to the currency's minor units, per line.
    v_subtotal := round(v_quantity * v_unit, v_minor);
    v_tax := round(v_subtotal * v_rate / 10000, v_minor);
    if v_subtotal + v_tax >= 1e15 then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_invoice.currency, 'position', v_position));
    end if;
    insert into public.invoice_items (invoice_id, position, description, quantity, unit_amount, tax_rate, subtotal, tax, total)
    values (p_invoice_id, v_position, v_item ->> 'description', v_quantity, v_unit, v_rate, v_subtotal, v_tax, v_subtotal + v_tax);
  end loop;
  update public.invoices i
     set subtotal = s.subtotal, tax = s.tax, total = s.subtotal + s.tax, amount_due = s.subtotal + s.tax, updated_at = now()
    from (select coalesce(sum(subtotal), 0) as subtotal, coalesce(sum(tax), 0) as tax
            from public.invoice_items where invoice_id = p_invoice_id) s
   where i.id = p_invoice_id;
  if (select total from public.invoices where id = p_invoice_id) >= 1e15 then
    perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_invoice.currency));
  end if;
end
$_$;


--
-- Name: invoice_settings_update(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_settings_update(p_merchant_id uuid, p_number_prefix text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
begin
  if p_number_prefix is null or p_number_prefix !~ '^[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'number_prefix',
      'reason', '1 to 20 letters, digits or / _ . -, starting with a letter or digit'));
  end if;
  if not exists (select 1 from public.wallets where user_id = p_merchant_id and kind = 'merchant') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object());
  end if;
  insert into public.invoice_sequences as s (merchant_id, number_prefix) values (p_merchant_id, p_number_prefix)
  on conflict (merchant_id) do update set number_prefix = excluded.number_prefix, updated_at = now();
  return hazina.invoice_sequence_get(p_merchant_id);
end
$_$;


--
-- Name: invoice_update(uuid, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_update(p_invoice_id uuid, p_merchant_id uuid, p_fields jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status <> 'draft' then
    perform hazina.raise_error('invoice_not_draft', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  perform hazina.invoice_apply(p_invoice_id, p_fields);
  perform hazina.invoice_event(p_invoice_id, 'updated');
  return hazina.invoice_json(p_invoice_id);
end
$$;


--
-- Name: invoice_void(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status = 'void' then
    return hazina.invoice_json(p_invoice_id);
  end if;
  if v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_voidable', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
  end if;
  if hazina.invoice_refund_pending(p_invoice_id) then
    perform hazina.raise_error('invoice_refund_pending', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  if v_invoice.amount_paid > 0 then
    perform hazina.raise_error('invoice_has_payments', jsonb_build_object('invoice_id', p_invoice_id,
      'amount_paid', v_invoice.amount_paid::text));
  end if;
  perform hazina.invoice_release_intents(p_invoice_id);
  update public.invoices set status = 'void', amount_due = 0, voided_at = hazina.clock(), updated_at = now()
   where id = p_invoice_id;
  perform hazina.invoice_event(p_invoice_id, 'voided');
  return hazina.invoice_json(p_invoice_id);
end
$$;


--
-- Name: is_payment_provider(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.is_payment_provider(p_value text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
begin
  return p_value is not null and p_value::public.payment_provider is not null;
exception when check_violation then
  return false;
end
$$;


--
-- Name: job_cron_schedule(interval); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_cron_schedule(p_every interval) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
declare
  v_seconds integer := greatest(1, extract(epoch from p_every)::integer);
begin
  if v_seconds < 60 then return v_seconds || ' seconds'; end if;
  if v_seconds < 3600 then
    return case when v_seconds / 60 = 1 then '* * * * *' else '*/' || (v_seconds / 60) || ' * * * *' end;
  end if;
  if v_seconds < 86400 then
    return case when v_seconds / 3600 = 1 then '0 * * * *' else '0 */' || (v_seconds / 3600) || ' * * *' end;
  end if;
  return '0 0 * * *';
end
$$;


--
-- Name: job_expire_holds(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_expire_holds(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_done integer := hazina.expire_holds(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.wallet_holds where status = 'pending' and expires_at <= now()));
end
$$;


--
-- Name: job_expire_payment_intents(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_expire_payment_intents(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_done integer := hazina.expire_payment_intents(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.payment_intents
                   where status in ('requires_confirmation', 'processing', 'requires_capture') and expires_at <= hazina.clock()));
end
$$;


--
-- Name: job_expire_qr_codes(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_expire_qr_codes(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_done integer := 0;
begin
  for v_code in
    select * from public.qr_codes
     where status = 'active' and expires_at <= hazina.clock()
     order by expires_at limit p_limit
       for update skip locked
  loop
    update public.qr_codes set status = 'expired', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.expired', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
    v_done := v_done + 1;
  end loop;
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.qr_codes where status = 'active' and expires_at <= hazina.clock()));
end
$$;


--
-- Name: job_installments_due(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_installments_due(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_id uuid;
  v_count integer := 0;
begin
  for v_id in select i.id from public.installments i
               where i.id in (select hazina.installments_due(hazina.clock())) and i.status = 'active'
               order by i.next_due_at nulls last, i.id limit p_limit for update skip locked loop
    perform hazina.installment_process(v_id);
    v_count := v_count + 1;
  end loop;
  return jsonb_build_object('processed', v_count,
                            'remaining', (select count(*) from hazina.installments_due(hazina.clock())));
end
$$;


--
-- Name: job_list(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_list() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'name', j.name, 'runs_in', j.runs_in, 'every_seconds', extract(epoch from j.every)::integer,
           'batch_size', j.batch_size, 'exclusive', j.exclusive, 'description', j.description,
           'run_count', coalesce(r.run_count, 0), 'error_count', coalesce(r.error_count, 0),
           'last_started_at', r.last_started_at, 'last_finished_at', r.last_finished_at,
           'last_status', r.last_status, 'last_report', r.last_report,
           'last_error', r.last_error, 'last_error_at', r.last_error_at,
           'backlog', r.last_report -> 'remaining',
           'due', r.last_started_at is null or r.last_started_at + j.every <= now()
                  or (r.last_status = 'succeeded' and coalesce((r.last_report ->> 'remaining')::numeric, 0) > 0
                      and coalesce((r.last_report ->> 'processed')::numeric, 0) > 0))
         order by j.name), '[]'::jsonb)
    from hazina.jobs j left join public.job_runs r on r.name = j.name
$$;


--
-- Name: job_mark_overdue_invoices(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_mark_overdue_invoices(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_done integer := hazina.invoice_mark_overdue(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.invoices
                   where status = 'open' and overdue_at is null
                     and due_date < (hazina.clock() at time zone 'Africa/Nairobi')::date));
end
$$;


--
-- Name: job_money_sweep_sql(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_money_sweep_sql(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_report jsonb := hazina.money_sweep_sql(interval '1 day', p_limit);
begin
  return v_report || jsonb_build_object(
    'processed', (v_report ->> 'funding_expired')::integer + (v_report ->> 'events_tried')::integer,
    'limit_applied', true, 'limit', p_limit);
end
$$;


--
-- Name: job_purge_auth(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_purge_auth(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_keep constant interval := interval '30 days';
  v_tokens integer;
  v_sessions integer;
begin
  with due as (
    select id from public.auth_verification_token
     where coalesce(consumed_at, expires_at) < now() - v_keep limit p_limit for update skip locked
  ), gone as (
    delete from public.auth_verification_token t using due where t.id = due.id returning 1
  )
  select count(*)::integer into v_tokens from gone;
  with families as (
    select f.family_id from public.auth_sessions f group by f.family_id
    having max(coalesce(f.revoked_at, f.expires_at)) < now() - v_keep
       and bool_and(f.revoked_at is not null or f.expires_at < now())
     limit p_limit
  ), gone as (
    delete from public.auth_sessions s using families where s.family_id = families.family_id returning 1
  )
  select count(*)::integer into v_sessions from gone;
  return jsonb_build_object('processed', v_tokens + v_sessions, 'tokens', v_tokens, 'sessions', v_sessions,
    'remaining', (select count(*) from public.auth_verification_token
                   where coalesce(consumed_at, expires_at) < now() - v_keep)
               + (select count(*) from (select 1 from public.auth_sessions f group by f.family_id
                   having max(coalesce(f.revoked_at, f.expires_at)) < now() - v_keep
                      and bool_and(f.revoked_at is not null or f.expires_at < now())) x));
end
$$;


--
-- Name: job_purge_idempotency(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_purge_idempotency(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_done integer;
begin
  with due as (
    select id from public.payment_idempotency where expires_at <= now()
     order by expires_at limit p_limit for update skip locked
  ), gone as (
    delete from public.payment_idempotency p using due where p.id = due.id returning 1
  )
  select count(*)::integer into v_done from gone;
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.payment_idempotency where expires_at <= now()));
end
$$;


--
-- Name: job_purge_webhook_deliveries(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_purge_webhook_deliveries(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_cutoff timestamptz := now() - hazina.webhook_delivery_retention();
  v_ids uuid[];
  v_attempts integer;
begin
  select coalesce(array_agg(id), '{}') into v_ids
    from (select d.id from public.webhook_deliveries d
           where d.status in ('succeeded', 'failed') and coalesce(d.succeeded_at, d.failed_at) < v_cutoff
           order by coalesce(d.succeeded_at, d.failed_at)
           limit p_limit
             for update skip locked) s;
  delete from public.webhook_delivery_attempts where delivery_id = any (v_ids);
  get diagnostics v_attempts = row_count;
  delete from public.webhook_deliveries where id = any (v_ids);
  return jsonb_build_object('processed', cardinality(v_ids), 'attempts_deleted', v_attempts,
    'remaining', (select count(*) from public.webhook_deliveries d
                   where d.status in ('succeeded', 'failed') and coalesce(d.succeeded_at, d.failed_at) < v_cutoff));
end
$$;


--
-- Name: job_record(text, timestamp with time zone, jsonb, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_record(p_name text, p_started_at timestamp with time zone, p_report jsonb, p_error text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_status text := case when p_error is not null then 'failed'
                        when p_report ? 'skipped' then 'skipped' else 'succeeded' end;
begin
  if not exists (select 1 from hazina.jobs where name = p_name) then
    perform hazina.raise_error('job_not_found', jsonb_build_object('job', p_name));
  end if;
  insert into public.job_runs as r (name, run_count, error_count, last_started_at, last_finished_at,
                                    last_status, last_report, last_error, last_error_at)
  values (p_name, 1, (p_error is not null)::int, p_started_at, clock_timestamp(), v_status, p_report,
          p_error, case when p_error is not null then clock_timestamp() end)
  on conflict (name) do update
    set run_count = r.run_count + 1,
        error_count = r.error_count + (p_error is not null)::int,
        last_started_at = excluded.last_started_at,
        last_finished_at = excluded.last_finished_at,
        last_status = excluded.last_status,
        last_report = coalesce(excluded.last_report, r.last_report),
        last_error = coalesce(excluded.last_error, r.last_error),
        last_error_at = coalesce(excluded.last_error_at, r.last_error_at);
end
$$;


--
-- Name: job_release_due_escrows(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.job_release_due_escrows(p_limit integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_pass record;
begin
  select * into v_pass from hazina.release_due_escrows(p_limit);
  return jsonb_build_object('processed', v_pass.released, 'failed', v_pass.failed,
    'remaining', (select count(*) from public.goods_escrows where status = 'delivered' and auto_release_at <= hazina.clock()));
end
$$;


--
-- Name: ledger_is_immutable(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.ledger_is_immutable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception using errcode = 'P0001', message = 'ledger_immutable',
    detail = jsonb_build_object('table', tg_table_name, 'operation', tg_op)::text;
end
$$;


--
-- Name: lock_wallets(uuid[], uuid[]); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.lock_wallets(p_debited uuid[], p_credited uuid[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  perform 1 from public.wallets
   where id = any (p_debited) or (id = any (p_credited) and credit_buckets = 1)
   order by id for no key update;
end
$$;


--
-- Name: merchant_application_decide(uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.merchant_application_decide(p_user_id uuid, p_status text, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_app public.merchant_applications;
  c_buckets constant smallint := 8;  -- as wallet_open gives a merchant wallet
begin
  perform hazina.assert_admin();
  if p_reason is not null and length(p_reason) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'reason', 'reason', 'at most 500 characters'));
  end if;
  perform 1 from public.auth_users where id = p_user_id for update;
  select * into v_app from public.merchant_applications
   where user_id = p_user_id order by (status = 'pending') desc, created_at desc limit 1 for update;
  if not found then
    perform hazina.raise_error('merchant_application_not_found', jsonb_build_object('user_id', p_user_id));
  end if;
  if v_app.status <> 'pending' then
    if v_app.status = p_status then
      return hazina.merchant_application_json(v_app.id);
    end if;
    perform hazina.raise_error('merchant_application_not_pending', jsonb_build_object('user_id', p_user_id, 'status', v_app.status));
  end if;

  update public.merchant_applications
     set status = p_status, decided_by = auth.uid(), decided_at = now(), decision_reason = p_reason, updated_at = now()
   where id = v_app.id;
  if p_status = 'approved' then
    update public.auth_users set role = 'merchant', updated_at = now() where id = p_user_id and role = 'customer';
    -- Wallet rows are locked by the update, so a payment in flight posts before or after
    -- the change, never half of each.
    update public.wallets set kind = 'merchant', credit_buckets = c_buckets, updated_at = now()
     where user_id = p_user_id and kind = 'user';
    insert into public.wallet_balance_buckets (wallet_id, bucket)
    select w.id, b from public.wallets w cross join generate_series(0, c_buckets - 1) b
     where w.user_id = p_user_id and w.kind = 'merchant'
    on conflict do nothing;
  end if;
  return hazina.merchant_application_json(v_app.id);
end
$$;


--
-- Name: merchant_application_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.merchant_application_json(p_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', a.id, 'user_id', a.user_id, 'business_name', a.business_name, 'status', a.status,
                            'decided_by', a.decided_by, 'decided_at', a.decided_at, 'decision_reason', a.decision_reason,
                            'created_at', a.created_at, 'updated_at', a.updated_at)
    from public.merchant_applications a where a.id = p_id
$$;


--
-- Name: merchant_application_submit(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.merchant_application_submit(p_user_id uuid, p_business_name text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_role text;
  v_id uuid;
begin
  if p_business_name is null or length(btrim(p_business_name)) not between 1 and 200 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'business_name', 'reason', '1 to 200 characters'));
  end if;
  -- The user row lock serialises concurrent submissions and decisions for one user.
  select role into v_role from public.auth_users where id = p_user_id for update;
  if v_role is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'user_id', 'reason', 'no such user'));
  end if;
  if v_role = 'merchant' then
    perform hazina.raise_error('already_merchant');
  end if;
  if v_role <> 'customer' then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'only customers apply to become merchants'));
  end if;
  select id into v_id from public.merchant_applications where user_id = p_user_id and status = 'pending';
  if v_id is not null then
    return hazina.merchant_application_json(v_id) || jsonb_build_object('created', false);
  end if;
  insert into public.merchant_applications (user_id, business_name)
  values (p_user_id, btrim(p_business_name))
  returning id into v_id;
  return hazina.merchant_application_json(v_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: mirror_supabase_user(uuid, text, timestamp with time zone, text, jsonb, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.mirror_supabase_user(p_id uuid, p_email text, p_email_confirmed_at timestamp with time zone, p_phone text, p_app_metadata jsonb, p_user_metadata jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_email text := lower(p_email);
  v_placeholder constant text := 'supabase-' || p_id || '@users.invalid';
  v_phone text := case when p_phone ~ '^[1-9][0-9]{6,14}$' then '+' || p_phone
                       when p_phone ~ '^\+[1-9][0-9]{6,14}$' then p_phone end;
  v_name text := left(coalesce(p_user_metadata ->> 'full_name', p_user_metadata ->> 'name'), 200);
  v_business text := left(coalesce(nullif(btrim(p_user_metadata ->> 'business_name'), ''), nullif(btrim(v_name), '')), 200);
begin
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or length(v_email) > 254 then
    v_email := v_placeholder;
  end if;
  begin
    insert into public.auth_users (id, email, email_verified_at, phone, name)
    values (p_id, v_email, p_email_confirmed_at, v_phone, v_name)
    on conflict (id) do update
      set email = excluded.email, email_verified_at = excluded.email_verified_at,
          phone = excluded.phone, name = coalesce(excluded.name, public.auth_users.name),
          updated_at = now();
  exception when unique_violation then
    -- The email belongs to another Hazina user (e.g. one made by Hazina's own auth).
    raise warning 'hazina: Supabase user % shares email % with another Hazina user; mirrored with %',
      p_id, v_email, v_placeholder;
    insert into public.auth_users (id, email, email_verified_at, phone, name)
    values (p_id, v_placeholder, null, v_phone, v_name)
    on conflict (id) do update set phone = excluded.phone, updated_at = now();
  end;
  -- Asked to be a merchant: a pending application (never the role itself), once. A customer
  -- who was rejected is not re-filed by every later Supabase update.
  if p_app_metadata ->> 'role' = 'merchant' then
    insert into public.merchant_applications (user_id, business_name)
    select p_id, coalesce(v_business, 'Supabase user ' || p_id)
     where exists (select 1 from public.auth_users where id = p_id and role = 'customer')
       and not exists (select 1 from public.merchant_applications where user_id = p_id);
  end if;
end
$_$;


--
-- Name: money_sweep_backlog(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.money_sweep_backlog() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select (select count(*) from public.wallet_funding_sessions where status = 'pending' and expires_at <= now())
       + (select count(*) from public.wallet_withdrawals where status in ('pending', 'processing') and expires_at <= now())
$$;


--
-- Name: money_sweep_claim(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.money_sweep_claim(p_limit integer DEFAULT 100) RETURNS TABLE(kind text, id uuid, provider text, status text, reference text, amount text, submitted boolean, check_count integer, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
#variable_conflict use_column
begin
  return query
  with due as (
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending' and f.expires_at <= now()
     order by f.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_funding_sessions f
       set check_count = f.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(f.check_count + 1, 30), updated_at = now()
      from due where f.id = due.id
    returning f.*
  )
  select 'funding'::text, c.id, c.provider::text, c.status, c.provider_checkout_id, c.amount::text,
         c.provider_checkout_id is not null, c.check_count, c.created_at
    from claimed c;
  return query
  with due as (
    select w.id from public.wallet_withdrawals w
     where w.status in ('pending', 'processing') and w.expires_at <= now()
     order by w.expires_at limit p_limit for update skip locked
  ), claimed as (
    update public.wallet_withdrawals w
       set check_count = w.check_count + 1, last_checked_at = now(),
           expires_at = now() + interval '1 minute' * least(w.check_count + 1, 30), updated_at = now()
      from due where w.id = due.id
    returning w.*
  )
  select 'withdrawal'::text, c.id, c.provider::text, c.status, c.provider_request_id, c.amount::text,
         c.submitted_at is not null, c.check_count, c.created_at
    from claimed c;
end
$$;


--
-- Name: money_sweep_sql(interval, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.money_sweep_sql(p_abandon_after interval DEFAULT '1 day'::interval, p_limit integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_expired integer := 0;
  v_retried integer := 0;
  v_seen integer := 0;
  v_id uuid;
begin
  if p_limit is not null and p_limit < 1 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('reason', 'p_limit must be at least 1'));
  end if;
  for v_id in
    select f.id from public.wallet_funding_sessions f
     where f.status = 'pending'
       and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after)
     order by f.id limit p_limit for update skip locked
  loop
    perform hazina.funding_expire(v_id, 'abandoned by the sweep');
    v_expired := v_expired + 1;
  end loop;
  for v_id in
    select e.id from public.wallet_webhook_events e
     where e.status in ('unmatched', 'failed') and e.attempts < 10 and e.received_at > now() - interval '7 days'
     order by e.received_at limit (p_limit - v_expired) for update skip locked
  loop
    v_seen := v_seen + 1;
    if (hazina.webhook_event_apply(v_id) ->> 'status') = 'processed' then
      v_retried := v_retried + 1;
    end if;
  end loop;
  -- Still due: what the limit left untouched. Events tried in this pass that failed again
  -- are not counted (they are retried on the next scheduled pass, not at once).
  return jsonb_build_object('funding_expired', v_expired, 'events_applied', v_retried, 'events_tried', v_seen,
    'remaining',
      (select count(*) from public.wallet_funding_sessions f
        where f.status = 'pending'
          and ((f.provider_checkout_id is null and f.expires_at <= now()) or f.created_at <= now() - p_abandon_after))
      + greatest(0, (select count(*) from public.wallet_webhook_events e
                      where e.status in ('unmatched', 'failed') and e.attempts < 10
                        and e.received_at > now() - interval '7 days') - (v_seen - v_retried)));
end
$$;


--
-- Name: oauth_link(uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.oauth_link(p_user_id uuid, p_provider text, p_subject text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_owner uuid;
begin
  if p_provider = 'credentials' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'provider'));
  end if;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (p_user_id, p_provider, p_subject)
  on conflict (provider, provider_account_id) do nothing;
  if found then
    return true;
  end if;
  select a.user_id into v_owner from public.auth_accounts a
   where a.provider = p_provider and a.provider_account_id = p_subject;
  if v_owner is distinct from p_user_id then
    perform hazina.raise_error('oauth_account_in_use', jsonb_build_object('provider', p_provider));
  end if;
  return false;
end
$$;


--
-- Name: oauth_sign_in(text, text, text, boolean, text, text, integer, text, inet); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.oauth_sign_in(p_provider text, p_subject text, p_email text, p_email_verified boolean, p_name text, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text DEFAULT NULL::text, p_ip inet DEFAULT NULL::inet) RETURNS hazina.auth_sign_in
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_user public.auth_users;
  v_user_id uuid;
  v_session public.auth_sessions;
  v_result hazina.auth_sign_in;
begin
  if p_provider = 'credentials' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'provider'));
  end if;
  select a.user_id into v_user_id from public.auth_accounts a
   where a.provider = p_provider and a.provider_account_id = p_subject;

  if v_user_id is null then
    if p_email is null or not coalesce(p_email_verified, false) then
      perform hazina.raise_error('oauth_email_not_verified', jsonb_build_object('provider', p_provider));
    end if;
    select * into v_user from public.auth_users where email = lower(p_email) for update;
    if found then
      if v_user.email_verified_at is null then
        update public.auth_users
           set email_verified_at = now(), password_hash = null, updated_at = now()
         where id = v_user.id;
        delete from public.auth_accounts where user_id = v_user.id and provider = 'credentials';
        perform hazina.session_revoke_all(v_user.id, 'email_ownership_proven');
      end if;
      v_user_id := v_user.id;
    else
      insert into public.auth_users (email, email_verified_at, name)
      values (lower(p_email), now(), left(p_name, 200))
      returning id into v_user_id;
    end if;
    insert into public.auth_accounts (user_id, provider, provider_account_id)
    values (v_user_id, p_provider, p_subject);
  end if;

  select * into v_user from public.auth_users where id = v_user_id;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    perform hazina.raise_error('account_disabled');
  end if;
  v_session := hazina.session_create(v_user.id, p_refresh_token_hash, p_refresh_ttl_seconds,
                                     p_user_agent, p_ip);
  v_result.outcome := 'ok';
  v_result.user_id := v_user.id;
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.session_id := v_session.family_id;
  v_result.refresh_expires_at := v_session.expires_at;
  return v_result;
end
$$;


--
-- Name: order_apply_refund(uuid, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_escrow public.goods_escrows;
  v_plan public.installments;
  v_left numeric := p_amount;
  v_part numeric;
  v_intent record;
  v_first boolean := true;
  v_prior text;
begin
  select * into v_order from public.orders where id = p_order_id for update;
  if v_order.payment_intent_id is not null then
    perform hazina.payment_refund_create(v_order.merchant_id, v_order.payment_intent_id, p_amount, p_reason, p_ref);
    return;
  end if;
  select * into v_plan from public.installments where order_id = p_order_id for update;
  if v_plan.id is null then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status));
  end if;
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status not in ('paid', 'fulfilled', 'completed') or v_plan.status <> 'completed'
     or (v_escrow.id is not null and v_escrow.status not in ('funded', 'dispatched', 'delivered', 'disputed')) then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if p_amount is null or p_amount <= 0 or p_amount > v_order.amount_paid - v_order.amount_refunded
     or (v_escrow.id is not null and p_amount > v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount) then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (v_order.amount_paid - v_order.amount_refunded)::numeric(19, 4)::text));
  end if;
  if v_escrow.id is null then
    -- Paid out at completion: take it back from the merchant first (escrow gets it again).
    perform hazina.installment_clawback(v_plan, p_amount, p_reason, p_ref || ':clawback');
  end if;
  v_prior := current_setting('hazina.installment_refund', true);
  perform set_config('hazina.installment_refund', v_plan.id::text, true);
  for v_intent in
    select id, amount_received - amount_refunded as refundable from public.payment_intents
     where subject_type = 'installment' and subject_id = v_plan.id and status = 'succeeded'
       and amount_received > amount_refunded
     order by created_at desc, (client_ref = 'installment:' || v_plan.id || ':deposit'), client_ref desc
       for update
  loop
    exit when v_left <= 0;
    v_part := least(v_left, v_intent.refundable);
    perform hazina.payment_refund_create(v_order.merchant_id, v_intent.id, v_part, p_reason,
      case when v_first then p_ref else p_ref || ':' || v_intent.id end);
    v_first := false;
    v_left := v_left - v_part;
  end loop;
  perform set_config('hazina.installment_refund', coalesce(v_prior, ''), true);
  if v_left > 0 then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (p_amount - v_left)::numeric(19, 4)::text));
  end if;
  -- The plan's books: what went back to the buyer after completion moves from 'released' to
  -- 'refunded' (installment_escrow_held and installment_closed_money_accounted still hold).
  update public.installments set amount_refunded = amount_refunded + p_amount,
         amount_released = amount_released - p_amount, updated_at = now()
   where id = v_plan.id;
  update public.orders set amount_refunded = amount_refunded + p_amount, updated_at = now(),
         status = case when amount_refunded + p_amount = amount_paid then 'refunded' else status end,
         refunded_at = case when amount_refunded + p_amount = amount_paid then now() else refunded_at end
   where id = v_order.id returning * into v_order;
  if v_escrow.id is not null then
    update public.goods_escrows set refunded_amount = refunded_amount + p_amount, updated_at = now(),
           status = case when released_amount + refunded_amount + p_amount = amount then 'refunded' else status end,
           refunded_at = case when released_amount + refunded_amount + p_amount = amount then now() else refunded_at end,
           auto_release_at = case when released_amount + refunded_amount + p_amount = amount then null else auto_release_at end
     where id = v_escrow.id returning * into v_escrow;
    if v_escrow.status = 'refunded' then
      perform hazina.escrow_event(v_escrow.id, 'escrow.refunded');
    end if;
  end if;
  perform hazina.order_event(v_order.id, case when v_order.status = 'refunded' then 'order.refunded'
                                              else 'order.partially_refunded' end);
end
$$;


--
-- Name: order_cancel(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_cancel(p_order_id uuid, p_user_id uuid, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_escrow public.goods_escrows;
  v_refund numeric;
begin
  if length(p_reason) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'reason', 'reason', 'at most 500 characters'));
  end if;
  perform hazina.order_lock_intent(p_order_id);
  v_order := hazina.order_lock(p_order_id, p_user_id, 'any');
  if v_order.status = 'pending_payment' then
    if v_order.payment_intent_id is not null then
      perform hazina.payment_intent_cancel(v_order.payment_intent_id, null,
        case when p_user_id = v_order.customer_id then 'canceled_by_customer' else 'canceled_by_merchant' end);
    end if;
    -- The intent's trigger canceled it; an order with no intent yet is canceled here.
    update public.orders set status = 'canceled', canceled_at = now(), updated_at = now(),
           cancellation_reason = left(coalesce(p_reason, case when p_user_id = v_order.customer_id
                                                           then 'canceled_by_customer' else 'canceled_by_merchant' end), 500)
     where id = p_order_id and status = 'pending_payment';
    if found then
      perform hazina.order_release_stock(p_order_id);
      perform hazina.order_event(p_order_id, 'order.canceled');
    elsif p_reason is not null then
      update public.orders set cancellation_reason = left(p_reason, 500) where id = p_order_id;
    end if;
    return hazina.order_json(p_order_id);
  end if;
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status <> 'paid' or p_user_id <> v_order.merchant_id
     or (v_escrow.id is not null and v_escrow.status <> 'funded') then
    perform hazina.raise_error('order_not_cancelable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  v_refund := v_order.amount_paid - v_order.amount_refunded;
  if v_refund > 0 then
    perform hazina.order_apply_refund(p_order_id, v_refund, coalesce(p_reason, 'Order canceled by the merchant'),
                                      'order:' || p_order_id || ':cancel');
  end if;
  update public.orders set status = 'canceled', canceled_at = now(), updated_at = now(),
         cancellation_reason = left(coalesce(p_reason, 'canceled_by_merchant'), 500)
   where id = p_order_id;
  perform hazina.order_release_stock(p_order_id);
  perform hazina.order_event(p_order_id, 'order.canceled');
  return hazina.order_json(p_order_id);
end
$$;


--
-- Name: order_confirm_receipt(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_confirm_receipt(p_order_id uuid, p_customer_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders := hazina.order_lock(p_order_id, p_customer_id, 'customer');
  v_escrow public.goods_escrows;
begin
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status <> 'fulfilled' and not (v_order.status = 'completed' and v_escrow.id is null) then
    perform hazina.raise_error('order_not_confirmable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status));
  end if;
  if v_escrow.id is null then
    if v_order.status = 'fulfilled' then
      update public.orders set status = 'completed', delivered_at = coalesce(delivered_at, now()), completed_at = now(),
                               updated_at = now()
       where id = p_order_id;
      perform hazina.order_event(p_order_id, 'order.completed');
    end if;
    -- (a direct order the merchant already marked delivered is completed: confirming is a no-op)
    return hazina.order_json(p_order_id);
  end if;
  if v_escrow.status not in ('dispatched', 'delivered') then
    perform hazina.raise_error('order_not_confirmable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  perform hazina.escrow_pay_merchant(v_escrow.id, 'released');
  return hazina.order_json(p_order_id);
end
$$;


--
-- Name: order_create(uuid, uuid, jsonb, boolean, jsonb, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_create(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders := hazina.order_place(p_customer_id, p_shop_id, p_items, p_escrow, p_shipping, p_client_ref);
  v_created boolean := v_order.payment_intent_id is null;
  v_intent jsonb := hazina.order_open_payment(v_order.id);
begin
  return hazina.order_json(v_order.id) || jsonb_build_object('payment_intent', v_intent - 'created', 'created', v_created);
end
$$;


--
-- Name: order_create_installments(uuid, uuid, jsonb, boolean, jsonb, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_create_installments(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_order public.orders;
  v_plan jsonb;
  v_created boolean;
begin
  if p_installments is null or jsonb_typeof(p_installments) <> 'object'
     or jsonb_typeof(p_installments -> 'deposit') is distinct from 'string'
     or p_installments ->> 'deposit' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$'
     or jsonb_typeof(p_installments -> 'count') is distinct from 'number' or p_installments ->> 'count' !~ '^[0-9]{1,3}$'
     or (p_installments ? 'auto_collect' and jsonb_typeof(p_installments -> 'auto_collect') <> 'boolean') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installments',
      'reason', '{deposit: "<amount>", count: <n>, interval: day|week|month, auto_collect?: boolean}'));
  end if;
  v_order := hazina.order_place(p_customer_id, p_shop_id, p_items, p_escrow, p_shipping, p_client_ref);
  v_created := not exists (select 1 from public.installments where order_id = v_order.id);
  if v_created then
    v_plan := hazina.installment_create(v_order, (p_installments ->> 'deposit')::numeric, (p_installments ->> 'count')::integer,
                                        p_installments ->> 'interval', coalesce((p_installments ->> 'auto_collect')::boolean, false));
  else
    select hazina.installment_json(id) || jsonb_build_object('deposit_intent', hazina.payment_intent_json(deposit_intent_id))
      into v_plan from public.installments where order_id = v_order.id;
  end if;
  return hazina.order_json(v_order.id) || jsonb_build_object('installment', v_plan - 'deposit_intent',
                                                             'payment_intent', v_plan -> 'deposit_intent',
                                                             'created', v_created);
end
$_$;


--
-- Name: order_deliver(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_deliver(p_order_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders := hazina.order_lock(p_order_id, p_merchant_id, 'merchant');
  v_escrow public.goods_escrows;
begin
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status <> 'fulfilled' or v_order.delivered_at is not null
     or (v_escrow.id is not null and v_escrow.status <> 'dispatched') then
    perform hazina.raise_error('order_not_deliverable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if v_escrow.id is null then
    update public.orders set status = 'completed', delivered_at = now(), completed_at = now(), updated_at = now()
     where id = p_order_id;
    perform hazina.order_event(p_order_id, 'order.delivered');
    perform hazina.order_event(p_order_id, 'order.completed');
  else
    update public.orders set delivered_at = now(), updated_at = now() where id = p_order_id;
    update public.goods_escrows
       set status = 'delivered', delivered_at = now(), updated_at = now(),
           auto_release_at = hazina.clock() + make_interval(days => (select auto_release_days from public.shops where id = v_order.shop_id))
     where id = v_escrow.id;
    perform hazina.escrow_event(v_escrow.id, 'escrow.delivered');
    perform hazina.order_event(p_order_id, 'order.delivered');
  end if;
  return hazina.order_json(p_order_id);
end
$$;


--
-- Name: order_dispatch(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_dispatch(p_order_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders := hazina.order_lock(p_order_id, p_merchant_id, 'merchant');
  v_escrow public.goods_escrows;
begin
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status <> 'paid' or (v_escrow.id is not null and v_escrow.status <> 'funded') then
    perform hazina.raise_error('order_not_dispatchable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  update public.orders set status = 'fulfilled', fulfilled_at = now(), updated_at = now() where id = p_order_id;
  if v_escrow.id is not null then
    update public.goods_escrows set status = 'dispatched', dispatched_at = now(), updated_at = now() where id = v_escrow.id;
    perform hazina.escrow_event(v_escrow.id, 'escrow.dispatched');
  end if;
  perform hazina.order_event(p_order_id, 'order.fulfilled');
  return hazina.order_json(p_order_id);
end
$$;


--
-- Name: order_dispute(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_dispute(p_order_id uuid, p_customer_id uuid, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders := hazina.order_lock(p_order_id, p_customer_id, 'customer');
  v_escrow public.goods_escrows;
begin
  if p_reason is null or length(btrim(p_reason)) = 0 or length(p_reason) > 1000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'reason', 'reason', '1 to 1000 characters'));
  end if;
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_escrow.id is null or v_escrow.status not in ('funded', 'dispatched', 'delivered') then
    perform hazina.raise_error('order_not_disputable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if v_escrow.auto_release_at is not null and v_escrow.auto_release_at <= hazina.clock() then
    perform hazina.raise_error('dispute_window_closed', jsonb_build_object('order_id', p_order_id,
      'auto_release_at', public.api_time(v_escrow.auto_release_at)));
  end if;
  update public.goods_escrows
     set status = 'disputed', disputed_at = now(), dispute_reason = p_reason, auto_release_at = null, updated_at = now()
   where id = v_escrow.id;
  perform hazina.escrow_event(v_escrow.id, 'escrow.disputed');
  return hazina.order_json(p_order_id);
end
$$;


--
-- Name: order_event(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_event(p_order_id uuid, p_type text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select hazina.event_emit(o.merchant_id, p_type, 'order', o.id, public.order_json(o))
    from public.orders o where o.id = p_order_id
$$;


--
-- Name: order_intent_outcome(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_intent_outcome() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if new.status = 'succeeded' then
    perform hazina.order_mark_paid(new);
  elsif new.status = 'canceled' then
    perform hazina.order_mark_unpaid(new);
  end if;
  return null;
end
$$;


--
-- Name: order_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_json(p_order_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.order_json(o) from public.orders o where o.id = p_order_id $$;


--
-- Name: order_lock(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_lock(p_order_id uuid, p_user_id uuid, p_side text) RETURNS public.orders
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
begin
  select * into v_order from public.orders where id = p_order_id for update;
  if v_order.id is null
     or (p_side = 'merchant' and v_order.merchant_id is distinct from p_user_id)
     or (p_side = 'customer' and v_order.customer_id is distinct from p_user_id)
     or (p_side = 'any' and p_user_id is distinct from v_order.merchant_id and p_user_id is distinct from v_order.customer_id) then
    perform hazina.raise_error('order_not_found', jsonb_build_object('order_id', p_order_id));
  end if;
  return v_order;
end
$$;


--
-- Name: order_lock_intent(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_lock_intent(p_order_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_intent_id uuid := (select payment_intent_id from public.orders where id = p_order_id);
begin
  if v_intent_id is not null then
    perform 1 from public.payment_intents where id = v_intent_id for update;
  end if;
end
$$;


--
-- Name: order_mark_paid(public.payment_intents); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_mark_paid(p_intent public.payment_intents) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_escrow_id uuid;
begin
  select * into v_order from public.orders where id = p_intent.subject_id and payment_intent_id = p_intent.id for update;
  if v_order.id is null then
    return;
  end if;
  if v_order.status <> 'pending_payment' then
    perform hazina.raise_error('order_not_payable', jsonb_build_object('order_id', v_order.id, 'status', v_order.status));
  end if;
  update public.orders set status = 'paid', amount_paid = p_intent.amount_received, paid_at = now(), updated_at = now()
   where id = v_order.id;
  if v_order.escrow then
    insert into public.goods_escrows (order_id, merchant_id, customer_id, wallet_id, currency, amount)
    values (v_order.id, v_order.merchant_id, v_order.customer_id, p_intent.payee_wallet_id, v_order.currency,
            p_intent.amount_received)
    returning id into v_escrow_id;
    perform hazina.escrow_event(v_escrow_id, 'escrow.funded');
  end if;
  perform hazina.order_event(v_order.id, 'order.paid');
end
$$;


--
-- Name: order_mark_unpaid(public.payment_intents); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_mark_unpaid(p_intent public.payment_intents) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
begin
  select * into v_order from public.orders where id = p_intent.subject_id and payment_intent_id = p_intent.id for update;
  if v_order.id is null or v_order.status <> 'pending_payment' then
    return;
  end if;
  update public.orders
     set status = 'canceled', canceled_at = now(), updated_at = now(),
         cancellation_reason = left(case coalesce(p_intent.cancellation_reason, '')
                                      when 'expired' then 'payment_expired'
                                      else coalesce(p_intent.cancellation_reason, 'payment_canceled') end, 500)
   where id = v_order.id;
  perform hazina.order_release_stock(v_order.id);
  perform hazina.order_event(v_order.id, 'order.canceled');
end
$$;


--
-- Name: order_open_payment(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_open_payment(p_order_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_intent jsonb;
begin
  select * into v_order from public.orders where id = p_order_id for update;
  if v_order.id is null then
    perform hazina.raise_error('order_not_found', jsonb_build_object('order_id', p_order_id));
  end if;
  if v_order.payment_intent_id is not null then
    return hazina.payment_intent_json(v_order.payment_intent_id) || jsonb_build_object('created', false);
  end if;
  if v_order.status <> 'pending_payment' then
    perform hazina.raise_error('order_not_payable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status));
  end if;
  v_intent := hazina.payment_intent_open(
    v_order.merchant_id, v_order.total, v_order.currency, 'automatic', v_order.customer_id,
    left('Order ' || v_order.id::text || ' at ' || (select s.name from public.shops s where s.id = v_order.shop_id), 500),
    jsonb_build_object('order_id', v_order.id::text, 'shop_id', v_order.shop_id::text),
    hazina.order_payment_window(), 'order:' || v_order.id,
    'order', v_order.id,
    case when v_order.escrow then hazina.system_wallet('escrow', v_order.currency) end,
    case when v_order.escrow then 'escrow_funding' else 'order_payment' end);
  update public.orders set payment_intent_id = (v_intent ->> 'id')::uuid, updated_at = now() where id = p_order_id;
  return v_intent;
end
$$;


--
-- Name: order_payment_window(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_payment_window() RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$ select 1800 $$;


--
-- Name: order_place(uuid, uuid, jsonb, boolean, jsonb, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_place(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) RETURNS public.orders
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_existing public.orders;
  v_shop public.shops;
  v_order public.orders;
  v_item jsonb;
  v_line record;
  v_product public.products;
  v_escrow boolean;
  v_total numeric := 0;
  v_ids uuid[] := '{}'::uuid[];
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.orders where customer_id = p_customer_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.shop_id <> p_shop_id
       or (select jsonb_agg(jsonb_build_object('product_id', i.product_id, 'quantity', i.quantity) order by i.position)
             from public.order_items i where i.order_id = v_existing.id)
          is distinct from (select jsonb_agg(jsonb_build_object('product_id', (e ->> 'product_id')::uuid,
                                                                'quantity', (e ->> 'quantity')::integer) order by n)
                              from jsonb_array_elements(p_items) with ordinality as x(e, n)) then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return v_existing;
  end if;
  select * into v_shop from public.shops where id = p_shop_id;
  if v_shop.id is null or (v_shop.status <> 'active' and v_shop.merchant_id <> p_customer_id) then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if v_shop.merchant_id = p_customer_id then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'shop_id', 'reason', 'a merchant cannot buy from its own shop'));
  end if;
  if v_shop.status <> 'active' then
    perform hazina.raise_error('shop_not_active', jsonb_build_object('shop_id', p_shop_id));
  end if;
  v_escrow := case v_shop.escrow_policy when 'required' then coalesce(p_escrow, true) else coalesce(p_escrow, false) end;
  if v_escrow and v_shop.escrow_policy = 'none' then
    perform hazina.raise_error('escrow_not_offered', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if not v_escrow and v_shop.escrow_policy = 'required' then
    perform hazina.raise_error('escrow_required', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_shipping is not null and (jsonb_typeof(p_shipping) <> 'object' or length(p_shipping::text) > 4000) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'shipping', 'reason', 'an object of at most 4000 characters'));
  end if;
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) not between 1 and 50 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', '1 to 50 items'));
  end if;
  for v_item in select value from jsonb_array_elements(p_items) loop
    if jsonb_typeof(v_item) <> 'object'
       or v_item ->> 'product_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.product_id', 'reason', 'a UUID'));
    end if;
    if jsonb_typeof(v_item -> 'quantity') is distinct from 'number' or v_item ->> 'quantity' !~ '^[0-9]{1,5}$'
       or (v_item ->> 'quantity')::integer not between 1 and 10000 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.quantity', 'reason', 'a whole number from 1 to 10000'));
    end if;
    if (v_item ->> 'product_id')::uuid = any (v_ids) then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', 'one line per product'));
    end if;
    v_ids := v_ids || (v_item ->> 'product_id')::uuid;
  end loop;

  insert into public.orders (shop_id, merchant_id, customer_id, currency, total, escrow, shipping, client_ref)
  values (v_shop.id, v_shop.merchant_id, p_customer_id, v_shop.currency, 1, v_escrow, coalesce(p_shipping, '{}'), p_client_ref)
  on conflict (customer_id, client_ref) do nothing
  returning * into v_order;
  if v_order.id is null then
    raise exception using errcode = '40001', message = 'concurrent duplicate order; retry';
  end if;

  -- Reserve in product id order (the one lock order: no deadlock between multi-line orders).
  for v_line in
    select (e ->> 'product_id')::uuid as product_id, (e ->> 'quantity')::integer as quantity, n::smallint as position
      from jsonb_array_elements(p_items) with ordinality as x(e, n)
     order by (e ->> 'product_id')::uuid
  loop
    update public.products
       set stock = stock - v_line.quantity, updated_at = now()
     where id = v_line.product_id and shop_id = v_shop.id and active and (stock is null or stock >= v_line.quantity)
     returning * into v_product;
    if v_product.id is null then
      select * into v_product from public.products where id = v_line.product_id and shop_id = v_shop.id;
      if v_product.id is null or not v_product.active then
        perform hazina.raise_error('product_not_found', jsonb_build_object('product_id', v_line.product_id));
      end if;
      perform hazina.raise_error('out_of_stock', jsonb_build_object('product_id', v_line.product_id,
        'requested', v_line.quantity, 'available', v_product.stock));
    end if;
    insert into public.order_items (order_id, position, product_id, name, sku, unit_price, quantity, line_total)
    values (v_order.id, v_line.position, v_product.id, v_product.name, v_product.sku, v_product.price, v_line.quantity,
            v_product.price * v_line.quantity);
    v_total := v_total + v_product.price * v_line.quantity;
  end loop;
  perform hazina.assert_valid_amount(v_total, v_shop.currency);
  update public.orders set total = v_total where id = v_order.id returning * into v_order;
  perform hazina.event_emit(v_order.merchant_id, 'order.created', 'order', v_order.id, public.order_json(v_order));
  return v_order;
end
$_$;


--
-- Name: order_qr_on_close(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_qr_on_close() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.qr_code_disable_bound('order', new.id);
  return null;
end
$$;


--
-- Name: order_qr_on_intent(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_qr_on_intent() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.qr_code_create(new.merchant_id, 'order', 'Order ' || left(new.id::text, 8), new.total, new.currency,
                                new.id, null, null, 'order:' || new.id || ':qr');
  return null;
end
$$;


--
-- Name: order_refund(uuid, uuid, numeric, jsonb, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_refund(p_order_id uuid, p_merchant_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_order public.orders;
  v_escrow public.goods_escrows;
  v_ref text;
  v_amount numeric;
  v_item jsonb;
  v_line public.order_items;
  v_qty integer;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  perform hazina.order_lock_intent(p_order_id);
  v_order := hazina.order_lock(p_order_id, p_merchant_id, 'merchant');
  v_ref := 'order:' || p_order_id || ':refund:' || p_client_ref;
  if exists (select 1 from public.payment_refunds where merchant_id = v_order.merchant_id and client_ref = v_ref) then
    return hazina.order_json(p_order_id);  -- a retry of a refund that was made
  end if;
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_order.status not in ('paid', 'fulfilled', 'completed')
     or (v_escrow.id is not null and v_escrow.status not in ('funded', 'dispatched', 'delivered', 'disputed')) then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if p_amount is not null and p_items is not null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', 'an amount or items, not both'));
  end if;
  if p_items is not null then
    if jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) not between 1 and 50 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items', 'reason', '1 to 50 items'));
    end if;
    v_amount := 0;
    for v_item in select value from jsonb_array_elements(p_items) loop
      if jsonb_typeof(v_item -> 'quantity') is distinct from 'number' or v_item ->> 'quantity' !~ '^[0-9]{1,5}$'
         or (v_item ->> 'quantity')::integer < 1 then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.quantity', 'reason', 'a whole number of at least 1'));
      end if;
      select * into v_line from public.order_items
       where order_id = p_order_id and product_id::text = lower(v_item ->> 'product_id') for update;
      if v_line.id is null then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'items.product_id', 'reason', 'a product of this order'));
      end if;
      v_qty := (v_item ->> 'quantity')::integer;
      if v_line.refunded_quantity + v_qty > v_line.quantity then
        perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object('product_id', v_line.product_id,
          'refundable_quantity', v_line.quantity - v_line.refunded_quantity));
      end if;
      update public.order_items set refunded_quantity = refunded_quantity + v_qty where id = v_line.id;
      v_amount := v_amount + v_line.unit_price * v_qty;
    end loop;
  else
    v_amount := coalesce(p_amount, v_order.amount_paid - v_order.amount_refunded);
  end if;
  if v_amount > v_order.amount_paid - v_order.amount_refunded
     or (v_escrow.id is not null and v_amount > v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount) then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (v_order.amount_paid - v_order.amount_refunded)::numeric(19, 4)::text));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_order.currency);
  perform hazina.order_apply_refund(p_order_id, v_amount, coalesce(p_reason, 'Order refund'), v_ref);
  return hazina.order_json(p_order_id);
end
$_$;


--
-- Name: order_refund_recorded(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_refund_recorded() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order public.orders;
  v_escrow public.goods_escrows;
begin
  select o.* into v_order from public.orders o join public.payment_intents i on i.id = o.payment_intent_id
   where i.id = new.payment_intent_id and i.subject_type = 'order' and o.id = i.subject_id
     for update of o;
  if v_order.id is null then
    return null;
  end if;
  select * into v_escrow from public.goods_escrows where order_id = v_order.id for update;
  if v_order.status not in ('paid', 'fulfilled', 'completed')
     or (v_escrow.id is not null and v_escrow.status not in ('funded', 'dispatched', 'delivered', 'disputed')) then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', v_order.id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if new.amount > v_order.amount_paid - v_order.amount_refunded
     or (v_escrow.id is not null and new.amount > v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount) then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (v_order.amount_paid - v_order.amount_refunded)::numeric(19, 4)::text));
  end if;
  update public.orders set amount_refunded = amount_refunded + new.amount, updated_at = now(),
         status = case when amount_refunded + new.amount = amount_paid then 'refunded' else status end,
         refunded_at = case when amount_refunded + new.amount = amount_paid then now() else refunded_at end
   where id = v_order.id returning * into v_order;
  if v_escrow.id is not null then
    update public.goods_escrows set refunded_amount = refunded_amount + new.amount, updated_at = now(),
           status = case when released_amount + refunded_amount + new.amount = amount then 'refunded' else status end,
           refunded_at = case when released_amount + refunded_amount + new.amount = amount then now() else refunded_at end,
           auto_release_at = case when released_amount + refunded_amount + new.amount = amount then null else auto_release_at end
     where id = v_escrow.id returning * into v_escrow;
    if v_escrow.status = 'refunded' then
      perform hazina.escrow_event(v_escrow.id, 'escrow.refunded');
    end if;
  end if;
  perform hazina.order_event(v_order.id, case when v_order.status = 'refunded' then 'order.refunded'
                                              else 'order.partially_refunded' end);
  return null;
end
$$;


--
-- Name: order_release_stock(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.order_release_stock(p_order_id uuid) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  update public.products p
     set stock = p.stock + i.quantity, updated_at = now()
    from (select product_id, quantity from public.order_items where order_id = p_order_id order by product_id) i
   where p.id = i.product_id and p.stock is not null
$$;


--
-- Name: password_login(uuid, boolean, boolean, text, integer, text, inet); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.password_login(p_user_id uuid, p_password_ok boolean, p_require_verified_email boolean, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text DEFAULT NULL::text, p_ip inet DEFAULT NULL::inet) RETURNS hazina.auth_sign_in
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  -- The lockout rule: this many consecutive failures lock password login for this long.
  c_max_failures constant integer := 5;
  c_lock_duration constant interval := interval '15 minutes';
  v_user public.auth_users;
  v_session public.auth_sessions;
  v_result hazina.auth_sign_in;
begin
  select * into v_user from public.auth_users where id = p_user_id for update;
  if not found then
    v_result.outcome := 'invalid_credentials';
    return v_result;
  end if;
  v_result.user_id := v_user.id;

  -- A temporary lock ends by itself; the next attempt starts a fresh count.
  if v_user.status = 'locked' and v_user.locked_until is not null and v_user.locked_until <= now() then
    update public.auth_users
       set status = 'active', locked_until = null, failed_login_count = 0, updated_at = now()
     where id = v_user.id
    returning * into v_user;
  end if;

  if v_user.status = 'disabled' then
    v_result.outcome := 'disabled';
    return v_result;
  end if;
  if v_user.status = 'locked' then
    -- Attempts while locked neither count nor extend the lock, and never say whether the
    -- password was right.
    v_result.outcome := 'locked';
    return v_result;
  end if;

  if not coalesce(p_password_ok, false) then
    update public.auth_users
       set failed_login_count = failed_login_count + 1,
           status = case when failed_login_count + 1 >= c_max_failures then 'locked' else status end,
           locked_until = case when failed_login_count + 1 >= c_max_failures
                               then now() + c_lock_duration else locked_until end,
           updated_at = now()
     where id = v_user.id
    returning * into v_user;
    v_result.outcome := case when v_user.status = 'locked' then 'locked' else 'invalid_credentials' end;
    return v_result;
  end if;

  if v_user.failed_login_count > 0 then
    update public.auth_users set failed_login_count = 0, updated_at = now() where id = v_user.id;
  end if;

  if coalesce(p_require_verified_email, true) and v_user.email_verified_at is null then
    v_result.outcome := 'email_not_verified';
    return v_result;
  end if;

  v_session := hazina.session_create(v_user.id, p_refresh_token_hash, p_refresh_ttl_seconds,
                                     p_user_agent, p_ip);
  v_result.outcome := 'ok';
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.session_id := v_session.family_id;
  v_result.refresh_expires_at := v_session.expires_at;
  return v_result;
end
$$;


--
-- Name: password_login_lookup(text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.password_login_lookup(p_email text) RETURNS TABLE(user_id uuid, password_hash text)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select u.id, u.password_hash from public.auth_users u where u.email = lower(p_email) $$;


--
-- Name: password_reset_confirm(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.password_reset_confirm(p_token_hash text, p_password_hash text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_user_id uuid;
begin
  perform hazina.auth_check_password_hash(p_password_hash);
  v_user_id := hazina.verification_token_consume(p_token_hash, 'password_reset');
  update public.auth_users
     set password_hash = p_password_hash,
         email_verified_at = coalesce(email_verified_at, now()),
         failed_login_count = 0,
         status = case when status = 'locked' and locked_until is not null then 'active' else status end,
         locked_until = case when status = 'locked' and locked_until is not null then null else locked_until end,
         updated_at = now()
   where id = v_user_id;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (v_user_id, 'credentials', v_user_id::text)
  on conflict (provider, provider_account_id) do nothing;
  perform hazina.session_revoke_all(v_user_id, 'password_reset');
  return v_user_id;
end
$$;


--
-- Name: paybill_credit(text, text, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.paybill_credit(p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_reference text := upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  v_wallet record;
  v_session_id uuid;
  v_post record;
  v_tx uuid;
begin
  if p_trans_id is null or length(p_trans_id) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'trans_id'));
  end if;
  perform hazina.assert_valid_amount(p_amount, 'KES');
  select id into v_session_id from public.wallet_funding_sessions where provider = p_provider and provider_receipt = p_trans_id;
  if v_session_id is not null then
    -- One payment is credited once, to one account: a later claim naming another is refused.
    if (select account_reference from public.wallet_funding_sessions where id = v_session_id) is distinct from v_reference then
      perform hazina.raise_error('paybill_conflict', jsonb_build_object('trans_id', p_trans_id));
    end if;
    return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', true);
  end if;
  select w.id, w.user_id, w.currency, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = v_reference;
  if v_wallet.id is null or v_wallet.status <> 'active' then
    v_tx := hazina.post_transaction('paybill:' || p_provider || ':' || p_trans_id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(p_provider, 'KES'), 'direction', 'debit', 'amount', p_amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', 'KES'), 'direction', 'credit', 'amount', p_amount::text)),
      'Unmatched paybill payment', jsonb_build_object('provider_receipt', p_trans_id, 'account_reference', left(p_account_reference, 100),
                                                      'msisdn', left(p_msisdn, 20)));
    return jsonb_build_object('matched', false, 'transaction_id', v_tx, 'account_reference', left(p_account_reference, 100));
  end if;
  insert into public.wallet_funding_sessions (user_id, wallet_id, provider, channel, amount, currency, status,
                                              provider_receipt, payer_msisdn, account_reference, expires_at)
  values (v_wallet.user_id, v_wallet.id, p_provider, 'paybill', p_amount, v_wallet.currency, 'pending',
          p_trans_id, left(p_msisdn, 20), v_reference, now())
  returning id into v_session_id;
  select * into v_post from hazina.funding_post('paybill:' || p_provider || ':' || p_trans_id, p_provider, v_wallet.id, p_amount,
    'Paybill top-up', jsonb_build_object('funding_session_id', v_session_id, 'provider_receipt', p_trans_id));
  update public.wallet_funding_sessions
     set status = 'completed', transaction_id = v_post.transaction_id, fee = v_post.fee, completed_at = now()
   where id = v_session_id;
  return hazina.funding_session_json(v_session_id) || jsonb_build_object('matched', true, 'replayed', false);
end
$$;


--
-- Name: wallet_provider_queries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_provider_queries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    provider public.payment_provider NOT NULL,
    subject_type text NOT NULL,
    subject_key text NOT NULL,
    originator_conversation_id text NOT NULL,
    party text,
    answer_event_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    answered_at timestamp with time zone,
    CONSTRAINT wallet_provider_queries_originator_conversation_id_check CHECK (((length(originator_conversation_id) >= 1) AND (length(originator_conversation_id) <= 255))),
    CONSTRAINT wallet_provider_queries_party_check CHECK ((length(party) <= 20)),
    CONSTRAINT wallet_provider_queries_subject_key_check CHECK (((length(subject_key) >= 1) AND (length(subject_key) <= 100))),
    CONSTRAINT wallet_provider_queries_subject_type_check CHECK ((subject_type = ANY (ARRAY['paybill'::text, 'withdrawal'::text])))
);


--
-- Name: paybill_settle_confirmed(public.wallet_provider_queries, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.paybill_settle_confirmed(p_query public.wallet_provider_queries, p_outcome text, p_answer jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_event public.wallet_webhook_events;
  v_reason text;
  v_candidates uuid[] := '{}'::uuid[];
  v_accounts integer;
  v_result jsonb;
  v_credited integer := 0;
begin
  if p_outcome = 'pending' then
    return jsonb_build_object('outcome', 'pending');
  end if;
  for v_event in
    select * from public.wallet_webhook_events
     where provider = p_query.provider and status = 'unconfirmed' and event_type = 'c2b_confirmation'
       and payload ->> 'trans_id' = p_query.subject_key
     order by received_at, id for update
  loop
    v_reason := case
      when p_outcome = 'failed' then
        format('M-Pesa does not know this transaction (%s %s)', p_answer ->> 'result_code', p_answer ->> 'result_desc')
      when (p_answer ->> 'receipt') is distinct from p_query.subject_key then 'M-Pesa''s answer is about another transaction'
      when (v_event.payload ->> 'amount')::numeric is distinct from (p_answer ->> 'amount')::numeric then
        format('the confirmation says amount %s, M-Pesa says %s', v_event.payload ->> 'amount', p_answer ->> 'amount')
      when (v_event.payload ->> 'short_code') is distinct from p_query.party
           or (p_answer ->> 'credit_party') is distinct from p_query.party then
        format('the money went to short code %s, not our paybill %s', coalesce(p_answer ->> 'credit_party', v_event.payload ->> 'short_code'), p_query.party)
    end;
    if v_reason is not null then
      update public.wallet_webhook_events
         set status = 'refused', error = left('not_confirmed_by_provider: ' || v_reason, 1000), processed_at = now()
       where id = v_event.id;
    else
      v_candidates := v_candidates || v_event.id;
    end if;
  end loop;
  select count(distinct upper(regexp_replace(coalesce(payload ->> 'account_reference', ''), '\s', '', 'g'))) into v_accounts
    from public.wallet_webhook_events where id = any(v_candidates);
  if v_accounts > 1 then
    update public.wallet_webhook_events
       set status = 'refused', processed_at = now(),
           error = 'paybill_conflict: confirmations of this TransID name different accounts; an operator decides'
     where id = any(v_candidates);
    return jsonb_build_object('outcome', 'conflict');
  end if;
  for v_event in select * from public.wallet_webhook_events where id = any(v_candidates) order by received_at, id loop
    v_result := hazina.paybill_credit(p_query.provider, p_query.subject_key, (v_event.payload ->> 'amount')::numeric,
                                      v_event.payload ->> 'account_reference', v_event.payload ->> 'msisdn');
    update public.wallet_webhook_events
       set status = 'processed', error = null, processed_at = now(), subject_type = 'paybill',
           subject_id = case when (v_result ->> 'matched')::boolean then (v_result ->> 'id')::uuid end
     where id = v_event.id;
    v_credited := v_credited + 1;
  end loop;
  return jsonb_build_object('outcome', p_outcome, 'credited', v_credited);
end
$$;


--
-- Name: paybill_unconfirmed_due(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.paybill_unconfirmed_due(p_limit integer DEFAULT 100) RETURNS TABLE(event_id uuid, provider text, trans_id text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select distinct on (e.payload ->> 'trans_id') e.id, e.provider::text, e.payload ->> 'trans_id'
    from public.wallet_webhook_events e
   where e.status = 'unconfirmed' and e.event_type = 'c2b_confirmation' and e.received_at > now() - interval '7 days'
     and e.received_at <= now() - interval '1 minute'
     and not exists (select 1 from public.wallet_provider_queries q
                      where q.provider = e.provider and q.subject_type = 'paybill' and q.subject_key = e.payload ->> 'trans_id'
                        and q.created_at > now() - interval '2 minutes')
     and (select count(*) from public.wallet_provider_queries q
           where q.provider = e.provider and q.subject_type = 'paybill' and q.subject_key = e.payload ->> 'trans_id') < 10
   order by e.payload ->> 'trans_id', e.received_at
   limit p_limit
$$;


--
-- Name: paybill_validate(text, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.paybill_validate(p_account_reference text, p_amount numeric) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_wallet record;
begin
  select w.id, w.status into v_wallet
    from public.wallet_account_references r join public.wallets w on w.id = r.wallet_id
   where r.reference = upper(regexp_replace(coalesce(p_account_reference, ''), '\s', '', 'g'));
  if v_wallet.id is null then
    return jsonb_build_object('accept', false, 'reason', 'unknown_account');
  end if;
  if v_wallet.status <> 'active' then
    return jsonb_build_object('accept', false, 'reason', 'wallet_not_active');
  end if;
  if p_amount is null or p_amount <= 0 or p_amount <> trunc(p_amount) then
    return jsonb_build_object('accept', false, 'reason', 'invalid_amount');
  end if;
  return jsonb_build_object('accept', true, 'wallet_id', v_wallet.id);
end
$$;


--
-- Name: payment_intent_cancel(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_cancel(p_intent_id uuid, p_merchant_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  v_part public.payment_intent_parts;
begin
  if v_intent.status = 'canceled' then
    return hazina.payment_intent_json(p_intent_id);
  end if;
  if v_intent.status not in ('requires_confirmation', 'processing', 'requires_capture') then
    perform hazina.raise_error('intent_not_cancelable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  for v_part in select * from public.payment_intent_parts where payment_intent_id = p_intent_id order by position loop
    perform hazina.payment_intent_release_hold(v_part.hold_id);
  end loop;
  update public.payment_intents
     set status = 'canceled', amount_capturable = 0, canceled_at = now(),
         cancellation_reason = left(coalesce(p_reason, 'requested_by_merchant'), 500), updated_at = now()
   where id = p_intent_id;
  return hazina.payment_intent_json(p_intent_id);
end
$$;


--
-- Name: payment_intent_capture(uuid, uuid, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric DEFAULT NULL::numeric) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  v_amount numeric := coalesce(p_amount, v_intent.amount_capturable);
  v_tx uuid;
begin
  if v_intent.status = 'succeeded' and v_intent.capture_method = 'manual'
     and (p_amount is null or p_amount = v_intent.amount_received) then
    return hazina.payment_intent_json(p_intent_id);
  end if;
  if v_intent.status <> 'requires_capture' then
    perform hazina.raise_error('intent_not_capturable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  if v_intent.expires_at <= hazina.clock() then
    perform hazina.raise_error('intent_expired', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_intent.currency);
  if v_amount > v_intent.amount_capturable then
    perform hazina.raise_error('capture_exceeds_authorized', jsonb_build_object('amount_capturable', v_intent.amount_capturable::text));
  end if;
  v_tx := hazina.payment_intent_post_parts(p_intent_id, v_amount);
  update public.payment_intents
     set status = 'succeeded', amount_received = v_amount, amount_capturable = 0, capture_transaction_id = v_tx,
         succeeded_at = now(), updated_at = now()
   where id = p_intent_id;
  return hazina.payment_intent_json(p_intent_id);
end
$$;


--
-- Name: payment_intent_checkout_json(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_checkout_json(p_intent_id uuid, p_client_secret text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if v_intent.id is null or p_client_secret is null
     or encode(sha256(convert_to(p_client_secret, 'UTF8')), 'hex') <> v_intent.client_secret_hash then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return jsonb_build_object('id', v_intent.id, 'object', 'payment_intent_checkout', 'amount', v_intent.amount::text,
    'currency', v_intent.currency, 'status', v_intent.status, 'capture_method', v_intent.capture_method,
    'amount_received', v_intent.amount_received::text, 'description', v_intent.description,
    'for_customer', v_intent.customer_id is not null,
    'sources', coalesce((select jsonb_agg(jsonb_build_object('type', s.type, 'amount', s.amount::text,
                                                             'funding_status', (select f.status from public.wallet_funding_sessions f
                                                                                 where f.id = s.funding_session_id))
                                          order by s.position)
                           from public.payment_intent_parts s
                          where s.payment_intent_id = v_intent.id and s.attempt = v_intent.confirm_attempt), '[]'::jsonb),
    'last_payment_error', case when v_intent.last_payment_error is not null
                               then jsonb_build_object('code', v_intent.last_payment_error ->> 'code',
                                                       'occurred_at', v_intent.last_payment_error ->> 'occurred_at') end,
    'expires_at', public.api_time(v_intent.expires_at), 'succeeded_at', public.api_time(v_intent.succeeded_at),
    'canceled_at', public.api_time(v_intent.canceled_at), 'created_at', public.api_time(v_intent.created_at),
    'updated_at', public.api_time(v_intent.updated_at));
end
$$;


--
-- Name: payment_intent_confirm(uuid, uuid, jsonb, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb, p_client_secret text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_intent public.payment_intents;
  v_source jsonb;
  v_position integer := 0;
  v_total numeric := 0;
  v_amount numeric;
  v_wallet_id uuid;
  v_wallets uuid[] := '{}'::uuid[];
  v_mpesa jsonb;
  v_topup_wallet uuid;
  v_session_id uuid;
  v_attempt integer;
  v_hold_id uuid;
  v_expires timestamptz;
  v_tx uuid;
  v_detail text;
  v_error jsonb;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id for update;
  -- Another customer's intent, or one for anybody without its secret, does not exist for the caller.
  if v_intent.id is null
     or (v_intent.customer_id is not null and v_intent.customer_id is distinct from p_customer_id)
     or (v_intent.customer_id is null and (p_client_secret is null
         or encode(sha256(convert_to(p_client_secret, 'UTF8')), 'hex') <> v_intent.client_secret_hash)) then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  if v_intent.merchant_id = p_customer_id then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'a merchant cannot pay itself'));
  end if;
  if v_intent.status <> 'requires_confirmation' then
    perform hazina.raise_error('intent_not_confirmable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  if v_intent.expires_at <= hazina.clock() then
    perform hazina.raise_error('intent_expired', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  -- The intent's subject next, before any money (hazina.payment_intent_lock_subject).
  perform hazina.payment_intent_lock_subject(v_intent);
  if p_sources is null or jsonb_typeof(p_sources) <> 'array' or jsonb_array_length(p_sources) not between 1 and 10 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', '1 to 10 sources'));
  end if;
  -- Check the whole plan before any money is held.
  for v_source in select value from jsonb_array_elements(p_sources) loop
    if v_source ->> 'type' is distinct from 'wallet' and v_source ->> 'type' is distinct from 'mpesa' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.type', 'reason', 'wallet or mpesa'));
    end if;
    if jsonb_typeof(v_source -> 'amount') is distinct from 'string' or v_source ->> 'amount' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_intent.currency));
    end if;
    v_amount := (v_source ->> 'amount')::numeric;
    perform hazina.assert_valid_amount(v_amount, v_intent.currency);
    if v_source ->> 'type' = 'mpesa' then
      if v_mpesa is not null then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one M-Pesa part'));
      end if;
      if jsonb_typeof(v_source -> 'phone') is distinct from 'string' or v_source ->> 'phone' !~ '^254[17][0-9]{8}$' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources.phone',
          'reason', 'an M-Pesa number such as 254712345678'));
      end if;
      perform hazina.assert_provider_amount('mpesa', 'in', v_amount, v_intent.currency);
      v_mpesa := v_source;
    else
      if p_customer_id is null then
        -- A guest has no wallet: it pays by M-Pesa.
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      if v_source ->> 'wallet_id' !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_source ->> 'wallet_id'));
      end if;
      v_wallet_id := (v_source ->> 'wallet_id')::uuid;
      if not exists (select 1 from public.wallets where id = v_wallet_id and user_id = p_customer_id) then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', v_wallet_id));
      end if;
      if v_wallet_id = any (v_wallets) then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources', 'reason', 'one part per wallet'));
      end if;
      v_wallets := v_wallets || v_wallet_id;
    end if;
    v_total := v_total + v_amount;
  end loop;
  if v_total <> v_intent.amount then
    perform hazina.raise_error('sources_amount_mismatch', jsonb_build_object(
      'amount', v_intent.amount::text, 'sources_total', v_total::numeric(19, 4)::text));
  end if;
  if v_mpesa is not null then
    if cardinality(v_wallets) > 1 then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sources',
        'reason', 'with an M-Pesa part, at most one wallet part (the wallet the M-Pesa money tops up)'));
    end if;
    if p_customer_id is null then
      if v_intent.capture_method <> 'automatic' then
        perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'capture_method',
          'reason', 'a guest pays intents with automatic capture only'));
      end if;
      v_topup_wallet := v_intent.payee_wallet_id;
    else
      -- The M-Pesa money tops up the wallet part's wallet, or the customer's wallet of the currency.
      v_topup_wallet := coalesce(v_wallets[1], (select id from public.wallets
                                                 where user_id = p_customer_id and currency = v_intent.currency
                                                   and kind = 'user' and status = 'active'
                                                 order by created_at, id limit 1));
      if v_topup_wallet is null then
        perform hazina.raise_error('wallet_not_found', jsonb_build_object('currency', v_intent.currency));
      end if;
    end if;
  end if;

  v_attempt := v_intent.confirm_attempt + 1;
  -- A manual-capture authorisation lasts 7 days from confirmation (commerce clock); the holds
  -- end with it (the same instant: a hold never ends before its intent, see docs/payments.md).
  v_expires := case v_intent.capture_method when 'manual' then hazina.clock() + interval '7 days' else v_intent.expires_at end;
  -- Money that cannot be held or posted (the payer's balance, a frozen wallet) is a failed
  -- attempt, not a refused request: its holds roll back to the savepoint, the intent keeps
  -- requires_confirmation with last_payment_error, and the reply says payment_error (the edge
  -- answers it as that error, after this commit).
  begin
    for v_source in select value from jsonb_array_elements(p_sources) loop
      v_position := v_position + 1;
      if v_source ->> 'type' = 'wallet' then
        v_hold_id := hazina.hold_create(hazina.payment_intent_part_ref(v_intent.id, v_attempt, v_position),
          (v_source ->> 'wallet_id')::uuid, v_intent.payee_wallet_id, (v_source ->> 'amount')::numeric, v_expires,
          v_intent.transaction_type, coalesce(v_intent.description, 'Payment'),
          jsonb_build_object('payment_intent_id', v_intent.id));
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, hold_id)
        values (v_intent.id, v_attempt, v_position, 'wallet', (v_source ->> 'wallet_id')::uuid,
                (v_source ->> 'amount')::numeric, v_hold_id);
      else
        -- The STK push is a funding session of the intent (sent by the edge after this commit;
        -- the sweep settles it if no callback comes). It lives 3 minutes, as a top-up's does.
        insert into public.wallet_funding_sessions (user_id, wallet_id, source_id, provider, channel, amount, currency,
                                                    client_ref, payer_msisdn, expires_at, payment_intent_id)
        values (p_customer_id, v_topup_wallet, null, 'mpesa', 'stk_push', (v_source ->> 'amount')::numeric,
                v_intent.currency, 'intent:' || v_intent.id || ':attempt:' || v_attempt, v_source ->> 'phone',
                now() + interval '3 minutes', v_intent.id)
        returning id into v_session_id;
        insert into public.payment_intent_parts (payment_intent_id, attempt, position, type, wallet_id, amount, phone,
                                                 funding_session_id)
        values (v_intent.id, v_attempt, v_position, 'mpesa', case when p_customer_id is not null then v_topup_wallet end,
                (v_source ->> 'amount')::numeric, v_source ->> 'phone', v_session_id);
      end if;
    end loop;

    if v_mpesa is not null then
      update public.payment_intents
         set status = 'processing', customer_id = p_customer_id, confirm_attempt = v_attempt, confirmed_at = now(),
             last_payment_error = null, updated_at = now()
       where id = v_intent.id;
    elsif v_intent.capture_method = 'automatic' then
      update public.payment_intents set confirm_attempt = v_attempt where id = v_intent.id;
      v_tx := hazina.payment_intent_post_parts(v_intent.id, v_intent.amount);
      update public.payment_intents
         set status = 'succeeded', customer_id = p_customer_id, amount_received = amount, amount_capturable = 0,
             capture_transaction_id = v_tx, confirmed_at = now(), succeeded_at = now(), last_payment_error = null,
             updated_at = now()
       where id = v_intent.id;
    else
      update public.payment_intents
         set status = 'requires_capture', customer_id = p_customer_id, amount_capturable = amount, expires_at = v_expires,
             confirm_attempt = v_attempt, confirmed_at = now(), last_payment_error = null, updated_at = now()
       where id = v_intent.id;
    end if;
  exception when sqlstate 'P0001' then
    if sqlerrm not in ('insufficient_funds', 'wallet_not_active', 'fee_exceeds_amount') then
      raise;
    end if;
    get stacked diagnostics v_detail = pg_exception_detail;
    v_error := jsonb_build_object('code', sqlerrm, 'details', coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb),
                                  'occurred_at', public.api_time(now()));
    update public.payment_intents set last_payment_error = v_error, updated_at = now() where id = v_intent.id;
    return hazina.payment_intent_json(v_intent.id) || jsonb_build_object('payment_error', v_error);
  end;
  if v_session_id is not null then
    return hazina.payment_intent_json(v_intent.id) || jsonb_build_object('mpesa', jsonb_build_object(
      'funding_session_id', v_session_id, 'provider', 'mpesa', 'amount', (v_mpesa ->> 'amount')::numeric(19, 4)::text,
      'currency', v_intent.currency, 'msisdn', v_mpesa ->> 'phone'));
  end if;
  return hazina.payment_intent_json(v_intent.id);
end
$_$;


--
-- Name: payment_intent_create(uuid, numeric, text, text, uuid, text, jsonb, integer, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_create(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_intent_open(p_merchant_id, p_amount, p_currency, p_capture_method, p_customer_id,
                                          p_description, p_metadata, p_expires_in_seconds, p_client_ref,
                                          null, null, null, null) $$;


--
-- Name: payment_intent_event(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    insert into public.events (merchant_id, type, object_type, object_id, data)
    values (new.merchant_id, 'payment_intent.' || case when tg_op = 'INSERT' then 'created' else new.status end,
            'payment_intent', new.id, public.payment_intent_json(new));
  elsif new.last_payment_error is not null and new.last_payment_error is distinct from old.last_payment_error then
    insert into public.events (merchant_id, type, object_type, object_id, data)
    values (new.merchant_id, 'payment_intent.payment_failed', 'payment_intent', new.id, public.payment_intent_json(new));
  end if;
  return null;
end
$$;


--
-- Name: payment_intent_fail_attempt(uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_fail_attempt(p_intent_id uuid, p_error jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_part public.payment_intent_parts;
begin
  for v_part in select p.* from public.payment_intent_parts p join public.payment_intents i on i.id = p.payment_intent_id
                 where p.payment_intent_id = p_intent_id and p.attempt = i.confirm_attempt order by p.position loop
    perform hazina.payment_intent_release_hold(v_part.hold_id);
  end loop;
  update public.payment_intents
     set status = 'requires_confirmation', amount_capturable = 0, last_payment_error = p_error, updated_at = now()
   where id = p_intent_id;
end
$$;


--
-- Name: payment_intent_funding_changed(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_funding_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_waiting public.payment_intents;
begin
  if new.status = 'completed' then
    if new.user_id is not null then
      perform hazina.payment_intent_mpesa_arrived(new.id);
    end if;
  elsif new.status in ('failed', 'cancelled', 'expired') and old.status = 'pending' then
    v_waiting := hazina.payment_intent_waiting(new.id);
    if v_waiting.id is not null then
      perform hazina.payment_intent_fail_attempt(v_waiting.id, jsonb_build_object(
        'code', case new.status when 'cancelled' then 'mpesa_cancelled' when 'expired' then 'mpesa_timeout'
                                else 'mpesa_failed' end,
        'details', jsonb_build_object('funding_session_id', new.id, 'provider_code', new.failure_code,
                                      'reason', new.failure_reason),
        'occurred_at', public.api_time(now())));
    end if;
  end if;
  return null;
end
$$;


--
-- Name: payment_intent_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_json(p_intent_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.payment_intent_json(p) from public.payment_intents p where p.id = p_intent_id $$;


--
-- Name: payment_intent_lock(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_lock(p_intent_id uuid, p_merchant_id uuid) RETURNS public.payment_intents
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents;
begin
  select * into v_intent from public.payment_intents
   where id = p_intent_id and (p_merchant_id is null or merchant_id = p_merchant_id) for update;
  if v_intent.id is null then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return v_intent;
end
$$;


--
-- Name: payment_intent_lock_subject(public.payment_intents); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_lock_subject(p_intent public.payment_intents) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if p_intent.subject_type = 'installment' then
    perform 1 from public.installments where id = p_intent.subject_id for update;
  end if;
end
$$;


--
-- Name: payment_intent_mpesa_arrived(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_mpesa_arrived(p_session_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_waiting public.payment_intents;
  v_part public.payment_intent_parts;
  v_expires timestamptz;
  v_hold_id uuid;
  v_tx uuid;
  v_detail text;
begin
  v_waiting := hazina.payment_intent_waiting(p_session_id);
  if v_waiting.id is null then
    return;
  end if;
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  -- 7 days from the confirm on the commerce clock, as the confirm sets it (confirmed_at is a
  -- wall-clock record: shifted by the clock's offset).
  v_expires := case v_waiting.capture_method when 'manual' then v_waiting.confirmed_at + (hazina.clock() - now()) + interval '7 days'
                                                     else v_waiting.expires_at end;
  begin
    v_hold_id := hazina.hold_create(
      hazina.payment_intent_part_ref(v_waiting.id, v_part.attempt, v_part.position),
      v_part.wallet_id, v_waiting.payee_wallet_id, v_part.amount, v_expires,
      v_waiting.transaction_type, coalesce(v_waiting.description, 'Payment'),
      jsonb_build_object('payment_intent_id', v_waiting.id));
    update public.payment_intent_parts set hold_id = v_hold_id where id = v_part.id;
    if v_waiting.capture_method = 'automatic' then
      v_tx := hazina.payment_intent_post_parts(v_waiting.id, v_waiting.amount);
      update public.payment_intents
         set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = v_tx,
             succeeded_at = now(), last_payment_error = null, updated_at = now()
       where id = v_waiting.id;
    else
      update public.payment_intents
         set status = 'requires_capture', amount_capturable = amount, expires_at = v_expires, last_payment_error = null,
             updated_at = now()
       where id = v_waiting.id;
    end if;
  exception when sqlstate 'P0001' then
    if sqlerrm not in ('insufficient_funds', 'wallet_not_active', 'fee_exceeds_amount', 'hold_expired') then
      raise;
    end if;
    get stacked diagnostics v_detail = pg_exception_detail;
    perform hazina.payment_intent_fail_attempt(v_waiting.id, jsonb_build_object('code', sqlerrm,
      'details', coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb) || jsonb_build_object('funding_session_id', p_session_id),
      'occurred_at', public.api_time(now())));
  end;
end
$$;


--
-- Name: wallet_funding_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_funding_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    wallet_id uuid NOT NULL,
    source_id uuid,
    provider public.payment_provider NOT NULL,
    channel text NOT NULL,
    amount numeric(19,4) NOT NULL,
    fee numeric(19,4) DEFAULT 0 NOT NULL,
    currency character(3) NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    client_ref text,
    provider_request_id text,
    provider_checkout_id text,
    provider_receipt text,
    payer_msisdn text,
    account_reference text,
    transaction_id uuid,
    failure_code text,
    failure_reason text,
    expires_at timestamp with time zone NOT NULL,
    check_count integer DEFAULT 0 NOT NULL,
    last_checked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    payment_intent_id uuid,
    CONSTRAINT wallet_funding_sessions_account_reference_check CHECK ((length(account_reference) <= 100)),
    CONSTRAINT wallet_funding_sessions_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT wallet_funding_sessions_channel_check CHECK ((channel = ANY (ARRAY['stk_push'::text, 'bank_collection'::text, 'paybill'::text]))),
    CONSTRAINT wallet_funding_sessions_check_count_check CHECK ((check_count >= 0)),
    CONSTRAINT wallet_funding_sessions_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT wallet_funding_sessions_completed_posted CHECK (((status = 'completed'::text) = (transaction_id IS NOT NULL))),
    CONSTRAINT wallet_funding_sessions_failure_code_check CHECK ((length(failure_code) <= 100)),
    CONSTRAINT wallet_funding_sessions_failure_reason_check CHECK ((length(failure_reason) <= 500)),
    CONSTRAINT wallet_funding_sessions_fee_check CHECK ((fee >= (0)::numeric)),
    CONSTRAINT wallet_funding_sessions_owner CHECK (((user_id IS NOT NULL) OR (payment_intent_id IS NOT NULL))),
    CONSTRAINT wallet_funding_sessions_payer_msisdn_check CHECK ((length(payer_msisdn) <= 20)),
    CONSTRAINT wallet_funding_sessions_provider_checkout_id_check CHECK ((length(provider_checkout_id) <= 255)),
    CONSTRAINT wallet_funding_sessions_provider_receipt_check CHECK ((length(provider_receipt) <= 255)),
    CONSTRAINT wallet_funding_sessions_provider_request_id_check CHECK ((length(provider_request_id) <= 255)),
    CONSTRAINT wallet_funding_sessions_source CHECK (
CASE
    WHEN (payment_intent_id IS NULL) THEN ((channel = 'paybill'::text) = (source_id IS NULL))
    ELSE ((channel = 'stk_push'::text) AND (source_id IS NULL) AND (payer_msisdn IS NOT NULL))
END),
    CONSTRAINT wallet_funding_sessions_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'completed'::text, 'failed'::text, 'expired'::text, 'cancelled'::text])))
);


--
-- Name: payment_intent_mpesa_post(public.wallet_funding_sessions, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text, OUT transaction_id uuid, OUT fee numeric) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents;
  v_clearing uuid := hazina.provider_clearing_wallet(p_session.provider, p_session.currency);
  v_waiting public.payment_intents;
  v_quote record;
  v_fee numeric;
  v_meta jsonb := jsonb_build_object('funding_session_id', p_session.id, 'payment_intent_id', p_session.payment_intent_id,
                                     'provider_receipt', p_receipt);
begin
  fee := 0;
  -- Lock order: the session (the caller holds it), the intent, then wallets, as the confirm,
  -- cancel and the expiry job take them (intent, then holds and wallets); crediting the
  -- customer's wallet before taking the intent would deadlock with an expiry voiding its hold.
  select * into v_intent from public.payment_intents where id = p_session.payment_intent_id for update;
  if v_intent.id is not null then
    perform hazina.payment_intent_lock_subject(v_intent);  -- then its subject, before any money
  end if;
  if p_session.user_id is not null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      'Payment via ' || p_session.provider, v_meta);
    return;
  end if;
  v_waiting := hazina.payment_intent_waiting(p_session.id);
  if v_waiting.id is null then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', hazina.system_wallet('suspense', p_session.currency), 'direction', 'credit',
                         'amount', p_session.amount::text)),
      'Guest payment that arrived after its intent stopped waiting (to pay back)', v_meta);
    return;
  end if;
  select * into v_quote from hazina.fee_quote(v_waiting.transaction_type, p_session.amount, p_session.currency,
                                              v_waiting.merchant_id);
  v_fee := least(v_quote.fee, p_session.amount);
  if v_fee > 0 then
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'debit', 'amount', v_fee::text, 'leg', 'fee'),
      jsonb_build_object('wallet_id', hazina.system_wallet('fee_revenue', p_session.currency), 'direction', 'credit',
                         'amount', v_fee::text, 'leg', 'fee')),
      coalesce(v_waiting.description, 'Payment'), v_meta);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (transaction_id::text || '#fee', transaction_id, p_session.wallet_id, v_waiting.merchant_id,
            v_waiting.transaction_type, 'charge', v_fee, p_session.currency, p_session.amount,
            v_quote.rule_source, v_quote.rule_id);
  else
    transaction_id := hazina.post_transaction('funding:' || p_session.id, v_waiting.transaction_type, jsonb_build_array(
      jsonb_build_object('wallet_id', v_clearing, 'direction', 'debit', 'amount', p_session.amount::text),
      jsonb_build_object('wallet_id', p_session.wallet_id, 'direction', 'credit', 'amount', p_session.amount::text)),
      coalesce(v_waiting.description, 'Payment'), v_meta);
  end if;
  update public.payment_intents
     set status = 'succeeded', amount_received = amount, amount_capturable = 0, capture_transaction_id = transaction_id,
         succeeded_at = now(), last_payment_error = null, updated_at = now()
   where id = v_waiting.id;
end
$$;


--
-- Name: payment_intent_open(uuid, numeric, text, text, uuid, text, jsonb, integer, text, text, uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_open(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text, p_subject_type text, p_subject_id uuid, p_payee_wallet_id uuid, p_transaction_type text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.payment_intents;
  v_wallet_id uuid;
  v_id uuid := gen_random_uuid();
  v_secret text;
  v_currency text := coalesce(p_currency, 'KES');
  v_capture text := coalesce(p_capture_method, 'automatic');
  v_type text := coalesce(p_transaction_type, 'payment_intent');
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.payment_intents where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.amount <> p_amount or v_existing.currency <> v_currency or v_existing.capture_method <> v_capture
       or v_existing.customer_id is distinct from p_customer_id
       or v_existing.subject_type is distinct from p_subject_type or v_existing.subject_id is distinct from p_subject_id then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.payment_intent_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if not exists (select 1 from public.currencies where code = v_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', v_currency));
  end if;
  perform hazina.assert_valid_amount(p_amount, v_currency);
  if v_capture not in ('automatic', 'manual') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'capture_method', 'reason', 'automatic or manual'));
  end if;
  if p_expires_in_seconds is not null and p_expires_in_seconds not between 60 and 7 * 86400 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_in_seconds',
      'reason', 'between 60 seconds and 7 days'));
  end if;
  if p_metadata is not null and (jsonb_typeof(p_metadata) <> 'object' or length(p_metadata::text) > 16000) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'metadata', 'reason', 'an object of at most 16000 characters'));
  end if;
  if length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  if (p_subject_type is null) <> (p_subject_id is null) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'subject', 'reason', 'a type and an id, or neither'));
  end if;
  if not exists (select 1 from public.transaction_types where code = v_type) then
    perform hazina.raise_error('unknown_transaction_type', jsonb_build_object('type', v_type));
  end if;
  -- The payee is the merchant's own merchant wallet of the currency (which must exist even
  -- when a capability pays into another wallet, e.g. escrow, so the money has a home later).
  select id into v_wallet_id from public.wallets
   where user_id = p_merchant_id and currency = v_currency and kind = 'merchant' and status = 'active';
  if v_wallet_id is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  if p_payee_wallet_id is not null then
    if not exists (select 1 from public.wallets where id = p_payee_wallet_id and currency = v_currency and status = 'active') then
      perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_payee_wallet_id));
    end if;
    v_wallet_id := p_payee_wallet_id;
  end if;
  if p_customer_id is not null then
    if p_customer_id = p_merchant_id then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'customer_id', 'reason', 'a merchant cannot pay itself'));
    end if;
    if not exists (select 1 from public.auth_users where id = p_customer_id) then
      perform hazina.raise_error('customer_not_found', jsonb_build_object('customer_id', p_customer_id));
    end if;
  end if;
  v_secret := 'pi_' || replace(v_id::text, '-', '') || '_secret_' || encode(extensions.gen_random_bytes(24), 'hex');
  insert into public.payment_intents (id, merchant_id, payee_wallet_id, customer_id, amount, currency, capture_method,
                                      description, metadata, client_secret_hash, client_ref, expires_at,
                                      subject_type, subject_id, transaction_type)
  values (v_id, p_merchant_id, v_wallet_id, p_customer_id, p_amount, v_currency, v_capture, p_description,
          coalesce(p_metadata, '{}'), encode(sha256(convert_to(v_secret, 'UTF8')), 'hex'), p_client_ref,
          hazina.clock() + make_interval(secs => coalesce(p_expires_in_seconds, 86400)),
          p_subject_type, p_subject_id, v_type)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate payment intent; retry';
  end if;
  return hazina.payment_intent_json(v_id) || jsonb_build_object('created', true, 'client_secret', v_secret);
end
$$;


--
-- Name: payment_intent_part_ref(uuid, integer, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_part_ref(p_intent_id uuid, p_attempt integer, p_position integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$ select 'intent:' || p_intent_id || case when p_attempt > 1 then ':attempt:' || p_attempt else '' end
               || ':part:' || p_position $$;


--
-- Name: payment_intent_post_parts(uuid, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_post_parts(p_intent_id uuid, p_amount numeric) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_intent public.payment_intents;
  v_part public.payment_intent_parts;
  v_left numeric := p_amount;
  v_tx uuid;
  v_first uuid;
  v_wallet uuid;
begin
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if exists (select 1 from public.payment_intent_parts
              where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt and type = 'mpesa') then
    for v_part in select * from public.payment_intent_parts
                   where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt order by position loop
      if exists (select 1 from public.wallet_holds where id = v_part.hold_id and status = 'pending' and expires_at <= now()) then
        perform hazina.raise_error('hold_expired', jsonb_build_object('hold_id', v_part.hold_id));
      end if;
      perform hazina.payment_intent_release_hold(v_part.hold_id);
      v_wallet := coalesce(v_wallet, v_part.wallet_id);
    end loop;
    return (hazina.transfer('intent:' || p_intent_id || ':attempt:' || v_intent.confirm_attempt || ':capture', v_wallet,
                            v_intent.payee_wallet_id, p_amount, v_intent.transaction_type,
                            coalesce(v_intent.description, 'Payment'),
                            jsonb_build_object('payment_intent_id', p_intent_id)) ->> 'transaction_id')::uuid;
  end if;
  for v_part in select * from public.payment_intent_parts
                 where payment_intent_id = p_intent_id and attempt = v_intent.confirm_attempt order by position loop
    if v_left > 0 then
      v_tx := hazina.hold_post(v_part.hold_id, least(v_left, v_part.amount));
      v_first := coalesce(v_first, v_tx);
      v_left := v_left - least(v_left, v_part.amount);
    else
      perform hazina.payment_intent_release_hold(v_part.hold_id);
    end if;
  end loop;
  return v_first;
end
$$;


--
-- Name: payment_intent_qr_code(public.payment_intents); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_qr_code(p public.payment_intents) RETURNS uuid
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$ select case when p.subject_type = 'qr_code' then p.subject_id else p.qr_code_id end $$;


--
-- Name: payment_intent_release_hold(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_release_hold(p_hold_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if exists (select 1 from public.wallet_holds where id = p_hold_id and status = 'pending') then
    perform hazina.hold_void(p_hold_id);
  end if;
end
$$;


--
-- Name: payment_intent_waiting(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_intent_waiting(p_session_id uuid) RETURNS public.payment_intents
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_part public.payment_intent_parts;
  v_intent public.payment_intents;
begin
  select * into v_part from public.payment_intent_parts where funding_session_id = p_session_id;
  select * into v_intent from public.payment_intents where id = v_part.payment_intent_id for update;
  if v_intent.id is null or v_intent.status <> 'processing' or v_intent.confirm_attempt <> v_part.attempt
     or v_intent.expires_at <= hazina.clock() then
    return null;
  end if;
  return v_intent;
end
$$;


--
-- Name: payment_refund_create(uuid, uuid, numeric, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.payment_refunds;
  v_intent public.payment_intents;
  v_remaining numeric;
  v_amount numeric;
  v_id uuid := gen_random_uuid();
  v_ref text := 'payment_refund:' || v_id;
  v_charge public.billing_ledger;
  v_fee_refunded numeric;
  v_fee numeric := 0;
  v_minor smallint;
  v_payer uuid;
  v_tx record;
  v_reason text;
  v_guest boolean := false;
  v_phone text;
  v_payout_id uuid := gen_random_uuid();
  v_hold_id uuid;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  v_intent := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
  -- Under the intent's lock: a concurrent duplicate has committed by now, or not at all.
  select * into v_existing from public.payment_refunds where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.payment_intent_id <> p_intent_id or (p_amount is not null and v_existing.amount <> p_amount) then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.payment_refund_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if v_intent.status <> 'succeeded' then
    perform hazina.raise_error('intent_not_refundable', jsonb_build_object('payment_intent_id', p_intent_id, 'status', v_intent.status));
  end if;
  -- amount_refunded counts pending (payout) refunds too.
  v_remaining := v_intent.amount_received - v_intent.amount_refunded;
  v_amount := coalesce(p_amount, v_remaining);
  if v_amount <= 0 and p_amount is null then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_intent.currency);
  if v_amount > v_remaining then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  -- Who paid: the capture's one principal payer (the customer's wallet, or mpesa_clearing for a guest).
  select (array_agg(e.wallet_id) filter (where e.direction = 'debit'))[1] into v_payer
    from hazina.transaction_entries(v_intent.capture_transaction_id) e where e.leg = 'principal'
  having count(distinct e.wallet_id) filter (where e.direction = 'debit') = 1;
  if v_payer is null then
    perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
      'reason', 'the capture has no single payer to refund'));
  end if;
  if exists (select 1 from public.wallets where id = v_payer and kind = 'system') then
    -- An order's or installment plan's intent always has its customer (see the top of this
    -- file), even when an M-Pesa phone paid it through its QR code: never a guest's, so never
    -- refunded by payout. Said plainly rather than by the generic refusal below.
    if v_intent.subject_type in ('order', 'installment') then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'an M-Pesa payment of ' || case v_intent.subject_type when 'order' then 'an order' else 'an installment plan' end
          || ' is not refunded by payout: orders and installment plans belong to a signed-in customer, and only a '
          || 'guest''s payment of an intent, a QR code or an invoice goes back to the paying phone'));
    end if;
    if v_intent.customer_id is not null or v_payer <> hazina.provider_clearing_wallet('mpesa', v_intent.currency) then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'the payment did not come from a customer''s wallet or a guest''s M-Pesa phone'));
    end if;
    -- A guest pays intents of its own, QR codes and invoices (any other subject: refused).
    if v_intent.subject_type is not null and v_intent.subject_type not in ('invoice', 'qr_code') then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'a guest''s payment of a ' || v_intent.subject_type || ' cannot be refunded by payout'));
    end if;
    select p.phone into v_phone from public.payment_intent_parts p
     where p.payment_intent_id = p_intent_id and p.attempt = v_intent.confirm_attempt and p.type = 'mpesa'
     order by p.position limit 1;
    if v_phone is null then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'the paying phone is not known'));
    end if;
    -- M-Pesa pays whole amounts within its limits.
    perform hazina.assert_provider_amount('mpesa', 'out', v_amount, v_intent.currency);
    v_guest := true;
  end if;

  -- The fee share (the capture's one fee charge, if any). Failed refunds gave back nothing (0).
  select * into v_charge from public.billing_ledger
   where transaction_id = v_intent.capture_transaction_id and direction = 'charge' order by ref limit 1;
  if v_charge.ref is not null then
    select coalesce(sum(r.fee_refunded), 0) into v_fee_refunded from public.payment_refunds r where r.payment_intent_id = p_intent_id;
    select minor_units into v_minor from public.currencies where code = v_intent.currency;
    v_fee := hazina.refund_fee_share(v_charge.amount, v_fee_refunded, v_amount, v_intent.amount_received,
                                     v_amount = v_remaining, v_minor);
  end if;
  v_reason := left(coalesce(p_reason, 'Refund'), 500);

  if v_guest then
    -- Hold the whole amount on the payee wallet for the payout; it never expires on its own
    -- (only the provider's answer, through the withdrawal state machine, posts or voids it).
    begin
      v_hold_id := hazina.hold_create('withdrawal:' || v_payout_id, v_intent.payee_wallet_id,
        hazina.system_wallet('payouts_in_flight', v_intent.currency), v_amount, 'infinity', 'refund_payout',
        'Refund to ' || left(v_phone, 4) || '******' || right(v_phone, 2),
        jsonb_build_object('withdrawal_id', v_payout_id, 'payment_refund_id', v_id));
    exception when raise_exception then
      if sqlerrm = 'insufficient_funds' then
        perform hazina.raise_error('refund_insufficient_funds', jsonb_build_object(
          'payment_intent_id', p_intent_id, 'wallet_id', v_intent.payee_wallet_id, 'amount', v_amount::numeric(19, 4)::text));
      end if;
      raise;
    end;
    insert into public.wallet_withdrawals (id, user_id, wallet_id, source_id, msisdn, provider, amount, fee, currency,
                                           client_ref, hold_id, provider_request_id, expires_at)
    values (v_payout_id, p_merchant_id, v_intent.payee_wallet_id, null, v_phone, 'mpesa', v_amount, 0, v_intent.currency,
            null, v_hold_id, v_payout_id::text, now() + interval '10 minutes');
    insert into public.payment_refunds (id, payment_intent_id, merchant_id, customer_id, amount, fee_refunded, currency, reason,
                                        status, transaction_id, payout_id, client_ref)
    values (v_id, p_intent_id, p_merchant_id, null, v_amount, v_fee, v_intent.currency, left(p_reason, 500),
            'pending', null, v_payout_id, p_client_ref);
    update public.payment_intents set amount_refunded = amount_refunded + v_amount, updated_at = now() where id = p_intent_id;
    return hazina.payment_refund_json(v_id) || jsonb_build_object('created', true);
  end if;

  -- One reversal of the capture: principal back, and the fee share back to its payer.
  perform 1 from public.wallet_transactions where id = v_intent.capture_transaction_id for update;
  select * into v_tx from hazina.begin_transaction(
    v_ref, 'reversal',
    md5(concat_ws('|', 'payment_refund', v_intent.capture_transaction_id, v_amount::numeric(19, 4), v_fee::numeric(19, 4))),
    v_amount, v_intent.currency, v_reason,
    jsonb_build_object('reverses', v_intent.capture_transaction_id, 'original_kind', v_intent.transaction_type,
                       'payment_refund_id', v_id),
    v_intent.capture_transaction_id);
  if v_fee > 0 then
    perform hazina.apply_entries(v_tx.transaction_id, 'reversal', v_reason,
      jsonb_build_object('reverses', v_intent.capture_transaction_id), v_ref,
      array[v_intent.payee_wallet_id, v_payer, hazina.system_wallet('fee_revenue', v_intent.currency), v_charge.payer_wallet_id],
      array['debit', 'credit', 'debit', 'credit'], array[v_amount, v_amount, v_fee, v_fee],
      array['principal', 'principal', 'fee', 'fee']);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id, refund_of)
    values (v_tx.transaction_id::text || '#refund-1', v_tx.transaction_id, v_charge.payer_wallet_id, v_charge.payer_user_id,
            v_charge.transaction_type, 'refund', v_fee, v_charge.currency, v_amount, 'original', v_charge.rule_id, v_charge.ref);
  else
    perform hazina.apply_entries(v_tx.transaction_id, 'reversal', v_reason,
      jsonb_build_object('reverses', v_intent.capture_transaction_id), v_ref,
      array[v_intent.payee_wallet_id, v_payer], array['debit', 'credit'], array[v_amount, v_amount],
      array['principal', 'principal']);
  end if;
  insert into public.payment_refunds (id, payment_intent_id, merchant_id, customer_id, amount, fee_refunded, currency, reason,
                                      transaction_id, client_ref)
  values (v_id, p_intent_id, p_merchant_id, v_intent.customer_id, v_amount, v_fee, v_intent.currency, left(p_reason, 500),
          v_tx.transaction_id, p_client_ref);
  update public.payment_intents set amount_refunded = amount_refunded + v_amount, updated_at = now() where id = p_intent_id;
  return hazina.payment_refund_json(v_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: payment_refund_event(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_refund_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into public.events (merchant_id, type, object_type, object_id, data)
  values (new.merchant_id, 'payment_refund.created', 'payment_refund', new.id, public.payment_refund_json(new));
  return null;
end
$$;


--
-- Name: payment_refund_fail(uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_refund_fail(p_refund_id uuid, p_code text, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_refund public.payment_refunds;
  v_intent public.payment_intents;
begin
  select * into v_refund from public.payment_refunds where id = p_refund_id;
  if v_refund.id is null then
    perform hazina.raise_error('payment_refund_not_found', jsonb_build_object('payment_refund_id', p_refund_id));
  end if;
  v_intent := hazina.payment_intent_lock(v_refund.payment_intent_id, null);
  select * into v_refund from public.payment_refunds where id = p_refund_id for update;
  if v_refund.status = 'failed' then
    return hazina.payment_refund_json(p_refund_id);
  end if;
  if v_refund.status <> 'pending' then
    perform hazina.raise_error('refund_not_pending', jsonb_build_object('payment_refund_id', p_refund_id, 'status', v_refund.status));
  end if;
  if exists (select 1 from public.wallet_withdrawals where id = v_refund.payout_id and status <> 'failed') then
    perform hazina.raise_error('refund_not_pending', jsonb_build_object('payment_refund_id', p_refund_id,
      'reason', 'its payout has not failed'));
  end if;
  update public.payment_refunds
     set status = 'failed', fee_refunded = 0, failure_code = left(coalesce(p_code, 'payout_failed'), 100),
         failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_refund_id returning * into v_refund;
  update public.payment_intents set amount_refunded = amount_refunded - v_refund.amount, updated_at = now()
   where id = v_intent.id;
  perform hazina.event_emit(v_refund.merchant_id, 'payment_refund.failed', 'payment_refund', v_refund.id,
                            public.payment_refund_json(v_refund));
  return public.payment_refund_json(v_refund);
end
$$;


--
-- Name: payment_refund_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_refund_json(p_refund_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.payment_refund_json(r) from public.payment_refunds r where r.id = p_refund_id $$;


--
-- Name: payment_refund_succeed(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payment_refund_succeed(p_refund_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_refund public.payment_refunds;
  v_intent public.payment_intents;
  v_payout public.wallet_withdrawals;
  v_charge public.billing_ledger;
  v_ref text;
  v_tx record;
  v_fee_tx uuid;
begin
  select * into v_refund from public.payment_refunds where id = p_refund_id;
  if v_refund.id is null then
    perform hazina.raise_error('payment_refund_not_found', jsonb_build_object('payment_refund_id', p_refund_id));
  end if;
  v_intent := hazina.payment_intent_lock(v_refund.payment_intent_id, null);
  select * into v_refund from public.payment_refunds where id = p_refund_id for update;
  if v_refund.status = 'succeeded' then
    return hazina.payment_refund_json(p_refund_id);
  end if;
  if v_refund.status <> 'pending' then
    perform hazina.raise_error('refund_not_pending', jsonb_build_object('payment_refund_id', p_refund_id, 'status', v_refund.status));
  end if;
  select * into v_payout from public.wallet_withdrawals where id = v_refund.payout_id;
  if v_payout.status <> 'completed' or v_payout.transaction_id is null then
    perform hazina.raise_error('refund_not_pending', jsonb_build_object('payment_refund_id', p_refund_id,
      'reason', 'its payout is not completed', 'payout_status', v_payout.status));
  end if;
  if v_refund.fee_refunded > 0 then
    select * into v_charge from public.billing_ledger
     where transaction_id = v_intent.capture_transaction_id and direction = 'charge' order by ref limit 1;
    v_ref := 'payment_refund:' || v_refund.id || ':fee';
    perform 1 from public.wallet_transactions where id = v_intent.capture_transaction_id for update;
    select * into v_tx from hazina.begin_transaction(
      v_ref, 'reversal',
      md5(concat_ws('|', 'payment_refund_fee', v_intent.capture_transaction_id, v_refund.fee_refunded::numeric(19, 4))),
      0, v_intent.currency, left(coalesce(v_refund.reason, 'Refund'), 500),
      jsonb_build_object('reverses', v_intent.capture_transaction_id, 'original_kind', v_intent.transaction_type,
                         'payment_refund_id', v_refund.id),
      v_intent.capture_transaction_id);
    perform hazina.apply_entries(v_tx.transaction_id, 'reversal', left(coalesce(v_refund.reason, 'Refund'), 500),
      jsonb_build_object('reverses', v_intent.capture_transaction_id), v_ref,
      array[hazina.system_wallet('fee_revenue', v_intent.currency), v_charge.payer_wallet_id],
      array['debit', 'credit'], array[v_refund.fee_refunded, v_refund.fee_refunded], array['fee', 'fee']);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id, refund_of)
    values (v_tx.transaction_id::text || '#refund-1', v_tx.transaction_id, v_charge.payer_wallet_id, v_charge.payer_user_id,
            v_charge.transaction_type, 'refund', v_refund.fee_refunded, v_charge.currency, v_refund.amount, 'original',
            v_charge.rule_id, v_charge.ref);
    v_fee_tx := v_tx.transaction_id;
  end if;
  update public.payment_refunds
     set status = 'succeeded', transaction_id = v_payout.transaction_id, fee_transaction_id = v_fee_tx,
         updated_at = now()
   where id = p_refund_id returning * into v_refund;
  perform hazina.event_emit(v_refund.merchant_id, 'payment_refund.succeeded', 'payment_refund', v_refund.id,
                            public.payment_refund_json(v_refund));
  return public.payment_refund_json(v_refund);
end
$$;


--
-- Name: payout_claim_hold(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payout_claim_hold(p_withdrawal_id uuid, p_action text) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_status in ('pending', 'processing') then
    update public.wallet_withdrawals set expires_at = least(expires_at, now()), updated_at = now() where id = p_withdrawal_id;
    return jsonb_build_object('status', 'unconfirmed', 'subject_type', 'withdrawal', 'subject_id', p_withdrawal_id,
                              'result', hazina.withdrawal_json(p_withdrawal_id));
  end if;
  if (p_action = 'payout.succeeded' and v_status in ('completed', 'reversed')) or (p_action = 'payout.failed' and v_status = 'failed') then
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', p_withdrawal_id,
                              'result', hazina.withdrawal_json(p_withdrawal_id));
  end if;
  perform hazina.raise_error('not_confirmed_by_provider', jsonb_build_object(
    'withdrawal_id', p_withdrawal_id, 'status', v_status, 'claimed', p_action));
  return null;  -- not reached
end
$$;


--
-- Name: payout_destination(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.payout_destination(p_withdrawal_id uuid) RETURNS TABLE(msisdn text, account_number text, account_name text, payment_refund_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select coalesce(s.msisdn, w.msisdn), s.account_number, s.account_name, r.id
    from public.wallet_withdrawals w
    left join public.wallet_sources s on s.id = w.source_id
    left join public.payment_refunds r on r.payout_id = w.id
   where w.id = p_withdrawal_id
$$;


--
-- Name: post_transaction(text, text, jsonb, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.post_transaction(p_ref text, p_kind text, p_entries jsonb, p_description text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: product_create(uuid, uuid, text, text, numeric, integer, boolean, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.product_create(p_merchant_id uuid, p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_shop public.shops := hazina.shop_lock(p_shop_id, p_merchant_id);
  v_product public.products;
begin
  perform hazina.assert_valid_amount(p_price, v_shop.currency);
  if p_stock < 0 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'stock', 'reason', 'zero or more, or null for unlimited'));
  end if;
  if p_sku is null or p_sku !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'sku', 'reason', 'letters, digits and . _ -, at most 64'));
  end if;
  if p_name is null or length(p_name) not between 1 and 200 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 200 characters'));
  end if;
  if length(p_description) > 2000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 2000 characters'));
  end if;
  insert into public.products (shop_id, name, sku, price, stock, active, description)
  values (p_shop_id, p_name, p_sku, p_price, p_stock, coalesce(p_active, true), p_description)
  on conflict (shop_id, sku) do nothing
  returning * into v_product;
  if v_product.id is null then
    perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_sku));
  end if;
  return public.product_json(v_product);
end
$_$;


--
-- Name: product_update(uuid, uuid, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.product_update(p_merchant_id uuid, p_shop_id uuid, p_product_id uuid, p_patch jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_shop public.shops;
  v_product public.products;
  v_key text;
begin
  select * into v_shop from public.shops where id = p_shop_id and merchant_id = p_merchant_id;
  if v_shop.id is null then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  select * into v_product from public.products where id = p_product_id and shop_id = p_shop_id for update;
  if v_product.id is null then
    perform hazina.raise_error('product_not_found', jsonb_build_object('product_id', p_product_id));
  end if;
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('name', 'sku', 'description', 'price', 'stock', 'active') then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_key, 'reason', 'cannot be changed'));
    end if;
  end loop;
  if p_patch ? 'price' then
    if jsonb_typeof(p_patch -> 'price') is distinct from 'string' or p_patch ->> 'price' !~ '^[0-9]{1,15}(\.[0-9]{1,4})?$' then
      perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_shop.currency));
    end if;
    perform hazina.assert_valid_amount((p_patch ->> 'price')::numeric, v_shop.currency);
  end if;
  if p_patch ? 'sku' and p_patch ->> 'sku' is distinct from v_product.sku
     and exists (select 1 from public.products where shop_id = p_shop_id and sku = p_patch ->> 'sku') then
    perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_patch ->> 'sku'));
  end if;
  begin
    update public.products
       set name = case when p_patch ? 'name' then p_patch ->> 'name' else name end,
           sku = case when p_patch ? 'sku' then p_patch ->> 'sku' else sku end,
           description = case when p_patch ? 'description' then p_patch ->> 'description' else description end,
           price = case when p_patch ? 'price' then (p_patch ->> 'price')::numeric else price end,
           stock = case when p_patch ? 'stock' then (p_patch ->> 'stock')::integer else stock end,
           active = case when p_patch ? 'active' then (p_patch ->> 'active')::boolean else active end,
           updated_at = now()
     where id = p_product_id
     returning * into v_product;
  exception
    when check_violation or not_null_violation or invalid_text_representation or numeric_value_out_of_range then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', sqlerrm));
    when unique_violation then
      perform hazina.raise_error('product_sku_taken', jsonb_build_object('sku', p_patch ->> 'sku'));
  end;
  return public.product_json(v_product);
end
$_$;


--
-- Name: provider_clearing_wallet(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.provider_clearing_wallet(p_provider text, p_currency text) RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_wallet uuid := hazina.system_wallet(p_provider || '_clearing', p_currency);
begin
  if v_wallet is null then
    perform hazina.raise_error('provider_not_supported', jsonb_build_object('provider', p_provider, 'currency', p_currency));
  end if;
  return v_wallet;
end
$$;


--
-- Name: provider_query_open(text, text, text, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.provider_query_open(p_provider text, p_subject_type text, p_subject_key text, p_originator_conversation_id text, p_party text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_id uuid;
  v_event_id uuid;
begin
  perform hazina.status_query_lock(p_provider, p_originator_conversation_id);
  insert into public.wallet_provider_queries (provider, subject_type, subject_key, originator_conversation_id, party)
  values (p_provider, p_subject_type, p_subject_key, p_originator_conversation_id, p_party)
  on conflict (provider, originator_conversation_id) do nothing
  returning id into v_id;
  if v_id is null then
    select id into v_id from public.wallet_provider_queries
     where provider = p_provider and originator_conversation_id = p_originator_conversation_id;
  end if;
  for v_event_id in
    select id from public.wallet_webhook_events
     where provider = p_provider and status = 'unmatched' and payload ->> 'action' = 'status.answer'
       and payload ->> 'originator_conversation_id' = p_originator_conversation_id
     order by received_at, id
  loop
    perform hazina.webhook_event_apply(v_event_id);
  end loop;
  return v_id;
end
$$;


--
-- Name: qr_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.qr_codes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    kind text NOT NULL,
    slug text NOT NULL,
    label text,
    amount numeric(19,4),
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    expires_at timestamp with time zone,
    max_uses integer,
    use_count integer DEFAULT 0 NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    client_ref text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    invoice_id uuid,
    order_id uuid,
    payment_intent_id uuid,
    subject_id uuid GENERATED ALWAYS AS (COALESCE(invoice_id, order_id, payment_intent_id)) STORED,
    disabled_reason text,
    CONSTRAINT qr_codes_amount CHECK (((kind = 'static'::text) = (amount IS NULL))),
    CONSTRAINT qr_codes_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT qr_codes_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT qr_codes_disabled_reason CHECK (((status = 'disabled'::text) = (disabled_reason IS NOT NULL))),
    CONSTRAINT qr_codes_disabled_reason_check CHECK ((disabled_reason = ANY (ARRAY['merchant'::text, 'subject_closed'::text]))),
    CONSTRAINT qr_codes_kind_check CHECK ((kind = ANY (ARRAY['static'::text, 'fixed'::text, 'invoice'::text, 'order'::text, 'intent'::text]))),
    CONSTRAINT qr_codes_label_check CHECK (((length(label) >= 1) AND (length(label) <= 100))),
    CONSTRAINT qr_codes_max_uses_check CHECK (((max_uses >= 1) AND (max_uses <= 1000000))),
    CONSTRAINT qr_codes_slug_check CHECK ((slug ~ '^[a-z2-7]{26}$'::text)),
    CONSTRAINT qr_codes_status_check CHECK ((status = ANY (ARRAY['active'::text, 'disabled'::text, 'expired'::text, 'exhausted'::text]))),
    CONSTRAINT qr_codes_subject CHECK ((((invoice_id IS NOT NULL) = (kind = 'invoice'::text)) AND ((order_id IS NOT NULL) = (kind = 'order'::text)) AND ((payment_intent_id IS NOT NULL) = (kind = 'intent'::text)))),
    CONSTRAINT qr_codes_use_count_check CHECK ((use_count >= 0))
);


--
-- Name: qr_code_assert_payable(public.qr_codes); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_assert_payable(q public.qr_codes) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_status text := hazina.qr_code_effective_status(q);
begin
  if v_status = 'expired' then
    perform hazina.raise_error('qr_code_expired', jsonb_build_object('slug', q.slug, 'status', v_status));
  elsif v_status = 'exhausted' then
    perform hazina.raise_error('qr_code_exhausted', jsonb_build_object('slug', q.slug, 'status', v_status));
  elsif v_status = 'disabled' then
    perform hazina.raise_error('qr_code_disabled', jsonb_build_object('slug', q.slug, 'status', v_status));
  end if;
end
$$;


--
-- Name: qr_code_bound_intent(public.qr_codes, uuid, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_bound_intent(p_code public.qr_codes, p_payer_id uuid, p_amount numeric) RETURNS public.payment_intents
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_invoice public.invoices;
  v_order public.orders;
  v_intent public.payment_intents;
  v_intent_id uuid;
  v_amount numeric;
begin
  if p_code.kind = 'invoice' then
    -- The invoice first (as invoice_pay and void hold it), then its intents with SKIP LOCKED.
    select * into v_invoice from public.invoices where id = p_code.invoice_id for update;
    if v_invoice.status = 'paid' then
      perform hazina.raise_error('qr_code_already_paid', jsonb_build_object('kind', 'invoice', 'status', v_invoice.status));
    elsif v_invoice.status not in ('open', 'uncollectible') then
      perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', 'invoice', 'status', v_invoice.status));
    end if;
    if exists (select 1 from public.payment_intents
                where subject_type = 'invoice' and subject_id = v_invoice.id and status in ('processing', 'requires_capture')) then
      perform hazina.raise_error('qr_code_payment_in_progress', jsonb_build_object('kind', 'invoice'));
    end if;
    perform hazina.qr_code_assert_payable(p_code);
    v_amount := coalesce(p_amount, v_invoice.amount_due);
    perform hazina.assert_valid_amount(v_amount, v_invoice.currency);
    if v_amount > v_invoice.amount_due then
      perform hazina.raise_error('amount_exceeds_due', jsonb_build_object('invoice_id', v_invoice.id,
        'amount_due', v_invoice.amount_due::text));
    end if;
    if v_amount <> v_invoice.amount_due and not v_invoice.allow_partial_payment then
      perform hazina.raise_error('partial_payment_not_allowed', jsonb_build_object('invoice_id', v_invoice.id,
        'amount_due', v_invoice.amount_due::text));
    end if;
    -- Reuse the one unpaid intent when it pays the same amount and this payer may pay it (one
    -- for nobody in particular, or this payer's; a customer's is paid by M-Pesa as theirs).
    select * into v_intent from public.payment_intents
     where subject_type = 'invoice' and subject_id = v_invoice.id and status = 'requires_confirmation'
       and amount = v_amount and expires_at > now() + interval '5 minutes'
       and (customer_id is null or p_payer_id is null or customer_id = p_payer_id)
     order by created_at desc limit 1
       for update skip locked;
    if v_intent.id is not null then
      perform hazina.invoice_release_intents(v_invoice.id, v_intent.id);
    else
      v_intent_id := (hazina.invoice_pay(null, null, v_amount, v_invoice.pay_token) ->> 'id')::uuid;
      select * into v_intent from public.payment_intents where id = v_intent_id for update;
    end if;
  else
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason',
        'the amount is the ' || p_code.kind || '''s'));
    end if;
    if p_code.kind = 'order' then
      select * into v_order from public.orders where id = p_code.order_id;
      v_intent_id := v_order.payment_intent_id;
    else
      v_intent_id := p_code.payment_intent_id;
    end if;
    -- The intent's lock: a second payer waits here, then sees the first one's outcome.
    select * into v_intent from public.payment_intents where id = v_intent_id for update;
    if v_intent.status = 'succeeded' then
      perform hazina.raise_error('qr_code_already_paid', jsonb_build_object('kind', p_code.kind, 'status', v_intent.status));
    elsif v_intent.id is null or v_intent.status = 'canceled' or v_intent.expires_at <= now() then
      perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', p_code.kind, 'status', v_intent.status));
    elsif v_intent.status <> 'requires_confirmation' then
      perform hazina.raise_error('qr_code_payment_in_progress', jsonb_build_object('kind', p_code.kind));
    end if;
    if p_code.kind = 'order' then
      select * into v_order from public.orders where id = p_code.order_id;
      if v_order.status <> 'pending_payment' then
        perform hazina.raise_error('qr_code_subject_closed', jsonb_build_object('kind', 'order', 'status', v_order.status));
      end if;
    end if;
    perform hazina.qr_code_assert_payable(p_code);
  end if;
  if v_intent.customer_id is not null and p_payer_id is not null and v_intent.customer_id <> p_payer_id then
    perform hazina.raise_error('qr_code_payer_not_customer', jsonb_build_object('kind', p_code.kind));
  end if;
  if v_intent.qr_code_id is distinct from p_code.id then
    update public.payment_intents set qr_code_id = p_code.id where id = v_intent.id returning * into v_intent;
  end if;
  return v_intent;
end
$$;


--
-- Name: qr_code_confirm_bound(public.payment_intents, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_confirm_bound(p_intent public.payment_intents, p_payer_id uuid, p_sources jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_secret text;
  v_result jsonb;
begin
  if p_intent.customer_id is not null then
    return hazina.payment_intent_confirm(p_intent.id, p_intent.customer_id, p_sources, null);
  end if;
  v_secret := encode(extensions.gen_random_bytes(24), 'hex');
  update public.payment_intents set client_secret_hash = encode(sha256(convert_to(v_secret, 'UTF8')), 'hex')
   where id = p_intent.id;
  v_result := hazina.payment_intent_confirm(p_intent.id, p_payer_id, p_sources, v_secret);
  update public.payment_intents set client_secret_hash = p_intent.client_secret_hash where id = p_intent.id;
  return v_result;
end
$$;


--
-- Name: qr_code_count_use(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_count_use() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
begin
  update public.qr_codes
     set use_count = use_count + 1,
         status = case when status = 'active' and max_uses is not null and use_count + 1 >= max_uses then 'exhausted'
                       else status end,
         updated_at = now()
   where id = hazina.payment_intent_qr_code(new)
  returning * into v_code;
  if v_code.id is null then
    return null;
  end if;
  perform hazina.event_emit(v_code.merchant_id, 'qr_code.used', 'qr_code', v_code.id,
    public.qr_code_json(v_code) || jsonb_build_object('payment_intent_id', new.id));
  if v_code.status = 'exhausted' and v_code.use_count = v_code.max_uses then
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.exhausted', 'qr_code', v_code.id, public.qr_code_json(v_code));
  end if;
  return null;
end
$$;


--
-- Name: qr_code_create(uuid, text, text, numeric, text, uuid, timestamp with time zone, integer, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.qr_codes;
  v_currency text := coalesce(p_currency, 'KES');
  v_amount numeric := p_amount;
  v_intent public.payment_intents;
  v_id uuid := gen_random_uuid();
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_existing from public.qr_codes where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.kind <> p_kind or (v_existing.amount is distinct from p_amount and p_kind <> 'intent')
       or (v_existing.currency <> v_currency and p_kind <> 'intent') or v_existing.subject_id is distinct from p_subject_id
       or v_existing.label is distinct from p_label or v_existing.max_uses is distinct from p_max_uses
       or v_existing.expires_at is distinct from p_expires_at then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.qr_code_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('qr_codes_merchants_only');
  end if;
  if p_kind is null or p_kind not in ('static', 'fixed', 'invoice', 'order', 'intent') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'kind', 'reason', 'static, fixed, invoice, order or intent'));
  end if;
  if p_label is not null and length(p_label) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'label', 'reason', '1 to 100 characters'));
  end if;
  if p_max_uses is not null and p_max_uses not between 1 and 1000000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'max_uses', 'reason', '1 to 1000000'));
  end if;
  if p_expires_at is not null and p_expires_at <= hazina.clock() then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_at', 'reason', 'in the future'));
  end if;
  if (p_kind in ('invoice', 'order', 'intent')) <> (p_subject_id is not null) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'subject_id',
      'reason', 'required for invoice, order and intent codes, and only for them'));
  end if;
  if p_kind = 'intent' then
    select * into v_intent from public.payment_intents where id = p_subject_id and merchant_id = p_merchant_id;
    if v_intent.id is null then
      perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_subject_id));
    end if;
    if v_intent.status <> 'requires_confirmation' or v_intent.expires_at <= now() then
      perform hazina.raise_error('intent_not_confirmable', jsonb_build_object('payment_intent_id', p_subject_id, 'status', v_intent.status));
    end if;
    if v_intent.subject_type is not null then
      perform hazina.raise_error('qr_code_intent_has_subject', jsonb_build_object('payment_intent_id', p_subject_id,
        'subject_type', v_intent.subject_type));
    end if;
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'an intent code''s amount is its intent''s'));
    end if;
    v_amount := v_intent.amount;
    v_currency := v_intent.currency;
  elsif p_kind = 'invoice' then
    if not exists (select 1 from public.invoices where id = p_subject_id and merchant_id = p_merchant_id) then
      perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_subject_id));
    end if;
  elsif p_kind = 'order' then
    if not exists (select 1 from public.orders where id = p_subject_id and merchant_id = p_merchant_id) then
      perform hazina.raise_error('order_not_found', jsonb_build_object('order_id', p_subject_id));
    end if;
  end if;
  if p_kind = 'static' then
    if p_amount is not null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'a static code has no amount: the payer types it'));
    end if;
  elsif v_amount is null then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'required for a ' || p_kind || ' code'));
  end if;
  if not exists (select 1 from public.currencies where code = v_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', v_currency));
  end if;
  if v_amount is not null then
    perform hazina.assert_valid_amount(v_amount, v_currency);
  end if;
  if not exists (select 1 from public.wallets where user_id = p_merchant_id and currency = v_currency
                                                  and kind = 'merchant' and status = 'active') then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', v_currency));
  end if;
  insert into public.qr_codes (id, merchant_id, kind, slug, label, amount, currency, invoice_id, order_id, payment_intent_id,
                               expires_at, max_uses, client_ref)
  values (v_id, p_merchant_id, p_kind, hazina.qr_code_slug(), p_label, v_amount, v_currency,
          case when p_kind = 'invoice' then p_subject_id end, case when p_kind = 'order' then p_subject_id end,
          case when p_kind = 'intent' then p_subject_id end, p_expires_at, p_max_uses, p_client_ref)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate qr code; retry';
  end if;
  perform hazina.event_emit(p_merchant_id, 'qr_code.created', 'qr_code', v_id, hazina.qr_code_json(v_id));
  return hazina.qr_code_json(v_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: qr_code_disable(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
begin
  if v_code.status = 'active' then
    update public.qr_codes set status = 'disabled', disabled_reason = 'merchant', updated_at = now() where id = p_id;
    perform hazina.event_emit(p_merchant_id, 'qr_code.disabled', 'qr_code', p_id, hazina.qr_code_json(p_id));
  elsif v_code.status = 'disabled' and v_code.disabled_reason <> 'merchant' then
    update public.qr_codes set disabled_reason = 'merchant', updated_at = now() where id = p_id;
  end if;
  return hazina.qr_code_json(p_id);
end
$$;


--
-- Name: qr_code_disable_bound(text, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_disable_bound(p_kind text, p_subject_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
begin
  for v_code in select * from public.qr_codes
                 where ((p_kind = 'invoice' and invoice_id = p_subject_id) or (p_kind = 'order' and order_id = p_subject_id)
                        or (p_kind = 'intent' and payment_intent_id = p_subject_id))
                   and status = 'active'
                 order by id for update loop
    update public.qr_codes set status = 'disabled', disabled_reason = 'subject_closed', updated_at = now() where id = v_code.id;
    perform hazina.event_emit(v_code.merchant_id, 'qr_code.disabled', 'qr_code', v_code.id, hazina.qr_code_json(v_code.id));
  end loop;
end
$$;


--
-- Name: qr_code_disabled_reason(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_disabled_reason() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if new.status <> 'disabled' then
    new.disabled_reason := null;
  elsif new.disabled_reason is null then
    new.disabled_reason := 'merchant';
  end if;
  return new;
end
$$;


--
-- Name: qr_code_effective_status(public.qr_codes); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_effective_status(q public.qr_codes) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select case when q.status = 'active' and q.expires_at is not null and q.expires_at <= hazina.clock() then 'expired'
              else q.status end
$$;


--
-- Name: qr_code_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_json(p_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.qr_code_json(q) from public.qr_codes q where q.id = p_id $$;


--
-- Name: qr_code_lock(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_lock(p_id uuid, p_merchant_id uuid) RETURNS public.qr_codes
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
begin
  select * into v_code from public.qr_codes where id = p_id and merchant_id = p_merchant_id for update;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('qr_code_id', p_id));
  end if;
  return v_code;
end
$$;


--
-- Name: qr_code_open_intent(text, uuid, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_open_intent(p_slug text, p_customer_id uuid, p_amount numeric, p_attempt_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_amount numeric;
begin
  if p_attempt_ref is null or length(p_attempt_ref) not between 8 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('slug', p_slug));
  end if;
  if v_code.kind not in ('static', 'fixed') then
    -- Bound codes are paid through their object (invoice, order, intent): not yet here.
    perform hazina.raise_error('qr_code_kind_not_payable', jsonb_build_object('kind', v_code.kind));
  end if;
  if v_code.kind = 'static' then
    if p_amount is null then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'the amount to pay'));
    end if;
    v_amount := p_amount;
  else
    if p_amount is not null and p_amount <> v_code.amount then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'amount', 'reason', 'this code has a set amount'));
    end if;
    v_amount := v_code.amount;
  end if;
  -- A new attempt needs an active code; an attempt made before is answered as it is.
  if not exists (select 1 from public.payment_intents
                  where merchant_id = v_code.merchant_id and client_ref = 'qr:' || v_code.id || ':' || p_attempt_ref) then
    perform hazina.qr_code_assert_payable(v_code);
  end if;
  return hazina.payment_intent_open(v_code.merchant_id, v_amount, v_code.currency, 'automatic', p_customer_id,
    coalesce(v_code.label, 'QR payment'), jsonb_build_object('qr_code_slug', v_code.slug), 900,
    'qr:' || v_code.id || ':' || p_attempt_ref, 'qr_code', v_code.id, null, null);
end
$$;


--
-- Name: qr_code_pay_mpesa(text, text, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_pay_mpesa(p_slug text, p_phone text, p_amount numeric) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_intent public.payment_intents;
  v_result jsonb;
begin
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    perform hazina.raise_error('qr_code_not_found', jsonb_build_object('slug', p_slug));
  end if;
  if v_code.kind not in ('invoice', 'order', 'intent') then
    -- Static and fixed codes: POST /checkout/<slug>/pay/mpesa opens the code's own intent.
    perform hazina.raise_error('qr_code_not_bound', jsonb_build_object('kind', v_code.kind));
  end if;
  v_intent := hazina.qr_code_bound_intent(v_code, null, p_amount);
  v_result := hazina.qr_code_confirm_bound(v_intent, null,
    jsonb_build_array(jsonb_build_object('type', 'mpesa', 'phone', p_phone, 'amount', v_intent.amount::text)));
  return hazina.qr_code_payment_json(p_slug, v_intent.id) || jsonb_strip_nulls(jsonb_build_object('mpesa', v_result -> 'mpesa'));
end
$$;


--
-- Name: qr_code_pay_wallet(text, uuid, uuid, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_opened jsonb;
  v_intent public.payment_intents;
  v_intent_id uuid;
  v_status text;
begin
  if p_customer_id is null then
    perform hazina.raise_error('unauthenticated');
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is not null and v_code.kind in ('invoice', 'order', 'intent') then
    if p_attempt_ref is null or length(p_attempt_ref) not between 8 and 200 then
      perform hazina.raise_error('invalid_ref');
    end if;
    v_intent := hazina.qr_code_bound_intent(v_code, p_customer_id, p_amount);
    return hazina.qr_code_confirm_bound(v_intent, p_customer_id,
      jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', v_intent.amount::text)));
  end if;
  v_opened := hazina.qr_code_open_intent(p_slug, p_customer_id, p_amount, p_attempt_ref);
  v_intent_id := (v_opened ->> 'id')::uuid;
  v_status := v_opened ->> 'status';
  if v_status <> 'requires_confirmation' then
    return hazina.payment_intent_json(v_intent_id);
  end if;
  return hazina.payment_intent_confirm(v_intent_id, p_customer_id,
    jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', p_wallet_id, 'amount', (v_opened ->> 'amount'))));
end
$$;


--
-- Name: qr_code_payment_json(text, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_payment_json(p_slug text, p_intent_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_intent public.payment_intents;
begin
  select * into v_code from public.qr_codes where slug = p_slug;
  select * into v_intent from public.payment_intents where id = p_intent_id;
  if v_code.id is null or v_intent.id is null or hazina.payment_intent_qr_code(v_intent) is distinct from v_code.id then
    perform hazina.raise_error('payment_intent_not_found', jsonb_build_object('payment_intent_id', p_intent_id));
  end if;
  return jsonb_build_object('id', v_intent.id, 'object', 'checkout_payment', 'kind', v_code.kind,
    'amount', v_intent.amount::text, 'currency', v_intent.currency, 'status', v_intent.status,
    'last_payment_error', case when v_intent.last_payment_error is not null
                               then jsonb_build_object('code', v_intent.last_payment_error ->> 'code') end,
    'succeeded_at', public.api_time(v_intent.succeeded_at));
end
$$;


--
-- Name: qr_code_reserve_use(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_reserve_use() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes;
  v_reserved integer;
begin
  select * into v_code from public.qr_codes where id = hazina.payment_intent_qr_code(new) for update;
  if v_code.id is null then
    return new;
  end if;
  perform hazina.qr_code_assert_payable(v_code);
  if v_code.max_uses is not null then
    select count(*) into v_reserved from public.payment_intents
     where ((subject_type = 'qr_code' and subject_id = v_code.id) or qr_code_id = v_code.id) and id <> new.id
       and status in ('processing', 'requires_capture');
    if v_code.use_count + v_reserved >= v_code.max_uses then
      perform hazina.raise_error('qr_code_exhausted', jsonb_build_object('slug', v_code.slug, 'status', 'exhausted'));
    end if;
  end if;
  return new;
end
$$;


--
-- Name: qr_code_slug(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_slug() RETURNS text
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select string_agg(substr('abcdefghijklmnopqrstuvwxyz234567', (get_byte(b, i) & 31) + 1, 1), '' order by i)
    from (select extensions.gen_random_bytes(26) as b) r, generate_series(0, 25) i
$$;


--
-- Name: qr_code_subject_state(public.qr_codes); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_subject_state(q public.qr_codes) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select case q.kind
    when 'invoice' then (select case i.status when 'paid' then 'paid' when 'void' then 'closed' else 'payable' end
                           from public.invoices i where i.id = q.invoice_id)
    when 'order' then (select case when o.status = 'pending_payment' then
                                     case when p.status = 'canceled' or (p.status = 'requires_confirmation' and p.expires_at <= now())
                                          then 'closed' else 'payable' end
                                   when o.status = 'canceled' then 'closed' else 'paid' end
                         from public.orders o left join public.payment_intents p on p.id = o.payment_intent_id
                        where o.id = q.order_id)
    when 'intent' then (select case when p.status = 'succeeded' then 'paid'
                                    when p.status = 'canceled' or (p.status = 'requires_confirmation' and p.expires_at <= now())
                                    then 'closed' else 'payable' end
                          from public.payment_intents p where p.id = q.payment_intent_id)
  end
$$;


--
-- Name: qr_code_update(uuid, uuid, text, timestamp with time zone, boolean, integer, boolean, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_code public.qr_codes := hazina.qr_code_lock(p_id, p_merchant_id);
  v_status text;
begin
  if p_status is not null and p_status not in ('active', 'disabled') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status', 'reason', 'active or disabled'));
  end if;
  if p_label is not null and length(p_label) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'label', 'reason', '1 to 100 characters'));
  end if;
  if p_max_uses is not null and p_max_uses not between 1 and 1000000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'max_uses', 'reason', '1 to 1000000'));
  end if;
  if p_expires_at is not null and p_expires_at <= hazina.clock() then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'expires_at', 'reason', 'in the future'));
  end if;
  v_code.label := coalesce(p_label, v_code.label);
  v_code.expires_at := case when p_clear_expiry then null else coalesce(p_expires_at, v_code.expires_at) end;
  v_code.max_uses := case when p_clear_max_uses then null else coalesce(p_max_uses, v_code.max_uses) end;
  v_status := coalesce(p_status, case when v_code.status = 'disabled' then 'disabled' else 'active' end);
  if v_status = 'active' then
    v_status := case when v_code.max_uses is not null and v_code.use_count >= v_code.max_uses then 'exhausted'
                     when v_code.expires_at is not null and v_code.expires_at <= hazina.clock() then 'expired'
                     else 'active' end;
  end if;
  update public.qr_codes
     set label = v_code.label, expires_at = v_code.expires_at, max_uses = v_code.max_uses, status = v_status,
         disabled_reason = case when v_status <> 'disabled' then null
                                when p_status = 'disabled' then 'merchant'
                                else v_code.disabled_reason end,
         updated_at = now()
   where id = p_id;
  perform hazina.event_emit(p_merchant_id,
    case when v_status <> v_code.status then 'qr_code.' || v_status else 'qr_code.updated' end,
    'qr_code', p_id, hazina.qr_code_json(p_id));
  return hazina.qr_code_json(p_id);
end
$$;


--
-- Name: raise_error(text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.raise_error(p_code text, p_details jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception using errcode = 'P0001', message = p_code, detail = p_details::text;
end
$$;


--
-- Name: reconcile(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_check regprocedure;
begin
  return query select * from hazina.reconcile_ledger();
  for v_check in select c.check_function from hazina.reconciliation_checks c order by c.check_function::text loop
    -- regprocedure prints schema-qualified ('hazina.fn()'), so this names exactly one function.
    return query execute format('select * from %s', v_check::text);
  end loop;
end
$$;


--
-- Name: reconcile_escrow(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_escrow() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- every escrow system wallet holds exactly what it owes
  select 'escrow_wallet_matches_obligations', w.currency::text, coalesce(o.owed, 0),
         w.balance + coalesce((select sum(b.balance) from public.wallet_balance_buckets b where b.wallet_id = w.id), 0)
    from public.wallets w
    left join (select currency, sum(amount) as owed from hazina.escrow_obligations group by currency) o
      on o.currency = w.currency
   where w.system_code = 'escrow'
     and coalesce(o.owed, 0) <> w.balance + coalesce((select sum(b.balance) from public.wallet_balance_buckets b where b.wallet_id = w.id), 0)
  union all
  -- an escrow was funded with what its order's intent received
  select 'goods_escrow_funded_matches_intent', e.id::text, i.amount_received, e.amount
    from public.goods_escrows e
    join public.orders o on o.id = e.order_id
    join public.payment_intents i on i.id = o.payment_intent_id
   where e.amount <> i.amount_received
  union all
  -- what an order says it was paid and refunded is what its intent says
  select 'order_paid_matches_intent', o.id::text, i.amount_received, o.amount_paid
    from public.orders o join public.payment_intents i on i.id = o.payment_intent_id
   where o.amount_paid <> i.amount_received
  union all
  select 'order_refunded_matches_intent', o.id::text, i.amount_refunded, o.amount_refunded
    from public.orders o join public.payment_intents i on i.id = o.payment_intent_id
   where o.amount_refunded <> i.amount_refunded
  union all
  -- a released escrow's release transaction credited the merchant what it says
  select 'goods_escrow_released_matches_transfer', e.id::text, e.released_amount, coalesce(t.principal_amount, 0)
    from public.goods_escrows e
    left join public.wallet_transactions t on t.id = e.release_transaction_id
   where e.released_amount <> coalesce(t.principal_amount, 0)
$$;


--
-- Name: reconcile_guest_refunds(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_guest_refunds() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'guest_refund_payout_matches', r.id::text, r.amount, w.amount
    from public.payment_refunds r
    join public.payment_intents i on i.id = r.payment_intent_id
    left join public.wallet_withdrawals w on w.id = r.payout_id
   where r.payout_id is not null
     and (w.id is null or w.amount <> r.amount or w.wallet_id <> i.payee_wallet_id or w.currency <> r.currency)
  union all
  select 'guest_refund_pending_is_held', r.id::text, r.amount, coalesce(h.amount, 0)
    from public.payment_refunds r
    join public.wallet_withdrawals w on w.id = r.payout_id
    left join public.wallet_holds h on h.id = w.hold_id and h.status = 'pending'
   where r.status = 'pending' and (w.status not in ('pending', 'processing') or coalesce(h.amount, 0) <> r.amount)
  union all
  select 'guest_refund_succeeded_is_posted', r.id::text, r.amount, coalesce(t.principal_amount, 0)
    from public.payment_refunds r
    join public.wallet_withdrawals w on w.id = r.payout_id
    left join public.wallet_transactions t on t.id = r.transaction_id
   where r.status = 'succeeded'
     and (w.status <> 'completed' or r.transaction_id is distinct from w.transaction_id or t.id is null
          or t.principal_amount <> r.amount or w.settlement_transaction_id is null)
  union all
  select 'guest_refund_fee_is_billed', r.id::text, case when r.status = 'succeeded' then r.fee_refunded else 0 end,
         coalesce(b.refunded, 0)
    from public.payment_refunds r
    join public.payment_intents i on i.id = r.payment_intent_id
    left join public.wallet_transactions t on t.id = r.fee_transaction_id
    left join lateral (select sum(l.amount) as refunded from public.billing_ledger l
                        where l.transaction_id = r.fee_transaction_id and l.direction = 'refund') b on true
   where r.payout_id is not null
     and ((case when r.status = 'succeeded' then r.fee_refunded else 0 end) <> coalesce(b.refunded, 0)
          or (r.fee_transaction_id is not null and t.reverses_id is distinct from i.capture_transaction_id))
  union all
  select 'guest_refund_failed_released', r.id::text, 0, coalesce(h.amount, 0) + r.fee_refunded
    from public.payment_refunds r
    join public.wallet_withdrawals w on w.id = r.payout_id
    left join public.wallet_holds h on h.id = w.hold_id and h.status <> 'voided'
   where r.status = 'failed' and (w.status <> 'failed' or h.id is not null or r.fee_refunded <> 0)
$$;


--
-- Name: reconcile_installment_clawbacks(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_installment_clawbacks() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'installment_clawback_matches_refunds', i.id::text, i.amount_refunded,
         coalesce((select sum(r.principal_amount) from public.wallet_transactions t
                     join public.wallet_transactions r on r.reverses_id = t.id
                    where t.ref = 'installment:' || i.id || ':release'), 0)
    from public.installments i
   where i.status = 'completed'
     and not exists (select 1 from public.goods_escrows e where e.order_id = i.order_id)
     and i.amount_refunded <> coalesce((select sum(r.principal_amount) from public.wallet_transactions t
                                          join public.wallet_transactions r on r.reverses_id = t.id
                                         where t.ref = 'installment:' || i.id || ':release'), 0)
$$;


--
-- Name: reconcile_installments(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_installments() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'installment_paid_matches_schedule', i.id::text, i.amount_paid, coalesce(sum(s.amount_paid), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.amount_paid <> coalesce(sum(s.amount_paid), 0)
  union all
  select 'installment_late_fees_match_schedule', i.id::text, i.late_fees, coalesce(sum(s.late_fee), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.late_fees <> coalesce(sum(s.late_fee), 0)
  union all
  select 'installment_waived_matches_schedule', i.id::text, i.amount_waived, coalesce(sum(s.amount_waived), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.amount_waived <> coalesce(sum(s.amount_waived), 0)
  union all
  select 'installment_total_matches_schedule', i.id::text, i.total_amount, coalesce(sum(s.amount), 0)
    from public.installments i left join public.installment_schedule s on s.installment_id = i.id
   group by i.id having i.total_amount <> coalesce(sum(s.amount), 0)
  union all
  select 'installment_escrow_held', i.id::text,
         case when i.status = 'active' then i.amount_paid else 0 end, hazina.installment_escrow_held(i.id)
    from public.installments i
   where hazina.installment_escrow_held(i.id) <> case when i.status = 'active' then i.amount_paid else 0 end
  union all
  select 'installment_closed_money_accounted', i.id::text, i.amount_paid, i.amount_refunded + i.amount_released
    from public.installments i
   where i.status in ('completed', 'defaulted', 'canceled') and i.amount_paid <> i.amount_refunded + i.amount_released
$$;


--
-- Name: reconcile_invoice_guest_refunds(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_invoice_guest_refunds() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  with pending as (
    select i.subject_id as invoice_id, sum(r.amount) as amount, min(r.created_at) as since
      from public.payment_refunds r join public.payment_intents i on i.id = r.payment_intent_id
     where i.subject_type = 'invoice' and r.status = 'pending'
     group by i.subject_id)
  select 'invoice_pending_refunds_still_due', v.id::text, p.amount, v.amount_due
    from pending p join public.invoices v on v.id = p.invoice_id
   where v.amount_due < p.amount or v.status not in ('open', 'uncollectible')
  union all
  select 'invoice_no_payment_while_refund_pending', v.id::text, 0, count(i.id)
    from pending p join public.invoices v on v.id = p.invoice_id
    join public.payment_intents i on i.subject_type = 'invoice' and i.subject_id = v.id and i.status = 'succeeded'
     and i.succeeded_at > p.since
   group by v.id
$$;


--
-- Name: reconcile_invoices(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_invoices() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'invoice_paid_matches_intents', i.id::text, i.amount_paid, coalesce(p.net, 0)
    from public.invoices i
    left join (select subject_id, sum(amount_received - amount_refunded) as net from public.payment_intents
                where subject_type = 'invoice' and status = 'succeeded' group by subject_id) p on p.subject_id = i.id
   where i.amount_paid <> coalesce(p.net, 0)
  union all
  select 'invoice_due_is_total_less_paid', i.id::text,
         case when i.status = 'void' then 0 else i.total - i.amount_paid end, i.amount_due
    from public.invoices i
   where i.amount_due <> case when i.status = 'void' then 0 else i.total - i.amount_paid end
  union all
  select 'invoice_totals_match_items', i.id::text, i.total, coalesce(t.total, 0)
    from public.invoices i
    left join (select invoice_id, sum(total) as total from public.invoice_items group by invoice_id) t on t.invoice_id = i.id
   where i.total <> coalesce(t.total, 0)
$$;


--
-- Name: reconcile_ledger(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_ledger() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: reconcile_payment_intents(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_payment_intents() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  -- received = the principal its capture transaction credited to the payee
  select 'payment_intent_received_matches_capture', i.id::text, i.amount_received, coalesce(c.credited, 0)
    from public.payment_intents i
    left join lateral (select sum(e.amount) as credited from hazina.transaction_entries(i.capture_transaction_id) e
                        where e.wallet_id = i.payee_wallet_id and e.direction = 'credit' and e.leg = 'principal') c on true
   where i.amount_received <> coalesce(c.credited, 0)
  union all
  -- refunded = the sum of its refunds that did not fail (never above what was received, and
  -- a succeeded intent has its capture: the table's own constraints hold those)
  select 'payment_intent_refunded_matches_refunds', i.id::text, i.amount_refunded, coalesce(r.total, 0)
    from public.payment_intents i
    left join (select payment_intent_id, sum(amount) as total from public.payment_refunds where status <> 'failed'
                group by payment_intent_id) r
      on r.payment_intent_id = i.id
   where i.amount_refunded <> coalesce(r.total, 0)
  union all
  -- an authorised (manual-capture) intent holds exactly what it may still capture
  select 'payment_intent_capturable_is_held', i.id::text, i.amount_capturable, coalesce(h.held, 0)
    from public.payment_intents i
    left join lateral (select sum(w.amount) as held from public.payment_intent_parts p
                         join public.wallet_holds w on w.id = p.hold_id
                        where p.payment_intent_id = i.id and w.status = 'pending') h on true
   where i.status = 'requires_capture' and i.amount_capturable <> coalesce(h.held, 0)
$$;


--
-- Name: reconcile_payment_refunds(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_payment_refunds() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'payment_refund_reverses_capture', r.id::text, r.amount, t.principal_amount
    from public.payment_refunds r
    join public.payment_intents i on i.id = r.payment_intent_id
    left join public.wallet_transactions t on t.id = r.transaction_id
   where r.payout_id is null
     and (t.id is null or t.reverses_id is distinct from i.capture_transaction_id or t.principal_amount <> r.amount)
  union all
  select 'payment_refund_fee_is_billed', r.id::text, r.fee_refunded, coalesce(b.refunded, 0)
    from public.payment_refunds r
    left join lateral (select sum(l.amount) as refunded from public.billing_ledger l
                        where l.transaction_id = r.transaction_id and l.direction = 'refund') b on true
   where r.payout_id is null and r.fee_refunded is not null and r.fee_refunded <> coalesce(b.refunded, 0)
  union all
  select 'payment_intent_fee_refunds_within_fee', i.id::text, coalesce(c.fee, 0), f.refunded
    from public.payment_intents i
    join (select payment_intent_id, sum(fee_refunded) as refunded, bool_and(fee_refunded is not null) as proportional
            from public.payment_refunds group by payment_intent_id) f on f.payment_intent_id = i.id
    left join lateral (select sum(l.amount) as fee from public.billing_ledger l
                        where l.transaction_id = i.capture_transaction_id and l.direction = 'charge') c on true
   where f.proportional
     and (f.refunded > coalesce(c.fee, 0)
          or (i.amount_refunded = i.amount_received and f.refunded <> coalesce(c.fee, 0)))
$$;


--
-- Name: reconcile_qr_codes(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reconcile_qr_codes() RETURNS TABLE(check_name text, subject text, expected numeric, actual numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select 'qr_code_uses', q.id::text, count(p.id)::numeric, q.use_count::numeric
    from public.qr_codes q
    left join public.payment_intents p on ((p.subject_type = 'qr_code' and p.subject_id = q.id) or p.qr_code_id = q.id)
                                      and p.status = 'succeeded'
   group by q.id, q.use_count
  having count(p.id) <> q.use_count
$$;


--
-- Name: refund_fee_share(numeric, numeric, numeric, numeric, boolean, smallint); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.refund_fee_share(p_fee_charged numeric, p_fee_refunded numeric, p_amount numeric, p_amount_received numeric, p_completes boolean, p_minor_units smallint) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select case when p_fee_charged <= 0 then 0::numeric
              when p_completes then p_fee_charged - p_fee_refunded
              else least(round(p_fee_charged * p_amount / p_amount_received, p_minor_units), p_fee_charged - p_fee_refunded)
         end
$$;


--
-- Name: release_due_escrows(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.release_due_escrows(p_limit integer DEFAULT 100, OUT released integer, OUT failed integer) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_order_id uuid;
  v_escrow public.goods_escrows;
begin
  released := 0;
  failed := 0;
  for v_order_id in
    select o.id from public.orders o join public.goods_escrows e on e.order_id = o.id
     where e.status = 'delivered' and e.auto_release_at <= hazina.clock()
     order by e.auto_release_at limit p_limit
       for update of o skip locked
  loop
    select * into v_escrow from public.goods_escrows where order_id = v_order_id for update;
    if v_escrow.status = 'delivered' and v_escrow.auto_release_at <= hazina.clock() then
      begin
        perform hazina.escrow_pay_merchant(v_escrow.id, 'released');
        released := released + 1;
      exception when sqlstate 'P0001' then
        failed := failed + 1;
      end;
    end if;
  end loop;
end
$$;


--
-- Name: request_id(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.request_id() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-request-id' $$;


--
-- Name: reverse_transaction(uuid, text, numeric, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric DEFAULT NULL::numeric, p_reason text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_original public.wallet_transactions;
  v_reversed numeric;
  v_remaining numeric;
  v_amount numeric;
  v_full boolean;
  v_payer uuid;
  v_payee uuid;
  v_tx record;
  v_wallets uuid[];
  v_directions text[];
  v_amounts numeric[];
  v_legs text[];
begin
  select * into v_original from public.wallet_transactions where id = p_transaction_id for update;
  if v_original.id is null then
    perform hazina.raise_error('transaction_not_found', jsonb_build_object('transaction_id', p_transaction_id));
  end if;
  if v_original.reverses_id is not null then
    perform hazina.raise_error('not_reversible', jsonb_build_object('reason', 'a reversal cannot be reversed'));
  end if;
  -- A retried reversal (same ref, same request) returns the original result.
  if exists (select 1 from public.wallet_transactions where ref = p_ref) then
    select * into v_tx from hazina.begin_transaction(p_ref, 'reversal',
      md5(concat_ws('|', 'reversal', p_transaction_id, coalesce(p_amount::numeric(19, 4)::text, 'all'))), 0, v_original.currency);
    return v_tx.transaction_id;
  end if;
  select coalesce(sum(principal_amount), 0) into v_reversed
    from public.wallet_transactions where reverses_id = p_transaction_id;
  v_remaining := v_original.principal_amount - v_reversed;
  v_amount := coalesce(p_amount, v_remaining);
  if v_amount <= 0 or v_amount > v_remaining then
    perform hazina.raise_error('reversal_exceeds_original',
      jsonb_build_object('remaining', v_remaining::numeric(19, 4)::text));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_original.currency);
  v_full := p_amount is null and v_reversed = 0;

  if v_full then
    select array_agg(wallet_id order by id), array_agg(case direction when 'debit' then 'credit' else 'debit' end order by id),
           array_agg(amount order by id), array_agg(leg order by id)
      into v_wallets, v_directions, v_amounts, v_legs
      from hazina.transaction_entries(p_transaction_id);
  else
    select (array_agg(wallet_id) filter (where direction = 'debit'))[1],
           (array_agg(wallet_id) filter (where direction = 'credit'))[1]
      into v_payer, v_payee
      from hazina.transaction_entries(p_transaction_id) where leg = 'principal'
    having count(distinct wallet_id) filter (where direction = 'debit') = 1
       and count(distinct wallet_id) filter (where direction = 'credit') = 1;
    if v_payer is null then
      perform hazina.raise_error('not_reversible', jsonb_build_object('reason', 'partial reversal needs one payer and one payee'));
    end if;
    v_wallets := array[v_payee, v_payer];
    v_directions := array['debit', 'credit'];
    v_amounts := array[v_amount, v_amount];
    v_legs := array['principal', 'principal'];
  end if;

  select * into v_tx from hazina.begin_transaction(
    p_ref, 'reversal',
    md5(concat_ws('|', 'reversal', p_transaction_id, coalesce(p_amount::numeric(19, 4)::text, 'all'))),
    v_amount, v_original.currency, p_reason,
    jsonb_build_object('reverses', p_transaction_id, 'original_kind', v_original.kind), p_transaction_id);
  perform hazina.apply_entries(v_tx.transaction_id, 'reversal', p_reason,
    jsonb_build_object('reverses', p_transaction_id), p_ref, v_wallets, v_directions, v_amounts, v_legs);

  if v_full then
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id, refund_of)
    select v_tx.transaction_id::text || '#refund-' || row_number() over (order by b.ref), v_tx.transaction_id,
           b.payer_wallet_id, b.payer_user_id, b.transaction_type,
           'refund', b.amount, b.currency, b.base_amount, 'original', b.rule_id, b.ref
      from hazina.transaction_fees(p_transaction_id) b
     where b.direction = 'charge';
  end if;
  return v_tx.transaction_id;
end
$$;


--
-- Name: run_job(text, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.run_job(p_name text, p_limit integer DEFAULT NULL::integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_job hazina.jobs;
  v_started timestamptz := clock_timestamp();
  v_report jsonb;
  v_error text;
begin
  select * into v_job from hazina.jobs where name = p_name;
  if v_job.name is null then
    perform hazina.raise_error('job_not_found', jsonb_build_object('job', p_name));
  end if;
  if v_job.runs_in <> 'database' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('job', p_name, 'reason', 'this job runs in the edge (the job runner)'));
  end if;
  if p_limit is not null and p_limit not between 1 and 100000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'limit', 'reason', '1 to 100000'));
  end if;
  if v_job.exclusive and not pg_try_advisory_xact_lock(hashtext('hazina.job'), hashtext(p_name)) then
    v_report := jsonb_build_object('processed', 0, 'remaining', null, 'skipped', 'another pass of this job is running');
  else
    begin
      execute format('select %s($1)', v_job.function::regproc) into v_report using coalesce(p_limit, v_job.batch_size);
    exception when others then
      v_error := sqlstate || ': ' || sqlerrm;
    end;
  end if;
  perform hazina.job_record(p_name, v_started, v_report, v_error);
  return jsonb_build_object('job', p_name, 'report', v_report, 'error', v_error);
end
$_$;


--
-- Name: run_sweeps(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.run_sweeps() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return jsonb_build_object(
    'holds_expired', hazina.expire_holds(),
    'idempotency_keys_purged', hazina.idempotency_purge_expired());
end
$$;


--
-- Name: schedule_jobs(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.schedule_jobs() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_job hazina.jobs;
  v_count integer := 0;
  v_http boolean := to_regproc('net.http_post') is not null and to_regclass('vault.decrypted_secrets') is not null;
  -- Dynamic: pg_cron may not exist where this is compiled (and checked by plpgsql_check).
  v_schedule constant text := 'select cron.schedule($1, $2, $3)';
  v_unschedule_old constant text := $q$select cron.unschedule(jobname) from cron.job
    where jobname in ('hazina-sweeps', 'hazina-money-sweep', 'hazina-provider-sweep')$q$;
begin
  if to_regproc('cron.schedule') is null then
    return 0;
  end if;
  for v_job in select * from hazina.jobs order by name loop
    if v_job.runs_in = 'database' then
      execute v_schedule
        using 'hazina-job-' || v_job.name, hazina.job_cron_schedule(v_job.every), format('select hazina.run_job(%L)', v_job.name);
    elsif v_http then
      execute v_schedule
        using 'hazina-job-' || v_job.name, hazina.job_cron_schedule(v_job.every), format($job$
    select net.http_post(url := s.url || '/ops/jobs/run', body := jsonb_build_object('job', %L),
                         headers := jsonb_build_object('content-type', 'application/json', 'x-sweep-secret', s.secret))
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_functions_url') as url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_sweep_secret') as secret) s
     where s.url is not null and s.secret is not null
  $job$, v_job.name);
    else
      continue;
    end if;
    v_count := v_count + 1;
  end loop;
  -- The schedules these replace (20261124000850_operations, 20261124000945_money_sweep).
  if to_regclass('cron.job') is not null then
    execute v_unschedule_old;
  end if;
  return v_count;
end
$_$;


--
-- Name: schedule_provider_sweep(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.schedule_provider_sweep() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
begin
  if to_regproc('cron.schedule') is null or to_regproc('net.http_post') is null
     or to_regclass('vault.decrypted_secrets') is null then
    return false;
  end if;
  execute format('select cron.schedule(%L, %L, %L)', 'hazina-provider-sweep', '* * * * *', $job$
    select net.http_post(url := s.url || '/webhooks/sweep', body := '{}'::jsonb,
                         headers := jsonb_build_object('content-type', 'application/json', 'x-sweep-secret', s.secret))
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_functions_url') as url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'hazina_sweep_secret') as secret) s
     where s.url is not null and s.secret is not null
  $job$);
  return true;
end
$_$;


--
-- Name: auth_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    refresh_token_hash text NOT NULL,
    family_id uuid NOT NULL,
    parent_id uuid,
    rotated_at timestamp with time zone,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_reason text,
    user_agent text,
    ip inet,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_sessions_user_agent_check CHECK ((length(user_agent) <= 512))
);


--
-- Name: session_create(uuid, text, integer, text, inet, uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.session_create(p_user_id uuid, p_refresh_token_hash text, p_ttl_seconds integer, p_user_agent text DEFAULT NULL::text, p_ip inet DEFAULT NULL::inet, p_family_id uuid DEFAULT NULL::uuid, p_parent_id uuid DEFAULT NULL::uuid) RETURNS public.auth_sessions
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_id uuid := gen_random_uuid();
  v_session public.auth_sessions;
begin
  perform hazina.auth_check_token_hash(p_refresh_token_hash, 'refresh_token_hash');
  if p_ttl_seconds is null or p_ttl_seconds < 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'ttl_seconds'));
  end if;
  insert into public.auth_sessions (id, user_id, refresh_token_hash, family_id, parent_id,
                                    expires_at, user_agent, ip)
  values (v_id, p_user_id, p_refresh_token_hash, coalesce(p_family_id, v_id), p_parent_id,
          now() + make_interval(secs => p_ttl_seconds), left(p_user_agent, 512), p_ip)
  returning * into v_session;
  return v_session;
end
$$;


--
-- Name: session_refresh(text, text, integer, text, inet); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.session_refresh(p_refresh_token_hash text, p_new_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text DEFAULT NULL::text, p_ip inet DEFAULT NULL::inet) RETURNS hazina.auth_sign_in
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_old public.auth_sessions;
  v_new public.auth_sessions;
  v_user public.auth_users;
  v_result hazina.auth_sign_in;
begin
  perform hazina.auth_check_token_hash(p_refresh_token_hash, 'refresh_token_hash');
  -- The row lock serialises concurrent refreshes of one token: the second one sees the
  -- first one's rotation and counts as reuse.
  select * into v_old from public.auth_sessions
   where refresh_token_hash = p_refresh_token_hash
     for update;
  if not found then
    v_result.outcome := 'invalid';
    return v_result;
  end if;
  v_result.user_id := v_old.user_id;
  v_result.session_id := v_old.family_id;

  if v_old.revoked_at is not null then
    v_result.outcome := 'revoked';
    return v_result;
  end if;
  if v_old.rotated_at is not null then
    update public.auth_sessions
       set revoked_at = now(), revoked_reason = 'refresh_token_reused'
     where family_id = v_old.family_id and revoked_at is null;
    v_result.outcome := 'reused';
    return v_result;
  end if;
  if v_old.expires_at <= now() then
    v_result.outcome := 'expired';
    return v_result;
  end if;

  select * into v_user from public.auth_users where id = v_old.user_id;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    update public.auth_sessions
       set revoked_at = now(), revoked_reason = 'user_suspended'
     where family_id = v_old.family_id and revoked_at is null;
    v_result.outcome := 'suspended';
    return v_result;
  end if;

  update public.auth_sessions set rotated_at = now() where id = v_old.id;
  v_new := hazina.session_create(v_old.user_id, p_new_refresh_token_hash, p_refresh_ttl_seconds,
                                 coalesce(p_user_agent, v_old.user_agent), coalesce(p_ip, v_old.ip),
                                 v_old.family_id, v_old.id);
  v_result.outcome := 'ok';
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.refresh_expires_at := v_new.expires_at;
  return v_result;
end
$$;


--
-- Name: session_revoke(uuid, uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.session_revoke(p_user_id uuid, p_session_id uuid, p_reason text DEFAULT 'logout'::text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_count integer;
begin
  update public.auth_sessions
     set revoked_at = now(), revoked_reason = p_reason
   where user_id = p_user_id and family_id = p_session_id and revoked_at is null;
  get diagnostics v_count = row_count;
  if v_count = 0 and not exists (select from public.auth_sessions
                                  where user_id = p_user_id and family_id = p_session_id) then
    perform hazina.raise_error('session_not_found', jsonb_build_object('session_id', p_session_id));
  end if;
  return v_count;
end
$$;


--
-- Name: session_revoke_all(uuid, text, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.session_revoke_all(p_user_id uuid, p_reason text, p_except_session_id uuid DEFAULT NULL::uuid) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_count integer;
begin
  update public.auth_sessions
     set revoked_at = now(), revoked_reason = p_reason
   where user_id = p_user_id and revoked_at is null
     and family_id is distinct from p_except_session_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;


--
-- Name: session_revoked(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.session_revoked(p_session_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$ select bool_and(revoked_at is not null) from public.auth_sessions where family_id = p_session_id $$;


--
-- Name: shop_create(uuid, text, text, text, text, integer, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.shop_create(p_merchant_id uuid, p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_shop public.shops;
begin
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('shop_merchants_only');
  end if;
  if not exists (select 1 from public.currencies where code = coalesce(p_currency, 'KES')) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency));
  end if;
  if p_slug is null or p_slug !~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'slug',
      'reason', 'lower-case letters, digits and inner hyphens, at most 60'));
  end if;
  if p_name is null or length(p_name) not between 1 and 120 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 120 characters'));
  end if;
  if coalesce(p_escrow_policy, 'optional') not in ('none', 'optional', 'required') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'escrow_policy', 'reason', 'none, optional or required'));
  end if;
  if coalesce(p_auto_release_days, 7) not between 1 and 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'auto_release_days', 'reason', '1 to 60'));
  end if;
  if length(p_description) > 2000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 2000 characters'));
  end if;
  insert into public.shops (merchant_id, name, slug, currency, escrow_policy, auto_release_days, description)
  values (p_merchant_id, p_name, p_slug, coalesce(p_currency, 'KES'), coalesce(p_escrow_policy, 'optional'),
          coalesce(p_auto_release_days, 7), p_description)
  on conflict (slug) do nothing
  returning * into v_shop;
  if v_shop.id is null then
    perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_slug));
  end if;
  return public.shop_json(v_shop);
end
$_$;


--
-- Name: shop_installment_settings_set(uuid, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.shop_installment_settings_set(p_shop_id uuid, p_merchant_id uuid, p_settings jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_row public.shop_installment_settings;
begin
  if not exists (select 1 from public.shops where id = p_shop_id and merchant_id = p_merchant_id) then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  if p_settings is null or jsonb_typeof(p_settings) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'settings', 'reason', 'an object'));
  end if;
  insert into public.shop_installment_settings (shop_id) values (p_shop_id) on conflict (shop_id) do nothing;
  begin
    update public.shop_installment_settings
       set allowed = coalesce((p_settings ->> 'allowed')::boolean, allowed),
           max_count = coalesce((p_settings ->> 'max_count')::smallint, max_count),
           intervals = coalesce((select array_agg(value order by value) from jsonb_array_elements_text(p_settings -> 'intervals')
                                  where jsonb_typeof(p_settings -> 'intervals') = 'array'), intervals),
           min_deposit_bps = coalesce((p_settings ->> 'min_deposit_bps')::integer, min_deposit_bps),
           grace_days = coalesce((p_settings ->> 'grace_days')::smallint, grace_days),
           late_fee_enabled = coalesce((p_settings ->> 'late_fee_enabled')::boolean, late_fee_enabled),
           cancellation_fee_bps = coalesce((p_settings ->> 'cancellation_fee_bps')::integer, cancellation_fee_bps),
           cancellation_fee_fixed = coalesce((p_settings ->> 'cancellation_fee_fixed')::numeric, cancellation_fee_fixed),
           missed_payments_to_default = coalesce((p_settings ->> 'missed_payments_to_default')::smallint, missed_payments_to_default),
           updated_at = now()
     where shop_id = p_shop_id
    returning * into v_row;
  exception when check_violation or invalid_text_representation or numeric_value_out_of_range then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'installment_settings', 'reason', sqlerrm));
  end;
  return public.shop_installment_settings_json(v_row);
end
$$;


--
-- Name: shops; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shops (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    escrow_policy text DEFAULT 'optional'::text NOT NULL,
    auto_release_days integer DEFAULT 7 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT shops_auto_release_days_check CHECK (((auto_release_days >= 1) AND (auto_release_days <= 60))),
    CONSTRAINT shops_description_check CHECK ((length(description) <= 2000)),
    CONSTRAINT shops_escrow_policy_check CHECK ((escrow_policy = ANY (ARRAY['none'::text, 'optional'::text, 'required'::text]))),
    CONSTRAINT shops_name_check CHECK (((length(name) >= 1) AND (length(name) <= 120))),
    CONSTRAINT shops_slug_check CHECK ((slug ~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$'::text)),
    CONSTRAINT shops_status_known CHECK ((status = ANY (ARRAY['active'::text, 'suspended'::text])))
);


--
-- Name: shop_lock(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.shop_lock(p_shop_id uuid, p_merchant_id uuid) RETURNS public.shops
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_shop public.shops;
begin
  select * into v_shop from public.shops where id = p_shop_id and merchant_id = p_merchant_id for update;
  if v_shop.id is null then
    perform hazina.raise_error('shop_not_found', jsonb_build_object('shop_id', p_shop_id));
  end if;
  return v_shop;
end
$$;


--
-- Name: shop_update(uuid, uuid, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.shop_update(p_merchant_id uuid, p_shop_id uuid, p_patch jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_shop public.shops := hazina.shop_lock(p_shop_id, p_merchant_id);
  v_key text;
begin
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', 'an object'));
  end if;
  for v_key in select jsonb_object_keys(p_patch) loop
    if v_key not in ('name', 'slug', 'description', 'status', 'escrow_policy', 'auto_release_days') then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', v_key, 'reason', 'cannot be changed'));
    end if;
  end loop;
  if p_patch ? 'slug' and p_patch ->> 'slug' is distinct from v_shop.slug then
    if p_patch ->> 'slug' is null or p_patch ->> 'slug' !~ '^[a-z0-9]([a-z0-9-]{0,58}[a-z0-9])?$' then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'slug',
        'reason', 'lower-case letters, digits and inner hyphens, at most 60'));
    end if;
    if exists (select 1 from public.shops where slug = p_patch ->> 'slug') then
      perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_patch ->> 'slug'));
    end if;
  end if;
  begin
    update public.shops
       set name = case when p_patch ? 'name' then p_patch ->> 'name' else name end,
           slug = case when p_patch ? 'slug' then p_patch ->> 'slug' else slug end,
           description = case when p_patch ? 'description' then p_patch ->> 'description' else description end,
           status = case when p_patch ? 'status' then p_patch ->> 'status' else status end,
           escrow_policy = case when p_patch ? 'escrow_policy' then p_patch ->> 'escrow_policy' else escrow_policy end,
           auto_release_days = case when p_patch ? 'auto_release_days' then (p_patch ->> 'auto_release_days')::integer
                                    else auto_release_days end,
           updated_at = now()
     where id = p_shop_id
     returning * into v_shop;
  exception
    when check_violation or not_null_violation or invalid_text_representation or numeric_value_out_of_range then
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'body', 'reason', sqlerrm));
    when unique_violation then
      perform hazina.raise_error('shop_slug_taken', jsonb_build_object('slug', p_patch ->> 'slug'));
  end;
  return public.shop_json(v_shop);
end
$_$;


--
-- Name: signup(text, text, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.signup(p_email text, p_password_hash text, p_name text DEFAULT NULL::text, p_phone text DEFAULT NULL::text) RETURNS TABLE(user_id uuid, created boolean)
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_id uuid;
begin
  perform hazina.auth_check_password_hash(p_password_hash);
  insert into public.auth_users (email, password_hash, name, phone)
  values (lower(p_email), p_password_hash, p_name, p_phone)
  on conflict (email) do nothing
  returning id into v_id;
  if v_id is null then
    select u.id into v_id from public.auth_users u where u.email = lower(p_email);
    return query select v_id, false;
    return;
  end if;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (v_id, 'credentials', v_id::text);
  return query select v_id, true;
end
$$;


--
-- Name: source_movement_check(uuid, uuid, numeric, text, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.source_movement_check(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_direction text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: wallet_webhook_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_webhook_events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    provider public.payment_provider NOT NULL,
    event_type text NOT NULL,
    provider_event_key text NOT NULL,
    raw_body text NOT NULL,
    body_bytes integer DEFAULT 0 NOT NULL,
    body_sha256 text DEFAULT ''::text NOT NULL,
    headers jsonb DEFAULT '{}'::jsonb NOT NULL,
    signature_valid boolean,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    status text DEFAULT 'received'::text NOT NULL,
    error text,
    duplicate_of uuid,
    subject_type text,
    subject_id uuid,
    attempts integer DEFAULT 0 NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    CONSTRAINT wallet_webhook_events_body_bytes_check CHECK ((body_bytes >= 0)),
    CONSTRAINT wallet_webhook_events_body_sha256_check CHECK ((body_sha256 ~ '^([0-9a-f]{64})?$'::text)),
    CONSTRAINT wallet_webhook_events_duplicate_link CHECK (((status = 'duplicate'::text) = (duplicate_of IS NOT NULL))),
    CONSTRAINT wallet_webhook_events_error_check CHECK ((length(error) <= 1000)),
    CONSTRAINT wallet_webhook_events_event_type_check CHECK ((event_type ~ '^[a-z][a-z0-9_.]{1,60}$'::text)),
    CONSTRAINT wallet_webhook_events_provider_event_key_check CHECK (((length(provider_event_key) >= 1) AND (length(provider_event_key) <= 300))),
    CONSTRAINT wallet_webhook_events_rejected_bounded CHECK (((status <> 'rejected'::text) OR (length(raw_body) <= 2048))),
    CONSTRAINT wallet_webhook_events_status_check CHECK ((status = ANY (ARRAY['received'::text, 'processed'::text, 'unmatched'::text, 'failed'::text, 'duplicate'::text, 'rejected'::text, 'unconfirmed'::text, 'refused'::text]))),
    CONSTRAINT wallet_webhook_events_subject_type_check CHECK ((subject_type = ANY (ARRAY['funding_session'::text, 'withdrawal'::text, 'paybill'::text])))
);


--
-- Name: status_answer_apply(public.wallet_webhook_events); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.status_answer_apply(p_event public.wallet_webhook_events) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_answer jsonb := p_event.payload;
  v_query public.wallet_provider_queries;
  v_outcome text;
  v_result jsonb;
begin
  perform hazina.status_query_lock(p_event.provider, v_answer ->> 'originator_conversation_id');
  select * into v_query from public.wallet_provider_queries
   where provider = p_event.provider and originator_conversation_id = v_answer ->> 'originator_conversation_id' for update;
  if v_query.id is null then
    return jsonb_build_object('status', 'unmatched',
                              'error', 'no Transaction Status query of ours has this OriginatorConversationID');
  end if;
  if v_query.answer_event_id is not null and v_query.answer_event_id <> p_event.id then
    perform hazina.raise_error('not_confirmed_by_provider', jsonb_build_object(
      'reason', 'this query was already answered', 'answer_event_id', v_query.answer_event_id));
  end if;
  v_outcome := case when v_answer ->> 'result_code' <> '0' then 'failed'
                    when v_answer ->> 'transaction_status' = 'Completed' then 'succeeded'
                    else 'pending' end;
  update public.wallet_provider_queries set answer_event_id = p_event.id, answered_at = now() where id = v_query.id;
  if v_query.subject_type = 'withdrawal' then
    v_result := hazina.withdrawal_settle_confirmed(v_query.subject_key::uuid, v_outcome, v_answer);
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', v_query.subject_key::uuid,
                              'result', v_result);
  end if;
  return jsonb_build_object('status', 'processed', 'subject_type', 'paybill',
                            'result', hazina.paybill_settle_confirmed(v_query, v_outcome, v_answer));
end
$$;


--
-- Name: status_query_lock(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.status_query_lock(p_provider text, p_originator_conversation_id text) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$ select pg_advisory_xact_lock(hashtextextended('hazina.status_query:' || coalesce(p_provider, '') || ':'
                                                      || coalesce(p_originator_conversation_id, ''), 0)) $$;


--
-- Name: supabase_user_changed(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.supabase_user_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'DELETE' then
    update public.auth_users set status = 'disabled', updated_at = now() where id = old.id;
    return old;
  end if;
  perform hazina.mirror_supabase_user(new.id, new.email, new.email_confirmed_at, new.phone,
                                      new.raw_app_meta_data, new.raw_user_meta_data);
  return new;
exception when others then
  -- Never block a signup: the user can still be mirrored by re-running the installer.
  raise warning 'hazina: could not mirror Supabase user %: %', coalesce(new.id, old.id), sqlerrm;
  return coalesce(new, old);
end
$$;


--
-- Name: system_wallet(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.system_wallet(p_code text, p_currency text DEFAULT 'KES'::text) RETURNS uuid
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select id from public.wallets where system_code = p_code and currency = p_currency $$;


--
-- Name: wallet_ledger; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_ledger (
    id bigint NOT NULL,
    transaction_id uuid NOT NULL,
    wallet_id uuid NOT NULL,
    direction public.entry_direction NOT NULL,
    amount public.positive_amount NOT NULL,
    currency character(3) NOT NULL,
    balance_after numeric(19,4),
    leg public.entry_leg DEFAULT 'principal'::text NOT NULL,
    kind text NOT NULL,
    description text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    ref text NOT NULL COLLATE pg_catalog."C",
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT wallet_ledger_ref_names_transaction CHECK (starts_with(ref, ((transaction_id)::text || '#'::text)))
);


--
-- Name: transaction_entries(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transaction_entries(p_transaction_id uuid) RETURNS SETOF public.wallet_ledger
    LANGUAGE sql STABLE
    AS $_$
  select * from public.wallet_ledger
   where ref > p_transaction_id::text || '#' and ref < p_transaction_id::text || '$'
$_$;


--
-- Name: billing_ledger; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_ledger (
    ref text NOT NULL COLLATE pg_catalog."C",
    transaction_id uuid NOT NULL,
    payer_wallet_id uuid NOT NULL,
    payer_user_id uuid,
    transaction_type text NOT NULL,
    direction public.billing_direction NOT NULL,
    amount public.positive_amount NOT NULL,
    currency public.currency_code NOT NULL,
    base_amount public.non_negative_amount NOT NULL,
    rule_source public.fee_rule_source NOT NULL,
    rule_id uuid,
    refund_of text COLLATE pg_catalog."C",
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT billing_ledger_ref_names_transaction CHECK (starts_with(ref, ((transaction_id)::text || '#'::text))),
    CONSTRAINT billing_ledger_refund_links_original CHECK ((((direction)::text = 'refund'::text) = (refund_of IS NOT NULL)))
);


--
-- Name: transaction_fees(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transaction_fees(p_transaction_id uuid) RETURNS SETOF public.billing_ledger
    LANGUAGE sql STABLE
    AS $_$
  select * from public.billing_ledger
   where ref > p_transaction_id::text || '#' and ref < p_transaction_id::text || '$'
$_$;


--
-- Name: transfer(text, uuid, uuid, numeric, text, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_transaction_type text DEFAULT 'p2p_transfer'::text, p_description text DEFAULT NULL::text, p_metadata jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_from record;  -- both wallets, the fee and where it goes: see the first query
  v_fee_payer text := hazina.fee_payer(p_transaction_type);
  v_payer_wallet uuid;
  v_payer_user uuid;
  v_tx record;
begin
  if p_from_wallet is not distinct from p_to_wallet then
    perform hazina.raise_error('same_wallet');
  end if;
  -- One query for both wallets, the currency's minor unit, the fee revenue wallet and
  -- the fee (the rule of whoever pays it, priced by the one rounding rule).
  select f.id, f.user_id, f.currency, t.id as to_id, t.user_id as to_user_id, t.currency as to_currency,
         c.minor_units, r.id as revenue_id, coalesce(rule.source, 'none') as rule_source, rule.rule_id,
         hazina.fee_apply(p_amount, rule.percentage_bps, rule.fixed_amount, rule.minimum_amount,
                          rule.maximum_amount, rule.waived, c.minor_units) as fee
    into v_from
    from public.wallets f
    join public.currencies c on c.code = f.currency
    left join public.wallets t on t.id = p_to_wallet
    left join public.wallets r on r.system_code = 'fee_revenue' and r.currency = f.currency
    left join lateral hazina.fee_rule(p_transaction_type, f.currency,
                                      case v_fee_payer when 'sender' then f.user_id else t.user_id end) rule on true
   where f.id = p_from_wallet;
  if v_from.id is null or v_from.to_id is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', case when v_from.id is null then p_from_wallet else p_to_wallet end));
  end if;
  if v_from.currency <> v_from.to_currency then
    perform hazina.raise_error('currency_mismatch');
  end if;
  if p_amount is null or p_amount <= 0 or p_amount >= 1e15 or p_amount <> round(p_amount, v_from.minor_units) then
    perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', v_from.currency, 'decimals', v_from.minor_units));
  end if;

  select * into v_tx from hazina.begin_transaction(
    p_ref, p_transaction_type,
    md5(concat_ws('|', 'transfer', p_transaction_type, p_from_wallet, p_to_wallet, p_amount::numeric(19, 4))),
    p_amount, v_from.currency, p_description, p_metadata);
  if v_tx.replayed then
    return hazina.transfer_result(v_tx.transaction_id, true);
  end if;

  if v_fee_payer = 'sender' then
    v_payer_wallet := v_from.id; v_payer_user := v_from.user_id;
  else
    v_payer_wallet := v_from.to_id; v_payer_user := v_from.to_user_id;
  end if;
  if v_from.fee > 0 and v_fee_payer = 'receiver' and v_from.fee >= p_amount then
    perform hazina.raise_error('fee_exceeds_amount', jsonb_build_object('fee', v_from.fee::text));
  end if;

  if v_from.fee > 0 then
    perform hazina.apply_entries(v_tx.transaction_id, p_transaction_type, p_description, coalesce(p_metadata, '{}'), p_ref,
      array[p_from_wallet, p_to_wallet, v_payer_wallet, v_from.revenue_id],
      array['debit', 'credit', 'debit', 'credit'],
      array[p_amount, p_amount, v_from.fee, v_from.fee],
      array['principal', 'principal', 'fee', 'fee']);
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    values (v_tx.transaction_id::text || '#fee', v_tx.transaction_id, v_payer_wallet, v_payer_user, p_transaction_type,
            'charge', v_from.fee, v_from.currency, p_amount, v_from.rule_source, v_from.rule_id);
  else
    perform hazina.apply_entries(v_tx.transaction_id, p_transaction_type, p_description, coalesce(p_metadata, '{}'), p_ref,
      array[p_from_wallet, p_to_wallet], array['debit', 'credit'], array[p_amount, p_amount],
      array['principal', 'principal']);
  end if;
  return jsonb_build_object('transaction_id', v_tx.transaction_id, 'ref', p_ref, 'replayed', false,
                            'from_wallet_id', p_from_wallet, 'to_wallet_id', p_to_wallet,
                            'amount', p_amount::numeric(19, 4)::text, 'fee', v_from.fee::numeric(19, 4)::text,
                            'fee_payer', v_fee_payer, 'currency', v_from.currency, 'transaction_type', p_transaction_type);
end
$$;


--
-- Name: transfer_authorize(uuid, uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_authorize(p_from_wallet uuid, p_to_wallet uuid, p_ref text, p_description text, OUT user_id uuid, OUT ref text, OUT transaction_type text, OUT metadata jsonb) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_uid uuid := hazina.caller_id();
  v_to_kind text;
begin
  if p_ref is null or length(p_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'ref must be 1 to 200 characters'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  if not exists (select 1 from public.wallets w where w.id = p_from_wallet and w.user_id = v_uid) then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_from_wallet));
  end if;
  select w.kind into v_to_kind from public.wallets w where w.id = p_to_wallet;
  if v_to_kind is null or v_to_kind = 'system' then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_to_wallet));
  end if;
  user_id := v_uid;
  ref := 'transfer:' || v_uid || ':' || p_ref;
  transaction_type := case v_to_kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end;
  metadata := jsonb_build_object('initiated_by', v_uid);
end
$$;


--
-- Name: transfer_batch(jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_batch(p_items jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_item jsonb;
  v_index integer := 0;
  v_results jsonb := '[]'::jsonb;
  v_result jsonb;
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) = 0
     or jsonb_array_length(p_items) > 10000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 10000 transfers'));
  end if;
  -- The common case (a clean batch) posts set-based; otherwise item by item below.
  v_results := hazina.transfer_batch_fast(p_items);
  if v_results is not null then
    return v_results;
  end if;
  v_results := '[]';
  perform hazina.transfer_batch_lock(p_items);

  for v_item in select value from jsonb_array_elements(p_items) loop
    begin
      v_result := hazina.transfer(
        v_item ->> 'ref',
        (v_item ->> 'from_wallet_id')::uuid,
        (v_item ->> 'to_wallet_id')::uuid,
        (v_item ->> 'amount')::numeric,
        coalesce(v_item ->> 'transaction_type', 'p2p_transfer'),
        v_item ->> 'description',
        coalesce(v_item -> 'metadata', '{}'));
      v_results := v_results || jsonb_build_array(
        jsonb_build_object('index', v_index, 'status', case when (v_result ->> 'replayed')::boolean then 'replayed' else 'posted' end)
        || v_result);
    exception
      when sqlstate 'P0001' then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', sqlerrm));
      when invalid_text_representation or numeric_value_out_of_range or check_violation or not_null_violation then
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('index', v_index, 'ref', v_item ->> 'ref', 'status', 'failed', 'error', 'invalid_argument'));
    end;
    v_index := v_index + 1;
  end loop;
  return v_results;
end
$$;


--
-- Name: transfer_batch_fast(jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_batch_fast(p_items jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_n integer := jsonb_array_length(p_items);
  v_refs text[]; v_from uuid[]; v_to uuid[]; v_amounts numeric[]; v_types text[];
  v_descriptions text[]; v_metadata jsonb[]; v_created_by uuid[];
  v_tx_ids uuid[]; v_currencies text[]; v_fees numeric[]; v_payers uuid[]; v_payer_users uuid[];
  v_rule_sources text[]; v_rule_ids uuid[]; v_revenue uuid[]; v_fee_payers text[];
  v_valid boolean;
  v_bucket constant smallint := (pg_backend_pid() % 64)::smallint;
  v_results jsonb;
begin
  -- 1. Parse. A malformed value anywhere: not for the fast path.
  begin
    select array_agg(i ->> 'ref' order by n), array_agg((i ->> 'from_wallet_id')::uuid order by n),
           array_agg((i ->> 'to_wallet_id')::uuid order by n), array_agg((i ->> 'amount')::numeric order by n),
           array_agg(coalesce(i ->> 'transaction_type', 'p2p_transfer') order by n),
           array_agg(i ->> 'description' order by n), array_agg(coalesce(i -> 'metadata', '{}') order by n),
           array_agg(coalesce((i ->> 'created_by')::uuid, auth.uid()) order by n)
      into v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata, v_created_by
      from jsonb_array_elements(p_items) with ordinality as x(i, n);
  exception when invalid_text_representation or numeric_value_out_of_range or datatype_mismatch then
    return null;
  end;

  -- 2. Validate and price every item in one query.
  select bool_and(
           e.ref is not null and length(e.ref) between 1 and 255
           and e.f is not null and e.t is not null and e.f <> e.t
           and fw.id is not null and tw.id is not null and fw.currency = tw.currency
           and fw.status = 'active' and tw.status = 'active' and fw.credit_buckets = 1
           and e.amount > 0 and e.amount < 1e15 and e.amount = round(e.amount, c.minor_units)
           and tt.code is not null
           and coalesce(length(e.descr), 0) <= 500
           and jsonb_typeof(e.meta) = 'object'
           and not (tt.fee_payer = 'receiver' and q.fee > 0 and q.fee >= e.amount)),
         array_agg(hazina.uuid_v7() order by e.n), array_agg(fw.currency::text order by e.n),
         array_agg(q.fee order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.id else tw.id end order by e.n),
         array_agg(case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end order by e.n),
         array_agg(q.rule_source order by e.n), array_agg(q.rule_id order by e.n),
         array_agg(r.id order by e.n), array_agg(tt.fee_payer order by e.n)
    into v_valid, v_tx_ids, v_currencies, v_fees, v_payers, v_payer_users, v_rule_sources, v_rule_ids,
         v_revenue, v_fee_payers
    from unnest(v_refs, v_from, v_to, v_amounts, v_types, v_descriptions, v_metadata)
           with ordinality as e(ref, f, t, amount, ttype, descr, meta, n)
    -- (Lateral + offset 0: one index lookup per item, never a scan of all wallets.)
    left join lateral (select * from public.wallets w where w.id = e.f offset 0) fw on true
    left join lateral (select * from public.wallets w where w.id = e.t offset 0) tw on true
    left join public.currencies c on c.code = fw.currency
    -- Who pays the fee (hazina.fee_payer's table, joined: an unknown type is not refused
    -- here but left to the item-by-item path, which reports it on its own item).
    left join public.transaction_types tt on tt.code = e.ttype
    left join public.wallets r on r.system_code = 'fee_revenue' and r.currency = fw.currency
    -- The fee, priced set-based with the same rule lookup and rounding as fee_quote
    -- (both inline here; no function call per item).
    left join lateral hazina.fee_rule(e.ttype, fw.currency,
                                      case tt.fee_payer when 'sender' then fw.user_id else tw.user_id end) fr on true
    cross join lateral (select hazina.fee_apply(e.amount, fr.percentage_bps, fr.fixed_amount, fr.minimum_amount,
                                                fr.maximum_amount, fr.waived, c.minor_units) as fee,
                               coalesce(fr.source, 'none') as rule_source, fr.rule_id) q;
  if not coalesce(v_valid, false) then
    return null;
  end if;
  -- Refs must be new and distinct: retries and conflicts are the item-by-item path's job.
  if (select count(distinct r) from unnest(v_refs) r) <> v_n
     or exists (select 1 from public.wallet_transactions t where t.ref = any (v_refs)) then
    return null;
  end if;

  -- 3. Locks in the global order: rows of every plain wallet involved, then this
  --    connection's bucket of every pooled wallet credited.
  --    (One row at a time, in id order, by lateral lookup: with `id = any (array)` as the
  --    locking scan's condition, every row found locked re-ran the scan's array sorting
  --    when rechecked, and concurrent batches spent 40% more CPU.)
  perform 1
    from (select distinct id from unnest(v_from || v_to || v_payers) as x(id) order by id) x
   cross join lateral (select 1 from public.wallets w where w.id = x.id and w.credit_buckets = 1
                          for no key update) locked;
  perform 1 from public.wallet_balance_buckets b
   where (b.wallet_id, b.bucket) in (select w.id, v_bucket % w.credit_buckets from public.wallets w
                                      where w.id = any (v_to || v_revenue) and w.credit_buckets > 1)
   order by b.wallet_id, b.bucket for no key update of b;

  -- 4. Write everything in one statement, gated on affordability. `entries` lists the
  --    entries exactly as transfer() would write them, in item order, each with its
  --    wallet's running balance (the balance_after of plain wallets; pooled credits have
  --    none). `go` says that every plain user/merchant wallet can pay each item when its
  --    turn comes: checking the running balance after every entry is the same as checking
  --    after every item, since within an item a wallet's debits come after its credit or
  --    alone. If it cannot, the statement writes nothing (the locks stay, for the
  --    item-by-item path). The sub-statements all see the balances read under the locks.
  with entries as (
    select x.n, x.k, x.wallet_id, x.direction, x.amount, x.leg, x.signed, w.credit_buckets,
           w.credit_buckets > 1 as pooled, w.kind, w.held,
           w.balance + sum(x.signed) over (partition by x.wallet_id order by x.n, x.k) as running
      from (select e.n, v.k, v.wallet_id, v.direction, v.amount, v.leg,
                   case v.direction when 'credit' then v.amount else -v.amount end as signed
              from unnest(v_from, v_to, v_amounts, v_fees, v_payers, v_revenue) with ordinality
                     as e(f, t, amount, fee, payer, revenue, n)
             cross join lateral (values (1, e.f, 'debit', e.amount, 'principal'),
                                        (2, e.t, 'credit', e.amount, 'principal'),
                                        (3, e.payer, 'debit', e.fee, 'fee'),
                                        (4, e.revenue, 'credit', e.fee, 'fee')) v(k, wallet_id, direction, amount, leg)
             where v.k <= 2 or e.fee > 0) x
     cross join lateral (select * from public.wallets w where w.id = x.wallet_id offset 0) w
  ), go as (
    select coalesce(bool_and(pooled or kind = 'system' or running - held >= 0), false) as affordable from entries
  ), headers as (
    insert into public.wallet_transactions (id, ref, kind, request_hash, principal_amount, currency,
                                            description, metadata, created_by)
    select e.id, e.ref, e.ttype,
           md5(concat_ws('|', 'transfer', e.ttype, e.f, e.t, e.amount::numeric(19, 4))),
           e.amount, e.currency, e.descr, e.meta, e.created_by
      from unnest(v_tx_ids, v_refs, v_types, v_from, v_to, v_amounts, v_currencies, v_descriptions, v_metadata,
                  v_created_by)
             with ordinality as e(id, ref, ttype, f, t, amount, currency, descr, meta, created_by, n)
     where (select affordable from go)
     order by e.n
    returning 1
  ), ledger as (
    insert into public.wallet_ledger (transaction_id, wallet_id, direction, amount, currency, balance_after,
                                      leg, kind, description, metadata, ref)
    select v_tx_ids[b.n], b.wallet_id, b.direction, b.amount, v_currencies[b.n],
           case when not b.pooled then b.running end,
           b.leg, v_types[b.n], v_descriptions[b.n], v_metadata[b.n], v_tx_ids[b.n]::text || '#' || b.k
      from entries b
     where (select affordable from go)
     order by b.n, b.k
    returning 1
  ), billing as (
    insert into public.billing_ledger (ref, transaction_id, payer_wallet_id, payer_user_id, transaction_type,
                                       direction, amount, currency, base_amount, rule_source, rule_id)
    select e.id::text || '#fee', e.id, e.payer, e.payer_user, e.ttype, 'charge', e.fee, e.currency, e.amount,
           e.rule_source, e.rule_id
      from unnest(v_tx_ids, v_payers, v_payer_users, v_types, v_fees, v_currencies, v_amounts,
                  v_rule_sources, v_rule_ids) with ordinality
             as e(id, payer, payer_user, ttype, fee, currency, amount, rule_source, rule_id, n)
     where e.fee > 0 and (select affordable from go)
     order by e.n
    returning 1
  ), balances as (
    update public.wallets w
       set balance = w.balance + d.delta, updated_at = now()
      from (select wallet_id, sum(signed) as delta from entries where not pooled group by wallet_id) d
     where w.id = d.wallet_id and d.delta <> 0 and (select affordable from go)
    returning 1
  ), pooled_credits as (
    -- Pooled wallets only gain here (sources are plain, and a fee a merchant pays is less
    -- than the payment it comes out of): the net goes to this connection's bucket.
    update public.wallet_balance_buckets b
       set balance = b.balance + d.delta
      from (select wallet_id, credit_buckets, sum(signed) as delta from entries where pooled
             group by wallet_id, credit_buckets) d
     where b.wallet_id = d.wallet_id
       and b.bucket = v_bucket % d.credit_buckets and d.delta > 0
       and (select affordable from go)
    returning 1
  )
  select affordable into v_valid from go;
  if not v_valid then
    return null;  -- nothing written; locks are kept for the item-by-item path
  end if;

  select jsonb_agg(jsonb_build_object(
           'index', e.n - 1, 'status', 'posted', 'transaction_id', e.id, 'ref', e.ref, 'replayed', false,
           'from_wallet_id', e.f, 'to_wallet_id', e.t, 'amount', e.amount::numeric(19, 4)::text,
           'fee', e.fee::numeric(19, 4)::text, 'fee_payer', e.fee_payer, 'currency', e.currency,
           'transaction_type', e.ttype) order by e.n)
    into v_results
    from unnest(v_tx_ids, v_refs, v_from, v_to, v_amounts, v_fees, v_fee_payers, v_currencies, v_types)
           with ordinality as e(id, ref, f, t, amount, fee, fee_payer, currency, ttype, n);
  return v_results;
end
$$;


--
-- Name: transfer_batch_lock(jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_batch_lock(p_items jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_wallet_ids uuid[];
  v_debited_ids uuid[];
begin
  begin
    select array_agg(distinct w) filter (where w is not null),
           array_agg(distinct (i ->> 'from_wallet_id')::uuid) filter (where i ->> 'from_wallet_id' is not null)
      into v_wallet_ids, v_debited_ids
      from jsonb_array_elements(p_items) i,
           lateral (values ((i ->> 'from_wallet_id')::uuid), ((i ->> 'to_wallet_id')::uuid)) v(w);
  exception when invalid_text_representation then
    v_wallet_ids := null;  -- a malformed id: items report it one by one, no pre-locking
  end;
  if v_wallet_ids is not null then
    -- Rows: plain wallets and pooled wallets that will be debited, in id order (one at a
    -- time, as in the fast path: see there why not `id = any (array)`).
    perform 1
      from (select id from unnest(v_wallet_ids) as x(id) order by id) x
     cross join lateral (select 1 from public.wallets w
                          where w.id = x.id and (w.credit_buckets = 1 or w.id = any (v_debited_ids))
                            for no key update) locked;
    -- Buckets: all of a debited pooled wallet (it will fold), this connection's bucket of
    -- a credited one (including fee revenue), in (wallet, bucket) order.
    perform 1 from public.wallet_balance_buckets b
      join public.wallets w on w.id = b.wallet_id
     where (b.wallet_id = any (v_debited_ids))
        or ((b.wallet_id = any (v_wallet_ids) or w.system_code = 'fee_revenue')
            and b.bucket = (pg_backend_pid() % 64) % w.credit_buckets)
     order by b.wallet_id, b.bucket for no key update of b;
  end if;
end
$$;


--
-- Name: transfer_group(jsonb, integer, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_group(p_items jsonb, p_per_minute integer DEFAULT NULL::integer, p_posted_status integer DEFAULT 201) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_item jsonb;
  v_n integer := 0;
  v_outcomes jsonb[] := '{}'::jsonb[];
  v_begin record;
  v_auth record;
  v_posting jsonb := '[]'::jsonb;     -- the items that may post, as transfer_batch items
  v_slots integer[] := '{}'::integer[];   -- their positions among p_items
  v_results jsonb;
  v_result jsonb;
  v_state text;
  v_message text;
  v_detail text;
  v_stored jsonb := '[]'::jsonb;  -- the posted items' responses, stored at the end in one statement
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) not between 1 and 1000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 1000 transfers'));
  end if;
  -- 1. Per item, as its own caller: take its key, then run public.transfer's checks.
  for v_item in select value from jsonb_array_elements(p_items) loop
    v_n := v_n + 1;
    perform set_config('request.jwt.claims', coalesce(v_item -> 'claims', '{}')::text, true),
            set_config('request.headers', coalesce(v_item -> 'headers', '{}')::text, true);
    begin
      select * into v_begin
        from hazina.idempotency_begin(v_item ->> 'owner', v_item ->> 'key', v_item ->> 'scope', v_item ->> 'hash',
                                      p_per_minute);
    exception when sqlstate 'P0001' then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
      v_outcomes[v_n] := jsonb_build_object('outcome', 'refused',
        'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
      continue;
    end;
    if v_begin.outcome = 'replay' then
      v_outcomes[v_n] := jsonb_build_object('outcome', 'replay', 'status', v_begin.response_status,
                                            'body', v_begin.response_body);
      continue;
    end if;
    begin
      select * into v_auth
        from hazina.transfer_authorize((v_item ->> 'from_wallet_id')::uuid, (v_item ->> 'to_wallet_id')::uuid,
                                       v_item ->> 'key', v_item ->> 'description');
    exception when others then
      get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
      v_outcomes[v_n] := jsonb_build_object('outcome', 'failed',
        'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
      continue;
    end;
    v_slots := v_slots || v_n;
    v_posting := v_posting || jsonb_build_array(jsonb_build_object(
      'ref', v_auth.ref, 'from_wallet_id', v_item -> 'from_wallet_id', 'to_wallet_id', v_item -> 'to_wallet_id',
      'amount', v_item -> 'amount', 'transaction_type', v_auth.transaction_type,
      'description', v_item -> 'description', 'metadata', v_auth.metadata, 'created_by', v_auth.user_id,
      'client_ref', v_item -> 'key', 'claims', v_item -> 'claims', 'headers', v_item -> 'headers'));
  end loop;

  -- 2. Post: all at once when every item can (the common case), else one by one.
  if cardinality(v_slots) > 0 then
    v_results := hazina.transfer_batch_fast(v_posting);
    if v_results is not null then
      for k in 1 .. cardinality(v_slots) loop
        v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'posted',
          'result', (v_results -> (k - 1)) - 'index' - 'status'
                    || jsonb_build_object('ref', v_posting -> (k - 1) -> 'client_ref'));
      end loop;
    else
      perform hazina.transfer_batch_lock(v_posting);
      for k in 1 .. cardinality(v_slots) loop
        v_item := v_posting -> (k - 1);
        perform set_config('request.jwt.claims', coalesce(v_item -> 'claims', '{}')::text, true),
                set_config('request.headers', coalesce(v_item -> 'headers', '{}')::text, true);
        begin
          v_result := hazina.transfer(v_item ->> 'ref', (v_item ->> 'from_wallet_id')::uuid,
                                      (v_item ->> 'to_wallet_id')::uuid, (v_item ->> 'amount')::numeric,
                                      v_item ->> 'transaction_type', v_item ->> 'description', v_item -> 'metadata');
          v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'posted',
            'result', v_result || jsonb_build_object('ref', v_item -> 'client_ref'));
        exception when others then
          get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
          v_outcomes[v_slots[k]] := jsonb_build_object('outcome', 'failed',
            'error', jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail));
        end;
      end loop;
    end if;
  end if;
  -- 3. Store the posted items' responses (refusals are stored by the edge, which owns the
  --    error catalog, with idempotency_complete_group in this same transaction).
  select coalesce(jsonb_agg(jsonb_build_object('owner', p_items -> (n::integer - 1) -> 'owner', 'key', p_items -> (n::integer - 1) -> 'key',
                                               'status', p_posted_status, 'body', o -> 'result')), '[]'::jsonb)
    into v_stored
    from unnest(v_outcomes) with ordinality as x(o, n)
   where o ->> 'outcome' = 'posted';
  if jsonb_array_length(v_stored) > 0 then
    perform hazina.idempotency_complete_group(v_stored);
  end if;
  return to_jsonb(v_outcomes);
end
$$;


--
-- Name: transfer_result(uuid, boolean); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.transfer_result(p_transaction_id uuid, p_replayed boolean) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select jsonb_build_object(
           'transaction_id', t.id, 'ref', t.ref, 'replayed', p_replayed,
           'from_wallet_id', (select wallet_id from hazina.transaction_entries(t.id)
                               where leg = 'principal' and direction = 'debit' order by id limit 1),
           'to_wallet_id', (select wallet_id from hazina.transaction_entries(t.id)
                             where leg = 'principal' and direction = 'credit' order by id limit 1),
           'amount', t.principal_amount::text,
           'fee', coalesce((select sum(amount) from hazina.transaction_fees(t.id) b
                             where b.direction = 'charge'), 0)::numeric(19, 4)::text,
           'fee_payer', hazina.fee_payer(t.kind),
           'currency', t.currency, 'transaction_type', t.kind)
    from public.wallet_transactions t where t.id = p_transaction_id
$$;


--
-- Name: trial_balance(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.trial_balance() RETURNS TABLE(currency text, total numeric, wallets bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select currency::text, sum(balance), count(*) from public.wallet_balances group by currency order by currency
$$;


--
-- Name: verification_token_consume(text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.verification_token_consume(p_token_hash text, p_purpose text) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_token public.auth_verification_token;
begin
  perform hazina.auth_check_token_hash(p_token_hash, 'token_hash');
  select * into v_token from public.auth_verification_token
   where token_hash = p_token_hash and purpose = p_purpose
     for update;
  if not found then
    perform hazina.raise_error('verification_token_invalid');
  end if;
  if v_token.consumed_at is not null then
    perform hazina.raise_error('verification_token_used');
  end if;
  if v_token.expires_at <= now() then
    perform hazina.raise_error('verification_token_expired');
  end if;
  update public.auth_verification_token set consumed_at = now() where id = v_token.id;
  return v_token.user_id;
end
$$;


--
-- Name: verification_token_issue(uuid, text, text, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.verification_token_issue(p_user_id uuid, p_purpose text, p_token_hash text, p_ttl_seconds integer) RETURNS timestamp with time zone
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_expires_at timestamptz;
begin
  perform hazina.auth_check_token_hash(p_token_hash, 'token_hash');
  if p_ttl_seconds is null or p_ttl_seconds < 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'ttl_seconds'));
  end if;
  delete from public.auth_verification_token
   where user_id = p_user_id and purpose = p_purpose and consumed_at is null;
  insert into public.auth_verification_token (user_id, purpose, token_hash, expires_at)
  values (p_user_id, p_purpose, p_token_hash, now() + make_interval(secs => p_ttl_seconds))
  returning expires_at into v_expires_at;
  return v_expires_at;
end
$$;


--
-- Name: wallet_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.wallet_json(p_wallet_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', b.wallet_id, 'user_id', b.user_id, 'kind', b.kind, 'currency', b.currency,
                            'status', b.status, 'balance', b.balance::text, 'held', b.held::text,
                            'available', b.available::text, 'created_at', b.created_at, 'updated_at', b.updated_at)
    from public.wallet_balances b where b.wallet_id = p_wallet_id
$$;


--
-- Name: wallet_source_add(uuid, text, text, text, text, text, boolean); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.wallet_source_add(p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
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
$_$;


--
-- Name: wallet_source_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.wallet_source_json(p_source_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.wallet_source_json(s) from public.wallet_sources s where s.id = p_source_id $$;


--
-- Name: webhook_deliveries_claim(text, integer, interval, timestamp with time zone, uuid, integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_deliveries_claim(p_worker text, p_limit integer, p_lease interval, p_now timestamp with time zone DEFAULT NULL::timestamp with time zone, p_merchant_id uuid DEFAULT NULL::uuid, p_max_in_flight integer DEFAULT 3) RETURNS TABLE(delivery_id uuid, event_id uuid, endpoint_id uuid, url text, secret text, payload text, attempt_number integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_now timestamptz := coalesce(p_now, hazina.clock());
begin
  if p_worker is null or length(p_worker) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'worker', 'reason', '1 to 100 characters'));
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'limit', 'reason', '1 to 1000'));
  end if;
  if p_lease is null or p_lease < interval '1 second' or p_lease > interval '1 hour' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'lease', 'reason', '1 second to 1 hour'));
  end if;
  return query
  with due as (
    select d.id from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
     where ((d.status = 'pending' and d.next_attempt_at <= v_now) or (d.status = 'delivering' and d.leased_until < now()))
       and (p_merchant_id is null or d.merchant_id = p_merchant_id)
       and (select count(*) from public.webhook_deliveries f
             where f.endpoint_id = d.endpoint_id and f.status = 'delivering' and f.leased_until >= now()) < p_max_in_flight
     order by d.next_attempt_at nulls first, d.id
     limit p_limit
       for update of d skip locked
  ), claimed as (
    update public.webhook_deliveries d
       set status = 'delivering', lease_owner = p_worker, leased_until = now() + p_lease, next_attempt_at = null,
           updated_at = now()
      from due where d.id = due.id
    returning d.id, d.event_id, d.endpoint_id
  )
  select c.id, c.event_id, c.endpoint_id, e.url, s.secret, public.event_json(ev)::text,
         (select count(*)::integer + 1 from public.webhook_delivery_attempts a where a.delivery_id = c.id)
    from claimed c
    join public.webhook_endpoints e on e.id = c.endpoint_id
    join hazina.webhook_endpoint_secrets s on s.endpoint_id = c.endpoint_id
    join public.events ev on ev.id = c.event_id;
end
$$;


--
-- Name: webhook_delivery_backlog(timestamp with time zone); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_delivery_backlog(p_now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select count(*) from public.webhook_deliveries d
    join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
   where (d.status = 'pending' and d.next_attempt_at <= coalesce(p_now, hazina.clock()))
      or (d.status = 'delivering' and d.leased_until < now())
$$;


--
-- Name: webhook_delivery_record(uuid, text, text, integer, text, integer, timestamp with time zone); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_delivery_record(p_delivery_id uuid, p_worker text, p_url text, p_response_status integer, p_error text, p_duration_ms integer, p_now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_delivery public.webhook_deliveries;
  v_now timestamptz := coalesce(p_now, hazina.clock());
  v_applied boolean;
  v_ok boolean := p_response_status between 200 and 299;
  v_failed integer;
  v_error text := left(p_error, 500);
begin
  select * into v_delivery from public.webhook_deliveries where id = p_delivery_id for update;
  if v_delivery.id is null then
    perform hazina.raise_error('webhook_delivery_not_found', jsonb_build_object('webhook_delivery_id', p_delivery_id));
  end if;
  if p_response_status is not null and p_response_status not between 100 and 599 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'response_status', 'reason', '100 to 599'));
  end if;
  v_applied := v_delivery.status = 'delivering' and v_delivery.lease_owner = p_worker;
  insert into public.webhook_delivery_attempts (delivery_id, merchant_id, attempt_number, url, worker, response_status,
                                                error, duration_ms, applied)
  values (p_delivery_id, v_delivery.merchant_id,
          (select count(*)::integer + 1 from public.webhook_delivery_attempts where delivery_id = p_delivery_id),
          left(coalesce(p_url, ''), 2048), left(coalesce(p_worker, '?'), 100), p_response_status, v_error,
          greatest(p_duration_ms, 0), v_applied);
  if not v_applied then
    return public.webhook_delivery_json(v_delivery);
  end if;
  v_failed := v_delivery.attempt_count + 1;
  if v_ok then
    update public.webhook_deliveries
       set status = 'succeeded', attempt_count = v_failed, succeeded_at = now(), last_attempt_at = now(),
           last_response_status = p_response_status, last_error = null, lease_owner = null, leased_until = null,
           updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  elsif hazina.webhook_retry_delay(v_failed) is null then
    update public.webhook_deliveries
       set status = 'failed', attempt_count = v_failed, failed_at = now(), last_attempt_at = now(),
           last_response_status = p_response_status, last_error = v_error, lease_owner = null, leased_until = null,
           updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  else
    -- Jitter: + 0-10 % of the delay, never less, so concurrent failures spread out.
    update public.webhook_deliveries
       set status = 'pending', attempt_count = v_failed,
           next_attempt_at = v_now + hazina.webhook_retry_delay(v_failed) * (1 + random() * 0.1),
           last_attempt_at = now(), last_response_status = p_response_status, last_error = v_error,
           lease_owner = null, leased_until = null, updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  end if;
  return public.webhook_delivery_json(v_delivery);
end
$$;


--
-- Name: webhook_delivery_retention(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_delivery_retention() RETURNS interval
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_text text := nullif(current_setting('hazina.webhook_delivery_retention', true), '');
  v_retention interval := interval '30 days';
begin
  if v_text is not null then
    begin
      v_retention := v_text::interval;
    exception when others then
      v_retention := interval '30 days';  -- an unreadable setting keeps the default
    end;
  end if;
  return greatest(v_retention, interval '1 day');
end
$$;


--
-- Name: webhook_dispatch(public.wallet_webhook_events); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_dispatch(p_event public.wallet_webhook_events) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_payload jsonb := p_event.payload;
  v_action text := v_payload ->> 'action';
  v_id uuid;
  v_result jsonb;
begin
  if v_action in ('funding.succeeded', 'funding.failed') then
    if v_payload ? 'funding_session_id' then
      select id into v_id from public.wallet_funding_sessions
       where id::text = v_payload ->> 'funding_session_id' and provider = p_event.provider;
    else
      perform hazina.checkout_lock(p_event.provider, v_payload ->> 'checkout_id');
      select id into v_id from public.wallet_funding_sessions
       where provider = p_event.provider and provider_checkout_id = v_payload ->> 'checkout_id';
      if v_id is null and v_action = 'funding.succeeded' and (v_payload ->> 'confirmed') is distinct from 'false' then
        v_id := hazina.funding_orphan_claim(p_event.provider, v_payload ->> 'checkout_id', v_payload ->> 'msisdn',
                                            (v_payload ->> 'amount')::numeric, p_event.received_at);
      end if;
    end if;
    if v_id is null then
      return jsonb_build_object('status', 'unmatched');
    end if;
    if (v_payload ->> 'confirmed') = 'false' then
      -- Our STK query did not say the same: a refused claim (the sweep asks again).
      perform hazina.raise_error('funding_not_confirmed', jsonb_build_object('funding_session_id', v_id));
    end if;
    if v_action = 'funding.succeeded' then
      v_result := hazina.funding_complete(v_id, (v_payload ->> 'amount')::numeric, v_payload ->> 'receipt', v_payload ->> 'msisdn');
    else
      v_result := hazina.funding_fail(v_id, coalesce(v_payload ->> 'outcome', 'failed'), v_payload ->> 'result_code',
                                      v_payload ->> 'result_desc');
    end if;
    return jsonb_build_object('status', 'processed', 'subject_type', 'funding_session', 'subject_id', v_id, 'result', v_result);
  elsif v_action in ('payout.succeeded', 'payout.failed', 'payout.timeout', 'payout.reversed') then
    if v_payload ? 'withdrawal_id' then
      select id into v_id from public.wallet_withdrawals
       where provider = p_event.provider and provider_request_id = v_payload ->> 'withdrawal_id';
    else
      select id into v_id from public.wallet_withdrawals
       where provider = p_event.provider and provider_conversation_id = v_payload ->> 'conversation_id';
    end if;
    if v_id is null then
      return jsonb_build_object('status', 'unmatched');
    end if;
    if p_event.provider = 'mpesa' and p_event.event_type = 'b2c_result' then
      return hazina.payout_claim_hold(v_id, v_action);
    end if;
    if v_action = 'payout.succeeded' then
      v_result := hazina.withdrawal_complete(v_id, v_payload ->> 'receipt', (v_payload ->> 'amount')::numeric);
    elsif v_action = 'payout.failed' then
      v_result := hazina.withdrawal_fail(v_id, v_payload ->> 'result_code', v_payload ->> 'result_desc');
    elsif v_action = 'payout.reversed' then
      v_result := hazina.withdrawal_reverse(v_id, v_payload ->> 'result_desc');
    else
      -- A queue timeout does not say the payout failed: make it due for a status query now.
      update public.wallet_withdrawals set expires_at = least(expires_at, now()), updated_at = now()
       where id = v_id and status in ('pending', 'processing');
      v_result := hazina.withdrawal_json(v_id);
    end if;
    return jsonb_build_object('status', 'processed', 'subject_type', 'withdrawal', 'subject_id', v_id, 'result', v_result);
  elsif v_action = 'paybill.credit' then
    -- Paid to another short code (our paybill is what the edge is configured with): refused.
    if (v_payload ->> 'paybill') is null or (v_payload ->> 'short_code') is distinct from (v_payload ->> 'paybill') then
      perform hazina.raise_error('paybill_short_code_mismatch', jsonb_build_object(
        'short_code', v_payload ->> 'short_code', 'paybill', v_payload ->> 'paybill'));
    end if;
    perform hazina.assert_valid_amount((v_payload ->> 'amount')::numeric, 'KES');
    return jsonb_build_object('status', 'unconfirmed', 'subject_type', 'paybill');
  elsif v_action = 'status.answer' then
    return hazina.status_answer_apply(p_event);
  elsif v_action = 'provider.notice' then
    -- Informational (e.g. a status query that timed out in the provider's queue): stored only.
    return jsonb_build_object('status', 'processed');
  elsif v_action = 'paybill.validation' then
    return jsonb_build_object('status', 'processed', 'result', hazina.paybill_validate(v_payload ->> 'account_reference',
                                                                                      (v_payload ->> 'amount')::numeric));
  end if;
  perform hazina.raise_error('invalid_webhook_payload', jsonb_build_object('action', v_action));
  return null;  -- not reached: raise_error raises
end
$$;


--
-- Name: webhook_endpoint_create(uuid, text, text[], text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_endpoint_create(p_merchant_id uuid, p_url text, p_events text[], p_description text, p_client_ref text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_existing public.webhook_endpoints;
  v_id uuid := gen_random_uuid();
  v_secret text;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('webhook_endpoints_merchants_only');
  end if;
  select * into v_existing from public.webhook_endpoints where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.url <> p_url or v_existing.events <> p_events
       or v_existing.description is distinct from p_description then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.webhook_endpoint_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if p_url is null or p_url !~ '^https?://[^\s/?#]+' or length(p_url) > 2048 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'url', 'reason', 'an http(s) URL of at most 2048 characters'));
  end if;
  if not hazina.webhook_event_filter_valid(p_events) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'events',
      'reason', '["*"] or 1 to 100 event types such as "payment_intent.succeeded" or "payment_intent.*"'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  -- Serialise one merchant's creates, so the limit holds under concurrent requests.
  perform 1 from public.auth_users where id = p_merchant_id for update;
  if (select count(*) from public.webhook_endpoints where merchant_id = p_merchant_id and status = 'active') >= 20 then
    perform hazina.raise_error('webhook_endpoint_limit_reached', jsonb_build_object('limit', 20));
  end if;
  v_secret := 'whsec_' || encode(extensions.gen_random_bytes(24), 'base64');
  insert into public.webhook_endpoints (id, merchant_id, url, events, description, client_ref)
  values (v_id, p_merchant_id, p_url, p_events, p_description, p_client_ref)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate webhook endpoint; retry';
  end if;
  insert into hazina.webhook_endpoint_secrets (endpoint_id, secret) values (v_id, v_secret);
  return hazina.webhook_endpoint_json(v_id) || jsonb_build_object('created', true, 'secret', v_secret);
end
$$;


--
-- Name: webhook_endpoint_disable(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_endpoint_disable(p_endpoint_id uuid, p_merchant_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_endpoint public.webhook_endpoints;
begin
  select * into v_endpoint from public.webhook_endpoints
   where id = p_endpoint_id and merchant_id = p_merchant_id for update;
  if v_endpoint.id is null then
    perform hazina.raise_error('webhook_endpoint_not_found', jsonb_build_object('webhook_endpoint_id', p_endpoint_id));
  end if;
  if v_endpoint.status = 'active' then
    update public.webhook_endpoints set status = 'disabled', disabled_at = now(), updated_at = now()
     where id = p_endpoint_id;
    update public.webhook_deliveries
       set status = 'failed', failed_at = now(), last_error = 'endpoint disabled', next_attempt_at = null,
           lease_owner = null, leased_until = null, updated_at = now()
     where endpoint_id = p_endpoint_id and status in ('pending', 'delivering');
  end if;
  return hazina.webhook_endpoint_json(p_endpoint_id);
end
$$;


--
-- Name: webhook_endpoint_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_endpoint_json(p_endpoint_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.webhook_endpoint_json(e) from public.webhook_endpoints e where e.id = p_endpoint_id $$;


--
-- Name: webhook_event_apply(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_event_apply(p_event_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_event public.wallet_webhook_events;
  v_result jsonb;
  v_code text;
  v_message text;
  v_detail text;
  v_status text;
begin
  select * into v_event from public.wallet_webhook_events where id = p_event_id for update;
  if v_event.id is null then
    perform hazina.raise_error('webhook_event_not_found', jsonb_build_object('event_id', p_event_id));
  end if;
  if v_event.status not in ('received', 'unmatched', 'failed') then
    return jsonb_build_object('event_id', v_event.id, 'status', v_event.status, 'applied', false);
  end if;
  begin
    v_result := hazina.webhook_dispatch(v_event);
    update public.wallet_webhook_events
       set status = v_result ->> 'status', error = left(v_result ->> 'error', 1000),
           subject_type = coalesce(v_result ->> 'subject_type', subject_type),
           subject_id = coalesce((v_result ->> 'subject_id')::uuid, subject_id),
           attempts = attempts + 1,
           processed_at = case when v_result ->> 'status' = 'processed' then now() end
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', v_result ->> 'status', 'applied', v_result ->> 'status' = 'processed',
                              'result', v_result -> 'result');
  exception when others then
    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail;
    -- A claim the facts contradict is refused: final, never re-applied, and it gives up the
    -- event key so the genuine message that follows is applied at once.
    v_status := case when v_code = 'P0001' and v_message = any(array['funding_amount_mismatch', 'withdrawal_amount_mismatch',
                        'funding_not_confirmed', 'not_confirmed_by_provider', 'paybill_short_code_mismatch',
                        'invalid_webhook_payload', 'invalid_amount'])
                     then 'refused' else 'failed' end;
    update public.wallet_webhook_events
       set status = v_status, attempts = attempts + 1, processed_at = case when v_status = 'refused' then now() end,
           error = left(case when v_code = 'P0001' then v_message else v_code || ': ' || v_message end
                        || coalesce(' ' || nullif(v_detail, ''), ''), 1000)
     where id = v_event.id;
    return jsonb_build_object('event_id', v_event.id, 'status', v_status, 'applied', false,
                              'error', case when v_code = 'P0001' then v_message else 'internal_error' end);
  end;
end
$$;


--
-- Name: webhook_event_fan_out(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_event_fan_out() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into public.webhook_deliveries (event_id, endpoint_id, merchant_id, next_attempt_at)
  select new.id, e.id, new.merchant_id, hazina.clock()
    from public.webhook_endpoints e
   where e.merchant_id = new.merchant_id and e.status = 'active' and hazina.webhook_event_matches(e.events, new.type)
  on conflict (event_id, endpoint_id) do nothing;
  return null;
end
$$;


--
-- Name: webhook_event_filter_valid(text[]); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_event_filter_valid(p_events text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  select p_events is not null and cardinality(p_events) between 1 and 100
     and array_position(p_events, null) is null
     and (select bool_and(e ~ '^(\*|[a-z_]+\.(\*|[a-z_]+))$' and length(e) <= 100) from unnest(p_events) e)
     and (not ('*' = any (p_events)) or cardinality(p_events) = 1)
$_$;


--
-- Name: webhook_event_matches(text[], text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_event_matches(p_events text[], p_type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select '*' = any (p_events) or p_type = any (p_events) or (split_part(p_type, '.', 1) || '.*') = any (p_events)
$$;


--
-- Name: webhook_ingest(text, text, text, text, jsonb, boolean, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_ingest(p_provider text, p_event_type text, p_event_key text, p_raw_body text, p_headers jsonb, p_signature_valid boolean, p_payload jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_event_id uuid;
  v_original record;
  v_bytes integer := octet_length(p_raw_body);
  v_sha256 text := encode(sha256(convert_to(p_raw_body, 'UTF8')), 'hex');
  -- Unauthenticated or unreadable: keep a bounded prefix (the hash identifies the whole).
  v_body text := case when p_signature_valid is false or p_payload ->> 'action' = 'invalid'
                      then left(p_raw_body, 2048) else p_raw_body end;
begin
  if p_signature_valid is false then
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                              headers, signature_valid, payload, status, error, processed_at)
    values (p_provider, p_event_type, left(p_event_key, 300), v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), false,
            coalesce(p_payload, '{}'), 'rejected', left(coalesce(p_payload ->> 'reason', 'signature_invalid'), 1000), now())
    returning id into v_event_id;
    return jsonb_build_object('event_id', v_event_id, 'status', 'rejected', 'duplicate', false, 'applied', false);
  end if;
  insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                            headers, signature_valid, payload)
  values (p_provider, p_event_type, p_event_key, v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), p_signature_valid,
          coalesce(p_payload, '{}'))
  on conflict (provider, provider_event_key) where status not in ('duplicate', 'rejected', 'refused') do nothing
  returning id into v_event_id;
  if v_event_id is null then
    select id, status into v_original from public.wallet_webhook_events
     where provider = p_provider and provider_event_key = p_event_key and status not in ('duplicate', 'rejected', 'refused');
    insert into public.wallet_webhook_events (provider, event_type, provider_event_key, raw_body, body_bytes, body_sha256,
                                              headers, signature_valid, payload, status, duplicate_of, processed_at)
    values (p_provider, p_event_type, p_event_key, v_body, v_bytes, v_sha256, coalesce(p_headers, '{}'), p_signature_valid,
            coalesce(p_payload, '{}'), 'duplicate', v_original.id, now())
    returning id into v_event_id;
    return jsonb_build_object('event_id', v_event_id, 'status', 'duplicate', 'duplicate', true, 'applied', false,
                              'original_event_id', v_original.id, 'original_status', v_original.status);
  end if;
  return hazina.webhook_event_apply(v_event_id) || jsonb_build_object('duplicate', false);
end
$$;


--
-- Name: webhook_retry_delay(integer); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.webhook_retry_delay(p_failed_attempts integer) RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select (array[interval '5 seconds', interval '5 minutes', interval '30 minutes', interval '2 hours',
                interval '5 hours', interval '10 hours', interval '10 hours'])[p_failed_attempts]
$$;


--
-- Name: withdrawal_cancel(uuid, uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals
   where id = p_withdrawal_id and user_id = p_user_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'pending' or v_withdrawal.submitted_at is not null
     or exists (select 1 from public.payment_refunds r where r.payout_id = p_withdrawal_id) then
    perform hazina.raise_error('withdrawal_not_cancellable', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status, 'submitted', v_withdrawal.submitted_at is not null,
      'payment_refund', exists (select 1 from public.payment_refunds r where r.payout_id = p_withdrawal_id)));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'cancelled', failure_code = 'cancelled', failure_reason = 'cancelled by the owner', updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_complete(uuid, text, numeric); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric DEFAULT NULL::numeric) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_posted uuid;
  v_settled uuid;
  v_refund_id uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  select r.id into v_refund_id from public.payment_refunds r where r.payout_id = p_withdrawal_id;
  if v_refund_id is not null then
    perform 1 from public.payment_intents i join public.payment_refunds r on r.payment_intent_id = i.id
     where r.id = v_refund_id for update of i;
  end if;
  if v_withdrawal.status = 'completed'
     and (p_receipt is null or v_withdrawal.provider_receipt is null or v_withdrawal.provider_receipt = p_receipt) then
    return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', true);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  if v_withdrawal.submitted_at is null then
    -- We never sent it, so no provider can have paid it.
    perform hazina.raise_error('withdrawal_not_submitted', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if p_amount is not null and p_amount <> v_withdrawal.amount then
    perform hazina.raise_error('withdrawal_amount_mismatch', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'expected', v_withdrawal.amount::text, 'received', p_amount::text));
  end if;
  v_posted := hazina.hold_post(v_withdrawal.hold_id);
  v_settled := hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'debit',
                       'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'credit', 'amount', v_withdrawal.amount::text)),
    'Payout settled by ' || v_withdrawal.provider,
    jsonb_build_object('withdrawal_id', v_withdrawal.id, 'provider_receipt', p_receipt));
  update public.wallet_withdrawals
     set status = 'completed', transaction_id = v_posted, settlement_transaction_id = v_settled,
         fee = (select coalesce(sum(amount), 0) from hazina.transaction_fees(v_posted) where direction = 'charge'),
         provider_receipt = coalesce(p_receipt, provider_receipt), failure_code = null, failure_reason = null,
         completed_at = now(), updated_at = now()
   where id = p_withdrawal_id;
  if v_refund_id is not null then
    perform hazina.payment_refund_succeed(v_refund_id);
  end if;
  return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', false);
end
$$;


--
-- Name: withdrawal_defer(uuid, interval); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_defer(p_withdrawal_id uuid, p_delay interval) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  update public.wallet_withdrawals set expires_at = now() + p_delay, updated_at = now()
   where id = p_withdrawal_id and status = 'pending' and submitted_at is null;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_fail(uuid, text, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_refund_id uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  select r.id into v_refund_id from public.payment_refunds r where r.payout_id = p_withdrawal_id;
  if v_refund_id is not null then
    perform 1 from public.payment_intents i join public.payment_refunds r on r.payment_intent_id = i.id
     where r.id = v_refund_id for update of i;
  end if;
  if v_withdrawal.status = 'failed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status not in ('pending', 'processing') then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'failed', failure_code = left(p_code, 100), failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  if v_refund_id is not null then
    perform hazina.payment_refund_fail(v_refund_id, p_code, p_reason);
  end if;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_json(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_json(p_withdrawal_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.withdrawal_json(w) from public.wallet_withdrawals w where w.id = p_withdrawal_id $$;


--
-- Name: withdrawal_mark_processing(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'cancelled' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  update public.wallet_withdrawals
     set status = case status when 'pending' then 'processing' else status end,
         submitted_at = coalesce(submitted_at, now()),
         provider_conversation_id = coalesce(provider_conversation_id, p_conversation_id),
         updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_mark_submitted(uuid); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_mark_submitted(p_withdrawal_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_status text;
begin
  select status into v_status from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_status is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_status <> 'pending' then
    perform hazina.raise_error('withdrawal_not_pending', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_status));
  end if;
  update public.wallet_withdrawals
     set submitted_at = coalesce(submitted_at, now()), expires_at = greatest(expires_at, now() + interval '10 minutes'),
         updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_request(uuid, uuid, numeric, text, text, interval); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_request(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval DEFAULT '00:10:00'::interval) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_source public.wallet_sources;
  v_wallet_id uuid;
  v_existing public.wallet_withdrawals;
  v_withdrawal_id uuid := gen_random_uuid();
  v_hold_id uuid;
begin
  select * into v_existing from public.wallet_withdrawals where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.source_id <> p_source_id or v_existing.amount <> p_amount or v_existing.currency <> p_currency then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.withdrawal_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  v_wallet_id := hazina.source_movement_check(p_user_id, p_source_id, p_amount, p_currency, p_client_ref, 'out');
  select * into v_source from public.wallet_sources where id = p_source_id;
  -- The hold never expires on its own ('infinity'): only the provider's answer (through this
  -- state machine) may release or post it, or money could leave twice.
  v_hold_id := hazina.hold_create('withdrawal:' || v_withdrawal_id, v_wallet_id,
    hazina.system_wallet('payouts_in_flight', p_currency), p_amount, 'infinity', 'withdrawal',
    'Withdrawal to ' || v_source.provider, jsonb_build_object('withdrawal_id', v_withdrawal_id));
  insert into public.wallet_withdrawals (id, user_id, wallet_id, source_id, provider, amount, fee, currency, client_ref,
                                         hold_id, provider_request_id, expires_at)
  select v_withdrawal_id, p_user_id, v_wallet_id, v_source.id, v_source.provider, p_amount, h.fee_amount, p_currency,
         p_client_ref, v_hold_id, v_withdrawal_id::text, now() + p_ttl
    from public.wallet_holds h where h.id = v_hold_id
  on conflict (user_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate withdrawal; retry';
  end if;
  return hazina.withdrawal_json(v_withdrawal_id) || jsonb_build_object('created', true);
end
$$;


--
-- Name: withdrawal_reverse(uuid, text); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_reverse(p_withdrawal_id uuid, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_reversal uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
  end if;
  if v_withdrawal.status = 'reversed' then
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  if v_withdrawal.status <> 'completed' then
    perform hazina.raise_error('withdrawal_not_completed', jsonb_build_object('withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status));
  end if;
  perform hazina.post_transaction('withdrawal:' || v_withdrawal.id || ':settle:reversal', 'withdrawal_settlement', jsonb_build_array(
    jsonb_build_object('wallet_id', hazina.provider_clearing_wallet(v_withdrawal.provider, v_withdrawal.currency),
                       'direction', 'debit', 'amount', v_withdrawal.amount::text),
    jsonb_build_object('wallet_id', hazina.system_wallet('payouts_in_flight', v_withdrawal.currency), 'direction', 'credit',
                       'amount', v_withdrawal.amount::text)),
    'Payout reversed by ' || v_withdrawal.provider, jsonb_build_object('withdrawal_id', v_withdrawal.id));
  v_reversal := hazina.reverse_transaction(v_withdrawal.transaction_id, 'withdrawal:' || v_withdrawal.id || ':reversal',
                                           null, left(coalesce(p_reason, 'payout reversed by the provider'), 500));
  update public.wallet_withdrawals
     set status = 'reversed', reversal_transaction_id = v_reversal,
         failure_code = 'reversed', failure_reason = left(p_reason, 500), updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;


--
-- Name: withdrawal_settle_confirmed(uuid, text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.withdrawal_settle_confirmed(p_withdrawal_id uuid, p_outcome text, p_answer jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_result jsonb;
begin
  if p_outcome = 'succeeded' then
    v_result := hazina.withdrawal_complete(p_withdrawal_id, p_answer ->> 'receipt', (p_answer ->> 'amount')::numeric);
  elsif p_outcome = 'failed' then
    -- We only ask after the request's deadline (or after M-Pesa's own result), so a
    -- non-zero answer means M-Pesa never paid it.
    v_result := hazina.withdrawal_fail(p_withdrawal_id, p_answer ->> 'result_code', p_answer ->> 'result_desc');
  else
    -- Known but not final: ask again soon; the waiting results stay unconfirmed.
    update public.wallet_withdrawals set expires_at = least(expires_at, now() + interval '1 minute'), updated_at = now()
     where id = p_withdrawal_id and status in ('pending', 'processing');
    return hazina.withdrawal_json(p_withdrawal_id);
  end if;
  update public.wallet_webhook_events e
     set status = case when (e.payload ->> 'action' = 'payout.succeeded') = (p_outcome = 'succeeded') then 'processed' else 'refused' end,
         error = case when (e.payload ->> 'action' = 'payout.succeeded') = (p_outcome = 'succeeded') then null
                      else 'not_confirmed_by_provider: M-Pesa''s Transaction Status says the payout '
                           || case p_outcome when 'succeeded' then 'was paid' else 'failed' end end,
         subject_type = 'withdrawal', subject_id = p_withdrawal_id, processed_at = now()
    from public.wallet_withdrawals w
   where w.id = p_withdrawal_id and e.provider = w.provider and e.status = 'unconfirmed' and e.event_type = 'b2c_result'
     and e.payload ->> 'withdrawal_id' = w.provider_request_id;
  return v_result;
end
$$;


--
-- Name: api_key_create(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_key_create(p_name text, p_mode text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.api_key_create(hazina.caller_id(), p_name, p_mode, p_client_ref) $$;


--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    mode text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL,
    client_ref text NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT api_keys_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT api_keys_key_hash_check CHECK ((key_hash ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT api_keys_mode_check CHECK ((mode = ANY (ARRAY['test'::text, 'live'::text]))),
    CONSTRAINT api_keys_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT api_keys_prefix_check CHECK ((prefix ~ '^hz_(test|live)_[0-9a-f]{8}$'::text))
);


--
-- Name: api_key_json(public.api_keys); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_key_json(k public.api_keys) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', k.id, 'object', 'api_key', 'name', k.name, 'mode', k.mode, 'prefix', k.prefix,
                            'status', case when k.revoked_at is null then 'active' else 'revoked' end,
                            'last_used_at', public.api_time(k.last_used_at), 'revoked_at', public.api_time(k.revoked_at),
                            'created_at', public.api_time(k.created_at), 'updated_at', public.api_time(k.updated_at))
$$;


--
-- Name: api_key_revoke(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_key_revoke(p_key_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.api_key_revoke(p_key_id, hazina.caller_id()) $$;


--
-- Name: api_time(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_time(p_time timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO ''
    AS $$ select to_char(p_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;


--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    type text NOT NULL,
    object_type text NOT NULL,
    object_id uuid NOT NULL,
    data jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT events_object_type_check CHECK ((object_type = ANY (ARRAY['payment_intent'::text, 'payment_refund'::text, 'invoice'::text, 'order'::text, 'goods_escrow'::text, 'installment'::text, 'qr_code'::text]))),
    CONSTRAINT events_type_check CHECK (((type ~ '^[a-z_]+\.[a-z_]+$'::text) AND (length(type) <= 100)))
);


--
-- Name: event_json(public.events); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.event_json(e public.events) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', e.id, 'object', 'event', 'type', e.type, 'object_type', e.object_type,
                            'object_id', e.object_id, 'data', e.data, 'created_at', public.api_time(e.created_at))
$$;


--
-- Name: event_redeliver(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.event_redeliver(p_event_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.event_redeliver(p_event_id, hazina.caller_id()) $$;


--
-- Name: funding_session_json(public.wallet_funding_sessions); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.funding_session_json(f public.wallet_funding_sessions) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', f.id, 'wallet_id', f.wallet_id, 'source_id', f.source_id, 'provider', f.provider,
                            'channel', f.channel, 'amount', f.amount::text, 'fee', f.fee::text, 'currency', f.currency,
                            'status', f.status, 'provider_request_id', f.provider_request_id,
                            'provider_checkout_id', f.provider_checkout_id, 'provider_receipt', f.provider_receipt,
                            'account_reference', f.account_reference, 'transaction_id', f.transaction_id,
                            'failure_code', f.failure_code, 'failure_reason', f.failure_reason,
                            'expires_at', public.api_time(f.expires_at), 'created_at', public.api_time(f.created_at),
                            'updated_at', public.api_time(f.updated_at), 'completed_at', public.api_time(f.completed_at))
$$;


--
-- Name: funding_start(uuid, numeric, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.funding_start(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref) $$;


--
-- Name: goods_escrows; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.goods_escrows (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    wallet_id uuid NOT NULL,
    currency character(3) NOT NULL,
    amount numeric(19,4) NOT NULL,
    status text DEFAULT 'funded'::text NOT NULL,
    released_amount numeric(19,4) DEFAULT 0 NOT NULL,
    refunded_amount numeric(19,4) DEFAULT 0 NOT NULL,
    auto_release_at timestamp with time zone,
    dispatched_at timestamp with time zone,
    delivered_at timestamp with time zone,
    disputed_at timestamp with time zone,
    dispute_reason text,
    resolution text,
    resolution_note text,
    resolved_by uuid,
    resolved_at timestamp with time zone,
    released_at timestamp with time zone,
    refunded_at timestamp with time zone,
    release_transaction_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT goods_escrows_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT goods_escrows_amounts CHECK (((released_amount + refunded_amount) <= amount)),
    CONSTRAINT goods_escrows_dispute_reason_check CHECK ((length(dispute_reason) <= 1000)),
    CONSTRAINT goods_escrows_refunded_amount_check CHECK ((refunded_amount >= (0)::numeric)),
    CONSTRAINT goods_escrows_released_amount_check CHECK ((released_amount >= (0)::numeric)),
    CONSTRAINT goods_escrows_resolution_check CHECK ((resolution = ANY (ARRAY['release'::text, 'refund'::text, 'split'::text]))),
    CONSTRAINT goods_escrows_resolution_note_check CHECK ((length(resolution_note) <= 1000)),
    CONSTRAINT goods_escrows_settled CHECK (((status = ANY (ARRAY['released'::text, 'refunded'::text, 'split'::text])) = ((released_amount + refunded_amount) = amount))),
    CONSTRAINT goods_escrows_status_known CHECK ((status = ANY (ARRAY['funded'::text, 'dispatched'::text, 'delivered'::text, 'disputed'::text, 'released'::text, 'refunded'::text, 'split'::text])))
);


--
-- Name: goods_escrow_json(public.goods_escrows); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.goods_escrow_json(e public.goods_escrows) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', e.id, 'object', 'goods_escrow', 'order_id', e.order_id, 'merchant_id', e.merchant_id,
                            'customer_id', e.customer_id, 'amount', e.amount::text, 'currency', e.currency,
                            'status', e.status, 'released_amount', e.released_amount::text,
                            'refunded_amount', e.refunded_amount::text,
                            'held_amount', (e.amount - e.released_amount - e.refunded_amount)::numeric(19, 4)::text,
                            'auto_release_at', public.api_time(e.auto_release_at),
                            'dispatched_at', public.api_time(e.dispatched_at), 'delivered_at', public.api_time(e.delivered_at),
                            'disputed_at', public.api_time(e.disputed_at), 'dispute_reason', e.dispute_reason,
                            'resolution', e.resolution, 'resolution_note', e.resolution_note,
                            'resolved_by', e.resolved_by, 'resolved_at', public.api_time(e.resolved_at),
                            'released_at', public.api_time(e.released_at), 'refunded_at', public.api_time(e.refunded_at),
                            'release_transaction_id', e.release_transaction_id,
                            'created_at', public.api_time(e.created_at), 'updated_at', public.api_time(e.updated_at))
$$;


--
-- Name: installment_cancel(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.installment_cancel(p_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.installment_cancel(p_id, hazina.caller_id(), p_reason) $$;


--
-- Name: installment_json(public.installments); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.installment_json(i public.installments) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', i.id, 'object', 'installment', 'order_id', i.order_id, 'shop_id', i.shop_id,
                            'merchant_id', i.merchant_id, 'customer_id', i.customer_id, 'currency', i.currency,
                            'total_amount', i.total_amount::text, 'deposit_amount', i.deposit_amount::text,
                            'count', i.installment_count, 'interval', i."interval",
                            'installment_amount', i.installment_amount::text, 'status', i.status,
                            'auto_collect', i.auto_collect, 'grace_days', i.grace_days,
                            'late_fee_rule', jsonb_build_object('enabled', i.late_fee_enabled,
                                                                'transaction_type', 'installment_late_fee'),
                            'missed_payments_to_default', i.missed_payments_to_default,
                            'cancellation_fee_rule', jsonb_build_object('bps', i.cancellation_fee_bps,
                                                                        'fixed', i.cancellation_fee_fixed::text,
                                                                        'max_bps', i.max_cancellation_fee_bps),
                            'amount_paid', i.amount_paid::text, 'late_fees', i.late_fees::text,
                            'amount_waived', i.amount_waived::text,
                            'amount_outstanding', case when i.status = 'active'
                              then (i.total_amount + i.late_fees - i.amount_waived - i.amount_paid)::numeric(19, 4)::text
                              else '0.0000' end,
                            'amount_refunded', i.amount_refunded::text, 'amount_released', i.amount_released::text,
                            'cancellation_fee', i.cancellation_fee::text, 'missed_count', i.missed_count,
                            'deposit_intent_id', i.deposit_intent_id,
                            'next_due_at', public.api_time(i.next_due_at), 'starts_at', public.api_time(i.starts_at),
                            'completed_at', public.api_time(i.completed_at), 'defaulted_at', public.api_time(i.defaulted_at),
                            'canceled_at', public.api_time(i.canceled_at), 'cancellation_reason', i.cancellation_reason,
                            'schedule', coalesce((select jsonb_agg(public.installment_schedule_json(s) order by s.seq)
                                                    from public.installment_schedule s where s.installment_id = i.id), '[]'::jsonb),
                            'created_at', public.api_time(i.created_at), 'updated_at', public.api_time(i.updated_at))
$$;


--
-- Name: installment_pay(uuid, numeric, uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.installment_pay(p_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.installment_pay(p_id, hazina.caller_id(), p_amount, p_wallet_id, p_client_ref) $$;


--
-- Name: installment_schedule; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.installment_schedule (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    installment_id uuid NOT NULL,
    seq smallint NOT NULL,
    due_at timestamp with time zone NOT NULL,
    amount numeric(19,4) NOT NULL,
    late_fee numeric(19,4) DEFAULT 0 NOT NULL,
    amount_paid numeric(19,4) DEFAULT 0 NOT NULL,
    amount_waived numeric(19,4) DEFAULT 0 NOT NULL,
    late_fee_waived numeric(19,4) DEFAULT 0 NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    paid_intent_id uuid,
    paid_at timestamp with time zone,
    late_at timestamp with time zone,
    late_fee_charged_at timestamp with time zone,
    missed_at timestamp with time zone,
    waived_at timestamp with time zone,
    reminded_at timestamp with time zone,
    collect_attempted_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT installment_schedule_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT installment_schedule_amount_paid_check CHECK ((amount_paid >= (0)::numeric)),
    CONSTRAINT installment_schedule_amount_waived_check CHECK ((amount_waived >= (0)::numeric)),
    CONSTRAINT installment_schedule_fee_waived CHECK (((late_fee_waived <= late_fee) AND (late_fee_waived <= amount_waived))),
    CONSTRAINT installment_schedule_late_fee_check CHECK ((late_fee >= (0)::numeric)),
    CONSTRAINT installment_schedule_late_fee_waived_check CHECK ((late_fee_waived >= (0)::numeric)),
    CONSTRAINT installment_schedule_owed CHECK (((amount_paid + amount_waived) <= (amount + late_fee))),
    CONSTRAINT installment_schedule_paid_at CHECK (((status = 'paid'::text) = (paid_at IS NOT NULL))),
    CONSTRAINT installment_schedule_seq_check CHECK ((seq >= 0)),
    CONSTRAINT installment_schedule_settled CHECK (((status = ANY (ARRAY['paid'::text, 'waived'::text])) = ((amount_paid + amount_waived) = (amount + late_fee)))),
    CONSTRAINT installment_schedule_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'paid'::text, 'late'::text, 'waived'::text])))
);


--
-- Name: installment_schedule_json(public.installment_schedule); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.installment_schedule_json(s public.installment_schedule) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('seq', s.seq, 'kind', case when s.seq = 0 then 'deposit' else 'installment' end,
                            'due_at', public.api_time(s.due_at), 'amount', s.amount::text, 'late_fee', s.late_fee::text,
                            'amount_paid', s.amount_paid::text, 'amount_waived', s.amount_waived::text,
                            'amount_due', (s.amount + s.late_fee - s.amount_paid - s.amount_waived)::numeric(19, 4)::text,
                            'status', s.status, 'paid_intent_id', s.paid_intent_id,
                            'paid_at', public.api_time(s.paid_at), 'late_at', public.api_time(s.late_at),
                            'late_fee_charged_at', public.api_time(s.late_fee_charged_at),
                            'missed_at', public.api_time(s.missed_at), 'waived_at', public.api_time(s.waived_at))
$$;


--
-- Name: installment_waive(uuid, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.installment_waive(p_id uuid, p_seq integer, p_what text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.installment_waive(p_id, hazina.caller_id(), p_seq, p_what) $$;


--
-- Name: invoice_create(jsonb, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_create(p_fields jsonb, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_create(hazina.caller_id(), p_fields, p_client_ref) $$;


--
-- Name: invoice_delete(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_delete(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_delete(p_invoice_id, hazina.caller_id()) $$;


--
-- Name: invoice_document(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_document(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_caller uuid := hazina.caller_id();
  v_json jsonb;
begin
  select jsonb_build_object('invoice', public.invoice_json(i),
                            'merchant', jsonb_build_object('id', u.id, 'name', coalesce(u.name, u.email), 'email', u.email,
                                                           'phone', u.phone),
                            'minor_units', c.minor_units)
    into v_json
    from public.invoices i join public.auth_users u on u.id = i.merchant_id join public.currencies c on c.code = i.currency
   where i.id = p_invoice_id and (i.merchant_id = v_caller or (i.customer_id = v_caller and i.status <> 'draft'));
  if v_json is null then
    perform hazina.raise_error('invoice_not_found', jsonb_build_object('invoice_id', p_invoice_id));
  end if;
  return v_json;
end
$$;


--
-- Name: invoice_finalize(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_finalize(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_finalize(p_invoice_id, hazina.caller_id()) $$;


--
-- Name: invoice_json(public.invoices); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_json(i public.invoices) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', i.id, 'object', 'invoice', 'merchant_id', i.merchant_id, 'number', i.number,
                            'status', i.status,
                            'customer', jsonb_build_object('id', i.customer_id, 'email', i.customer_email,
                                                           'phone', i.customer_phone, 'name', i.customer_name),
                            'currency', i.currency, 'due_date', i.due_date::text, 'memo', i.memo,
                            'subtotal', i.subtotal::text, 'tax', i.tax::text, 'total', i.total::text,
                            'amount_paid', i.amount_paid::text, 'amount_due', i.amount_due::text,
                            'allow_partial_payment', i.allow_partial_payment, 'pay_token', i.pay_token,
                            'overdue', i.overdue_at is not null,
                            'items', coalesce((
                              select jsonb_agg(jsonb_build_object('position', t.position, 'description', t.description,
                                                                  'quantity', t.quantity::text, 'unit_amount', t.unit_amount::text,
                                                                  'tax_rate', t.tax_rate, 'subtotal', t.subtotal::text,
                                                                  'tax', t.tax::text, 'total', t.total::text)
                                               order by t.position)
                                from public.invoice_items t where t.invoice_id = i.id), '[]'::jsonb),
                            'metadata', i.metadata,
                            'finalized_at', public.api_time(i.finalized_at), 'paid_at', public.api_time(i.paid_at),
                            'voided_at', public.api_time(i.voided_at),
                            'marked_uncollectible_at', public.api_time(i.marked_uncollectible_at),
                            'overdue_at', public.api_time(i.overdue_at),
                            'created_at', public.api_time(i.created_at), 'updated_at', public.api_time(i.updated_at))
$$;


--
-- Name: invoice_mark_uncollectible(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_mark_uncollectible(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_mark_uncollectible(p_invoice_id, hazina.caller_id()) $$;


--
-- Name: invoice_pay(uuid, numeric); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_pay(p_invoice_id uuid, p_amount numeric DEFAULT NULL::numeric) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_pay(p_invoice_id, hazina.caller_id(), p_amount, null) $$;


--
-- Name: invoice_sequences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invoice_sequences (
    merchant_id uuid NOT NULL,
    number_prefix text DEFAULT 'INV-'::text NOT NULL,
    next_number bigint DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoice_sequences_next_number_check CHECK ((next_number >= 1)),
    CONSTRAINT invoice_sequences_number_prefix_check CHECK ((number_prefix ~ '^[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}$'::text))
);


--
-- Name: invoice_sequence_json(public.invoice_sequences); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_sequence_json(s public.invoice_sequences) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('object', 'invoice_settings', 'merchant_id', s.merchant_id, 'number_prefix', s.number_prefix,
                            'next_number', s.next_number, 'updated_at', public.api_time(s.updated_at))
$$;


--
-- Name: invoice_settings(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_settings() RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_sequence_get(hazina.caller_id()) $$;


--
-- Name: invoice_settings_update(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_settings_update(p_number_prefix text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_settings_update(hazina.caller_id(), p_number_prefix) $$;


--
-- Name: invoice_update(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_update(p_invoice_id uuid, p_fields jsonb) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_update(p_invoice_id, hazina.caller_id(), p_fields) $$;


--
-- Name: invoice_void(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.invoice_void(p_invoice_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.invoice_void(p_invoice_id, hazina.caller_id()) $$;


--
-- Name: is_admin(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.is_admin() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select hazina.caller_refusal() is null
         and exists (select 1 from public.auth_users where id = auth.uid() and role = 'admin')
$$;


--
-- Name: merchant_apply(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.merchant_apply(p_business_name text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return hazina.merchant_application_submit(hazina.caller_id(), p_business_name);
end
$$;


--
-- Name: ops_escrow_resolve(uuid, text, numeric, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_escrow_resolve(p_escrow_id uuid, p_outcome text, p_buyer_amount numeric DEFAULT NULL::numeric, p_note text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.assert_admin();
  return hazina.escrow_resolve(p_escrow_id, hazina.caller_id(), p_outcome, p_buyer_amount, p_note);
end
$$;


--
-- Name: ops_jobs(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_jobs() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.assert_admin();
  return hazina.job_list();
end
$$;


--
-- Name: ops_merchant_approve(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_merchant_approve(p_user_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.merchant_application_decide(p_user_id, 'approved', p_reason) $$;


--
-- Name: ops_merchant_reject(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_merchant_reject(p_user_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.merchant_application_decide(p_user_id, 'rejected', p_reason) $$;


--
-- Name: ops_reconciliation(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_reconciliation() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.assert_admin();
  return jsonb_build_object(
    'discrepancies', coalesce((select jsonb_agg(jsonb_build_object(
        'check', r.check_name, 'subject', r.subject,
        'expected', r.expected::text, 'actual', r.actual::text)) from hazina.reconcile() r), '[]'),
    'trial_balance', coalesce((select jsonb_agg(jsonb_build_object(
        'currency', t.currency, 'total', t.total::text, 'wallets', t.wallets)) from hazina.trial_balance() t), '[]'),
    'checked_at', now());
end
$$;


--
-- Name: ops_reverse_transaction(uuid, text, numeric, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric DEFAULT NULL::numeric, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_reversal_id uuid;
begin
  perform hazina.assert_admin();
  if p_ref is null or length(p_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref');
  end if;
  if p_reason is null or length(p_reason) not between 1 and 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'reason', 'reason', 'say why, in 1 to 500 characters'));
  end if;
  v_reversal_id := hazina.reverse_transaction(p_transaction_id, 'ops-reversal:' || p_ref, p_amount, p_reason);
  return (select jsonb_build_object('transaction_id', t.id, 'reverses', t.reverses_id, 'amount', t.principal_amount::text,
                                    'currency', t.currency, 'reason', t.description, 'created_at', t.created_at)
            from public.wallet_transactions t where t.id = v_reversal_id);
end
$$;


--
-- Name: ops_run_sweeps(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_run_sweeps() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.assert_admin();
  return hazina.run_sweeps();
end
$$;


--
-- Name: ops_set_wallet_status(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ops_set_wallet_status(p_wallet_id uuid, p_status text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_current text;
begin
  perform hazina.assert_admin();
  if p_status is null or p_status not in ('active', 'frozen', 'closed') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'status'));
  end if;
  select status into v_current from public.wallets where id = p_wallet_id for update;
  if v_current is null then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_wallet_id));
  end if;
  if v_current = 'closed' then
    perform hazina.raise_error('wallet_not_active', jsonb_build_object('wallet_id', p_wallet_id, 'status', v_current));
  end if;
  if p_status = 'closed' and exists (select 1 from public.wallet_balances
                                      where wallet_id = p_wallet_id and (balance <> 0 or held <> 0)) then
    perform hazina.raise_error('wallet_not_empty', jsonb_build_object('wallet_id', p_wallet_id));
  end if;
  update public.wallets set status = p_status, updated_at = now() where id = p_wallet_id;
  return hazina.wallet_json(p_wallet_id);
end
$$;


--
-- Name: order_cancel(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_cancel(p_order_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_cancel(p_order_id, hazina.caller_id(), p_reason) $$;


--
-- Name: order_confirm_receipt(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_confirm_receipt(p_order_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_confirm_receipt(p_order_id, hazina.caller_id()) $$;


--
-- Name: order_create(uuid, jsonb, boolean, jsonb, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_create(p_shop_id uuid, p_items jsonb, p_escrow boolean DEFAULT NULL::boolean, p_shipping jsonb DEFAULT NULL::jsonb, p_client_ref text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_create(hazina.caller_id(), p_shop_id, p_items, p_escrow, p_shipping, p_client_ref) $$;


--
-- Name: order_create_installments(uuid, jsonb, boolean, jsonb, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_create_installments(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_create_installments(hazina.caller_id(), p_shop_id, p_items, p_escrow, p_shipping, p_client_ref,
                                                p_installments) $$;


--
-- Name: order_deliver(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_deliver(p_order_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_deliver(p_order_id, hazina.caller_id()) $$;


--
-- Name: order_dispatch(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_dispatch(p_order_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_dispatch(p_order_id, hazina.caller_id()) $$;


--
-- Name: order_dispute(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_dispute(p_order_id uuid, p_reason text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_dispute(p_order_id, hazina.caller_id(), p_reason) $$;


--
-- Name: order_json(public.orders); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_json(o public.orders) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', o.id, 'object', 'order', 'shop_id', o.shop_id, 'merchant_id', o.merchant_id,
                            'customer_id', o.customer_id, 'status', o.status, 'currency', o.currency,
                            'total', o.total::text, 'amount_paid', o.amount_paid::text,
                            'amount_refunded', o.amount_refunded::text, 'escrow', o.escrow,
                            'payment_intent_id', o.payment_intent_id, 'shipping', o.shipping,
                            'items', coalesce((
                              select jsonb_agg(jsonb_build_object('id', i.id, 'product_id', i.product_id, 'name', i.name,
                                                                  'sku', i.sku, 'unit_price', i.unit_price::text,
                                                                  'quantity', i.quantity, 'line_total', i.line_total::text,
                                                                  'refunded_quantity', i.refunded_quantity)
                                               order by i.position)
                                from public.order_items i where i.order_id = o.id), '[]'::jsonb),
                            'goods_escrow', (select public.goods_escrow_json(e) from public.goods_escrows e where e.order_id = o.id),
                            'paid_at', public.api_time(o.paid_at), 'fulfilled_at', public.api_time(o.fulfilled_at),
                            'delivered_at', public.api_time(o.delivered_at), 'completed_at', public.api_time(o.completed_at),
                            'canceled_at', public.api_time(o.canceled_at), 'cancellation_reason', o.cancellation_reason,
                            'refunded_at', public.api_time(o.refunded_at),
                            'created_at', public.api_time(o.created_at), 'updated_at', public.api_time(o.updated_at))
$$;


--
-- Name: order_refund(uuid, numeric, jsonb, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.order_refund(p_order_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.order_refund(p_order_id, hazina.caller_id(), p_amount, p_items, p_reason, p_client_ref) $$;


--
-- Name: payment_intent_cancel(uuid, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_intent_cancel(p_intent_id uuid, p_reason text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_intent_cancel(p_intent_id, hazina.caller_id(), p_reason) $$;


--
-- Name: payment_intent_capture(uuid, numeric); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_intent_capture(p_intent_id uuid, p_amount numeric DEFAULT NULL::numeric) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_intent_capture(p_intent_id, hazina.caller_id(), p_amount) $$;


--
-- Name: payment_intent_confirm(uuid, jsonb, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_intent_confirm(p_intent_id uuid, p_sources jsonb, p_client_secret text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_intent_confirm(p_intent_id, hazina.caller_id(), p_sources, p_client_secret) $$;


--
-- Name: payment_intent_create(numeric, text, text, uuid, text, jsonb, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_intent_create(p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_intent_create(hazina.caller_id(), p_amount, p_currency, p_capture_method, p_customer_id,
                                             p_description, p_metadata, p_expires_in_seconds, p_client_ref) $$;


--
-- Name: payment_intent_json(public.payment_intents); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_intent_json(p public.payment_intents) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', p.id, 'object', 'payment_intent', 'merchant_id', p.merchant_id,
                            'payee_wallet_id', p.payee_wallet_id, 'customer_id', p.customer_id,
                            'amount', p.amount::text, 'currency', p.currency, 'status', p.status,
                            'capture_method', p.capture_method, 'amount_capturable', p.amount_capturable::text,
                            'amount_received', p.amount_received::text, 'amount_refunded', p.amount_refunded::text,
                            'description', p.description, 'metadata', p.metadata,
                            'subject_type', p.subject_type, 'subject_id', p.subject_id,
                            'sources', coalesce((
                              select jsonb_agg(case s.type
                                when 'wallet' then jsonb_build_object('type', s.type, 'wallet_id', s.wallet_id,
                                                                      'amount', s.amount::text, 'hold_id', s.hold_id)
                                else jsonb_build_object('type', s.type, 'wallet_id', s.wallet_id, 'amount', s.amount::text,
                                                        'hold_id', s.hold_id,
                                                        'phone', left(s.phone, 4) || '******' || right(s.phone, 2),
                                                        'funding_session_id', s.funding_session_id,
                                                        'funding_status', (select f.status from public.wallet_funding_sessions f
                                                                            where f.id = s.funding_session_id))
                                end order by s.position)
                                from public.payment_intent_parts s
                               where s.payment_intent_id = p.id and s.attempt = p.confirm_attempt), '[]'::jsonb),
                            'last_payment_error', p.last_payment_error,
                            'capture_transaction_id', p.capture_transaction_id,
                            'expires_at', public.api_time(p.expires_at), 'confirmed_at', public.api_time(p.confirmed_at),
                            'succeeded_at', public.api_time(p.succeeded_at), 'canceled_at', public.api_time(p.canceled_at),
                            'cancellation_reason', p.cancellation_reason,
                            'created_at', public.api_time(p.created_at), 'updated_at', public.api_time(p.updated_at))
$$;


--
-- Name: payment_refund_create(uuid, numeric, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_refund_create(p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.payment_refund_create(hazina.caller_id(), p_intent_id, p_amount, p_reason, p_client_ref) $$;


--
-- Name: payment_refunds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_refunds (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    payment_intent_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    customer_id uuid,
    amount numeric(19,4) NOT NULL,
    currency character(3) NOT NULL,
    reason text,
    status text DEFAULT 'succeeded'::text NOT NULL,
    transaction_id uuid,
    client_ref text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    fee_refunded numeric(19,4),
    payout_id uuid,
    fee_transaction_id uuid,
    failure_code text,
    failure_reason text,
    CONSTRAINT payment_refunds_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT payment_refunds_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT payment_refunds_failure_code_check CHECK ((length(failure_code) <= 100)),
    CONSTRAINT payment_refunds_failure_reason_check CHECK ((length(failure_reason) <= 500)),
    CONSTRAINT payment_refunds_fee_refunded_check CHECK ((fee_refunded >= (0)::numeric)),
    CONSTRAINT payment_refunds_reason_check CHECK ((length(reason) <= 500)),
    CONSTRAINT payment_refunds_shape CHECK (
CASE
    WHEN (payout_id IS NULL) THEN ((status = 'succeeded'::text) AND (transaction_id IS NOT NULL) AND (fee_transaction_id IS NULL))
    ELSE (((status = 'succeeded'::text) = (transaction_id IS NOT NULL)) AND ((status = 'succeeded'::text) OR (fee_transaction_id IS NULL)))
END),
    CONSTRAINT payment_refunds_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'succeeded'::text, 'failed'::text])))
);


--
-- Name: payment_refund_json(public.payment_refunds); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.payment_refund_json(r public.payment_refunds) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', r.id, 'object', 'payment_refund', 'payment_intent_id', r.payment_intent_id,
                            'amount', r.amount::text, 'fee_refunded', coalesce(r.fee_refunded, 0)::text,
                            'currency', r.currency, 'reason', r.reason, 'status', r.status,
                            'transaction_id', r.transaction_id, 'payout_id', r.payout_id,
                            'failure_code', r.failure_code, 'failure_reason', r.failure_reason,
                            'created_at', public.api_time(r.created_at), 'updated_at', public.api_time(r.updated_at))
$$;


--
-- Name: product_create(uuid, text, text, numeric, integer, boolean, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.product_create(p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer DEFAULT NULL::integer, p_active boolean DEFAULT true, p_description text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.product_create(hazina.caller_id(), p_shop_id, p_name, p_sku, p_price, p_stock, p_active,
                                     p_description) $$;


--
-- Name: products; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.products (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    shop_id uuid NOT NULL,
    name text NOT NULL,
    sku text NOT NULL,
    description text,
    price numeric(19,4) NOT NULL,
    stock integer,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT products_description_check CHECK ((length(description) <= 2000)),
    CONSTRAINT products_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT products_price_check CHECK ((price > (0)::numeric)),
    CONSTRAINT products_sku_check CHECK ((sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT products_stock_check CHECK ((stock >= 0))
);


--
-- Name: product_json(public.products); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.product_json(p public.products) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', p.id, 'object', 'product', 'shop_id', p.shop_id, 'name', p.name, 'sku', p.sku,
                            'description', p.description, 'price', p.price::text,
                            'currency', (select s.currency from public.shops s where s.id = p.shop_id),
                            'stock', p.stock, 'unlimited', p.stock is null, 'active', p.active,
                            'created_at', public.api_time(p.created_at), 'updated_at', public.api_time(p.updated_at))
$$;


--
-- Name: product_update(uuid, uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.product_update(p_shop_id uuid, p_product_id uuid, p_patch jsonb) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.product_update(hazina.caller_id(), p_shop_id, p_product_id, p_patch) $$;


--
-- Name: provider_sweep_authorize(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.provider_sweep_authorize() RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform hazina.assert_admin();
end
$$;


--
-- Name: qr_code_create(text, text, numeric, text, uuid, timestamp with time zone, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_create(p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.qr_code_create(hazina.caller_id(), p_kind, p_label, p_amount, p_currency, p_subject_id,
                                      p_expires_at, p_max_uses, p_client_ref) $$;


--
-- Name: qr_code_disable(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_disable(p_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.qr_code_disable(hazina.caller_id(), p_id) $$;


--
-- Name: qr_code_for(text, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_for(p_kind text, p_subject_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select public.qr_code_json(q) from public.qr_codes q
         where (p_kind = 'invoice' and q.invoice_id = p_subject_id) or (p_kind = 'order' and q.order_id = p_subject_id)
         order by q.created_at limit 1 $$;


--
-- Name: qr_code_json(public.qr_codes); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_json(q public.qr_codes) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', q.id, 'object', 'qr_code', 'merchant_id', q.merchant_id, 'kind', q.kind,
                            'slug', q.slug, 'label', q.label, 'amount', q.amount::text, 'currency', q.currency,
                            'subject_id', q.subject_id, 'expires_at', public.api_time(q.expires_at),
                            'max_uses', q.max_uses, 'use_count', q.use_count, 'status', q.status,
                            'disabled_reason', q.disabled_reason,
                            'created_at', public.api_time(q.created_at), 'updated_at', public.api_time(q.updated_at))
$$;


--
-- Name: qr_code_open_guest_intent(text, numeric, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.qr_code_open_intent(p_slug, null, p_amount, p_attempt_ref) $$;


--
-- Name: qr_code_pay_wallet(text, uuid, numeric, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_pay_wallet(p_slug text, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.qr_code_pay_wallet(p_slug, hazina.caller_id(), p_wallet_id, p_amount, p_attempt_ref) $$;


--
-- Name: qr_code_resolve(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_resolve(p_slug text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_code public.qr_codes;
  v_status text;
  v_name text;
  v_state text;
  v_amount numeric;
  v_minor integer;
  v_invoice public.invoices;
  v_result jsonb;
begin
  if p_slug is null or p_slug !~ '^[a-z2-7]{26}$' then
    return null;
  end if;
  select * into v_code from public.qr_codes where slug = p_slug;
  if v_code.id is null then
    return null;
  end if;
  v_status := hazina.qr_code_effective_status(v_code);
  v_state := hazina.qr_code_subject_state(v_code);
  select coalesce((select a.business_name from public.merchant_applications a
                    where a.user_id = v_code.merchant_id and a.status = 'approved' order by a.created_at desc limit 1),
                  nullif(btrim(u.name), ''), 'Merchant')
    into v_name from public.auth_users u where u.id = v_code.merchant_id;
  if v_status <> 'active' or v_state in ('paid', 'closed') then
    v_result := jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name);
    if v_state is not null then
      v_result := v_result || jsonb_build_object('kind', v_code.kind, 'subject_state', v_state);
    end if;
    return v_result;
  end if;
  select minor_units into v_minor from public.currencies where code = v_code.currency;
  v_amount := case v_code.kind
    when 'invoice' then (select amount_due from public.invoices where id = v_code.invoice_id)
    when 'order' then (select p.amount from public.orders o join public.payment_intents p on p.id = o.payment_intent_id
                        where o.id = v_code.order_id)
    when 'intent' then (select amount from public.payment_intents where id = v_code.payment_intent_id)
    else v_code.amount end;
  v_result := jsonb_build_object('object', 'qr_checkout', 'slug', v_code.slug, 'status', v_status, 'merchant_name', v_name,
                                 'kind', v_code.kind, 'label', v_code.label,
                                 'amount', round(v_amount, v_minor)::text, 'currency', v_code.currency, 'minor_units', v_minor);
  if v_state is not null then
    v_result := v_result || jsonb_build_object('subject_state', v_state);
  end if;
  if v_code.kind = 'invoice' then
    select * into v_invoice from public.invoices where id = v_code.invoice_id;
    v_result := v_result || jsonb_build_object('invoice_number', v_invoice.number,
                                               'allow_partial_payment', v_invoice.allow_partial_payment);
  end if;
  return v_result;
end
$_$;


--
-- Name: qr_code_update(uuid, text, timestamp with time zone, boolean, integer, boolean, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.qr_code_update(p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.qr_code_update(hazina.caller_id(), p_id, p_label, p_expires_at, p_clear_expiry, p_max_uses,
                                      p_clear_max_uses, p_status) $$;


--
-- Name: quote_fee(text, numeric, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.quote_fee(p_transaction_type text, p_amount numeric, p_currency text DEFAULT 'KES'::text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: session_end(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.session_end(p_session_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return hazina.session_revoke(hazina.caller_id(), p_session_id, 'revoked_by_user');
end
$$;


--
-- Name: session_logout(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.session_logout(p_scope text DEFAULT 'local'::text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_uid uuid := hazina.caller_id();
  v_session text := auth.jwt() ->> 'session_id';
  v_current uuid;
begin
  if v_session ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_current := v_session::uuid;
  end if;
  case coalesce(p_scope, 'local')
    when 'global' then return hazina.session_revoke_all(v_uid, 'logout_global');
    when 'others' then return hazina.session_revoke_all(v_uid, 'logout_others', v_current);
    when 'local' then
      -- A login Hazina does not know (purged, or a Supabase Auth session) has nothing to end.
      if v_current is null or not exists (select 1 from public.auth_sessions
                                           where user_id = v_uid and family_id = v_current) then
        return 0;
      end if;
      return hazina.session_revoke(v_uid, v_current, 'logout');
    else
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'scope', 'expected', 'local, others or global'));
  end case;
  return 0;
end
$_$;


--
-- Name: shop_create(text, text, text, text, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.shop_create(p_name text, p_slug text, p_currency text DEFAULT 'KES'::text, p_escrow_policy text DEFAULT 'optional'::text, p_auto_release_days integer DEFAULT 7, p_description text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.shop_create(hazina.caller_id(), p_name, p_slug, p_currency, p_escrow_policy, p_auto_release_days,
                                  p_description) $$;


--
-- Name: shop_installment_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_installment_settings (
    shop_id uuid NOT NULL,
    allowed boolean DEFAULT false NOT NULL,
    max_count smallint DEFAULT 12 NOT NULL,
    intervals text[] DEFAULT ARRAY['day'::text, 'week'::text, 'month'::text] NOT NULL,
    min_deposit_bps integer DEFAULT 0 NOT NULL,
    grace_days smallint DEFAULT 3 NOT NULL,
    late_fee_enabled boolean DEFAULT true NOT NULL,
    cancellation_fee_bps integer DEFAULT 0 NOT NULL,
    cancellation_fee_fixed numeric(19,4) DEFAULT 0 NOT NULL,
    missed_payments_to_default smallint DEFAULT 2 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT shop_installment_settings_cancellation_fee_bps_check CHECK (((cancellation_fee_bps >= 0) AND (cancellation_fee_bps <= 10000))),
    CONSTRAINT shop_installment_settings_cancellation_fee_fixed_check CHECK ((cancellation_fee_fixed >= (0)::numeric)),
    CONSTRAINT shop_installment_settings_grace_days_check CHECK (((grace_days >= 0) AND (grace_days <= 60))),
    CONSTRAINT shop_installment_settings_intervals_check CHECK (((intervals <@ ARRAY['day'::text, 'week'::text, 'month'::text]) AND (cardinality(intervals) >= 1))),
    CONSTRAINT shop_installment_settings_max_count_check CHECK (((max_count >= 1) AND (max_count <= 366))),
    CONSTRAINT shop_installment_settings_min_deposit_bps_check CHECK (((min_deposit_bps >= 0) AND (min_deposit_bps <= 10000))),
    CONSTRAINT shop_installment_settings_missed_payments_to_default_check CHECK (((missed_payments_to_default >= 1) AND (missed_payments_to_default <= 366)))
);


--
-- Name: shop_installment_settings_json(public.shop_installment_settings); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.shop_installment_settings_json(s public.shop_installment_settings) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select jsonb_build_object('object', 'shop_installment_settings', 'shop_id', s.shop_id, 'allowed', s.allowed,
                            'max_count', s.max_count, 'intervals', to_jsonb(s.intervals),
                            'min_deposit_bps', s.min_deposit_bps, 'grace_days', s.grace_days,
                            'late_fee_enabled', s.late_fee_enabled, 'late_fee_transaction_type', 'installment_late_fee',
                            'cancellation_fee_bps', s.cancellation_fee_bps,
                            'cancellation_fee_fixed', s.cancellation_fee_fixed::text,
                            'max_cancellation_fee_bps', (select max_cancellation_fee_bps from hazina.installment_limits),
                            'missed_payments_to_default', s.missed_payments_to_default,
                            'updated_at', public.api_time(s.updated_at))
$$;


--
-- Name: shop_installment_settings_set(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.shop_installment_settings_set(p_shop_id uuid, p_settings jsonb) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.shop_installment_settings_set(p_shop_id, hazina.caller_id(), p_settings) $$;


--
-- Name: shop_json(public.shops); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.shop_json(s public.shops) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', s.id, 'object', 'shop', 'merchant_id', s.merchant_id, 'name', s.name, 'slug', s.slug,
                            'description', s.description, 'currency', s.currency, 'status', s.status,
                            'escrow_policy', s.escrow_policy, 'auto_release_days', s.auto_release_days,
                            'created_at', public.api_time(s.created_at), 'updated_at', public.api_time(s.updated_at))
$$;


--
-- Name: shop_update(uuid, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.shop_update(p_shop_id uuid, p_patch jsonb) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.shop_update(hazina.caller_id(), p_shop_id, p_patch) $$;


--
-- Name: transfer(uuid, uuid, numeric, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.transfer(p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_ref text, p_description text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_auth record;
begin
  select * into v_auth from hazina.transfer_authorize(p_from_wallet, p_to_wallet, p_ref, p_description);
  return hazina.transfer(v_auth.ref, p_from_wallet, p_to_wallet, p_amount, v_auth.transaction_type,
                         p_description, v_auth.metadata)
         || jsonb_build_object('ref', p_ref);
end
$$;


--
-- Name: transfer_batch(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.transfer_batch(p_items jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_uid uuid := hazina.caller_id();
  v_prepared jsonb;
  v_results jsonb;
begin
  if jsonb_typeof(p_items) is distinct from 'array' or jsonb_array_length(p_items) not between 1 and 1000 then
    perform hazina.raise_error('invalid_entries', jsonb_build_object('reason', 'items must be an array of 1 to 1000 transfers'));
  end if;
  if exists (select 1 from jsonb_array_elements(p_items) i
              where jsonb_typeof(i) <> 'object' or coalesce(length(i ->> 'ref'), 0) not between 1 and 200) then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'every item needs a ref of 1 to 200 characters'));
  end if;
  -- Rewrite each item: namespaced ref, transfer type from the destination, and a
  -- deliberately unknown source wallet when the caller may not spend from it.
  select jsonb_agg(
           jsonb_build_object(
             'ref', 'transfer:' || v_uid || ':' || (i ->> 'ref'),
             'from_wallet_id', case when f.id is not null and t.kind <> 'system' then f.id::text
                                    else '00000000-0000-0000-0000-000000000000' end,
             'to_wallet_id', i ->> 'to_wallet_id',
             'amount', i -> 'amount',
             'transaction_type', case t.kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end,
             'description', i -> 'description',
             'metadata', jsonb_build_object('initiated_by', v_uid))
           order by n)
    into v_prepared
    from jsonb_array_elements(p_items) with ordinality as x(i, n)
    left join public.wallets f
      on f.id::text = i ->> 'from_wallet_id' and f.user_id = v_uid
    left join public.wallets t
      on t.id::text = i ->> 'to_wallet_id';
  v_results := hazina.transfer_batch(v_prepared);
  -- Give the caller back its own refs.
  select jsonb_agg(r || jsonb_build_object('ref', p_items -> (r ->> 'index')::int ->> 'ref') order by (r ->> 'index')::int)
    into v_results
    from jsonb_array_elements(v_results) r;
  return v_results;
end
$$;


--
-- Name: wallet_open(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.wallet_open(p_currency text DEFAULT 'KES'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_uid uuid := hazina.caller_id();
  v_role text;
  v_wallet_id uuid;
  v_created boolean := false;
begin
  if not exists (select 1 from public.currencies where code = p_currency) then
    perform hazina.raise_error('currency_not_supported', jsonb_build_object('currency', p_currency));
  end if;
  select role into v_role from public.auth_users where id = v_uid and status = 'active';
  if v_role is null then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'user is not active'));
  end if;
  insert into public.wallets (user_id, kind, currency, credit_buckets)
  values (v_uid, case v_role when 'merchant' then 'merchant' else 'user' end, p_currency,
          case v_role when 'merchant' then 8 else 1 end)
  on conflict (user_id, currency) where user_id is not null do nothing
  returning id into v_wallet_id;
  if v_wallet_id is not null then
    v_created := true;
    insert into public.wallet_balance_buckets (wallet_id, bucket)
    select v_wallet_id, b from generate_series(0, case v_role when 'merchant' then 7 else 0 end) b
     where v_role = 'merchant';
  else
    select id into v_wallet_id from public.wallets where user_id = v_uid and currency = p_currency;
  end if;
  return hazina.wallet_json(v_wallet_id) || jsonb_build_object('created', v_created);
end
$$;


--
-- Name: wallet_paybill_reference(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.wallet_paybill_reference(p_currency text DEFAULT 'KES'::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: wallet_source_add(text, text, text, text, text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.wallet_source_add(p_provider text, p_msisdn text DEFAULT NULL::text, p_account_number text DEFAULT NULL::text, p_account_name text DEFAULT NULL::text, p_label text DEFAULT NULL::text, p_is_default boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return hazina.wallet_source_add(hazina.caller_id(), p_provider, p_msisdn, p_account_number, p_account_name, p_label, p_is_default);
end
$$;


--
-- Name: wallet_sources; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_sources (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    provider public.payment_provider NOT NULL,
    kind text GENERATED ALWAYS AS (
CASE provider
    WHEN 'mpesa'::text THEN 'mobile_money'::text
    ELSE 'bank_account'::text
END) STORED NOT NULL,
    msisdn text,
    account_number text,
    account_name text,
    label text,
    is_default boolean DEFAULT false NOT NULL,
    verification_status text DEFAULT 'unverified'::text NOT NULL,
    verified_at timestamp with time zone,
    status text DEFAULT 'active'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT wallet_sources_account_name_check CHECK (((length(account_name) >= 1) AND (length(account_name) <= 200))),
    CONSTRAINT wallet_sources_account_number_check CHECK ((account_number ~ '^[0-9]{6,20}$'::text)),
    CONSTRAINT wallet_sources_identifier CHECK (
CASE provider
    WHEN 'mpesa'::text THEN ((msisdn IS NOT NULL) AND (account_number IS NULL))
    ELSE ((account_number IS NOT NULL) AND (msisdn IS NULL))
END),
    CONSTRAINT wallet_sources_label_check CHECK (((length(label) >= 1) AND (length(label) <= 60))),
    CONSTRAINT wallet_sources_msisdn_check CHECK ((msisdn ~ '^254(7|1)[0-9]{8}$'::text)),
    CONSTRAINT wallet_sources_status_check CHECK ((status = ANY (ARRAY['active'::text, 'removed'::text]))),
    CONSTRAINT wallet_sources_verification_status_check CHECK ((verification_status = ANY (ARRAY['unverified'::text, 'verified'::text, 'failed'::text]))),
    CONSTRAINT wallet_sources_verified_at CHECK (((verification_status = 'verified'::text) = (verified_at IS NOT NULL)))
);


--
-- Name: wallet_source_json(public.wallet_sources); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.wallet_source_json(s public.wallet_sources) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', s.id, 'provider', s.provider, 'kind', s.kind, 'msisdn', s.msisdn,
                            'account_number', s.account_number, 'account_name', s.account_name, 'label', s.label,
                            'is_default', s.is_default, 'verification_status', s.verification_status,
                            'status', s.status, 'created_at', public.api_time(s.created_at),
                            'updated_at', public.api_time(s.updated_at))
$$;


--
-- Name: wallet_source_remove(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.wallet_source_remove(p_source_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    event_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempt_count integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_response_status integer,
    last_error text,
    lease_owner text,
    leased_until timestamp with time zone,
    redelivery_count integer DEFAULT 0 NOT NULL,
    succeeded_at timestamp with time zone,
    failed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_deliveries_attempt_count_check CHECK (((attempt_count >= 0) AND (attempt_count <= 8))),
    CONSTRAINT webhook_deliveries_last_error_check CHECK ((length(last_error) <= 500)),
    CONSTRAINT webhook_deliveries_last_response_status_check CHECK (((last_response_status >= 100) AND (last_response_status <= 599))),
    CONSTRAINT webhook_deliveries_lease_owner_check CHECK ((length(lease_owner) <= 100)),
    CONSTRAINT webhook_deliveries_state CHECK ((((status = 'pending'::text) AND (next_attempt_at IS NOT NULL) AND (lease_owner IS NULL)) OR ((status = 'delivering'::text) AND (lease_owner IS NOT NULL) AND (leased_until IS NOT NULL)) OR ((status = 'succeeded'::text) AND (succeeded_at IS NOT NULL) AND (lease_owner IS NULL)) OR ((status = 'failed'::text) AND (failed_at IS NOT NULL) AND (lease_owner IS NULL)))),
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivering'::text, 'succeeded'::text, 'failed'::text])))
);


--
-- Name: webhook_delivery_json(public.webhook_deliveries); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.webhook_delivery_json(d public.webhook_deliveries) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', d.id, 'object', 'webhook_delivery', 'event_id', d.event_id,
                            'endpoint_id', d.endpoint_id,
                            'event_type', (select e.type from public.events e where e.id = d.event_id),
                            'status', d.status, 'attempt_count', d.attempt_count,
                            'next_attempt_at', case when d.status = 'pending' then public.api_time(d.next_attempt_at) end,
                            'last_attempt_at', public.api_time(d.last_attempt_at),
                            'last_response_status', d.last_response_status, 'last_error', d.last_error,
                            'redelivery_count', d.redelivery_count,
                            'succeeded_at', public.api_time(d.succeeded_at), 'failed_at', public.api_time(d.failed_at),
                            'attempts', coalesce((select jsonb_agg(jsonb_build_object(
                                'attempt_number', a.attempt_number, 'response_status', a.response_status,
                                'error', a.error, 'duration_ms', a.duration_ms, 'applied', a.applied,
                                'created_at', public.api_time(a.created_at)) order by a.attempt_number)
                              from public.webhook_delivery_attempts a where a.delivery_id = d.id), '[]'::jsonb),
                            'created_at', public.api_time(d.created_at), 'updated_at', public.api_time(d.updated_at))
$$;


--
-- Name: webhook_endpoint_create(text, text[], text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.webhook_endpoint_create(p_url text, p_events text[], p_description text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.webhook_endpoint_create(hazina.caller_id(), p_url, p_events, p_description, p_client_ref) $$;


--
-- Name: webhook_endpoint_disable(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.webhook_endpoint_disable(p_endpoint_id uuid) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.webhook_endpoint_disable(p_endpoint_id, hazina.caller_id()) $$;


--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    url text NOT NULL,
    events text[] NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    description text,
    client_ref text NOT NULL,
    disabled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoints_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT webhook_endpoints_description_check CHECK ((length(description) <= 500)),
    CONSTRAINT webhook_endpoints_disabled_at CHECK (((status = 'disabled'::text) = (disabled_at IS NOT NULL))),
    CONSTRAINT webhook_endpoints_events_check CHECK (hazina.webhook_event_filter_valid(events)),
    CONSTRAINT webhook_endpoints_status_check CHECK ((status = ANY (ARRAY['active'::text, 'disabled'::text]))),
    CONSTRAINT webhook_endpoints_url_check CHECK (((url ~ '^https?://[^\s/?#]+'::text) AND (length(url) <= 2048)))
);


--
-- Name: webhook_endpoint_json(public.webhook_endpoints); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.webhook_endpoint_json(e public.webhook_endpoints) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', e.id, 'object', 'webhook_endpoint', 'url', e.url, 'events', to_jsonb(e.events),
                            'status', e.status, 'description', e.description,
                            'disabled_at', public.api_time(e.disabled_at),
                            'created_at', public.api_time(e.created_at), 'updated_at', public.api_time(e.updated_at))
$$;


--
-- Name: withdrawal_cancel(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.withdrawal_cancel(p_withdrawal_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  return hazina.withdrawal_cancel(p_withdrawal_id, hazina.caller_id());
end
$$;


--
-- Name: wallet_withdrawals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_withdrawals (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    wallet_id uuid NOT NULL,
    source_id uuid,
    provider public.payment_provider NOT NULL,
    amount numeric(19,4) NOT NULL,
    fee numeric(19,4) DEFAULT 0 NOT NULL,
    currency character(3) NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    client_ref text,
    hold_id uuid NOT NULL,
    transaction_id uuid,
    settlement_transaction_id uuid,
    reversal_transaction_id uuid,
    provider_request_id text NOT NULL,
    provider_conversation_id text,
    provider_receipt text,
    failure_code text,
    failure_reason text,
    submitted_at timestamp with time zone,
    expires_at timestamp with time zone NOT NULL,
    check_count integer DEFAULT 0 NOT NULL,
    last_checked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    msisdn text,
    CONSTRAINT wallet_withdrawals_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT wallet_withdrawals_check_count_check CHECK ((check_count >= 0)),
    CONSTRAINT wallet_withdrawals_client_ref_check CHECK (((length(client_ref) >= 1) AND (length(client_ref) <= 255))),
    CONSTRAINT wallet_withdrawals_completed_posted CHECK (((status = ANY (ARRAY['completed'::text, 'reversed'::text])) = ((transaction_id IS NOT NULL) AND (settlement_transaction_id IS NOT NULL)))),
    CONSTRAINT wallet_withdrawals_destination CHECK (((source_id IS NULL) <> (msisdn IS NULL))),
    CONSTRAINT wallet_withdrawals_failure_code_check CHECK ((length(failure_code) <= 100)),
    CONSTRAINT wallet_withdrawals_failure_reason_check CHECK ((length(failure_reason) <= 500)),
    CONSTRAINT wallet_withdrawals_fee_check CHECK ((fee >= (0)::numeric)),
    CONSTRAINT wallet_withdrawals_msisdn_check CHECK ((msisdn ~ '^254[17][0-9]{8}$'::text)),
    CONSTRAINT wallet_withdrawals_msisdn_mpesa CHECK (((msisdn IS NULL) OR ((provider)::text = 'mpesa'::text))),
    CONSTRAINT wallet_withdrawals_processing_submitted CHECK (((status <> ALL (ARRAY['processing'::text, 'completed'::text])) OR (submitted_at IS NOT NULL))),
    CONSTRAINT wallet_withdrawals_provider_conversation_id_check CHECK ((length(provider_conversation_id) <= 255)),
    CONSTRAINT wallet_withdrawals_provider_receipt_check CHECK ((length(provider_receipt) <= 255)),
    CONSTRAINT wallet_withdrawals_provider_request_id_check CHECK ((length(provider_request_id) <= 255)),
    CONSTRAINT wallet_withdrawals_reversed_posted CHECK (((status = 'reversed'::text) = (reversal_transaction_id IS NOT NULL))),
    CONSTRAINT wallet_withdrawals_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'processing'::text, 'completed'::text, 'failed'::text, 'reversed'::text, 'cancelled'::text])))
);


--
-- Name: withdrawal_json(public.wallet_withdrawals); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.withdrawal_json(w public.wallet_withdrawals) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select jsonb_build_object('id', w.id, 'wallet_id', w.wallet_id, 'source_id', w.source_id, 'provider', w.provider,
                            'amount', w.amount::text, 'fee', w.fee::text, 'currency', w.currency, 'status', w.status,
                            'hold_id', w.hold_id, 'transaction_id', w.transaction_id,
                            'provider_request_id', w.provider_request_id,
                            'provider_conversation_id', w.provider_conversation_id,
                            'provider_receipt', w.provider_receipt, 'failure_code', w.failure_code,
                            'failure_reason', w.failure_reason, 'submitted', w.submitted_at is not null,
                            'created_at', public.api_time(w.created_at), 'updated_at', public.api_time(w.updated_at),
                            'completed_at', public.api_time(w.completed_at))
$$;


--
-- Name: withdrawal_request(uuid, numeric, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$ select hazina.withdrawal_request(hazina.caller_id(), p_source_id, p_amount, p_currency, p_client_ref) $$;


--
-- Name: schema_migrations; Type: TABLE; Schema: dbmate; Owner: -
--

CREATE TABLE dbmate.schema_migrations (
    version character varying(128) NOT NULL
);


--
-- Name: clock_offset; Type: TABLE; Schema: hazina; Owner: -
--

CREATE TABLE hazina.clock_offset (
    id boolean DEFAULT true NOT NULL,
    "offset" interval DEFAULT '00:00:00'::interval NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT clock_offset_id_check CHECK (id)
);


--
-- Name: escrow_obligations; Type: VIEW; Schema: hazina; Owner: -
--

CREATE VIEW hazina.escrow_obligations AS
 SELECT e.currency,
    'goods_escrow'::text AS subject_type,
    e.id AS subject_id,
    ((e.amount - e.released_amount) - e.refunded_amount) AS amount
   FROM public.goods_escrows e
  WHERE (((e.amount - e.released_amount) - e.refunded_amount) <> (0)::numeric)
UNION ALL
 SELECT i.currency,
    'installment'::text AS subject_type,
    i.id AS subject_id,
    i.amount_paid AS amount
   FROM public.installments i
  WHERE ((i.status = 'active'::text) AND (i.amount_paid <> (0)::numeric));


--
-- Name: installment_limits; Type: TABLE; Schema: hazina; Owner: -
--

CREATE TABLE hazina.installment_limits (
    id boolean DEFAULT true NOT NULL,
    max_count smallint DEFAULT 52 NOT NULL,
    max_cancellation_fee_bps integer DEFAULT 1500 NOT NULL,
    reminder_lead interval DEFAULT '1 day'::interval NOT NULL,
    CONSTRAINT installment_limits_id_check CHECK (id),
    CONSTRAINT installment_limits_max_cancellation_fee_bps_check CHECK (((max_cancellation_fee_bps >= 0) AND (max_cancellation_fee_bps <= 10000))),
    CONSTRAINT installment_limits_max_count_check CHECK (((max_count >= 1) AND (max_count <= 366))),
    CONSTRAINT installment_limits_reminder_lead_check CHECK ((reminder_lead >= '00:00:00'::interval))
);


--
-- Name: jobs; Type: TABLE; Schema: hazina; Owner: -
--

CREATE TABLE hazina.jobs (
    name text NOT NULL,
    runs_in text NOT NULL,
    function text,
    every interval NOT NULL,
    batch_size integer NOT NULL,
    exclusive boolean DEFAULT false NOT NULL,
    description text NOT NULL,
    CONSTRAINT jobs_batch_size_check CHECK (((batch_size >= 1) AND (batch_size <= 100000))),
    CONSTRAINT jobs_database_jobs_name_a_function CHECK (((runs_in = 'database'::text) = (function IS NOT NULL))),
    CONSTRAINT jobs_every_check CHECK ((every >= '00:00:01'::interval)),
    CONSTRAINT jobs_function_check CHECK ((function ~ '^hazina\.[a-z_][a-z0-9_]*$'::text)),
    CONSTRAINT jobs_name_check CHECK (((name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'::text) AND (length(name) <= 60))),
    CONSTRAINT jobs_runs_in_check CHECK ((runs_in = ANY (ARRAY['database'::text, 'edge'::text])))
);


--
-- Name: reconciliation_checks; Type: TABLE; Schema: hazina; Owner: -
--

CREATE TABLE hazina.reconciliation_checks (
    check_function regprocedure NOT NULL,
    description text NOT NULL,
    CONSTRAINT reconciliation_checks_description_check CHECK (((length(description) >= 1) AND (length(description) <= 500)))
);


--
-- Name: webhook_endpoint_secrets; Type: TABLE; Schema: hazina; Owner: -
--

CREATE TABLE hazina.webhook_endpoint_secrets (
    endpoint_id uuid NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoint_secrets_secret_check CHECK ((secret ~ '^whsec_[A-Za-z0-9+/]{32}$'::text))
);


--
-- Name: audit_logs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_logs (
    id bigint NOT NULL,
    actor_id uuid,
    actor_role text,
    action text NOT NULL,
    table_name text NOT NULL,
    row_id text,
    old_values jsonb,
    new_values jsonb,
    request_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_logs_action_check CHECK ((action = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text])))
);


--
-- Name: audit_logs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: auth_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_accounts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    provider text NOT NULL,
    provider_account_id text NOT NULL,
    access_token text,
    refresh_token text,
    id_token text,
    expires_at timestamp with time zone,
    scope text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_accounts_provider_account_id_check CHECK ((length(provider_account_id) <= 255)),
    CONSTRAINT auth_accounts_provider_check CHECK ((provider ~ '^[a-z0-9_-]{1,40}$'::text))
);


--
-- Name: auth_users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    email_verified_at timestamp with time zone,
    password_hash text,
    name text,
    phone text,
    role text DEFAULT 'customer'::text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    failed_login_count integer DEFAULT 0 NOT NULL,
    locked_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_users_email_check CHECK (((email = lower(email)) AND (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text) AND (length(email) <= 254))),
    CONSTRAINT auth_users_failed_login_count_check CHECK ((failed_login_count >= 0)),
    CONSTRAINT auth_users_name_check CHECK ((length(name) <= 200)),
    CONSTRAINT auth_users_phone_check CHECK ((phone ~ '^\+[1-9][0-9]{6,14}$'::text)),
    CONSTRAINT auth_users_role_check CHECK ((role = ANY (ARRAY['customer'::text, 'merchant'::text, 'admin'::text]))),
    CONSTRAINT auth_users_status_check CHECK ((status = ANY (ARRAY['active'::text, 'locked'::text, 'disabled'::text])))
);


--
-- Name: auth_verification_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_verification_token (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    purpose text NOT NULL,
    token_hash text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    consumed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_verification_token_purpose_check CHECK ((purpose = ANY (ARRAY['email_verification'::text, 'password_reset'::text])))
);


--
-- Name: billing_fee_catalog; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_fee_catalog (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    transaction_type text NOT NULL,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    percentage_bps integer DEFAULT 0 NOT NULL,
    fixed_amount numeric(19,4) DEFAULT 0 NOT NULL,
    minimum_amount numeric(19,4) DEFAULT 0 NOT NULL,
    maximum_amount numeric(19,4),
    active_from timestamp with time zone DEFAULT now() NOT NULL,
    active_to timestamp with time zone,
    description text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT billing_fee_catalog_check CHECK ((maximum_amount >= minimum_amount)),
    CONSTRAINT billing_fee_catalog_check1 CHECK ((active_to > active_from)),
    CONSTRAINT billing_fee_catalog_escrow_funding_unpriced CHECK ((transaction_type <> 'escrow_funding'::text)),
    CONSTRAINT billing_fee_catalog_fixed_amount_check CHECK ((fixed_amount >= (0)::numeric)),
    CONSTRAINT billing_fee_catalog_minimum_amount_check CHECK ((minimum_amount >= (0)::numeric)),
    CONSTRAINT billing_fee_catalog_percentage_bps_check CHECK (((percentage_bps >= 0) AND (percentage_bps <= 10000)))
);


--
-- Name: currencies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.currencies (
    code character(3) NOT NULL,
    minor_units smallint NOT NULL,
    name text NOT NULL,
    CONSTRAINT currencies_code_check CHECK ((code ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT currencies_minor_units_check CHECK (((minor_units >= 0) AND (minor_units <= 4)))
);


--
-- Name: invoice_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invoice_items (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    invoice_id uuid NOT NULL,
    "position" smallint NOT NULL,
    description text NOT NULL,
    quantity numeric(19,4) NOT NULL,
    unit_amount numeric(19,4) NOT NULL,
    tax_rate integer DEFAULT 0 NOT NULL,
    subtotal numeric(19,4) NOT NULL,
    tax numeric(19,4) NOT NULL,
    total numeric(19,4) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoice_items_check CHECK ((total = (subtotal + tax))),
    CONSTRAINT invoice_items_description_check CHECK (((length(description) >= 1) AND (length(description) <= 500))),
    CONSTRAINT invoice_items_position_check CHECK ((("position" >= 1) AND ("position" <= 100))),
    CONSTRAINT invoice_items_quantity_check CHECK (((quantity > (0)::numeric) AND (quantity < '1000000000'::numeric))),
    CONSTRAINT invoice_items_subtotal_check CHECK ((subtotal >= (0)::numeric)),
    CONSTRAINT invoice_items_tax_check CHECK ((tax >= (0)::numeric)),
    CONSTRAINT invoice_items_tax_rate_check CHECK (((tax_rate >= 0) AND (tax_rate <= 10000))),
    CONSTRAINT invoice_items_unit_amount_check CHECK (((unit_amount >= (0)::numeric) AND (unit_amount < '10000000000000'::numeric)))
);


--
-- Name: job_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_runs (
    name text NOT NULL,
    run_count bigint DEFAULT 0 NOT NULL,
    error_count bigint DEFAULT 0 NOT NULL,
    last_started_at timestamp with time zone,
    last_finished_at timestamp with time zone,
    last_status text,
    last_report jsonb,
    last_error text,
    last_error_at timestamp with time zone,
    CONSTRAINT job_runs_last_status_check CHECK ((last_status = ANY (ARRAY['succeeded'::text, 'failed'::text, 'skipped'::text])))
);


--
-- Name: merchant_applications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.merchant_applications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    business_name text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    decided_by uuid,
    decided_at timestamp with time zone,
    decision_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT merchant_applications_business_name_check CHECK (((length(btrim(business_name)) >= 1) AND (length(btrim(business_name)) <= 200))),
    CONSTRAINT merchant_applications_decided CHECK (((status = 'pending'::text) = (decided_at IS NULL))),
    CONSTRAINT merchant_applications_decision_reason_check CHECK ((length(decision_reason) <= 500)),
    CONSTRAINT merchant_applications_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'approved'::text, 'rejected'::text])))
);


--
-- Name: merchant_fee_profiles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.merchant_fee_profiles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    merchant_id uuid NOT NULL,
    transaction_type text NOT NULL,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    waived boolean DEFAULT false NOT NULL,
    percentage_bps integer DEFAULT 0 NOT NULL,
    fixed_amount numeric(19,4) DEFAULT 0 NOT NULL,
    minimum_amount numeric(19,4) DEFAULT 0 NOT NULL,
    maximum_amount numeric(19,4),
    active_from timestamp with time zone DEFAULT now() NOT NULL,
    active_to timestamp with time zone,
    note text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT merchant_fee_profiles_check CHECK ((maximum_amount >= minimum_amount)),
    CONSTRAINT merchant_fee_profiles_check1 CHECK ((active_to > active_from)),
    CONSTRAINT merchant_fee_profiles_escrow_funding_unpriced CHECK ((transaction_type <> 'escrow_funding'::text)),
    CONSTRAINT merchant_fee_profiles_fixed_amount_check CHECK ((fixed_amount >= (0)::numeric)),
    CONSTRAINT merchant_fee_profiles_minimum_amount_check CHECK ((minimum_amount >= (0)::numeric)),
    CONSTRAINT merchant_fee_profiles_percentage_bps_check CHECK (((percentage_bps >= 0) AND (percentage_bps <= 10000)))
);


--
-- Name: order_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_items (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    order_id uuid NOT NULL,
    "position" smallint NOT NULL,
    product_id uuid NOT NULL,
    name text NOT NULL,
    sku text NOT NULL,
    unit_price numeric(19,4) NOT NULL,
    quantity integer NOT NULL,
    line_total numeric(19,4) NOT NULL,
    refunded_quantity integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT order_items_check CHECK (((refunded_quantity >= 0) AND (refunded_quantity <= quantity))),
    CONSTRAINT order_items_line_total CHECK ((line_total = (unit_price * (quantity)::numeric))),
    CONSTRAINT order_items_line_total_check CHECK ((line_total > (0)::numeric)),
    CONSTRAINT order_items_position_check CHECK ((("position" >= 1) AND ("position" <= 50))),
    CONSTRAINT order_items_quantity_check CHECK (((quantity >= 1) AND (quantity <= 10000))),
    CONSTRAINT order_items_unit_price_check CHECK ((unit_price > (0)::numeric))
);


--
-- Name: payment_idempotency; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_idempotency (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    owner_id text NOT NULL,
    client_key text NOT NULL,
    idempotency_key text GENERATED ALWAYS AS (((owner_id || '/'::text) || client_key)) STORED,
    scope text NOT NULL,
    request_hash text NOT NULL,
    status text DEFAULT 'in_progress'::text NOT NULL,
    response_status integer,
    response_body jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_until timestamp with time zone DEFAULT (now() + '00:01:00'::interval) NOT NULL,
    completed_at timestamp with time zone,
    expires_at timestamp with time zone DEFAULT (now() + '24:00:00'::interval) NOT NULL,
    CONSTRAINT payment_idempotency_client_key_check CHECK ((client_key ~ '^[A-Za-z0-9_.:-]{8,255}$'::text)),
    CONSTRAINT payment_idempotency_completed_has_response CHECK (((status = 'completed'::text) = ((response_status IS NOT NULL) AND (completed_at IS NOT NULL)))),
    CONSTRAINT payment_idempotency_owner_id_check CHECK (((length(owner_id) >= 1) AND (length(owner_id) <= 100))),
    CONSTRAINT payment_idempotency_response_status_check CHECK (((response_status >= 100) AND (response_status <= 599))),
    CONSTRAINT payment_idempotency_scope_check CHECK ((length(scope) <= 200)),
    CONSTRAINT payment_idempotency_status_check CHECK ((status = ANY (ARRAY['in_progress'::text, 'completed'::text])))
);


--
-- Name: payment_intent_parts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_intent_parts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    payment_intent_id uuid NOT NULL,
    "position" smallint NOT NULL,
    type text NOT NULL,
    wallet_id uuid,
    amount numeric(19,4) NOT NULL,
    hold_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    attempt integer NOT NULL,
    phone text,
    funding_session_id uuid,
    CONSTRAINT payment_intent_parts_amount_check CHECK ((amount > (0)::numeric)),
    CONSTRAINT payment_intent_parts_attempt_check CHECK (((attempt >= 1) AND (attempt <= 1000))),
    CONSTRAINT payment_intent_parts_phone_check CHECK ((phone ~ '^254[17][0-9]{8}$'::text)),
    CONSTRAINT payment_intent_parts_position_check CHECK ((("position" >= 1) AND ("position" <= 10))),
    CONSTRAINT payment_intent_parts_shape CHECK (
CASE type
    WHEN 'wallet'::text THEN ((wallet_id IS NOT NULL) AND (hold_id IS NOT NULL) AND (phone IS NULL) AND (funding_session_id IS NULL))
    ELSE ((phone IS NOT NULL) AND (funding_session_id IS NOT NULL))
END),
    CONSTRAINT payment_intent_parts_type_check CHECK ((type = ANY (ARRAY['wallet'::text, 'mpesa'::text])))
);


--
-- Name: transaction_types; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transaction_types (
    code public.transaction_kind NOT NULL,
    fee_payer text NOT NULL,
    description text NOT NULL,
    CONSTRAINT transaction_types_description_check CHECK (((length(description) >= 1) AND (length(description) <= 300))),
    CONSTRAINT transaction_types_fee_payer_check CHECK ((fee_payer = ANY (ARRAY['sender'::text, 'receiver'::text])))
);


--
-- Name: wallet_account_references; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_account_references (
    reference text NOT NULL,
    wallet_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT wallet_account_references_reference_check CHECK ((reference ~ '^[0-9]{8}$'::text))
);


--
-- Name: wallet_balance_buckets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_balance_buckets (
    wallet_id uuid NOT NULL,
    bucket public.bucket_index NOT NULL,
    balance public.non_negative_amount DEFAULT 0 NOT NULL
)
WITH (fillfactor='70');


--
-- Name: wallets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    system_code public.system_wallet_code,
    kind public.wallet_kind NOT NULL,
    currency character(3) DEFAULT 'KES'::bpchar NOT NULL,
    status public.wallet_status DEFAULT 'active'::text NOT NULL,
    balance numeric(19,4) DEFAULT 0 NOT NULL,
    held public.non_negative_amount DEFAULT 0 NOT NULL,
    credit_buckets public.credit_bucket_count DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT wallets_never_overdrawn CHECK ((((kind)::text = 'system'::text) OR ((balance - (held)::numeric) >= (0)::numeric))),
    CONSTRAINT wallets_owner_matches_kind CHECK (
CASE kind
    WHEN 'system'::text THEN ((user_id IS NULL) AND (system_code IS NOT NULL))
    ELSE ((user_id IS NOT NULL) AND (system_code IS NULL))
END)
)
WITH (fillfactor='70');


--
-- Name: wallet_balances; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.wallet_balances WITH (security_invoker='true') AS
 SELECT w.id AS wallet_id,
    w.user_id,
    w.kind,
    w.system_code,
    w.currency,
    w.status,
    (w.balance + COALESCE(b.pooled, (0)::numeric)) AS balance,
    w.held,
    ((w.balance + COALESCE(b.pooled, (0)::numeric)) - (w.held)::numeric) AS available,
    w.created_at,
    w.updated_at
   FROM (public.wallets w
     LEFT JOIN LATERAL ( SELECT sum((wallet_balance_buckets.balance)::numeric) AS pooled
           FROM public.wallet_balance_buckets
          WHERE (wallet_balance_buckets.wallet_id = w.id)) b ON (true));


--
-- Name: wallet_ledger_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.wallet_ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.wallet_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: wallet_transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_transactions (
    id uuid DEFAULT hazina.uuid_v7() NOT NULL,
    ref public.transaction_ref NOT NULL,
    kind public.transaction_kind NOT NULL,
    description public.description_text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    request_hash text NOT NULL,
    principal_amount public.non_negative_amount NOT NULL,
    currency public.currency_code NOT NULL,
    reverses_id uuid,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: webhook_delivery_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_delivery_attempts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    delivery_id uuid NOT NULL,
    merchant_id uuid NOT NULL,
    attempt_number integer NOT NULL,
    url text NOT NULL,
    worker text NOT NULL,
    response_status integer,
    error text,
    duration_ms integer,
    applied boolean NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_delivery_attempts_attempt_number_check CHECK ((attempt_number >= 1)),
    CONSTRAINT webhook_delivery_attempts_duration_ms_check CHECK ((duration_ms >= 0)),
    CONSTRAINT webhook_delivery_attempts_error_check CHECK ((length(error) <= 500)),
    CONSTRAINT webhook_delivery_attempts_response_status_check CHECK (((response_status >= 100) AND (response_status <= 599))),
    CONSTRAINT webhook_delivery_attempts_worker_check CHECK ((length(worker) <= 100))
);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: dbmate; Owner: -
--

ALTER TABLE ONLY dbmate.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: clock_offset clock_offset_pkey; Type: CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.clock_offset
    ADD CONSTRAINT clock_offset_pkey PRIMARY KEY (id);


--
-- Name: installment_limits installment_limits_pkey; Type: CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.installment_limits
    ADD CONSTRAINT installment_limits_pkey PRIMARY KEY (id);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (name);


--
-- Name: reconciliation_checks reconciliation_checks_pkey; Type: CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.reconciliation_checks
    ADD CONSTRAINT reconciliation_checks_pkey PRIMARY KEY (check_function);


--
-- Name: webhook_endpoint_secrets webhook_endpoint_secrets_pkey; Type: CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.webhook_endpoint_secrets
    ADD CONSTRAINT webhook_endpoint_secrets_pkey PRIMARY KEY (endpoint_id);


--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_user_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_user_id_client_ref_key UNIQUE (user_id, client_ref);


--
-- Name: audit_logs audit_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_logs
    ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id);


--
-- Name: auth_accounts auth_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_pkey PRIMARY KEY (id);


--
-- Name: auth_accounts auth_accounts_provider_provider_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id);


--
-- Name: auth_sessions auth_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_pkey PRIMARY KEY (id);


--
-- Name: auth_sessions auth_sessions_refresh_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_refresh_token_hash_key UNIQUE (refresh_token_hash);


--
-- Name: auth_users auth_users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_users
    ADD CONSTRAINT auth_users_pkey PRIMARY KEY (id);


--
-- Name: auth_verification_token auth_verification_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_pkey PRIMARY KEY (id);


--
-- Name: auth_verification_token auth_verification_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_token_hash_key UNIQUE (token_hash);


--
-- Name: billing_fee_catalog billing_fee_catalog_no_overlap; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_fee_catalog
    ADD CONSTRAINT billing_fee_catalog_no_overlap EXCLUDE USING gist (transaction_type WITH =, currency WITH =, tstzrange(active_from, active_to) WITH &&);


--
-- Name: billing_fee_catalog billing_fee_catalog_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_fee_catalog
    ADD CONSTRAINT billing_fee_catalog_pkey PRIMARY KEY (id);


--
-- Name: billing_ledger billing_ledger_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_ledger
    ADD CONSTRAINT billing_ledger_pkey PRIMARY KEY (ref);


--
-- Name: currencies currencies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.currencies
    ADD CONSTRAINT currencies_pkey PRIMARY KEY (code);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);


--
-- Name: goods_escrows goods_escrows_order_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_order_id_key UNIQUE (order_id);


--
-- Name: goods_escrows goods_escrows_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_pkey PRIMARY KEY (id);


--
-- Name: installment_schedule installment_schedule_installment_id_seq_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installment_schedule
    ADD CONSTRAINT installment_schedule_installment_id_seq_key UNIQUE (installment_id, seq);


--
-- Name: installment_schedule installment_schedule_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installment_schedule
    ADD CONSTRAINT installment_schedule_pkey PRIMARY KEY (id);


--
-- Name: installments installments_customer_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_customer_id_client_ref_key UNIQUE (customer_id, client_ref);


--
-- Name: installments installments_order_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_order_id_key UNIQUE (order_id);


--
-- Name: installments installments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_pkey PRIMARY KEY (id);


--
-- Name: invoice_items invoice_items_invoice_id_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoice_items
    ADD CONSTRAINT invoice_items_invoice_id_position_key UNIQUE (invoice_id, "position");


--
-- Name: invoice_items invoice_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoice_items
    ADD CONSTRAINT invoice_items_pkey PRIMARY KEY (id);


--
-- Name: invoice_sequences invoice_sequences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoice_sequences
    ADD CONSTRAINT invoice_sequences_pkey PRIMARY KEY (merchant_id);


--
-- Name: invoices invoices_merchant_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_merchant_id_client_ref_key UNIQUE (merchant_id, client_ref);


--
-- Name: invoices invoices_merchant_id_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_merchant_id_number_key UNIQUE (merchant_id, number);


--
-- Name: invoices invoices_merchant_id_sequence_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_merchant_id_sequence_number_key UNIQUE (merchant_id, sequence_number);


--
-- Name: invoices invoices_pay_token_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_pay_token_key UNIQUE (pay_token);


--
-- Name: invoices invoices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);


--
-- Name: job_runs job_runs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_runs
    ADD CONSTRAINT job_runs_pkey PRIMARY KEY (name);


--
-- Name: merchant_applications merchant_applications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_applications
    ADD CONSTRAINT merchant_applications_pkey PRIMARY KEY (id);


--
-- Name: merchant_fee_profiles merchant_fee_profiles_no_overlap; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_fee_profiles
    ADD CONSTRAINT merchant_fee_profiles_no_overlap EXCLUDE USING gist (merchant_id WITH =, transaction_type WITH =, currency WITH =, tstzrange(active_from, active_to) WITH &&);


--
-- Name: merchant_fee_profiles merchant_fee_profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_fee_profiles
    ADD CONSTRAINT merchant_fee_profiles_pkey PRIMARY KEY (id);


--
-- Name: order_items order_items_order_id_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_order_id_position_key UNIQUE (order_id, "position");


--
-- Name: order_items order_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_pkey PRIMARY KEY (id);


--
-- Name: orders orders_customer_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_customer_id_client_ref_key UNIQUE (customer_id, client_ref);


--
-- Name: orders orders_payment_intent_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_payment_intent_id_key UNIQUE (payment_intent_id);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


--
-- Name: payment_idempotency payment_idempotency_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_idempotency
    ADD CONSTRAINT payment_idempotency_idempotency_key_key UNIQUE (idempotency_key);


--
-- Name: payment_idempotency payment_idempotency_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_idempotency
    ADD CONSTRAINT payment_idempotency_pkey PRIMARY KEY (id);


--
-- Name: payment_intent_parts payment_intent_parts_attempt_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_attempt_position_key UNIQUE (payment_intent_id, attempt, "position");


--
-- Name: payment_intent_parts payment_intent_parts_funding_session_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_funding_session_id_key UNIQUE (funding_session_id);


--
-- Name: payment_intent_parts payment_intent_parts_hold_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_hold_id_key UNIQUE (hold_id);


--
-- Name: payment_intent_parts payment_intent_parts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_pkey PRIMARY KEY (id);


--
-- Name: payment_intents payment_intents_merchant_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_merchant_id_client_ref_key UNIQUE (merchant_id, client_ref);


--
-- Name: payment_intents payment_intents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_pkey PRIMARY KEY (id);


--
-- Name: payment_refunds payment_refunds_fee_transaction_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_fee_transaction_id_key UNIQUE (fee_transaction_id);


--
-- Name: payment_refunds payment_refunds_merchant_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_merchant_id_client_ref_key UNIQUE (merchant_id, client_ref);


--
-- Name: payment_refunds payment_refunds_payout_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_payout_id_key UNIQUE (payout_id);


--
-- Name: payment_refunds payment_refunds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_pkey PRIMARY KEY (id);


--
-- Name: payment_refunds payment_refunds_transaction_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_transaction_id_key UNIQUE (transaction_id);


--
-- Name: products products_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT products_pkey PRIMARY KEY (id);


--
-- Name: products products_shop_id_sku_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT products_shop_id_sku_key UNIQUE (shop_id, sku);


--
-- Name: qr_codes qr_codes_merchant_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_merchant_id_client_ref_key UNIQUE (merchant_id, client_ref);


--
-- Name: qr_codes qr_codes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_pkey PRIMARY KEY (id);


--
-- Name: qr_codes qr_codes_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_slug_key UNIQUE (slug);


--
-- Name: shop_installment_settings shop_installment_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_installment_settings
    ADD CONSTRAINT shop_installment_settings_pkey PRIMARY KEY (shop_id);


--
-- Name: shops shops_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT shops_pkey PRIMARY KEY (id);


--
-- Name: shops shops_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT shops_slug_key UNIQUE (slug);


--
-- Name: transaction_types transaction_types_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transaction_types
    ADD CONSTRAINT transaction_types_pkey PRIMARY KEY (code);


--
-- Name: wallet_account_references wallet_account_references_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_account_references
    ADD CONSTRAINT wallet_account_references_pkey PRIMARY KEY (reference);


--
-- Name: wallet_account_references wallet_account_references_wallet_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_account_references
    ADD CONSTRAINT wallet_account_references_wallet_id_key UNIQUE (wallet_id);


--
-- Name: wallet_balance_buckets wallet_balance_buckets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_balance_buckets
    ADD CONSTRAINT wallet_balance_buckets_pkey PRIMARY KEY (wallet_id, bucket);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_pkey PRIMARY KEY (id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_user_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_user_id_client_ref_key UNIQUE (user_id, client_ref);


--
-- Name: wallet_holds wallet_holds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_pkey PRIMARY KEY (id);


--
-- Name: wallet_holds wallet_holds_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_ref_key UNIQUE (ref);


--
-- Name: wallet_ledger wallet_ledger_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_ledger
    ADD CONSTRAINT wallet_ledger_pkey PRIMARY KEY (ref);


--
-- Name: wallet_provider_queries wallet_provider_queries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_provider_queries
    ADD CONSTRAINT wallet_provider_queries_pkey PRIMARY KEY (id);


--
-- Name: wallet_provider_queries wallet_provider_queries_provider_originator_conversation_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_provider_queries
    ADD CONSTRAINT wallet_provider_queries_provider_originator_conversation_id_key UNIQUE (provider, originator_conversation_id);


--
-- Name: wallet_sources wallet_sources_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sources
    ADD CONSTRAINT wallet_sources_pkey PRIMARY KEY (id);


--
-- Name: wallet_transactions wallet_transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_transactions
    ADD CONSTRAINT wallet_transactions_pkey PRIMARY KEY (id);


--
-- Name: wallet_transactions wallet_transactions_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_transactions
    ADD CONSTRAINT wallet_transactions_ref_key UNIQUE (ref);


--
-- Name: wallet_webhook_events wallet_webhook_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_webhook_events
    ADD CONSTRAINT wallet_webhook_events_pkey PRIMARY KEY (id);


--
-- Name: wallet_withdrawals wallet_withdrawals_hold_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_hold_id_key UNIQUE (hold_id);


--
-- Name: wallet_withdrawals wallet_withdrawals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_pkey PRIMARY KEY (id);


--
-- Name: wallet_withdrawals wallet_withdrawals_provider_provider_request_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_provider_provider_request_id_key UNIQUE (provider, provider_request_id);


--
-- Name: wallet_withdrawals wallet_withdrawals_user_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_user_id_client_ref_key UNIQUE (user_id, client_ref);


--
-- Name: wallets wallets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallets
    ADD CONSTRAINT wallets_pkey PRIMARY KEY (id);


--
-- Name: webhook_deliveries webhook_deliveries_event_id_endpoint_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_endpoint_id_key UNIQUE (event_id, endpoint_id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_delivery_attempts webhook_delivery_attempts_delivery_id_attempt_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_delivery_attempts
    ADD CONSTRAINT webhook_delivery_attempts_delivery_id_attempt_number_key UNIQUE (delivery_id, attempt_number);


--
-- Name: webhook_delivery_attempts webhook_delivery_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_delivery_attempts
    ADD CONSTRAINT webhook_delivery_attempts_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoints webhook_endpoints_merchant_id_client_ref_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_merchant_id_client_ref_key UNIQUE (merchant_id, client_ref);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);


--
-- Name: api_keys_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_keys_user_idx ON public.api_keys USING btree (user_id, created_at, id);


--
-- Name: audit_logs_actor_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_actor_idx ON public.audit_logs USING btree (actor_id, created_at);


--
-- Name: audit_logs_table_row_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_table_row_idx ON public.audit_logs USING btree (table_name, row_id);


--
-- Name: auth_accounts_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_accounts_user_idx ON public.auth_accounts USING btree (user_id);


--
-- Name: auth_sessions_family_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_sessions_family_idx ON public.auth_sessions USING btree (family_id);


--
-- Name: auth_sessions_parent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_sessions_parent_idx ON public.auth_sessions USING btree (parent_id) WHERE (parent_id IS NOT NULL);


--
-- Name: auth_sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_sessions_user_idx ON public.auth_sessions USING btree (user_id);


--
-- Name: auth_users_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX auth_users_email_key ON public.auth_users USING btree (email);


--
-- Name: auth_users_phone_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_users_phone_idx ON public.auth_users USING btree (phone);


--
-- Name: auth_verification_token_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_verification_token_user_idx ON public.auth_verification_token USING btree (user_id, purpose);


--
-- Name: billing_ledger_payer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX billing_ledger_payer_idx ON public.billing_ledger USING btree (payer_user_id, created_at);


--
-- Name: billing_ledger_refund_of_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX billing_ledger_refund_of_idx ON public.billing_ledger USING btree (refund_of) WHERE (refund_of IS NOT NULL);


--
-- Name: events_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_merchant_idx ON public.events USING btree (merchant_id, created_at, id);


--
-- Name: events_object_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_object_idx ON public.events USING btree (object_id, created_at);


--
-- Name: goods_escrows_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_customer_idx ON public.goods_escrows USING btree (customer_id, created_at, id);


--
-- Name: goods_escrows_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_due_idx ON public.goods_escrows USING btree (auto_release_at) WHERE (status = 'delivered'::text);


--
-- Name: goods_escrows_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_merchant_idx ON public.goods_escrows USING btree (merchant_id, created_at, id);


--
-- Name: goods_escrows_release_tx_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_release_tx_idx ON public.goods_escrows USING btree (release_transaction_id) WHERE (release_transaction_id IS NOT NULL);


--
-- Name: goods_escrows_resolved_by_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_resolved_by_idx ON public.goods_escrows USING btree (resolved_by) WHERE (resolved_by IS NOT NULL);


--
-- Name: goods_escrows_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX goods_escrows_wallet_idx ON public.goods_escrows USING btree (wallet_id);


--
-- Name: installment_schedule_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installment_schedule_due_idx ON public.installment_schedule USING btree (due_at) WHERE (status = ANY (ARRAY['pending'::text, 'late'::text]));


--
-- Name: installment_schedule_intent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installment_schedule_intent_idx ON public.installment_schedule USING btree (paid_intent_id) WHERE (paid_intent_id IS NOT NULL);


--
-- Name: installments_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installments_customer_idx ON public.installments USING btree (customer_id, created_at, id);


--
-- Name: installments_deposit_intent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installments_deposit_intent_idx ON public.installments USING btree (deposit_intent_id) WHERE (deposit_intent_id IS NOT NULL);


--
-- Name: installments_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installments_merchant_idx ON public.installments USING btree (merchant_id, created_at, id);


--
-- Name: installments_shop_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX installments_shop_idx ON public.installments USING btree (shop_id);


--
-- Name: invoices_currency_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invoices_currency_idx ON public.invoices USING btree (currency);


--
-- Name: invoices_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invoices_customer_idx ON public.invoices USING btree (customer_id, created_at, id) WHERE (customer_id IS NOT NULL);


--
-- Name: invoices_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invoices_merchant_idx ON public.invoices USING btree (merchant_id, created_at, id);


--
-- Name: invoices_overdue_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invoices_overdue_idx ON public.invoices USING btree (due_date) WHERE ((status = 'open'::text) AND (overdue_at IS NULL));


--
-- Name: merchant_applications_decided_by_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX merchant_applications_decided_by_idx ON public.merchant_applications USING btree (decided_by);


--
-- Name: merchant_applications_one_open; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX merchant_applications_one_open ON public.merchant_applications USING btree (user_id) WHERE (status = ANY (ARRAY['pending'::text, 'approved'::text]));


--
-- Name: merchant_applications_pending_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX merchant_applications_pending_idx ON public.merchant_applications USING btree (created_at) WHERE (status = 'pending'::text);


--
-- Name: merchant_applications_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX merchant_applications_user_idx ON public.merchant_applications USING btree (user_id, created_at);


--
-- Name: order_items_product_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX order_items_product_idx ON public.order_items USING btree (product_id);


--
-- Name: orders_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_customer_idx ON public.orders USING btree (customer_id, created_at, id);


--
-- Name: orders_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_merchant_idx ON public.orders USING btree (merchant_id, created_at, id);


--
-- Name: orders_shop_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orders_shop_idx ON public.orders USING btree (shop_id, created_at, id);


--
-- Name: payment_idempotency_expiry_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_idempotency_expiry_idx ON public.payment_idempotency USING btree (expires_at);


--
-- Name: payment_idempotency_owner_recent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_idempotency_owner_recent_idx ON public.payment_idempotency USING btree (owner_id, created_at);


--
-- Name: payment_intent_parts_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intent_parts_wallet_idx ON public.payment_intent_parts USING btree (wallet_id);


--
-- Name: payment_intents_capture_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_capture_idx ON public.payment_intents USING btree (capture_transaction_id) WHERE (capture_transaction_id IS NOT NULL);


--
-- Name: payment_intents_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_customer_idx ON public.payment_intents USING btree (customer_id, created_at, id) WHERE (customer_id IS NOT NULL);


--
-- Name: payment_intents_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_due_idx ON public.payment_intents USING btree (expires_at) WHERE (status = ANY (ARRAY['requires_confirmation'::text, 'processing'::text, 'requires_capture'::text]));


--
-- Name: payment_intents_installment_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_installment_idx ON public.payment_intents USING btree (subject_id) WHERE (subject_type = 'installment'::text);


--
-- Name: payment_intents_invoice_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_invoice_idx ON public.payment_intents USING btree (subject_id) WHERE (subject_type = 'invoice'::text);


--
-- Name: payment_intents_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_merchant_idx ON public.payment_intents USING btree (merchant_id, created_at, id);


--
-- Name: payment_intents_payee_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_payee_wallet_idx ON public.payment_intents USING btree (payee_wallet_id);


--
-- Name: payment_intents_qr_code_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_qr_code_id_idx ON public.payment_intents USING btree (qr_code_id) WHERE (qr_code_id IS NOT NULL);


--
-- Name: payment_intents_qr_code_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_intents_qr_code_idx ON public.payment_intents USING btree (subject_id) WHERE (subject_type = 'qr_code'::text);


--
-- Name: payment_refunds_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_refunds_customer_idx ON public.payment_refunds USING btree (customer_id, created_at, id) WHERE (customer_id IS NOT NULL);


--
-- Name: payment_refunds_intent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_refunds_intent_idx ON public.payment_refunds USING btree (payment_intent_id, created_at, id);


--
-- Name: payment_refunds_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_refunds_merchant_idx ON public.payment_refunds USING btree (merchant_id, created_at, id);


--
-- Name: payment_refunds_pending_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX payment_refunds_pending_idx ON public.payment_refunds USING btree (payment_intent_id) WHERE (status = 'pending'::text);


--
-- Name: products_shop_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX products_shop_idx ON public.products USING btree (shop_id, created_at, id);


--
-- Name: qr_codes_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX qr_codes_due_idx ON public.qr_codes USING btree (expires_at) WHERE ((status = 'active'::text) AND (expires_at IS NOT NULL));


--
-- Name: qr_codes_invoice_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX qr_codes_invoice_idx ON public.qr_codes USING btree (invoice_id) WHERE (invoice_id IS NOT NULL);


--
-- Name: qr_codes_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX qr_codes_merchant_idx ON public.qr_codes USING btree (merchant_id, created_at, id);


--
-- Name: qr_codes_order_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX qr_codes_order_idx ON public.qr_codes USING btree (order_id) WHERE (order_id IS NOT NULL);


--
-- Name: qr_codes_payment_intent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX qr_codes_payment_intent_idx ON public.qr_codes USING btree (payment_intent_id) WHERE (payment_intent_id IS NOT NULL);


--
-- Name: shops_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX shops_merchant_idx ON public.shops USING btree (merchant_id, created_at, id);


--
-- Name: wallet_funding_sessions_checkout; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_funding_sessions_checkout ON public.wallet_funding_sessions USING btree (provider, provider_checkout_id) WHERE (provider_checkout_id IS NOT NULL);


--
-- Name: wallet_funding_sessions_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_due_idx ON public.wallet_funding_sessions USING btree (expires_at) WHERE (status = 'pending'::text);


--
-- Name: wallet_funding_sessions_intent_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_intent_idx ON public.wallet_funding_sessions USING btree (payment_intent_id);


--
-- Name: wallet_funding_sessions_receipt; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_funding_sessions_receipt ON public.wallet_funding_sessions USING btree (provider, provider_receipt) WHERE (provider_receipt IS NOT NULL);


--
-- Name: wallet_funding_sessions_source_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_source_idx ON public.wallet_funding_sessions USING btree (source_id);


--
-- Name: wallet_funding_sessions_transaction_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_transaction_idx ON public.wallet_funding_sessions USING btree (transaction_id) WHERE (transaction_id IS NOT NULL);


--
-- Name: wallet_funding_sessions_unacknowledged_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_unacknowledged_idx ON public.wallet_funding_sessions USING btree (provider, amount, created_at) WHERE ((status = 'expired'::text) AND (provider_checkout_id IS NULL));


--
-- Name: wallet_funding_sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_user_idx ON public.wallet_funding_sessions USING btree (user_id, created_at, id);


--
-- Name: wallet_funding_sessions_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_funding_sessions_wallet_idx ON public.wallet_funding_sessions USING btree (wallet_id);


--
-- Name: wallet_holds_expiry_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_holds_expiry_idx ON public.wallet_holds USING btree (expires_at) WHERE (status = 'pending'::text);


--
-- Name: wallet_holds_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_holds_wallet_idx ON public.wallet_holds USING btree (wallet_id, created_at);


--
-- Name: wallet_ledger_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_ledger_wallet_idx ON public.wallet_ledger USING btree (wallet_id, id);


--
-- Name: wallet_provider_queries_answer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_provider_queries_answer_idx ON public.wallet_provider_queries USING btree (answer_event_id);


--
-- Name: wallet_provider_queries_subject_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_provider_queries_subject_idx ON public.wallet_provider_queries USING btree (provider, subject_type, subject_key, created_at);


--
-- Name: wallet_sources_one_default; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_sources_one_default ON public.wallet_sources USING btree (user_id) WHERE (is_default AND (status = 'active'::text));


--
-- Name: wallet_sources_one_per_identifier; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_sources_one_per_identifier ON public.wallet_sources USING btree (user_id, provider, COALESCE(msisdn, account_number)) WHERE (status = 'active'::text);


--
-- Name: wallet_sources_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_sources_user_idx ON public.wallet_sources USING btree (user_id);


--
-- Name: wallet_transactions_reverses_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_transactions_reverses_idx ON public.wallet_transactions USING btree (reverses_id) WHERE (reverses_id IS NOT NULL);


--
-- Name: wallet_webhook_events_duplicate_of_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_webhook_events_duplicate_of_idx ON public.wallet_webhook_events USING btree (duplicate_of) WHERE (duplicate_of IS NOT NULL);


--
-- Name: wallet_webhook_events_pending_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_webhook_events_pending_idx ON public.wallet_webhook_events USING btree (provider, status) WHERE (status = ANY (ARRAY['unmatched'::text, 'failed'::text]));


--
-- Name: wallet_webhook_events_provider_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_webhook_events_provider_key ON public.wallet_webhook_events USING btree (provider, provider_event_key) WHERE (status <> ALL (ARRAY['duplicate'::text, 'rejected'::text, 'refused'::text]));


--
-- Name: wallet_webhook_events_received_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_webhook_events_received_idx ON public.wallet_webhook_events USING btree (received_at);


--
-- Name: wallet_webhook_events_unconfirmed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_webhook_events_unconfirmed_idx ON public.wallet_webhook_events USING btree (provider, event_type) WHERE (status = 'unconfirmed'::text);


--
-- Name: wallet_withdrawals_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallet_withdrawals_conversation ON public.wallet_withdrawals USING btree (provider, provider_conversation_id) WHERE (provider_conversation_id IS NOT NULL);


--
-- Name: wallet_withdrawals_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_due_idx ON public.wallet_withdrawals USING btree (expires_at) WHERE (status = ANY (ARRAY['pending'::text, 'processing'::text]));


--
-- Name: wallet_withdrawals_reversal_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_reversal_idx ON public.wallet_withdrawals USING btree (reversal_transaction_id) WHERE (reversal_transaction_id IS NOT NULL);


--
-- Name: wallet_withdrawals_settlement_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_settlement_idx ON public.wallet_withdrawals USING btree (settlement_transaction_id) WHERE (settlement_transaction_id IS NOT NULL);


--
-- Name: wallet_withdrawals_source_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_source_idx ON public.wallet_withdrawals USING btree (source_id);


--
-- Name: wallet_withdrawals_transaction_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_transaction_idx ON public.wallet_withdrawals USING btree (transaction_id) WHERE (transaction_id IS NOT NULL);


--
-- Name: wallet_withdrawals_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_user_idx ON public.wallet_withdrawals USING btree (user_id, created_at, id);


--
-- Name: wallet_withdrawals_wallet_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX wallet_withdrawals_wallet_idx ON public.wallet_withdrawals USING btree (wallet_id);


--
-- Name: wallets_one_per_user_currency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallets_one_per_user_currency ON public.wallets USING btree (user_id, currency) WHERE (user_id IS NOT NULL);


--
-- Name: wallets_one_system_per_currency; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX wallets_one_system_per_currency ON public.wallets USING btree (system_code, currency) WHERE (system_code IS NOT NULL);


--
-- Name: webhook_deliveries_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);


--
-- Name: webhook_deliveries_endpoint_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_endpoint_idx ON public.webhook_deliveries USING btree (endpoint_id, created_at, id);


--
-- Name: webhook_deliveries_finished_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_finished_idx ON public.webhook_deliveries USING btree (COALESCE(succeeded_at, failed_at)) WHERE (status = ANY (ARRAY['succeeded'::text, 'failed'::text]));


--
-- Name: webhook_deliveries_in_flight_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_in_flight_idx ON public.webhook_deliveries USING btree (endpoint_id) WHERE (status = 'delivering'::text);


--
-- Name: webhook_deliveries_leased_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_leased_idx ON public.webhook_deliveries USING btree (leased_until) WHERE (status = 'delivering'::text);


--
-- Name: webhook_deliveries_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_merchant_idx ON public.webhook_deliveries USING btree (merchant_id, created_at, id);


--
-- Name: webhook_delivery_attempts_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_delivery_attempts_merchant_idx ON public.webhook_delivery_attempts USING btree (merchant_id, created_at);


--
-- Name: webhook_endpoints_active_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_endpoints_active_idx ON public.webhook_endpoints USING btree (merchant_id) WHERE (status = 'active'::text);


--
-- Name: webhook_endpoints_merchant_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_endpoints_merchant_idx ON public.webhook_endpoints USING btree (merchant_id, created_at, id);


--
-- Name: clock_offset clock_offset_audit; Type: TRIGGER; Schema: hazina; Owner: -
--

CREATE TRIGGER clock_offset_audit AFTER UPDATE ON hazina.clock_offset FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: audit_logs audit_logs_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_logs_append_only BEFORE DELETE OR UPDATE ON public.audit_logs FOR EACH ROW EXECUTE FUNCTION hazina.audit_logs_are_append_only();


--
-- Name: audit_logs audit_logs_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON public.audit_logs FOR EACH STATEMENT EXECUTE FUNCTION hazina.audit_logs_are_append_only();


--
-- Name: auth_users auth_users_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER auth_users_audit AFTER INSERT OR DELETE OR UPDATE ON public.auth_users FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change('password_hash');


--
-- Name: billing_fee_catalog billing_fee_catalog_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER billing_fee_catalog_audit AFTER INSERT OR DELETE OR UPDATE ON public.billing_fee_catalog FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: billing_ledger billing_ledger_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER billing_ledger_immutable BEFORE DELETE OR UPDATE ON public.billing_ledger FOR EACH ROW EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: events events_webhook_fan_out; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER events_webhook_fan_out AFTER INSERT ON public.events FOR EACH ROW EXECUTE FUNCTION hazina.webhook_event_fan_out();


--
-- Name: goods_escrows goods_escrows_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER goods_escrows_audit AFTER INSERT OR UPDATE ON public.goods_escrows FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: invoice_sequences invoice_sequences_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER invoice_sequences_audit AFTER INSERT OR UPDATE ON public.invoice_sequences FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: invoices invoices_qr_on_close; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER invoices_qr_on_close AFTER UPDATE OF status ON public.invoices FOR EACH ROW WHEN (((new.status = ANY (ARRAY['paid'::text, 'void'::text])) AND (old.status IS DISTINCT FROM new.status))) EXECUTE FUNCTION hazina.invoice_qr_on_close();


--
-- Name: invoices invoices_qr_on_finalise; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER invoices_qr_on_finalise AFTER UPDATE OF status ON public.invoices FOR EACH ROW WHEN (((old.status = 'draft'::text) AND (new.status = 'open'::text))) EXECUTE FUNCTION hazina.invoice_qr_on_finalise();


--
-- Name: invoices invoices_qr_on_reopen; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER invoices_qr_on_reopen AFTER UPDATE OF status ON public.invoices FOR EACH ROW WHEN (((new.status = 'open'::text) AND (old.status = ANY (ARRAY['paid'::text, 'uncollectible'::text])))) EXECUTE FUNCTION hazina.invoice_qr_on_reopen();


--
-- Name: merchant_applications merchant_applications_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER merchant_applications_audit AFTER INSERT OR DELETE OR UPDATE ON public.merchant_applications FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: merchant_fee_profiles merchant_fee_profiles_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER merchant_fee_profiles_audit AFTER INSERT OR DELETE OR UPDATE ON public.merchant_fee_profiles FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: orders orders_installment_guard; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orders_installment_guard BEFORE UPDATE OF status ON public.orders FOR EACH ROW WHEN (((old.status = 'pending_payment'::text) AND (new.status IS DISTINCT FROM old.status))) EXECUTE FUNCTION hazina.installment_guard_order();


--
-- Name: orders orders_installment_intent_guard; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orders_installment_intent_guard BEFORE UPDATE OF payment_intent_id ON public.orders FOR EACH ROW WHEN (((new.payment_intent_id IS NOT NULL) AND (old.payment_intent_id IS NULL))) EXECUTE FUNCTION hazina.installment_guard_order_intent();


--
-- Name: orders orders_qr_on_close; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orders_qr_on_close AFTER UPDATE OF status ON public.orders FOR EACH ROW WHEN (((old.status = 'pending_payment'::text) AND (new.status <> 'pending_payment'::text))) EXECUTE FUNCTION hazina.order_qr_on_close();


--
-- Name: orders orders_qr_on_intent; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orders_qr_on_intent AFTER UPDATE OF payment_intent_id ON public.orders FOR EACH ROW WHEN (((old.payment_intent_id IS NULL) AND (new.payment_intent_id IS NOT NULL) AND (new.status = 'pending_payment'::text))) EXECUTE FUNCTION hazina.order_qr_on_intent();


--
-- Name: payment_intents payment_intents_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_event AFTER INSERT OR UPDATE ON public.payment_intents FOR EACH ROW EXECUTE FUNCTION hazina.payment_intent_event();


--
-- Name: payment_intents payment_intents_installment; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_installment AFTER UPDATE OF status ON public.payment_intents FOR EACH ROW WHEN (((new.subject_type = 'installment'::text) AND (old.status IS DISTINCT FROM new.status) AND (new.status = ANY (ARRAY['succeeded'::text, 'canceled'::text])))) EXECUTE FUNCTION hazina.installment_on_intent();


--
-- Name: payment_intents payment_intents_invoice_paid; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_invoice_paid AFTER UPDATE OF status ON public.payment_intents FOR EACH ROW WHEN (((new.subject_type = 'invoice'::text) AND (new.status = 'succeeded'::text) AND (old.status IS DISTINCT FROM 'succeeded'::text))) EXECUTE FUNCTION hazina.invoice_intent_succeeded();


--
-- Name: payment_intents payment_intents_order_outcome; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_order_outcome AFTER UPDATE ON public.payment_intents FOR EACH ROW WHEN (((new.subject_type = 'order'::text) AND (new.status IS DISTINCT FROM old.status) AND (new.status = ANY (ARRAY['succeeded'::text, 'canceled'::text])))) EXECUTE FUNCTION hazina.order_intent_outcome();


--
-- Name: payment_intents payment_intents_qr_code_reserve; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_qr_code_reserve BEFORE UPDATE OF status ON public.payment_intents FOR EACH ROW WHEN ((((new.subject_type = 'qr_code'::text) OR (new.qr_code_id IS NOT NULL)) AND (old.status = 'requires_confirmation'::text) AND (new.status = ANY (ARRAY['processing'::text, 'requires_capture'::text, 'succeeded'::text])))) EXECUTE FUNCTION hazina.qr_code_reserve_use();


--
-- Name: payment_intents payment_intents_qr_code_use; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_qr_code_use AFTER UPDATE OF status ON public.payment_intents FOR EACH ROW WHEN ((((new.subject_type = 'qr_code'::text) OR (new.qr_code_id IS NOT NULL)) AND (new.status = 'succeeded'::text) AND (old.status <> 'succeeded'::text))) EXECUTE FUNCTION hazina.qr_code_count_use();


--
-- Name: payment_intents payment_intents_qr_on_close; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_intents_qr_on_close AFTER UPDATE OF status ON public.payment_intents FOR EACH ROW WHEN (((new.status = ANY (ARRAY['succeeded'::text, 'canceled'::text])) AND (old.status IS DISTINCT FROM new.status) AND (new.subject_type IS NULL))) EXECUTE FUNCTION hazina.intent_qr_on_close();


--
-- Name: payment_refunds payment_refunds_event; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_event AFTER INSERT ON public.payment_refunds FOR EACH ROW EXECUTE FUNCTION hazina.payment_refund_event();


--
-- Name: payment_refunds payment_refunds_installment_guard; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_installment_guard BEFORE INSERT ON public.payment_refunds FOR EACH ROW EXECUTE FUNCTION hazina.installment_guard_refund();


--
-- Name: payment_refunds payment_refunds_invoice; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_invoice AFTER INSERT ON public.payment_refunds FOR EACH ROW EXECUTE FUNCTION hazina.invoice_payment_refunded();


--
-- Name: payment_refunds payment_refunds_invoice_guest_failed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_invoice_guest_failed AFTER UPDATE OF status ON public.payment_refunds FOR EACH ROW WHEN (((old.status = 'pending'::text) AND (new.status = 'failed'::text))) EXECUTE FUNCTION hazina.invoice_guest_refund_failed();


--
-- Name: payment_refunds payment_refunds_invoice_guest_pending; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_invoice_guest_pending AFTER INSERT ON public.payment_refunds FOR EACH ROW WHEN ((new.status = 'pending'::text)) EXECUTE FUNCTION hazina.invoice_guest_refund_created();


--
-- Name: payment_refunds payment_refunds_order; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER payment_refunds_order AFTER INSERT ON public.payment_refunds FOR EACH ROW EXECUTE FUNCTION hazina.order_refund_recorded();


--
-- Name: products products_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER products_audit AFTER INSERT OR UPDATE ON public.products FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: qr_codes qr_codes_disabled_reason; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER qr_codes_disabled_reason BEFORE INSERT OR UPDATE OF status, disabled_reason ON public.qr_codes FOR EACH ROW EXECUTE FUNCTION hazina.qr_code_disabled_reason();


--
-- Name: shops shops_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER shops_audit AFTER INSERT OR UPDATE ON public.shops FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: wallet_funding_sessions wallet_funding_sessions_payment_intent; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_funding_sessions_payment_intent AFTER UPDATE OF status ON public.wallet_funding_sessions FOR EACH ROW WHEN (((new.payment_intent_id IS NOT NULL) AND (new.status IS DISTINCT FROM old.status))) EXECUTE FUNCTION hazina.payment_intent_funding_changed();


--
-- Name: wallet_ledger wallet_ledger_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_ledger_immutable BEFORE DELETE OR UPDATE ON public.wallet_ledger FOR EACH ROW EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: wallet_ledger wallet_ledger_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_ledger_no_truncate BEFORE TRUNCATE ON public.wallet_ledger FOR EACH STATEMENT EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: wallet_sources wallet_sources_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_sources_audit AFTER INSERT OR DELETE OR UPDATE ON public.wallet_sources FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: wallet_transactions wallet_transactions_balanced; Type: TRIGGER; Schema: public; Owner: -
--

CREATE CONSTRAINT TRIGGER wallet_transactions_balanced AFTER INSERT ON public.wallet_transactions DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hazina.assert_transaction_balanced();


--
-- Name: wallet_transactions wallet_transactions_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_transactions_immutable BEFORE DELETE OR UPDATE ON public.wallet_transactions FOR EACH ROW EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: wallet_transactions wallet_transactions_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallet_transactions_no_truncate BEFORE TRUNCATE ON public.wallet_transactions FOR EACH STATEMENT EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: wallets wallets_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallets_audit AFTER INSERT OR DELETE OR UPDATE OF status ON public.wallets FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change();


--
-- Name: wallets wallets_never_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallets_never_deleted BEFORE DELETE ON public.wallets FOR EACH ROW EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: wallets wallets_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON public.wallets FOR EACH STATEMENT EXECUTE FUNCTION hazina.ledger_is_immutable();


--
-- Name: webhook_endpoint_secrets webhook_endpoint_secrets_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: hazina; Owner: -
--

ALTER TABLE ONLY hazina.webhook_endpoint_secrets
    ADD CONSTRAINT webhook_endpoint_secrets_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id);


--
-- Name: api_keys api_keys_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id);


--
-- Name: auth_accounts auth_accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: auth_sessions auth_sessions_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.auth_sessions(id) ON DELETE SET NULL;


--
-- Name: auth_sessions auth_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: auth_verification_token auth_verification_token_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: billing_fee_catalog billing_fee_catalog_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_fee_catalog
    ADD CONSTRAINT billing_fee_catalog_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: billing_fee_catalog billing_fee_catalog_transaction_type_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_fee_catalog
    ADD CONSTRAINT billing_fee_catalog_transaction_type_fkey FOREIGN KEY (transaction_type) REFERENCES public.transaction_types(code);


--
-- Name: billing_ledger billing_ledger_refund_of_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_ledger
    ADD CONSTRAINT billing_ledger_refund_of_fkey FOREIGN KEY (refund_of) REFERENCES public.billing_ledger(ref);


--
-- Name: events events_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: goods_escrows goods_escrows_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: goods_escrows goods_escrows_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: goods_escrows goods_escrows_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: goods_escrows goods_escrows_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: goods_escrows goods_escrows_release_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_release_transaction_id_fkey FOREIGN KEY (release_transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: goods_escrows goods_escrows_resolved_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES public.auth_users(id);


--
-- Name: goods_escrows goods_escrows_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.goods_escrows
    ADD CONSTRAINT goods_escrows_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: installment_schedule installment_schedule_installment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installment_schedule
    ADD CONSTRAINT installment_schedule_installment_id_fkey FOREIGN KEY (installment_id) REFERENCES public.installments(id);


--
-- Name: installment_schedule installment_schedule_paid_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installment_schedule
    ADD CONSTRAINT installment_schedule_paid_intent_id_fkey FOREIGN KEY (paid_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: installments installments_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: installments installments_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: installments installments_deposit_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_deposit_intent_id_fkey FOREIGN KEY (deposit_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: installments installments_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: installments installments_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: installments installments_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installments
    ADD CONSTRAINT installments_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: invoice_items invoice_items_invoice_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoice_items
    ADD CONSTRAINT invoice_items_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id) ON DELETE CASCADE;


--
-- Name: invoice_sequences invoice_sequences_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoice_sequences
    ADD CONSTRAINT invoice_sequences_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: invoices invoices_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: invoices invoices_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: invoices invoices_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invoices
    ADD CONSTRAINT invoices_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: merchant_applications merchant_applications_decided_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_applications
    ADD CONSTRAINT merchant_applications_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES public.auth_users(id);


--
-- Name: merchant_applications merchant_applications_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_applications
    ADD CONSTRAINT merchant_applications_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: merchant_fee_profiles merchant_fee_profiles_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_fee_profiles
    ADD CONSTRAINT merchant_fee_profiles_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: merchant_fee_profiles merchant_fee_profiles_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_fee_profiles
    ADD CONSTRAINT merchant_fee_profiles_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: merchant_fee_profiles merchant_fee_profiles_transaction_type_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchant_fee_profiles
    ADD CONSTRAINT merchant_fee_profiles_transaction_type_fkey FOREIGN KEY (transaction_type) REFERENCES public.transaction_types(code);


--
-- Name: order_items order_items_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: order_items order_items_product_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.products(id);


--
-- Name: orders orders_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: orders orders_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: orders orders_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: orders orders_payment_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_payment_intent_id_fkey FOREIGN KEY (payment_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: orders orders_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: payment_intent_parts payment_intent_parts_funding_session_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_funding_session_id_fkey FOREIGN KEY (funding_session_id) REFERENCES public.wallet_funding_sessions(id);


--
-- Name: payment_intent_parts payment_intent_parts_hold_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_hold_id_fkey FOREIGN KEY (hold_id) REFERENCES public.wallet_holds(id);


--
-- Name: payment_intent_parts payment_intent_parts_payment_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_payment_intent_id_fkey FOREIGN KEY (payment_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: payment_intent_parts payment_intent_parts_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intent_parts
    ADD CONSTRAINT payment_intent_parts_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: payment_intents payment_intents_capture_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_capture_transaction_id_fkey FOREIGN KEY (capture_transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: payment_intents payment_intents_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: payment_intents payment_intents_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: payment_intents payment_intents_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: payment_intents payment_intents_payee_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_payee_wallet_id_fkey FOREIGN KEY (payee_wallet_id) REFERENCES public.wallets(id);


--
-- Name: payment_intents payment_intents_qr_code_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_intents
    ADD CONSTRAINT payment_intents_qr_code_id_fkey FOREIGN KEY (qr_code_id) REFERENCES public.qr_codes(id);


--
-- Name: payment_refunds payment_refunds_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: payment_refunds payment_refunds_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.auth_users(id);


--
-- Name: payment_refunds payment_refunds_fee_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_fee_transaction_id_fkey FOREIGN KEY (fee_transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: payment_refunds payment_refunds_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: payment_refunds payment_refunds_payment_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_payment_intent_id_fkey FOREIGN KEY (payment_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: payment_refunds payment_refunds_payout_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_payout_id_fkey FOREIGN KEY (payout_id) REFERENCES public.wallet_withdrawals(id);


--
-- Name: payment_refunds payment_refunds_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refunds
    ADD CONSTRAINT payment_refunds_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: products products_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT products_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: qr_codes qr_codes_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: qr_codes qr_codes_invoice_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES public.invoices(id);


--
-- Name: qr_codes qr_codes_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: qr_codes qr_codes_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_order_id_fkey FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: qr_codes qr_codes_payment_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.qr_codes
    ADD CONSTRAINT qr_codes_payment_intent_id_fkey FOREIGN KEY (payment_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: shop_installment_settings shop_installment_settings_shop_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_installment_settings
    ADD CONSTRAINT shop_installment_settings_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: shops shops_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT shops_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: shops shops_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT shops_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: wallet_account_references wallet_account_references_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_account_references
    ADD CONSTRAINT wallet_account_references_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: wallet_balance_buckets wallet_balance_buckets_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_balance_buckets
    ADD CONSTRAINT wallet_balance_buckets_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_payment_intent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_payment_intent_id_fkey FOREIGN KEY (payment_intent_id) REFERENCES public.payment_intents(id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_source_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.wallet_sources(id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id);


--
-- Name: wallet_funding_sessions wallet_funding_sessions_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_funding_sessions
    ADD CONSTRAINT wallet_funding_sessions_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: wallet_holds wallet_holds_counterparty_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_counterparty_id_fkey FOREIGN KEY (counterparty_id) REFERENCES public.wallets(id);


--
-- Name: wallet_holds wallet_holds_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: wallet_holds wallet_holds_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_holds wallet_holds_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_holds
    ADD CONSTRAINT wallet_holds_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: wallet_provider_queries wallet_provider_queries_answer_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_provider_queries
    ADD CONSTRAINT wallet_provider_queries_answer_event_id_fkey FOREIGN KEY (answer_event_id) REFERENCES public.wallet_webhook_events(id);


--
-- Name: wallet_sources wallet_sources_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sources
    ADD CONSTRAINT wallet_sources_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id);


--
-- Name: wallet_transactions wallet_transactions_reverses_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_transactions
    ADD CONSTRAINT wallet_transactions_reverses_id_fkey FOREIGN KEY (reverses_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_webhook_events wallet_webhook_events_duplicate_of_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_webhook_events
    ADD CONSTRAINT wallet_webhook_events_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES public.wallet_webhook_events(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: wallet_withdrawals wallet_withdrawals_hold_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_hold_id_fkey FOREIGN KEY (hold_id) REFERENCES public.wallet_holds(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_reversal_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_reversal_transaction_id_fkey FOREIGN KEY (reversal_transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_settlement_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_settlement_transaction_id_fkey FOREIGN KEY (settlement_transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_source_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.wallet_sources(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_transaction_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES public.wallet_transactions(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id);


--
-- Name: wallet_withdrawals wallet_withdrawals_wallet_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_withdrawals
    ADD CONSTRAINT wallet_withdrawals_wallet_id_fkey FOREIGN KEY (wallet_id) REFERENCES public.wallets(id);


--
-- Name: wallets wallets_currency_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallets
    ADD CONSTRAINT wallets_currency_fkey FOREIGN KEY (currency) REFERENCES public.currencies(code);


--
-- Name: wallets wallets_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallets
    ADD CONSTRAINT wallets_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id);


--
-- Name: webhook_deliveries webhook_deliveries_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.events(id);


--
-- Name: webhook_deliveries webhook_deliveries_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: webhook_delivery_attempts webhook_delivery_attempts_delivery_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_delivery_attempts
    ADD CONSTRAINT webhook_delivery_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.webhook_deliveries(id);


--
-- Name: webhook_delivery_attempts webhook_delivery_attempts_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_delivery_attempts
    ADD CONSTRAINT webhook_delivery_attempts_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: webhook_endpoints webhook_endpoints_merchant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES public.auth_users(id);


--
-- Name: goods_escrows admins read all goods escrows; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read all goods escrows" ON public.goods_escrows FOR SELECT TO authenticated USING (public.is_admin());


--
-- Name: merchant_applications admins read all merchant applications; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read all merchant applications" ON public.merchant_applications FOR SELECT TO authenticated USING (( SELECT public.is_admin() AS is_admin));


--
-- Name: order_items admins read all order lines; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read all order lines" ON public.order_items FOR SELECT TO authenticated USING (public.is_admin());


--
-- Name: orders admins read all orders; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read all orders" ON public.orders FOR SELECT TO authenticated USING (public.is_admin());


--
-- Name: audit_logs admins read audit logs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read audit logs" ON public.audit_logs FOR SELECT TO authenticated USING (( SELECT public.is_admin() AS is_admin));


--
-- Name: products anyone reads active products of active shops; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads active products of active shops" ON public.products FOR SELECT TO anon, authenticated USING ((active AND (EXISTS ( SELECT 1
   FROM public.shops s
  WHERE ((s.id = products.shop_id) AND (s.status = 'active'::text))))));


--
-- Name: shops anyone reads active shops; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads active shops" ON public.shops FOR SELECT TO anon, authenticated USING ((status = 'active'::text));


--
-- Name: currencies anyone reads currencies; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads currencies" ON public.currencies FOR SELECT TO anon, authenticated USING (true);


--
-- Name: shop_installment_settings anyone reads plan settings of active shops; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads plan settings of active shops" ON public.shop_installment_settings FOR SELECT TO anon, authenticated USING ((EXISTS ( SELECT 1
   FROM public.shops s
  WHERE ((s.id = shop_installment_settings.shop_id) AND ((s.status = 'active'::text) OR (s.merchant_id = auth.uid()))))));


--
-- Name: billing_fee_catalog anyone reads the fee catalog; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads the fee catalog" ON public.billing_fee_catalog FOR SELECT TO anon, authenticated USING (true);


--
-- Name: transaction_types anyone reads transaction types; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "anyone reads transaction types" ON public.transaction_types FOR SELECT TO anon, authenticated USING (true);


--
-- Name: api_keys; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;

--
-- Name: merchant_applications applicant reads own merchant applications; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "applicant reads own merchant applications" ON public.merchant_applications FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: audit_logs; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_accounts; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_accounts ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_sessions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_users; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_users ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_verification_token; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_verification_token ENABLE ROW LEVEL SECURITY;

--
-- Name: billing_fee_catalog; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.billing_fee_catalog ENABLE ROW LEVEL SECURITY;

--
-- Name: billing_ledger; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.billing_ledger ENABLE ROW LEVEL SECURITY;

--
-- Name: currencies; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.currencies ENABLE ROW LEVEL SECURITY;

--
-- Name: installments customer or merchant reads own installment plans; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "customer or merchant reads own installment plans" ON public.installments FOR SELECT TO authenticated USING (((customer_id = auth.uid()) OR (merchant_id = auth.uid())));


--
-- Name: installment_schedule customer or merchant reads schedules of own installment plans; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "customer or merchant reads schedules of own installment plans" ON public.installment_schedule FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.installments i
  WHERE ((i.id = installment_schedule.installment_id) AND ((i.customer_id = auth.uid()) OR (i.merchant_id = auth.uid()))))));


--
-- Name: events; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;

--
-- Name: goods_escrows; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.goods_escrows ENABLE ROW LEVEL SECURITY;

--
-- Name: installment_schedule; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.installment_schedule ENABLE ROW LEVEL SECURITY;

--
-- Name: installments; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.installments ENABLE ROW LEVEL SECURITY;

--
-- Name: invoice_items; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.invoice_items ENABLE ROW LEVEL SECURITY;

--
-- Name: invoice_sequences; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.invoice_sequences ENABLE ROW LEVEL SECURITY;

--
-- Name: invoices; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.invoices ENABLE ROW LEVEL SECURITY;

--
-- Name: job_runs; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.job_runs ENABLE ROW LEVEL SECURITY;

--
-- Name: invoice_items merchant or addressed customer reads invoice items; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or addressed customer reads invoice items" ON public.invoice_items FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.invoices i
  WHERE ((i.id = invoice_items.invoice_id) AND ((i.merchant_id = auth.uid()) OR ((i.customer_id = auth.uid()) AND (i.status <> 'draft'::text)))))));


--
-- Name: invoices merchant or addressed customer reads invoices; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or addressed customer reads invoices" ON public.invoices FOR SELECT TO authenticated USING (((merchant_id = auth.uid()) OR ((customer_id = auth.uid()) AND (status <> 'draft'::text))));


--
-- Name: order_items merchant or customer reads lines of own orders; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads lines of own orders" ON public.order_items FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.orders o
  WHERE ((o.id = order_items.order_id) AND ((o.merchant_id = auth.uid()) OR (o.customer_id = auth.uid()))))));


--
-- Name: goods_escrows merchant or customer reads own goods escrows; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads own goods escrows" ON public.goods_escrows FOR SELECT TO authenticated USING (((merchant_id = auth.uid()) OR (customer_id = auth.uid())));


--
-- Name: orders merchant or customer reads own orders; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads own orders" ON public.orders FOR SELECT TO authenticated USING (((merchant_id = auth.uid()) OR (customer_id = auth.uid())));


--
-- Name: payment_intents merchant or customer reads own payment intents; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads own payment intents" ON public.payment_intents FOR SELECT TO authenticated USING (((merchant_id = auth.uid()) OR (customer_id = auth.uid())));


--
-- Name: payment_refunds merchant or customer reads own payment refunds; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads own payment refunds" ON public.payment_refunds FOR SELECT TO authenticated USING (((merchant_id = auth.uid()) OR (customer_id = auth.uid())));


--
-- Name: payment_intent_parts merchant or customer reads parts of own payment intents; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant or customer reads parts of own payment intents" ON public.payment_intent_parts FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.payment_intents p
  WHERE ((p.id = payment_intent_parts.payment_intent_id) AND ((p.merchant_id = auth.uid()) OR (p.customer_id = auth.uid()))))));


--
-- Name: events merchant reads own events; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own events" ON public.events FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: merchant_fee_profiles merchant reads own fee profiles; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own fee profiles" ON public.merchant_fee_profiles FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: invoice_sequences merchant reads own invoice numbering; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own invoice numbering" ON public.invoice_sequences FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: products merchant reads own products; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own products" ON public.products FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.shops s
  WHERE ((s.id = products.shop_id) AND (s.merchant_id = auth.uid())))));


--
-- Name: qr_codes merchant reads own qr codes; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own qr codes" ON public.qr_codes FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: shops merchant reads own shops; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own shops" ON public.shops FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: webhook_deliveries merchant reads own webhook deliveries; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own webhook deliveries" ON public.webhook_deliveries FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: webhook_delivery_attempts merchant reads own webhook delivery attempts; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own webhook delivery attempts" ON public.webhook_delivery_attempts FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: webhook_endpoints merchant reads own webhook endpoints; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "merchant reads own webhook endpoints" ON public.webhook_endpoints FOR SELECT TO authenticated USING ((merchant_id = auth.uid()));


--
-- Name: merchant_applications; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.merchant_applications ENABLE ROW LEVEL SECURITY;

--
-- Name: merchant_fee_profiles; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.merchant_fee_profiles ENABLE ROW LEVEL SECURITY;

--
-- Name: order_items; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.order_items ENABLE ROW LEVEL SECURITY;

--
-- Name: orders; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;

--
-- Name: api_keys owner reads own api keys; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own api keys" ON public.api_keys FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: wallet_funding_sessions owner reads own funding sessions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own funding sessions" ON public.wallet_funding_sessions FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: wallet_holds owner reads own holds; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own holds" ON public.wallet_holds FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.wallets w
  WHERE ((w.id = wallet_holds.wallet_id) AND (w.user_id = auth.uid())))));


--
-- Name: wallet_ledger owner reads own ledger entries; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own ledger entries" ON public.wallet_ledger FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.wallets w
  WHERE ((w.id = wallet_ledger.wallet_id) AND (w.user_id = auth.uid())))));


--
-- Name: wallet_account_references owner reads own paybill references; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own paybill references" ON public.wallet_account_references FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.wallets w
  WHERE ((w.id = wallet_account_references.wallet_id) AND (w.user_id = auth.uid())))));


--
-- Name: wallet_sources owner reads own sources; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own sources" ON public.wallet_sources FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: wallet_balance_buckets owner reads own wallet buckets; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own wallet buckets" ON public.wallet_balance_buckets FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM public.wallets w
  WHERE ((w.id = wallet_balance_buckets.wallet_id) AND (w.user_id = auth.uid())))));


--
-- Name: wallets owner reads own wallets; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own wallets" ON public.wallets FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: wallet_withdrawals owner reads own withdrawals; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads own withdrawals" ON public.wallet_withdrawals FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: wallet_transactions owner reads transactions touching own wallets; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "owner reads transactions touching own wallets" ON public.wallet_transactions FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM (public.wallet_ledger l
     JOIN public.wallets w ON ((w.id = l.wallet_id)))
  WHERE ((l.ref > ((wallet_transactions.id)::text || '#'::text)) AND (l.ref < ((wallet_transactions.id)::text || '$'::text)) AND (w.user_id = auth.uid())))));


--
-- Name: billing_ledger payer reads own fee charges; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "payer reads own fee charges" ON public.billing_ledger FOR SELECT TO authenticated USING ((payer_user_id = auth.uid()));


--
-- Name: payment_idempotency; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.payment_idempotency ENABLE ROW LEVEL SECURITY;

--
-- Name: payment_intent_parts; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.payment_intent_parts ENABLE ROW LEVEL SECURITY;

--
-- Name: payment_intents; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.payment_intents ENABLE ROW LEVEL SECURITY;

--
-- Name: payment_refunds; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.payment_refunds ENABLE ROW LEVEL SECURITY;

--
-- Name: products; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.products ENABLE ROW LEVEL SECURITY;

--
-- Name: qr_codes; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.qr_codes ENABLE ROW LEVEL SECURITY;

--
-- Name: shop_installment_settings; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.shop_installment_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: shops; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.shops ENABLE ROW LEVEL SECURITY;

--
-- Name: transaction_types; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.transaction_types ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_accounts user reads own accounts; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own accounts" ON public.auth_accounts FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: auth_sessions user reads own sessions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own sessions" ON public.auth_sessions FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: auth_users user reads own user row; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own user row" ON public.auth_users FOR SELECT TO authenticated USING ((id = auth.uid()));


--
-- Name: wallet_account_references; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_account_references ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_balance_buckets; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_balance_buckets ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_funding_sessions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_funding_sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_holds; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_holds ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_ledger; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_ledger ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_provider_queries; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_provider_queries ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_sources; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_sources ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_transactions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_transactions ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_webhook_events; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_webhook_events ENABLE ROW LEVEL SECURITY;

--
-- Name: wallet_withdrawals; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallet_withdrawals ENABLE ROW LEVEL SECURITY;

--
-- Name: wallets; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.wallets ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_deliveries; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_delivery_attempts; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.webhook_delivery_attempts ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_endpoints; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.webhook_endpoints ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA auth; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA auth TO anon;
GRANT USAGE ON SCHEMA auth TO authenticated;
GRANT USAGE ON SCHEMA auth TO service_role;


--
-- Name: SCHEMA extensions; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA extensions TO anon;
GRANT USAGE ON SCHEMA extensions TO authenticated;
GRANT USAGE ON SCHEMA extensions TO service_role;


--
-- Name: SCHEMA hazina; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA hazina TO service_role;


--
-- Name: TYPE auth_sign_in; Type: ACL; Schema: hazina; Owner: -
--

GRANT ALL ON TYPE hazina.auth_sign_in TO service_role;


--
-- Name: FUNCTION api_key_create(p_user_id uuid, p_name text, p_mode text, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.api_key_create(p_user_id uuid, p_name text, p_mode text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.api_key_create(p_user_id uuid, p_name text, p_mode text, p_client_ref text) TO service_role;


--
-- Name: FUNCTION api_key_json(p_key_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.api_key_json(p_key_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.api_key_json(p_key_id uuid) TO service_role;


--
-- Name: FUNCTION api_key_resolve(p_secret text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.api_key_resolve(p_secret text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.api_key_resolve(p_secret text) TO service_role;


--
-- Name: FUNCTION api_key_revoke(p_key_id uuid, p_user_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.api_key_revoke(p_key_id uuid, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.api_key_revoke(p_key_id uuid, p_user_id uuid) TO service_role;


--
-- Name: FUNCTION applied_schema_version(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.applied_schema_version() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.applied_schema_version() TO service_role;


--
-- Name: FUNCTION apply_entries(p_transaction_id uuid, p_kind text, p_description text, p_metadata jsonb, p_ref text, p_wallets uuid[], p_directions text[], p_amounts numeric[], p_legs text[]); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.apply_entries(p_transaction_id uuid, p_kind text, p_description text, p_metadata jsonb, p_ref text, p_wallets uuid[], p_directions text[], p_amounts numeric[], p_legs text[]) FROM PUBLIC;


--
-- Name: FUNCTION assert_admin(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.assert_admin() FROM PUBLIC;


--
-- Name: FUNCTION assert_provider_amount(p_provider text, p_direction text, p_amount numeric, p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.assert_provider_amount(p_provider text, p_direction text, p_amount numeric, p_currency text) FROM PUBLIC;


--
-- Name: FUNCTION assert_transaction_balanced(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.assert_transaction_balanced() FROM PUBLIC;


--
-- Name: FUNCTION assert_valid_amount(p_amount numeric, p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.assert_valid_amount(p_amount numeric, p_currency text) FROM PUBLIC;


--
-- Name: FUNCTION audit_logs_are_append_only(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.audit_logs_are_append_only() FROM PUBLIC;


--
-- Name: FUNCTION audit_row_change(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.audit_row_change() FROM PUBLIC;


--
-- Name: FUNCTION auth_check_password_hash(p_hash text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.auth_check_password_hash(p_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.auth_check_password_hash(p_hash text) TO service_role;


--
-- Name: FUNCTION auth_check_token_hash(p_hash text, p_field text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.auth_check_token_hash(p_hash text, p_field text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.auth_check_token_hash(p_hash text, p_field text) TO service_role;


--
-- Name: FUNCTION auth_purge_expired(p_keep interval); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.auth_purge_expired(p_keep interval) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.auth_purge_expired(p_keep interval) TO service_role;


--
-- Name: FUNCTION auth_user_suspended(p_status text, p_locked_until timestamp with time zone); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.auth_user_suspended(p_status text, p_locked_until timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.auth_user_suspended(p_status text, p_locked_until timestamp with time zone) TO service_role;


--
-- Name: FUNCTION begin_transaction(p_ref text, p_kind text, p_request_hash text, p_principal numeric, p_currency text, p_description text, p_metadata jsonb, p_reverses_id uuid, OUT transaction_id uuid, OUT replayed boolean); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.begin_transaction(p_ref text, p_kind text, p_request_hash text, p_principal numeric, p_currency text, p_description text, p_metadata jsonb, p_reverses_id uuid, OUT transaction_id uuid, OUT replayed boolean) FROM PUBLIC;


--
-- Name: FUNCTION caller_id(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.caller_id() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.caller_id() TO service_role;


--
-- Name: FUNCTION caller_refusal(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.caller_refusal() FROM PUBLIC;


--
-- Name: FUNCTION checkout_lock(p_provider text, p_checkout_id text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.checkout_lock(p_provider text, p_checkout_id text) FROM PUBLIC;


--
-- Name: FUNCTION clock(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.clock() FROM PUBLIC;


--
-- Name: FUNCTION clock_travel(p_by interval, p_reset boolean); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.clock_travel(p_by interval, p_reset boolean) FROM PUBLIC;


--
-- Name: FUNCTION email_verify_confirm(p_token_hash text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.email_verify_confirm(p_token_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.email_verify_confirm(p_token_hash text) TO service_role;


--
-- Name: FUNCTION ensure_system_wallets(p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.ensure_system_wallets(p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.ensure_system_wallets(p_currency text) TO service_role;


--
-- Name: FUNCTION escrow_event(p_escrow_id uuid, p_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.escrow_event(p_escrow_id uuid, p_type text) FROM PUBLIC;


--
-- Name: FUNCTION escrow_pay_merchant(p_escrow_id uuid, p_status text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.escrow_pay_merchant(p_escrow_id uuid, p_status text) FROM PUBLIC;


--
-- Name: FUNCTION escrow_resolve(p_escrow_id uuid, p_admin_id uuid, p_outcome text, p_buyer_amount numeric, p_note text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.escrow_resolve(p_escrow_id uuid, p_admin_id uuid, p_outcome text, p_buyer_amount numeric, p_note text) FROM PUBLIC;


--
-- Name: FUNCTION event_emit(p_merchant_id uuid, p_type text, p_object_type text, p_object_id uuid, p_data jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.event_emit(p_merchant_id uuid, p_type text, p_object_type text, p_object_id uuid, p_data jsonb) FROM PUBLIC;


--
-- Name: FUNCTION event_redeliver(p_event_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.event_redeliver(p_event_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION expire_holds(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.expire_holds(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.expire_holds(p_limit integer) TO service_role;


--
-- Name: FUNCTION expire_payment_intents(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.expire_payment_intents(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.expire_payment_intents(p_limit integer) TO service_role;


--
-- Name: FUNCTION fee_apply(p_amount numeric, p_percentage_bps integer, p_fixed_amount numeric, p_minimum_amount numeric, p_maximum_amount numeric, p_waived boolean, p_minor_units smallint); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.fee_apply(p_amount numeric, p_percentage_bps integer, p_fixed_amount numeric, p_minimum_amount numeric, p_maximum_amount numeric, p_waived boolean, p_minor_units smallint) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.fee_apply(p_amount numeric, p_percentage_bps integer, p_fixed_amount numeric, p_minimum_amount numeric, p_maximum_amount numeric, p_waived boolean, p_minor_units smallint) TO service_role;


--
-- Name: FUNCTION fee_payer(p_transaction_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.fee_payer(p_transaction_type text) FROM PUBLIC;


--
-- Name: FUNCTION fee_quote(p_transaction_type text, p_amount numeric, p_currency text, p_payer_user_id uuid, OUT fee numeric, OUT rule_source text, OUT rule_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.fee_quote(p_transaction_type text, p_amount numeric, p_currency text, p_payer_user_id uuid, OUT fee numeric, OUT rule_source text, OUT rule_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.fee_quote(p_transaction_type text, p_amount numeric, p_currency text, p_payer_user_id uuid, OUT fee numeric, OUT rule_source text, OUT rule_id uuid) TO service_role;


--
-- Name: FUNCTION fee_rule(p_transaction_type text, p_currency text, p_payer_user_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.fee_rule(p_transaction_type text, p_currency text, p_payer_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.fee_rule(p_transaction_type text, p_currency text, p_payer_user_id uuid) TO service_role;


--
-- Name: FUNCTION fold_buckets(p_wallet_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.fold_buckets(p_wallet_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_complete(p_session_id uuid, p_amount numeric, p_receipt text, p_payer_msisdn text) TO service_role;


--
-- Name: FUNCTION funding_expire(p_session_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_expire(p_session_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_expire(p_session_id uuid, p_reason text) TO service_role;


--
-- Name: FUNCTION funding_fail(p_session_id uuid, p_status text, p_code text, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_fail(p_session_id uuid, p_status text, p_code text, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_fail(p_session_id uuid, p_status text, p_code text, p_reason text) TO service_role;


--
-- Name: FUNCTION funding_mark_requested(p_session_id uuid, p_request_id text, p_checkout_id text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_mark_requested(p_session_id uuid, p_request_id text, p_checkout_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_mark_requested(p_session_id uuid, p_request_id text, p_checkout_id text) TO service_role;


--
-- Name: FUNCTION funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric, p_received_at timestamp with time zone); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_orphan_claim(p_provider text, p_checkout_id text, p_msisdn text, p_amount numeric, p_received_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION funding_post(p_ref text, p_provider text, p_wallet_id uuid, p_amount numeric, p_description text, p_metadata jsonb, OUT transaction_id uuid, OUT fee numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_post(p_ref text, p_provider text, p_wallet_id uuid, p_amount numeric, p_description text, p_metadata jsonb, OUT transaction_id uuid, OUT fee numeric) FROM PUBLIC;


--
-- Name: FUNCTION funding_session_json(p_session_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_session_json(p_session_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_session_json(p_session_id uuid) TO service_role;


--
-- Name: FUNCTION funding_start(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.funding_start(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.funding_start(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval) TO service_role;


--
-- Name: FUNCTION hold_create(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_expires_at timestamp with time zone, p_transaction_type text, p_description text, p_metadata jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.hold_create(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_expires_at timestamp with time zone, p_transaction_type text, p_description text, p_metadata jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.hold_create(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_expires_at timestamp with time zone, p_transaction_type text, p_description text, p_metadata jsonb) TO service_role;


--
-- Name: FUNCTION hold_post(p_hold_id uuid, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.hold_post(p_hold_id uuid, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.hold_post(p_hold_id uuid, p_amount numeric) TO service_role;


--
-- Name: FUNCTION uuid_v7(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.uuid_v7() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.uuid_v7() TO service_role;


--
-- Name: TABLE wallet_holds; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_holds TO authenticated;
GRANT SELECT ON TABLE public.wallet_holds TO service_role;


--
-- Name: FUNCTION hold_release(p_hold public.wallet_holds, p_status text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.hold_release(p_hold public.wallet_holds, p_status text) FROM PUBLIC;


--
-- Name: FUNCTION hold_void(p_hold_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.hold_void(p_hold_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.hold_void(p_hold_id uuid) TO service_role;


--
-- Name: FUNCTION idempotency_abandon(p_owner text, p_key text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_abandon(p_owner text, p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_abandon(p_owner text, p_key text) TO service_role;


--
-- Name: FUNCTION idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text, p_per_minute integer, OUT outcome text, OUT response_status integer, OUT response_body jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text, p_per_minute integer, OUT outcome text, OUT response_status integer, OUT response_body jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text, p_per_minute integer, OUT outcome text, OUT response_status integer, OUT response_body jsonb) TO service_role;


--
-- Name: FUNCTION idempotency_complete(p_owner text, p_key text, p_status integer, p_body jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_complete(p_owner text, p_key text, p_status integer, p_body jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_complete(p_owner text, p_key text, p_status integer, p_body jsonb) TO service_role;


--
-- Name: FUNCTION idempotency_complete_group(p_items jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_complete_group(p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_complete_group(p_items jsonb) TO service_role;


--
-- Name: FUNCTION idempotency_purge_expired(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_purge_expired() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_purge_expired() TO service_role;


--
-- Name: FUNCTION idempotency_unlock(p_owner text, p_key text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.idempotency_unlock(p_owner text, p_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.idempotency_unlock(p_owner text, p_key text) TO service_role;


--
-- Name: FUNCTION install_supabase_auth_mirror(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.install_supabase_auth_mirror() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.install_supabase_auth_mirror() TO service_role;


--
-- Name: TABLE payment_intents; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.payment_intents TO authenticated;
GRANT SELECT ON TABLE public.payment_intents TO service_role;


--
-- Name: FUNCTION installment_apply_payment(p_intent public.payment_intents); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_apply_payment(p_intent public.payment_intents) FROM PUBLIC;


--
-- Name: FUNCTION installment_cancel(p_id uuid, p_actor uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_cancel(p_id uuid, p_actor uuid, p_reason text) FROM PUBLIC;


--
-- Name: FUNCTION installment_cancel_open_intents(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_cancel_open_intents(p_id uuid) FROM PUBLIC;


--
-- Name: TABLE installments; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.installments TO authenticated;
GRANT SELECT ON TABLE public.installments TO service_role;


--
-- Name: FUNCTION installment_cancellation_fee(p_plan public.installments); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_cancellation_fee(p_plan public.installments) FROM PUBLIC;


--
-- Name: FUNCTION installment_claim_reminders(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_claim_reminders(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.installment_claim_reminders(p_limit integer) TO service_role;


--
-- Name: FUNCTION installment_clawback(p_plan public.installments, p_amount numeric, p_reason text, p_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_clawback(p_plan public.installments, p_amount numeric, p_reason text, p_ref text) FROM PUBLIC;


--
-- Name: FUNCTION installment_close(p_id uuid, p_status text, p_fee numeric, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_close(p_id uuid, p_status text, p_fee numeric, p_reason text) FROM PUBLIC;


--
-- Name: FUNCTION installment_complete(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_complete(p_id uuid) FROM PUBLIC;


--
-- Name: TABLE orders; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.orders TO authenticated;
GRANT SELECT ON TABLE public.orders TO service_role;


--
-- Name: FUNCTION installment_create(p_order public.orders, p_deposit numeric, p_count integer, p_interval text, p_auto_collect boolean); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_create(p_order public.orders, p_deposit numeric, p_count integer, p_interval text, p_auto_collect boolean) FROM PUBLIC;


--
-- Name: FUNCTION installment_due_at(p_starts_at timestamp with time zone, p_interval text, p_k integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_due_at(p_starts_at timestamp with time zone, p_interval text, p_k integer) FROM PUBLIC;


--
-- Name: FUNCTION installment_escrow_held(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_escrow_held(p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION installment_guard_order(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_guard_order() FROM PUBLIC;


--
-- Name: FUNCTION installment_guard_order_intent(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_guard_order_intent() FROM PUBLIC;


--
-- Name: FUNCTION installment_guard_refund(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_guard_refund() FROM PUBLIC;


--
-- Name: FUNCTION installment_intent_open(p_plan public.installments, p_amount numeric, p_ref text, p_description text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_intent_open(p_plan public.installments, p_amount numeric, p_ref text, p_description text) FROM PUBLIC;


--
-- Name: FUNCTION installment_json(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_json(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.installment_json(p_id uuid) TO service_role;


--
-- Name: FUNCTION installment_lock(p_id uuid, p_actor uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_lock(p_id uuid, p_actor uuid) FROM PUBLIC;


--
-- Name: FUNCTION installment_on_intent(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_on_intent() FROM PUBLIC;


--
-- Name: FUNCTION installment_pay(p_id uuid, p_customer_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_pay(p_id uuid, p_customer_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) FROM PUBLIC;


--
-- Name: FUNCTION installment_process(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_process(p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION installment_refresh(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_refresh(p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION installment_release_order(p_plan public.installments, p_status text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_release_order(p_plan public.installments, p_status text) FROM PUBLIC;


--
-- Name: FUNCTION installment_schedule_amounts(p_total numeric, p_deposit numeric, p_count integer, p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_schedule_amounts(p_total numeric, p_deposit numeric, p_count integer, p_currency text) FROM PUBLIC;


--
-- Name: FUNCTION installment_settle(p_plan public.installments); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_settle(p_plan public.installments) FROM PUBLIC;


--
-- Name: FUNCTION installment_waive(p_id uuid, p_merchant_id uuid, p_seq integer, p_what text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installment_waive(p_id uuid, p_merchant_id uuid, p_seq integer, p_what text) FROM PUBLIC;


--
-- Name: FUNCTION installments_due(p_now timestamp with time zone); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.installments_due(p_now timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION intent_qr_on_close(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.intent_qr_on_close() FROM PUBLIC;


--
-- Name: FUNCTION invoice_apply(p_invoice_id uuid, p_fields jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_apply(p_invoice_id uuid, p_fields jsonb) FROM PUBLIC;


--
-- Name: FUNCTION invoice_create(p_merchant_id uuid, p_fields jsonb, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_create(p_merchant_id uuid, p_fields jsonb, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_create(p_merchant_id uuid, p_fields jsonb, p_client_ref text) TO service_role;


--
-- Name: FUNCTION invoice_delete(p_invoice_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_delete(p_invoice_id uuid, p_merchant_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_delete(p_invoice_id uuid, p_merchant_id uuid) TO service_role;


--
-- Name: FUNCTION invoice_event(p_invoice_id uuid, p_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_event(p_invoice_id uuid, p_type text) FROM PUBLIC;


--
-- Name: FUNCTION invoice_finalize(p_invoice_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_finalize(p_invoice_id uuid, p_merchant_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_finalize(p_invoice_id uuid, p_merchant_id uuid) TO service_role;


--
-- Name: FUNCTION invoice_guest_refund_created(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_guest_refund_created() FROM PUBLIC;


--
-- Name: FUNCTION invoice_guest_refund_failed(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_guest_refund_failed() FROM PUBLIC;


--
-- Name: FUNCTION invoice_intent_succeeded(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_intent_succeeded() FROM PUBLIC;


--
-- Name: FUNCTION invoice_json(p_invoice_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_json(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_json(p_invoice_id uuid) TO service_role;


--
-- Name: TABLE invoices; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.invoices TO authenticated;
GRANT SELECT ON TABLE public.invoices TO service_role;


--
-- Name: FUNCTION invoice_lock(p_invoice_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_lock(p_invoice_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION invoice_mark_overdue(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_mark_overdue(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_mark_overdue(p_limit integer) TO service_role;


--
-- Name: FUNCTION invoice_mark_uncollectible(p_invoice_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_mark_uncollectible(p_invoice_id uuid, p_merchant_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_mark_uncollectible(p_invoice_id uuid, p_merchant_id uuid) TO service_role;


--
-- Name: FUNCTION invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text) TO service_role;


--
-- Name: FUNCTION invoice_pay_link_json(p_pay_token text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_pay_link_json(p_pay_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_pay_link_json(p_pay_token text) TO service_role;


--
-- Name: FUNCTION invoice_payment_refunded(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_payment_refunded() FROM PUBLIC;


--
-- Name: FUNCTION invoice_qr_on_close(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_qr_on_close() FROM PUBLIC;


--
-- Name: FUNCTION invoice_qr_on_finalise(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_qr_on_finalise() FROM PUBLIC;


--
-- Name: FUNCTION invoice_qr_on_reopen(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_qr_on_reopen() FROM PUBLIC;


--
-- Name: FUNCTION invoice_refund_pending(p_invoice_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_refund_pending(p_invoice_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION invoice_release_intents(p_invoice_id uuid, p_keep uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_release_intents(p_invoice_id uuid, p_keep uuid) FROM PUBLIC;


--
-- Name: FUNCTION invoice_sequence_get(p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_sequence_get(p_merchant_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_sequence_get(p_merchant_id uuid) TO service_role;


--
-- Name: FUNCTION invoice_set_items(p_invoice_id uuid, p_items jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_set_items(p_invoice_id uuid, p_items jsonb) FROM PUBLIC;


--
-- Name: FUNCTION invoice_settings_update(p_merchant_id uuid, p_number_prefix text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_settings_update(p_merchant_id uuid, p_number_prefix text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_settings_update(p_merchant_id uuid, p_number_prefix text) TO service_role;


--
-- Name: FUNCTION invoice_update(p_invoice_id uuid, p_merchant_id uuid, p_fields jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_update(p_invoice_id uuid, p_merchant_id uuid, p_fields jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_update(p_invoice_id uuid, p_merchant_id uuid, p_fields jsonb) TO service_role;


--
-- Name: FUNCTION invoice_void(p_invoice_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) TO service_role;


--
-- Name: FUNCTION is_payment_provider(p_value text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.is_payment_provider(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION job_cron_schedule(p_every interval); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_cron_schedule(p_every interval) FROM PUBLIC;


--
-- Name: FUNCTION job_expire_holds(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_expire_holds(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION job_expire_payment_intents(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_expire_payment_intents(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_expire_payment_intents(p_limit integer) TO service_role;


--
-- Name: FUNCTION job_expire_qr_codes(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_expire_qr_codes(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_expire_qr_codes(p_limit integer) TO service_role;


--
-- Name: FUNCTION job_installments_due(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_installments_due(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_installments_due(p_limit integer) TO service_role;


--
-- Name: FUNCTION job_list(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_list() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_list() TO service_role;


--
-- Name: FUNCTION job_mark_overdue_invoices(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_mark_overdue_invoices(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_mark_overdue_invoices(p_limit integer) TO service_role;


--
-- Name: FUNCTION job_money_sweep_sql(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_money_sweep_sql(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_money_sweep_sql(p_limit integer) TO service_role;


--
-- Name: FUNCTION job_purge_auth(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_purge_auth(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION job_purge_idempotency(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_purge_idempotency(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION job_purge_webhook_deliveries(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_purge_webhook_deliveries(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION job_record(p_name text, p_started_at timestamp with time zone, p_report jsonb, p_error text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_record(p_name text, p_started_at timestamp with time zone, p_report jsonb, p_error text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_record(p_name text, p_started_at timestamp with time zone, p_report jsonb, p_error text) TO service_role;


--
-- Name: FUNCTION job_release_due_escrows(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.job_release_due_escrows(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.job_release_due_escrows(p_limit integer) TO service_role;


--
-- Name: FUNCTION ledger_is_immutable(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.ledger_is_immutable() FROM PUBLIC;


--
-- Name: FUNCTION lock_wallets(p_debited uuid[], p_credited uuid[]); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.lock_wallets(p_debited uuid[], p_credited uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION merchant_application_decide(p_user_id uuid, p_status text, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.merchant_application_decide(p_user_id uuid, p_status text, p_reason text) FROM PUBLIC;


--
-- Name: FUNCTION merchant_application_json(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.merchant_application_json(p_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION merchant_application_submit(p_user_id uuid, p_business_name text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.merchant_application_submit(p_user_id uuid, p_business_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.merchant_application_submit(p_user_id uuid, p_business_name text) TO service_role;


--
-- Name: FUNCTION mirror_supabase_user(p_id uuid, p_email text, p_email_confirmed_at timestamp with time zone, p_phone text, p_app_metadata jsonb, p_user_metadata jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.mirror_supabase_user(p_id uuid, p_email text, p_email_confirmed_at timestamp with time zone, p_phone text, p_app_metadata jsonb, p_user_metadata jsonb) FROM PUBLIC;


--
-- Name: FUNCTION money_sweep_backlog(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.money_sweep_backlog() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.money_sweep_backlog() TO service_role;


--
-- Name: FUNCTION money_sweep_claim(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.money_sweep_claim(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.money_sweep_claim(p_limit integer) TO service_role;


--
-- Name: FUNCTION money_sweep_sql(p_abandon_after interval, p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.money_sweep_sql(p_abandon_after interval, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.money_sweep_sql(p_abandon_after interval, p_limit integer) TO service_role;


--
-- Name: FUNCTION oauth_link(p_user_id uuid, p_provider text, p_subject text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.oauth_link(p_user_id uuid, p_provider text, p_subject text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.oauth_link(p_user_id uuid, p_provider text, p_subject text) TO service_role;


--
-- Name: FUNCTION oauth_sign_in(p_provider text, p_subject text, p_email text, p_email_verified boolean, p_name text, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.oauth_sign_in(p_provider text, p_subject text, p_email text, p_email_verified boolean, p_name text, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.oauth_sign_in(p_provider text, p_subject text, p_email text, p_email_verified boolean, p_name text, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) TO service_role;


--
-- Name: FUNCTION order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) FROM PUBLIC;


--
-- Name: FUNCTION order_cancel(p_order_id uuid, p_user_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_cancel(p_order_id uuid, p_user_id uuid, p_reason text) FROM PUBLIC;


--
-- Name: FUNCTION order_confirm_receipt(p_order_id uuid, p_customer_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_confirm_receipt(p_order_id uuid, p_customer_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_create(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_create(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) FROM PUBLIC;


--
-- Name: FUNCTION order_create_installments(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_create_installments(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb) FROM PUBLIC;


--
-- Name: FUNCTION order_deliver(p_order_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_deliver(p_order_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_dispatch(p_order_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_dispatch(p_order_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_dispute(p_order_id uuid, p_customer_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_dispute(p_order_id uuid, p_customer_id uuid, p_reason text) FROM PUBLIC;


--
-- Name: FUNCTION order_event(p_order_id uuid, p_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_event(p_order_id uuid, p_type text) FROM PUBLIC;


--
-- Name: FUNCTION order_intent_outcome(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_intent_outcome() FROM PUBLIC;


--
-- Name: FUNCTION order_json(p_order_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_json(p_order_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_lock(p_order_id uuid, p_user_id uuid, p_side text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_lock(p_order_id uuid, p_user_id uuid, p_side text) FROM PUBLIC;


--
-- Name: FUNCTION order_lock_intent(p_order_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_lock_intent(p_order_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_mark_paid(p_intent public.payment_intents); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_mark_paid(p_intent public.payment_intents) FROM PUBLIC;


--
-- Name: FUNCTION order_mark_unpaid(p_intent public.payment_intents); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_mark_unpaid(p_intent public.payment_intents) FROM PUBLIC;


--
-- Name: FUNCTION order_open_payment(p_order_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_open_payment(p_order_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION order_payment_window(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_payment_window() FROM PUBLIC;


--
-- Name: FUNCTION order_place(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_place(p_customer_id uuid, p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) FROM PUBLIC;


--
-- Name: FUNCTION order_qr_on_close(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_qr_on_close() FROM PUBLIC;


--
-- Name: FUNCTION order_qr_on_intent(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_qr_on_intent() FROM PUBLIC;


--
-- Name: FUNCTION order_refund(p_order_id uuid, p_merchant_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_refund(p_order_id uuid, p_merchant_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text) FROM PUBLIC;


--
-- Name: FUNCTION order_refund_recorded(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_refund_recorded() FROM PUBLIC;


--
-- Name: FUNCTION order_release_stock(p_order_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.order_release_stock(p_order_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION password_login(p_user_id uuid, p_password_ok boolean, p_require_verified_email boolean, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.password_login(p_user_id uuid, p_password_ok boolean, p_require_verified_email boolean, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.password_login(p_user_id uuid, p_password_ok boolean, p_require_verified_email boolean, p_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) TO service_role;


--
-- Name: FUNCTION password_login_lookup(p_email text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.password_login_lookup(p_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.password_login_lookup(p_email text) TO service_role;


--
-- Name: FUNCTION password_reset_confirm(p_token_hash text, p_password_hash text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.password_reset_confirm(p_token_hash text, p_password_hash text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.password_reset_confirm(p_token_hash text, p_password_hash text) TO service_role;


--
-- Name: FUNCTION paybill_credit(p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.paybill_credit(p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.paybill_credit(p_provider text, p_trans_id text, p_amount numeric, p_account_reference text, p_msisdn text) TO service_role;


--
-- Name: TABLE wallet_provider_queries; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_provider_queries TO service_role;


--
-- Name: FUNCTION paybill_settle_confirmed(p_query public.wallet_provider_queries, p_outcome text, p_answer jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.paybill_settle_confirmed(p_query public.wallet_provider_queries, p_outcome text, p_answer jsonb) FROM PUBLIC;


--
-- Name: FUNCTION paybill_unconfirmed_due(p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.paybill_unconfirmed_due(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.paybill_unconfirmed_due(p_limit integer) TO service_role;


--
-- Name: FUNCTION paybill_validate(p_account_reference text, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.paybill_validate(p_account_reference text, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.paybill_validate(p_account_reference text, p_amount numeric) TO service_role;


--
-- Name: FUNCTION payment_intent_cancel(p_intent_id uuid, p_merchant_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_cancel(p_intent_id uuid, p_merchant_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_cancel(p_intent_id uuid, p_merchant_id uuid, p_reason text) TO service_role;


--
-- Name: FUNCTION payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_capture(p_intent_id uuid, p_merchant_id uuid, p_amount numeric) TO service_role;


--
-- Name: FUNCTION payment_intent_checkout_json(p_intent_id uuid, p_client_secret text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_checkout_json(p_intent_id uuid, p_client_secret text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_checkout_json(p_intent_id uuid, p_client_secret text) TO service_role;


--
-- Name: FUNCTION payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb, p_client_secret text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb, p_client_secret text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_confirm(p_intent_id uuid, p_customer_id uuid, p_sources jsonb, p_client_secret text) TO service_role;


--
-- Name: FUNCTION payment_intent_create(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_create(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_create(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) TO service_role;


--
-- Name: FUNCTION payment_intent_event(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_event() FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_fail_attempt(p_intent_id uuid, p_error jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_fail_attempt(p_intent_id uuid, p_error jsonb) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_funding_changed(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_funding_changed() FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_json(p_intent_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_json(p_intent_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_intent_json(p_intent_id uuid) TO service_role;


--
-- Name: FUNCTION payment_intent_lock(p_intent_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_lock(p_intent_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_lock_subject(p_intent public.payment_intents); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_lock_subject(p_intent public.payment_intents) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_mpesa_arrived(p_session_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_mpesa_arrived(p_session_id uuid) FROM PUBLIC;


--
-- Name: TABLE wallet_funding_sessions; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_funding_sessions TO authenticated;
GRANT SELECT ON TABLE public.wallet_funding_sessions TO service_role;


--
-- Name: FUNCTION payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text, OUT transaction_id uuid, OUT fee numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_mpesa_post(p_session public.wallet_funding_sessions, p_receipt text, OUT transaction_id uuid, OUT fee numeric) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_open(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text, p_subject_type text, p_subject_id uuid, p_payee_wallet_id uuid, p_transaction_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_open(p_merchant_id uuid, p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text, p_subject_type text, p_subject_id uuid, p_payee_wallet_id uuid, p_transaction_type text) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_part_ref(p_intent_id uuid, p_attempt integer, p_position integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_part_ref(p_intent_id uuid, p_attempt integer, p_position integer) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_post_parts(p_intent_id uuid, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_post_parts(p_intent_id uuid, p_amount numeric) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_qr_code(p public.payment_intents); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_qr_code(p public.payment_intents) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_release_hold(p_hold_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_release_hold(p_hold_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION payment_intent_waiting(p_session_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_intent_waiting(p_session_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) TO service_role;


--
-- Name: FUNCTION payment_refund_event(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_refund_event() FROM PUBLIC;


--
-- Name: FUNCTION payment_refund_fail(p_refund_id uuid, p_code text, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_refund_fail(p_refund_id uuid, p_code text, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_refund_fail(p_refund_id uuid, p_code text, p_reason text) TO service_role;


--
-- Name: FUNCTION payment_refund_json(p_refund_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_refund_json(p_refund_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_refund_json(p_refund_id uuid) TO service_role;


--
-- Name: FUNCTION payment_refund_succeed(p_refund_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payment_refund_succeed(p_refund_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payment_refund_succeed(p_refund_id uuid) TO service_role;


--
-- Name: FUNCTION payout_claim_hold(p_withdrawal_id uuid, p_action text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payout_claim_hold(p_withdrawal_id uuid, p_action text) FROM PUBLIC;


--
-- Name: FUNCTION payout_destination(p_withdrawal_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.payout_destination(p_withdrawal_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.payout_destination(p_withdrawal_id uuid) TO service_role;


--
-- Name: FUNCTION post_transaction(p_ref text, p_kind text, p_entries jsonb, p_description text, p_metadata jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.post_transaction(p_ref text, p_kind text, p_entries jsonb, p_description text, p_metadata jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.post_transaction(p_ref text, p_kind text, p_entries jsonb, p_description text, p_metadata jsonb) TO service_role;


--
-- Name: FUNCTION product_create(p_merchant_id uuid, p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.product_create(p_merchant_id uuid, p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text) FROM PUBLIC;


--
-- Name: FUNCTION product_update(p_merchant_id uuid, p_shop_id uuid, p_product_id uuid, p_patch jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.product_update(p_merchant_id uuid, p_shop_id uuid, p_product_id uuid, p_patch jsonb) FROM PUBLIC;


--
-- Name: FUNCTION provider_clearing_wallet(p_provider text, p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.provider_clearing_wallet(p_provider text, p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.provider_clearing_wallet(p_provider text, p_currency text) TO service_role;


--
-- Name: FUNCTION provider_query_open(p_provider text, p_subject_type text, p_subject_key text, p_originator_conversation_id text, p_party text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.provider_query_open(p_provider text, p_subject_type text, p_subject_key text, p_originator_conversation_id text, p_party text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.provider_query_open(p_provider text, p_subject_type text, p_subject_key text, p_originator_conversation_id text, p_party text) TO service_role;


--
-- Name: TABLE qr_codes; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.qr_codes TO authenticated;
GRANT SELECT ON TABLE public.qr_codes TO service_role;


--
-- Name: FUNCTION qr_code_assert_payable(q public.qr_codes); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_assert_payable(q public.qr_codes) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_bound_intent(p_code public.qr_codes, p_payer_id uuid, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_bound_intent(p_code public.qr_codes, p_payer_id uuid, p_amount numeric) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_confirm_bound(p_intent public.payment_intents, p_payer_id uuid, p_sources jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_confirm_bound(p_intent public.payment_intents, p_payer_id uuid, p_sources jsonb) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_count_use(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_count_use() FROM PUBLIC;


--
-- Name: FUNCTION qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_create(p_merchant_id uuid, p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) TO service_role;


--
-- Name: FUNCTION qr_code_disable(p_merchant_id uuid, p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_disable(p_merchant_id uuid, p_id uuid) TO service_role;


--
-- Name: FUNCTION qr_code_disable_bound(p_kind text, p_subject_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_disable_bound(p_kind text, p_subject_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_disabled_reason(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_disabled_reason() FROM PUBLIC;


--
-- Name: FUNCTION qr_code_effective_status(q public.qr_codes); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_effective_status(q public.qr_codes) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_json(p_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_json(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_json(p_id uuid) TO service_role;


--
-- Name: FUNCTION qr_code_lock(p_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_lock(p_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_open_intent(p_slug text, p_customer_id uuid, p_amount numeric, p_attempt_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_open_intent(p_slug text, p_customer_id uuid, p_amount numeric, p_attempt_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_open_intent(p_slug text, p_customer_id uuid, p_amount numeric, p_attempt_ref text) TO service_role;


--
-- Name: FUNCTION qr_code_pay_mpesa(p_slug text, p_phone text, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_pay_mpesa(p_slug text, p_phone text, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_pay_mpesa(p_slug text, p_phone text, p_amount numeric) TO service_role;


--
-- Name: FUNCTION qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric, p_attempt_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_pay_wallet(p_slug text, p_customer_id uuid, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) TO service_role;


--
-- Name: FUNCTION qr_code_payment_json(p_slug text, p_intent_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_payment_json(p_slug text, p_intent_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_payment_json(p_slug text, p_intent_id uuid) TO service_role;


--
-- Name: FUNCTION qr_code_reserve_use(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_reserve_use() FROM PUBLIC;


--
-- Name: FUNCTION qr_code_slug(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_slug() FROM PUBLIC;


--
-- Name: FUNCTION qr_code_subject_state(q public.qr_codes); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_subject_state(q public.qr_codes) FROM PUBLIC;


--
-- Name: FUNCTION qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.qr_code_update(p_merchant_id uuid, p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) TO service_role;


--
-- Name: FUNCTION raise_error(p_code text, p_details jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.raise_error(p_code text, p_details jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.raise_error(p_code text, p_details jsonb) TO service_role;


--
-- Name: FUNCTION reconcile(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile() TO service_role;


--
-- Name: FUNCTION reconcile_escrow(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_escrow() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_escrow() TO service_role;


--
-- Name: FUNCTION reconcile_guest_refunds(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_guest_refunds() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_guest_refunds() TO service_role;


--
-- Name: FUNCTION reconcile_installment_clawbacks(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_installment_clawbacks() FROM PUBLIC;


--
-- Name: FUNCTION reconcile_installments(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_installments() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_installments() TO service_role;


--
-- Name: FUNCTION reconcile_invoice_guest_refunds(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_invoice_guest_refunds() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_invoice_guest_refunds() TO service_role;


--
-- Name: FUNCTION reconcile_invoices(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_invoices() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_invoices() TO service_role;


--
-- Name: FUNCTION reconcile_ledger(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_ledger() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_ledger() TO service_role;


--
-- Name: FUNCTION reconcile_payment_intents(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_payment_intents() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_payment_intents() TO service_role;


--
-- Name: FUNCTION reconcile_payment_refunds(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_payment_refunds() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_payment_refunds() TO service_role;


--
-- Name: FUNCTION reconcile_qr_codes(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reconcile_qr_codes() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reconcile_qr_codes() TO service_role;


--
-- Name: FUNCTION refund_fee_share(p_fee_charged numeric, p_fee_refunded numeric, p_amount numeric, p_amount_received numeric, p_completes boolean, p_minor_units smallint); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.refund_fee_share(p_fee_charged numeric, p_fee_refunded numeric, p_amount numeric, p_amount_received numeric, p_completes boolean, p_minor_units smallint) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.refund_fee_share(p_fee_charged numeric, p_fee_refunded numeric, p_amount numeric, p_amount_received numeric, p_completes boolean, p_minor_units smallint) TO service_role;


--
-- Name: FUNCTION release_due_escrows(p_limit integer, OUT released integer, OUT failed integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.release_due_escrows(p_limit integer, OUT released integer, OUT failed integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.release_due_escrows(p_limit integer, OUT released integer, OUT failed integer) TO service_role;


--
-- Name: FUNCTION request_id(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.request_id() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.request_id() TO service_role;


--
-- Name: FUNCTION reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text) TO service_role;


--
-- Name: FUNCTION run_job(p_name text, p_limit integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.run_job(p_name text, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.run_job(p_name text, p_limit integer) TO service_role;


--
-- Name: FUNCTION run_sweeps(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.run_sweeps() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.run_sweeps() TO service_role;


--
-- Name: FUNCTION schedule_jobs(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.schedule_jobs() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.schedule_jobs() TO service_role;


--
-- Name: FUNCTION schedule_provider_sweep(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.schedule_provider_sweep() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.schedule_provider_sweep() TO service_role;


--
-- Name: TABLE auth_sessions; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_sessions TO service_role;


--
-- Name: COLUMN auth_sessions.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.user_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.family_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(family_id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.rotated_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(rotated_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.expires_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(expires_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.revoked_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(revoked_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.user_agent; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_agent) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.ip; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(ip) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: FUNCTION session_create(p_user_id uuid, p_refresh_token_hash text, p_ttl_seconds integer, p_user_agent text, p_ip inet, p_family_id uuid, p_parent_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.session_create(p_user_id uuid, p_refresh_token_hash text, p_ttl_seconds integer, p_user_agent text, p_ip inet, p_family_id uuid, p_parent_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.session_create(p_user_id uuid, p_refresh_token_hash text, p_ttl_seconds integer, p_user_agent text, p_ip inet, p_family_id uuid, p_parent_id uuid) TO service_role;


--
-- Name: FUNCTION session_refresh(p_refresh_token_hash text, p_new_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.session_refresh(p_refresh_token_hash text, p_new_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.session_refresh(p_refresh_token_hash text, p_new_refresh_token_hash text, p_refresh_ttl_seconds integer, p_user_agent text, p_ip inet) TO service_role;


--
-- Name: FUNCTION session_revoke(p_user_id uuid, p_session_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.session_revoke(p_user_id uuid, p_session_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.session_revoke(p_user_id uuid, p_session_id uuid, p_reason text) TO service_role;


--
-- Name: FUNCTION session_revoke_all(p_user_id uuid, p_reason text, p_except_session_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.session_revoke_all(p_user_id uuid, p_reason text, p_except_session_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.session_revoke_all(p_user_id uuid, p_reason text, p_except_session_id uuid) TO service_role;


--
-- Name: FUNCTION session_revoked(p_session_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.session_revoked(p_session_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION shop_create(p_merchant_id uuid, p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.shop_create(p_merchant_id uuid, p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text) FROM PUBLIC;


--
-- Name: FUNCTION shop_installment_settings_set(p_shop_id uuid, p_merchant_id uuid, p_settings jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.shop_installment_settings_set(p_shop_id uuid, p_merchant_id uuid, p_settings jsonb) FROM PUBLIC;


--
-- Name: TABLE shops; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.shops TO anon;
GRANT SELECT ON TABLE public.shops TO authenticated;
GRANT SELECT ON TABLE public.shops TO service_role;


--
-- Name: FUNCTION shop_lock(p_shop_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.shop_lock(p_shop_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION shop_update(p_merchant_id uuid, p_shop_id uuid, p_patch jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.shop_update(p_merchant_id uuid, p_shop_id uuid, p_patch jsonb) FROM PUBLIC;


--
-- Name: FUNCTION signup(p_email text, p_password_hash text, p_name text, p_phone text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.signup(p_email text, p_password_hash text, p_name text, p_phone text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.signup(p_email text, p_password_hash text, p_name text, p_phone text) TO service_role;


--
-- Name: FUNCTION source_movement_check(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_direction text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.source_movement_check(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_direction text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.source_movement_check(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_direction text) TO service_role;


--
-- Name: TABLE wallet_webhook_events; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_webhook_events TO service_role;


--
-- Name: FUNCTION status_answer_apply(p_event public.wallet_webhook_events); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.status_answer_apply(p_event public.wallet_webhook_events) FROM PUBLIC;


--
-- Name: FUNCTION status_query_lock(p_provider text, p_originator_conversation_id text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.status_query_lock(p_provider text, p_originator_conversation_id text) FROM PUBLIC;


--
-- Name: FUNCTION supabase_user_changed(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.supabase_user_changed() FROM PUBLIC;


--
-- Name: FUNCTION system_wallet(p_code text, p_currency text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.system_wallet(p_code text, p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.system_wallet(p_code text, p_currency text) TO service_role;


--
-- Name: TABLE wallet_ledger; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_ledger TO authenticated;
GRANT SELECT ON TABLE public.wallet_ledger TO service_role;


--
-- Name: FUNCTION transaction_entries(p_transaction_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transaction_entries(p_transaction_id uuid) FROM PUBLIC;


--
-- Name: TABLE billing_ledger; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.billing_ledger TO authenticated;
GRANT SELECT ON TABLE public.billing_ledger TO service_role;


--
-- Name: FUNCTION transaction_fees(p_transaction_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transaction_fees(p_transaction_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION transfer(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_transaction_type text, p_description text, p_metadata jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_transaction_type text, p_description text, p_metadata jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.transfer(p_ref text, p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_transaction_type text, p_description text, p_metadata jsonb) TO service_role;


--
-- Name: FUNCTION transfer_authorize(p_from_wallet uuid, p_to_wallet uuid, p_ref text, p_description text, OUT user_id uuid, OUT ref text, OUT transaction_type text, OUT metadata jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_authorize(p_from_wallet uuid, p_to_wallet uuid, p_ref text, p_description text, OUT user_id uuid, OUT ref text, OUT transaction_type text, OUT metadata jsonb) FROM PUBLIC;


--
-- Name: FUNCTION transfer_batch(p_items jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_batch(p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.transfer_batch(p_items jsonb) TO service_role;


--
-- Name: FUNCTION transfer_batch_fast(p_items jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_batch_fast(p_items jsonb) FROM PUBLIC;


--
-- Name: FUNCTION transfer_batch_lock(p_items jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_batch_lock(p_items jsonb) FROM PUBLIC;


--
-- Name: FUNCTION transfer_group(p_items jsonb, p_per_minute integer, p_posted_status integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_group(p_items jsonb, p_per_minute integer, p_posted_status integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.transfer_group(p_items jsonb, p_per_minute integer, p_posted_status integer) TO service_role;


--
-- Name: FUNCTION transfer_result(p_transaction_id uuid, p_replayed boolean); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.transfer_result(p_transaction_id uuid, p_replayed boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.transfer_result(p_transaction_id uuid, p_replayed boolean) TO service_role;


--
-- Name: FUNCTION trial_balance(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.trial_balance() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.trial_balance() TO service_role;


--
-- Name: FUNCTION verification_token_consume(p_token_hash text, p_purpose text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.verification_token_consume(p_token_hash text, p_purpose text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.verification_token_consume(p_token_hash text, p_purpose text) TO service_role;


--
-- Name: FUNCTION verification_token_issue(p_user_id uuid, p_purpose text, p_token_hash text, p_ttl_seconds integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.verification_token_issue(p_user_id uuid, p_purpose text, p_token_hash text, p_ttl_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.verification_token_issue(p_user_id uuid, p_purpose text, p_token_hash text, p_ttl_seconds integer) TO service_role;


--
-- Name: FUNCTION wallet_json(p_wallet_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.wallet_json(p_wallet_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION wallet_source_add(p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.wallet_source_add(p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.wallet_source_add(p_user_id uuid, p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean) TO service_role;


--
-- Name: FUNCTION wallet_source_json(p_source_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.wallet_source_json(p_source_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.wallet_source_json(p_source_id uuid) TO service_role;


--
-- Name: FUNCTION webhook_deliveries_claim(p_worker text, p_limit integer, p_lease interval, p_now timestamp with time zone, p_merchant_id uuid, p_max_in_flight integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_deliveries_claim(p_worker text, p_limit integer, p_lease interval, p_now timestamp with time zone, p_merchant_id uuid, p_max_in_flight integer) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.webhook_deliveries_claim(p_worker text, p_limit integer, p_lease interval, p_now timestamp with time zone, p_merchant_id uuid, p_max_in_flight integer) TO service_role;


--
-- Name: FUNCTION webhook_delivery_backlog(p_now timestamp with time zone); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_delivery_backlog(p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.webhook_delivery_backlog(p_now timestamp with time zone) TO service_role;


--
-- Name: FUNCTION webhook_delivery_record(p_delivery_id uuid, p_worker text, p_url text, p_response_status integer, p_error text, p_duration_ms integer, p_now timestamp with time zone); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_delivery_record(p_delivery_id uuid, p_worker text, p_url text, p_response_status integer, p_error text, p_duration_ms integer, p_now timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.webhook_delivery_record(p_delivery_id uuid, p_worker text, p_url text, p_response_status integer, p_error text, p_duration_ms integer, p_now timestamp with time zone) TO service_role;


--
-- Name: FUNCTION webhook_delivery_retention(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_delivery_retention() FROM PUBLIC;


--
-- Name: FUNCTION webhook_dispatch(p_event public.wallet_webhook_events); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_dispatch(p_event public.wallet_webhook_events) FROM PUBLIC;


--
-- Name: FUNCTION webhook_endpoint_create(p_merchant_id uuid, p_url text, p_events text[], p_description text, p_client_ref text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_endpoint_create(p_merchant_id uuid, p_url text, p_events text[], p_description text, p_client_ref text) FROM PUBLIC;


--
-- Name: FUNCTION webhook_endpoint_disable(p_endpoint_id uuid, p_merchant_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_endpoint_disable(p_endpoint_id uuid, p_merchant_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION webhook_endpoint_json(p_endpoint_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_endpoint_json(p_endpoint_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION webhook_event_apply(p_event_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_event_apply(p_event_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.webhook_event_apply(p_event_id uuid) TO service_role;


--
-- Name: FUNCTION webhook_event_fan_out(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_event_fan_out() FROM PUBLIC;


--
-- Name: FUNCTION webhook_event_filter_valid(p_events text[]); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_event_filter_valid(p_events text[]) FROM PUBLIC;


--
-- Name: FUNCTION webhook_event_matches(p_events text[], p_type text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_event_matches(p_events text[], p_type text) FROM PUBLIC;


--
-- Name: FUNCTION webhook_ingest(p_provider text, p_event_type text, p_event_key text, p_raw_body text, p_headers jsonb, p_signature_valid boolean, p_payload jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_ingest(p_provider text, p_event_type text, p_event_key text, p_raw_body text, p_headers jsonb, p_signature_valid boolean, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.webhook_ingest(p_provider text, p_event_type text, p_event_key text, p_raw_body text, p_headers jsonb, p_signature_valid boolean, p_payload jsonb) TO service_role;


--
-- Name: FUNCTION webhook_retry_delay(p_failed_attempts integer); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.webhook_retry_delay(p_failed_attempts integer) FROM PUBLIC;


--
-- Name: FUNCTION withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) TO service_role;


--
-- Name: FUNCTION withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric) TO service_role;


--
-- Name: FUNCTION withdrawal_defer(p_withdrawal_id uuid, p_delay interval); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_defer(p_withdrawal_id uuid, p_delay interval) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_defer(p_withdrawal_id uuid, p_delay interval) TO service_role;


--
-- Name: FUNCTION withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) TO service_role;


--
-- Name: FUNCTION withdrawal_json(p_withdrawal_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_json(p_withdrawal_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_json(p_withdrawal_id uuid) TO service_role;


--
-- Name: FUNCTION withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_mark_processing(p_withdrawal_id uuid, p_conversation_id text) TO service_role;


--
-- Name: FUNCTION withdrawal_mark_submitted(p_withdrawal_id uuid); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_mark_submitted(p_withdrawal_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_mark_submitted(p_withdrawal_id uuid) TO service_role;


--
-- Name: FUNCTION withdrawal_request(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_request(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_request(p_user_id uuid, p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text, p_ttl interval) TO service_role;


--
-- Name: FUNCTION withdrawal_reverse(p_withdrawal_id uuid, p_reason text); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_reverse(p_withdrawal_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.withdrawal_reverse(p_withdrawal_id uuid, p_reason text) TO service_role;


--
-- Name: FUNCTION withdrawal_settle_confirmed(p_withdrawal_id uuid, p_outcome text, p_answer jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.withdrawal_settle_confirmed(p_withdrawal_id uuid, p_outcome text, p_answer jsonb) FROM PUBLIC;


--
-- Name: FUNCTION api_key_create(p_name text, p_mode text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.api_key_create(p_name text, p_mode text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.api_key_create(p_name text, p_mode text, p_client_ref text) TO authenticated;


--
-- Name: TABLE api_keys; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.api_keys TO authenticated;
GRANT SELECT ON TABLE public.api_keys TO service_role;


--
-- Name: FUNCTION api_key_json(k public.api_keys); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.api_key_json(k public.api_keys) FROM PUBLIC;
GRANT ALL ON FUNCTION public.api_key_json(k public.api_keys) TO authenticated;
GRANT ALL ON FUNCTION public.api_key_json(k public.api_keys) TO service_role;


--
-- Name: FUNCTION api_key_revoke(p_key_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.api_key_revoke(p_key_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.api_key_revoke(p_key_id uuid) TO authenticated;


--
-- Name: FUNCTION api_time(p_time timestamp with time zone); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.api_time(p_time timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION public.api_time(p_time timestamp with time zone) TO authenticated;
GRANT ALL ON FUNCTION public.api_time(p_time timestamp with time zone) TO service_role;
GRANT ALL ON FUNCTION public.api_time(p_time timestamp with time zone) TO anon;


--
-- Name: TABLE events; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.events TO authenticated;
GRANT SELECT ON TABLE public.events TO service_role;


--
-- Name: FUNCTION event_json(e public.events); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.event_json(e public.events) FROM PUBLIC;
GRANT ALL ON FUNCTION public.event_json(e public.events) TO authenticated;
GRANT ALL ON FUNCTION public.event_json(e public.events) TO service_role;


--
-- Name: FUNCTION event_redeliver(p_event_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.event_redeliver(p_event_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.event_redeliver(p_event_id uuid) TO authenticated;


--
-- Name: FUNCTION funding_session_json(f public.wallet_funding_sessions); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.funding_session_json(f public.wallet_funding_sessions) FROM PUBLIC;
GRANT ALL ON FUNCTION public.funding_session_json(f public.wallet_funding_sessions) TO authenticated;
GRANT ALL ON FUNCTION public.funding_session_json(f public.wallet_funding_sessions) TO service_role;


--
-- Name: FUNCTION funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.funding_start(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) TO authenticated;


--
-- Name: TABLE goods_escrows; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.goods_escrows TO authenticated;
GRANT SELECT ON TABLE public.goods_escrows TO service_role;


--
-- Name: FUNCTION goods_escrow_json(e public.goods_escrows); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.goods_escrow_json(e public.goods_escrows) FROM PUBLIC;
GRANT ALL ON FUNCTION public.goods_escrow_json(e public.goods_escrows) TO authenticated;
GRANT ALL ON FUNCTION public.goods_escrow_json(e public.goods_escrows) TO service_role;


--
-- Name: FUNCTION installment_cancel(p_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.installment_cancel(p_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.installment_cancel(p_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION installment_json(i public.installments); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.installment_json(i public.installments) FROM PUBLIC;
GRANT ALL ON FUNCTION public.installment_json(i public.installments) TO authenticated;
GRANT ALL ON FUNCTION public.installment_json(i public.installments) TO service_role;


--
-- Name: FUNCTION installment_pay(p_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.installment_pay(p_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.installment_pay(p_id uuid, p_amount numeric, p_wallet_id uuid, p_client_ref text) TO authenticated;


--
-- Name: TABLE installment_schedule; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.installment_schedule TO authenticated;
GRANT SELECT ON TABLE public.installment_schedule TO service_role;


--
-- Name: FUNCTION installment_schedule_json(s public.installment_schedule); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.installment_schedule_json(s public.installment_schedule) FROM PUBLIC;
GRANT ALL ON FUNCTION public.installment_schedule_json(s public.installment_schedule) TO authenticated;
GRANT ALL ON FUNCTION public.installment_schedule_json(s public.installment_schedule) TO service_role;


--
-- Name: FUNCTION installment_waive(p_id uuid, p_seq integer, p_what text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.installment_waive(p_id uuid, p_seq integer, p_what text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.installment_waive(p_id uuid, p_seq integer, p_what text) TO authenticated;


--
-- Name: FUNCTION invoice_create(p_fields jsonb, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_create(p_fields jsonb, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_create(p_fields jsonb, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION invoice_delete(p_invoice_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_delete(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_delete(p_invoice_id uuid) TO authenticated;


--
-- Name: FUNCTION invoice_document(p_invoice_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_document(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_document(p_invoice_id uuid) TO authenticated;


--
-- Name: FUNCTION invoice_finalize(p_invoice_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_finalize(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_finalize(p_invoice_id uuid) TO authenticated;


--
-- Name: FUNCTION invoice_json(i public.invoices); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_json(i public.invoices) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_json(i public.invoices) TO authenticated;
GRANT ALL ON FUNCTION public.invoice_json(i public.invoices) TO service_role;


--
-- Name: FUNCTION invoice_mark_uncollectible(p_invoice_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_mark_uncollectible(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_mark_uncollectible(p_invoice_id uuid) TO authenticated;


--
-- Name: FUNCTION invoice_pay(p_invoice_id uuid, p_amount numeric); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_pay(p_invoice_id uuid, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_pay(p_invoice_id uuid, p_amount numeric) TO authenticated;


--
-- Name: TABLE invoice_sequences; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.invoice_sequences TO authenticated;
GRANT SELECT ON TABLE public.invoice_sequences TO service_role;


--
-- Name: FUNCTION invoice_sequence_json(s public.invoice_sequences); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_sequence_json(s public.invoice_sequences) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_sequence_json(s public.invoice_sequences) TO authenticated;
GRANT ALL ON FUNCTION public.invoice_sequence_json(s public.invoice_sequences) TO service_role;


--
-- Name: FUNCTION invoice_settings(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_settings() FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_settings() TO authenticated;


--
-- Name: FUNCTION invoice_settings_update(p_number_prefix text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_settings_update(p_number_prefix text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_settings_update(p_number_prefix text) TO authenticated;


--
-- Name: FUNCTION invoice_update(p_invoice_id uuid, p_fields jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_update(p_invoice_id uuid, p_fields jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_update(p_invoice_id uuid, p_fields jsonb) TO authenticated;


--
-- Name: FUNCTION invoice_void(p_invoice_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.invoice_void(p_invoice_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.invoice_void(p_invoice_id uuid) TO authenticated;


--
-- Name: FUNCTION is_admin(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.is_admin() FROM PUBLIC;
GRANT ALL ON FUNCTION public.is_admin() TO authenticated;
GRANT ALL ON FUNCTION public.is_admin() TO service_role;


--
-- Name: FUNCTION merchant_apply(p_business_name text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.merchant_apply(p_business_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.merchant_apply(p_business_name text) TO authenticated;


--
-- Name: FUNCTION ops_escrow_resolve(p_escrow_id uuid, p_outcome text, p_buyer_amount numeric, p_note text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_escrow_resolve(p_escrow_id uuid, p_outcome text, p_buyer_amount numeric, p_note text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_escrow_resolve(p_escrow_id uuid, p_outcome text, p_buyer_amount numeric, p_note text) TO authenticated;


--
-- Name: FUNCTION ops_jobs(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_jobs() FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_jobs() TO authenticated;


--
-- Name: FUNCTION ops_merchant_approve(p_user_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_merchant_approve(p_user_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_merchant_approve(p_user_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION ops_merchant_reject(p_user_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_merchant_reject(p_user_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_merchant_reject(p_user_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION ops_reconciliation(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_reconciliation() FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_reconciliation() TO authenticated;


--
-- Name: FUNCTION ops_reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric, p_reason text) TO authenticated;


--
-- Name: FUNCTION ops_run_sweeps(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_run_sweeps() FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_run_sweeps() TO authenticated;


--
-- Name: FUNCTION ops_set_wallet_status(p_wallet_id uuid, p_status text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.ops_set_wallet_status(p_wallet_id uuid, p_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.ops_set_wallet_status(p_wallet_id uuid, p_status text) TO authenticated;


--
-- Name: FUNCTION order_cancel(p_order_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_cancel(p_order_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_cancel(p_order_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION order_confirm_receipt(p_order_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_confirm_receipt(p_order_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_confirm_receipt(p_order_id uuid) TO authenticated;


--
-- Name: FUNCTION order_create(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_create(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_create(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION order_create_installments(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_create_installments(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_create_installments(p_shop_id uuid, p_items jsonb, p_escrow boolean, p_shipping jsonb, p_client_ref text, p_installments jsonb) TO authenticated;


--
-- Name: FUNCTION order_deliver(p_order_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_deliver(p_order_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_deliver(p_order_id uuid) TO authenticated;


--
-- Name: FUNCTION order_dispatch(p_order_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_dispatch(p_order_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_dispatch(p_order_id uuid) TO authenticated;


--
-- Name: FUNCTION order_dispute(p_order_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_dispute(p_order_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_dispute(p_order_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION order_json(o public.orders); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_json(o public.orders) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_json(o public.orders) TO authenticated;
GRANT ALL ON FUNCTION public.order_json(o public.orders) TO service_role;


--
-- Name: FUNCTION order_refund(p_order_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.order_refund(p_order_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.order_refund(p_order_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION payment_intent_cancel(p_intent_id uuid, p_reason text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_intent_cancel(p_intent_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_intent_cancel(p_intent_id uuid, p_reason text) TO authenticated;


--
-- Name: FUNCTION payment_intent_capture(p_intent_id uuid, p_amount numeric); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_intent_capture(p_intent_id uuid, p_amount numeric) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_intent_capture(p_intent_id uuid, p_amount numeric) TO authenticated;


--
-- Name: FUNCTION payment_intent_confirm(p_intent_id uuid, p_sources jsonb, p_client_secret text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_intent_confirm(p_intent_id uuid, p_sources jsonb, p_client_secret text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_intent_confirm(p_intent_id uuid, p_sources jsonb, p_client_secret text) TO authenticated;


--
-- Name: FUNCTION payment_intent_create(p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_intent_create(p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_intent_create(p_amount numeric, p_currency text, p_capture_method text, p_customer_id uuid, p_description text, p_metadata jsonb, p_expires_in_seconds integer, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION payment_intent_json(p public.payment_intents); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_intent_json(p public.payment_intents) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_intent_json(p public.payment_intents) TO authenticated;
GRANT ALL ON FUNCTION public.payment_intent_json(p public.payment_intents) TO service_role;


--
-- Name: FUNCTION payment_refund_create(p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_refund_create(p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_refund_create(p_intent_id uuid, p_amount numeric, p_reason text, p_client_ref text) TO authenticated;


--
-- Name: TABLE payment_refunds; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.payment_refunds TO authenticated;
GRANT SELECT ON TABLE public.payment_refunds TO service_role;


--
-- Name: FUNCTION payment_refund_json(r public.payment_refunds); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.payment_refund_json(r public.payment_refunds) FROM PUBLIC;
GRANT ALL ON FUNCTION public.payment_refund_json(r public.payment_refunds) TO authenticated;
GRANT ALL ON FUNCTION public.payment_refund_json(r public.payment_refunds) TO service_role;


--
-- Name: FUNCTION product_create(p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.product_create(p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.product_create(p_shop_id uuid, p_name text, p_sku text, p_price numeric, p_stock integer, p_active boolean, p_description text) TO authenticated;


--
-- Name: TABLE products; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.products TO anon;
GRANT SELECT ON TABLE public.products TO authenticated;
GRANT SELECT ON TABLE public.products TO service_role;


--
-- Name: FUNCTION product_json(p public.products); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.product_json(p public.products) FROM PUBLIC;
GRANT ALL ON FUNCTION public.product_json(p public.products) TO anon;
GRANT ALL ON FUNCTION public.product_json(p public.products) TO authenticated;
GRANT ALL ON FUNCTION public.product_json(p public.products) TO service_role;


--
-- Name: FUNCTION product_update(p_shop_id uuid, p_product_id uuid, p_patch jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.product_update(p_shop_id uuid, p_product_id uuid, p_patch jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.product_update(p_shop_id uuid, p_product_id uuid, p_patch jsonb) TO authenticated;


--
-- Name: FUNCTION provider_sweep_authorize(); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.provider_sweep_authorize() FROM PUBLIC;
GRANT ALL ON FUNCTION public.provider_sweep_authorize() TO authenticated;


--
-- Name: FUNCTION qr_code_create(p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_create(p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_create(p_kind text, p_label text, p_amount numeric, p_currency text, p_subject_id uuid, p_expires_at timestamp with time zone, p_max_uses integer, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION qr_code_disable(p_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_disable(p_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_disable(p_id uuid) TO authenticated;


--
-- Name: FUNCTION qr_code_for(p_kind text, p_subject_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_for(p_kind text, p_subject_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_for(p_kind text, p_subject_id uuid) TO authenticated;
GRANT ALL ON FUNCTION public.qr_code_for(p_kind text, p_subject_id uuid) TO service_role;


--
-- Name: FUNCTION qr_code_json(q public.qr_codes); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_json(q public.qr_codes) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_json(q public.qr_codes) TO authenticated;
GRANT ALL ON FUNCTION public.qr_code_json(q public.qr_codes) TO service_role;


--
-- Name: FUNCTION qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text) TO anon;
GRANT ALL ON FUNCTION public.qr_code_open_guest_intent(p_slug text, p_amount numeric, p_attempt_ref text) TO authenticated;


--
-- Name: FUNCTION qr_code_pay_wallet(p_slug text, p_wallet_id uuid, p_amount numeric, p_attempt_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_pay_wallet(p_slug text, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_pay_wallet(p_slug text, p_wallet_id uuid, p_amount numeric, p_attempt_ref text) TO authenticated;


--
-- Name: FUNCTION qr_code_resolve(p_slug text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_resolve(p_slug text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_resolve(p_slug text) TO anon;
GRANT ALL ON FUNCTION public.qr_code_resolve(p_slug text) TO authenticated;


--
-- Name: FUNCTION qr_code_update(p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.qr_code_update(p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.qr_code_update(p_id uuid, p_label text, p_expires_at timestamp with time zone, p_clear_expiry boolean, p_max_uses integer, p_clear_max_uses boolean, p_status text) TO authenticated;


--
-- Name: FUNCTION quote_fee(p_transaction_type text, p_amount numeric, p_currency text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.quote_fee(p_transaction_type text, p_amount numeric, p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.quote_fee(p_transaction_type text, p_amount numeric, p_currency text) TO authenticated;
GRANT ALL ON FUNCTION public.quote_fee(p_transaction_type text, p_amount numeric, p_currency text) TO service_role;


--
-- Name: FUNCTION session_end(p_session_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.session_end(p_session_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.session_end(p_session_id uuid) TO authenticated;


--
-- Name: FUNCTION session_logout(p_scope text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.session_logout(p_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.session_logout(p_scope text) TO authenticated;


--
-- Name: FUNCTION shop_create(p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.shop_create(p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.shop_create(p_name text, p_slug text, p_currency text, p_escrow_policy text, p_auto_release_days integer, p_description text) TO authenticated;


--
-- Name: TABLE shop_installment_settings; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.shop_installment_settings TO anon;
GRANT SELECT ON TABLE public.shop_installment_settings TO authenticated;
GRANT SELECT ON TABLE public.shop_installment_settings TO service_role;


--
-- Name: FUNCTION shop_installment_settings_json(s public.shop_installment_settings); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.shop_installment_settings_json(s public.shop_installment_settings) FROM PUBLIC;
GRANT ALL ON FUNCTION public.shop_installment_settings_json(s public.shop_installment_settings) TO authenticated;
GRANT ALL ON FUNCTION public.shop_installment_settings_json(s public.shop_installment_settings) TO service_role;


--
-- Name: FUNCTION shop_installment_settings_set(p_shop_id uuid, p_settings jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.shop_installment_settings_set(p_shop_id uuid, p_settings jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.shop_installment_settings_set(p_shop_id uuid, p_settings jsonb) TO authenticated;


--
-- Name: FUNCTION shop_json(s public.shops); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.shop_json(s public.shops) FROM PUBLIC;
GRANT ALL ON FUNCTION public.shop_json(s public.shops) TO anon;
GRANT ALL ON FUNCTION public.shop_json(s public.shops) TO authenticated;
GRANT ALL ON FUNCTION public.shop_json(s public.shops) TO service_role;


--
-- Name: FUNCTION shop_update(p_shop_id uuid, p_patch jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.shop_update(p_shop_id uuid, p_patch jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.shop_update(p_shop_id uuid, p_patch jsonb) TO authenticated;


--
-- Name: FUNCTION transfer(p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_ref text, p_description text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.transfer(p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_ref text, p_description text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.transfer(p_from_wallet uuid, p_to_wallet uuid, p_amount numeric, p_ref text, p_description text) TO authenticated;


--
-- Name: FUNCTION transfer_batch(p_items jsonb); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.transfer_batch(p_items jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION public.transfer_batch(p_items jsonb) TO authenticated;


--
-- Name: FUNCTION wallet_open(p_currency text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.wallet_open(p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wallet_open(p_currency text) TO authenticated;


--
-- Name: FUNCTION wallet_paybill_reference(p_currency text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.wallet_paybill_reference(p_currency text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wallet_paybill_reference(p_currency text) TO authenticated;


--
-- Name: FUNCTION wallet_source_add(p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.wallet_source_add(p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wallet_source_add(p_provider text, p_msisdn text, p_account_number text, p_account_name text, p_label text, p_is_default boolean) TO authenticated;


--
-- Name: TABLE wallet_sources; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_sources TO authenticated;
GRANT SELECT ON TABLE public.wallet_sources TO service_role;


--
-- Name: FUNCTION wallet_source_json(s public.wallet_sources); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.wallet_source_json(s public.wallet_sources) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wallet_source_json(s public.wallet_sources) TO authenticated;
GRANT ALL ON FUNCTION public.wallet_source_json(s public.wallet_sources) TO service_role;


--
-- Name: FUNCTION wallet_source_remove(p_source_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.wallet_source_remove(p_source_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.wallet_source_remove(p_source_id uuid) TO authenticated;


--
-- Name: TABLE webhook_deliveries; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.webhook_deliveries TO authenticated;
GRANT SELECT ON TABLE public.webhook_deliveries TO service_role;


--
-- Name: FUNCTION webhook_delivery_json(d public.webhook_deliveries); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.webhook_delivery_json(d public.webhook_deliveries) FROM PUBLIC;
GRANT ALL ON FUNCTION public.webhook_delivery_json(d public.webhook_deliveries) TO authenticated;
GRANT ALL ON FUNCTION public.webhook_delivery_json(d public.webhook_deliveries) TO service_role;


--
-- Name: FUNCTION webhook_endpoint_create(p_url text, p_events text[], p_description text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.webhook_endpoint_create(p_url text, p_events text[], p_description text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.webhook_endpoint_create(p_url text, p_events text[], p_description text, p_client_ref text) TO authenticated;


--
-- Name: FUNCTION webhook_endpoint_disable(p_endpoint_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.webhook_endpoint_disable(p_endpoint_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.webhook_endpoint_disable(p_endpoint_id uuid) TO authenticated;


--
-- Name: TABLE webhook_endpoints; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.webhook_endpoints TO authenticated;
GRANT SELECT ON TABLE public.webhook_endpoints TO service_role;


--
-- Name: FUNCTION webhook_endpoint_json(e public.webhook_endpoints); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.webhook_endpoint_json(e public.webhook_endpoints) FROM PUBLIC;
GRANT ALL ON FUNCTION public.webhook_endpoint_json(e public.webhook_endpoints) TO authenticated;
GRANT ALL ON FUNCTION public.webhook_endpoint_json(e public.webhook_endpoints) TO service_role;


--
-- Name: FUNCTION withdrawal_cancel(p_withdrawal_id uuid); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.withdrawal_cancel(p_withdrawal_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION public.withdrawal_cancel(p_withdrawal_id uuid) TO authenticated;


--
-- Name: TABLE wallet_withdrawals; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_withdrawals TO authenticated;
GRANT SELECT ON TABLE public.wallet_withdrawals TO service_role;


--
-- Name: FUNCTION withdrawal_json(w public.wallet_withdrawals); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.withdrawal_json(w public.wallet_withdrawals) FROM PUBLIC;
GRANT ALL ON FUNCTION public.withdrawal_json(w public.wallet_withdrawals) TO authenticated;
GRANT ALL ON FUNCTION public.withdrawal_json(w public.wallet_withdrawals) TO service_role;


--
-- Name: FUNCTION withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text); Type: ACL; Schema: public; Owner: -
--

REVOKE ALL ON FUNCTION public.withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.withdrawal_request(p_source_id uuid, p_amount numeric, p_currency text, p_client_ref text) TO authenticated;


--
-- Name: TABLE audit_logs; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.audit_logs TO service_role;
GRANT SELECT ON TABLE public.audit_logs TO authenticated;


--
-- Name: TABLE auth_accounts; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_accounts TO service_role;


--
-- Name: COLUMN auth_accounts.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.user_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.provider; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(provider) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.provider_account_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(provider_account_id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.updated_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(updated_at) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: TABLE auth_users; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_users TO service_role;


--
-- Name: COLUMN auth_users.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.email; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(email) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.email_verified_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(email_verified_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.name; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(name) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.phone; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(phone) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.role; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(role) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.status; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(status) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.updated_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(updated_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: TABLE auth_verification_token; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_verification_token TO service_role;


--
-- Name: TABLE billing_fee_catalog; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.billing_fee_catalog TO anon;
GRANT SELECT ON TABLE public.billing_fee_catalog TO authenticated;
GRANT SELECT,INSERT,UPDATE ON TABLE public.billing_fee_catalog TO service_role;


--
-- Name: TABLE currencies; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.currencies TO anon;
GRANT SELECT ON TABLE public.currencies TO authenticated;
GRANT SELECT ON TABLE public.currencies TO service_role;


--
-- Name: TABLE invoice_items; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.invoice_items TO authenticated;
GRANT SELECT ON TABLE public.invoice_items TO service_role;


--
-- Name: TABLE job_runs; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.job_runs TO service_role;


--
-- Name: TABLE merchant_applications; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.merchant_applications TO authenticated;
GRANT SELECT ON TABLE public.merchant_applications TO service_role;


--
-- Name: TABLE merchant_fee_profiles; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.merchant_fee_profiles TO authenticated;
GRANT SELECT,INSERT,UPDATE ON TABLE public.merchant_fee_profiles TO service_role;


--
-- Name: TABLE order_items; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.order_items TO authenticated;
GRANT SELECT ON TABLE public.order_items TO service_role;


--
-- Name: TABLE payment_idempotency; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.payment_idempotency TO service_role;


--
-- Name: TABLE payment_intent_parts; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.payment_intent_parts TO authenticated;
GRANT SELECT ON TABLE public.payment_intent_parts TO service_role;


--
-- Name: TABLE transaction_types; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.transaction_types TO anon;
GRANT SELECT ON TABLE public.transaction_types TO authenticated;
GRANT SELECT ON TABLE public.transaction_types TO service_role;


--
-- Name: TABLE wallet_account_references; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_account_references TO authenticated;
GRANT SELECT ON TABLE public.wallet_account_references TO service_role;


--
-- Name: TABLE wallet_balance_buckets; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_balance_buckets TO authenticated;
GRANT SELECT ON TABLE public.wallet_balance_buckets TO service_role;


--
-- Name: TABLE wallets; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallets TO authenticated;
GRANT SELECT ON TABLE public.wallets TO service_role;


--
-- Name: TABLE wallet_balances; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_balances TO authenticated;
GRANT SELECT ON TABLE public.wallet_balances TO service_role;


--
-- Name: TABLE wallet_transactions; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.wallet_transactions TO authenticated;
GRANT SELECT ON TABLE public.wallet_transactions TO service_role;


--
-- Name: TABLE webhook_delivery_attempts; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.webhook_delivery_attempts TO authenticated;
GRANT SELECT ON TABLE public.webhook_delivery_attempts TO service_role;


--
-- PostgreSQL database dump complete
--

\unrestrict cyiJzqUKmnWgefSJW762YyGhBGgDx6SRRRkVUEoDHrBHX1kxrkgUSPyv1b6RjqN


-- Reference data inserted by the migrations

INSERT INTO hazina.jobs VALUES ('holds.expire', 'database', 'hazina.job_expire_holds', '00:01:00', 1000, false, 'Release pending holds past their expiry.');
INSERT INTO hazina.jobs VALUES ('idempotency.purge', 'database', 'hazina.job_purge_idempotency', '00:01:00', 5000, false, 'Delete Idempotency-Key records past their 24 hours.');
INSERT INTO hazina.jobs VALUES ('auth.purge', 'database', 'hazina.job_purge_auth', '01:00:00', 1000, true, 'Delete verification tokens and refresh-token families unusable for 30 days.');
INSERT INTO hazina.jobs VALUES ('money.sweep_sql', 'database', 'hazina.job_money_sweep_sql', '00:01:00', 500, false, 'Expire abandoned top-ups; re-apply unmatched or failed provider events.');
INSERT INTO hazina.jobs VALUES ('money.provider_sweep', 'edge', NULL, '00:01:00', 100, false, 'Ask providers about overdue top-ups and withdrawals and settle them (releases the holds of failed payouts).');
INSERT INTO hazina.jobs VALUES ('payments.expire_intents', 'database', 'hazina.job_expire_payment_intents', '00:01:00', 500, false, 'Cancel payment intents past their expiry and release their holds.');
INSERT INTO hazina.jobs VALUES ('webhooks.deliver', 'edge', NULL, '00:00:05', 100, false, 'POST due webhook deliveries to merchant endpoints (signed, Standard Webhooks), retrying with backoff.');
INSERT INTO hazina.jobs VALUES ('invoices.mark_overdue', 'database', 'hazina.job_mark_overdue_invoices', '00:05:00', 500, false, 'Mark open invoices past their due date overdue (invoice.overdue), once each.');
INSERT INTO hazina.jobs VALUES ('orders.release_escrows', 'database', 'hazina.job_release_due_escrows', '00:01:00', 100, false, 'Release goods escrows to the merchant auto_release_days after delivery when the buyer neither confirmed nor disputed.');
INSERT INTO hazina.jobs VALUES ('installments.due', 'database', 'hazina.job_installments_due', '00:01:00', 200, false, 'Installment plans: auto-collect due payments, mark late rows, charge late fees once, default after missed payments.');
INSERT INTO hazina.jobs VALUES ('installments.remind', 'edge', NULL, '00:05:00', 200, false, 'Installment plans: mail the customer before a payment falls due (installment.due_soon).');
INSERT INTO hazina.jobs VALUES ('qr_codes.expire', 'database', 'hazina.job_expire_qr_codes', '00:01:00', 500, false, 'Mark QR codes past their expiry expired (payments through them are refused at once, job or not).');
INSERT INTO hazina.jobs VALUES ('webhooks.purge', 'database', 'hazina.job_purge_webhook_deliveries', '01:00:00', 1000, false, 'Delete succeeded and failed webhook deliveries (and their attempts) older than hazina.webhook_delivery_retention (default 30 days).');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_payment_intents()', 'payment intents: received, refunded and capturable agree with the ledger, refunds and holds');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_payment_refunds()', 'payment refunds: each is a reversal of its capture for its amount, its fee share billed; fee refunds never exceed the fee and equal it when fully refunded');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_invoices()', 'invoices: paid = their intents received less refunds, due = total less paid, totals = their lines');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_escrow()', 'goods escrow and orders: the escrow wallets hold what they owe; orders and escrows agree with their intents and releases');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_installments()', 'installment plans: figures agree with the schedule; money held in escrow is what active plans were paid');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_qr_codes()', 'qr codes: each code''s use_count is the number of its succeeded payment intents');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_guest_refunds()', 'guest refunds: a pending one has its payout hold, a succeeded one its posted payout and billed fee share, a failed one nothing moved');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_installment_clawbacks()', 'completed installment plans without escrow: what their orders refunded is what was taken back from the merchant');
INSERT INTO hazina.reconciliation_checks VALUES ('hazina.reconcile_invoice_guest_refunds()', 'invoices with pending guest refunds: still owed at least those refunds, open, and no payment taken since');
INSERT INTO public.currencies VALUES ('KES', 2, 'Kenyan Shilling');
INSERT INTO public.currencies VALUES ('UGX', 0, 'Ugandan Shilling');
INSERT INTO public.currencies VALUES ('TZS', 2, 'Tanzanian Shilling');
INSERT INTO public.currencies VALUES ('USD', 2, 'US Dollar');
INSERT INTO public.transaction_types VALUES ('p2p_transfer', 'sender', 'A payment from one user''s wallet to another''s: the sender pays amount + fee.');
INSERT INTO public.transaction_types VALUES ('merchant_payment', 'receiver', 'A payment into a merchant''s wallet: the merchant bears the fee, out of what it receives.');
INSERT INTO public.transaction_types VALUES ('funding', 'receiver', 'A top-up (STK push, bank collection, paybill): money arrives from a provider''s clearing wallet; the credited wallet pays any funding fee.');
INSERT INTO public.transaction_types VALUES ('withdrawal', 'sender', 'A payout to a user''s own M-Pesa number or bank account, held until the provider answers; the user pays the withdrawal fee.');
INSERT INTO public.transaction_types VALUES ('withdrawal_settlement', 'sender', 'Platform bookkeeping after a payout: payouts_in_flight to the provider''s clearing wallet. Never priced.');
INSERT INTO public.transaction_types VALUES ('reversal', 'sender', 'Undoes a posted transaction fully or partly; a full reversal refunds the original fees. Never priced.');
INSERT INTO public.transaction_types VALUES ('payment_intent', 'receiver', 'A customer pays a merchant through a payment intent (held, then captured): the merchant bears the fee, out of what it receives, as for merchant_payment.');
INSERT INTO public.transaction_types VALUES ('order_payment', 'receiver', 'A customer pays a shop order straight into the merchant''s wallet (through its payment intent): the merchant bears the fee, out of what it receives.');
INSERT INTO public.transaction_types VALUES ('escrow_funding', 'receiver', 'A customer pays an escrowed order into the escrow system wallet (through its payment intent). Never priced: the fee is charged once, when the escrow is released (escrow_release).');
INSERT INTO public.transaction_types VALUES ('escrow_release', 'receiver', 'Goods escrow pays the merchant (buyer confirmed receipt, auto-release, or an admin''s resolution): the merchant bears the escrow_release fee, out of what it receives.');
INSERT INTO public.transaction_types VALUES ('installment_late_fee', 'sender', 'The late fee on a missed installment: priced from the fee catalog on the missed payment''s amount, added to what the customer owes and paid with it into escrow; it reaches the merchant when the plan completes. Never posted on its own.');
INSERT INTO public.transaction_types VALUES ('installment_cancellation_fee', 'receiver', 'The cancellation fee of a defaulted or canceled installment plan, from escrow to the merchant (what it keeps of the customer''s payments). Not priced: the platform earns nothing on a failed plan.');
INSERT INTO public.transaction_types VALUES ('refund_payout', 'sender', 'A guest''s refund paid out by B2C to the phone that paid: from the merchant''s wallet to payouts_in_flight. Never priced: a refund carries no withdrawal fee.');
SELECT hazina.ensure_system_wallets(code) FROM public.currencies;

-- Migrations already contained in this file

INSERT INTO dbmate.schema_migrations (version) VALUES
    ('20261124000100'),
    ('20261124000200'),
    ('20261124000300'),
    ('20261124000310'),
    ('20261124000320'),
    ('20261124000330'),
    ('20261124000390'),
    ('20261124000400'),
    ('20261124000450'),
    ('20261124000500'),
    ('20261124000600'),
    ('20261124000650'),
    ('20261124000700'),
    ('20261124000800'),
    ('20261124000850'),
    ('20261124000860'),
    ('20261124000900'),
    ('20261124000910'),
    ('20261124000920'),
    ('20261124000930'),
    ('20261124000940'),
    ('20261124000945'),
    ('20261124000950'),
    ('20261124000960'),
    ('20261124000970'),
    ('20261124000980'),
    ('20261124001000'),
    ('20261124001010'),
    ('20261124001020'),
    ('20261124001030'),
    ('20261124001040'),
    ('20261124001050'),
    ('20261124001055'),
    ('20261124001060'),
    ('20261124001100'),
    ('20261124001110'),
    ('20261124001111'),
    ('20261124001200'),
    ('20261124001210'),
    ('20261124001220'),
    ('20261124001300'),
    ('20261124001310'),
    ('20261124001400'),
    ('20261124001410'),
    ('20261124001420'),
    ('20261124001500'),
    ('20261124001600'),
    ('20261124001620'),
    ('20261124001660'),
    ('20261124001700'),
    ('20261124001750'),
    ('20261124001760'),
    ('20261124001800'),
    ('20261124001850'),
    ('20261124001860'),
    ('20261124001920'),
    ('20261124001950'),
    ('20261124001970');
