-- migrate:up
-- Paying an invoice, only ever through payment intents (docs/invoices.md):
--   * hazina.invoice_pay opens (or reuses) the invoice's one unpaid intent for the amount
--     due, or a part of it when the invoice allows partial payment. The payer is the
--     addressed customer (signed in: the intent is theirs) or anyone holding the pay link
--     (the intent is for nobody in particular: its client_secret pays it, as for any intent).
--     The payer then confirms the intent with the payments API (POST /payments/intents/:id/confirm).
--   * A trigger on payment_intents records a succeeded intent on its invoice (amount_paid,
--     amount_due; paid when nothing is due, invoice.paid / invoice.partially_paid), and a
--     trigger on payment_refunds gives a refunded payment back to the invoice: amount_due
--     grows by the refund and a paid invoice is open again (invoice.payment_refunded).
--   * Void cancels the invoice's unpaid intent; it is refused while anything is paid.
-- Overpayment is impossible: an invoice has at most one unpaid intent at a time (opening a
-- new one cancels an unconfirmed one, under the invoice's lock), it is never for more than
-- the amount due, and the trigger refuses (invoice_overpayment, rolling the payment back) a
-- success that would exceed what is due, whatever created the intent.
-- Locks: an intent before its invoice (confirm and refund lock the intent, then the trigger
-- the invoice). pay and void hold the invoice and take intents with SKIP LOCKED: an intent
-- another transaction holds is being paid right now (invoice_payment_in_progress), so the
-- two orders never wait on each other.

-- The invoice's unpaid intents (requires_confirmation, processing, requires_capture).
create index payment_intents_invoice_idx on public.payment_intents (subject_id)
  where subject_type = 'invoice';

-- Cancel the invoice's unconfirmed intents; refuse when one is being paid (held by another
-- transaction, or with money on its way). The caller holds the invoice's lock.
create function hazina.invoice_release_intents(p_invoice_id uuid, p_keep uuid default null) returns void
  language plpgsql
  set search_path = ''
  as $$
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

-- Open (or reuse) the intent that pays p_amount (default: all that is due) of an invoice.
-- p_payer_id: the addressed customer (the intent is theirs). p_pay_token: the pay link (the
-- intent is for anyone holding its client_secret; p_invoice_id may be null). The reply is
-- the intent, with its client_secret when this call created it (created: true).
create function hazina.invoice_pay(p_invoice_id uuid, p_payer_id uuid, p_amount numeric, p_pay_token text default null)
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
       and customer_id = v_customer and amount = v_amount and expires_at > now() + interval '5 minutes'
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

-- The addressed customer pays (signed in).
create function public.invoice_pay(p_invoice_id uuid, p_amount numeric default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_pay(p_invoice_id, hazina.caller_id(), p_amount, null) $$;

-- What a pay link shows anyone holding it: enough to pay (who asks, what for, how much),
-- never the customer's contact details or the merchant's metadata.
create function hazina.invoice_pay_link_json(p_pay_token text) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
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

-- What the PDF shows: the invoice as the caller sees it (RLS: its merchant or its customer),
-- with the merchant's name and contact and the currency's minor units.
create function public.invoice_document(p_invoice_id uuid) returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
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

-- Void an open or uncollectible invoice on which nothing is paid (refund first otherwise):
-- its unpaid intent is canceled. Its number stays used (numbers are never reissued).
create function hazina.invoice_void(p_invoice_id uuid, p_merchant_id uuid) returns jsonb
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

create function public.invoice_void(p_invoice_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.invoice_void(p_invoice_id, hazina.caller_id()) $$;

-- An invoice's intent succeeded: record the payment on the invoice, under its lock.
create function hazina.invoice_intent_succeeded() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create trigger payment_intents_invoice_paid after update of status on public.payment_intents
  for each row when (new.subject_type = 'invoice' and new.status = 'succeeded' and old.status is distinct from 'succeeded')
  execute function hazina.invoice_intent_succeeded();

-- A payment of an invoice was refunded: the invoice is owed that much again (a paid invoice
-- is open again; a credit note is not issued). Its due date and overdue mark stay.
create function hazina.invoice_payment_refunded() returns trigger
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
  update public.invoices
     set amount_paid = amount_paid - new.amount, amount_due = amount_due + new.amount,
         status = case when status = 'paid' then 'open' else status end,
         paid_at = null, updated_at = now()
   where id = v_invoice_id;
  perform hazina.invoice_event(v_invoice_id, 'payment_refunded');
  return null;
end
$$;

create trigger payment_refunds_invoice after insert on public.payment_refunds
  for each row execute function hazina.invoice_payment_refunded();

-- Reconciliation: what an invoice says is paid is what its intents received less their
-- refunds; what is due is the total less that (nothing once void); its totals are its lines'.
create function hazina.reconcile_invoices()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_invoices()', 'invoices: paid = their intents received less refunds, due = total less paid, totals = their lines');

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.invoice_pay(uuid, numeric), public.invoice_void(uuid), public.invoice_document(uuid)
  from public, anon;
grant execute on function public.invoice_pay(uuid, numeric), public.invoice_void(uuid), public.invoice_document(uuid)
  to authenticated;
grant execute on function hazina.invoice_pay(uuid, uuid, numeric, text), hazina.invoice_pay_link_json(text),
  hazina.invoice_void(uuid, uuid), hazina.reconcile_invoices() to service_role;

-- migrate:down
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_invoices()'::regprocedure;
drop function if exists hazina.reconcile_invoices();
drop trigger if exists payment_refunds_invoice on public.payment_refunds;
drop function if exists hazina.invoice_payment_refunded();
drop trigger if exists payment_intents_invoice_paid on public.payment_intents;
drop function if exists hazina.invoice_intent_succeeded();
drop function if exists public.invoice_void(uuid);
drop function if exists hazina.invoice_void(uuid, uuid);
drop function if exists public.invoice_document(uuid);
drop function if exists hazina.invoice_pay_link_json(text);
drop function if exists public.invoice_pay(uuid, numeric);
drop function if exists hazina.invoice_pay(uuid, uuid, numeric, text);
drop function if exists hazina.invoice_release_intents(uuid, uuid);
drop index if exists public.payment_intents_invoice_idx;
