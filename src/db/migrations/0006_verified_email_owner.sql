-- 0006: an address is verified by at most one account (api-auth.md §4.5,
-- §4.12).  A login code goes to the account that verified its address, so
-- two verified owners would let the mailbox's owner be logged into the
-- other account.  The server checks this on every path that verifies an
-- address; this index makes it hold whatever path, or race, comes next
-- (ob_account_email_taken() maps its violation to `email_taken`).
--
-- Addresses verified by several accounts before this migration (an older
-- server did not check login by code) keep the oldest verified row, the
-- first account that proved the address; the later rows become
-- unverified, so their accounts see `email_taken` if they verify again.
UPDATE email_addresses e SET verified = false
WHERE e.verified AND EXISTS (
    SELECT 1 FROM email_addresses o
    WHERE o.verified AND lower(o.email) = lower(e.email) AND o.id < e.id);

CREATE UNIQUE INDEX email_addresses_verified_email ON email_addresses (lower(email))
    WHERE verified;

-- Who holds an address is asked by users.email too (login by code,
-- password reset, sign-up): without this index each of those read the
-- whole users table.
CREATE INDEX users_email_lower ON users (lower(email));
