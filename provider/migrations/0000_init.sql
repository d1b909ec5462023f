CREATE TABLE `charges` (
	`id` varchar(32) NOT NULL,
	`idempotency_key` varchar(255) NOT NULL,
	`request_hash` char(64) NOT NULL,
	`amount_cents` int NOT NULL,
	`currency` char(3) NOT NULL,
	`card_last4` char(4) NOT NULL,
	`reference` varchar(128) NOT NULL,
	`status` enum('succeeded','declined') NOT NULL,
	`decline_code` varchar(64),
	`refunded_cents` int NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `charges_id` PRIMARY KEY(`id`),
	CONSTRAINT `charges_idempotency_key_unique` UNIQUE(`idempotency_key`)
);
--> statement-breakpoint
CREATE TABLE `refunds` (
	`id` varchar(32) NOT NULL,
	`idempotency_key` varchar(255) NOT NULL,
	`charge_id` varchar(32) NOT NULL,
	`amount_cents` int NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `refunds_id` PRIMARY KEY(`id`),
	CONSTRAINT `refunds_idempotency_key_unique` UNIQUE(`idempotency_key`)
);
--> statement-breakpoint
ALTER TABLE `refunds` ADD CONSTRAINT `refunds_charge_id_charges_id_fk` FOREIGN KEY (`charge_id`) REFERENCES `charges`(`id`) ON DELETE no action ON UPDATE no action;