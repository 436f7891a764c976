-- 0007: the identity assertions of a sign-up group assignment
-- (api-resources.md "signup_group_assignments"): what a provider's
-- attributes must match for the assignment to apply to a provider sign-up
-- (phase 2; api-auth.md §6).  Kept in the order written; writing the list
-- replaces it.  Deleting the assignment deletes them.

CREATE TABLE signup_group_assignment_assertions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    assignment_id  uuid NOT NULL REFERENCES signup_group_assignments (id) ON DELETE CASCADE,
    position       integer NOT NULL,
    name           varchar(255) NOT NULL,
    value          varchar(255),
    match_strategy varchar(11) NOT NULL DEFAULT 'exact'
                   CHECK (match_strategy IN ('exact', 'contains', 'starts-with', 'ends-with',
                                             'regex', 'any')),
    CONSTRAINT signup_group_assignment_assertions_position UNIQUE (assignment_id, position)
);
