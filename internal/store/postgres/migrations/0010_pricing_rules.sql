-- 0010_pricing_rules: the pricing rules VMware providers use.
--   - metrics.expression: a derived metric's formula (internal/formula);
--     '' for a measured metric. Usage is never stored for a derived metric.
--   - products.peak_basis: whose peak a max product charges: '' or
--     'resource' (each resource at its peak) or 'customer' (the customer's).
--   - prices.minimum_charge: the least a customer pays for the product per
--     calendar month while the price is in force; NULL: none.
-- Each is one statement with a constant default, so adding it rewrites no
-- rows and takes its lock only briefly.

ALTER TABLE metrics ADD COLUMN expression text COLLATE "C" NOT NULL DEFAULT '';

ALTER TABLE products ADD COLUMN peak_basis text COLLATE "C" NOT NULL DEFAULT ''
    CHECK (peak_basis IN ('', 'resource', 'customer'));

ALTER TABLE prices ADD COLUMN minimum_charge numeric CHECK (minimum_charge >= 0);
