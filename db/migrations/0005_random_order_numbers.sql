ALTER TABLE `orders` MODIFY COLUMN `id` int NOT NULL;--> statement-breakpoint
CREATE INDEX `orders_created` ON `orders` (`created_at`,`id`);