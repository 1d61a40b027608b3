-- A clean multi-tenant schema: tenant column everywhere, composite keys, RLS forced, policies
-- reading the setting once through a sub-select.
do $$ begin create role tenet_rt_app nologin; exception when duplicate_object or unique_violation then null; end $$;
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.projects (
    tenant_id uuid not null references public.tenants (id),
    id uuid not null default gen_random_uuid(),
    name text not null,
    primary key (tenant_id, id),
    unique (tenant_id, name)
);
create table public.tasks (
    tenant_id uuid not null,
    id uuid not null default gen_random_uuid(),
    project_id uuid not null,
    title text not null,
    status text not null default 'todo' check (status in ('todo', 'doing', 'done')),
    primary key (tenant_id, id),
    foreign key (tenant_id, project_id) references public.projects (tenant_id, id) on delete cascade
);
create index tasks_tenant_status on public.tasks (tenant_id, status);
create index tasks_tenant_project on public.tasks (tenant_id, project_id);
alter table public.projects enable row level security;
alter table public.projects force row level security;
alter table public.tasks enable row level security;
alter table public.tasks force row level security;
create policy tenant_isolation on public.projects for all to tenet_rt_app
    using (tenant_id = (select current_setting('app.tenant_id', true)::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id', true)::uuid));
create policy tenant_isolation on public.tasks for all to tenet_rt_app
    using (tenant_id = (select current_setting('app.tenant_id', true)::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id', true)::uuid));
create view public.open_tasks with (security_invoker = true) as
    select tenant_id, id, title from public.tasks where status <> 'done';
grant select, insert, update, delete on public.projects, public.tasks to tenet_rt_app;
grant select on public.open_tasks, public.tenants to tenet_rt_app;
