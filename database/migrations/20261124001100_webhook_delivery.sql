-- migrate:up
-- Signed merchant webhooks (Standard Webhooks, standardwebhooks.com): a merchant registers
-- endpoints; every event of theirs (public.events, written in the same transaction as the
-- change) gets one delivery per subscribed active endpoint, created by a trigger in that
-- same transaction; the delivery worker (an edge job, `webhooks.deliver`,
-- functions/_shared/webhook-delivery/) POSTs them outside any transaction and records every
-- attempt here.
--
--   endpoint:  active --disable (DELETE)--> disabled
--   delivery:  pending --claim--> delivering --2xx--> succeeded
--                 ^                  |  \--else, attempts left--> pending (next_attempt_at: backoff)
--                 |                  `--else, 8th attempt-------> failed (dead)
--                 `------ redeliver (succeeded / failed / pending) --'
--
-- Retry schedule (after the Nth failed attempt of a run, wait): 5 s, 5 min, 30 min, 2 h, 5 h,
-- 10 h, 10 h, each lengthened by a random 0-10 % (jitter; never shortened, so the 8 attempts
-- always span at least 27 h 35 min), then the delivery is `failed`. A redeliver starts a new
-- run (attempt_count back to 0); the attempts table keeps every attempt of every run.
--
-- Exactly-once to a 2xx endpoint under concurrent workers: a worker claims due deliveries
-- with `for update skip locked` and a lease (lease_owner, leased_until) in a short
-- transaction, POSTs with a timeout far below the lease, and records the outcome only while
-- it still holds the lease. A delivery whose worker died is claimed again once its lease
-- has expired (the receiver may then see the event twice: webhook-id, the event id, is
-- stable across attempts, so receivers de-duplicate by it).
--
-- Time: due-ness and backoff read hazina.clock() (tests and workers may pass an explicit
-- p_now instead, so no test moves the shared clock); leases are real time (now()).

-- The event types an endpoint subscribes to: '*' (every event), a type ('invoice.paid') or
-- every type of one object ('payment_intent.*'). A list, not a check against today's types,
-- so capabilities that add events need no change here.
create function hazina.webhook_event_filter_valid(p_events text[]) returns boolean
  language sql immutable
  set search_path = ''
  as $$
  select p_events is not null and cardinality(p_events) between 1 and 100
     and array_position(p_events, null) is null
     and (select bool_and(e ~ '^(\*|[a-z_]+\.(\*|[a-z_]+))$' and length(e) <= 100) from unnest(p_events) e)
     and (not ('*' = any (p_events)) or cardinality(p_events) = 1)
$$;

create function hazina.webhook_event_matches(p_events text[], p_type text) returns boolean
  language sql immutable
  set search_path = ''
  as $$
  select '*' = any (p_events) or p_type = any (p_events) or (split_part(p_type, '.', 1) || '.*') = any (p_events)
$$;

create table public.webhook_endpoints (
  id           uuid primary key default gen_random_uuid(),
  merchant_id  uuid not null references public.auth_users (id),
  url          text not null check (url ~ '^https?://[^\s/?#]+' and length(url) <= 2048),
  events       text[] not null check (hazina.webhook_event_filter_valid(events)),
  status       text not null default 'active' check (status in ('active', 'disabled')),
  description  text check (length(description) <= 500),
  client_ref   text not null check (length(client_ref) between 1 and 255),
  disabled_at  timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (merchant_id, client_ref),
  constraint webhook_endpoints_disabled_at check ((status = 'disabled') = (disabled_at is not null))
);
create index webhook_endpoints_merchant_idx on public.webhook_endpoints (merchant_id, created_at, id);
create index webhook_endpoints_active_idx on public.webhook_endpoints (merchant_id) where status = 'active';

-- The signing secret (`whsec_<base64 of 24 random bytes>`): the worker must read it back to
-- sign, so it is kept, in the internal schema where no client role can read it. Only
-- SECURITY DEFINER functions read it (the create returns it once; the claim hands it to the
-- worker). It is never in an endpoint's API shape, a delivery, an event or a log.
create table hazina.webhook_endpoint_secrets (
  endpoint_id  uuid primary key references public.webhook_endpoints (id),
  secret       text not null check (secret ~ '^whsec_[A-Za-z0-9+/]{32}$'),
  created_at   timestamptz not null default now()
);
revoke all on table hazina.webhook_endpoint_secrets from public, anon, authenticated, service_role;

create table public.webhook_deliveries (
  id                    uuid primary key default gen_random_uuid(),
  event_id              uuid not null references public.events (id),
  endpoint_id           uuid not null references public.webhook_endpoints (id),
  merchant_id           uuid not null references public.auth_users (id),
  status                text not null default 'pending'
                          check (status in ('pending', 'delivering', 'succeeded', 'failed')),
  attempt_count         integer not null default 0 check (attempt_count between 0 and 8),  -- in this run
  next_attempt_at       timestamptz,            -- when pending: due at
  last_attempt_at       timestamptz,
  last_response_status  integer check (last_response_status between 100 and 599),
  last_error            text check (length(last_error) <= 500),
  lease_owner           text check (length(lease_owner) <= 100),
  leased_until          timestamptz,
  redelivery_count      integer not null default 0,
  succeeded_at          timestamptz,
  failed_at             timestamptz,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now(),
  unique (event_id, endpoint_id),
  constraint webhook_deliveries_state check (
    (status = 'pending' and next_attempt_at is not null and lease_owner is null)
    or (status = 'delivering' and lease_owner is not null and leased_until is not null)
    or (status = 'succeeded' and succeeded_at is not null and lease_owner is null)
    or (status = 'failed' and failed_at is not null and lease_owner is null))
);
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_leased_idx on public.webhook_deliveries (leased_until) where status = 'delivering';
-- (the claim's in-flight count per endpoint)
create index webhook_deliveries_in_flight_idx on public.webhook_deliveries (endpoint_id) where status = 'delivering';
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, created_at, id);
create index webhook_deliveries_merchant_idx on public.webhook_deliveries (merchant_id, created_at, id);

-- Every attempt, of every run: what was sent when, and what came back.
create table public.webhook_delivery_attempts (
  id               uuid primary key default gen_random_uuid(),
  delivery_id      uuid not null references public.webhook_deliveries (id),
  merchant_id      uuid not null references public.auth_users (id),
  attempt_number   integer not null check (attempt_number >= 1),  -- over all runs
  url              text not null,
  worker           text not null check (length(worker) <= 100),
  response_status  integer check (response_status between 100 and 599),
  error            text check (length(error) <= 500),
  duration_ms      integer check (duration_ms >= 0),
  -- false when the worker had lost its lease (its outcome did not change the delivery)
  applied          boolean not null,
  created_at       timestamptz not null default now(),
  unique (delivery_id, attempt_number)
);
create index webhook_delivery_attempts_merchant_idx on public.webhook_delivery_attempts (merchant_id, created_at);

-- The API shapes. An endpoint's never has its secret.
create function public.webhook_endpoint_json(e public.webhook_endpoints) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', e.id, 'object', 'webhook_endpoint', 'url', e.url, 'events', to_jsonb(e.events),
                            'status', e.status, 'description', e.description,
                            'disabled_at', public.api_time(e.disabled_at),
                            'created_at', public.api_time(e.created_at), 'updated_at', public.api_time(e.updated_at))
$$;

create function public.webhook_delivery_json(d public.webhook_deliveries) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', d.id, 'object', 'webhook_delivery', 'event_id', d.event_id,
                            'endpoint_id', d.endpoint_id,
                            'event_type', (select e.type from public.events e where e.id = d.event_id),
                            'status', d.status, 'attempt_count', d.attempt_count,
                            'next_attempt_at', case when d.status = 'pending' then public.api_time(d.next_attempt_at) end,
                            'last_attempt_at', public.api_time(d.last_attempt_at),
                            'last_response_status', d.last_response_status, 'last_error', d.last_error,
                            'redelivery_count', d.redelivery_count,
                            'succeeded_at', public.api_time(d.succeeded_at), 'failed_at', public.api_time(d.failed_at),
                            'attempts', coalesce((select jsonb_agg(jsonb_build_object(
                                'attempt_number', a.attempt_number, 'response_status', a.response_status,
                                'error', a.error, 'duration_ms', a.duration_ms, 'applied', a.applied,
                                'created_at', public.api_time(a.created_at)) order by a.attempt_number)
                              from public.webhook_delivery_attempts a where a.delivery_id = d.id), '[]'::jsonb),
                            'created_at', public.api_time(d.created_at), 'updated_at', public.api_time(d.updated_at))
$$;

create function hazina.webhook_endpoint_json(p_endpoint_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.webhook_endpoint_json(e) from public.webhook_endpoints e where e.id = p_endpoint_id $$;

-- A merchant registers an endpoint (the edge has checked the URL's address: SSRF). The reply
-- that creates it carries the signing secret (created: true), once. Idempotent by
-- (merchant, client_ref): a repeat returns the endpoint without its secret. At most 20
-- active endpoints per merchant.
create function hazina.webhook_endpoint_create(p_merchant_id uuid, p_url text, p_events text[], p_description text,
                                               p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.webhook_endpoints;
  v_id uuid := gen_random_uuid();
  v_secret text;
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  if not exists (select 1 from public.auth_users where id = p_merchant_id and role = 'merchant') then
    perform hazina.raise_error('webhook_endpoints_merchants_only');
  end if;
  select * into v_existing from public.webhook_endpoints where merchant_id = p_merchant_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.url <> p_url or v_existing.events <> p_events
       or v_existing.description is distinct from p_description then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.webhook_endpoint_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if p_url is null or p_url !~ '^https?://[^\s/?#]+' or length(p_url) > 2048 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'url', 'reason', 'an http(s) URL of at most 2048 characters'));
  end if;
  if not hazina.webhook_event_filter_valid(p_events) then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'events',
      'reason', '["*"] or 1 to 100 event types such as "payment_intent.succeeded" or "payment_intent.*"'));
  end if;
  if p_description is not null and length(p_description) > 500 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'description', 'reason', 'at most 500 characters'));
  end if;
  -- Serialise one merchant's creates, so the limit holds under concurrent requests.
  perform 1 from public.auth_users where id = p_merchant_id for update;
  if (select count(*) from public.webhook_endpoints where merchant_id = p_merchant_id and status = 'active') >= 20 then
    perform hazina.raise_error('webhook_endpoint_limit_reached', jsonb_build_object('limit', 20));
  end if;
  v_secret := 'whsec_' || encode(extensions.gen_random_bytes(24), 'base64');
  insert into public.webhook_endpoints (id, merchant_id, url, events, description, client_ref)
  values (v_id, p_merchant_id, p_url, p_events, p_description, p_client_ref)
  on conflict (merchant_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate webhook endpoint; retry';
  end if;
  insert into hazina.webhook_endpoint_secrets (endpoint_id, secret) values (v_id, v_secret);
  return hazina.webhook_endpoint_json(v_id) || jsonb_build_object('created', true, 'secret', v_secret);
end
$$;

create function public.webhook_endpoint_create(p_url text, p_events text[], p_description text, p_client_ref text)
  returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.webhook_endpoint_create(hazina.caller_id(), p_url, p_events, p_description, p_client_ref) $$;

-- The owner disables an endpoint (DELETE): nothing more is delivered to it, and what was
-- still queued for it is failed ('endpoint disabled'). Repeating is a no-op.
create function hazina.webhook_endpoint_disable(p_endpoint_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_endpoint public.webhook_endpoints;
begin
  select * into v_endpoint from public.webhook_endpoints
   where id = p_endpoint_id and merchant_id = p_merchant_id for update;
  if v_endpoint.id is null then
    perform hazina.raise_error('webhook_endpoint_not_found', jsonb_build_object('webhook_endpoint_id', p_endpoint_id));
  end if;
  if v_endpoint.status = 'active' then
    update public.webhook_endpoints set status = 'disabled', disabled_at = now(), updated_at = now()
     where id = p_endpoint_id;
    update public.webhook_deliveries
       set status = 'failed', failed_at = now(), last_error = 'endpoint disabled', next_attempt_at = null,
           lease_owner = null, leased_until = null, updated_at = now()
     where endpoint_id = p_endpoint_id and status in ('pending', 'delivering');
  end if;
  return hazina.webhook_endpoint_json(p_endpoint_id);
end
$$;

create function public.webhook_endpoint_disable(p_endpoint_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.webhook_endpoint_disable(p_endpoint_id, hazina.caller_id()) $$;

-- Fan-out: every new event gets one delivery per active endpoint of its merchant that
-- subscribes to its type, in the event's (and so the change's) transaction. Delivery itself
-- is asynchronous: nothing here waits for a network.
create function hazina.webhook_event_fan_out() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  insert into public.webhook_deliveries (event_id, endpoint_id, merchant_id, next_attempt_at)
  select new.id, e.id, new.merchant_id, hazina.clock()
    from public.webhook_endpoints e
   where e.merchant_id = new.merchant_id and e.status = 'active' and hazina.webhook_event_matches(e.events, new.type)
  on conflict (event_id, endpoint_id) do nothing;
  return null;
end
$$;

create trigger events_webhook_fan_out after insert on public.events
  for each row execute function hazina.webhook_event_fan_out();

-- The merchant asks for an event again (POST /events/:id/redeliver): every active endpoint
-- subscribed to it gets it again, at once: a delivery that ended (succeeded or failed)
-- starts a new run, a pending one is made due now, one in flight is left alone, and an
-- endpoint created after the event gets its first delivery. Returns the deliveries.
create function hazina.event_redeliver(p_event_id uuid, p_merchant_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_event public.events;
  v_now timestamptz := hazina.clock();
begin
  select * into v_event from public.events where id = p_event_id and merchant_id = p_merchant_id;
  if v_event.id is null then
    perform hazina.raise_error('event_not_found', jsonb_build_object('event_id', p_event_id));
  end if;
  insert into public.webhook_deliveries (event_id, endpoint_id, merchant_id, next_attempt_at)
  select v_event.id, e.id, v_event.merchant_id, v_now
    from public.webhook_endpoints e
   where e.merchant_id = v_event.merchant_id and e.status = 'active' and hazina.webhook_event_matches(e.events, v_event.type)
  on conflict (event_id, endpoint_id) do nothing;
  update public.webhook_deliveries d
     set status = 'pending', attempt_count = 0, next_attempt_at = v_now, succeeded_at = null, failed_at = null,
         redelivery_count = d.redelivery_count + 1, updated_at = now()
    from public.webhook_endpoints e
   where d.event_id = v_event.id and e.id = d.endpoint_id and e.status = 'active'
     and hazina.webhook_event_matches(e.events, v_event.type)
     and (d.status in ('succeeded', 'failed') or (d.status = 'pending' and d.next_attempt_at > v_now));
  return jsonb_build_object('object', 'event_redelivery', 'event_id', v_event.id,
    'deliveries', coalesce((select jsonb_agg(public.webhook_delivery_json(d) order by d.created_at, d.id)
                              from public.webhook_deliveries d
                              join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
                             where d.event_id = v_event.id), '[]'::jsonb));
end
$$;

create function public.event_redeliver(p_event_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.event_redeliver(p_event_id, hazina.caller_id()) $$;

-- The worker's side (service_role) -----------------------------------------------------

-- The wait after the Nth failed attempt of a run (1-based); null after the 8th: give up.
create function hazina.webhook_retry_delay(p_failed_attempts integer) returns interval
  language sql immutable
  set search_path = ''
  as $$
  select (array[interval '5 seconds', interval '5 minutes', interval '30 minutes', interval '2 hours',
                interval '5 hours', interval '10 hours', interval '10 hours'])[p_failed_attempts]
$$;

-- Claim up to p_limit due deliveries for worker p_worker, leased for p_lease (real time):
-- pending ones due at p_now (default hazina.clock()), and in-flight ones whose worker's lease
-- ran out. Skips rows another worker is claiming (skip locked) and endpoints that already
-- have p_max_in_flight deliveries in flight, so one slow endpoint cannot take every worker
-- (a soft limit: concurrent claims may pass it by a few). p_merchant_id narrows the claim to
-- one merchant (tests). Returns what the worker needs to sign and send, secret included:
-- service_role only.
create function hazina.webhook_deliveries_claim(p_worker text, p_limit integer, p_lease interval,
                                                p_now timestamptz default null, p_merchant_id uuid default null,
                                                p_max_in_flight integer default 3)
  returns table (delivery_id uuid, event_id uuid, endpoint_id uuid, url text, secret text, payload text,
                 attempt_number integer)
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_now timestamptz := coalesce(p_now, hazina.clock());
begin
  if p_worker is null or length(p_worker) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'worker', 'reason', '1 to 100 characters'));
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'limit', 'reason', '1 to 1000'));
  end if;
  if p_lease is null or p_lease < interval '1 second' or p_lease > interval '1 hour' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'lease', 'reason', '1 second to 1 hour'));
  end if;
  return query
  with due as (
    select d.id from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
     where ((d.status = 'pending' and d.next_attempt_at <= v_now) or (d.status = 'delivering' and d.leased_until < now()))
       and (p_merchant_id is null or d.merchant_id = p_merchant_id)
       and (select count(*) from public.webhook_deliveries f
             where f.endpoint_id = d.endpoint_id and f.status = 'delivering' and f.leased_until >= now()) < p_max_in_flight
     order by d.next_attempt_at nulls first, d.id
     limit p_limit
       for update of d skip locked
  ), claimed as (
    update public.webhook_deliveries d
       set status = 'delivering', lease_owner = p_worker, leased_until = now() + p_lease, next_attempt_at = null,
           updated_at = now()
      from due where d.id = due.id
    returning d.id, d.event_id, d.endpoint_id
  )
  select c.id, c.event_id, c.endpoint_id, e.url, s.secret, public.event_json(ev)::text,
         (select count(*)::integer + 1 from public.webhook_delivery_attempts a where a.delivery_id = c.id)
    from claimed c
    join public.webhook_endpoints e on e.id = c.endpoint_id
    join hazina.webhook_endpoint_secrets s on s.endpoint_id = c.endpoint_id
    join public.events ev on ev.id = c.event_id;
end
$$;

-- Record one attempt (always) and, while p_worker still holds the lease, its outcome: a 2xx
-- succeeds the delivery; anything else (another status, a timeout, a refused address: then
-- p_response_status is null and p_error says why) schedules the next attempt of the run, or
-- fails it after the 8th. Returns the delivery.
create function hazina.webhook_delivery_record(p_delivery_id uuid, p_worker text, p_url text,
                                               p_response_status integer, p_error text, p_duration_ms integer,
                                               p_now timestamptz default null) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_delivery public.webhook_deliveries;
  v_now timestamptz := coalesce(p_now, hazina.clock());
  v_applied boolean;
  v_ok boolean := p_response_status between 200 and 299;
  v_failed integer;
  v_error text := left(p_error, 500);
begin
  select * into v_delivery from public.webhook_deliveries where id = p_delivery_id for update;
  if v_delivery.id is null then
    perform hazina.raise_error('webhook_delivery_not_found', jsonb_build_object('webhook_delivery_id', p_delivery_id));
  end if;
  if p_response_status is not null and p_response_status not between 100 and 599 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'response_status', 'reason', '100 to 599'));
  end if;
  v_applied := v_delivery.status = 'delivering' and v_delivery.lease_owner = p_worker;
  insert into public.webhook_delivery_attempts (delivery_id, merchant_id, attempt_number, url, worker, response_status,
                                                error, duration_ms, applied)
  values (p_delivery_id, v_delivery.merchant_id,
          (select count(*)::integer + 1 from public.webhook_delivery_attempts where delivery_id = p_delivery_id),
          left(coalesce(p_url, ''), 2048), left(coalesce(p_worker, '?'), 100), p_response_status, v_error,
          greatest(p_duration_ms, 0), v_applied);
  if not v_applied then
    return public.webhook_delivery_json(v_delivery);
  end if;
  v_failed := v_delivery.attempt_count + 1;
  if v_ok then
    update public.webhook_deliveries
       set status = 'succeeded', attempt_count = v_failed, succeeded_at = now(), last_attempt_at = now(),
           last_response_status = p_response_status, last_error = null, lease_owner = null, leased_until = null,
           updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  elsif hazina.webhook_retry_delay(v_failed) is null then
    update public.webhook_deliveries
       set status = 'failed', attempt_count = v_failed, failed_at = now(), last_attempt_at = now(),
           last_response_status = p_response_status, last_error = v_error, lease_owner = null, leased_until = null,
           updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  else
    -- Jitter: + 0-10 % of the delay, never less, so concurrent failures spread out.
    update public.webhook_deliveries
       set status = 'pending', attempt_count = v_failed,
           next_attempt_at = v_now + hazina.webhook_retry_delay(v_failed) * (1 + random() * 0.1),
           last_attempt_at = now(), last_response_status = p_response_status, last_error = v_error,
           lease_owner = null, leased_until = null, updated_at = now()
     where id = p_delivery_id returning * into v_delivery;
  end if;
  return public.webhook_delivery_json(v_delivery);
end
$$;

-- What is due now (the job's backlog): pending and due, or in flight with an expired lease.
create function hazina.webhook_delivery_backlog(p_now timestamptz default null) returns bigint
  language sql stable
  security definer
  set search_path = ''
  as $$
  select count(*) from public.webhook_deliveries d
    join public.webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
   where (d.status = 'pending' and d.next_attempt_at <= coalesce(p_now, hazina.clock()))
      or (d.status = 'delivering' and d.leased_until < now())
$$;

insert into hazina.jobs (name, runs_in, function, every, batch_size, exclusive, description) values
  ('webhooks.deliver', 'edge', null, interval '5 seconds', 100, false,
   'POST due webhook deliveries to merchant endpoints (signed, Standard Webhooks), retrying with backoff.');

do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform hazina.schedule_jobs();
  end if;
end
$$;

-- Row level security: a merchant reads its own endpoints, deliveries and attempts; nobody
-- else, anon nothing; nobody writes directly (functions do).
alter table public.webhook_endpoints enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_delivery_attempts enable row level security;
revoke all on table public.webhook_endpoints, public.webhook_deliveries, public.webhook_delivery_attempts
  from public, anon, authenticated;
grant select on table public.webhook_endpoints, public.webhook_deliveries, public.webhook_delivery_attempts
  to authenticated, service_role;
create policy "merchant reads own webhook endpoints" on public.webhook_endpoints
  for select to authenticated using (merchant_id = auth.uid());
create policy "merchant reads own webhook deliveries" on public.webhook_deliveries
  for select to authenticated using (merchant_id = auth.uid());
create policy "merchant reads own webhook delivery attempts" on public.webhook_delivery_attempts
  for select to authenticated using (merchant_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function
  public.webhook_endpoint_create(text, text[], text, text), public.webhook_endpoint_disable(uuid),
  public.event_redeliver(uuid),
  public.webhook_endpoint_json(public.webhook_endpoints), public.webhook_delivery_json(public.webhook_deliveries)
  from public, anon;
grant execute on function
  public.webhook_endpoint_create(text, text[], text, text), public.webhook_endpoint_disable(uuid),
  public.event_redeliver(uuid) to authenticated;
grant execute on function
  public.webhook_endpoint_json(public.webhook_endpoints), public.webhook_delivery_json(public.webhook_deliveries)
  to authenticated, service_role;
grant execute on function
  hazina.webhook_deliveries_claim(text, integer, interval, timestamptz, uuid, integer),
  hazina.webhook_delivery_record(uuid, text, text, integer, text, integer, timestamptz),
  hazina.webhook_delivery_backlog(timestamptz) to service_role;

-- migrate:down
do $$
begin
  if to_regclass('cron.job') is not null then
    perform cron.unschedule(jobname) from cron.job where jobname = 'hazina-job-webhooks.deliver';
  end if;
end
$$;
delete from public.job_runs where name = 'webhooks.deliver';
delete from hazina.jobs where name = 'webhooks.deliver';
drop function if exists hazina.webhook_delivery_backlog(timestamptz);
drop function if exists hazina.webhook_delivery_record(uuid, text, text, integer, text, integer, timestamptz);
drop function if exists hazina.webhook_deliveries_claim(text, integer, interval, timestamptz, uuid, integer);
drop function if exists hazina.webhook_retry_delay(integer);
drop function if exists public.event_redeliver(uuid);
drop function if exists hazina.event_redeliver(uuid, uuid);
drop trigger if exists events_webhook_fan_out on public.events;
drop function if exists hazina.webhook_event_fan_out();
drop function if exists public.webhook_endpoint_disable(uuid);
drop function if exists hazina.webhook_endpoint_disable(uuid, uuid);
drop function if exists public.webhook_endpoint_create(text, text[], text, text);
drop function if exists hazina.webhook_endpoint_create(uuid, text, text[], text, text);
drop function if exists hazina.webhook_endpoint_json(uuid);
drop function if exists public.webhook_delivery_json(public.webhook_deliveries);
drop function if exists public.webhook_endpoint_json(public.webhook_endpoints);
drop table if exists public.webhook_delivery_attempts;
drop table if exists public.webhook_deliveries;
drop table if exists hazina.webhook_endpoint_secrets;
drop table if exists public.webhook_endpoints;
drop function if exists hazina.webhook_event_matches(text[], text);
drop function if exists hazina.webhook_event_filter_valid(text[]);
