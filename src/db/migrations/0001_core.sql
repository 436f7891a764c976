-- 0001: the core: content types and the permission catalogue, anonymous
-- permissions, sites and languages (api-resources.md, permissions.md).

CREATE TABLE content_types (
    id        serial PRIMARY KEY,
    app_label varchar(100) NOT NULL,
    model     varchar(100) NOT NULL,
    UNIQUE (app_label, model)
);

CREATE TABLE permissions (
    id              serial PRIMARY KEY,
    content_type_id integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    codename        varchar(100) NOT NULL,
    name            varchar(255) NOT NULL,
    UNIQUE (content_type_id, codename)
);

-- Grants a permission to everybody, anonymous or not (permissions.md §3).
CREATE TABLE anonymous_permissions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    permission_id integer NOT NULL UNIQUE REFERENCES permissions (id) ON DELETE CASCADE
);

CREATE TABLE sites (
    id          integer PRIMARY KEY CHECK (id > 0),
    domain      varchar(100) NOT NULL UNIQUE,
    name        varchar(50) NOT NULL,
    short_name  varchar(50) NOT NULL,
    about_url   varchar(200) NOT NULL,
    brand_color varchar(7) NOT NULL DEFAULT '#e2001a'
);

CREATE TABLE languages (
    language varchar(3) PRIMARY KEY,
    name     varchar(64) NOT NULL
);
