DROP TABLE IF EXISTS agent_presence;
