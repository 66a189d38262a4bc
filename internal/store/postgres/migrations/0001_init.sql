-- 0001_init: catalog, customers, pricing and idempotent creates.
--
-- Conventions: ids are text COLLATE "C" (byte order, so keyset pagination
-- by id is stable across locales); money and quantities are numeric; times
-- are timestamptz; an open end of a window is NULL; maps and tiers are jsonb.
-- Overlap rules are EXCLUDE constraints on half-open tstzrange windows, so
-- two replicas cannot both insert overlapping rows; the service checks first
-- only to name the other row in its error.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Customers ------------------------------------------------------------------

CREATE TABLE customers (
    id                text COLLATE "C" PRIMARY KEY,
    external_id       text UNIQUE,                       -- ERP id; NULL when unset
    display_name      text NOT NULL,
    billing_time_zone text NOT NULL DEFAULT 'UTC',
    labels            jsonb NOT NULL DEFAULT '{}',
    create_time       timestamptz NOT NULL,
    update_time       timestamptz NOT NULL
);

CREATE TABLE organisations (
    customer_id  text COLLATE "C" NOT NULL REFERENCES customers (id),
    id           text COLLATE "C" NOT NULL,
    display_name text NOT NULL,
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);

CREATE TABLE vdcs (
    customer_id     text COLLATE "C" NOT NULL,
    organisation_id text COLLATE "C" NOT NULL,
    id              text COLLATE "C" NOT NULL,
    display_name    text NOT NULL,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL,
    PRIMARY KEY (customer_id, organisation_id, id),
    FOREIGN KEY (customer_id, organisation_id) REFERENCES organisations (customer_id, id)
);

-- Catalog --------------------------------------------------------------------

CREATE TABLE metrics (
    key              text COLLATE "C" PRIMARY KEY,
    display_name     text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    unit             text NOT NULL,
    aggregation      text NOT NULL
        CHECK (aggregation IN ('sum', 'max', 'time_weighted_avg', 'latest', 'unique_count')),
    unique_dimension text NOT NULL DEFAULT '',
    create_time      timestamptz NOT NULL,
    update_time      timestamptz NOT NULL,
    CHECK ((aggregation = 'unique_count') = (unique_dimension <> ''))
);

CREATE TABLE product_groups (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL
);

CREATE TABLE products (
    id               text COLLATE "C" PRIMARY KEY,
    product_group_id text COLLATE "C" NOT NULL REFERENCES product_groups (id),
    metric_key       text COLLATE "C" NOT NULL REFERENCES metrics (key),
    dimension_filter jsonb NOT NULL DEFAULT '{}',
    unit             text NOT NULL DEFAULT '',
    display_name     text NOT NULL,
    description      text NOT NULL DEFAULT '',
    create_time      timestamptz NOT NULL,
    update_time      timestamptz NOT NULL
);
CREATE INDEX products_group_idx ON products (product_group_id, id);
CREATE INDEX products_metric_idx ON products (metric_key, id);

-- Pricing --------------------------------------------------------------------

CREATE TABLE price_lists (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    customer_id  text COLLATE "C" REFERENCES customers (id), -- NULL: the default list
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL,
    -- one list per owner and currency; the default owner (NULL) counts once too
    CONSTRAINT price_lists_owner_currency_key UNIQUE NULLS NOT DISTINCT (customer_id, currency)
);
CREATE INDEX price_lists_customer_idx ON price_lists (customer_id, id);

CREATE TABLE prices (
    price_list_id text COLLATE "C" NOT NULL REFERENCES price_lists (id),
    id            text COLLATE "C" NOT NULL,
    product_id    text COLLATE "C" NOT NULL REFERENCES products (id),
    unit_price    numeric NOT NULL CHECK (unit_price >= 0),
    granularity   text NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz CHECK (valid_to > valid_from), -- NULL: open end
    tier_mode     text NOT NULL DEFAULT '' CHECK (tier_mode IN ('', 'graduated', 'volume')),
    tiers         jsonb NOT NULL DEFAULT '[]',               -- [{"up_to": "100", "unit_price": "0.5"}, …]
    create_time   timestamptz NOT NULL,
    update_time   timestamptz NOT NULL,
    PRIMARY KEY (price_list_id, id),
    CONSTRAINT prices_no_overlap EXCLUDE USING gist (
        price_list_id WITH =, product_id WITH =, tstzrange(valid_from, valid_to) WITH &&)
);
CREATE INDEX prices_product_idx ON prices (product_id);

CREATE TABLE campaigns (
    id           text COLLATE "C" PRIMARY KEY,
    display_name text NOT NULL,
    customer_id  text COLLATE "C" REFERENCES customers (id), -- NULL: every customer
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    valid_from   timestamptz NOT NULL,
    valid_to     timestamptz NOT NULL CHECK (valid_to > valid_from),
    priority     integer NOT NULL DEFAULT 0,
    create_time  timestamptz NOT NULL,
    update_time  timestamptz NOT NULL
);
CREATE INDEX campaigns_customer_idx ON campaigns (customer_id, id);
-- price resolution looks campaigns up by window
CREATE INDEX campaigns_window_idx ON campaigns USING gist (tstzrange(valid_from, valid_to));

CREATE TABLE campaign_entries (
    campaign_id      text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    position         integer NOT NULL, -- order the client gave the entries in
    product_id       text COLLATE "C" NOT NULL REFERENCES products (id),
    unit_price       numeric CHECK (unit_price >= 0),
    discount_percent numeric CHECK (discount_percent > 0 AND discount_percent <= 100),
    PRIMARY KEY (campaign_id, product_id),
    CHECK (num_nonnulls(unit_price, discount_percent) = 1)
);
CREATE INDEX campaign_entries_product_idx ON campaign_entries (product_id);

CREATE TABLE contracts (
    id                 text COLLATE "C" PRIMARY KEY,
    customer_id        text COLLATE "C" NOT NULL REFERENCES customers (id),
    product_id         text COLLATE "C" NOT NULL REFERENCES products (id),
    model              text NOT NULL CHECK (model IN ('committed', 'committed_overage')),
    committed_quantity numeric NOT NULL CHECK (committed_quantity > 0),
    fee                numeric NOT NULL CHECK (fee >= 0),
    fee_granularity    text NOT NULL CHECK (fee_granularity IN ('hour', 'day', 'month')),
    overage_unit_price numeric CHECK (overage_unit_price >= 0),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    start_time         timestamptz NOT NULL,
    end_time           timestamptz CHECK (end_time > start_time), -- NULL: open end
    proration          text NOT NULL CHECK (proration IN ('none', 'daily', 'hourly')),
    create_time        timestamptz NOT NULL,
    update_time        timestamptz NOT NULL,
    CHECK ((model = 'committed_overage') = (overage_unit_price IS NOT NULL)),
    CONSTRAINT contracts_no_overlap EXCLUDE USING gist (
        customer_id WITH =, product_id WITH =, tstzrange(start_time, end_time) WITH &&)
);
CREATE INDEX contracts_customer_idx ON contracts (customer_id, id);
CREATE INDEX contracts_product_idx ON contracts (product_id);

-- Idempotent creates -----------------------------------------------------------

-- A create that carried a request_id records what it created, so that a
-- retry of the same request returns that resource instead of a second one.
CREATE TABLE idempotent_requests (
    request_id  uuid PRIMARY KEY,
    kind        text NOT NULL,  -- e.g. "metric", "price"
    resource_id text NOT NULL,  -- the id, or parent ids and id joined by "/"
    created_at  timestamptz NOT NULL DEFAULT now()
);
