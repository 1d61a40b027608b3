-- Text search dictionaries and configurations from built-in templates and the default
-- parser, and a table whose generated column, default and index name them.
create schema mb;
create text search dictionary mb.simple_stop (template = simple, stopwords = english);
create text search dictionary mb.english_stem (
    template = snowball, language = english, stopwords = english
);
create text search dictionary mb.syn (template = synonym, synonyms = synonym_sample);
comment on text search dictionary mb.syn is 'sample synonyms';
create text search configuration mb.mb_simple (parser = default);
alter text search configuration mb.mb_simple
    add mapping for asciiword, word with mb.syn, mb.simple_stop;
alter text search configuration mb.mb_simple add mapping for numword with simple;
comment on text search configuration mb.mb_simple is 'MusicBrainz simple';
create text search configuration mb.english_copy (copy = english);
alter text search configuration mb.english_copy
    alter mapping for asciiword with mb.english_stem;
alter text search configuration mb.english_copy drop mapping for email;
create table mb.artist (
    id int primary key,
    name text not null,
    config regconfig not null default 'mb.mb_simple',
    search tsvector generated always as (to_tsvector('mb.mb_simple', name)) stored
);
create index artist_name_fts on mb.artist
    using gin (to_tsvector('mb.english_copy'::regconfig, name));
