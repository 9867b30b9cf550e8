-- The database of Mbrojtje and its two roles, on PostgreSQL 15
-- (docs/deployment.md). Run once, as the cluster's superuser:
--
--     sudo -u postgres psql -v ON_ERROR_STOP=1 -f deploy/postgresql/roles.sql
--     sudo -u postgres psql -c '\password mbrojtje_owner'
--     sudo -u postgres psql -c '\password mbrojtje_app'
--
-- (\password sends only a SCRAM hash: the password is in no log or history.)
--
-- mbrojtje_owner owns the database and its tables: it runs `migrate`, which
-- creates the audit trail's triggers and the function behind its stored
-- encoding, and `audit_prune`. mbrojtje_app is what the application and its
-- jobs connect as: it reads and writes rows, and cannot drop a trigger, alter
-- a table, or change or delete an audit event. Neither is a superuser: no
-- migration needs one (no extension, no untrusted language).

CREATE ROLE mbrojtje_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE mbrojtje_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE mbrojtje OWNER mbrojtje_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE mbrojtje FROM PUBLIC;
GRANT CONNECT ON DATABASE mbrojtje TO mbrojtje_app;

\connect mbrojtje
-- PostgreSQL 15 already lets only the database owner create in "public".
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO mbrojtje_app;
-- Every table and sequence migrate will create is the application's to use...
ALTER DEFAULT PRIVILEGES FOR ROLE mbrojtje_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mbrojtje_app;
ALTER DEFAULT PRIVILEGES FOR ROLE mbrojtje_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO mbrojtje_app;
-- ...except changing the audit trail, which grants.sql takes back after migrate.
