-- Roles PostgREST/Supabase use (cluster-wide, so pg_dump leaves them out).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
END
$$;

--
-- PostgreSQL database dump
--

\restrict R8J8D4b1aAY7hOhwJTbEmDyubjYNsRj4yiurCgVySgekFT8H0dDI8pQLnNTefSy


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: auth; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA auth;


--
-- Name: dbmate; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA dbmate;


--
-- Name: extensions; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA extensions;


--
-- Name: hazina; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA hazina;


--
-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA extensions;


--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;


--
-- Name: jwt(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $$;


--
-- Name: role(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $$;


--
-- Name: uid(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $$;


--
-- Name: app_role(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.app_role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select coalesce(auth.jwt() -> 'app_metadata' ->> 'role', 'customer') $$;


--
-- Name: audit_logs_are_append_only(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.audit_logs_are_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception using errcode = 'P0001', message = 'audit_log_append_only',
    detail = jsonb_build_object('operation', tg_op)::text;
end
$$;


--
-- Name: audit_row_change(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.audit_row_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - tg_argv end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - tg_argv end;
begin
  insert into public.audit_logs (actor_id, actor_role, action, table_name, row_id,
                                 old_values, new_values, request_id)
  values (auth.uid(), coalesce(auth.role(), current_user), tg_op, tg_table_name,
          coalesce(v_new ->> 'id', v_old ->> 'id'), v_old, v_new, hazina.request_id());
  return null;
end
$$;


--
-- Name: raise_error(text, jsonb); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.raise_error(p_code text, p_details jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception using errcode = 'P0001', message = p_code, detail = p_details::text;
end
$$;


--
-- Name: request_id(); Type: FUNCTION; Schema: hazina; Owner: -
--

CREATE FUNCTION hazina.request_id() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$ select nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-request-id' $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: schema_migrations; Type: TABLE; Schema: dbmate; Owner: -
--

CREATE TABLE dbmate.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: audit_logs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_logs (
    id bigint NOT NULL,
    actor_id uuid,
    actor_role text,
    action text NOT NULL,
    table_name text NOT NULL,
    row_id text,
    old_values jsonb,
    new_values jsonb,
    request_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_logs_action_check CHECK ((action = ANY (ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text])))
);


--
-- Name: audit_logs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: auth_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_accounts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    provider text NOT NULL,
    provider_account_id text NOT NULL,
    access_token text,
    refresh_token text,
    id_token text,
    expires_at timestamp with time zone,
    scope text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_accounts_provider_account_id_check CHECK ((length(provider_account_id) <= 255)),
    CONSTRAINT auth_accounts_provider_check CHECK ((provider ~ '^[a-z0-9_-]{1,40}$'::text))
);


--
-- Name: auth_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    refresh_token_hash text NOT NULL,
    family_id uuid NOT NULL,
    parent_id uuid,
    rotated_at timestamp with time zone,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    revoked_reason text,
    user_agent text,
    ip inet,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_sessions_user_agent_check CHECK ((length(user_agent) <= 512))
);


--
-- Name: auth_users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    email_verified_at timestamp with time zone,
    password_hash text,
    name text,
    phone text,
    role text DEFAULT 'customer'::text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    failed_login_count integer DEFAULT 0 NOT NULL,
    locked_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_users_email_check CHECK (((email = lower(email)) AND (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text) AND (length(email) <= 254))),
    CONSTRAINT auth_users_failed_login_count_check CHECK ((failed_login_count >= 0)),
    CONSTRAINT auth_users_name_check CHECK ((length(name) <= 200)),
    CONSTRAINT auth_users_phone_check CHECK ((phone ~ '^\+[1-9][0-9]{6,14}$'::text)),
    CONSTRAINT auth_users_role_check CHECK ((role = ANY (ARRAY['customer'::text, 'merchant'::text, 'admin'::text]))),
    CONSTRAINT auth_users_status_check CHECK ((status = ANY (ARRAY['active'::text, 'locked'::text, 'disabled'::text])))
);


--
-- Name: auth_verification_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_verification_token (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    purpose text NOT NULL,
    token_hash text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    consumed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT auth_verification_token_purpose_check CHECK ((purpose = ANY (ARRAY['email_verification'::text, 'password_reset'::text])))
);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: dbmate; Owner: -
--

ALTER TABLE ONLY dbmate.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: audit_logs audit_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_logs
    ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id);


--
-- Name: auth_accounts auth_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_pkey PRIMARY KEY (id);


--
-- Name: auth_accounts auth_accounts_provider_provider_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id);


--
-- Name: auth_sessions auth_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_pkey PRIMARY KEY (id);


--
-- Name: auth_sessions auth_sessions_refresh_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_refresh_token_hash_key UNIQUE (refresh_token_hash);


--
-- Name: auth_users auth_users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_users
    ADD CONSTRAINT auth_users_pkey PRIMARY KEY (id);


--
-- Name: auth_verification_token auth_verification_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_pkey PRIMARY KEY (id);


--
-- Name: auth_verification_token auth_verification_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_token_hash_key UNIQUE (token_hash);


--
-- Name: audit_logs_actor_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_actor_idx ON public.audit_logs USING btree (actor_id, created_at);


--
-- Name: audit_logs_table_row_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_logs_table_row_idx ON public.audit_logs USING btree (table_name, row_id);


--
-- Name: auth_accounts_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_accounts_user_idx ON public.auth_accounts USING btree (user_id);


--
-- Name: auth_sessions_family_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_sessions_family_idx ON public.auth_sessions USING btree (family_id);


--
-- Name: auth_sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_sessions_user_idx ON public.auth_sessions USING btree (user_id);


--
-- Name: auth_users_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX auth_users_email_key ON public.auth_users USING btree (email);


--
-- Name: auth_users_phone_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_users_phone_idx ON public.auth_users USING btree (phone);


--
-- Name: auth_verification_token_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX auth_verification_token_user_idx ON public.auth_verification_token USING btree (user_id, purpose);


--
-- Name: audit_logs audit_logs_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_logs_append_only BEFORE DELETE OR UPDATE ON public.audit_logs FOR EACH ROW EXECUTE FUNCTION hazina.audit_logs_are_append_only();


--
-- Name: audit_logs audit_logs_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON public.audit_logs FOR EACH STATEMENT EXECUTE FUNCTION hazina.audit_logs_are_append_only();


--
-- Name: auth_users auth_users_audit; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER auth_users_audit AFTER INSERT OR DELETE OR UPDATE ON public.auth_users FOR EACH ROW EXECUTE FUNCTION hazina.audit_row_change('password_hash');


--
-- Name: auth_accounts auth_accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_accounts
    ADD CONSTRAINT auth_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: auth_sessions auth_sessions_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.auth_sessions(id) ON DELETE SET NULL;


--
-- Name: auth_sessions auth_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_sessions
    ADD CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: auth_verification_token auth_verification_token_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_verification_token
    ADD CONSTRAINT auth_verification_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.auth_users(id) ON DELETE CASCADE;


--
-- Name: audit_logs admins read audit logs; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "admins read audit logs" ON public.audit_logs FOR SELECT TO authenticated USING ((((auth.jwt() -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text));


--
-- Name: audit_logs; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.audit_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_accounts; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_accounts ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_sessions; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_users; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_users ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_verification_token; Type: ROW SECURITY; Schema: public; Owner: -
--

ALTER TABLE public.auth_verification_token ENABLE ROW LEVEL SECURITY;

--
-- Name: auth_accounts user reads own accounts; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own accounts" ON public.auth_accounts FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: auth_sessions user reads own sessions; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own sessions" ON public.auth_sessions FOR SELECT TO authenticated USING ((user_id = auth.uid()));


--
-- Name: auth_users user reads own user row; Type: POLICY; Schema: public; Owner: -
--

CREATE POLICY "user reads own user row" ON public.auth_users FOR SELECT TO authenticated USING ((id = auth.uid()));


--
-- Name: SCHEMA auth; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA auth TO anon;
GRANT USAGE ON SCHEMA auth TO authenticated;
GRANT USAGE ON SCHEMA auth TO service_role;


--
-- Name: SCHEMA extensions; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA extensions TO anon;
GRANT USAGE ON SCHEMA extensions TO authenticated;
GRANT USAGE ON SCHEMA extensions TO service_role;


--
-- Name: SCHEMA hazina; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA hazina TO service_role;


--
-- Name: FUNCTION app_role(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.app_role() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.app_role() TO service_role;


--
-- Name: FUNCTION audit_logs_are_append_only(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.audit_logs_are_append_only() FROM PUBLIC;


--
-- Name: FUNCTION audit_row_change(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.audit_row_change() FROM PUBLIC;


--
-- Name: FUNCTION raise_error(p_code text, p_details jsonb); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.raise_error(p_code text, p_details jsonb) FROM PUBLIC;


--
-- Name: FUNCTION request_id(); Type: ACL; Schema: hazina; Owner: -
--

REVOKE ALL ON FUNCTION hazina.request_id() FROM PUBLIC;
GRANT ALL ON FUNCTION hazina.request_id() TO service_role;


--
-- Name: TABLE audit_logs; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT ON TABLE public.audit_logs TO service_role;
GRANT SELECT ON TABLE public.audit_logs TO authenticated;


--
-- Name: TABLE auth_accounts; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_accounts TO service_role;


--
-- Name: COLUMN auth_accounts.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.user_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.provider; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(provider) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.provider_account_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(provider_account_id) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: COLUMN auth_accounts.updated_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(updated_at) ON TABLE public.auth_accounts TO authenticated;


--
-- Name: TABLE auth_sessions; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_sessions TO service_role;


--
-- Name: COLUMN auth_sessions.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.user_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.family_id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(family_id) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.expires_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(expires_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.revoked_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(revoked_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.user_agent; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(user_agent) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.ip; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(ip) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: COLUMN auth_sessions.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_sessions TO authenticated;


--
-- Name: TABLE auth_users; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_users TO service_role;


--
-- Name: COLUMN auth_users.id; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(id) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.email; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(email) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.email_verified_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(email_verified_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.name; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(name) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.phone; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(phone) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.role; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(role) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.status; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(status) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.created_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(created_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: COLUMN auth_users.updated_at; Type: ACL; Schema: public; Owner: -
--

GRANT SELECT(updated_at) ON TABLE public.auth_users TO authenticated;


--
-- Name: TABLE auth_verification_token; Type: ACL; Schema: public; Owner: -
--

GRANT ALL ON TABLE public.auth_verification_token TO service_role;


--
-- PostgreSQL database dump complete
--

\unrestrict R8J8D4b1aAY7hOhwJTbEmDyubjYNsRj4yiurCgVySgekFT8H0dDI8pQLnNTefSy


-- Migrations already contained in this file

INSERT INTO dbmate.schema_migrations (version) VALUES
    ('20261124000100'),
    ('20261124000200');
