-- migrate:up
-- Auth: the rules that protect accounts. The `auth` edge function hashes passwords, checks
-- signatures and sends mail; it calls these functions as service_role, and they decide
-- every state change: who may sign in, lockout, refresh-token rotation with reuse
-- detection, single-use verification tokens, revocation.
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
-- which emails exist.
create function hazina.signup(
  p_email text,
  p_password_hash text,
  p_name text default null,
  p_phone text default null,
  p_role text default 'customer'
) returns table (user_id uuid, created boolean)
  language plpgsql
  set search_path = ''
  as $$
declare
  v_id uuid;
begin
  perform hazina.auth_check_password_hash(p_password_hash);
  if p_role is null or p_role not in ('customer', 'merchant') then
    -- Admins are made by admins, never by sign-up.
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'role'));
  end if;
  insert into public.auth_users (email, password_hash, name, phone, role)
  values (lower(p_email), p_password_hash, p_name, p_phone, p_role)
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

-- A new single-use token for email verification or password reset. Older open tokens of
-- the same purpose stop working: only the newest link in the inbox is valid.
create function hazina.verification_token_issue(
  p_user_id uuid, p_purpose text, p_token_hash text, p_ttl_seconds integer
) returns timestamptz
  language plpgsql
  set search_path = ''
  as $$
declare
  v_expires_at timestamptz;
begin
  perform hazina.auth_check_token_hash(p_token_hash, 'token_hash');
  if p_ttl_seconds is null or p_ttl_seconds < 60 then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'ttl_seconds'));
  end if;
  delete from public.auth_verification_token
   where user_id = p_user_id and purpose = p_purpose and consumed_at is null;
  insert into public.auth_verification_token (user_id, purpose, token_hash, expires_at)
  values (p_user_id, p_purpose, p_token_hash, now() + make_interval(secs => p_ttl_seconds))
  returning expires_at into v_expires_at;
  return v_expires_at;
end
$$;

-- Use a token once: unknown (or another purpose's) → verification_token_invalid, already
-- used → verification_token_used, past its expiry → verification_token_expired.
create function hazina.verification_token_consume(p_token_hash text, p_purpose text)
  returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_token public.auth_verification_token;
begin
  perform hazina.auth_check_token_hash(p_token_hash, 'token_hash');
  select * into v_token from public.auth_verification_token
   where token_hash = p_token_hash and purpose = p_purpose
     for update;
  if not found then
    perform hazina.raise_error('verification_token_invalid');
  end if;
  if v_token.consumed_at is not null then
    perform hazina.raise_error('verification_token_used');
  end if;
  if v_token.expires_at <= now() then
    perform hazina.raise_error('verification_token_expired');
  end if;
  update public.auth_verification_token set consumed_at = now() where id = v_token.id;
  return v_token.user_id;
end
$$;

create function hazina.email_verify_confirm(p_token_hash text)
  returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_user_id uuid := hazina.verification_token_consume(p_token_hash, 'email_verification');
begin
  update public.auth_users
     set email_verified_at = now(), updated_at = now()
   where id = v_user_id and email_verified_at is null;
  return v_user_id;
end
$$;

-- Password reset: the token proves the email, so it also verifies the email and lifts a
-- temporary lockout; every session is revoked because whoever else knew the old password
-- may hold one.
create function hazina.password_reset_confirm(p_token_hash text, p_password_hash text)
  returns uuid
  language plpgsql
  set search_path = ''
  as $$
declare
  v_user_id uuid;
begin
  perform hazina.auth_check_password_hash(p_password_hash);
  v_user_id := hazina.verification_token_consume(p_token_hash, 'password_reset');
  update public.auth_users
     set password_hash = p_password_hash,
         email_verified_at = coalesce(email_verified_at, now()),
         failed_login_count = 0,
         status = case when status = 'locked' and locked_until is not null then 'active' else status end,
         locked_until = case when status = 'locked' and locked_until is not null then null else locked_until end,
         updated_at = now()
   where id = v_user_id;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (v_user_id, 'credentials', v_user_id::text)
  on conflict (provider, provider_account_id) do nothing;
  perform hazina.session_revoke_all(v_user_id, 'password_reset');
  return v_user_id;
end
$$;

-- Sign in with a verified OIDC identity (the edge checked the ID token's signature, issuer
-- and audience). A known (provider, subject) signs in its user. Otherwise the provider's
-- verified email finds or creates the user. If that user never verified its email, the
-- provider has just proven who owns it, and whoever set the password did not necessarily:
-- the password is removed and its sessions revoked (pre-account-takeover defence).
create function hazina.oauth_sign_in(
  p_provider text,
  p_subject text,
  p_email text,
  p_email_verified boolean,
  p_name text,
  p_refresh_token_hash text,
  p_refresh_ttl_seconds integer,
  p_user_agent text default null,
  p_ip inet default null
) returns hazina.auth_sign_in
  language plpgsql
  set search_path = ''
  as $$
declare
  v_user public.auth_users;
  v_user_id uuid;
  v_session public.auth_sessions;
  v_result hazina.auth_sign_in;
begin
  if p_provider = 'credentials' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'provider'));
  end if;
  select a.user_id into v_user_id from public.auth_accounts a
   where a.provider = p_provider and a.provider_account_id = p_subject;

  if v_user_id is null then
    if p_email is null or not coalesce(p_email_verified, false) then
      perform hazina.raise_error('oauth_email_not_verified', jsonb_build_object('provider', p_provider));
    end if;
    select * into v_user from public.auth_users where email = lower(p_email) for update;
    if found then
      if v_user.email_verified_at is null then
        update public.auth_users
           set email_verified_at = now(), password_hash = null, updated_at = now()
         where id = v_user.id;
        delete from public.auth_accounts where user_id = v_user.id and provider = 'credentials';
        perform hazina.session_revoke_all(v_user.id, 'email_ownership_proven');
      end if;
      v_user_id := v_user.id;
    else
      insert into public.auth_users (email, email_verified_at, name)
      values (lower(p_email), now(), left(p_name, 200))
      returning id into v_user_id;
    end if;
    insert into public.auth_accounts (user_id, provider, provider_account_id)
    values (v_user_id, p_provider, p_subject);
  end if;

  select * into v_user from public.auth_users where id = v_user_id;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    perform hazina.raise_error('account_disabled');
  end if;
  v_session := hazina.session_create(v_user.id, p_refresh_token_hash, p_refresh_ttl_seconds,
                                     p_user_agent, p_ip);
  v_result.outcome := 'ok';
  v_result.user_id := v_user.id;
  v_result.email := v_user.email;
  v_result.role := v_user.role;
  v_result.session_id := v_session.family_id;
  v_result.refresh_expires_at := v_session.expires_at;
  return v_result;
end
$$;

-- Link an OIDC identity to a signed-in user. Linking the same identity again is a no-op;
-- an identity linked to someone else stays theirs.
create function hazina.oauth_link(p_user_id uuid, p_provider text, p_subject text)
  returns boolean
  language plpgsql
  set search_path = ''
  as $$
declare
  v_owner uuid;
begin
  if p_provider = 'credentials' then
    perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'provider'));
  end if;
  insert into public.auth_accounts (user_id, provider, provider_account_id)
  values (p_user_id, p_provider, p_subject)
  on conflict (provider, provider_account_id) do nothing;
  if found then
    return true;
  end if;
  select a.user_id into v_owner from public.auth_accounts a
   where a.provider = p_provider and a.provider_account_id = p_subject;
  if v_owner is distinct from p_user_id then
    perform hazina.raise_error('oauth_account_in_use', jsonb_build_object('provider', p_provider));
  end if;
  return false;
end
$$;

-- Housekeeping for a scheduled job (pg_cron or the edge): forget refresh rows and
-- verification tokens that can no longer be used.
create function hazina.auth_purge_expired(p_keep interval default interval '30 days')
  returns integer
  language plpgsql
  set search_path = ''
  as $$
declare
  v_sessions integer;
  v_tokens integer;
begin
  delete from public.auth_verification_token
   where coalesce(consumed_at, expires_at) < now() - p_keep;
  get diagnostics v_tokens = row_count;
  -- Whole families only, so reuse detection never loses the rows it needs.
  delete from public.auth_sessions s
   where s.family_id in (select f.family_id from public.auth_sessions f
                          group by f.family_id
                         having max(coalesce(f.revoked_at, f.expires_at)) < now() - p_keep
                            and bool_and(f.revoked_at is not null or f.expires_at < now()));
  get diagnostics v_sessions = row_count;
  return v_sessions + v_tokens;
end
$$;

-- Whether the Hazina login (session family) a token names has been revoked: every row of
-- the family revoked (logout, DELETE /sessions/:id, password reset, refresh-token reuse, a
-- suspended user). Null for a family Hazina does not know, such as a Supabase Auth session.
-- (Definer: callers are signed-in users, and RLS shows them only some session rows.)
create function hazina.session_revoked(p_session_id uuid) returns boolean
  language sql stable
  security definer
  set search_path = ''
  as $$ select bool_and(revoked_at is not null) from public.auth_sessions where family_id = p_session_id $$;

-- The signed-in caller (the JWT's sub), or the stable error `unauthenticated`: the first
-- line of every client-facing function. An access token stays valid until its `exp`, but
-- one whose Hazina login has been revoked can no longer act through these functions (move
-- money, open wallets, add sources), whether it comes through an edge function or straight
-- through PostgREST: that is what logging out a stolen phone must stop at once.
create function hazina.caller_id() returns uuid
  language plpgsql stable
  set search_path = ''
  as $$
declare
  v_uid uuid := auth.uid();
  v_session text := auth.jwt() ->> 'session_id';
begin
  if v_uid is null then
    raise exception using errcode = 'P0001', message = 'unauthenticated', detail = '{}';
  end if;
  if v_session ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and hazina.session_revoked(v_session::uuid) then
    raise exception using errcode = 'P0001', message = 'unauthenticated',
      detail = jsonb_build_object('reason', 'session_revoked')::text;
  end if;
  return v_uid;
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
  hazina.signup(text, text, text, text, text),
  hazina.password_login_lookup(text),
  hazina.password_login(uuid, boolean, boolean, text, integer, text, inet),
  hazina.session_refresh(text, text, integer, text, inet),
  hazina.session_revoke(uuid, uuid, text),
  hazina.session_revoke_all(uuid, text, uuid),
  hazina.verification_token_issue(uuid, text, text, integer),
  hazina.verification_token_consume(text, text),
  hazina.email_verify_confirm(text),
  hazina.password_reset_confirm(text, text),
  hazina.oauth_sign_in(text, text, text, boolean, text, text, integer, text, inet),
  hazina.oauth_link(uuid, text, text),
  hazina.auth_purge_expired(interval)
  to service_role;

-- migrate:down
drop function if exists hazina.caller_id();
drop function if exists hazina.session_revoked(uuid);
revoke execute on function hazina.raise_error(text, jsonb) from service_role;
drop function if exists hazina.auth_purge_expired(interval);
drop function if exists hazina.oauth_link(uuid, text, text);
drop function if exists hazina.oauth_sign_in(text, text, text, boolean, text, text, integer, text, inet);
drop function if exists hazina.password_reset_confirm(text, text);
drop function if exists hazina.email_verify_confirm(text);
drop function if exists hazina.verification_token_consume(text, text);
drop function if exists hazina.verification_token_issue(uuid, text, text, integer);
drop function if exists hazina.session_revoke_all(uuid, text, uuid);
drop function if exists hazina.session_revoke(uuid, uuid, text);
drop function if exists hazina.session_refresh(text, text, integer, text, inet);
drop function if exists hazina.password_login(uuid, boolean, boolean, text, integer, text, inet);
drop function if exists hazina.password_login_lookup(text);
drop function if exists hazina.signup(text, text, text, text, text);
drop function if exists hazina.session_create(uuid, text, integer, text, inet, uuid, uuid);
drop function if exists hazina.auth_check_password_hash(text);
drop function if exists hazina.auth_check_token_hash(text, text);
drop function if exists hazina.auth_user_suspended(text, timestamptz);
drop type if exists hazina.auth_sign_in;
