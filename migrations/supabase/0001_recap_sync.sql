-- Recap sync, part 1 of 1: tables, privileges and the push/pull functions.
-- Paste into your Supabase project's SQL editor (or `psql -f`) and run it; files in this folder
-- are applied in order of their number. Everything is idempotent: running it again (after
-- updating Recap, say) brings an older deployment up to date and changes nothing else.
--
-- One table holds every synced row (meetings with their transcript folded in, action items,
-- email drafts), keyed by the client's UUID within the user. The payload is JSON so clients of
-- different versions can share a project; the sync bookkeeping is in typed columns:
--   version       server-assigned, +1 on every accepted write of the row (never goes back)
--   seen_version  the version the winning writer had seen (less than version-1 = a conflict)
--   overridden    versions that a concurrent write overrode without seeing them; the device
--                 holding one of them keeps its copy in its local history
--   seq           per-user change sequence, gapless and in commit order (see recap_cursors)
--
-- Who may do what: nobody but the table owner touches the tables. A real project grants
-- `anon` and `authenticated` every privilege on each new table in `public` (its default
-- privileges), and TRUNCATE ignores row-level security, so everything is revoked below and
-- clients get EXECUTE on recap_push and recap_pull only. Those run as the owner (SECURITY
-- DEFINER), with an empty search_path, and read and write only the caller's rows (auth.uid()).
-- A trigger refuses DELETE and TRUNCATE by anyone but the owner, should the privileges ever
-- be granted again; the owner's own maintenance (deleting an account) still works.
--
-- A deleted row is a tombstone: its id, kind, version, time, device and seq stay (other
-- devices learn of the delete from it), its content does not. The function empties `data`
-- of every deleted row, whatever a client sends, and answers kept for retries hold ids and
-- verdicts only.

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

-- Per-device mutation ids already applied, with the verdict given: a batch delivered twice
-- (say, the response was lost and the device retried) gets the same answer and changes
-- nothing. Ids and verdicts only, never a copy of a row; kept 30 days per user.
create table if not exists public.recap_mutations (
    user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
    device_id text not null,
    mutation_id text not null,
    result jsonb not null,
    created_at timestamptz not null default now(),
    primary key (user_id, device_id, mutation_id)
);
create index if not exists recap_mutations_user_created
    on public.recap_mutations (user_id, created_at);

-- Upgrades of deployments made by earlier versions of this file.
do $$
begin
    -- A row's payload is a JSON object (a string or number there stopped every pull).
    if not exists (select 1 from pg_catalog.pg_constraint
                   where conname = 'recap_rows_data_is_object'
                     and conrelid = 'public.recap_rows'::regclass) then
        update public.recap_rows set data = '{}'::jsonb where jsonb_typeof(data) <> 'object';
        alter table public.recap_rows
            add constraint recap_rows_data_is_object check (jsonb_typeof(data) = 'object');
    end if;
end
$$;
-- Tombstones written before carried the deleted row's content; answers kept for retries
-- carried copies of winning rows.
update public.recap_rows set data = '{}'::jsonb where deleted and data <> '{}'::jsonb;
update public.recap_mutations set result = result - 'row' where result ? 'row';


-- --- privileges ----------------------------------------------------------------------------

alter table public.recap_rows enable row level security;
alter table public.recap_cursors enable row level security;
alter table public.recap_mutations enable row level security;

revoke all on public.recap_rows, public.recap_cursors, public.recap_mutations
    from public, anon, authenticated;

-- Should the tables be granted again, a user still sees only their rows and writes nothing
-- directly: read-only policies (no policy for a write means no write).
drop policy if exists recap_rows_own on public.recap_rows;
create policy recap_rows_own on public.recap_rows for select to authenticated
    using (user_id = (select auth.uid()));
drop policy if exists recap_cursors_own on public.recap_cursors;
create policy recap_cursors_own on public.recap_cursors for select to authenticated
    using (user_id = (select auth.uid()));
drop policy if exists recap_mutations_own on public.recap_mutations;
create policy recap_mutations_own on public.recap_mutations for select to authenticated
    using (user_id = (select auth.uid()));

-- Rows are never deleted through the API (a delete is a tombstone): DELETE and TRUNCATE by
-- anyone but the tables' owner are refused. Deleting an account still removes its rows: the
-- cascade runs as the owner, and so do recap_push's pruning and anything in the SQL editor.
create or replace function public.recap_refuse_delete()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if pg_catalog.pg_has_role(
            (select c.relowner from pg_catalog.pg_class c where c.oid = tg_relid), 'MEMBER') then
        if tg_level = 'ROW' then
            return old;
        end if;
        return null;
    end if;
    raise exception 'Recap rows are never deleted here: a delete is a tombstone written by recap_push'
        using errcode = '42501';
end;
$$;
revoke all on function public.recap_refuse_delete() from public, anon, authenticated;

drop trigger if exists recap_rows_no_delete on public.recap_rows;
create trigger recap_rows_no_delete before delete on public.recap_rows
    for each row execute function public.recap_refuse_delete();
drop trigger if exists recap_rows_no_truncate on public.recap_rows;
create trigger recap_rows_no_truncate before truncate on public.recap_rows
    for each statement execute function public.recap_refuse_delete();
drop trigger if exists recap_cursors_no_delete on public.recap_cursors;
create trigger recap_cursors_no_delete before delete on public.recap_cursors
    for each row execute function public.recap_refuse_delete();
drop trigger if exists recap_cursors_no_truncate on public.recap_cursors;
create trigger recap_cursors_no_truncate before truncate on public.recap_cursors
    for each statement execute function public.recap_refuse_delete();
drop trigger if exists recap_mutations_no_delete on public.recap_mutations;
create trigger recap_mutations_no_delete before delete on public.recap_mutations
    for each row execute function public.recap_refuse_delete();
drop trigger if exists recap_mutations_no_truncate on public.recap_mutations;
create trigger recap_mutations_no_truncate before truncate on public.recap_mutations
    for each statement execute function public.recap_refuse_delete();


-- --- functions -----------------------------------------------------------------------------

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
--   * a base version above the server's means the server lost history the writer saw (a row
--     deleted by hand, then written again): the write did not see the current version;
--   * otherwise the writes are concurrent: a delete beats nothing it did not see (a concurrent
--     edit wins over a delete, whichever arrives first); between two edits or two deletes the
--     later clock-corrected timestamp wins, ties by the larger device id.
-- A row missing with a base above 0 is written at base + 1, never lower: versions never go
-- back, so a device still holding an older base is judged against it as a conflict.
-- Timestamps are corrected by the device's clock error and never allowed past the server's
-- now(). Measured here, one way (now() - p_client_now), that error includes the push's
-- latency, seconds on a starved CPU: an edit pushed slowly would beat a later one. So the
-- device sends p_clock_offset (seconds), measured over earlier round trips as NTP does (off
-- by at most half a round trip); it is used when it is below the one-way figure, which the
-- true offset cannot exceed (a latency is never negative).
-- Each batch is checked whole before anything is written (a malformed mutation refuses the
-- batch, named by its position, never quoted) and then written with one statement per table.
-- The signature before p_clock_offset is dropped: both at once would make calls ambiguous.
drop function if exists public.recap_push(text, timestamptz, jsonb);
create or replace function public.recap_push(p_device text, p_client_now timestamptz,
                                             p_mutations jsonb,
                                             p_clock_offset double precision default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_skew interval;
    v_seq bigint;
    v_accepted bigint;
    v_results jsonb;
    v_bad record;
begin
    if v_uid is null then
        raise exception 'sign in to sync' using errcode = '42501';
    end if;
    if p_device is null or char_length(p_device) not between 1 and 64 or p_client_now is null
    then
        raise exception 'p_device (1 to 64 characters) and p_client_now are required'
            using errcode = '22023';
    end if;
    if jsonb_typeof(p_mutations) is distinct from 'array' or jsonb_array_length(p_mutations) > 1000
    then
        raise exception 'p_mutations must be an array of at most 1000 mutations'
            using errcode = '22023';
    end if;

    select c.ord, c.why into v_bad from (
        select e.ord, case
            when jsonb_typeof(e.m) <> 'object' then 'is not an object'
            when jsonb_typeof(e.m -> 'mutation_id') is distinct from 'string'
                 or char_length(e.m ->> 'mutation_id') not between 1 and 128
                then 'has no mutation_id (1 to 128 characters)'
            when jsonb_typeof(e.m -> 'id') is distinct from 'string'
                 or (e.m ->> 'id') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                then 'has no id (a UUID)'
            when (e.m ->> 'kind') is null
                 or (e.m ->> 'kind') not in ('meeting', 'action_item', 'email_draft')
                then 'has an unknown kind'
            when jsonb_typeof(e.m -> 'base_version') is distinct from 'number'
                 or (e.m ->> 'base_version') !~ '^[0-9]{1,18}$'
                then 'has no base_version (a whole number, 0 or more)'
            when jsonb_typeof(e.m -> 'deleted') is distinct from 'boolean'
                then 'has no deleted flag (true or false)'
            when jsonb_typeof(e.m -> 'updated_at') is distinct from 'string'
                 or (e.m ->> 'updated_at') !~
                    '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)$'
                then 'has no updated_at (an ISO 8601 time with its offset)'
            when coalesce(jsonb_typeof(e.m -> 'data'), 'null') not in ('object', 'null')
                then 'has data that is not an object'
            when pg_catalog.pg_column_size(e.m) > 4194304 then 'is larger than 4 MB'
        end as why
        from jsonb_array_elements(p_mutations) with ordinality e(m, ord)
    ) c
    where c.why is not null order by c.ord limit 1;
    if found then
        raise exception 'mutation % of the batch %', v_bad.ord, v_bad.why
            using errcode = '22023';
    end if;
    if exists (select 1 from jsonb_array_elements(p_mutations) e
               group by lower(e ->> 'id') having count(*) > 1) then
        raise exception 'a batch may name each row once' using errcode = '22023';
    end if;

    v_skew := case when p_clock_offset is null then now() - p_client_now
        else least(now() - p_client_now, make_interval(secs => p_clock_offset)) end;
    insert into public.recap_cursors (user_id) values (v_uid) on conflict (user_id) do nothing;
    select c.last_seq into v_seq from public.recap_cursors c where c.user_id = v_uid for update;

    with m as (
        select e.ord, e.m ->> 'mutation_id' as mutation_id, e.m ->> 'id' as id_text,
               (e.m ->> 'id')::uuid as id, e.m ->> 'kind' as kind,
               (e.m ->> 'base_version')::bigint as base, (e.m ->> 'deleted')::boolean as deleted,
               least((e.m ->> 'updated_at')::timestamptz + v_skew, now()) as stamp,
               case when (e.m ->> 'deleted')::boolean then '{}'::jsonb  -- a tombstone: no content
                    else coalesce(nullif(e.m -> 'data', 'null'::jsonb), '{}'::jsonb) end as data
        from jsonb_array_elements(p_mutations) with ordinality e(m, ord)
    ),
    -- Lookups are LATERAL with a LIMIT (which keeps the planner from turning them back into a
    -- join): one index probe per mutation. As a join, a planner that misjudges the table's
    -- size hashes every row the user has (a quarter of a second per batch at 40,000 rows).
    prior as (  -- delivered before: the same verdict, with the row as it is now
        select m.ord, x.result from m
        cross join lateral (
            select x.result from public.recap_mutations x
            where x.user_id = v_uid and x.device_id = p_device and x.mutation_id = m.mutation_id
            limit 1
        ) x
    ),
    fresh as (
        select m.* from m where m.ord not in (select p.ord from prior p)
    ),
    cur as (
        select r.id, r.version, r.device_id, r.deleted, r.updated_at, r.whole
        from fresh f
        cross join lateral (
            select r.id, r.version, r.device_id, r.deleted, r.updated_at, r as whole
            from public.recap_rows r where r.user_id = v_uid and r.id = f.id
            for update
        ) r
    ),
    judged as (
        select f.*, c.id is not null as found,
               case when c.id is null then f.base > 0
                    else (f.base < c.version and c.device_id <> p_device) or f.base > c.version
               end as conflict,
               case when c.id is null or not ((f.base < c.version and c.device_id <> p_device)
                                              or f.base > c.version) then true
                    when c.deleted <> f.deleted then not f.deleted
                    else (f.stamp, p_device) > (c.updated_at, c.device_id)
               end as accept
        from fresh f left join cur c on c.id = f.id
    ),
    numbered as (
        select j.*, v_seq + row_number() over (partition by j.accept order by j.ord) as seq
        from judged j
    ),
    written as (
        insert into public.recap_rows as r
            (user_id, id, kind, version, seen_version, updated_at, device_id, deleted, data, seq)
        select v_uid, n.id, n.kind, n.base + 1, n.base, n.stamp, p_device, n.deleted, n.data,
               n.seq
        from numbered n where n.accept
        on conflict (user_id, id) do update set
            version = greatest(r.version, excluded.seen_version) + 1,
            seen_version = case
                when (excluded.seen_version < r.version and r.device_id <> excluded.device_id)
                     or excluded.seen_version > r.version
                    then least(excluded.seen_version, r.version)
                else r.version end,
            overridden = case
                when excluded.seen_version > r.version
                    then r.overridden + int8multirange(int8range(r.version, r.version, '[]'))
                when excluded.seen_version < r.version and r.device_id <> excluded.device_id
                    then r.overridden
                         + int8multirange(int8range(excluded.seen_version + 1, r.version, '[]'))
                else r.overridden end,
            updated_at = excluded.updated_at,
            device_id = excluded.device_id,
            deleted = excluded.deleted,
            data = excluded.data,
            seq = excluded.seq
        returning r.id, r.version
    ),
    verdicts as (
        select n.ord, n.mutation_id, n.accept, n.id, c.whole as winner,
               jsonb_build_object('mutation_id', n.mutation_id, 'id', n.id_text,
                                  'accepted', n.accept, 'version', w.version) as result,
               w.version
        from numbered n
        left join written w on w.id = n.id
        left join cur c on c.id = n.id
    ),
    logged as (
        insert into public.recap_mutations (user_id, device_id, mutation_id, result)
        select v_uid, p_device, v.mutation_id, v.result from verdicts v
    ),
    answers as (
        -- The device already holds what it sent; only a refusal needs the winner's row.
        select v.ord, v.result || jsonb_build_object('row', case when v.accept
                   then jsonb_build_object('version', v.version)
                   else public.recap_row_json(v.winner) end) as result
        from verdicts v
        union all
        select p.ord, p.result || jsonb_build_object('row', case when r.id is null
                   then jsonb_build_object('version', (p.result ->> 'version')::bigint)
                   else public.recap_row_json(r) end)
        from prior p
        join m on m.ord = p.ord
        left join lateral (
            select r.* from public.recap_rows r where r.user_id = v_uid and r.id = m.id limit 1
        ) r on true
    )
    select coalesce(jsonb_agg(a.result order by a.ord), '[]'::jsonb),
           (select count(*) from numbered n where n.accept)
    into v_results, v_accepted
    from answers a;

    update public.recap_cursors set last_seq = v_seq + v_accepted where user_id = v_uid;
    -- Answers older than a month are forgotten, every device's: no device retries a batch
    -- that long, and one that stopped syncing leaves nothing behind for longer.
    delete from public.recap_mutations x
        where x.user_id = v_uid and x.created_at < now() - interval '30 days';
    -- seq_before/seq_after: a device whose pull cursor was at seq_before has now seen every
    -- change up to seq_after (they are this push's own), and need not pull them back.
    return jsonb_build_object('server_now', now(), 'results', v_results,
                              'seq_before', v_seq, 'seq_after', v_seq + v_accepted);
end;
$$;


-- Changes after a cursor, in seq order. Only the latest state of each row is kept, so a
-- device that was away a month downloads each changed row once.
create or replace function public.recap_pull(p_after bigint, p_limit integer default 500)
returns jsonb
language sql
stable
security definer
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

revoke all on function public.recap_row_json(public.recap_rows) from public, anon, authenticated;
revoke all on function public.recap_push(text, timestamptz, jsonb, double precision)
    from public, anon;
revoke all on function public.recap_pull(bigint, integer) from public, anon;
grant execute on function public.recap_push(text, timestamptz, jsonb, double precision)
    to authenticated;
grant execute on function public.recap_pull(bigint, integer) to authenticated;
