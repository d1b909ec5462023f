ALTER TABLE `charges` MODIFY COLUMN `request_hash` char(64);--> statement-breakpoint
ALTER TABLE `charges` MODIFY COLUMN `amount_cents` int;--> statement-breakpoint
ALTER TABLE `charges` MODIFY COLUMN `currency` char(3);--> statement-breakpoint
ALTER TABLE `charges` MODIFY COLUMN `card_last4` char(4);--> statement-breakpoint
ALTER TABLE `charges` MODIFY COLUMN `reference` varchar(128);--> statement-breakpoint
ALTER TABLE `charges` MODIFY COLUMN `status` enum('succeeded','declined','canceled') NOT NULL;--> statement-breakpoint
ALTER TABLE `refunds` MODIFY COLUMN `charge_id` varchar(32);--> statement-breakpoint
ALTER TABLE `refunds` MODIFY COLUMN `amount_cents` int;--> statement-breakpoint
ALTER TABLE `refunds` ADD `status` enum('succeeded','canceled') DEFAULT 'succeeded' NOT NULL;