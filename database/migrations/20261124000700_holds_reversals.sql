-- migrate:up
-- Two-phase transfers (holds) and reversals.
--
-- A hold reserves amount + fee on the source wallet (wallets.held) until it is posted
-- (fully or partly), voided, or expires at its deadline. Who pays the fee is
-- hazina.fee_payer's rule, as for transfers: a sender-paid fee is reserved with the amount;
-- a receiver-paid one (a merchant's takings) is charged to the receiver, out of the amount,
-- when the hold is posted. Withdrawals, payment authorisations and escrow build on it.
-- A reversal undoes a posted transaction, fully (every entry mirrored, fees refunded) or
-- partly (principal only), never beyond it.

-- Lock, in id order (the global lock order), the rows a posting will change: every
-- debited wallet, and credited wallets unless they pool their credits in buckets.
create function hazina.lock_wallets(p_debited uuid[], p_credited uuid[]) returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  perform 1 from public.wallets
   where id = any (p_debited) or (id = any (p_credited) and credit_buckets = 1)
   order by id for no key update;
end
$$;

-- Reserve p_amount (+ the fee of p_transaction_type, when the sender pays it) on
-- p_from_wallet for p_to_wallet.
create function hazina.hold_create(
  p_ref text,
  p_from_wallet uuid,
  p_to_wallet uuid,
  p_amount numeric,
  p_expires_at timestamptz,
  p_transaction_type text default 'p2p_transfer',
  p_description text default null,
  p_metadata jsonb default '{}'
) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
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

-- Give back a pending hold's reservation and close it as voided or expired. The caller
-- holds the hold row lock and has checked it is pending.
create function hazina.hold_release(p_hold public.wallet_holds, p_status text) returns void
  language plpgsql
  set search_path = ''
  as $$
begin
  update public.wallets set held = held - p_hold.amount - p_hold.fee_amount, updated_at = now()
   where id = p_hold.wallet_id;
  update public.wallet_holds set status = p_status, resolved_at = now() where id = p_hold.id;
end
$$;

-- Post a pending hold: move p_amount (default: all of it) and its fee; release the rest.
-- Posting an already posted hold with the same amount returns the same transaction.
create function hazina.hold_post(p_hold_id uuid, p_amount numeric default null) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
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

-- Void a pending hold (idempotent: voiding a voided hold is a no-op).
create function hazina.hold_void(p_hold_id uuid) returns void
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
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

-- Sweep: expire every pending hold past its deadline. Safe to run concurrently
-- (skip locked) and often (pg_cron, or the operator endpoint). Returns how many expired.
create function hazina.expire_holds(p_limit integer default 1000) returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Reverse a posted transaction. p_amount null = everything that remains: when nothing was
-- reversed yet that mirrors every entry and refunds the fees; otherwise (and for any
-- explicit p_amount) it returns principal only, and needs one payer and one payee.
create function hazina.reverse_transaction(
  p_transaction_id uuid,
  p_ref text,
  p_amount numeric default null,
  p_reason text default null
) returns uuid
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function
  hazina.hold_create(text, uuid, uuid, numeric, timestamptz, text, text, jsonb),
  hazina.hold_post(uuid, numeric), hazina.hold_void(uuid), hazina.expire_holds(integer),
  hazina.reverse_transaction(uuid, text, numeric, text)
  to service_role;

-- migrate:down
drop function if exists hazina.reverse_transaction(uuid, text, numeric, text);
drop function if exists hazina.expire_holds(integer);
drop function if exists hazina.hold_void(uuid);
drop function if exists hazina.hold_post(uuid, numeric);
drop function if exists hazina.hold_release(public.wallet_holds, text);
drop function if exists hazina.hold_create(text, uuid, uuid, numeric, timestamptz, text, text, jsonb);
drop function if exists hazina.lock_wallets(uuid[], uuid[]);
