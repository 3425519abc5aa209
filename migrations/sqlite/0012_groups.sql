-- Operator groups: the group an access belongs to (chatgate access create … --group NAME), offered
-- with the operators when a chat is assigned.
ALTER TABLE credentials ADD COLUMN group_name TEXT;
