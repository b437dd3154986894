-- migrate:up
-- Transfers: wallet opening, the internal transfer (principal + fee in one transaction)
-- and the client-facing P2P / merchant payment. Batches are *_transfer_batches.sql.

-- Who pays each transaction type's fee is public.transaction_types.fee_payer, read by
-- hazina.fee_payer (transaction types migration), which also refuses an unknown type.
-- (This file used to list invoice_payment, escrow_release and installment as receiver-paid
-- before they existed; each now arrives as a row in its own capability's migration.)

-- An amount a transfer may move: positive, within NUMERIC(19,4), and no finer than the
-- currency's minor unit (KES moves in cents).
create function hazina.assert_valid_amount(p_amount numeric, p_currency text) returns void
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_minor_units smallint;
begin
  select minor_units into v_minor_units from public.currencies where code = p_currency;
  if p_amount is null or p_amount <= 0 or p_amount >= 1e15 or p_amount <> round(p_amount, coalesce(v_minor_units, 4)) then
    perform hazina.raise_error('invalid_amount', jsonb_build_object('currency', p_currency, 'decimals', v_minor_units));
  end if;
end
$$;

-- Moves p_amount from one wallet to another and charges the catalog fee, all in one
-- ledger transaction, idempotent by p_ref. Returns the result as JSON (amounts as strings).
create function hazina.transfer(
  p_ref text,
  p_from_wallet uuid,
  p_to_wallet uuid,
  p_amount numeric,
  p_transaction_type text default 'p2p_transfer',
  p_description text default null,
  p_metadata jsonb default '{}'
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
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

-- The stored result of a transfer, for replays.
create function hazina.transfer_result(p_transaction_id uuid, p_replayed boolean) returns jsonb
  language sql stable
  security definer
  set search_path = ''
  as $$
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

-- Client API: pay another wallet from one of mine. The caller must own the source wallet
-- (checked here from request.jwt.claims). Paying a merchant wallet is a merchant payment
-- (the merchant bears the fee); anything else is P2P (the sender bears the fee).
-- p_ref is the caller's idempotency key; it is namespaced by user so keys never collide.
create function public.transfer(
  p_from_wallet uuid,
  p_to_wallet uuid,
  p_amount numeric,
  p_ref text,
  p_description text default null
) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := hazina.caller_id();
  v_to_kind text;
  v_result jsonb;
begin
  if p_ref is null or length(p_ref) not between 1 and 200 then
    perform hazina.raise_error('invalid_ref', jsonb_build_object('reason', 'ref must be 1 to 200 characters'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  if not exists (select 1 from public.wallets where id = p_from_wallet and user_id = v_uid) then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_from_wallet));
  end if;
  select kind into v_to_kind from public.wallets where id = p_to_wallet;
  if v_to_kind is null or v_to_kind = 'system' then
    perform hazina.raise_error('wallet_not_found', jsonb_build_object('wallet_id', p_to_wallet));
  end if;
  v_result := hazina.transfer(
    'transfer:' || v_uid || ':' || p_ref, p_from_wallet, p_to_wallet, p_amount,
    case v_to_kind when 'merchant' then 'merchant_payment' else 'p2p_transfer' end,
    p_description, jsonb_build_object('initiated_by', v_uid));
  return v_result || jsonb_build_object('ref', p_ref);
end
$$;

-- A wallet as the API shows it: money as strings, never JSON numbers.
create function hazina.wallet_json(p_wallet_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', b.wallet_id, 'user_id', b.user_id, 'kind', b.kind, 'currency', b.currency,
                            'status', b.status, 'balance', b.balance::text, 'held', b.held::text,
                            'available', b.available::text, 'created_at', b.created_at, 'updated_at', b.updated_at)
    from public.wallet_balances b where b.wallet_id = p_wallet_id
$$;

-- Client API: open my wallet in a currency (idempotent: returns the existing one).
-- Merchants' wallets pool their credits so many customers can pay them at once.
create function public.wallet_open(p_currency text default 'KES') returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.transfer(uuid, uuid, numeric, text, text), public.wallet_open(text)
  from public, anon;
grant execute on function public.transfer(uuid, uuid, numeric, text, text), public.wallet_open(text) to authenticated;
grant execute on function hazina.transfer(text, uuid, uuid, numeric, text, text, jsonb),
  hazina.transfer_result(uuid, boolean) to service_role;

-- migrate:down
drop function if exists public.wallet_open(text);
drop function if exists public.transfer(uuid, uuid, numeric, text, text);
drop function if exists hazina.transfer(text, uuid, uuid, numeric, text, text, jsonb);
drop function if exists hazina.transfer_result(uuid, boolean);
drop function if exists hazina.assert_valid_amount(numeric, text);
drop function if exists hazina.wallet_json(uuid);
