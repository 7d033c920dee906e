-- Sites (点位) the evaluators and the city's own inspectors visit, and
-- their types. A site's checklist is derived from the active framework:
-- the standards inspected on site whose site types name this type (by code
-- or name), so nothing here copies the framework.
CREATE TABLE site_type (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    -- point, line (roads, lanes) or area (markets, parks, compounds)
    geometry TEXT NOT NULL,
    active BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE site (
    id TEXT PRIMARY KEY,
    -- A short code people write on lists and spreadsheets (LJ-SC-003).
    code TEXT NOT NULL UNIQUE,
    type_id TEXT NOT NULL REFERENCES site_type (id),
    name TEXT NOT NULL,
    region_id TEXT NOT NULL REFERENCES region (id),
    -- 包保单位 and 点位长
    sponsor_unit_id TEXT REFERENCES unit (id),
    chief_name TEXT,
    chief_phone TEXT,
    address TEXT,
    -- Where an inspector stands: the point, or a point on the line or area.
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    -- The line or area as GeoJSON, for roads and markets.
    shape TEXT,
    active BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX site_by_type_region ON site (type_id, region_id);
CREATE INDEX site_by_sponsor ON site (sponsor_unit_id);
