CREATE TABLE `merchants` (
	`id` int AUTO_INCREMENT NOT NULL,
	`email` varchar(254) NOT NULL,
	`password_hash` varchar(255) NOT NULL,
	`signed_out_at` int NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `merchants_id` PRIMARY KEY(`id`),
	CONSTRAINT `merchants_email_unique` UNIQUE(`email`)
);
--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`key` varchar(255) NOT NULL,
	`points` int NOT NULL DEFAULT 0,
	`expire` bigint unsigned,
	CONSTRAINT `rate_limits_key` PRIMARY KEY(`key`)
);
--> statement-breakpoint
-- The customer foreign key needs an index of its own before the old composite one goes.
CREATE INDEX `refunds_customer` ON `refunds` (`customer_id`);--> statement-breakpoint
ALTER TABLE `refunds` DROP INDEX `refunds_customer_request_key`;--> statement-breakpoint
ALTER TABLE `orders` MODIFY COLUMN `status` enum('awaiting_payment','paying','paid','partially_refunded','refunded') NOT NULL DEFAULT 'awaiting_payment';--> statement-breakpoint
ALTER TABLE `refunds` ADD CONSTRAINT `refunds_request_key` UNIQUE(`request_key`);
