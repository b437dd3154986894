-- migrate:up
-- Guest refunds of invoice payments (docs/invoices.md "Refunds of a guest's payment",
-- docs/payments.md "Guest refunds"). A guest who paid an invoice by M-Pesa (its pay link, or
-- the checkout page's invoice QR code) is refunded by B2C payout to the paying phone, as any
-- guest (20261124001700_guest_refunds.sql): the refund is `pending` until its payout settles.
--   created (pending): the invoice reacts at once, as for any refund (the trigger of
--     20261124001210: amount_paid down, amount_due up, a paid invoice open again,
--     invoice.payment_refunded), so what the invoice says is due is never too low.
--   succeeded: nothing more happens to the invoice (the refund was already counted).
--   failed: the merchant kept the money, so the invoice counts it as paid again, by the
--     trigger below on payment_refunds (pending → failed): amount_paid up, amount_due down,
--     closed again as paid when nothing is due (paid_at = now), events invoice.refund_failed
--     (and invoice.paid when it closed again).
-- The rule that keeps that undo from ever over-paying an invoice (invoices have no
-- overpayment or credit balance: amount_paid <= total is a constraint): WHILE A GUEST REFUND
-- OF ONE OF ITS PAYMENTS IS PENDING, AN INVOICE TAKES NO NEW PAYMENT AND CANNOT BE VOIDED.
--   * at the refund's creation (under the intent's lock, then the invoice's: the usual
--     order) the invoice's unconfirmed intents are canceled (hazina.invoice_release_intents,
--     as a new pay link does); one being paid right now refuses the refund
--     (invoice_payment_in_progress, nothing moves), so no payment can land during the wait;
--   * hazina.invoice_pay (the pay link, the customer's pay, the invoice QR code) and
--     hazina.invoice_void refuse with invoice_refund_pending until the refund settles.
-- So the amount a failed refund re-applies is always still due: nothing is lost (the money
-- that stayed with the merchant is counted as paid) and nothing counted twice. Should it not
-- fit anyway (a bug), the failure is refused loudly (invoice_overpayment) rather than
-- recorded wrong: the payout stays failed-to-record and reconciliation shows it.
-- Orders and installment plans are never paid by a guest: their intents always carry the
-- order's customer (orders.customer_id and installment_plans.customer_id are NOT NULL, and
-- hazina.order_pay / installment intents pass it to payment_intent_open), and a guest's
-- refund requires an intent without a customer. Should a guest-paid intent of any subject
-- other than an invoice or a QR code ever reach a refund, it is refused (refund_not_supported).

-- The merchant refunds a succeeded intent (20261124001700_guest_refunds.sql), now also a
-- guest's payment of an invoice; only the subject check of the guest branch changed.
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

-- Does any payment of the invoice have a guest refund waiting for its payout?
create function hazina.invoice_refund_pending(p_invoice_id uuid) returns boolean
  language sql stable
  set search_path = ''
  as $$
  select exists (select 1 from public.payment_refunds r join public.payment_intents i on i.id = r.payment_intent_id
                  where i.subject_type = 'invoice' and i.subject_id = p_invoice_id and r.status = 'pending')
$$;

-- Pay an invoice (20261124001210_invoice_payments.sql), refused while a guest refund of one
-- of its payments is pending (the rule at the top of this file).
create or replace function hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Void (20261124001210_invoice_payments.sql), refused while a guest refund is pending: a
-- failed refund must find its invoice still owed the amount.
create or replace function hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- A guest refund of an invoice's payment was created (pending): under the invoice's lock
-- (after the intent's, the usual order), cancel its unconfirmed intents; one being paid right
-- now refuses the refund (invoice_payment_in_progress). From here until the refund settles no
-- payment can land on the invoice (invoice_pay refuses), so a failure can re-apply the amount.
create function hazina.invoice_guest_refund_created() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create trigger payment_refunds_invoice_guest_pending after insert on public.payment_refunds
  for each row when (new.status = 'pending') execute function hazina.invoice_guest_refund_created();

-- A guest refund of an invoice's payment failed (its payout failed; hazina.payment_refund_fail
-- restored the intent's amount_refunded): the merchant kept the money, so the invoice counts
-- it as paid again, closed as paid when nothing is left due (invoice.refund_failed, then
-- invoice.paid when it closed). Under the rule above the amount is always still due; if it is
-- not, the failure is refused (invoice_overpayment) rather than the invoice over-paid.
create function hazina.invoice_guest_refund_failed() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create trigger payment_refunds_invoice_guest_failed after update of status on public.payment_refunds
  for each row when (old.status = 'pending' and new.status = 'failed') execute function hazina.invoice_guest_refund_failed();

-- Reconciliation: an invoice with pending guest refunds still owes at least their sum (so
-- their failure can be counted as paid without over-paying it), is neither paid nor void, and
-- took no payment after the first of them was created.
create function hazina.reconcile_invoice_guest_refunds()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_invoice_guest_refunds()',
   'invoices with pending guest refunds: still owed at least those refunds, open, and no payment taken since');

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.reconcile_invoice_guest_refunds() to service_role;

-- migrate:down
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_invoice_guest_refunds()'::regprocedure;
drop function if exists hazina.reconcile_invoice_guest_refunds();
drop trigger if exists payment_refunds_invoice_guest_failed on public.payment_refunds;
drop function if exists hazina.invoice_guest_refund_failed();
drop trigger if exists payment_refunds_invoice_guest_pending on public.payment_refunds;
drop function if exists hazina.invoice_guest_refund_created();
-- The functions as 20261124001700_guest_refunds.sql and 20261124001210_invoice_payments.sql left them.
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

create or replace function hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text default null)
  returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create or replace function hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_invoice public.invoices := hazina.invoice_lock(p_invoice_id, p_merchant_id);
begin
  if v_invoice.status = 'void' then
    return hazina.invoice_json(p_invoice_id);
  end if;
  if v_invoice.status not in ('open', 'uncollectible') then
    perform hazina.raise_error('invoice_not_voidable', jsonb_build_object('invoice_id', p_invoice_id, 'status', v_invoice.status));
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
drop function if exists hazina.invoice_refund_pending(uuid);
