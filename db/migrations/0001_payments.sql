ALTER TABLE `orders` MODIFY COLUMN `status` enum('awaiting_payment','paying','paid') NOT NULL DEFAULT 'awaiting_payment';--> statement-breakpoint
ALTER TABLE `refunds` MODIFY COLUMN `status` enum('pending','succeeded') NOT NULL DEFAULT 'pending';--> statement-breakpoint
ALTER TABLE `payments` ADD `request_key` varbinary(255) NOT NULL;--> statement-breakpoint
ALTER TABLE `refunds` ADD `request_key` varbinary(255) NOT NULL;--> statement-breakpoint
ALTER TABLE `refunds` ADD `provider_key` varchar(255) NOT NULL;--> statement-breakpoint
ALTER TABLE `refunds` ADD `provider_refund_id` varchar(64);--> statement-breakpoint
ALTER TABLE `refunds` ADD `updated_at` datetime(3) DEFAULT CURRENT_TIMESTAMP(3) NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD CONSTRAINT `payments_customer_request_key` UNIQUE(`customer_id`,`request_key`);--> statement-breakpoint
ALTER TABLE `refunds` ADD CONSTRAINT `refunds_provider_key_unique` UNIQUE(`provider_key`);--> statement-breakpoint
ALTER TABLE `refunds` ADD CONSTRAINT `refunds_customer_request_key` UNIQUE(`customer_id`,`request_key`);