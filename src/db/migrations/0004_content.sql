-- 0004: the learning content (api-resources.md §3): library groups (a
-- tree, and a scope), textbooks and their pages (a tree per textbook),
-- courses (a scope), course materials with their page ranges, and library
-- links.  Also redefines scope_objects over the two scope tables.
--
-- Deleting follows the spec through foreign keys where it can: a page
-- takes its subtree and the page ranges that start or end in it; a
-- textbook its pages, the materials that use it and the links to it; a
-- course its materials and links.  Library groups RESTRICT textbooks and
-- courses (the API answers 409 first); what hangs off a scope (roles,
-- public permissions) is deleted by the application in the same
-- transaction, because scope_uuid cannot reference two tables.

CREATE TABLE library_groups (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        varchar(50) NOT NULL,
    name        varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    text_format varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    parent_id   uuid REFERENCES library_groups (id) ON DELETE CASCADE,
    owner_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    -- Slug unique among siblings, roots included (NULLS NOT DISTINCT).
    CONSTRAINT library_groups_parent_slug_unique UNIQUE NULLS NOT DISTINCT (parent_id, slug),
    CONSTRAINT library_groups_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX library_groups_owner ON library_groups (owner_id);
CREATE INDEX library_groups_name ON library_groups (name, id);

CREATE TABLE textbooks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        varchar(50) NOT NULL,
    name        varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    text_format varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    group_id    uuid NOT NULL REFERENCES library_groups (id) ON DELETE RESTRICT,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now()
);
-- The default order (group, name) and the visibility predicate (by group).
CREATE INDEX textbooks_group_name ON textbooks (group_id, name, id);

CREATE TABLE textbook_pages (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    textbook_id uuid NOT NULL REFERENCES textbooks (id) ON DELETE CASCADE,
    parent_id   uuid REFERENCES textbook_pages (id) ON DELETE CASCADE,
    position    integer NOT NULL DEFAULT 0 CHECK (position >= 0),
    name        varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    text_format varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    -- json, not jsonb: the content is returned verbatim (key order kept).
    content     json NOT NULL DEFAULT '{}',
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT textbook_pages_position_unique
        UNIQUE NULLS NOT DISTINCT (textbook_id, parent_id, position),
    CONSTRAINT textbook_pages_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX textbook_pages_parent ON textbook_pages (parent_id);

CREATE TABLE courses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        varchar(50) NOT NULL,
    name        varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    text_format varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    group_id    uuid NOT NULL REFERENCES library_groups (id) ON DELETE RESTRICT,
    is_template boolean NOT NULL DEFAULT false,
    owner_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX courses_group_name ON courses (group_id, name, id);
CREATE INDEX courses_owner ON courses (owner_id);

CREATE TABLE course_materials (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id   uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    textbook_id uuid NOT NULL REFERENCES textbooks (id) ON DELETE CASCADE,
    position    integer NOT NULL DEFAULT 0 CHECK (position >= 0),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT course_materials_position_unique UNIQUE (course_id, position),
    CONSTRAINT course_materials_textbook_unique UNIQUE (course_id, textbook_id)
);
CREATE INDEX course_materials_textbook ON course_materials (textbook_id);

CREATE TABLE course_material_page_ranges (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    material_id   uuid NOT NULL REFERENCES course_materials (id) ON DELETE CASCADE,
    start_page_id uuid NOT NULL REFERENCES textbook_pages (id) ON DELETE CASCADE,
    end_page_id   uuid NOT NULL REFERENCES textbook_pages (id) ON DELETE CASCADE,
    position      integer NOT NULL DEFAULT 0 CHECK (position >= 0),
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    modified_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT page_ranges_position_unique UNIQUE (material_id, position),
    CONSTRAINT page_ranges_pages_unique UNIQUE (material_id, start_page_id, end_page_id)
);
CREATE INDEX page_ranges_start ON course_material_page_ranges (start_page_id);
CREATE INDEX page_ranges_end ON course_material_page_ranges (end_page_id);

CREATE TABLE library_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id    uuid NOT NULL REFERENCES library_groups (id) ON DELETE CASCADE,
    course_id   uuid REFERENCES courses (id) ON DELETE CASCADE,
    textbook_id uuid REFERENCES textbooks (id) ON DELETE CASCADE,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    modified_by bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT library_links_one_target CHECK (num_nonnulls(course_id, textbook_id) = 1),
    CONSTRAINT library_links_course_unique UNIQUE (group_id, course_id),
    CONSTRAINT library_links_textbook_unique UNIQUE (group_id, textbook_id)
);
CREATE INDEX library_links_course ON library_links (course_id);
CREATE INDEX library_links_textbook ON library_links (textbook_id);

-- Every scope object with its owner (see 0003).  The content-type ids
-- come from the catalogue that load-initial-data fills; a subquery keeps
-- the view valid before that.
CREATE OR REPLACE VIEW scope_objects AS
    SELECT (SELECT ct.id FROM content_types ct
             WHERE ct.app_label = 'openbook_content' AND ct.model = 'course') AS scope_type_id,
           c.id AS scope_uuid, c.owner_id AS owner_id, c.name::text AS name
      FROM courses c
    UNION ALL
    SELECT (SELECT ct.id FROM content_types ct
             WHERE ct.app_label = 'openbook_content' AND ct.model = 'librarygroup'),
           g.id, g.owner_id, g.name::text
      FROM library_groups g;
