-- Rules on tables and views, and triggers on views.
create table public.items (id int primary key, name text, deleted boolean not null default false);
create table public.item_log (id int, action text);
create view public.live_items as select id, name from public.items where not deleted;
create function public.live_items_insert() returns trigger language plpgsql as $$
begin
    insert into public.items (id, name) values (new.id, new.name);
    return new;
end $$;
create trigger live_items_insert instead of insert on public.live_items
    for each row execute function public.live_items_insert();
comment on trigger live_items_insert on public.live_items is 'writes through';
create rule live_items_delete as on delete to public.live_items
    do instead update public.items set deleted = true where id = old.id;
create rule items_log as on update to public.items
    do also insert into public.item_log values (new.id, 'update');
create rule items_no_truncate_log as on delete to public.item_log do instead nothing;
alter table public.item_log disable rule items_no_truncate_log;
comment on rule items_log on public.items is 'audit';
