-- migrate:up
-- Refunds give back the merchant's fee in proportion (docs/payments.md, "Refunds and fees").
--   fee_refunded = round(fee_charged × refund_amount / amount_received, minor units of the
--                        currency), rounded half away from zero: the platform's one rounding
--                        rule (hazina.fee_apply, the billing migration) applied to the share;
--   never more than what is left of the fee (fee_charged − fee already refunded), and the
--   refund that completes the intent (amount_refunded reaches amount_received) takes exactly
--   that remainder, so a fully refunded intent has given back exactly its fee.
-- The refund is ONE reversal transaction of the capture (reverses_id = the capture): the
-- principal from the payee back to the payer, and the fee share from fee_revenue back to who
-- paid it, with its billing_ledger 'refund' row (refund_of = the capture's fee charge), so the
-- ledger's fee_entries_match_billing check still holds. Refunds made before this migration
-- returned the principal only: their fee_refunded is null (and reconciliation knows it).
-- A guest's payment (mpesa_clearing paid the payee) goes back by B2C payout to the phone, which
-- is not built yet: such refunds are refused with refund_not_supported (nothing moves).

alter table public.payment_refunds
  add column fee_refunded numeric(19, 4) check (fee_refunded >= 0);

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

-- The fee share of a refund of p_amount (see the top of this file). p_fee_charged: the
-- capture's fee; p_fee_refunded: what earlier refunds gave back; p_completes: this refund
-- brings amount_refunded to amount_received.
create function hazina.refund_fee_share(p_fee_charged numeric, p_fee_refunded numeric, p_amount numeric,
                                        p_amount_received numeric, p_completes boolean, p_minor_units smallint)
  returns numeric
  language sql immutable
  set search_path = ''
  as $$
  select case when p_fee_charged <= 0 then 0::numeric
              when p_completes then p_fee_charged - p_fee_refunded
              else least(round(p_fee_charged * p_amount / p_amount_received, p_minor_units), p_fee_charged - p_fee_refunded)
         end
$$;

-- The merchant refunds a succeeded intent, all that remains or p_amount. Idempotent by
-- (merchant, client_ref), refusals as before.
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

-- Reconciliation: every refund is its reversal of the intent's capture, for its amount, with
-- its fee share billed; an intent never gets back more fee than it was charged, and exactly
-- its fee once fully refunded (refunds of the proportional era only).
create function hazina.reconcile_payment_refunds()
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_payment_refunds()',
   'payment refunds: each is a reversal of its capture for its amount, its fee share billed; fee refunds never exceed the fee and equal it when fully refunded');

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.reconcile_payment_refunds(), hazina.refund_fee_share(numeric, numeric, numeric, numeric, boolean, smallint)
  to service_role;

-- migrate:down
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_payment_refunds()'::regprocedure;
drop function if exists hazina.reconcile_payment_refunds();
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
  v_tx uuid;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  v_intent := hazina.payment_intent_lock(p_intent_id, p_merchant_id);
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
  v_tx := hazina.reverse_transaction(v_intent.capture_transaction_id, 'payment_refund:' || v_id, v_amount,
                                     left(coalesce(p_reason, 'Refund'), 500));
  insert into public.payment_refunds (id, payment_intent_id, merchant_id, customer_id, amount, currency, reason,
                                      transaction_id, client_ref)
  values (v_id, p_intent_id, p_merchant_id, v_intent.customer_id, v_amount, v_intent.currency, left(p_reason, 500), v_tx,
          p_client_ref);
  update public.payment_intents set amount_refunded = amount_refunded + v_amount, updated_at = now() where id = p_intent_id;
  return hazina.payment_refund_json(v_id) || jsonb_build_object('created', true);
end
$$;
drop function if exists hazina.refund_fee_share(numeric, numeric, numeric, numeric, boolean, smallint);
create or replace function public.payment_refund_json(r public.payment_refunds) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', r.id, 'object', 'payment_refund', 'payment_intent_id', r.payment_intent_id,
                            'amount', r.amount::text, 'currency', r.currency, 'reason', r.reason, 'status', r.status,
                            'transaction_id', r.transaction_id,
                            'created_at', public.api_time(r.created_at), 'updated_at', public.api_time(r.updated_at))
$$;
alter table public.payment_refunds drop column fee_refunded;
