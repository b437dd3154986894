-- migrate:up
-- Operations: what operators (admins) may run through the `ops` function, and the
-- scheduled sweeps. An admin is decided by the one rule in *_auth_caller.sql: a caller who
-- may act (live login, user not suspended) and whose auth_users.role is 'admin', checked
-- in the database, never trusted from the JWT.

-- The first line of every operator function: `unauthenticated` / `account_disabled` when
-- the caller may not act at all (hazina.caller_id()), `forbidden` when they are no admin.
create function hazina.assert_admin() returns void
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.caller_id();
  if not public.is_admin() then
    perform hazina.raise_error('forbidden', jsonb_build_object('reason', 'admins only'));
  end if;
end
$$;

-- Books check for operators: discrepancies (empty = correct) and the trial balance.
create function public.ops_reconciliation() returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
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

-- Every periodic sweep in one call (pg_cron runs it every minute where available).
create function hazina.run_sweeps() returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return jsonb_build_object(
    'holds_expired', hazina.expire_holds(),
    'idempotency_keys_purged', hazina.idempotency_purge_expired());
end
$$;

create function public.ops_run_sweeps() returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.assert_admin();
  return hazina.run_sweeps();
end
$$;

-- Operators freeze and unfreeze wallets (no money moves while frozen); audited.
create function public.ops_set_wallet_status(p_wallet_id uuid, p_status text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Operators reverse a posted transaction (a mistaken payment, a chargeback), fully or
-- partly, with a reason; idempotent by the operator's ref (see hazina.reverse_transaction).
create function public.ops_reverse_transaction(p_transaction_id uuid, p_ref text, p_amount numeric default null,
                                               p_reason text default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Schedule the sweeps where pg_cron exists (Supabase has it); elsewhere call
-- `select hazina.run_sweeps()` from any scheduler, or POST /functions/v1/ops/sweeps.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('hazina-sweeps', '* * * * *', 'select hazina.run_sweeps()');
  end if;
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.ops_reconciliation(), public.ops_run_sweeps(),
  public.ops_set_wallet_status(uuid, text), public.ops_reverse_transaction(uuid, text, numeric, text) from public, anon;
grant execute on function public.ops_reconciliation(), public.ops_run_sweeps(),
  public.ops_set_wallet_status(uuid, text), public.ops_reverse_transaction(uuid, text, numeric, text) to authenticated;
grant execute on function hazina.run_sweeps() to service_role;

-- migrate:down
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.unschedule('hazina-sweeps');
  end if;
end
$$;
drop function if exists public.ops_reverse_transaction(uuid, text, numeric, text);
drop function if exists public.ops_set_wallet_status(uuid, text);
drop function if exists public.ops_run_sweeps();
drop function if exists hazina.run_sweeps();
drop function if exists public.ops_reconciliation();
drop function if exists hazina.assert_admin();
