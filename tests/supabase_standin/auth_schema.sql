-- The slice of Supabase's own schema our SQL relies on: auth.users, auth.uid() reading the
-- JWT claims PostgREST sets per request, the anon/authenticated/service_role/authenticator
-- roles, and the default privileges a real project gives those roles on everything created
-- in `public` (supabase/postgres, migrations/db/init-scripts/00000000000000-initial-schema.sql,
-- run as `postgres`, the role the SQL editor runs as): without them a test of our grants
-- would prove nothing about a real project, where every new table starts fully open to
-- `anon` and `authenticated` and only RLS and explicit revokes close it.
create schema if not exists auth;

create table if not exists auth.users (
    id uuid primary key default gen_random_uuid(),
    email text unique not null,
    encrypted_password text not null,
    created_at timestamptz not null default now()
);

create table if not exists auth.refresh_tokens (
    token text primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    revoked boolean not null default false,
    created_at timestamptz not null default now()
);

create or replace function auth.uid() returns uuid
language sql stable
as $$
    select nullif(current_setting('request.jwt.claims', true)::jsonb ->> 'sub', '')::uuid
$$;

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$$;
grant anon, authenticated, service_role to authenticator;
grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.uid() to anon, authenticated, service_role;

-- Supabase's defaults, as a project starts with them.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
