-- migrate:up
-- Auth verification: single-use tokens mailed to prove an email address, for email
-- verification and password reset. The edge mails the token and stores only its SHA-256
-- hex; these functions (called as service_role) issue, consume and act on it.

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

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function
  hazina.verification_token_issue(uuid, text, text, integer),
  hazina.verification_token_consume(text, text),
  hazina.email_verify_confirm(text),
  hazina.password_reset_confirm(text, text)
  to service_role;

-- migrate:down
drop function if exists hazina.password_reset_confirm(text, text);
drop function if exists hazina.email_verify_confirm(text);
drop function if exists hazina.verification_token_consume(text, text);
drop function if exists hazina.verification_token_issue(uuid, text, text, integer);
