-- Rows for all_types.sql, so reading them back exercises every column's decoding: one with
-- every column set, one with only the NOT NULL ones.

INSERT INTO every_type (
    a_numeric, a_money, a_int2, a_int4, a_int8, a_float4, a_float8, a_bool, a_text, a_varchar,
    a_varchar_n, a_char, a_bpchar, a_byte, a_name, a_citext, a_tstz_3, a_ts, a_date, a_time,
    a_timetz, a_interval, a_ym, a_json, a_jsonb, a_bytea, a_inet, a_cidr, ints, texts, uuids,
    stamps, intervals, timetzs, jsons, inets, decimals, bytes, citexts, a_mood, moods, currency, currencies,
    an_email, emails, a_positive, scores, a_pair, a_point, a_macaddr, a_bits
) VALUES (
    12345.678901, 99.95, 1, 2, 3000000000, 1.5, 2.25, true, 'text', 'varchar',
    'unbounded', 'abc', 'bp', 'x', 'a_name', 'MiXeD', '2024-01-02 03:04:05.678+00',
    '2024-01-02 03:04:05', '2024-01-02', '03:04:05', '03:04:05+02', '1 year 2 days 03:04:05',
    '1 year 2 months', '{"a": [1, 2]}', '{"b": null}', '\xdeadbeef', '192.168.0.1',
    '10.0.0.0/8', '{1,2,3}', '{a,b}', '{00000000-0000-0000-0000-000000000001}',
    '{"2024-01-02 03:04:05+00"}', '{"1 day"}', '{"01:02:03-05"}', '{"{}","[1]"}',
    '{::1,127.0.0.1}', '{1.5,2.25}', '{a,b}', '{One,two}', 'not shipped', '{happy,Self,1st}', 'usd', '{eur,usd}',
    'a@b.c', '{x@y.z}', 7, '{1.25,2.5}', '(1,one)', '(1,2)', '08:00:2b:01:02:03', '{101,1}'
);

INSERT INTO every_type (
    a_numeric, a_int2, a_int4, a_int8, a_float4, a_float8, a_bool, a_text, a_varchar, a_char,
    a_ts, a_date, a_time, a_timetz, a_interval, a_json, a_jsonb, a_bytea, a_inet, ints, a_mood,
    an_email
) VALUES (
    0, -1, -2, -3, -1.5, -2.5, false, '', '', 'a', '1999-12-31 23:59:59', '1999-12-31',
    '23:59:59', '23:59:59-08', '-1 hour', 'null', '[]', '', '::1', '{}', 'a-b', 'me@here'
);

INSERT INTO "order" ("type", "self", "class", "from", "match", "async", "json", "metadata",
    "model_id", "_private", "userId", "user_id", "Total Due", "1st")
VALUES ('web', 1, 'c', 'f', 'm', true, '{}', 'meta', 1, 'p', 2, 3, 10.50, 'first'),
       ('shop', 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO billing.invoices (order_type, order_self, amount) VALUES ('web', 1, 10.50);
INSERT INTO billing.payments (invoice_id, every_type, note) VALUES (1, 1, 'paid');
INSERT INTO billing_invoices DEFAULT VALUES;
INSERT INTO string VALUES ('s'), (NULL);
