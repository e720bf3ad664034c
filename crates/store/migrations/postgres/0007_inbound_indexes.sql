-- A report's source message is found by its Tracking ID (replies under the
-- tweet, mail threads); the hourly purge walks the records by age.
CREATE INDEX inbound_messages_report ON inbound_messages(channel, tracking_id);
CREATE INDEX inbound_messages_age ON inbound_messages(received_at);
