-- migrate:up
-- Refunds of an order paid by an installment plan (orders capability, gap of 1310 + 1400).
--
-- An order paid by a plan has no payment intent of its own (orders.payment_intent_id is
-- null): its money came through the plan's deposit and installment intents (subject_type
-- 'installment'), whose payee is the escrow wallet. Before this migration every order
-- refund (POST /orders/:id/refund, the merchant's cancel after payment, an admin's dispute
-- resolution 'refund' or 'split') called payment_refund_create on the null intent and failed
-- with payment_intent_not_found.
--
-- Decisions:
--   * The refund is spread over the plan's succeeded intents NEWEST FIRST (the last money
--     in is the first out; each intent gives at most what it received and has not refunded),
--     the deposit last among intents of the same instant, then by client_ref descending, so
--     the split is deterministic), each part a normal refund of its intent (hazina.payment_refund_create: a ledger
--     reversal, the fee share of 20261124001111, never above the intent's captured amount).
--     The first part carries the caller's ref exactly (so order_refund's retry check still
--     finds it), the next parts '<ref>:<intent id>'.
--   * The parts are marked as the plan's own refunds (the transaction-local setting
--     hazina.installment_refund, which the installment guard of 1400 admits), and recorded on
--     the order and its escrow here with the same rules as hazina.order_refund_recorded
--     (never above what was paid and not refunded, never above what the escrow still holds,
--     never after release).
--   * Only an ESCROWED plan order can be refunded this way: its money still sits in the
--     escrow wallet until release. A plan order without escrow was paid out to the merchant
--     at completion (installment_settle's 'installment:<id>:release' transfer); refunding its
--     intents would take money from the escrow wallet that is no longer the buyer's, so it is
--     refused with order_not_refundable (reason 'plan_released'). Not done yet: refunding
--     such an order from the merchant's wallet.
--   * One outcome under races: every caller (order_refund, order_cancel, escrow_resolve)
--     holds the order's row lock before it gets here, and the plan's intents cannot be
--     refunded any other way (the guard), so two refunds queue on the order.

create or replace function hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_escrow public.goods_escrows;
  v_plan_id uuid;
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
  select id into v_plan_id from public.installments where order_id = p_order_id;
  if v_plan_id is null then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status));
  end if;
  select * into v_escrow from public.goods_escrows where order_id = p_order_id for update;
  if v_escrow.id is null then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'reason', 'plan_released'));
  end if;
  if v_order.status not in ('paid', 'fulfilled', 'completed')
     or v_escrow.status not in ('funded', 'dispatched', 'delivered', 'disputed') then
    perform hazina.raise_error('order_not_refundable', jsonb_build_object('order_id', p_order_id, 'status', v_order.status,
      'escrow_status', v_escrow.status));
  end if;
  if p_amount is null or p_amount <= 0 or p_amount > v_order.amount_paid - v_order.amount_refunded
     or p_amount > v_escrow.amount - v_escrow.released_amount - v_escrow.refunded_amount then
    perform hazina.raise_error('refund_exceeds_paid', jsonb_build_object(
      'refundable', (v_order.amount_paid - v_order.amount_refunded)::numeric(19, 4)::text));
  end if;
  v_prior := current_setting('hazina.installment_refund', true);
  perform set_config('hazina.installment_refund', v_plan_id::text, true);
  for v_intent in
    select id, amount_received - amount_refunded as refundable from public.payment_intents
     where subject_type = 'installment' and subject_id = v_plan_id and status = 'succeeded'
       and amount_received > amount_refunded
     order by created_at desc, (client_ref = 'installment:' || v_plan_id || ':deposit'), client_ref desc
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
  -- The plan's books: what went back to the buyer after completion moves from 'released' (to
  -- the order's escrow) to 'refunded', so its escrow_held and closed_money_accounted checks
  -- (1400) still hold.
  update public.installments set amount_refunded = amount_refunded + p_amount,
         amount_released = amount_released - p_amount
   where id = v_plan_id;
  update public.orders set amount_refunded = amount_refunded + p_amount, updated_at = now(),
         status = case when amount_refunded + p_amount = amount_paid then 'refunded' else status end,
         refunded_at = case when amount_refunded + p_amount = amount_paid then now() else refunded_at end
   where id = v_order.id returning * into v_order;
  update public.goods_escrows set refunded_amount = refunded_amount + p_amount, updated_at = now(),
         status = case when released_amount + refunded_amount + p_amount = amount then 'refunded' else status end,
         refunded_at = case when released_amount + refunded_amount + p_amount = amount then now() else refunded_at end,
         auto_release_at = case when released_amount + refunded_amount + p_amount = amount then null else auto_release_at end
   where id = v_escrow.id returning * into v_escrow;
  if v_escrow.status = 'refunded' then
    perform hazina.escrow_event(v_escrow.id, 'escrow.refunded');
  end if;
  perform hazina.order_event(v_order.id, case when v_order.status = 'refunded' then 'order.refunded'
                                              else 'order.partially_refunded' end);
end
$$;

-- migrate:down
create or replace function hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  select hazina.payment_refund_create(o.merchant_id, o.payment_intent_id, p_amount, p_reason, p_ref)
    from public.orders o where o.id = p_order_id
$$;
