-- 0008: HTML component libraries (libraries.md §3, api-resources.md §2
-- html_library/*) and media files (api-resources.md §2 media_files).
--
-- Library rows are written only by the install routine
-- (src/library/install.c) and removed by its uninstall, which also own the
-- files under <media_root>/lib/; the foreign keys cascade so that a
-- library's delete takes its texts, versions, components and definitions
-- in one statement.  Names compare case-insensitively (libraries.md §1):
-- the unique indexes are on lower(...), and the install matches through
-- them (ON CONFLICT).

CREATE TABLE html_libraries (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization varchar(100) NOT NULL,
    name         varchar(100) NOT NULL,
    author       varchar(100) NOT NULL DEFAULT '',
    license      varchar(50) NOT NULL DEFAULT '',
    -- URLs as the manifest reader bounds them (OB_LIBRARY_URL_MAX).
    website      varchar(2000) NOT NULL DEFAULT '',
    coderepo     varchar(2000) NOT NULL DEFAULT '',
    bugtracker   varchar(2000) NOT NULL DEFAULT '',
    readme       text NOT NULL DEFAULT '',
    text_format  varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    published    boolean NOT NULL DEFAULT true,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX html_libraries_fqn ON html_libraries (lower(organization), lower(name));

CREATE TABLE html_library_texts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id         uuid NOT NULL REFERENCES html_libraries (id) ON DELETE CASCADE,
    language          varchar(3) NOT NULL REFERENCES languages (language) ON DELETE CASCADE,
    short_description varchar(255) NOT NULL DEFAULT '',
    UNIQUE (parent_id, language)
);

CREATE TABLE html_library_versions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id    uuid NOT NULL REFERENCES html_libraries (id) ON DELETE CASCADE,
    version      varchar(50) NOT NULL,
    -- ob_semver_sort_key (semver.h): bytea order is semver precedence,
    -- then the version string, so ORDER BY sort_key is libraries.md §1.
    sort_key     bytea NOT NULL,
    -- library fqn -> version expression, as the manifest wrote it (json,
    -- not jsonb: returned verbatim, key order kept); NULL when none.
    dependencies json,
    -- The archive, relative to the media root: lib/@<org>_<name>_<version>.zip
    file_data    varchar(300) NOT NULL DEFAULT '',
    file_name    varchar(255) NOT NULL DEFAULT '',
    file_size    bigint,
    mime_type    varchar(64) NOT NULL DEFAULT '',
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX html_library_versions_version
    ON html_library_versions (parent_id, lower(version));
CREATE INDEX html_library_versions_order ON html_library_versions (parent_id, sort_key);

CREATE TABLE html_components (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    library_id uuid NOT NULL REFERENCES html_libraries (id) ON DELETE CASCADE,
    tag_name   varchar(100) NOT NULL
);
CREATE UNIQUE INDEX html_components_tag ON html_components (library_id, lower(tag_name));

CREATE TABLE html_component_definitions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id uuid NOT NULL REFERENCES html_components (id) ON DELETE CASCADE,
    version_id   uuid NOT NULL REFERENCES html_library_versions (id) ON DELETE CASCADE,
    -- The normalized definition (libraries.md §2.2), verbatim.
    definition   json NOT NULL,
    UNIQUE (component_id, version_id)
);
CREATE INDEX html_component_definitions_version ON html_component_definitions (version_id);

-- Files attached to any object (the original's generic relation): the
-- object is (content type, uuid); the API checks that it exists.
CREATE TABLE media_files (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content_type_id integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    object_id       uuid NOT NULL,
    -- Relative to the media root: <app_label>/<model>/<id>/<name>
    file_data       varchar(600) NOT NULL DEFAULT '',
    file_name       varchar(255) NOT NULL DEFAULT '',
    file_size       bigint,
    mime_type       varchar(255) NOT NULL DEFAULT '',
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    modified_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at     timestamptz NOT NULL DEFAULT now()
);
-- The default order and the (content_type, object_id) filter.
CREATE INDEX media_files_object ON media_files (content_type_id, object_id, file_name, id);
