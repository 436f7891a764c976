-- 0003: roles and everything that hangs off a scope (permissions.md §4, §8):
-- roles with their permissions, role assignments, enrollment methods,
-- access requests, the whitelist of role permissions per scope type, the
-- public permissions of scopes, and permission translations.
--
-- A scope is named by (scope_type_id, scope_uuid).  scope_uuid has no
-- foreign key: the scope tables (courses, library groups) come in a later
-- migration, and one column cannot reference two tables anyway.  Deleting
-- a scope deletes its rows here in the same transaction (application code).

-- Display names of the catalogue (permissions.md §1), filled by
-- load-initial-data: the verbose name of each model and the display name
-- of its app.  Rows imported from elsewhere keep '' (the model name shows).
ALTER TABLE content_types
    ADD COLUMN verbose_name varchar(255) NOT NULL DEFAULT '',
    ADD COLUMN app_display_name varchar(255) NOT NULL DEFAULT '';

-- Every scope object with its owner, for the permission engine: owned
-- scopes (rule R step 1) and the existence check of a posted scope_uuid.
-- Empty until the scope tables exist; the migration that creates them
-- replaces this view with a UNION ALL over them (same columns).
CREATE VIEW scope_objects AS
    SELECT NULL::integer AS scope_type_id, NULL::uuid AS scope_uuid,
           NULL::bigint AS owner_id, NULL::text AS name
    WHERE false;

-- The public permissions of every scope (granted there to everybody).
CREATE TABLE scope_public_permissions (
    scope_type_id integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    scope_uuid    uuid NOT NULL,
    permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (scope_type_id, scope_uuid, permission_id)
);

CREATE TABLE allowed_role_permissions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_type_id integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    CONSTRAINT allowed_role_permissions_unique UNIQUE (scope_type_id, permission_id)
);

CREATE TABLE permission_texts (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    language  varchar(3) NOT NULL REFERENCES languages (language) ON DELETE CASCADE,
    name      varchar(255) NOT NULL,
    CONSTRAINT permission_texts_unique UNIQUE (parent_id, language)
);

CREATE TABLE roles (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_type_id integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    scope_uuid    uuid NOT NULL,
    slug          varchar(50) NOT NULL,
    name          varchar(255) NOT NULL,
    description   text NOT NULL DEFAULT '',
    text_format   varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    priority      integer NOT NULL CHECK (priority BETWEEN 0 AND 32767),
    is_active     boolean NOT NULL DEFAULT true,
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    modified_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_scope_slug_unique UNIQUE (scope_type_id, scope_uuid, slug)
);

CREATE TABLE role_permissions (
    role_id       uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE enrollment_methods (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_type_id   integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    scope_uuid      uuid NOT NULL,
    name            varchar(255) NOT NULL,
    description     text NOT NULL DEFAULT '',
    text_format     varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    role_id         uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    end_date        timestamptz,
    duration_period varchar(7) NOT NULL DEFAULT ''
                    CHECK (duration_period IN ('', 'minutes', 'hours', 'days', 'weeks', 'months', 'years')),
    duration_value  double precision NOT NULL DEFAULT 0 CHECK (duration_value >= 0),
    -- Argon2id hash of the trimmed passphrase; '' = no passphrase.
    passphrase      varchar(255) NOT NULL DEFAULT '',
    is_active       boolean NOT NULL DEFAULT true,
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    modified_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrollment_methods_scope ON enrollment_methods (scope_type_id, scope_uuid);
CREATE INDEX enrollment_methods_role ON enrollment_methods (role_id);

CREATE TABLE access_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_type_id   integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    scope_uuid      uuid NOT NULL,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id         uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    end_date        timestamptz,
    duration_period varchar(7) NOT NULL DEFAULT ''
                    CHECK (duration_period IN ('', 'minutes', 'hours', 'days', 'weeks', 'months', 'years')),
    duration_value  double precision NOT NULL DEFAULT 0 CHECK (duration_value >= 0),
    decision        varchar(8) NOT NULL DEFAULT 'pending'
                    CHECK (decision IN ('pending', 'accepted', 'denied')),
    decision_date   timestamptz,
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    modified_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at     timestamptz NOT NULL DEFAULT now()
);
-- Deliberate: one pending request per scope, role and user.
CREATE UNIQUE INDEX access_requests_one_pending
    ON access_requests (scope_type_id, scope_uuid, role_id, user_id) WHERE decision = 'pending';
CREATE INDEX access_requests_user ON access_requests (user_id);
CREATE INDEX access_requests_role ON access_requests (role_id);

CREATE TABLE role_assignments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scope_type_id        integer NOT NULL REFERENCES content_types (id) ON DELETE CASCADE,
    scope_uuid           uuid NOT NULL,
    role_id              uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    user_id              bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assignment_method    varchar(16) NOT NULL DEFAULT 'manual'
                         CHECK (assignment_method IN ('manual', 'self-enrollment', 'access-request')),
    enrollment_method_id uuid REFERENCES enrollment_methods (id) ON DELETE SET NULL,
    access_request_id    uuid REFERENCES access_requests (id) ON DELETE SET NULL,
    is_active            boolean NOT NULL DEFAULT true,
    start_date           timestamptz,
    end_date             timestamptz,
    created_by           bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    modified_by          bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at          timestamptz NOT NULL DEFAULT now(),
    -- Also the (scope_type, scope_uuid, role_id, user_id) index of
    -- permissions.md §7.
    CONSTRAINT role_assignments_unique UNIQUE (scope_type_id, scope_uuid, role_id, user_id)
);
-- The requester's effective assignments are loaded by user (permissions.md §7).
CREATE INDEX role_assignments_user ON role_assignments (user_id);
CREATE INDEX role_assignments_role ON role_assignments (role_id);
