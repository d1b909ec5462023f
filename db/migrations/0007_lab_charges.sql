CREATE TABLE `lab_charges` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`lab_session` char(36) NOT NULL,
	`run` char(36) NOT NULL,
	`amount_cents` int NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `lab_charges_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `lab_charges_run` ON `lab_charges` (`lab_session`,`run`);