-- migrate:up
-- Refunds of a completed installment plan's order WITHOUT escrow (the gap 20261124001620 left:
-- it refused them with order_not_refundable, reason 'plan_released').
--
-- Such a plan paid the merchant at completion: installment_settle's transfer
-- 'installment:<plan>:release' (escrow -> the merchant's wallet, type escrow_release, its fee
-- borne by the merchant). Decisions:
--   * The refund takes the money back from the merchant's wallet first, as ONE partial
--     reversal of that release transaction (reverses_id = the release; principal from the
--     merchant's wallet back to escrow), with the release fee's share returned from
--     fee_revenue to the merchant by the platform's refund rule (hazina.refund_fee_share of
--     20261124001111: round(fee x refund / released, minor units), half away from zero; never
--     more than is left of the fee; the reversal that takes back the whole release returns
--     exactly the rest) and its billing_ledger 'refund' row. Ref '<refund ref>:clawback'.
--   * Then, in the same transaction, the plan's intents refund the buyer exactly as for an
--     escrowed plan order (newest intent first, the deposit last among intents of one instant;
--     the first part carries the caller's ref, the next '<ref>:<intent id>'; a plan's intents
--     are never priced, so their fee share is 0). Net, the escrow wallet is unchanged.
--   * The merchant's wallet must hold the money: its available balance must cover the
--     refund less the fee share coming back. Otherwise order_refund_merchant_funds (409) and
--     nothing moves (the whole refund is one transaction; the ledger would refuse the
--     overdraft anyway). The merchant's wallet row is locked before the check.
--   * Only what the order says was paid toward the goods is refundable (orders.amount_paid,
--     the price: late fees stay with the merchant, as at completion).
--   * Races: every caller (order_refund, order_cancel) holds the order's row lock before it
--     gets here, so two refunds of one order queue; the second finds the order refunded
--     (order_not_refundable) or the rest too small (refund_exceeds_paid).
--   * The plan's books move as for an escrowed order (amount_released -> amount_refunded), so
--     installment_escrow_held and installment_closed_money_accounted still hold; a new check
--     (hazina.reconcile_installment_clawbacks) says a completed plan without escrow took back
--     from the merchant exactly what it refunded, by reversals of its release only.

create or replace function hazina.order_apply_refund(p_order_id uuid, p_amount numeric, p_reason text, p_ref text) returns void
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Take p_amount of a completed plan's release back from the merchant's wallet into escrow:
-- one partial reversal of the release transaction with the fee share returned (see the top).
-- The caller holds the order's and the plan's row locks.
create function hazina.installment_clawback(p_plan public.installments, p_amount numeric, p_reason text, p_ref text)
  returns uuid
  language plpgsql
  security definer
  set search_path = ''
  as $$
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

-- Reconciliation: a completed plan whose order has no goods escrow refunded (amount_refunded)
-- exactly what the reversals of its release took back from the merchant.
create function hazina.reconcile_installment_clawbacks()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language sql stable
  security definer
  set search_path = ''
  as $$
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_installment_clawbacks()',
   'completed installment plans without escrow: what their orders refunded is what was taken back from the merchant');

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
delete from hazina.reconciliation_checks where check_function = 'hazina.reconcile_installment_clawbacks()'::regprocedure;
drop function if exists hazina.reconcile_installment_clawbacks();
-- The version of 20261124001620 (plan orders without escrow refused).
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
drop function if exists hazina.installment_clawback(public.installments, numeric, text, text);
