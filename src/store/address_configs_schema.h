/* The address configurations' table (schema version 10, written once for both engines: store/migrations.c).
 * One configuration per address per account: the address is the alternate key of the row, so it is unique
 * within the account. A configuration names the service its auto-created conversations go to; when that
 * service is deleted the reference is cleared (they go to the account's default service again). */
#ifndef PARLEY_ADDRESS_CONFIGS_SCHEMA_H
#define PARLEY_ADDRESS_CONFIGS_SCHEMA_H

#define ADDRESS_CONFIGS_MIGRATION                                                                            \
    "CREATE TABLE address_configs("                                                                          \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  type TEXT NOT NULL,"                                                                                  \
    "  address TEXT NOT NULL,"                                                                               \
    "  friendly_name TEXT,"                                                                                  \
    "  address_country TEXT,"                                                                                \
    "  auto_enabled INTEGER NOT NULL DEFAULT 0,"                                                             \
    "  auto_type TEXT,"                                                                                      \
    "  service_sid TEXT REFERENCES services(sid) ON DELETE SET NULL,"                                        \
    "  webhook_url TEXT,"                                                                                    \
    "  webhook_method TEXT,"                                                                                 \
    "  webhook_filters TEXT,"                                                                                \
    "  studio_flow_sid TEXT,"                                                                                \
    "  studio_retry_count INTEGER NOT NULL DEFAULT -1,"                                                      \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL,"                                                                        \
    "  UNIQUE(account_sid, address)) STRICT;"                                                                \
    "CREATE INDEX address_configs_by_account ON address_configs(account_sid, id);"                           \
    "CREATE INDEX address_configs_by_service ON address_configs(service_sid) WHERE service_sid IS NOT NULL;"

#endif
