-- migrate:up
-- Auth OAuth: sign-in with a verified OIDC identity, and linking one to a signed-in user.
-- The edge verifies the ID token (signature, issuer, audience, nonce); these functions
-- (called as service_role) decide which user it signs in and start the session.

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

revoke execute on all functions in schema hazina from public, anon, authenticated;
grant execute on function
  hazina.oauth_sign_in(text, text, text, boolean, text, text, integer, text, inet),
  hazina.oauth_link(uuid, text, text)
  to service_role;

-- migrate:down
drop function if exists hazina.oauth_link(uuid, text, text);
drop function if exists hazina.oauth_sign_in(text, text, text, boolean, text, text, integer, text, inet);
