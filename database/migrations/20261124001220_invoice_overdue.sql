-- migrate:up
-- Overdue invoices (a job of the one runner, hazina.jobs): an open invoice whose due date
-- has passed (due_date is a calendar day in East Africa Time: it is overdue from the next
-- day's midnight in Nairobi, read on hazina.clock()) is marked overdue once: overdue_at is
-- set and invoice.overdue is written, in the same transaction. It stays open (payable);
-- paid, void and uncollectible invoices are never marked. Concurrent passes claim rows with
-- FOR UPDATE SKIP LOCKED and re-check them after the lock, so each invoice is marked once.

create function hazina.invoice_mark_overdue(p_limit integer default 500) returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_id uuid;
  v_count integer := 0;
  v_today date := (hazina.clock() at time zone 'Africa/Nairobi')::date;
begin
  for v_id in
    select id from public.invoices
     where status = 'open' and overdue_at is null and due_date < v_today
     order by due_date, id limit p_limit
       for update skip locked
  loop
    update public.invoices set overdue_at = hazina.clock(), updated_at = now() where id = v_id;
    perform hazina.invoice_event(v_id, 'overdue');
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;

create function hazina.job_mark_overdue_invoices(p_limit integer) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_done integer := hazina.invoice_mark_overdue(p_limit);
begin
  return jsonb_build_object('processed', v_done,
    'remaining', (select count(*) from public.invoices
                   where status = 'open' and overdue_at is null
                     and due_date < (hazina.clock() at time zone 'Africa/Nairobi')::date));
end
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('invoices.mark_overdue', 'database', 'hazina.job_mark_overdue_invoices', interval '5 minutes', 500, false,
   'Mark open invoices past their due date overdue (invoice.overdue), once each.');

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.invoice_mark_overdue(integer), hazina.job_mark_overdue_invoices(integer) to service_role;

-- migrate:down
delete from hazina.jobs where name = 'invoices.mark_overdue';
drop function if exists hazina.job_mark_overdue_invoices(integer);
drop function if exists hazina.invoice_mark_overdue(integer);
