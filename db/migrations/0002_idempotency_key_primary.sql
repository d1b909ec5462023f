-- One statement: MariaDB refuses to drop the primary key while its AUTO_INCREMENT column remains, and the key
-- pair stays unique throughout. (drizzle-kit generated these as four statements, the second of which fails.)
ALTER TABLE `idempotency_keys` DROP COLUMN `id`, DROP INDEX `idempotency_keys_customer_key`, ADD PRIMARY KEY(`customer_id`,`idempotency_key`);
