-- 0002: accounts (permissions.md §2, api-auth.md, api-conventions.md §11):
-- users, groups, model permissions, e-mail addresses, sessions, API
-- tokens, the site's auth configuration, sign-up group assignments and the
-- mail outbox.

CREATE TABLE users (
    id           bigserial PRIMARY KEY,
    username     varchar(150) NOT NULL,
    password     varchar(255) NOT NULL DEFAULT '!',
    first_name   varchar(150) NOT NULL DEFAULT '',
    last_name    varchar(150) NOT NULL DEFAULT '',
    email        varchar(254) NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    picture      varchar(255) NOT NULL DEFAULT '',
    user_type    varchar(10) NOT NULL DEFAULT 'human' CHECK (user_type IN ('human', 'app')),
    is_active    boolean NOT NULL DEFAULT true,
    is_staff     boolean NOT NULL DEFAULT false,
    is_superuser boolean NOT NULL DEFAULT false,
    last_login   timestamptz,
    date_joined  timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique case-insensitively.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE groups (
    id   serial PRIMARY KEY,
    name varchar(150) NOT NULL UNIQUE,
    slug varchar(50) NOT NULL UNIQUE
);

CREATE TABLE user_groups (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group ON user_groups (group_id);

CREATE TABLE group_permissions (
    group_id      integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);

CREATE TABLE user_permissions (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
);

CREATE TABLE email_addresses (
    id       bigserial PRIMARY KEY,
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email    varchar(254) NOT NULL,
    verified boolean NOT NULL DEFAULT false,
    is_primary boolean NOT NULL DEFAULT false,
    -- Cooldown of the verification mail (api-auth.md §7).
    last_sent_at timestamptz,
    UNIQUE (user_id, email)
);
CREATE INDEX email_addresses_email ON email_addresses (lower(email));
CREATE UNIQUE INDEX email_addresses_one_primary ON email_addresses (user_id) WHERE is_primary;

-- Server-side sessions.  The key itself is never stored: key_hash is its
-- SHA-256.  `data` holds the pending stage and authentication methods.
CREATE TABLE sessions (
    key_hash   bytea PRIMARY KEY,
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE auth_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    token_prefix varchar(8) NOT NULL,
    name         varchar(255) NOT NULL,
    description  text NOT NULL DEFAULT '',
    text_format  varchar(4) NOT NULL DEFAULT 'MD' CHECK (text_format IN ('TEXT', 'HTML', 'MD')),
    is_active    boolean NOT NULL DEFAULT true,
    start_date   timestamptz,
    end_date     timestamptz,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE auth_configs (
    site_id               integer PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    local_signup_allowed  boolean NOT NULL DEFAULT true,
    signup_email_suffix   varchar(255) NOT NULL DEFAULT '',
    logout_next_url       varchar(255) NOT NULL DEFAULT '/',
    signup_image          varchar(255) NOT NULL DEFAULT '',
    login_image           varchar(255) NOT NULL DEFAULT '',
    logout_image          varchar(255) NOT NULL DEFAULT '',
    password_reset_image  varchar(255) NOT NULL DEFAULT ''
);

CREATE TABLE auth_config_texts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id          integer NOT NULL REFERENCES auth_configs (site_id) ON DELETE CASCADE,
    language         varchar(3) NOT NULL REFERENCES languages (language) ON DELETE CASCADE,
    logout_next_text varchar(255) NOT NULL DEFAULT '',
    UNIQUE (site_id, language)
);

CREATE TABLE signup_group_assignments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         varchar(255) NOT NULL,
    description  text NOT NULL DEFAULT '',
    text_format  varchar(4) NOT NULL DEFAULT 'MD',
    is_active    boolean NOT NULL DEFAULT true,
    site_id      integer REFERENCES sites (id) ON DELETE CASCADE,
    social_app   varchar(255),
    is_staff     boolean NOT NULL DEFAULT false,
    is_superuser boolean NOT NULL DEFAULT false,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    modified_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    modified_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signup_group_assignment_groups (
    assignment_id uuid NOT NULL REFERENCES signup_group_assignments (id) ON DELETE CASCADE,
    group_id      integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (assignment_id, group_id)
);

-- Durable outbox: a request that sends mail only inserts here, inside its
-- transaction; `openbook send-mail` delivers (api-auth.md §9).
CREATE TABLE mail_outbox (
    id          bigserial PRIMARY KEY,
    recipient   varchar(254) NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    next_try_at timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    last_error  text
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_try_at) WHERE sent_at IS NULL;

-- One-time keys (e-mail verification, password reset, login codes), stored hashed.
CREATE TABLE auth_keys (
    key_hash   bytea PRIMARY KEY,
    kind       varchar(16) NOT NULL CHECK (kind IN ('verify', 'reset', 'code')),
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    email      varchar(254) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_keys_user ON auth_keys (user_id);
