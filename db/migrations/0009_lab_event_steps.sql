ALTER TABLE `lab_events` ADD `attempt` char(36);--> statement-breakpoint
ALTER TABLE `lab_events` ADD `step` varchar(32) DEFAULT 'answered' NOT NULL;--> statement-breakpoint
ALTER TABLE `lab_events` ADD `detail` varchar(64);