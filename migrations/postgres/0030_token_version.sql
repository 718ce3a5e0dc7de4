-- Access tokens carry the user's token version: setting a password moves it
-- on, and every access token issued before stops working at once instead of
-- at its expiry. (Deactivating an account stops its tokens by the account's
-- state, and what its revoked phones still upload is quarantined.)
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
