CREATE TABLE `background_leases` (
	`job` varchar(64) NOT NULL,
	`owner_token` char(36) NOT NULL,
	`locked_until` datetime(3) NOT NULL,
	CONSTRAINT `background_leases_job` PRIMARY KEY(`job`)
);
--> statement-breakpoint
CREATE TABLE `reconciliation_repairs` (
	`id` int AUTO_INCREMENT NOT NULL,
	`provider_object_id` varchar(64) NOT NULL,
	`kind` enum('stray_charge_refunded') NOT NULL,
	`provider_refund_key` varchar(255) NOT NULL,
	`amount_cents` int NOT NULL,
	`currency` char(3) NOT NULL,
	`status` enum('pending','done') NOT NULL DEFAULT 'pending',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `reconciliation_repairs_id` PRIMARY KEY(`id`),
	CONSTRAINT `reconciliation_repairs_provider_object_id_unique` UNIQUE(`provider_object_id`),
	CONSTRAINT `reconciliation_repairs_provider_refund_key_unique` UNIQUE(`provider_refund_key`)
);
--> statement-breakpoint
ALTER TABLE `refunds` MODIFY COLUMN `status` enum('pending','succeeded','failed') NOT NULL DEFAULT 'pending';--> statement-breakpoint
ALTER TABLE `refunds` ADD `failure_code` varchar(64);--> statement-breakpoint
CREATE INDEX `idempotency_keys_unfinished` ON `idempotency_keys` (`status`,`locked_until`);