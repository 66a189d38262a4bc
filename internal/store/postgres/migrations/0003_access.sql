-- 0003_access: API keys and the audit trail.

-- Only the SHA-256 of a key's secret is stored (see access.HashSecret):
-- secrets are 256 random bits, so a fast hash is safe and keeps the lookup
-- per request one index probe. customer_id has no foreign key on purpose:
-- a revoked key of a deleted customer must not block deleting the customer.
CREATE TABLE api_keys (
    id            text COLLATE "C" PRIMARY KEY,
    display_name  text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'collector', 'reader')),
    customer_id   text COLLATE "C",
    sources       text[] NOT NULL DEFAULT '{}',
    sites         text[] NOT NULL DEFAULT '{}',
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    secret_prefix text NOT NULL DEFAULT '',
    expire_time   timestamptz,
    create_time   timestamptz NOT NULL,
    revoke_time   timestamptz,
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_admin_unscoped CHECK (role <> 'admin' OR customer_id IS NULL),
    CONSTRAINT api_keys_limits_collector CHECK (role = 'collector' OR (sources = '{}' AND sites = '{}'))
);

-- One row per change, written in the transaction of the change. before and
-- after are the resource as the API shows it (NULL for a create's before and
-- a delete's after).
CREATE TABLE audit_events (
    id            uuid PRIMARY KEY,
    time          timestamptz NOT NULL,
    actor         text NOT NULL,  -- API key id, "cert:<CN>", "system" or "anonymous" (auth off)
    action        text NOT NULL,  -- create, update, delete, revoke, …
    resource_type text NOT NULL,  -- metric, product, price, contract, api_key, …
    resource_id   text NOT NULL,  -- the id, or parent ids and id joined by "/"
    before        jsonb,
    after         jsonb,
    request_id    text NOT NULL DEFAULT ''
);

-- newest first, and the filters ListAuditEvents offers
CREATE INDEX audit_events_time_idx ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, time DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, time DESC, id DESC);

-- The trail is append-only: an UPDATE, DELETE or TRUNCATE fails, so a bug
-- (or a billingd credential) cannot rewrite history. Removing old events is a
-- deliberate act by the database owner (disable the trigger).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
