-- migrate:up
-- Auth sessions: sign-up, password sign-in with lockout, refresh-token rotation with reuse
-- detection, and revocation. The `auth` edge function hashes passwords, checks signatures
-- and sends mail; it calls these functions as service_role, and they decide every state
-- change: who may sign in, lockout, rotation, revocation. The other auth capabilities
-- build on this one: *_auth_verification.sql (email verification, password reset),
-- *_auth_oauth.sql (OIDC sign-in and linking), *_auth_caller.sql (who the caller of a
-- client function is), *_auth_housekeeping.sql (purging dead rows).
--
-- Functions that must both fail *and* keep a change (a failed login counts; a reused
-- refresh token revokes its family) return an outcome instead of raising, because raising
-- would roll the change back. The edge turns those outcomes into HTTP errors.
--
-- Secrets arrive here only as hashes: refresh and verification tokens as SHA-256 hex,
-- passwords as argon2id PHC strings.

-- What a sign-in (password, refresh, OAuth) returns to the edge. session_id is the login's
-- family id: stable across refreshes, it is the JWT's `session_id` claim and the id that
-- GET/DELETE /sessions use.
create type hazina.auth_sign_in as (
  outcome             text,
  user_id             uuid,
  email               text,
  role                text,
  session_id          uuid,
  refresh_expires_at  timestamptz
);

-- Suspended users cannot use any session: disabled, or locked with no end (an admin lock).
-- A temporary lockout (locked with locked_until) only stops password logins, so an
-- attacker guessing passwords cannot sign the real owner out of their existing sessions.
create function hazina.auth_user_suspended(p_status text, p_locked_until timestamptz)
  returns boolean
  language sql immutable
  set search_path = ''
  as $$ select p_status = 'disabled' or (p_status = 'locked' and p_locked_until is null) $$;

create function hazina.auth_check_token_hash(p_hash text, p_field text) returns void
  language plpgsql immutable
  set search_path = ''
  as $$
begin
  if p_hash is null or p_hash !~ '^[0-9a-f]{64}$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', p_field, 'expected', 'sha-256 hex'));
  end if;
end
$$;

create function hazina.auth_check_password_hash(p_hash text) returns void
  language plpgsql immutable
  set search_path = ''
  as $$
begin
  -- Catches the one bug that must never ship: a plaintext password reaching the table.
  if p_hash is null or p_hash !~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'password_hash', 'expected', 'argon2id PHC string'));
  end if;
end
$$;

-- A new refresh-token row. With p_family_id it continues a login (rotation), else starts one
-- whose family id is its own id.
create function hazina.session_create(
  p_user_id uuid,
  p_refresh_token_hash text,
  p_ttl_seconds integer,
  p_user_agent text default null,
  p_ip inet default null,
  p_family_id uuid default null,
  p_parent_id uuid default null
) returns public.auth_sessions
  language plpgsql
  set search_path = ''
  as $$
declare
  v_id uuid := gen_random_uuid();
  v_session public.auth_sessions;
begin
  perform hazina.auth_check_token_hash(p_refresh_token_hash, 'refresh_token_hash');
  if p_ttl_seconds is null or p_ttl_seconds < 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'ttl_seconds'));
  end if;
  insert into public.auth_sessions (id, user_id, refresh_token_hash, family_id, parent_id,
                                    expires_at, user_agent, ip)
  values (v_id, p_user_id, p_refresh_token_hash, coalesce(p_family_id, v_id), p_parent_id,
          now() + make_interval(secs => p_ttl_seconds), left(p_user_agent, 512), p_ip)
  returning * into v_session;
  return v_session;
end
$$;

-- Sign-up: creates the user and its credentials account. An existing email is not an error
-- (created = false), so the edge can answer exactly as for a new one and never reveal
-- which emails exist. Everyone signs up a customer: admins are made by admins, and a
-- merchant account is a request an admin approves (*_merchant_applications.sql).
create function hazina.signup(
  p_email text,
  p_password_hash text,
  p_name text default null,
  p_phone text default null
) returns table (user_id uuid, created boolean)
  language plpgsql
  set search_path = ''
  as $$
declare
  v_id uuid;
begin
  perform hazina.auth_check_password_hash(p_password_hash);
  insert into public.auth_users (email, password_hash, name, phone)
  values (lower(p_email), p_password_hash, p_name, p_phone)
  on conflict (email) do nothing
  returning id into v_id;
  if v_id is null then
    select u.id into v_id from public.auth_users u where u.email = lower(p_email);
    return query select v_id, false;
    return;
  end if;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (v_id, 'credentials', v_id::text);
  return query select v_id, true;
end
$$;

-- Password login, step 1: the hash to verify (none for unknown emails or OAuth-only users;
-- the edge then verifies against a dummy hash so timing does not tell).
create function hazina.password_login_lookup(p_email text)
  returns table (user_id uuid, password_hash text)
  language sql stable
  set search_path = ''
  as $$ select u.id, u.password_hash from public.auth_users u where u.email = lower(p_email) $$;

-- Password login, step 2: record the verdict the edge reached, apply the lockout rule and,
-- when everything passes, start a session. Outcomes: ok, invalid_credentials, locked,
-- disabled, email_not_verified. The edge answers all but ok and email_not_verified with
-- the same invalid_credentials error.
create function hazina.password_login(
  p_user_id uuid,
  p_password_ok boolean,
  p_require_verified_email boolean,
  p_refresh_token_hash text,
  p_refresh_ttl_seconds integer,
  p_user_agent text default null,
  p_ip inet default null
) returns hazina.auth_sign_in
  language plpgsql
  set search_path = ''
  as $$
declare
  -- The lockout rule: this many consecutive failures lock password login for this long.
  c_max_failures constant integer := 5;
  c_lock_duration constant interval := interval '15 minutes';
  v_user public.auth_users;
  v_session public.auth_sessions;
  v_result hazina.auth_sign_in;
begin
  select * into v_user from public.auth_users where id = p_user_id for update;
  if not found then
    v_result.outcome := 'invalid_credentials';
    return v_result;
  end if;
  v_result.user_id := v_user.id;

  -- A temporary lock ends by itself; the next attempt starts a fresh count.
  if v_user.status = 'locked' and v_user.locked_until is not null and v_user.locked_until <= now() then
    update public.auth_users
       set status = 'active', locked_until = null, failed_login_count = 0, updated_at = now()
     where id = v_user.id
    returning * into v_user;
  end if;

  if v_user.status = 'disabled' then
    v_result.outcome := 'disabled';
    return v_result;
  end if;
  if v_user.status = 'locked' then
    -- Attempts while locked neither count nor extend the lock, and never say whether the
    -- password was right.
    v_result.outcome := 'locked';
    return v_result;
  end if;

  if not coalesce(p_password_ok, false) then
    update public.auth_users
       set failed_login_count = failed_login_count + 1,
           status = case when failed_login_count + 1 >= c_max_failures then 'locked' else status end,
           locked_until = case when failed_login_count + 1 >= c_max_failures
                               then now() + c_lock_duration else locked_until end,
           updated_at = now()
     where id = v_user.id
    returning * into v_user;
    v_result.outcome := case when v_user.status = 'locked' then 'locked' else 'invalid_credentials' end;
    return v_result;
  end if;

  if v_user.failed_login_count > 0 then
    update public.auth_users set failed_login_count = 0, updated_at = now() where id = v_user.id;
  end if;

  if coalesce(p_require_verified_email, true) and v_user.email_verified_at is null then
    v_result.outcome := 'email_not_verified';
    return v_result;
  end if;

  v_session := hazina.session_create(v_user.id, p_refresh_token_hash, p_refresh_ttl_seconds,
                                     p_user_agent, p_ip);
  v_result.outcome := 'ok';
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.session_id := v_session.family_id;
  v_result.refresh_expires_at := v_session.expires_at;
  return v_result;
end
$$;

-- Refresh-token rotation. Each refresh token works once: it is marked rotated and a new
-- row continues the family. Presenting a rotated token again means two parties hold it
-- (theft, or a leaked copy), so the whole family is revoked and both are signed out.
-- Outcomes: ok, invalid, expired, revoked, reused, suspended.
create function hazina.session_refresh(
  p_refresh_token_hash text,
  p_new_refresh_token_hash text,
  p_refresh_ttl_seconds integer,
  p_user_agent text default null,
  p_ip inet default null
) returns hazina.auth_sign_in
  language plpgsql
  set search_path = ''
  as $$
declare
  v_old public.auth_sessions;
  v_new public.auth_sessions;
  v_user public.auth_users;
  v_result hazina.auth_sign_in;
begin
  perform hazina.auth_check_token_hash(p_refresh_token_hash, 'refresh_token_hash');
  -- The row lock serialises concurrent refreshes of one token: the second one sees the
  -- first one's rotation and counts as reuse.
  select * into v_old from public.auth_sessions
   where refresh_token_hash = p_refresh_token_hash
     for update;
  if not found then
    v_result.outcome := 'invalid';
    return v_result;
  end if;
  v_result.user_id := v_old.user_id;
  v_result.session_id := v_old.family_id;

  if v_old.revoked_at is not null then
    v_result.outcome := 'revoked';
    return v_result;
  end if;
  if v_old.rotated_at is not null then
    update public.auth_sessions
       set revoked_at = now(), revoked_reason = 'refresh_token_reused'
     where family_id = v_old.family_id and revoked_at is null;
    v_result.outcome := 'reused';
    return v_result;
  end if;
  if v_old.expires_at <= now() then
    v_result.outcome := 'expired';
    return v_result;
  end if;

  select * into v_user from public.auth_users where id = v_old.user_id;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    update public.auth_sessions
       set revoked_at = now(), revoked_reason = 'user_suspended'
     where family_id = v_old.family_id and revoked_at is null;
    v_result.outcome := 'suspended';
    return v_result;
  end if;

  update public.auth_sessions set rotated_at = now() where id = v_old.id;
  v_new := hazina.session_create(v_old.user_id, p_new_refresh_token_hash, p_refresh_ttl_seconds,
                                 coalesce(p_user_agent, v_old.user_agent), coalesce(p_ip, v_old.ip),
                                 v_old.family_id, v_old.id);
  v_result.outcome := 'ok';
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.refresh_expires_at := v_new.expires_at;
  return v_result;
end
$$;

-- Revoke one login (all rows of its family) of one user. Revoking an already revoked
-- session is a no-op; someone else's session is not found.
create function hazina.session_revoke(p_user_id uuid, p_session_id uuid, p_reason text default 'logout')
  returns integer
  language plpgsql
  set search_path = ''
  as $$
declare
  v_count integer;
begin
  update public.auth_sessions
     set revoked_at = now(), revoked_reason = p_reason
   where user_id = p_user_id and family_id = p_session_id and revoked_at is null;
  get diagnostics v_count = row_count;
  if v_count = 0 and not exists (select from public.auth_sessions
                                  where user_id = p_user_id and family_id = p_session_id) then
    perform hazina.raise_error('session_not_found', jsonb_build_object('session_id', p_session_id));
  end if;
  return v_count;
end
$$;

-- Revoke every login of a user, optionally keeping one (logout scope "others").
create function hazina.session_revoke_all(p_user_id uuid, p_reason text, p_except_session_id uuid default null)
  returns integer
  language plpgsql
  set search_path = ''
  as $$
declare
  v_count integer;
begin
  update public.auth_sessions
     set revoked_at = now(), revoked_reason = p_reason
   where user_id = p_user_id and revoked_at is null
     and family_id is distinct from p_except_session_id;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
revoke execute on all functions in schema hazina from public, anon, authenticated;
grant usage on type hazina.auth_sign_in to service_role;
-- These functions run as the caller (service_role), so it needs the error helper too.
grant execute on function
  hazina.raise_error(text, jsonb),
  hazina.auth_user_suspended(text, timestamptz),
  hazina.auth_check_token_hash(text, text),
  hazina.auth_check_password_hash(text),
  hazina.session_create(uuid, text, integer, text, inet, uuid, uuid),
  hazina.signup(text, text, text, text),
  hazina.password_login_lookup(text),
  hazina.password_login(uuid, boolean, boolean, text, integer, text, inet),
  hazina.session_refresh(text, text, integer, text, inet),
  hazina.session_revoke(uuid, uuid, text),
  hazina.session_revoke_all(uuid, text, uuid)
  to service_role;

-- migrate:down
revoke execute on function hazina.raise_error(text, jsonb) from service_role;
drop function if exists hazina.session_revoke_all(uuid, text, uuid);
drop function if exists hazina.session_revoke(uuid, uuid, text);
drop function if exists hazina.session_refresh(text, text, integer, text, inet);
drop function if exists hazina.password_login(uuid, boolean, boolean, text, integer, text, inet);
drop function if exists hazina.password_login_lookup(text);
drop function if exists hazina.signup(text, text, text, text);
drop function if exists hazina.session_create(uuid, text, integer, text, inet, uuid, uuid);
drop function if exists hazina.auth_check_password_hash(text);
drop function if exists hazina.auth_check_token_hash(text, text);
drop function if exists hazina.auth_user_suspended(text, timestamptz);
drop type if exists hazina.auth_sign_in;
