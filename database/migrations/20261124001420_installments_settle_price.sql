-- migrate:up
-- Completing a plan pays its order its PRICE: what the customer paid toward the goods (the
-- total less the payments the merchant waived), never the late fees, and never less because
-- a late fee was waived (the first version subtracted every waiver, fee waivers included).
-- An escrowed order's goods escrow now holds exactly that price, the amount its order says
-- was paid (so a later dispute or refund is about the goods); the late fees the plan
-- collected are the merchant's at once (escrow -> merchant, ref 'installment:<id>:late_fees',
-- type escrow_release). A direct order's merchant gets everything at once, as before.
create or replace function hazina.installment_settle(p_plan public.installments) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_wallet uuid;
  v_escrow_id uuid;
  -- late fees charged and not waived: paid in full once every row is settled
  v_fees_paid numeric := (select coalesce(sum(s.late_fee - s.late_fee_waived), 0)
                            from public.installment_schedule s where s.installment_id = p_plan.id);
  v_price_paid numeric := p_plan.amount_paid - v_fees_paid;
begin
  select * into v_order from public.orders where id = p_plan.order_id for update;
  select id into v_wallet from public.wallets
   where user_id = p_plan.merchant_id and currency = p_plan.currency and kind = 'merchant';
  if v_wallet is null then
    perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', p_plan.currency));
  end if;
  update public.orders set status = 'paid', amount_paid = v_price_paid, paid_at = now(), updated_at = now()
   where id = v_order.id and status = 'pending_payment';
  if v_order.escrow then
    insert into public.goods_escrows (order_id, merchant_id, customer_id, wallet_id, currency, amount)
    values (v_order.id, v_order.merchant_id, v_order.customer_id, hazina.system_wallet('escrow', p_plan.currency),
            p_plan.currency, v_price_paid)
    returning id into v_escrow_id;
    perform hazina.escrow_event(v_escrow_id, 'escrow.funded');
    if v_fees_paid > 0 then
      perform hazina.transfer('installment:' || p_plan.id || ':late_fees', hazina.system_wallet('escrow', p_plan.currency),
        v_wallet, v_fees_paid, 'escrow_release', 'Installment late fees',
        jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
    end if;
  else
    perform hazina.transfer('installment:' || p_plan.id || ':release', hazina.system_wallet('escrow', p_plan.currency),
      v_wallet, p_plan.amount_paid, 'escrow_release', 'Installment plan completed',
      jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
  end if;
  update public.installments set amount_released = amount_released + p_plan.amount_paid where id = p_plan.id;
  perform hazina.order_event(v_order.id, 'order.paid');
end
$$;

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
create or replace function hazina.installment_settle(p_plan public.installments) returns void
  language plpgsql
  set search_path = ''
  as $$
declare
  v_order public.orders;
  v_wallet uuid;
  v_escrow_id uuid;
begin
  select * into v_order from public.orders where id = p_plan.order_id for update;
  update public.orders set status = 'paid', amount_paid = p_plan.total_amount - p_plan.amount_waived, paid_at = now(),
         updated_at = now()
   where id = v_order.id and status = 'pending_payment';
  if v_order.escrow then
    insert into public.goods_escrows (order_id, merchant_id, customer_id, wallet_id, currency, amount)
    values (v_order.id, v_order.merchant_id, v_order.customer_id, hazina.system_wallet('escrow', p_plan.currency),
            p_plan.currency, p_plan.amount_paid)
    returning id into v_escrow_id;
    perform hazina.escrow_event(v_escrow_id, 'escrow.funded');
  else
    select id into v_wallet from public.wallets
     where user_id = p_plan.merchant_id and currency = p_plan.currency and kind = 'merchant';
    if v_wallet is null then
      perform hazina.raise_error('merchant_wallet_required', jsonb_build_object('currency', p_plan.currency));
    end if;
    perform hazina.transfer('installment:' || p_plan.id || ':release', hazina.system_wallet('escrow', p_plan.currency),
      v_wallet, p_plan.amount_paid, 'escrow_release', 'Installment plan completed',
      jsonb_build_object('installment_id', p_plan.id, 'order_id', p_plan.order_id));
  end if;
  update public.installments set amount_released = amount_released + p_plan.amount_paid where id = p_plan.id;
  perform hazina.order_event(v_order.id, 'order.paid');
end
$$;
