-- migrate:up
-- Auth caller: who the caller of a client-facing function is, and whether that login may
-- still act. Every public function that acts for a user starts with hazina.caller_id().

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

-- migrate:down
drop function if exists hazina.caller_id();
drop function if exists hazina.session_revoked(uuid);
