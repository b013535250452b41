"""Real wordings of resource, configuration, health and crash failures, one per row.

Each row is a log excerpt written for this test (the error text is what the
software prints; everything around it is made up), run through the real
pipeline (`read_inputs` -> `detect_findings`, as benchmarks/score_corpus.py
does), and must give the expected (service, category). Rows are grouped by
family: OOM kills vs runtime memory limits (see the rule of thumb at the top
of incidentlog/rules/limits.toml), process/descriptor/kernel limits, compose's
own lines, framework management commands, entrypoint scripts, health checks,
process managers. `NEAR_MISSES` must give no finding in these categories.

Tables: one row per line, `printed by | service | category | text`, where
"printed by" is the compose service whose `name-1  | ` prefix the line gets,
or `compose` for compose's own unprefixed line (written after a line of each
service, so that attribution knows them); ` ↵ ` separates lines of one record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.detect.matcher import CompiledRules
from incidentlog.ingest import read_inputs

OWNED = {"oom-killed", "resource-exhausted", "config-error", "healthcheck-failed", "crash-loop"}

Row = tuple[str, str, str, str]
"""(printed by, text, expected service, expected category)."""


def _text(cell: str) -> str:
    return cell.strip().replace(" ↵ ", "\n")


def _rows(table: str) -> list[Row]:
    rows = []
    for line in table.strip().splitlines():
        printed_by, service, category, text = line.split(" | ", 3)
        rows.append((printed_by.strip(), _text(text), service.strip(), category.strip()))
    return rows


def _lines(table: str) -> list[str]:
    return [_text(line) for line in table.strip().splitlines()]


def _pairs(table: str) -> list[tuple[str, str]]:
    return [
        (p.strip(), _text(t)) for p, t in (ln.split(" | ", 1) for ln in table.strip().splitlines())
    ]


OOM_KILLED = _rows(
    r"""
worker | worker | oom-killed | Killed
worker | worker | oom-killed | /entrypoint.sh: line 14:    23 Killed                  python -m etl.run
api | api | oom-killed | [2025-08-01 10:00:03 +0000] [1] [ERROR] Worker (pid:31) was sent SIGKILL! Perhaps out of memory?
db | db | oom-killed | 2025-08-01 10:00:03.120 UTC [1] LOG:  server process (PID 377) was terminated by signal 9: Killed
app | app | oom-killed | [98231.442] Out of memory: Killed process 4121 (node) total-vm:4211820kB, anon-rss:2011220kB
app | app | oom-killed | [98231.440] Memory cgroup out of memory: Killed process 4121 (java) total-vm:6000000kB
app | app | oom-killed | [98231.439] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
php | php | oom-killed | [01-Aug-2025 10:00:03] WARNING: [pool www] child 88 exited on signal 9 (SIGKILL) after 41.2 seconds from start
web | web | oom-killed | 2025/08/01 10:00:03 [alert] 1#1: worker process 29 exited on signal 9
worker | worker | oom-killed | billiard.exceptions.WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL) Job: 42.
trainer | trainer | oom-killed | RuntimeError: DataLoader worker (pid 2211) is killed by signal: Killed.
frontend | frontend | oom-killed | npm ERR! signal SIGKILL
frontend | frontend | oom-killed | npm error signal SIGKILL
app | app | oom-killed | 2025-08-01 10:00:03,000 INFO exited: app (terminated by SIGKILL; not expected)
builder | builder | oom-killed | subprocess.CalledProcessError: Command '['pip', 'install', '-r', 'req.txt']' died with <Signals.SIGKILL: 9>.
frontend | frontend | oom-killed | error Command failed with exit code 137.
builder | builder | oom-killed | make: *** [Makefile:21: assets] Error 137
"""
)

RESOURCE_MEMORY = _rows(
    r"""
reports | reports | resource-exhausted | Exception in thread "main" java.lang.OutOfMemoryError: Java heap space
reports | reports | resource-exhausted | java.lang.OutOfMemoryError: GC overhead limit exceeded
reports | reports | resource-exhausted | Caused by: java.lang.OutOfMemoryError: Metaspace
kafka | kafka | resource-exhausted | java.lang.OutOfMemoryError: Direct buffer memory
reports | reports | resource-exhausted | Terminating due to java.lang.OutOfMemoryError: Java heap space
frontend | frontend | resource-exhausted | FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
frontend | frontend | resource-exhausted | FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory
frontend | frontend | resource-exhausted | FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory
frontend | frontend | resource-exhausted | # Fatal process out of memory: Zone
etl | etl | resource-exhausted | Traceback (most recent call last): ↵   File "/srv/etl/load.py", line 12, in <module> ↵     rows = list(reader) ↵ MemoryError
etl | etl | resource-exhausted | numpy.core._exceptions._ArrayMemoryError: Unable to allocate 7.45 GiB for an array with shape (1000000000,) and data type float64
ingest | ingest | resource-exhausted | fatal error: runtime: out of memory
ingest | ingest | resource-exhausted | fatal error: runtime: cannot allocate memory
php | php | resource-exhausted | PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 65536 bytes) in /var/www/html/vendor/lib/Parser.php on line 210
api | api | resource-exhausted | Unhandled exception. System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.
api | api | resource-exhausted | GC heap initialization failed with error 0x8007000E
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [88] ERROR:  out of memory
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [88] DETAIL:  Failed on request of size 16777216 in memory context "ExecutorState".
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [91] ERROR:  could not resize shared memory segment "/PostgreSQL.2920" to 4194304 bytes: No space left on device
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [1] LOG:  could not fork new process for connection: Cannot allocate memory
worker | worker | resource-exhausted | redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.
redis | redis | resource-exhausted | 1:M 01 Aug 2025 10:00:03.120 # Can't save in background: fork: Cannot allocate memory
redis | redis | resource-exhausted | 1:M 01 Aug 2025 10:00:09.500 # Can't rewrite append only file in background: fork: Cannot allocate memory
search | search | resource-exhausted | {"type":"circuit_breaking_exception","reason":"[parent] Data too large, data for [<http_request>] would be [1021.2mb/1gb], which is larger than the limit of [986.1mb/986.1mb]"}
search | search | resource-exhausted | org.elasticsearch.common.breaker.CircuitBreakingException: [parent] Data too large, data for [indices:data/write/bulk] would be [2gb], which is larger than the limit of [1.9gb]
mysql | mysql | resource-exhausted | 2025-08-01T10:00:03.120000Z 12 [ERROR] [MY-000000] [Server] Out of memory (Needed 8388608 bytes)
mysql | mysql | resource-exhausted | 2025-08-01T10:00:03.120000Z 0 [ERROR] [MY-012681] [InnoDB] mmap(137428992 bytes) failed; errno 12
llm | llm | resource-exhausted | torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.79 GiB
ollama | ollama | resource-exhausted | Error: model requires more system memory (11.2 GiB) than is available (5.8 GiB)
rabbit | rabbit | resource-exhausted | 2025-08-01 10:00:03.120 [error] <0.312.0> eheap_alloc: Cannot allocate 3280272 bytes of memory (of type "heap").
indexer | indexer | resource-exhausted | memory allocation of 4294967296 bytes failed
trainer | trainer | resource-exhausted | ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).
reports | reports | resource-exhausted | # There is insufficient memory for the Java Runtime Environment to continue.
reports | reports | resource-exhausted | # Native memory allocation (mmap) failed to map 268435456 bytes for committing reserved memory.
clickhouse | clickhouse | resource-exhausted | Code: 241. DB::Exception: Memory limit (total) exceeded: would use 3.52 GiB (attempt to allocate chunk of 4194304 bytes), maximum: 3.46 GiB. (MEMORY_LIMIT_EXCEEDED)
cache | cache | resource-exhausted | 1:M 01 Aug 2025 10:00:03.120 # Out of memory allocating 16384 bytes!
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [64] ERROR:  out of shared memory
bot | bot | resource-exhausted | Error: spawn ENOMEM
"""
)

RESOURCE_LIMITS = _rows(
    r"""
proxy | proxy | resource-exhausted | 2025/08/01 10:00:03 http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 40ms
api | api | resource-exhausted | java.net.SocketException: Too many open files
web | web | resource-exhausted | 2025/08/01 10:00:03 [crit] 30#30: accept4() failed (24: Too many open files)
web | web | resource-exhausted | Error: EMFILE: too many open files, open '/srv/app/static/app.css'
app | app | resource-exhausted | OSError: [Errno 23] Too many open files in system: '/data/cache.db'
frontend | frontend | resource-exhausted | Error: ENOSPC: System limit for number of file watchers reached, watch '/srv/app/src/pages'
api | api | resource-exhausted | OSError: inotify watch limit reached
agent | agent | resource-exhausted | failed to create watcher: User limit of inotify instances reached
runner | runner | resource-exhausted | /usr/local/bin/run-jobs.sh: fork: retry: Resource temporarily unavailable
runner | runner | resource-exhausted | bash: fork: retry: No child processes
api | api | resource-exhausted | runtime/cgo: pthread_create failed: Resource temporarily unavailable
api | api | resource-exhausted | runtime: failed to create new OS thread (have 612 already; errno=11)
api | api | resource-exhausted | runtime: may need to increase max user processes (ulimit -u)
worker | worker | resource-exhausted | RuntimeError: can't start new thread
jvm | jvm | resource-exhausted | [0.842s][warning][os,thread] Failed to start thread "Unknown thread" - pthread_create failed (EAGAIN) for attributes: stacksize: 1024k
jvm | jvm | resource-exhausted | java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached
search | search | resource-exhausted | thread 'main' panicked: failed to spawn thread: Os { code: 11, kind: WouldBlock, message: "Resource temporarily unavailable" }
bot | bot | resource-exhausted | Error: spawn /bin/sh EAGAIN
db | db | resource-exhausted | 2025-08-01 10:00:03.120 UTC [51] FATAL:  sorry, too many clients already
cache | cache | resource-exhausted | redis.exceptions.ConnectionError: max number of clients reached
"""
)

KERNEL_SETTINGS = _rows(
    r"""
redis | redis | config-error | sysctl: error setting key 'net.core.somaxconn': Read-only file system
proxy | proxy | config-error | 2026-01-04T08:00:03Z ERR The ACME resolver "le" is skipped from the resolvers list error="unable to get ACME account: permissions 644 for /letsencrypt/acme.json are too open, please use 600" resolver=le
redis | redis | config-error | sysctl: setting key "vm.overcommit_memory": Read-only file system
lb | lb | config-error | error: "Read-only file system" setting key "net.ipv4.ip_local_port_range"
vpn | vpn | config-error | sysctl: permission denied on key "net.ipv4.ip_forward"
app | app | config-error | sysctl: cannot stat /proc/sys/net/ipv4/tcp_tw_recycle: No such file or directory
search | search | config-error | /usr/local/bin/docker-entrypoint.sh: line 3: ulimit: open files: cannot modify limit: Operation not permitted
search | search | config-error | ulimit: error setting limit (Operation not permitted)
es | es | config-error | {"log.level":"ERROR","message":"node validation exception\n[1] bootstrap checks failed. You must address the points described in the following [1] lines before starting Elasticsearch.\nbootstrap check failure [1] of [1]: max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]"}
sonar | sonar | config-error | 2025.08.01 10:00:03 ERROR es[][o.e.b.Bootstrap] max virtual memory areas vm.max_map_count [65530] is too low, increase to at least [262144]
es | es | config-error | ERROR: [1] bootstrap checks failed ↵ [1]: max virtual memory areas vm.max_map_count [65530] likely too low, increase to at least [262144]
es | es | config-error | [1]: max file descriptors [4096] for elasticsearch process is too low, increase to at least [65535]
os | os | config-error | [1]: memory locking requested for opensearch process but memory is not locked
"""
)

COMPOSE_LINES = _rows(
    r"""
compose | db | healthcheck-failed | dependency failed to start: container shop-db-1 is unhealthy
compose | db | healthcheck-failed | Container shop-db-1 is unhealthy
compose | compose | healthcheck-failed | application not healthy after 2m0s
compose | db | crash-loop | dependency failed to start: container shop-db-1 exited (1)
compose | migrate | crash-loop | service "migrate" didn't complete successfully: exit 1
compose | migrate | crash-loop | ✘ Container shop-migrate-1  service "migrate" didn't complete successfully: exit 2
compose | cache | config-error | dependency failed to start: container shop-cache-1 has no healthcheck configured
compose | web | config-error | service "web" depends on undefined service "db": invalid compose project
compose | web | config-error | service "web" depends on undefined service db: invalid compose project
compose | web | config-error | service "web" refers to undefined network backend: invalid compose project
compose | web | config-error | ERROR: Service 'web' depends on service 'db' which is undefined.
compose | web | config-error | validating /srv/shop/compose.yaml: services.web Additional property healtcheck is not allowed
compose | web | config-error | validating /srv/shop/compose.yaml: services.web.healthcheck.interval must be a string
compose | web | config-error | services.web.healthcheck value Additional properties are not allowed ('start_period' was unexpected)
compose | web | config-error | services.web.healthcheck value 'start_interval' does not match any of the regexes: '^x-'
compose | web | config-error | Unsupported config option for services.web: 'healthcheck'
compose | compose | config-error | yaml: line 12: did not find expected key
compose | compose | config-error | parsing /srv/shop/compose.yaml: yaml: line 7: mapping values are not allowed in this context
compose | web | config-error | invalid interpolation format for services.web.environment.[]: "PASSWORD_HASH=$2y$10$abc". You may need to escape any $ with another $.
compose | web | config-error | ERROR: Invalid interpolation format for "environment" option in service "web": "FILTER=^prod$"
compose | db | config-error | error while interpolating services.db.environment.[]: required variable POSTGRES_PASSWORD is missing a value: set it in .env
compose | compose | config-error | env file /srv/shop/.env not found: stat /srv/shop/.env: no such file or directory
compose | compose | config-error | ERROR: Couldn't find env file: /srv/shop/.env
compose | compose | config-error | Error response from daemon: manifest for shop/web:9.9.9 not found: manifest unknown: manifest unknown
compose | web | config-error | web Error manifest for shop/web:9.9.9 not found: manifest unknown: manifest unknown
compose | compose | config-error | no matching manifest for linux/arm64/v8 in the manifest list entries
compose | db | config-error | ERROR: for db  no matching manifest for linux/arm64/v8 in the manifest list entries
compose | compose | config-error | Error response from daemon: could not select device driver "" with capabilities: [[gpu]]
compose | web | config-error | ERROR: for web  Cannot start service web: invalid mount config for type "bind": bind source path does not exist: /srv/shop/data
compose | web | config-error | ERROR: for web  Cannot start service web: OCI runtime create failed: container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: rootfs_linux.go:76: mounting "/srv/shop/nginx.conf" to rootfs at "/etc/nginx/nginx.conf" caused: mount through procfd: not a directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type
compose | compose | config-error | network proxy declared as external, but could not be found
compose | db | config-error | Error response from daemon: Conflict. The container name "/shop-db" is already in use by container "4f1e2d3c4b5a". You have to remove (or rename) that container to be able to reuse that name.
compose | web | config-error | service "web" has neither an image nor a build context specified: invalid compose project
compose | compose | config-error | no configuration file provided: not found
compose | compose | config-error | failed to read /srv/shop/.env: line 4: unexpected character "-" in variable name "DB-HOST=db"
compose | compose | config-error | Error response from daemon: error while mounting volume '/var/lib/docker/volumes/shop_media/_data': failed to mount local volume: mount /srv/media:/var/lib/docker/volumes/shop_media/_data, flags: 0x1000: no such file or directory
compose | compose | config-error | Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: write sysctl key vm.max_map_count: open /proc/sys/vm/max_map_count: no such file or directory: unknown
compose | web | healthcheck-failed | container shop-web-1 is unhealthy
autoheal | web | healthcheck-failed | 01-08-2025 10:00:03 Container /shop-web-1 (3f096d7cb6d8) found to be unhealthy - Restarting container now with 10s timeout
"""
)

FRAMEWORKS = _rows(
    r"""
web | web | config-error | django.db.utils.OperationalError: no such table: accounts_user
web | web | config-error | django.db.utils.ProgrammingError: relation "accounts_user" does not exist ↵ LINE 1: SELECT "accounts_user"."id" FROM "accounts_user"
api | api | config-error | sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation "orders" does not exist
api | api | config-error | error: relation "sessions" does not exist
api | api | config-error | org.postgresql.util.PSQLException: ERROR: relation "invoice" does not exist
app | app | config-error | Illuminate\Database\QueryException: SQLSTATE[42S02]: Base table or view not found: 1146 Table 'shop.users' doesn't exist (SQL: select * from `users`)
app | app | config-error | SQLSTATE[42P01]: Undefined table: 7 ERROR:  relation "users" does not exist
api | api | config-error | Error: ER_NO_SUCH_TABLE: Table 'shop.carts' doesn't exist
api | api | config-error | Microsoft.Data.SqlClient.SqlException (0x80131904): Invalid object name 'Products'.
api | api | config-error | PrismaClientKnownRequestError: The table `public.User` does not exist in the current database.
api | api | config-error | org.hibernate.tool.schema.spi.SchemaManagementException: Schema-validation: missing table [orders]
web | web | config-error | django.db.migrations.exceptions.InconsistentMigrationHistory: Migration admin.0001_initial is applied before its dependency accounts.0001_initial on database 'default'.
web | web | config-error | CommandError: Conflicting migrations detected; multiple leaf nodes in the migration graph: (0007_a, 0007_b in shop).
web | web | config-error | django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.
api | api | config-error | ERROR [alembic.util.messaging] Can't locate revision identified by '1f2e3d4c5b6a'
api | api | config-error | FAILED: Multiple head revisions are present for given argument 'head'; please specify a specific target revision
web | web | config-error | ActiveRecord::PendingMigrationError: Migrations are pending. To resolve this issue, run: bin/rails db:migrate RAILS_ENV=production
web | web | config-error | You have 3 pending migrations:
web | web | config-error | ActiveRecord::NoDatabaseError: We could not find your database: shop_production.
web | web | config-error | ArgumentError: Missing `secret_key_base` for 'production' environment, set this string with `bin/rails credentials:edit`
app | app | config-error | Illuminate\Encryption\MissingAppKeyException: No application encryption key has been specified.
app | app | config-error | SQLSTATE[HY000] [1049] Unknown database 'shop'
api | api | config-error | Error: P3009 ↵  ↵ migrate found failed migrations in the target database, new migrations will not be applied.
api | api | config-error | Error: P3018 ↵  ↵ A migration failed to apply. New migrations cannot be applied before the error is recovered from.
api | api | config-error | Error: P3005 ↵  ↵ The database schema is not empty.
api | api | config-error | org.flywaydb.core.api.exception.FlywayValidateException: Validate failed: Migrations have failed validation
api | api | config-error | Migration checksum mismatch for migration version 3
api | api | config-error | org.flywaydb.core.api.FlywayException: Validate failed: Detected failed migration to version 2.1 (add index)
api | api | config-error | liquibase.exception.ValidationFailedException: Validation Failed: ↵      1 changesets check sum
api | api | config-error | error: Dirty database version 14. Fix and force version.
api | api | config-error | Error: The migration directory is corrupt, the following files are missing: 20250101_init.js
api | api | config-error | The model for context 'ShopContext' has pending changes. Add a new migration before updating the database.
api | api | config-error | Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.
api | api | config-error | Reason: Failed to determine a suitable driver class
db | db | config-error | postgresql 08:15:00.10 ERROR ==> The POSTGRESQL_PASSWORD environment variable is empty or not set. Set the environment variable ALLOW_EMPTY_PASSWORD=yes to allow the container to be started with blank passwords. This is recommended only for development.
kafka | kafka | config-error | Command [/usr/local/bin/dub ensure KAFKA_ZOOKEEPER_CONNECT] FAILED !
web | web | config-error | ❌ Invalid environment variables: { DATABASE_URL: [ 'Required' ] }
lb | lb | config-error | [ALERT]    (1) : config : Error(s) found in configuration file : /usr/local/etc/haproxy/haproxy.cfg
httpd | httpd | config-error | AH00526: Syntax error on line 42 of /usr/local/apache2/conf/httpd.conf:
caddy | caddy | config-error | Error: adapting config using caddyfile: /etc/caddy/Caddyfile:7: unrecognized directive: reverse_prox
proxy | proxy | config-error | 2025-08-01T10:00:00Z ERR Command error error="command traefik error: failed to decode configuration from flags: field not found, node: entrypoint"
prometheus | prometheus | config-error | ts=2025-08-01T10:00:00.000Z caller=main.go:1131 level=error msg="Error loading config (--config.file=/etc/prometheus/prometheus.yml)" file=/etc/prometheus/prometheus.yml err="parsing YAML file /etc/prometheus/prometheus.yml: yaml: unmarshal errors:\n  line 3: field scrape_interva not found in type config.plain"
php | php | config-error | [01-Aug-2025 10:00:00] ERROR: FPM initialization failed
mongo | mongo | config-error | Error parsing command line: unrecognised option '--bind-ip'
mqtt | mqtt | config-error | 1754042400: Error: Unknown configuration variable "listner".
"""
)

ENTRYPOINTS = _rows(
    r"""
app | app | config-error | /docker-entrypoint.sh: 5: DB_HOST: parameter not set
app | app | config-error | sh: DATABASE_URL: parameter not set or null
app | app | config-error | /entrypoint.sh: line 4: API_TOKEN: parameter null or not set
app | app | config-error | /entrypoint.sh: line 9: REDIS_URL: unbound variable
app | app | config-error | ./start.sh: line 3: $1: unbound variable
app | app | config-error | /entrypoint.sh: line 2: $'\r': command not found
app | app | config-error | /entrypoint.sh: line 17: syntax error: unexpected end of file
app | app | config-error | /docker-entrypoint.sh: 21: Syntax error: end of file unexpected (expecting "fi")
app | app | config-error | /docker-entrypoint.sh: 2: set: Illegal option -
app | app | config-error | /docker-entrypoint.sh: 3: set: Illegal option -o pipefail
app | app | config-error | : invalid option nameline 2: set: pipefail
app | app | config-error | /entrypoint.sh: line 6: [: too many arguments
app | app | config-error | /entrypoint.sh: line 8: [: =: unary operator expected
app | app | config-error | /entrypoint.sh: line 8: [: : integer expression expected
app | app | config-error | /docker-entrypoint.sh: 8: [: production: unexpected operator
app | app | config-error | /docker-entrypoint.sh: 12: Bad substitution
app | app | config-error | /entrypoint.sh: line 3: export: `DB-HOST=db': not a valid identifier
"""
)

CRASH_LOOPS = _rows(
    r"""
web | web | crash-loop | 2025-08-01 10:00:03,120 INFO exited: gunicorn (exit status 1; not expected)
web | web | crash-loop | 2025-08-01 10:00:09,870 INFO gave up: gunicorn entered FATAL state, too many start retries too quickly
app | app | crash-loop | s6-rc: warning: unable to start service init-config: command exited 1
app | app | crash-loop | [cont-init.d] 30-config: exited 1.
api | api | crash-loop | PM2        | App [api:0] exited with code [1] via signal [SIGINT]
api | api | crash-loop | PM2        | Script /srv/api/index.js had too many unstable restarts (16). Stopped. "errored"
api | api | crash-loop | [nodemon] app crashed - waiting for file changes before starting...
uwsgi | uwsgi | crash-loop | DAMN ! worker 2 (pid: 37) died :( trying respawn ...
app | app | crash-loop | [custom-init] 10-setup.sh: exited 1.
app | app | crash-loop | s6-overlay-suexec: fatal: child failed with exit code 100
bot | bot | crash-loop | error: Forever detected script exited with code: 1
api | api | healthcheck-failed | fail: Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService[103] ↵       Health check npgsql with status Unhealthy completed after 5003.2ms with message 'Failed to connect to 172.18.0.3:5432'
"""
)

DEVICES = _rows(
    r"""
zigbee | zigbee | config-error | [2026-01-04 09:00:01] error: 	z2m: Error while opening serialport 'Error: Error: No such file or directory, cannot open /dev/ttyUSB0'
esphome | esphome | config-error | serial.serialutil.SerialException: [Errno 2] could not open port /dev/ttyACM0: [Errno 2] No such file or directory: '/dev/ttyACM0'
vpn | vpn | config-error | 2026-01-04T09:00:01Z ERROR creating tun device: open /dev/net/tun: no such file or directory
media | media | config-error | [h264_qsv @ 0x5581] Failed to open the drm device /dev/dri/renderD128: No such file or directory
zwave | zwave | config-error | Error: Failed to open the serial port: ENOENT: no such file or directory, open '/dev/serial/by-id/usb-stick-if00-port0'
"""
)

ROWS = OOM_KILLED + RESOURCE_MEMORY + RESOURCE_LIMITS + KERNEL_SETTINGS + COMPOSE_LINES + FRAMEWORKS
ROWS += ENTRYPOINTS + CRASH_LOOPS + DEVICES

# Health-probe outputs (docker inspect .State.Health.Log[].Output) of a failing
# check: healthcheck-failed for the service, whatever the probe printed.
PROBES = _lines(
    r"""
curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server
curl: (22) The requested URL returned error: 503
wget: server returned error: HTTP/1.1 503 Service Unavailable
Connecting to localhost:8000 (127.0.0.1:8000) ↵ wget: can't connect to remote host (127.0.0.1): Connection refused
OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown
/var/run/postgresql:5432 - no response
localhost:5432 - rejecting connections
mysqladmin: connect to server at 'localhost' failed ↵ error: 'Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)'
Could not connect to Redis at 127.0.0.1:6379: Connection refused
Health check exceeded timeout (10s)
"""
)

# Lines that look like the failures above but are not failures.
NEAR_MISSES = _pairs(
    r"""
redis | 1:M 01 Aug 2025 10:00:00.001 # WARNING overcommit_memory is set to 0! Background save may fail under low memory condition. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect.
redis | 1:M 01 Aug 2025 10:00:00.001 # WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 128.
redis | 1:M 01 Aug 2025 10:00:00.001 # WARNING you have Transparent Huge Pages (THP) support enabled in your kernel.
kafka | [2025-08-01 10:00:00,001] INFO JVM arguments: -Xmx1G -Xms1G -XX:+HeapDumpOnOutOfMemoryError -XX:+ExitOnOutOfMemoryError (kafka.Kafka)
api | Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75 -XX:OnOutOfMemoryError="kill -9 %p"
worker | [2025-08-01 10:00:00,001: INFO/MainProcess] Killed 3 idle connections to the broker
uwsgi | DAMN ! worker 3 (pid: 71) died, killed by signal 9 :( trying respawn ...
web | 2025/08/01 10:00:00 [notice] 1#1: signal 17 (SIGCHLD) received from 29 ↵ 2025/08/01 10:00:00 [notice] 1#1: worker process 29 exited with code 0
mongo | {"t":{"$date":"2025-08-01T10:00:00.000+00:00"},"s":"W","c":"CONTROL","id":8386700,"ctx":"initandlisten","msg":"vm.max_map_count is too low","attr":{"currentValue":65530,"recommendedMinimum":1677720}}
db | 2025-08-01 10:00:00.001 UTC [77] ERROR:  relation "django_migrations" does not exist at character 124
mysql | 2025-08-01T10:00:00.000000Z 0 [ERROR] [MY-013129] [Server] A message intended for a client cannot be sent there as no client-session is attached. Therefore, we're sending the information to the error-log instead: MY-001146 - Table 'mysql.component' doesn't exist
web | Operations to perform: ↵   Apply all migrations: admin, auth, contenttypes, sessions
web | No migrations to apply.
api | 2025-08-01 10:00:00.001  INFO 1 --- [main] o.f.c.i.command.DbValidate : Successfully validated 12 migrations (execution time 00:00.031s)
app | 2025-08-01 10:00:00,001 INFO success: gunicorn entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)
app | [cont-init.d] 30-config: exited 0.
worker | [2025-08-01 10:05:00,000: ERROR/MainProcess] Hard time limit (300s) exceeded for reports.build[5e0c] ↵ [2025-08-01 10:05:00,010: ERROR/MainProcess] Process 'ForkPoolWorker-2' pid:19 exited with 'signal 9 (SIGKILL)'
app | sysctl vm.overcommit_memory=1 skipped: running unprivileged
zigbee | [2026-01-04 09:00:01] info: 	z2m: Opened serial port /dev/ttyACM0, adapter firmware 7.1.1
vpn | 2026-01-04T09:00:01Z INFO /dev/net/tun exists, not creating it
"""
)


@pytest.fixture(scope="module")
def rules() -> CompiledRules:
    return compile_rules(load_rules())


def _findings(
    tmp_path: Path, rules: CompiledRules, log: str, inspect: list[dict[str, Any]] | None = None
) -> set[tuple[str, str]]:
    """(service, category) of every finding, through the real ingest and detect."""
    paths = [tmp_path / "compose.log"]
    paths[0].write_text(log, encoding="utf-8")
    if inspect is not None:
        paths.append(tmp_path / "inspect.json")
        paths[-1].write_text(json.dumps(inspect), encoding="utf-8")
    ingested = read_inputs([str(p) for p in paths])
    findings = detect_findings(ingested.logs, ingested.events, rules)
    return {(s, c) for s, c in findings.select("service", "category").iter_rows()}


def _log(printed_by: str, text: str, services: tuple[str, ...]) -> str:
    """A compose log: a start-up line of each service, then `text` (multi-line kept together)."""
    lines = [f"{s}-1  | 2025-08-01T10:00:00.000000000Z starting {s}" for s in services]
    if printed_by == "compose":
        lines.append(text)
    else:
        stamp = "2025-08-01T10:00:01.000000000Z"
        lines.extend(f"{printed_by}-1  | {stamp} {part}" for part in text.split("\n"))
    return "\n".join(lines) + "\n"


def _services(printed_by: str, expected: str) -> tuple[str, ...]:
    names = {"db", "web", "migrate", "cache"} if printed_by in ("compose", "autoheal") else set()
    names |= {n for n in (printed_by, expected) if n not in ("compose",)}
    return tuple(sorted(names))


@pytest.mark.parametrize(("printed_by", "text", "service", "category"), ROWS)
def test_variant_is_found_with_the_right_category(
    tmp_path: Path, rules: CompiledRules, printed_by: str, text: str, service: str, category: str
) -> None:
    found = _findings(tmp_path, rules, _log(printed_by, text, _services(printed_by, service)))
    assert (service, category) in found, f"{text!r}: got {sorted(found)}"
    other = {(s, c) for s, c in found if c in OWNED} - {(service, category)}
    assert not other, f"{text!r}: also {sorted(other)}"


@pytest.mark.parametrize("output", PROBES)
def test_failing_probe_is_healthcheck_failed(
    tmp_path: Path, rules: CompiledRules, output: str
) -> None:
    entries = [
        {
            "Start": f"2025-08-01T10:0{i}:00.000000000Z",
            "End": f"2025-08-01T10:0{i}:01.000000000Z",
            "ExitCode": 1,
            "Output": output,
        }
        for i in range(3)
    ]
    inspect = [
        {
            "Id": "ab" * 32,
            "Name": "/shop-api-1",
            "State": {
                "Status": "running",
                "Running": True,
                "OOMKilled": False,
                "ExitCode": 0,
                "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": entries},
            },
            "Config": {
                "Image": "shop-api",
                "Labels": {
                    "com.docker.compose.project": "shop",
                    "com.docker.compose.service": "api",
                },
            },
        }
    ]
    found = _findings(tmp_path, rules, _log("api", "listening on :8080", ("api",)), inspect)
    assert ("api", "healthcheck-failed") in found, f"{output!r}: got {sorted(found)}"
    assert not {c for _, c in found if c in OWNED} - {"healthcheck-failed"}, sorted(found)


@pytest.mark.parametrize(("printed_by", "text"), NEAR_MISSES)
def test_near_miss_is_not_a_finding(
    tmp_path: Path, rules: CompiledRules, printed_by: str, text: str
) -> None:
    found = _findings(tmp_path, rules, _log(printed_by, text, (printed_by,)))
    assert not {(s, c) for s, c in found if c in OWNED}, f"{text!r}: got {sorted(found)}"
