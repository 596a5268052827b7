-- The slice of Supabase's own schema our SQL relies on: auth.users, auth.uid() reading the
-- JWT claims PostgREST sets per request, and the anon/authenticated/authenticator roles.
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
    if not exists (select 1 from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
end
$$;
grant anon, authenticated to authenticator;
grant usage on schema auth to anon, authenticated;
grant usage on schema public to anon, authenticated;
grant execute on function auth.uid() to anon, authenticated;
