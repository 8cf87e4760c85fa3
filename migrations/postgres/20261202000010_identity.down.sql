DROP TABLE agent_sessions;
DROP TABLE agent_credentials;
