-- Claims that end with their process. Each delivering process beats a heart in
-- `delivery_owners`; an outbox entry names the process that claimed it. A process whose heart stopped
-- (SIGKILL, a lost host) has its claims freed by any live one within seconds, instead of leaving them
-- to wait out their lease.
ALTER TABLE outbox ADD COLUMN lease_owner INTEGER;
CREATE TABLE delivery_owners (
    owner        INTEGER PRIMARY KEY,
    alive_until  INTEGER NOT NULL
);
