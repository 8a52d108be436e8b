/* The schema: one list of migrations for both engines (store/migrations.c). */
#ifndef PARLEY_STORE_MIGRATIONS_H
#define PARLEY_STORE_MIGRATIONS_H

/* One step of a schema version; a version is every step with its number, run in one transaction. */
struct migration {
    int version;
    const char *sql; /* SQLite's text, and PostgreSQL's after migration_text's rewrite */
    const char *pg;  /* NULL: the rewrite of sql; else PostgreSQL's own text ("" for nothing) */
};

extern const struct migration store_migrations[];
extern const int store_migrations_n;

/* The version a fully migrated schema has: the last step's. */
int migration_latest(void);
/* Step m's text for one engine, in a malloc'd string (free it); NULL when out of memory. */
char *migration_text(const struct migration *m, int pg);

struct store_conn;
/* After the schema: checks that the secret key is the one the data was sealed with, and seals the
 * secrets still in clear text, in one transaction of c (a writer). Returns how many it sealed, or a
 * negative store_result (logged). */
int store_secrets_migrate(struct store_conn *c);
int store_secrets_sql_add(void); /* its statements (store_sql_init) */

#endif
