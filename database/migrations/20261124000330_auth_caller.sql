-- migrate:up
-- Auth caller: who the caller of a client-facing function is, whether that login may still
-- act, and whether it is an admin. One rule, here, for every acting path:
--
--   a caller may act   = a signed-in user (the JWT's sub) that exists, is not suspended
--                        (hazina.auth_user_suspended: disabled, or locked with no end), and
--                        whose Hazina login (the JWT's session_id) has not been revoked;
--   a caller is admin  = a caller who may act and whose auth_users.role is 'admin'
--                        (never the token's app_metadata.role, which is only a hint).
--
-- Every public function that acts for a user starts with hazina.caller_id(); every
-- operator function with hazina.assert_admin() (*_operations.sql), which builds on both;
-- policies that admit admins use public.is_admin(). An access token keeps verifying until
-- its `exp`, and reads under RLS keep working until then; acting does not.

-- Whether the Hazina login (session family) a token names has been revoked: every row of
-- the family revoked (logout, DELETE /sessions/:id, password reset, refresh-token reuse, a
-- suspended user). Null for a family Hazina does not know, such as a Supabase Auth session.
-- (Definer: callers are signed-in users, and RLS shows them only some session rows.)
create function hazina.session_revoked(p_session_id uuid) returns boolean
  language sql stable
  security definer
  set search_path = ''
  as $$ select bool_and(revoked_at is not null) from public.auth_sessions where family_id = p_session_id $$;

-- Why the caller may not act, as the error caller_id() raises ({code, reason}), or null when
-- they may. A temporary password lockout (locked with locked_until) is not a refusal: it
-- stops password logins only, so whoever guesses at a password cannot freeze the owner's
-- live logins. (Definer: it reads auth_users and auth_sessions whatever the caller's role.)
create function hazina.caller_refusal() returns jsonb
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := auth.uid();
  v_session text := auth.jwt() ->> 'session_id';
  v_user public.auth_users;
begin
  if v_uid is null then
    return jsonb_build_object('code', 'unauthenticated');
  end if;
  if v_session ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and hazina.session_revoked(v_session::uuid) then
    return jsonb_build_object('code', 'unauthenticated', 'reason', 'session_revoked');
  end if;
  select * into v_user from public.auth_users where id = v_uid;
  if not found then
    return jsonb_build_object('code', 'unauthenticated', 'reason', 'user_not_found');
  end if;
  if hazina.auth_user_suspended(v_user.status, v_user.locked_until) then
    return jsonb_build_object('code', 'account_disabled', 'reason', 'user_' || v_user.status);
  end if;
  return null;
end
$$;

-- The signed-in caller who may act (see the rule above), or the stable error
-- `unauthenticated` (no user, revoked login, unknown user) or `account_disabled` (a
-- suspended user): the first line of every client-facing function, whether the call comes
-- through an edge function or straight through PostgREST. That is what logging out a
-- stolen phone, or disabling an account, must stop at once.
create function hazina.caller_id() returns uuid
  language plpgsql stable
  security definer
  set search_path = ''
  as $$
declare
  v_refusal jsonb := hazina.caller_refusal();
begin
  if v_refusal is not null then
    raise exception using errcode = 'P0001', message = v_refusal ->> 'code',
      detail = (v_refusal - 'code')::text;
  end if;
  return auth.uid();
end
$$;

-- Whether the caller is an admin: may act, and auth_users says admin. In public, not in
-- hazina, because policies run it as the querying role, which has no usage on hazina.
-- Never raises: a policy must filter rows, not fail queries.
create function public.is_admin() returns boolean
  language sql stable
  security definer
  set search_path = ''
  as $$
  select hazina.caller_refusal() is null
         and exists (select 1 from public.auth_users where id = auth.uid() and role = 'admin')
$$;

-- The caller ends their own logins (POST /logout, DELETE /sessions/:id, or supabase-js
-- rpc). Acting on logins is acting, so a revoked or suspended token cannot: otherwise a
-- stolen token, already logged out, could still sign the owner out of their new logins.
-- Scopes: 'local' ends the token's own login (a token without a Hazina session_id has none,
-- 0), 'others' every other login, 'global' all of them. Returns the rows revoked.
create function public.session_logout(p_scope text default 'local') returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
declare
  v_uid uuid := hazina.caller_id();
  v_session text := auth.jwt() ->> 'session_id';
  v_current uuid;
begin
  if v_session ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    v_current := v_session::uuid;
  end if;
  case coalesce(p_scope, 'local')
    when 'global' then return hazina.session_revoke_all(v_uid, 'logout_global');
    when 'others' then return hazina.session_revoke_all(v_uid, 'logout_others', v_current);
    when 'local' then
      -- A login Hazina does not know (purged, or a Supabase Auth session) has nothing to end.
      if v_current is null or not exists (select 1 from public.auth_sessions
                                           where user_id = v_uid and family_id = v_current) then
        return 0;
      end if;
      return hazina.session_revoke(v_uid, v_current, 'logout');
    else
      perform hazina.raise_error('invalid_argument', jsonb_build_object('field', 'scope', 'expected', 'local, others or global'));
  end case;
  return 0;
end
$$;

-- The caller ends one of their logins by id; someone else's is session_not_found.
create function public.session_end(p_session_id uuid) returns integer
  language plpgsql
  security definer
  set search_path = ''
  as $$
begin
  return hazina.session_revoke(hazina.caller_id(), p_session_id, 'revoked_by_user');
end
$$;

-- The audit log is for admins, decided by the rule above, not by a claim in the token.
-- (Wrapped in a select so PostgreSQL evaluates it once per query, not once per row.)
create policy "admins read audit logs" on public.audit_logs
  for select to authenticated
  using ((select public.is_admin()));

revoke execute on all functions in schema hazina from public, anon, authenticated;
revoke execute on function public.is_admin(), public.session_logout(text), public.session_end(uuid) from public, anon;
grant execute on function public.is_admin() to authenticated, service_role;
grant execute on function public.session_logout(text), public.session_end(uuid) to authenticated;
-- The auth function links an identity as service_role, for the caller it names (their claims).
grant execute on function hazina.caller_id() to service_role;

-- migrate:down
drop policy if exists "admins read audit logs" on public.audit_logs;
drop function if exists public.session_end(uuid);
drop function if exists public.session_logout(text);
drop function if exists public.is_admin();
drop function if exists hazina.caller_id();
drop function if exists hazina.caller_refusal();
drop function if exists hazina.session_revoked(uuid);
