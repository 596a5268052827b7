-- Recap sync, part 1 of 1: tables, row-level security and the push/pull functions.
-- Paste into your Supabase project's SQL editor (or `psql -f`) once; files in this folder are
-- applied in order of their number. Everything is idempotent, so applying twice is harmless.
--
-- One table holds every synced row (meetings with their transcript folded in, action items,
-- email drafts), keyed by the client's UUID within the user. The payload is JSON so clients of
-- different versions can share a project; the sync bookkeeping is in typed columns:
--   version       server-assigned, +1 on every accepted write of the row
--   seen_version  the version the winning writer had seen (less than version-1 = a conflict)
--   overridden    versions that a concurrent write overrode without seeing them; the device
--                 holding one of them keeps its copy in its local history
--   seq           per-user change sequence, gapless and in commit order (see recap_cursors)

create table if not exists public.recap_rows (
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    id uuid not null,
    kind text not null check (kind in ('meeting', 'action_item', 'email_draft')),
    version bigint not null check (version > 0),
    seen_version bigint not null default 0,
    overridden int8multirange not null default '{}',
    updated_at timestamptz not null,
    device_id text not null,
    deleted boolean not null default false,
    data jsonb not null default '{}'::jsonb,
    seq bigint not null,
    primary key (user_id, id)
);
create unique index if not exists recap_rows_user_seq on public.recap_rows (user_id, seq);

-- The per-user change counter. push locks this row first, so one user's pushes commit one
-- after another and seq values become visible in order: a pull never skips a late commit.
create table if not exists public.recap_cursors (
    user_id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
    last_seq bigint not null default 0
);

-- Per-device mutation ids already applied, with the answer given: a batch delivered twice
-- (say, the response was lost and the device retried) gets the same answer and changes nothing.
create table if not exists public.recap_mutations (
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    device_id text not null,
    mutation_id text not null,
    result jsonb not null,
    created_at timestamptz not null default now(),
    primary key (user_id, device_id, mutation_id)
);

alter table public.recap_rows enable row level security;
alter table public.recap_cursors enable row level security;
alter table public.recap_mutations enable row level security;

-- `(select auth.uid())` is evaluated once per statement instead of once per row.
drop policy if exists recap_rows_own on public.recap_rows;
create policy recap_rows_own on public.recap_rows for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
drop policy if exists recap_cursors_own on public.recap_cursors;
create policy recap_cursors_own on public.recap_cursors for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
drop policy if exists recap_mutations_own on public.recap_mutations;
create policy recap_mutations_own on public.recap_mutations for all to authenticated
    using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

revoke all on public.recap_rows, public.recap_cursors, public.recap_mutations from anon;
-- No DELETE: a delete is a tombstone, written through recap_push like any edit.
grant select, insert, update on public.recap_rows, public.recap_cursors to authenticated;
grant select, insert, delete on public.recap_mutations to authenticated;


-- One row as the JSON both push and pull hand back.
create or replace function public.recap_row_json(r public.recap_rows)
returns jsonb
language sql
immutable
security invoker
set search_path = ''
as $$
    select jsonb_build_object(
        'id', r.id, 'kind', r.kind, 'version', r.version, 'seen_version', r.seen_version,
        'overridden', (select coalesce(jsonb_agg(jsonb_build_array(lower(o), upper(o))),
                                       '[]'::jsonb)
                       from unnest(r.overridden) o),
        'updated_at', r.updated_at, 'device_id', r.device_id, 'deleted', r.deleted,
        'data', r.data, 'seq', r.seq)
$$;


-- The conflict rule, decided here once for every device (see README.md in this folder):
--   * no server row yet, or the writer had seen the current version, or the current version is
--     the writer's own (a device's state always descends from what it wrote): accepted;
--   * otherwise the writes are concurrent: a delete beats nothing it did not see (a concurrent
--     edit wins over a delete, whichever arrives first); between two edits or two deletes the
--     later clock-corrected timestamp wins, ties by the larger device id.
-- Timestamps are corrected by the device's clock error and never allowed past the server's
-- now(). Measured here, one way (now() - p_client_now), that error includes the push's
-- latency, seconds on a starved CPU: an edit pushed slowly would beat a later one. So the
-- device sends p_clock_offset (seconds), measured over earlier round trips as NTP does (off
-- by at most half a round trip); it is used when it is below the one-way figure, which the
-- true offset cannot exceed (a latency is never negative).
-- The signature before p_clock_offset is dropped: both at once would make calls ambiguous.
drop function if exists public.recap_push(text, timestamptz, jsonb);
create or replace function public.recap_push(p_device text, p_client_now timestamptz,
                                             p_mutations jsonb,
                                             p_clock_offset double precision default null)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_uid uuid := (select auth.uid());
    v_skew interval := case when p_clock_offset is null then now() - p_client_now
        else least(now() - p_client_now, make_interval(secs => p_clock_offset)) end;
    v_seq bigint;
    v_m jsonb;
    v_cur public.recap_rows%rowtype;
    v_found boolean;
    v_prior jsonb;
    v_stamp timestamptz;
    v_base bigint;
    v_deleted boolean;
    v_accept boolean;
    v_conflict boolean;
    v_result jsonb;
    -- An array, not a growing jsonb: appending to jsonb copies it, quadratic in batch size.
    v_results jsonb[] := '{}';
begin
    if v_uid is null then
        raise exception 'sign in to sync' using errcode = '42501';
    end if;
    if jsonb_typeof(p_mutations) is distinct from 'array' or jsonb_array_length(p_mutations) > 1000
    then
        raise exception 'p_mutations must be an array of at most 1000 mutations'
            using errcode = '22023';
    end if;

    insert into public.recap_cursors (user_id) values (v_uid) on conflict (user_id) do nothing;
    select c.last_seq into v_seq from public.recap_cursors c where c.user_id = v_uid for update;

    for v_m in select value from jsonb_array_elements(p_mutations) loop
        select m.result into v_prior from public.recap_mutations m
            where m.user_id = v_uid and m.device_id = p_device
              and m.mutation_id = v_m ->> 'mutation_id';
        if found then
            -- Same verdict as the first time, with the row as it is now: the device may have
            -- pulled past later changes while it waited for this answer.
            select * into v_cur from public.recap_rows r
                where r.user_id = v_uid and r.id = (v_m ->> 'id')::uuid;
            v_results := array_append(v_results,
                v_prior || jsonb_build_object('row', public.recap_row_json(v_cur)));
            continue;
        end if;

        v_base := coalesce((v_m ->> 'base_version')::bigint, 0);
        v_deleted := coalesce((v_m ->> 'deleted')::boolean, false);
        v_stamp := least((v_m ->> 'updated_at')::timestamptz + v_skew, now());
        select * into v_cur from public.recap_rows r
            where r.user_id = v_uid and r.id = (v_m ->> 'id')::uuid for update;
        v_found := found;

        v_conflict := v_found and v_base < v_cur.version and v_cur.device_id <> p_device;
        if not v_conflict then
            v_accept := true;
        elsif v_cur.deleted <> v_deleted then
            v_accept := not v_deleted;
        else
            v_accept := (v_stamp, p_device) > (v_cur.updated_at, v_cur.device_id);
        end if;

        if v_accept then
            v_seq := v_seq + 1;
            insert into public.recap_rows as r
                (user_id, id, kind, version, seen_version, updated_at, device_id, deleted, data,
                 seq)
            values (v_uid, (v_m ->> 'id')::uuid, v_m ->> 'kind', 1, 0, v_stamp, p_device,
                    v_deleted, coalesce(v_m -> 'data', '{}'::jsonb), v_seq)
            on conflict (user_id, id) do update set
                version = r.version + 1,
                seen_version = case when v_conflict then v_base else r.version end,
                overridden = case when v_conflict
                    then r.overridden + int8multirange(int8range(v_base + 1, r.version, '[]'))
                    else r.overridden end,
                updated_at = excluded.updated_at,
                device_id = excluded.device_id,
                deleted = excluded.deleted,
                data = excluded.data,
                seq = excluded.seq
            returning * into v_cur;
        end if;

        v_result := jsonb_build_object(
            'mutation_id', v_m ->> 'mutation_id',
            'id', v_m ->> 'id',
            'accepted', v_accept,
            'version', case when v_accept then v_cur.version end,
            -- The device already holds what it sent; only a refusal needs the winner's row.
            'row', case when v_accept then jsonb_build_object('version', v_cur.version)
                        else public.recap_row_json(v_cur) end);
        insert into public.recap_mutations (user_id, device_id, mutation_id, result)
            values (v_uid, p_device, v_m ->> 'mutation_id', v_result);
        v_results := array_append(v_results, v_result);
    end loop;

    update public.recap_cursors set last_seq = v_seq where user_id = v_uid;
    -- Answers older than a month are forgotten: no device retries a batch that long.
    delete from public.recap_mutations m
        where m.user_id = v_uid and m.device_id = p_device
          and m.created_at < now() - interval '30 days';
    return jsonb_build_object('server_now', now(), 'results', to_jsonb(v_results));
end;
$$;


-- Changes after a cursor, in seq order. Only the latest state of each row is kept, so a
-- device that was away a month downloads each changed row once.
create or replace function public.recap_pull(p_after bigint, p_limit integer default 500)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select jsonb_build_object(
        'server_now', now(),
        'rows', coalesce(jsonb_agg(public.recap_row_json(r.rr) order by r.seq), '[]'::jsonb))
    from (
        select x as rr, x.seq from public.recap_rows x
        where x.user_id = (select auth.uid()) and x.seq > p_after
        order by x.seq
        limit least(greatest(p_limit, 1), 1000)
    ) r;
$$;

revoke all on function public.recap_row_json(public.recap_rows) from public, anon;
grant execute on function public.recap_row_json(public.recap_rows) to authenticated;
revoke all on function public.recap_push(text, timestamptz, jsonb, double precision)
    from public, anon;
revoke all on function public.recap_pull(bigint, integer) from public, anon;
grant execute on function public.recap_push(text, timestamptz, jsonb, double precision)
    to authenticated;
grant execute on function public.recap_pull(bigint, integer) to authenticated;
