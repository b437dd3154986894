-- migrate:up
-- Guest refunds by B2C payout to the paying phone (docs/payments.md, "Guest refunds").
-- A guest's M-Pesa payment credited the payee from mpesa_clearing; there is no wallet to
-- reverse into, so its refund is a payout: a withdrawal of the payee's money to the phone
-- the guest paid from, through the withdrawal machinery (20261124000930_withdrawals.sql):
--   payment_refund (guest): pending --payout completed--> succeeded
--                                   --payout failed------> failed
--   create (hazina.payment_refund_create, one transaction, under the intent's lock):
--     the refund row (pending, fee_refunded = its proportional fee share, the rule of
--     20261124001111_payment_refund_fees.sql), amount_refunded += amount (pending refunds
--     count, so concurrent refunds never exceed what was captured), and a payout
--     (public.wallet_withdrawals, source_id null, msisdn = the paying phone) whose hold moves
--     the refund amount from the payee wallet towards payouts_in_flight (type refund_payout,
--     never priced: the merchant pays no withdrawal fee on a refund). The edge sends the
--     B2C request after this commits; the result callback is a claim confirmed by our
--     Transaction Status query; the sweep asks about lost answers (docs/money-movement.md).
--   succeeded (hazina.payment_refund_succeed, inside hazina.withdrawal_complete's
--     transaction): the hold is posted and payouts_in_flight settled against mpesa_clearing
--     (as for any withdrawal), and the fee share goes back from fee_revenue to the payee as
--     a reversal of the capture (principal 0, fee legs only, its billing_ledger 'refund'
--     row). transaction_id = the posted payout hold, fee_transaction_id = that reversal.
--   failed (hazina.payment_refund_fail, inside hazina.withdrawal_fail's transaction): the
--     hold is voided (all the money stays in the payee wallet), amount_refunded is restored
--     and fee_refunded becomes 0 (nothing was given back).
-- Not enough available money in the payee wallet for the whole refund amount (the fee share
-- comes back only on success): 409 refund_insufficient_funds, nothing moves.
-- Lock order: withdrawal row → intent row → wallets (settlement, which locks the intent
-- before it posts); intent row → wallets (create). No cycle.
-- Guest intents of an invoice, an order or an installment plan are still refused with
-- refund_not_supported: those capabilities record a refund as final when it is created.

insert into public.transaction_types (code, fee_payer, description) values
  ('refund_payout', 'sender',
   'A guest''s refund paid out by B2C to the phone that paid: from the merchant''s wallet to payouts_in_flight. '
   'Never priced: a refund carries no withdrawal fee.');

-- A payout that is a guest refund has no source of the merchant: it goes to a phone.
alter table public.wallet_withdrawals
  alter column source_id drop not null,
  add column msisdn text check (msisdn ~ '^254[17][0-9]{8}$'),
  add constraint wallet_withdrawals_destination check ((source_id is null) <> (msisdn is null)),
  add constraint wallet_withdrawals_msisdn_mpesa check (msisdn is null or provider = 'mpesa');

alter table public.payment_refunds
  drop constraint payment_refunds_status_check,
  add constraint payment_refunds_status_check check (status in ('pending', 'succeeded', 'failed')),
  alter column transaction_id drop not null,
  add column payout_id uuid unique references public.wallet_withdrawals (id),
  add column fee_transaction_id uuid unique references public.wallet_transactions (id),
  add column failure_code text check (length(failure_code) <= 100),
  add column failure_reason text check (length(failure_reason) <= 500),
  -- A refund to a wallet is one reversal, done at once; a payout refund is posted when it succeeds.
  add constraint payment_refunds_shape check (
    case when payout_id is null then status = 'succeeded' and transaction_id is not null and fee_transaction_id is null
         else (status = 'succeeded') = (transaction_id is not null)
              and (status = 'succeeded' or fee_transaction_id is null) end);
create index payment_refunds_pending_idx on public.payment_refunds (payment_intent_id) where status = 'pending';

create or replace function public.payment_refund_json(r public.payment_refunds) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', r.id, 'object', 'payment_refund', 'payment_intent_id', r.payment_intent_id,
                            'amount', r.amount::text, 'fee_refunded', coalesce(r.fee_refunded, 0)::text,
                            'currency', r.currency, 'reason', r.reason, 'status', r.status,
                            'transaction_id', r.transaction_id, 'payout_id', r.payout_id,
                            'failure_code', r.failure_code, 'failure_reason', r.failure_reason,
                            'created_at', public.api_time(r.created_at), 'updated_at', public.api_time(r.updated_at))
$$;

-- The merchant refunds a succeeded intent, all that remains or p_amount. Idempotent by
-- (merchant, client_ref). A signed-in payer's money goes back to its wallet at once (one
-- reversal); a guest's goes back by payout (pending; see the top of this file).
create or replace function hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text,
                                                        p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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
    if v_intent.customer_id is not null or v_payer <> hazina.provider_clearing_wallet('mpesa', v_intent.currency) then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'the payment did not come from a customer''s wallet or a guest''s M-Pesa phone'));
    end if;
    if v_intent.subject_type in ('invoice', 'order', 'installment') then
      perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
        'reason', 'a guest''s payment of an ' || v_intent.subject_type || ' cannot be refunded by payout yet'));
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

-- The payout of a guest refund was paid (called by hazina.withdrawal_complete, in its
-- transaction, after it posted the hold): the fee share goes back to the payee as a fee-only
-- reversal of the capture, the refund succeeds (payment_refund.succeeded). Repeat: no-op.
create function hazina.payment_refund_succeed(p_refund_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The payout of a guest refund failed (called by hazina.withdrawal_fail, in its transaction,
-- after it voided the hold): the money never left the payee wallet; the intent may be
-- refunded that much again (payment_refund.failed). Repeat: no-op.
create function hazina.payment_refund_fail(p_refund_id uuid, p_code text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The withdrawal verbs, as before, plus: a payout that is a guest refund locks its intent
-- right after the withdrawal row (the lock order above) and settles its refund in the same
-- transaction; the merchant cannot cancel it (the refund decides, not the owner).
create or replace function hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create or replace function hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create or replace function hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Where a payout goes: the source's details, or a guest refund's phone.
create function hazina.payout_destination(p_withdrawal_id uuid)
  returns table (msisdn text, account_number text, account_name text, payment_refund_id uuid)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select coalesce(s.msisdn, w.msisdn), s.account_number, s.account_name, r.id
    from public.wallet_withdrawals w
    left join public.wallet_sources s on s.id = w.source_id
    left join public.payment_refunds r on r.payout_id = w.id
   where w.id = p_withdrawal_id
$$;

-- Reconciliation. Intents: refunded = the sum of the refunds that did not fail (pending
-- ones count: their money is held for the payout).
create or replace function hazina.reconcile_payment_intents()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

-- Refunds to a wallet: each is a reversal of its capture for its amount, its fee share billed
-- (as before); payout refunds are checked by hazina.reconcile_guest_refunds.
create or replace function hazina.reconcile_payment_refunds()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

-- Guest refunds (payouts): a pending one has its payout in flight with the whole amount held
-- on the payee wallet; a succeeded one its completed payout posted (transaction_id) and its
-- fee share billed as a reversal of the capture; a failed one its failed payout, hold voided,
-- nothing given back. Each payout goes from the intent's payee wallet, for the refund's amount.
create function hazina.reconcile_guest_refunds()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_guest_refunds()',
   'guest refunds: a pending one has its payout hold, a succeeded one its posted payout and billed fee share, a failed one nothing moved');

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.payment_refund_json(public.payment_refunds) from public, anon;
grant execute on function public.payment_refund_json(public.payment_refunds) to authenticated, service_role;
grant execute on function hazina.reconcile_guest_refunds(), hazina.payout_destination(uuid),
  hazina.payment_refund_succeed(uuid), hazina.payment_refund_fail(uuid, text, text) to service_role;

-- migrate:down
-- Reverting needs no guest refund to exist (their rows would break the old shape).
-- The previous bodies (20261124001111, 20261124001040, 20261124000930), before the columns go.
create or replace function public.payment_refund_json(r public.payment_refunds) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', r.id, 'object', 'payment_refund', 'payment_intent_id', r.payment_intent_id,
                            'amount', r.amount::text, 'fee_refunded', coalesce(r.fee_refunded, 0)::text,
                            'currency', r.currency, 'reason', r.reason, 'status', r.status,
                            'transaction_id', r.transaction_id,
                            'created_at', public.api_time(r.created_at), 'updated_at', public.api_time(r.updated_at))
$$;

create or replace function hazina.payment_refund_create(p_merchant_id uuid, p_intent_id uuid, p_amount numeric, p_reason text,
                                                        p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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
  v_remaining := v_intent.amount_received - v_intent.amount_refunded;
  v_amount := coalesce(p_amount, v_remaining);
  if v_amount <= 0 and p_amount is null then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  perform hazina.assert_valid_amount(v_amount, v_intent.currency);
  if v_amount > v_remaining then
    perform hazina.raise_error('refund_exceeds_captured', jsonb_build_object('refundable', v_remaining::numeric(19, 4)::text));
  end if;
  -- Who paid: the capture's one principal payer (the customer's wallet).
  select (array_agg(e.wallet_id) filter (where e.direction = 'debit'))[1] into v_payer
    from hazina.transaction_entries(v_intent.capture_transaction_id) e where e.leg = 'principal'
  having count(distinct e.wallet_id) filter (where e.direction = 'debit') = 1;
  if v_payer is null or exists (select 1 from public.wallets where id = v_payer and kind = 'system') then
    perform hazina.raise_error('refund_not_supported', jsonb_build_object('payment_intent_id', p_intent_id,
      'reason', 'a guest''s M-Pesa payment is refunded by B2C payout, which is not available yet'));
  end if;

  -- The fee share (the capture's one fee charge, if any).
  select * into v_charge from public.billing_ledger
   where transaction_id = v_intent.capture_transaction_id and direction = 'charge' order by ref limit 1;
  if v_charge.ref is not null then
    select coalesce(sum(r.fee_refunded), 0) into v_fee_refunded from public.payment_refunds r where r.payment_intent_id = p_intent_id;
    select minor_units into v_minor from public.currencies where code = v_intent.currency;
    v_fee := hazina.refund_fee_share(v_charge.amount, v_fee_refunded, v_amount, v_intent.amount_received,
                                     v_amount = v_remaining, v_minor);
  end if;

  -- One reversal of the capture: principal back, and the fee share back to its payer.
  v_reason := left(coalesce(p_reason, 'Refund'), 500);
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

create or replace function hazina.reconcile_payment_refunds()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  select 'payment_refund_reverses_capture', r.id::text, r.amount, t.principal_amount
    from public.payment_refunds r
    join public.payment_intents i on i.id = r.payment_intent_id
    left join public.wallet_transactions t on t.id = r.transaction_id
   where t.id is null or t.reverses_id is distinct from i.capture_transaction_id or t.principal_amount <> r.amount
  union all
  select 'payment_refund_fee_is_billed', r.id::text, r.fee_refunded, coalesce(b.refunded, 0)
    from public.payment_refunds r
    left join lateral (select sum(l.amount) as refunded from public.billing_ledger l
                        where l.transaction_id = r.transaction_id and l.direction = 'refund') b on true
   where r.fee_refunded is not null and r.fee_refunded <> coalesce(b.refunded, 0)
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

create or replace function hazina.reconcile_payment_intents()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
  -- received = the principal its capture transaction credited to the payee
  select 'payment_intent_received_matches_capture', i.id::text, i.amount_received, coalesce(c.credited, 0)
    from public.payment_intents i
    left join lateral (select sum(e.amount) as credited from hazina.transaction_entries(i.capture_transaction_id) e
                        where e.wallet_id = i.payee_wallet_id and e.direction = 'credit' and e.leg = 'principal') c on true
   where i.amount_received <> coalesce(c.credited, 0)
  union all
  -- refunded = the sum of its refunds (never above what was received, and a succeeded
  -- intent has its capture: the table's own constraints hold those)
  select 'payment_intent_refunded_matches_refunds', i.id::text, i.amount_refunded, coalesce(r.total, 0)
    from public.payment_intents i
    left join (select payment_intent_id, sum(amount) as total from public.payment_refunds group by payment_intent_id) r
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

create or replace function hazina.withdrawal_complete(p_withdrawal_id uuid, p_receipt text, p_amount numeric default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
  v_posted uuid;
  v_settled uuid;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
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
  return hazina.withdrawal_json(p_withdrawal_id) || jsonb_build_object('replayed', false);
end
$$;

create or replace function hazina.withdrawal_fail(p_withdrawal_id uuid, p_code text, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_withdrawal public.wallet_withdrawals;
begin
  select * into v_withdrawal from public.wallet_withdrawals where id = p_withdrawal_id for update;
  if v_withdrawal.id is null then
    perform hazina.raise_error('withdrawal_not_found', jsonb_build_object('withdrawal_id', p_withdrawal_id));
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
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

create or replace function hazina.withdrawal_cancel(p_withdrawal_id uuid, p_user_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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
  if v_withdrawal.status <> 'pending' or v_withdrawal.submitted_at is not null then
    perform hazina.raise_error('withdrawal_not_cancellable', jsonb_build_object(
      'withdrawal_id', p_withdrawal_id, 'status', v_withdrawal.status, 'submitted', v_withdrawal.submitted_at is not null));
  end if;
  perform hazina.hold_void(v_withdrawal.hold_id);
  update public.wallet_withdrawals
     set status = 'cancelled', failure_code = 'cancelled', failure_reason = 'cancelled by the owner', updated_at = now()
   where id = p_withdrawal_id;
  return hazina.withdrawal_json(p_withdrawal_id);
end
$$;

delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_guest_refunds()'::regprocedure;
drop function if exists hazina.reconcile_guest_refunds();
drop function if exists hazina.payout_destination(uuid);
drop function if exists hazina.payment_refund_fail(uuid, text, text);
drop function if exists hazina.payment_refund_succeed(uuid);
drop index if exists public.payment_refunds_pending_idx;
alter table public.payment_refunds
  drop constraint payment_refunds_shape,
  drop column failure_reason,
  drop column failure_code,
  drop column fee_transaction_id,
  drop column payout_id,
  alter column transaction_id set not null,
  drop constraint payment_refunds_status_check,
  add constraint payment_refunds_status_check check (status in ('succeeded'));
alter table public.wallet_withdrawals
  drop constraint wallet_withdrawals_msisdn_mpesa,
  drop constraint wallet_withdrawals_destination,
  drop column msisdn,
  alter column source_id set not null;
delete from public.transaction_types where code = 'refund_payout';
