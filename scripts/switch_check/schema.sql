-- The package's schema as sorted plain rows, for a diff between two databases:
-- columns, indexes and constraints.
--
-- Names that Django generates (primary and unique keys, foreign keys, db_index and
-- "_like" indexes, checks) are shown as "<auto>": the original's history left some of
-- them under older table and column names (websocket_tokens, connection_rate_limits,
-- author_id), Django finds such objects by introspection, never by name. Every name a
-- model gives explicitly (Meta.indexes, Meta.constraints) is compared verbatim.
\set auto '''(_pkey|_key|_like|_uniq|_check|_[0-9a-f]{8}|_fk_.*)$'''

SELECT 'column', table_name, column_name, data_type,
       coalesce(character_maximum_length::text, ''), is_nullable, coalesce(column_default, '')
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name LIKE 'django_aws_api_gateway_websockets_%'
ORDER BY 2, 3;

SELECT * FROM (
  SELECT 'index', tablename,
         CASE WHEN indexname ~ :auto THEN '<auto>' ELSE indexname END AS name,
         regexp_replace(indexdef, 'INDEX \S+ ON', 'INDEX ON') AS definition
  FROM pg_indexes
  WHERE schemaname = 'public' AND tablename LIKE 'django_aws_api_gateway_websockets_%'
) AS i ORDER BY 2, 4, 3;

SELECT * FROM (
  SELECT 'constraint', rel.relname,
         CASE WHEN con.conname ~ :auto THEN '<auto>' ELSE con.conname END AS name,
         con.contype, pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
  WHERE rel.relname LIKE 'django_aws_api_gateway_websockets_%'
) AS c ORDER BY 2, 5, 3;
