-- migrate:up
-- Merchant API keys: server-to-server credentials for a merchant's own integration.
--   api key: active --revoke--> revoked (at once: every request resolves the key here)
-- A key is `hz_test_<64 hex>` or `hz_live_<64 hex>` (256 random bits): shown once, stored
-- as its SHA-256 (a fast hash suffices for a high-entropy secret), listed by its prefix only.
-- The edge resolves a key to its merchant with hazina.api_key_resolve and then acts as that
-- user under RLS, exactly as with an access token. A key never carries admin or ops powers:
-- only a merchant may hold one, and a key resolves only while its owner is a merchant
-- (roles are exclusive, so never an admin), and hazina.caller_id's other rules still apply.

create table public.api_keys (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null references public.auth_users (id),
  name          text not null check (length(name) between 1 and 100),
  mode          text not null check (mode in ('test', 'live')),
  prefix        text not null check (prefix ~ '^hz_(test|live)_[0-9a-f]{8}$'),  -- shown in lists
  key_hash      text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  client_ref    text not null check (length(client_ref) between 1 and 255),
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  unique (user_id, client_ref)
);
create index api_keys_user_idx on public.api_keys (user_id, created_at, id);

-- The API shape of a key: never its hash.
create function public.api_key_json(k public.api_keys) returns jsonb
  language sql stable
  set search_path = ''
  as $$
  select jsonb_build_object('id', k.id, 'object', 'api_key', 'name', k.name, 'mode', k.mode, 'prefix', k.prefix,
                            'status', case when k.revoked_at is null then 'active' else 'revoked' end,
                            'last_used_at', public.api_time(k.last_used_at), 'revoked_at', public.api_time(k.revoked_at),
                            'created_at', public.api_time(k.created_at), 'updated_at', public.api_time(k.updated_at))
$$;

create function hazina.api_key_json(p_key_id uuid) returns jsonb
  language sql stable
  set search_path = ''
  as $$ select public.api_key_json(k) from public.api_keys k where k.id = p_key_id $$;

-- A merchant creates a key; the reply that creates it carries the secret (created: true).
-- Idempotent by (user, client_ref): a repeat returns the key without its secret.
create function hazina.api_key_create(p_user_id uuid, p_name text, p_mode text, p_client_ref text) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_existing public.api_keys;
  v_secret text;
  v_id uuid := gen_random_uuid();
begin
  if p_client_ref is null or length(p_client_ref) not between 1 and 255 then
    perform hazina.raise_error('invalid_ref');
  end if;
  if not exists (select 1 from public.auth_users where id = p_user_id and role = 'merchant') then
    perform hazina.raise_error('api_keys_merchants_only');
  end if;
  select * into v_existing from public.api_keys where user_id = p_user_id and client_ref = p_client_ref;
  if v_existing.id is not null then
    if v_existing.name <> p_name or v_existing.mode <> p_mode then
      perform hazina.raise_error('ref_conflict', jsonb_build_object('ref', p_client_ref));
    end if;
    return hazina.api_key_json(v_existing.id) || jsonb_build_object('created', false);
  end if;
  if p_name is null or length(p_name) not between 1 and 100 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'name', 'reason', '1 to 100 characters'));
  end if;
  if p_mode is null or p_mode not in ('test', 'live') then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'mode', 'reason', 'test or live'));
  end if;
  v_secret := 'hz_' || p_mode || '_' || encode(extensions.gen_random_bytes(32), 'hex');
  insert into public.api_keys (id, user_id, name, mode, prefix, key_hash, client_ref)
  values (v_id, p_user_id, p_name, p_mode, left(v_secret, length('hz_' || p_mode || '_') + 8),
          encode(sha256(convert_to(v_secret, 'UTF8')), 'hex'), p_client_ref)
  on conflict (user_id, client_ref) do nothing;
  if not found then
    raise exception using errcode = '40001', message = 'concurrent duplicate api key; retry';
  end if;
  return hazina.api_key_json(v_id) || jsonb_build_object('created', true, 'secret', v_secret);
end
$$;

create function public.api_key_create(p_name text, p_mode text, p_client_ref text) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.api_key_create(hazina.caller_id(), p_name, p_mode, p_client_ref) $$;

-- The owner revokes a key; from this commit on it resolves to nobody. Repeating is a no-op.
create function hazina.api_key_revoke(p_key_id uuid, p_user_id uuid) returns jsonb
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  update public.api_keys set revoked_at = coalesce(revoked_at, now()), updated_at = now()
   where id = p_key_id and user_id = p_user_id;
  if not found then
    perform hazina.raise_error('api_key_not_found', jsonb_build_object('api_key_id', p_key_id));
  end if;
  return hazina.api_key_json(p_key_id);
end
$$;

create function public.api_key_revoke(p_key_id uuid) returns jsonb
  language sql security definer set search_path = ''
  as $$ select hazina.api_key_revoke(p_key_id, hazina.caller_id()) $$;

-- The edge's lookup (as service_role): the key's id and merchant, or no row when the key is
-- unknown, revoked, or its owner is no longer a merchant. Records the last use (at most once
-- a minute, so a busy key does not write on every request).
create function hazina.api_key_resolve(p_secret text) returns table (api_key_id uuid, user_id uuid)
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_key public.api_keys;
begin
  if p_secret is null or p_secret !~ '^hz_(test|live)_[0-9a-f]{64}$' then
    return;
  end if;
  select k.* into v_key from public.api_keys k
    join public.auth_users u on u.id = k.user_id and u.role = 'merchant'
   where k.key_hash = encode(sha256(convert_to(p_secret, 'UTF8')), 'hex') and k.revoked_at is null;
  if v_key.id is null then
    return;
  end if;
  update public.api_keys set last_used_at = now()
   where id = v_key.id and (last_used_at is null or last_used_at < now() - interval '1 minute');
  return query select v_key.id, v_key.user_id;
end
$$;

-- Row level security: owners read their own keys (the API shape never shows the hash; the
-- hash of a 256-bit secret gives nobody the secret). Nobody writes directly.
alter table public.api_keys enable row level security;
revoke all on table public.api_keys from public, anon, authenticated;
grant select on table public.api_keys to authenticated, service_role;
create policy "owner reads own api keys" on public.api_keys
  for select to authenticated using (user_id = auth.uid());

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.api_key_create(text, text, text), public.api_key_revoke(uuid),
  public.api_key_json(public.api_keys) from public, anon;
grant execute on function public.api_key_create(text, text, text), public.api_key_revoke(uuid) to authenticated;
grant execute on function public.api_key_json(public.api_keys) to authenticated, service_role;
grant execute on function hazina.api_key_json(uuid), hazina.api_key_create(uuid, text, text, text),
  hazina.api_key_revoke(uuid, uuid), hazina.api_key_resolve(text) to service_role;

-- migrate:down
drop function if exists hazina.api_key_resolve(text);
drop function if exists public.api_key_revoke(uuid);
drop function if exists hazina.api_key_revoke(uuid, uuid);
drop function if exists public.api_key_create(text, text, text);
drop function if exists hazina.api_key_create(uuid, text, text, text);
drop function if exists hazina.api_key_json(uuid);
drop function if exists public.api_key_json(public.api_keys);
drop table if exists public.api_keys;
