-- migrate:up
-- An order paid by an installment plan never gets a payment intent of its own: placing the
-- same order again without `installments` (public.order_create with the plan order's ref)
-- would open one for the whole total, and its outcome would then fight the plan. Refused
-- here, before the intent is linked (the whole placement rolls back).
create function hazina.installment_guard_order_intent() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  if exists (select 1 from public.installments where order_id = new.id) then
    perform hazina.raise_error('order_has_installment_plan', jsonb_build_object('order_id', new.id,
      'installment_id', (select id from public.installments where order_id = new.id)));
  end if;
  return new;
end
$$;

create trigger orders_installment_intent_guard before update of payment_intent_id on public.orders
  for each row when (new.payment_intent_id is not null and old.payment_intent_id is null)
  execute function hazina.installment_guard_order_intent();

revoke execute on all functions in schema hazina from public, anon, authenticated;

-- migrate:down
drop trigger if exists orders_installment_intent_guard on public.orders;
drop function if exists hazina.installment_guard_order_intent();
