-- migrate:up
-- Orders after they are placed (*_1300_shops_orders.sql): paying (a trigger on the order's
-- payment intent), fulfilment, cancels, refunds, goods escrow, disputes and their admin
-- resolution, the escrow auto-release job and the escrow reconciliation check.
--
-- Who does what (each one function that locks, checks the state and raises a stable code):
--   merchant: dispatch (paid -> fulfilled), deliver (direct order: -> completed; escrowed:
--             starts the inspection window), cancel (before payment, or paid and not yet
--             dispatched: full refund, stock back), refund (partial or full, never above
--             what was paid and not refunded)
--   customer: cancel (before payment), confirm receipt (direct: fulfilled -> completed;
--             escrowed: releases the escrow), dispute (escrowed, within the window)
--   platform: the intent's outcome (succeeded -> paid and, escrowed, the escrow funded;
--             canceled or expired -> order canceled, stock back), escrow auto-release
--             (auto_release_days after delivery, hazina.clock()), admin resolution of a
--             dispute (release, refund, or split: the two parts sum to what is held)
--
-- Money:
--   * A direct order's money is in the merchant's wallet (order_payment, merchant fee at
--     capture). Its refunds are refunds of its payment intent (hazina.payment_refund_create:
--     a reversal from the merchant's wallet).
--   * An escrowed order's money is in the escrow system wallet (escrow_funding, unpriced).
--     Release is one transfer escrow -> merchant, ref 'escrow:<id>:release', type
--     escrow_release (the merchant bears the escrow_release fee, catalog + merchant profile,
--     the one rounding rule of hazina.fee_apply). Refunds while the money is still escrowed
--     are refunds of the order's payment intent too, whose payee is the escrow wallet, so
--     the reversal takes the money from escrow back to the buyer (refs
--     'escrow:<id>:refund' for an admin's resolution, the merchant's Idempotency-Key
--     namespaced 'order:<id>:refund:<key>' otherwise). One refund path for both kinds.
--     Once the escrow is released (or split) the order can no longer be refunded here:
--     the inspection window was the buyer's protection, and the money is the merchant's.
--
-- Lock order, everywhere: the payment intent, then the order, then its escrow, then wallets
-- (the intent's own functions lock the intent, and its trigger then locks the order). Every
-- verb that may refund locks the intent first; the others start at the order. So confirm,
-- dispute, auto-release, cancel and refund racing on one order queue on its row and end in
-- exactly one outcome; the losers see the new state and are refused.

-- Events --------------------------------------------------------------------------------
create function hazina.order_event(p_order_id uuid, p_type text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  select hazina.event_emit(o.merchant_id, p_type, 'order', o.id, public.order_json(o))
    from public.orders o where o.id = p_order_id
$$;

create function hazina.escrow_event(p_escrow_id uuid, p_type text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  select hazina.event_emit(e.merchant_id, p_type, 'goods_escrow', e.id, public.goods_escrow_json(e))
    from public.goods_escrows e where e.id = p_escrow_id
$$;

-- The order, locked, for one of its sides: p_side 'merchant' or 'customer' must be p_user_id;
-- 'any' admits either; null (the platform) admits everyone. order_not_found otherwise.
create function hazina.order_lock(p_order_id uuid, p_user_id uuid, p_side text) returns public.orders
  language plpgsql
  set search_path = ''
  as $$
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

-- Lock the order's payment intent first (the one lock order), when it has one.
create function hazina.order_lock_intent(p_order_id uuid) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_intent_id uuid := (select payment_intent_id from public.orders where id = p_order_id);
begin
  if v_intent_id is not null then
    perform 1 from public.payment_intents where id = v_intent_id for update;
  end if;
end
$$;

-- Paying ----------------------------------------------------------------------------------

-- The order's intent succeeded: the order is paid and, escrowed, its escrow is funded with
-- what the escrow wallet received. An intent that is not the order's own (a test's, another
-- capability's) changes nothing.
create function hazina.order_mark_paid(p_intent public.payment_intents) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The order's intent was canceled (by a cancel, or it expired unpaid): the order is
-- canceled and its stock goes back.
create function hazina.order_mark_unpaid(p_intent public.payment_intents) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create function hazina.order_intent_outcome() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if new.status = 'succeeded' then
    perform hazina.order_mark_paid(new);
  elsif new.status = 'canceled' then
    perform hazina.order_mark_unpaid(new);
  end if;
  return null;
end
$$;

create trigger payment_intents_order_outcome after update on public.payment_intents
  for each row when (new.subject_type = 'order' and new.status is distinct from old.status
                     and new.status in ('succeeded', 'canceled'))
  execute function hazina.order_intent_outcome();

-- Fulfilment --------------------------------------------------------------------------------

-- The merchant dispatches a paid order: fulfilled (and its escrow dispatched).
create function hazina.order_dispatch(p_order_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Pay the escrow's held money to the merchant (the order is locked by the caller) and
-- complete the order. p_status: 'released' (a release) or 'split' (an admin's split, after
-- its refund part).
create function hazina.escrow_pay_merchant(p_escrow_id uuid, p_status text) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The merchant marks a fulfilled order delivered. Direct: completed. Escrowed: the
-- inspection window opens: released automatically auto_release_days later unless the buyer
-- confirms first (released at once) or disputes.
create function hazina.order_deliver(p_order_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The buyer confirms receipt. Direct: a fulfilled order completes. Escrowed: a dispatched or
-- delivered escrow is released to the merchant now.
create function hazina.order_confirm_receipt(p_order_id uuid, p_customer_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- The buyer disputes an escrowed order while its money is held and the window is open
-- (before auto_release_at, by hazina.clock()). The money stays in escrow until an admin decides.
create function hazina.order_dispute(p_order_id uuid, p_customer_id uuid, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Refunds ---------------------------------------------------------------------------------

-- Every refund of an order's payment intent, whoever makes it (the order verbs below, or
-- the merchant refunding the intent itself through POST /payments/intents/:id/refunds), is
-- recorded on the order and its escrow here, in the refund's transaction: a trigger on
-- payment_refunds (the intent is locked by the refund; the order is locked next, the one
-- lock order). A refund the order does not allow (the escrow was released, more than the
-- escrow holds) is refused, so no refund can take money from escrow that is not the buyer's.
-- Reaching what was paid, the order is refunded (order.refunded); less is
-- order.partially_refunded; an escrow refunded in full is refunded (escrow.refunded).
create function hazina.order_refund_recorded() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create trigger payment_refunds_order after insert on public.payment_refunds
  for each row execute function hazina.order_refund_recorded();

-- Refund p_amount of an order through its payment intent (the trigger above records it).
create function hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  select hazina.payment_refund_create(o.merchant_id, o.payment_intent_id, p_amount, p_reason, p_ref)
    from public.orders o where o.id = p_order_id
$$;

-- The merchant refunds an order: p_amount, or the lines p_items ([{product_id, quantity}]:
-- their snapshot unit price × quantity, never more units than were sold and not yet
-- refunded), or, with neither, everything not yet refunded. Never above what was paid and
-- not refunded (refund_exceeds_paid). Allowed while the order is paid, fulfilled or
-- completed (direct), or while its escrow still holds the money (escrowed). Refunds do not
-- restock (the goods may be gone; a cancel before dispatch restocks). Idempotent by
-- (order, p_client_ref). Reaching the amount paid, the order is refunded.
create function hazina.order_refund(p_order_id uuid, p_merchant_id uuid, p_amount numeric, p_items jsonb,
                                    p_reason text, p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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
$$;

-- Cancel. Before payment (customer or merchant): the intent is canceled, and its trigger
-- cancels the order and puts the stock back. Paid and not yet dispatched (the merchant
-- only): everything is refunded, the stock goes back, the order is canceled.
create function hazina.order_cancel(p_order_id uuid, p_user_id uuid, p_reason text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Dispute resolution (admins) ------------------------------------------------------------

-- An admin decides a disputed escrow: release (all held to the merchant), refund (all held
-- back to the buyer), or split (p_buyer_amount back to the buyer, the rest to the merchant:
-- the two parts sum to what is held; both parts must be positive). Audited (the escrow's
-- audit trigger records who and what, resolved_by names the admin).
create function hazina.escrow_resolve(p_escrow_id uuid, p_admin_id uuid, p_outcome text, p_buyer_amount numeric,
                                      p_note text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Auto-release (a job) --------------------------------------------------------------------

-- Release delivered escrows whose window has passed (hazina.clock()). Orders are claimed
-- with skip locked (the order is the first lock of every escrow verb), and each is checked
-- again under its lock: a confirm, dispute or refund that won the race leaves nothing to do.
-- The transfer's ref ('escrow:<id>:release') makes a second release impossible anyway. A
-- release the ledger refuses (the merchant's wallet frozen, a fee above the amount) is
-- rolled back alone and counted as failed; it stays due and is tried again next pass, so
-- one merchant's frozen wallet never holds up everyone else's releases.
create function hazina.release_due_escrows(p_limit integer default 100, out released integer, out failed integer)
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

create function hazina.job_release_due_escrows(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_pass record;
begin
  select * into v_pass from hazina.release_due_escrows(p_limit);
  return jsonb_build_object('processed', v_pass.released, 'failed', v_pass.failed,
    'remaining', (select count(*) from public.goods_escrows where status = 'delivered' and auto_release_at <= hazina.clock()));
end
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('orders.release_escrows', 'database', 'hazina.job_release_due_escrows', interval '1 minute', 100, false,
   'Release goods escrows to the merchant auto_release_days after delivery when the buyer neither confirmed nor disputed.');

-- Reconciliation ---------------------------------------------------------------------------

-- What the escrow system wallets owe, one row per obligation: money in escrow belongs to
-- someone until it is released or refunded. Another capability that pays into escrow
-- (installment plans) replaces this view adding its own rows (union all), and the check
-- below covers it unchanged.
create view hazina.escrow_obligations as
  select e.currency, 'goods_escrow'::text as subject_type, e.id as subject_id,
         (e.amount - e.released_amount - e.refunded_amount) as amount
    from public.goods_escrows e
   where e.amount - e.released_amount - e.refunded_amount <> 0;

create function hazina.reconcile_escrow()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_escrow()', 'goods escrow and orders: the escrow wallets hold what they owe; orders and escrows agree with their intents and releases');

-- Client API -------------------------------------------------------------------------------
create function public.order_dispatch(p_order_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_dispatch(p_order_id, hazina.caller_id()) $$;
create function public.order_deliver(p_order_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_deliver(p_order_id, hazina.caller_id()) $$;
create function public.order_confirm_receipt(p_order_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_confirm_receipt(p_order_id, hazina.caller_id()) $$;
create function public.order_dispute(p_order_id uuid, p_reason text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_dispute(p_order_id, hazina.caller_id(), p_reason) $$;
create function public.order_cancel(p_order_id uuid, p_reason text default null) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_cancel(p_order_id, hazina.caller_id(), p_reason) $$;
create function public.order_refund(p_order_id uuid, p_amount numeric, p_items jsonb, p_reason text, p_client_ref text)
  returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.order_refund(p_order_id, hazina.caller_id(), p_amount, p_items, p_reason, p_client_ref) $$;

-- POST /ops/escrows/:id/resolve: admins only, checked here.
create function public.ops_escrow_resolve(p_escrow_id uuid, p_outcome text, p_buyer_amount numeric default null,
                                          p_note text default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  perform hazina.assert_admin();
  return hazina.escrow_resolve(p_escrow_id, hazina.caller_id(), p_outcome, p_buyer_amount, p_note);
end
$$;

-- Admins judge disputes: they read every order, its lines and its escrow (operators, as for
-- merchant applications; public.is_admin() is decided in the database).
create policy "admins read all orders" on public.orders
  for select to authenticated using (public.is_admin());
create policy "admins read all order lines" on public.order_items
  for select to authenticated using (public.is_admin());
create policy "admins read all goods escrows" on public.goods_escrows
  for select to authenticated using (public.is_admin());

-- Storefronts are read with the anon key: the shapes of shops and products format their
-- times with public.api_time (a pure formatter), which anon may now call too.
grant execute on function public.api_time(timestamptz) to anon;

revoke all on table hazina.escrow_obligations from public, anon, authenticated;
revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.order_dispatch(uuid), public.order_deliver(uuid), public.order_confirm_receipt(uuid),
  public.order_dispute(uuid, text), public.order_cancel(uuid, text),
  public.order_refund(uuid, numeric, jsonb, text, text), public.ops_escrow_resolve(uuid, text, numeric, text)
  from public, anon;
grant execute on function
  public.order_dispatch(uuid), public.order_deliver(uuid), public.order_confirm_receipt(uuid),
  public.order_dispute(uuid, text), public.order_cancel(uuid, text),
  public.order_refund(uuid, numeric, jsonb, text, text), public.ops_escrow_resolve(uuid, text, numeric, text)
  to authenticated;
grant execute on function hazina.reconcile_escrow(), hazina.release_due_escrows(integer),
  hazina.job_release_due_escrows(integer) to service_role;

-- migrate:down
revoke execute on function public.api_time(timestamptz) from anon;
drop policy if exists "admins read all goods escrows" on public.goods_escrows;
drop policy if exists "admins read all order lines" on public.order_items;
drop policy if exists "admins read all orders" on public.orders;
drop function if exists public.ops_escrow_resolve(uuid, text, numeric, text);
drop function if exists public.order_refund(uuid, numeric, jsonb, text, text);
drop function if exists public.order_cancel(uuid, text);
drop function if exists public.order_dispute(uuid, text);
drop function if exists public.order_confirm_receipt(uuid);
drop function if exists public.order_deliver(uuid);
drop function if exists public.order_dispatch(uuid);
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_escrow()'::regprocedure;
drop function if exists hazina.reconcile_escrow();
drop view if exists hazina.escrow_obligations;
delete from hazina.jobs where name = 'orders.release_escrows';
drop function if exists hazina.job_release_due_escrows(integer);
drop function if exists hazina.release_due_escrows(integer);
drop function if exists hazina.escrow_resolve(uuid, uuid, text, numeric, text);
drop function if exists hazina.order_cancel(uuid, uuid, text);
drop function if exists hazina.order_refund(uuid, uuid, numeric, jsonb, text, text);
drop function if exists hazina.order_apply_refund(uuid, numeric, text, text);
drop trigger if exists payment_refunds_order on public.payment_refunds;
drop function if exists hazina.order_refund_recorded();
drop function if exists hazina.order_dispute(uuid, uuid, text);
drop function if exists hazina.order_confirm_receipt(uuid, uuid);
drop function if exists hazina.order_deliver(uuid, uuid);
drop function if exists hazina.escrow_pay_merchant(uuid, text);
drop function if exists hazina.order_dispatch(uuid, uuid);
drop trigger if exists payment_intents_order_outcome on public.payment_intents;
drop function if exists hazina.order_intent_outcome();
drop function if exists hazina.order_mark_unpaid(public.payment_intents);
drop function if exists hazina.order_mark_paid(public.payment_intents);
drop function if exists hazina.order_lock_intent(uuid);
drop function if exists hazina.order_lock(uuid, uuid, text);
drop function if exists hazina.escrow_event(uuid, text);
drop function if exists hazina.order_event(uuid, text);
