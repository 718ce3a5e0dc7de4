-- Failed sign-ins counted per client address as well as per username: one
-- address trying many usernames (a password tried across the staff list)
-- is stopped too. IPv6 addresses are counted per /64. The address is the
-- peer's, or the one a trusted proxy names (SOTAY_TRUSTED_PROXIES).
CREATE TABLE login_throttle_addresses (
    address           TEXT PRIMARY KEY,
    failures          BIGINT NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ
);
