-- migrate:up
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

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function hazina.auth_purge_expired(interval) to service_role;

-- migrate:down
drop function if exists hazina.auth_purge_expired(interval);
