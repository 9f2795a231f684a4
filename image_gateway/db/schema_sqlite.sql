CREATE TABLE api_keys (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	scopes JSON NOT NULL, 
	allowed_providers JSON, 
	allowed_models JSON, 
	requests_per_minute INTEGER, 
	max_concurrent INTEGER, 
	monthly_budget_micros BIGINT, 
	spend_month VARCHAR(7), 
	spend_micros BIGINT DEFAULT '0' NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	CONSTRAINT pk_api_keys PRIMARY KEY (id), 
	CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash)
);
CREATE TABLE jobs (
	id VARCHAR(40) NOT NULL, 
	owner VARCHAR(140) NOT NULL, 
	user_id VARCHAR(256), 
	status VARCHAR(16) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	request JSON NOT NULL, 
	inputs JSON, 
	public_base_url VARCHAR(2048) NOT NULL, 
	journal JSON, 
	result JSON, 
	error JSON, 
	progress FLOAT, 
	webhook_url VARCHAR(2083), 
	webhook_secret VARCHAR(256), 
	webhook JSON, 
	webhook_next_at DATETIME, 
	idempotency_key VARCHAR(256), 
	request_hash VARCHAR(64), 
	cancel_requested INTEGER DEFAULT '0' NOT NULL, 
	lease_owner VARCHAR(64), 
	lease_expires_at DATETIME, 
	not_before DATETIME, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	request_id VARCHAR(128), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	admission JSON, 
	activity JSON, 
	CONSTRAINT pk_jobs PRIMARY KEY (id)
);
CREATE INDEX ix_jobs_owner_created_at ON jobs (owner, created_at);
CREATE UNIQUE INDEX ix_jobs_owner_idempotency_key ON jobs (owner, idempotency_key);
CREATE INDEX ix_jobs_status_lease_expires_at ON jobs (status, lease_expires_at);
CREATE INDEX ix_jobs_webhook_next_at ON jobs (webhook_next_at);
CREATE TABLE usage (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	day VARCHAR(10) NOT NULL, 
	request_id VARCHAR(128), 
	key_id VARCHAR(32), 
	key_name VARCHAR(100) NOT NULL, 
	user_id VARCHAR(256), 
	provider VARCHAR(64) NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	error_code VARCHAR(64), 
	images INTEGER NOT NULL, 
	size VARCHAR(16), 
	quality VARCHAR(16), 
	latency_ms FLOAT NOT NULL, 
	cost_micros BIGINT, 
	CONSTRAINT pk_usage PRIMARY KEY (id)
);
CREATE INDEX ix_usage_day ON usage (day);
CREATE INDEX ix_usage_key_id_day ON usage (key_id, day);
CREATE INDEX ix_usage_key_name_day ON usage (key_name, day);
CREATE TABLE budget_reservations (
	id VARCHAR(32) NOT NULL, 
	key_id VARCHAR(32) NOT NULL, 
	amount_micros BIGINT NOT NULL, 
	expires_at DATETIME NOT NULL, 
	CONSTRAINT pk_budget_reservations PRIMARY KEY (id), 
	CONSTRAINT fk_budget_reservations_key_id_api_keys FOREIGN KEY(key_id) REFERENCES api_keys (id) ON DELETE CASCADE
);
CREATE INDEX ix_budget_reservations_key_id ON budget_reservations (key_id);
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
