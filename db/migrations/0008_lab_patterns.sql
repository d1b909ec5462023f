CREATE TABLE `lab_links` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lab_session` char(36) NOT NULL,
	`run` char(36) NOT NULL,
	`product_id` int NOT NULL,
	`category_id` int NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `lab_links_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `lab_products` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lab_session` char(36) NOT NULL,
	`run` char(36) NOT NULL,
	`name` varchar(200) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `lab_products_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `lab_links_run` ON `lab_links` (`lab_session`,`run`);--> statement-breakpoint
CREATE INDEX `lab_products_run` ON `lab_products` (`lab_session`,`run`);