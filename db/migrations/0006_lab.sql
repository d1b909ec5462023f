CREATE TABLE `lab_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lab_session` char(36) NOT NULL,
	`run` varchar(36),
	`side` enum('unprotected','protected') NOT NULL,
	`tab` varchar(64),
	`served_by` varchar(128) NOT NULL,
	`procedure_path` varchar(64) NOT NULL,
	`idempotency_key` varchar(255),
	`http_status` int NOT NULL,
	`outcome` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `lab_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `lab_orders` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lab_session` char(36) NOT NULL,
	`run` char(36) NOT NULL,
	`total_cents` int NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `lab_orders_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `lab_events_session` ON `lab_events` (`lab_session`,`id`);--> statement-breakpoint
CREATE INDEX `lab_orders_run` ON `lab_orders` (`lab_session`,`run`);