-- What mbrojtje_app may do, set again after every `migrate` (docs/deployment.md):
--
--     mbrojtje-manage --owner dbshell < deploy/postgresql/grants.sql
--
-- Runs as mbrojtje_owner; safe to run any number of times.
\set ON_ERROR_STOP on

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO mbrojtje_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mbrojtje_app;

-- The audit trail is append-only. The triggers refuse every change already;
-- without these privileges the application could not change an event even if
-- somebody dropped them. Only the owner deletes, through `audit_prune`.
REVOKE UPDATE, DELETE, TRUNCATE
    ON audit_auditevent, audit_checkpoint, audit_flag, audit_flagreview
    FROM mbrojtje_app;
-- Nor does the application need to rewrite the migration history.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM mbrojtje_app;

SELECT 'grants of mbrojtje_app set' AS done;
