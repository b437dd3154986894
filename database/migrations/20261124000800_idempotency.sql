-- migrate:up
-- Idempotency for every mutating edge endpoint (spec: payment_idempotency).
-- A key is scoped to its owner (the user, or a service name) and lives 24 hours.
-- Lifecycle: begin (in_progress, committed before the work starts so a concurrent
-- duplicate sees it) → complete (stores the response) | abandon (on a server error, so a
-- retry may run again). The work itself is idempotent by ref, so a retry after a crash
-- between the work and `complete` cannot move money twice.

create table public.payment_idempotency (
  id                uuid primary key default gen_random_uuid(),
  owner_id          text not null check (length(owner_id) between 1 and 100),
  client_key        text not null check (client_key ~ '^[A-Za-z0-9_.:-]{8,255}$'),
  idempotency_key   text generated always as (owner_id || '/' || client_key) stored unique,
  scope             text not null check (length(scope) <= 200),
  request_hash      text not null,
  status            text not null default 'in_progress' check (status in ('in_progress', 'completed')),
  response_status   integer check (response_status between 100 and 599),
  response_body     jsonb,
  created_at        timestamptz not null default now(),
  locked_until      timestamptz not null default now() + interval '60 seconds',
  completed_at      timestamptz,
  expires_at        timestamptz not null default now() + interval '24 hours',
  constraint payment_idempotency_completed_has_response
    check ((status = 'completed') = (response_status is not null and completed_at is not null))
);
create index payment_idempotency_expiry_idx on public.payment_idempotency (expires_at);
-- An owner's recent requests, for the per-minute admission limit.
create index payment_idempotency_owner_recent_idx on public.payment_idempotency (owner_id, created_at);

-- Returns ('started', null, null) when the caller should do the work, or
-- ('replay', status, body) with the stored response. Raises idempotency_key_reused when
-- the key was used for a different request, idempotency_key_in_use while another request
-- with it is running. An in-progress record whose lock lapsed (the server died mid-way)
-- is taken over: the work below is idempotent by ref.
-- Admission: with p_per_minute set, an owner may start at most that many new keys in any
-- 60 seconds (rate_limited otherwise, with retry_after_seconds); replays of known keys are
-- not new work and always answer. Every mutating request carries a key, so this counts the
-- owner's own records and needs no table of its own. Concurrent requests at the limit may
-- overshoot it by a few: it protects capacity, not money (money is protected by refs).
create function hazina.idempotency_begin(p_owner text, p_key text, p_scope text, p_request_hash text,
  p_per_minute integer default null,
  out outcome text, out response_status integer, out response_body jsonb)
  language plpgsql
  security definer
  set search_path = ''
  set plan_cache_mode = force_generic_plan
  as $$
declare
  v_row public.payment_idempotency;
  v_recent bigint;
  v_oldest timestamptz;
begin
  if p_key is null or p_key !~ '^[A-Za-z0-9_.:-]{8,255}$' then
    perform hazina.raise_error('invalid_idempotency_key',
      jsonb_build_object('reason', '8 to 255 characters of letters, digits, _ . : -'));
  end if;
  if p_per_minute is not null
     and not exists (select 1 from public.payment_idempotency where idempotency_key = p_owner || '/' || p_key) then
    select count(*), min(created_at) into v_recent, v_oldest
      from (select created_at from public.payment_idempotency
             where owner_id = p_owner and created_at > now() - interval '1 minute'
             order by created_at desc limit p_per_minute) recent;
    if v_recent >= p_per_minute then
      perform hazina.raise_error('rate_limited', jsonb_build_object('limit_per_minute', p_per_minute,
        'retry_after_seconds', greatest(1, ceil(extract(epoch from v_oldest + interval '1 minute' - now())))::integer));
    end if;
  end if;
  -- A few attempts: the record we collide with may be abandoned (deleted) between our
  -- insert and our read, in which case the next insert wins.
  for attempt in 1 .. 3 loop
    delete from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key and expires_at <= now();
    insert into public.payment_idempotency (owner_id, client_key, scope, request_hash)
    values (p_owner, p_key, p_scope, p_request_hash)
    on conflict (idempotency_key) do nothing
    returning * into v_row;
    if v_row.id is not null then
      outcome := 'started';
      return;
    end if;
    select * into v_row from public.payment_idempotency
     where idempotency_key = p_owner || '/' || p_key for update;
    continue when v_row.id is null;
    if v_row.scope <> p_scope or v_row.request_hash <> p_request_hash then
      perform hazina.raise_error('idempotency_key_reused');
    end if;
    if v_row.status = 'completed' then
      outcome := 'replay';
      response_status := v_row.response_status;
      response_body := v_row.response_body;
      return;
    end if;
    if v_row.locked_until > now() then
      perform hazina.raise_error('idempotency_key_in_use');
    end if;
    update public.payment_idempotency set locked_until = now() + interval '60 seconds' where id = v_row.id;
    outcome := 'started';
    return;
  end loop;
  perform hazina.raise_error('idempotency_key_in_use');
end
$$;

create function hazina.idempotency_complete(p_owner text, p_key text, p_status integer, p_body jsonb) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  update public.payment_idempotency
     set status = 'completed', response_status = p_status, response_body = p_body, completed_at = now()
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress'
$$;

create function hazina.idempotency_abandon(p_owner text, p_key text) returns void
  language sql
  security definer
  set search_path = ''
  as $$
  delete from public.payment_idempotency
   where idempotency_key = p_owner || '/' || p_key and status = 'in_progress'
$$;

create function hazina.idempotency_purge_expired() returns integer
  language sql
  security definer
  set search_path = ''
  as $$
  with gone as (delete from public.payment_idempotency where expires_at <= now() returning 1)
  select count(*)::integer from gone
$$;

alter table public.payment_idempotency enable row level security;
revoke all on table public.payment_idempotency from public, anon, authenticated;
grant select on table public.payment_idempotency to service_role;

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.idempotency_begin(text, text, text, text, integer),
  hazina.idempotency_complete(text, text, integer, jsonb), hazina.idempotency_abandon(text, text),
  hazina.idempotency_purge_expired() to service_role;

-- migrate:down
drop function if exists hazina.idempotency_purge_expired();
drop function if exists hazina.idempotency_abandon(text, text);
drop function if exists hazina.idempotency_complete(text, text, integer, jsonb);
drop function if exists hazina.idempotency_begin(text, text, text, text, integer);
drop table if exists public.payment_idempotency;
