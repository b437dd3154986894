-- migrate:up
-- Reconciliation grows by capability. hazina.reconcile() now returns the ledger's own checks
-- (hazina.reconcile_ledger, the former body, unchanged) plus every check function listed in
-- hazina.reconciliation_checks; a capability with money of its own registers its checks as
-- one row here instead of rewriting reconcile(). Every function returns rows of
-- (check_name, subject, expected, actual): one per discrepancy, none when the books agree.
alter function hazina.reconcile() rename to reconcile_ledger;

create table hazina.reconciliation_checks (
  check_function  regprocedure primary key,
  description     text not null check (length(description) between 1 and 500)
);

create function hazina.reconcile()
  returns table (check_name text, subject text, expected numeric, actual numeric)
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_check regprocedure;
begin
  return query select * from hazina.reconcile_ledger();
  for v_check in select c.check_function from hazina.reconciliation_checks c order by c.check_function::text loop
    -- regprocedure prints schema-qualified ('hazina.fn()'), so this names exactly one function.
    return query execute format('select * from %s', v_check::text);
  end loop;
end
$$;

-- Payment intents: what an intent says it received, refunded and may still capture is what
-- the ledger, the refunds and the holds say.
create function hazina.reconcile_payment_intents()
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

insert into hazina.reconciliation_checks (check_function, description) values
  ('hazina.reconcile_payment_intents()', 'payment intents: received, refunded and capturable agree with the ledger, refunds and holds');

revoke all on table hazina.reconciliation_checks from public, anon, authenticated;
revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.reconcile(), hazina.reconcile_ledger(), hazina.reconcile_payment_intents() to service_role;

-- migrate:down
drop function hazina.reconcile();
drop function hazina.reconcile_payment_intents();
drop table hazina.reconciliation_checks;
alter function hazina.reconcile_ledger() rename to reconcile;
