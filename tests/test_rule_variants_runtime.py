"""Wording variants of the runtime categories, as other libraries, versions,
libcs, shells and runtimes print them.

Each row is one failure (or one harmless near miss) written in our own words
around the real error wording: the service, the lines its container printed
(several lines for tracebacks and stacks, exactly as compose prints them), the
category it must produce and, optionally, fields the rule must extract. A
near miss (`None`) must produce no finding at all.

All rows run through the real pipeline at once (`read_inputs` ->
`detect_findings`, as `benchmarks/score_corpus.py` does), one compose service
per row, so the table stays fast however long it grows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.ingest import read_inputs

MINE = {
    "missing-binary",
    "missing-module",
    "permission-denied",
    "segfault",
    "unhandled-exception",
    "event-loop-conflict",
    "disk-full",
}


class Row(NamedTuple):
    name: str
    lines: tuple[str, ...]
    category: str | None
    fields: dict[str, str]


def row(name: str, text: str, category: str | None, **fields: str) -> Row:
    return Row(name, tuple(text.split("\n")), category, fields)


MB, MM, PD, SF, UE, ELC, DF = (
    "missing-binary",
    "missing-module",
    "permission-denied",
    "segfault",
    "unhandled-exception",
    "event-loop-conflict",
    "disk-full",
)

ROWS: list[Row] = [
    # ---------------------------------------------------------------- missing-binary
    row("mb-dash", "sh: 1: curl: not found", MB, binary="curl"),
    row("mb-busybox-ash", "/bin/sh: wget: not found", MB, binary="wget"),
    row("mb-bash", "bash: line 1: pg_isready: command not found", MB, binary="pg_isready"),
    row(
        "mb-bash-script",
        "/usr/local/bin/start.sh: line 12: gunicorn: command not found",
        MB,
        binary="gunicorn",
    ),
    row("mb-dash-exec", "./run.sh: 7: exec: celery: not found", MB, binary="celery"),
    row(
        "mb-ash-exec-line",
        "/docker-entrypoint.sh: exec: line 47: uvicorn: not found",
        MB,
        binary="uvicorn",
    ),
    row(
        "mb-ash-exec-abs",
        "/usr/local/bin/entrypoint.sh: exec: line 9: /bin/bash: not found",
        MB,
        binary="/bin/bash",
    ),
    row("mb-ash-glibc-binary", "/bin/sh: ./telemetry-agent: not found", MB),
    row("mb-dash-abs", "sh: 1: /usr/bin/wkhtmltopdf: not found", MB, binary="/usr/bin/wkhtmltopdf"),
    row(
        "mb-bash51-required-file",
        "bash: ./metrics-agent: cannot execute: required file not found",
        MB,
        binary="./metrics-agent",
    ),
    row(
        "mb-runc-relative",
        "exec ./docker-entrypoint.sh: no such file or directory",
        MB,
        binary="./docker-entrypoint.sh",
    ),
    row(
        "mb-runc-absolute",
        "exec /usr/local/bin/docker-entrypoint.sh: no such file or directory",
        MB,
        binary="/usr/local/bin/docker-entrypoint.sh",
    ),
    row(
        "mb-runc-oci-create",
        "Error response from daemon: failed to create task for container: failed to create"
        " shim task: OCI runtime create failed: runc create failed: unable to start container"
        ' process: exec: "gunicorn": executable file not found in $PATH: unknown',
        MB,
        binary="gunicorn",
    ),
    row(
        "mb-runc-old-quoting",
        "ERROR: for web  Cannot start service web: OCI runtime create failed:"
        ' container_linux.go:348: starting container process caused "exec:'
        ' \\"entrypoint.sh\\": executable file not found in $PATH": unknown',
        MB,
        binary="entrypoint.sh",
    ),
    row(
        "mb-docker-legacy-container-command",
        "ERROR: for worker  Cannot start service worker: Container command"
        " '/srv/boot.sh' not found or does not exist.",
        MB,
        binary="/srv/boot.sh",
    ),
    row(
        "mb-env-coreutils", "/usr/bin/env: 'python': No such file or directory", MB, binary="python"
    ),
    row(
        "mb-env-utf8-quotes", "env: \u2018node\u2019: No such file or directory", MB, binary="node"
    ),
    row(
        "mb-env-busybox", "env: can't execute 'bash': No such file or directory", MB, binary="bash"
    ),
    row("mb-npm-script-bin", "sh: 1: vite: not found", MB, binary="vite"),
    row("mb-npm-script-bin-busybox", "sh: next: not found", MB, binary="next"),
    row("mb-env-crlf", "/usr/bin/env: 'bash\\r': No such file or directory", MB, binary="bash"),
    # what a terminal shows of it: the text after the carriage return over the line's start
    row("mb-env-crlf-shown", "': No such file or directory", MB),
    row(
        "mb-bad-interpreter-crlf",
        "/bin/sh: /opt/tools/migrate.sh: /bin/bash^M: bad interpreter: No such file or directory",
        MB,
        binary="/bin/bash",
    ),
    row(
        "mb-bad-interpreter",
        "bash: ./seed.sh: /usr/bin/python: bad interpreter: No such file or directory",
        MB,
        binary="/usr/bin/python",
    ),
    row(
        "mb-tini",
        "[FATAL tini (7)] exec celery failed: No such file or directory",
        MB,
        binary="celery",
    ),
    row(
        "mb-s6-execline",
        "execlineb: fatal: unable to exec /usr/sbin/php-fpm83: No such file or directory",
        MB,
        binary="/usr/sbin/php-fpm83",
    ),
    row(
        "mb-supervisord",
        "2025-08-01 12:30:00,101 INFO spawnerr: can't find command '/usr/local/bin/uwsgi'",
        MB,
        binary="/usr/local/bin/uwsgi",
    ),
    row("mb-su-exec", "su-exec: gunicorn: No such file or directory", MB, binary="gunicorn"),
    row("mb-dumb-init", "[dumb-init] rq: No such file or directory", MB, binary="rq"),
    row(
        "mb-gosu",
        'error: exec: "flower": executable file not found in $PATH',
        MB,
        binary="flower",
    ),
    row(
        "mb-coreutils-timeout",
        "timeout: failed to run command 'pg_dump': No such file or directory",
        MB,
        binary="pg_dump",
    ),
    row(
        "mb-node-spawn",
        "Error: spawn ffmpeg ENOENT\n"
        "    at ChildProcess._handle.onexit (node:internal/child_process:286:19)\n"
        "    at onErrorNT (node:internal/child_process:484:16) {\n"
        "  errno: -2,\n"
        "  code: 'ENOENT',\n"
        "  syscall: 'spawn ffmpeg',\n"
        "  path: 'ffmpeg'\n"
        "}",
        MB,
        binary="ffmpeg",
    ),
    row(
        "mb-python-subprocess",
        "Traceback (most recent call last):\n"
        '  File "/app/backup.py", line 19, in run\n'
        '    subprocess.run(["pg_dump", dsn], check=True)\n'
        '  File "/usr/local/lib/python3.12/subprocess.py", line 1955, in _execute_child\n'
        "    raise child_exception_type(errno_num, err_msg, err_filename)\n"
        "FileNotFoundError: [Errno 2] No such file or directory: 'pg_dump'",
        MB,
        binary="pg_dump",
    ),
    row(
        "mb-java-processbuilder",
        'java.io.IOException: Cannot run program "git": error=2, No such file or directory',
        MB,
        binary="git",
    ),
    row(
        "mb-ruby-spawn",
        "/app/lib/render.rb:8:in 'Kernel#system': No such file or directory - wkhtmltoimage"
        " (Errno::ENOENT)",
        MB,
        binary="wkhtmltoimage",
    ),
    row(
        "mb-go-exec-json",
        '{"level":"error","ts":1722515400.1,"msg":"thumbnail failed",'
        '"error":"exec: \\"convert\\": executable file not found in $PATH"}',
        MB,
        binary="convert",
    ),
    row("mb-java-jarfile", "Error: Unable to access jarfile /opt/app/service.jar", MB),
    row(
        "mb-sudo-unable-to-execute",
        "sudo: unable to execute /usr/local/bin/report-gen: No such file or directory",
        MB,
        binary="/usr/local/bin/report-gen",
    ),
    # ---------------------------------------------------------------- missing-module
    row(
        "mm-python-traceback",
        "Traceback (most recent call last):\n"
        '  File "/app/manage.py", line 4, in <module>\n'
        "    import psycopg2\n"
        "ModuleNotFoundError: No module named 'psycopg2'",
        MM,
        module="psycopg2",
    ),
    row(
        "mm-python-cannot-import-from",
        "ImportError: cannot import name 'soft_unicode' from 'markupsafe'"
        " (/usr/local/lib/python3.11/site-packages/markupsafe/__init__.py)",
        MM,
        module="markupsafe",
        symbol="soft_unicode",
    ),
    row(
        "mm-python-cannot-import-own-module",
        "ImportError: cannot import name 'DATABASE_URL' from 'app.settings' (/srv/app/settings.py)",
        MM,
        module="app.settings",
        symbol="DATABASE_URL",
        path="/srv/app/settings.py",
    ),
    row(
        "mm-python-circular-import",
        "ImportError: cannot import name 'db' from partially initialized module 'app.models'"
        " (most likely due to a circular import) (/app/app/models.py)",
        MM,
        module="app.models",
        symbol="db",
    ),
    row(
        "mm-python-cannot-import-bare",
        "ImportError: cannot import name 'url_quote'",
        MM,
        symbol="url_quote",
    ),
    row("mm-python2", "ImportError: No module named flask_cors", MM, module="flask_cors"),
    row(
        "mm-python-relative",
        "ImportError: attempted relative import with no known parent package",
        MM,
    ),
    row(
        "mm-python-libgl",
        "ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
        MM,
        module="libGL.so.1",
    ),
    row(
        "mm-glibc-ld",
        "/usr/local/bin/exporter: error while loading shared libraries: libpq.so.5:"
        " cannot open shared object file: No such file or directory",
        MM,
        module="libpq.so.5",
    ),
    row(
        "mm-musl-loader",
        "Error loading shared library libstdc++.so.6: No such file or directory"
        " (needed by /usr/local/bin/edge-proxy)",
        MM,
        module="libstdc++.so.6",
    ),
    row(
        "mm-musl-node-addon",
        "Error: Error loading shared library ld-linux-x86-64.so.2: No such file or directory"
        " (needed by /srv/node_modules/sharp/build/Release/sharp-linuxmusl-x64.node)",
        MM,
        module="ld-linux-x86-64.so.2",
    ),
    row(
        "mm-musl-relocating",
        "Error relocating /usr/local/bin/collector: __res_search: symbol not found",
        MM,
    ),
    row(
        "mm-glibc-version",
        "./server: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found"
        " (required by ./server)",
        MM,
        module="GLIBC_2.34",
    ),
    row(
        "mm-glibc-version-quotes",
        "/app/bin/api: /lib/aarch64-linux-gnu/libc.so.6: version 'GLIBC_2.38' not found"
        " (required by /app/bin/api)",
        MM,
        module="GLIBC_2.38",
    ),
    row(
        "mm-node-cjs",
        "node:internal/modules/cjs/loader:1228\n"
        "  throw err;\n"
        "  ^\n"
        "\n"
        "Error: Cannot find module 'express'\n"
        "Require stack:\n"
        "- /srv/app/server.js\n"
        "    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)",
        MM,
        module="express",
    ),
    row(
        "mm-node-esm-package",
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'dotenv' imported from"
        " /srv/app/src/config.js",
        MM,
        module="dotenv",
    ),
    row(
        "mm-node-esm-file",
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/srv/app/dist/db.js' imported from"
        " /srv/app/dist/main.js",
        MM,
        module="/srv/app/dist/db.js",
    ),
    row(
        "mm-webpack",
        "Module not found: Error: Can't resolve 'axios' in '/srv/web/src/api'",
        MM,
        module="axios",
    ),
    row(
        "mm-nextjs",
        "Module not found: Can't resolve '@/components/NavBar'",
        MM,
        module="@/components/NavBar",
    ),
    row(
        "mm-vite",
        '[vite] Internal server error: Failed to resolve import "lodash-es" from'
        ' "src/main.ts". Does the file exist?',
        MM,
        module="lodash-es",
    ),
    row(
        "mm-node-abi",
        "Error: The module '/srv/node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node'\n"
        "was compiled against a different Node.js version using\n"
        "NODE_MODULE_VERSION 108. This version of Node.js requires\n"
        "NODE_MODULE_VERSION 127. Please try re-compiling or re-installing",
        MM,
    ),
    row(
        "mm-bun", 'error: Cannot find module "hono" from "/srv/app/src/index.ts"', MM, module="hono"
    ),
    row("mm-deno", 'error: Module not found "file:///srv/app/utils.ts".', MM),
    row(
        "mm-ruby-loaderror",
        "/usr/local/lib/ruby/3.3.0/bundled_gems.rb:75:in 'Kernel.require': cannot load such"
        " file -- pg (LoadError)",
        MM,
        module="pg",
    ),
    row(
        "mm-bundler-gemnotfound",
        "/usr/local/bundle/gems/bundler-2.5.6/lib/bundler/definition.rb:540:in 'materialize':"
        " Could not find sidekiq-7.2.1 in locally installed gems (Bundler::GemNotFound)",
        MM,
        module="sidekiq-7.2.1",
    ),
    row(
        "mm-bundler-several-gems",
        "Could not find racc-1.8.0, puma-6.4.2 in any of the sources (Bundler::GemNotFound)",
        MM,
        module="racc-1.8.0",
    ),
    row(
        "mm-gem-bundler-version",
        "/usr/local/lib/ruby/3.1.0/rubygems.rb:265:in `find_spec_for_exe': Could not find"
        " 'bundler' (2.4.22) required by your /srv/Gemfile.lock. (Gem::GemNotFoundException)",
        MM,
        module="bundler",
    ),
    row(
        "mm-php8-class",
        'PHP Fatal error:  Uncaught Error: Class "Predis\\Client" not found in'
        " /var/www/html/src/Cache.php:14",
        MM,
        module="Predis\\Client",
    ),
    row(
        "mm-php7-class",
        "PHP Fatal error:  Uncaught Error: Class 'Redis' not found in /var/www/html/boot.php:3",
        MM,
        module="Redis",
    ),
    row(
        "mm-php-require",
        "PHP Fatal error:  require(): Failed opening required"
        " '/var/www/html/vendor/autoload.php' (include_path='.:/usr/local/lib/php') in"
        " /var/www/html/public/index.php on line 5",
        MM,
        module="/var/www/html/vendor/autoload.php",
    ),
    row(
        "mm-php-startup-extension",
        "PHP Warning:  PHP Startup: Unable to load dynamic library 'imagick.so'"
        " (tried: /usr/local/lib/php/extensions/no-debug-non-zts-20230831/imagick.so"
        " (Error loading shared library libMagickWand-7.Q16HDRI.so.10: No such file or"
        " directory), /usr/local/lib/php/extensions/no-debug-non-zts-20230831/imagick.so.so"
        " (Error loading shared library))",
        MM,
        module="imagick",  # (the extension's name: what `docker-php-ext-install` takes)
    ),
    row(
        "mm-php-pdo-driver",
        "[2025-08-01 12:30:00] production.ERROR: could not find driver (Connection: pgsql,"
        ' SQL: select * from "users" limit 1)',
        MM,
    ),
    row(
        "mm-php-undefined-extension-function",
        "PHP Fatal error:  Uncaught Error: Call to undefined function mysqli_connect() in"
        " /var/www/html/db.php:7",
        MM,
        module="mysqli",
    ),
    row(
        "mm-java-cnfe",
        "Caused by: java.lang.ClassNotFoundException: org.postgresql.Driver",
        MM,
        module="org.postgresql.Driver",
    ),
    row(
        "mm-java-ncdfe",
        'Exception in thread "main" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory\n'
        "\tat com.example.Main.<clinit>(Main.java:9)",
        MM,
        module="org/slf4j/LoggerFactory",
    ),
    row(
        "mm-java-main-class",
        "Error: Could not find or load main class com.example.billing.App",
        MM,
        module="com.example.billing.App",
    ),
    row(
        "mm-java-jdbc-driver",
        "java.sql.SQLException: No suitable driver found for jdbc:mariadb://db:3306/shop",
        MM,
    ),
    row(
        "mm-java-unsatisfied-link",
        "java.lang.UnsatisfiedLinkError: no sqlite-native in java.library.path:"
        " /usr/java/packages/lib:/usr/lib64",
        MM,
        module="sqlite-native",
    ),
    row(
        "mm-go-no-required-module",
        "main.go:7:2: no required module provides package github.com/jackc/pgx/v5; to add it:",
        MM,
        module="github.com/jackc/pgx/v5",
    ),
    row(
        "mm-go-gopath",
        'cmd/server/main.go:6:2: cannot find package "github.com/gorilla/mux" in any of:',
        MM,
        module="github.com/gorilla/mux",
    ),
    row(
        "mm-go-not-in-std",
        "internal/api/routes.go:4:2: package example.com/shop/internal/auth is not in std"
        " (/usr/local/go/src/example.com/shop/internal/auth)",
        MM,
        module="example.com/shop/internal/auth",
    ),
    row(
        "mm-dotnet-assembly",
        "Unhandled exception. System.IO.FileNotFoundException: Could not load file or assembly"
        " 'Npgsql, Version=8.0.3.0, Culture=neutral, PublicKeyToken=5d8b90d52f46fda7'. The"
        " system cannot find the file specified.\n"
        "   at Billing.Program.Main(String[] args)",
        MM,
        module="Npgsql",
    ),
    row(
        "mm-dotnet-framework",
        "You must install or update .NET to run this application.\n"
        "\n"
        "App: /app/Billing.Api.dll\n"
        "Architecture: x64\n"
        "Framework: 'Microsoft.AspNetCore.App', version '8.0.0' (x64)\n"
        ".NET location: /usr/share/dotnet/",
        MM,
    ),
    row(
        "mm-dotnet-framework-not-found",
        "The framework 'Microsoft.NETCore.App', version '9.0.0' (x64) was not found.",
        MM,
        module="Microsoft.NETCore.App",
    ),
    row(
        "mm-dotnet-dll",
        "Unhandled exception. System.DllNotFoundException: Unable to load shared library"
        " 'libgdiplus' or one of its dependencies.",
        MM,
        module="libgdiplus",
    ),
    row(
        "mm-prisma-engine",
        'PrismaClientInitializationError: Query engine library for current platform "linux-musl"'
        " could not be found.",
        MM,
        module="linux-musl",
    ),
    row(
        "mm-prisma-runtime",
        "PrismaClientInitializationError: Prisma Client could not locate the Query Engine for"
        ' runtime "linux-musl-arm64-openssl-3.0.x".',
        MM,
        module="linux-musl-arm64-openssl-3.0.x",
    ),
    row("mm-weasyprint", 'OSError: no library called "cairo-2" was found', MM, module="cairo-2"),
    row(
        "mm-celery-app",
        "Error: Invalid value for '-A' / '--app': \n"
        "Unable to load celery application.\n"
        "The module tasks was not found.",
        MM,
        module="tasks",
    ),
    row("mm-flask-import", "Error: Could not import 'webapp'.", MM, module="webapp"),
    row(
        "mm-django-driver",
        "django.core.exceptions.ImproperlyConfigured: Error loading MySQLdb module.",
        MM,
        module="MySQLdb",
    ),
    row(
        "mm-json-logged",
        '{"level":"error","time":"2025-08-01T12:30:00Z","msg":"worker crashed",'
        '"error":"Cannot find module \'ioredis\'"}',
        MM,
        module="ioredis",
    ),
    # ---------------------------------------------------------------- permission-denied
    row(
        "pd-python",
        "PermissionError: [Errno 13] Permission denied: '/data/uploads/avatar.png'",
        PD,
        path="/data/uploads/avatar.png",
    ),
    row(
        "pd-node-eacces",
        "Error: EACCES: permission denied, open '/srv/app/logs/app.log'",
        PD,
        path="/srv/app/logs/app.log",
    ),
    row(
        "pd-npm-eacces",
        "npm ERR! Error: EACCES: permission denied, mkdir '/srv/app/node_modules/.cache'",
        PD,
    ),
    row(
        "pd-go-open",
        'time="2025-08-01T12:30:00Z" level=fatal msg="open /var/lib/ledger/state.db:'
        ' permission denied"',
        PD,
        path="/var/lib/ledger/state.db",
    ),
    row(
        "pd-busybox-mkdir",
        "mkdir: can't create directory '/var/lib/grafana/plugins': Permission denied",
        PD,
        path="/var/lib/grafana/plugins",
    ),
    row(
        "pd-coreutils-mkdir-utf8",
        "mkdir: cannot create directory \u2018/srv/cache/thumbs\u2019: Permission denied",
        PD,
        path="/srv/cache/thumbs",
    ),
    row(
        "pd-grafana-not-writable",
        "GF_PATHS_DATA='/var/lib/grafana' is not writable.",
        PD,
        path="/var/lib/grafana",
    ),
    row(
        "pd-chown-volume",
        "chown: changing ownership of '/var/lib/mysql/': Operation not permitted",
        PD,
        path="/var/lib/mysql/",
    ),
    row("pd-busybox-chmod", "chmod: /var/lib/postgresql/data: Operation not permitted", PD),
    row(
        "pd-initdb",
        'initdb: error: could not change permissions of directory "/var/lib/postgresql/data":'
        " Operation not permitted",
        PD,
        path="/var/lib/postgresql/data",
    ),
    row(
        "pd-postgres-ownership",
        '2025-08-01 12:30:00.000 UTC [1] FATAL:  data directory "/var/lib/postgresql/data"'
        " has wrong ownership",
        PD,
        path="/var/lib/postgresql/data",
    ),
    row(
        "pd-mysql-errno13",
        "mysqld: Can't create/write to file '/var/lib/mysql/is_writable' (OS errno 13 -"
        " Permission denied)",
        PD,
    ),
    row(
        "pd-nginx",
        'nginx: [emerg] open() "/var/run/nginx.pid" failed (13: Permission denied)',
        PD,
        path="/var/run/nginx.pid",
    ),
    row("pd-runc-noexec", "exec /entrypoint.sh: permission denied", PD, path="/entrypoint.sh"),
    row("pd-dash-noexec", "/bin/sh: 1: ./start.sh: Permission denied", PD),
    row(
        "pd-es-nested",
        "ElasticsearchException[failed to bind service]; nested:"
        " AccessDeniedException[/usr/share/elasticsearch/data/nodes];",
        PD,
        path="/usr/share/elasticsearch/data/nodes",
    ),
    row(
        "pd-es-node-locks",
        "java.lang.IllegalStateException: failed to obtain node locks, tried"
        " [/usr/share/elasticsearch/data]; maybe these locations are not writable or multiple"
        " nodes were started on the same data path?",
        PD,
        path="/usr/share/elasticsearch/data",
    ),
    row(
        "pd-redis-aof",
        "1:M 01 Aug 2025 12:30:00.000 # Can't open the append-only file appendonly.aof:"
        " Permission denied",
        PD,
    ),
    row(
        "pd-docker-socket",
        "Cannot connect to the Docker daemon: permission denied while trying to connect to the"
        " Docker daemon socket at unix:///var/run/docker.sock",
        PD,
    ),
    row(
        "pd-laravel-log",
        'The stream or file "/var/www/html/storage/logs/laravel.log" could not be opened in'
        " append mode: Failed to open stream: Permission denied",
        PD,
    ),
    row(
        "pd-python-readonly",
        "OSError: [Errno 30] Read-only file system: '/srv/app/cache/index.json'",
        PD,
        path="/srv/app/cache/index.json",
    ),
    row(
        "pd-sed-readonly",
        "sed: couldn't open temporary file /etc/nginx/conf.d/sedX1b2c3: Read-only file system",
        PD,
    ),
    row(
        "pd-go-readonly",
        'level=error msg="cannot start" err="mkdir /data/raft: read-only file system"',
        PD,
        path="/data/raft",
    ),
    row(
        "pd-node-eperm",
        "Error: EPERM: operation not permitted, rename '/srv/app/.next/cache/a' ->"
        " '/srv/app/.next/cache/b'",
        PD,
    ),
    row("pd-node-listen", "Error: listen EACCES: permission denied 0.0.0.0:80", PD, port="80"),
    row(
        "pd-java-fnfe",
        "java.io.FileNotFoundException: /logs/audit.log (Permission denied)",
        PD,
        path="/logs/audit.log",
    ),
    row(
        "pd-rust-os-error",
        'Error: Os { code: 13, kind: PermissionDenied, message: "Permission denied" }',
        PD,
    ),
    row("pd-ls-selinux", "ls: cannot open directory '/data': Permission denied", PD),
    row(
        "pd-busybox-redirect",
        "/docker-entrypoint.sh: line 18: can't create /etc/nginx/conf.d/default.conf:"
        " Permission denied",
        PD,
    ),
    row(
        "pd-python-traceback",
        "Traceback (most recent call last):\n"
        '  File "/app/export.py", line 31, in write_report\n'
        '    with open(path, "w") as fh:\n'
        "PermissionError: [Errno 13] Permission denied: '/reports/daily.csv'",
        PD,
        path="/reports/daily.csv",
    ),
    row(
        "pd-go-panic",
        "panic: open /etc/ledger/config.yaml: permission denied\n"
        "\n"
        "goroutine 1 [running]:\n"
        "main.main()\n"
        "\t/src/cmd/ledger/main.go:22 +0x1d4",
        PD,
    ),
    # ---------------------------------------------------------------- segfault
    row("sf-plain", "Segmentation fault (core dumped)", SF),
    row(
        "sf-bash-job",
        "./entrypoint.sh: line 9:    27 Segmentation fault      (core dumped) python worker.py",
        SF,
    ),
    row(
        "sf-python-faulthandler",
        "Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f3a2b1c4740 (most"
        " recent call first):",
        SF,
    ),
    row("sf-illegal-instruction", "Illegal instruction (core dumped)", SF),
    row(
        "sf-bash-job-illegal",
        "/app/run.sh: line 4:     8 Illegal instruction     (core dumped) python -m server",
        SF,
    ),
    row("sf-compose-132", "scanner-1 exited with code 132", SF),
    row(
        "sf-go-cgo",
        "fatal error: unexpected signal during runtime execution\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x7f2c1a4b3c10]",
        SF,
    ),
    row(
        "sf-go-old-signal",
        "fatal error: unexpected signal during runtime execution\n"
        "[signal 0xb code=0x1 addr=0x0 pc=0x4a1b2c]",
        SF,
    ),
    row(
        "sf-go-exec-lowercase",
        'level=error msg="transcoder exited" err="signal: segmentation fault (core dumped)"',
        SF,
    ),
    row("sf-go-exec-sigill", "worker stopped: signal: illegal instruction (core dumped)", SF),
    row(
        "sf-php-fpm",
        "[01-Aug-2025 12:30:00] WARNING: [pool www] child 41 exited on signal 11 (SIGSEGV -"
        " core dumped) after 3.2 seconds from start",
        SF,
    ),
    row(
        "sf-apache",
        "[Fri Aug 01 12:30:00.000000 2025] [core:notice] [pid 1:tid 1] AH00052: child pid 88"
        " exit signal Segmentation fault (11)",
        SF,
    ),
    row(
        "sf-postgres",
        "2025-08-01 12:30:00.000 UTC [1] LOG:  server process (PID 212) was terminated by"
        " signal 11: Segmentation fault",
        SF,
    ),
    row("sf-jvm", "# SIGSEGV (0xb) at pc=0x00007f2b4c3d2e10, pid=1, tid=37", SF),
    row("sf-jvm-sigill", "#  SIGILL (0x4) at pc=0x00007f9d1c2b3a40, pid=7, tid=8", SF),
    row(
        "sf-gunicorn",
        "[2025-08-01 12:30:00 +0000] [1] [ERROR] Worker (pid:14) was sent SIGSEGV!",
        SF,
    ),
    row(
        "sf-celery",
        "[2025-08-01 12:30:00,000: ERROR/MainProcess] Process 'ForkPoolWorker-3' pid:41"
        " exited with 'signal 11 (SIGSEGV)'",
        SF,
    ),
    row("sf-npm-errno", "npm ERR! code ELIFECYCLE\nnpm ERR! errno 139", SF),
    row("sf-yarn", 'error Command failed with signal "SIGSEGV".', SF),
    row("sf-ruby", "[BUG] Segmentation fault at 0x0000000000000018", SF),
    row(
        "sf-kernel",
        "python3[4121]: segfault at 0 ip 00007f4c2e1b2c3d sp 00007ffd1e2f3a40 error 4 in"
        " libc.so.6[7f4c2e000000+195000]",
        SF,
    ),
    row(
        "sf-qemu",
        "qemu: uncaught target signal 11 (Segmentation fault) - core dumped",
        SF,
    ),
    row(
        "sf-torch",
        "RuntimeError: DataLoader worker (pid 93) is killed by signal: Segmentation fault.",
        SF,
    ),
    row("sf-glibc-double-free", "free(): double free detected in tcache 2", SF),
    row("sf-glibc-corruption", "double free or corruption (!prev)", SF),
    row("sf-stack-smashing", "*** stack smashing detected ***: terminated", SF),
    # ---------------------------------------------------------------- unhandled-exception
    row(
        "ue-python",
        "Traceback (most recent call last):\n"
        '  File "/app/jobs/invoice.py", line 52, in total\n'
        "    return sum(l.amount for l in lines) / count\n"
        "ZeroDivisionError: division by zero",
        UE,
        file="/app/jobs/invoice.py",
        line="52",
    ),
    row(
        "ue-python-chained",
        "Traceback (most recent call last):\n"
        '  File "/app/cfg.py", line 10, in load\n'
        '    return data["tz"]\n'
        "KeyError: 'tz'\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 3, in <module>\n'
        "    cfg = load()\n"
        "ValueError: timezone missing from settings",
        UE,
    ),
    row(
        "ue-python-thread",
        "Exception in thread Thread-2 (consume):\n"
        "Traceback (most recent call last):\n"
        '  File "/app/consumer.py", line 77, in consume\n'
        "    handle(msg)\n"
        "TypeError: 'NoneType' object is not subscriptable",
        UE,
    ),
    row(
        "ue-python-exception-group",
        "  + Exception Group Traceback (most recent call last):\n"
        '  |   File "/usr/local/lib/python3.12/site-packages/anyio/_backends/_asyncio.py",'
        " line 763, in __aexit__\n"
        "  |     raise BaseExceptionGroup(\n"
        "  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)",
        UE,
    ),
    row(
        "ue-asyncio-never-retrieved",
        "Task exception was never retrieved\n"
        "future: <Task finished name='Task-3' coro=<poll() done, defined at"
        " /app/poller.py:10> exception=KeyError('id')>",
        UE,
    ),
    row(
        "ue-node-typeerror",
        "/srv/app/routes/orders.js:41\n"
        "    const id = req.user.id;\n"
        "                        ^\n"
        "\n"
        "TypeError: Cannot read properties of undefined (reading 'id')\n"
        "    at /srv/app/routes/orders.js:41:25\n"
        "    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/"
        "layer.js:95:5)",
        UE,
        file="/srv/app/routes/orders.js",
        line="41",
    ),
    row(
        "ue-node-unhandled-rejection",
        "node:internal/process/promises:391\n"
        "    triggerUncaughtException(err, true /* fromPromise */);\n"
        "    ^\n"
        "\n"
        "[UnhandledPromiseRejection: This error originated either by throwing inside of an"
        " async function without a catch block, or by rejecting a promise which was not"
        ' handled with .catch(). The promise rejected with the reason "timeout".] {\n'
        "  code: 'ERR_UNHANDLED_REJECTION'\n"
        "}",
        UE,
    ),
    row(
        "ue-node-legacy-warning",
        "(node:42) UnhandledPromiseRejectionWarning: Error: queue closed\n"
        "    at Queue.push (/srv/worker/queue.js:18:11)",
        UE,
    ),
    row(
        "ue-node-pino",
        '{"level":60,"time":1722515400000,"pid":1,"hostname":"c0ffee","msg":'
        '"uncaughtException","err":{"type":"Error","message":"boom","stack":"Error: boom\\n'
        '    at /srv/app/index.js:3:9"}}',
        UE,
    ),
    row(
        "ue-node-winston",
        '{"level":"error","message":"uncaughtException: Cannot read properties of null'
        ' (reading \'length\')","timestamp":"2025-08-01T12:30:00.000Z"}',
        UE,
    ),
    row(
        "ue-java-main",
        'Exception in thread "main" java.lang.IllegalStateException: ledger not initialised\n'
        "\tat com.example.Ledger.post(Ledger.java:42)",
        UE,
    ),
    row(
        "ue-spring-run-failed",
        "2025-08-01T12:30:00.000Z ERROR 1 --- [           main]"
        " o.s.boot.SpringApplication               : Application run failed",
        UE,
    ),
    row(
        "ue-go-panic",
        "panic: runtime error: index out of range [3] with length 3\n"
        "\n"
        "goroutine 12 [running]:\n"
        "main.pick(...)\n"
        "\t/src/cmd/picker/main.go:31 +0x1d",
        UE,
    ),
    row(
        "ue-go-deadlock",
        "fatal error: all goroutines are asleep - deadlock!\n"
        "\n"
        "goroutine 1 [chan receive]:\n"
        "main.main()\n"
        "\t/src/main.go:12 +0x2a",
        UE,
    ),
    row(
        "ue-go-concurrent-map",
        "fatal error: concurrent map writes\n\ngoroutine 33 [running]:",
        UE,
    ),
    row(
        "ue-rust",
        "thread 'main' panicked at src/main.rs:14:22:\n"
        "called `Option::unwrap()` on a `None` value\n"
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        UE,
    ),
    row(
        "ue-dotnet",
        "Unhandled exception. System.InvalidOperationException: Sequence contains no elements\n"
        "   at System.Linq.ThrowHelper.ThrowNoElementsException()\n"
        "   at Program.<Main>$(String[] args) in /src/Program.cs:line 9",
        UE,
    ),
    row(
        "ue-dotnet-legacy",
        "Unhandled Exception: System.NullReferenceException: Object reference not set to an"
        " instance of an object.",
        UE,
    ),
    row(
        "ue-aspnet-request",
        "      An unhandled exception has occurred while executing the request.",
        UE,
    ),
    row("ue-aspnet-startup", "      Application startup exception", UE),
    row(
        "ue-ruby",
        "/srv/worker.rb:12:in 'Worker#process': undefined method 'fetch' for nil (NoMethodError)\n"
        "\tfrom /srv/worker.rb:30:in '<main>'",
        UE,
    ),
    row(
        "ue-ruby-backtick",
        "/srv/app/jobs/sync.rb:8:in `run': upstream returned 502 (RuntimeError)\n"
        "\tfrom /srv/app/jobs/sync.rb:20:in `<main>'",
        UE,
    ),
    row(
        "ue-puma",
        "! Unable to load application: NameError: uninitialized constant Billing::Invoice",
        UE,
    ),
    row(
        "ue-php",
        "PHP Fatal error:  Uncaught Exception: gateway not configured in"
        " /var/www/html/src/Pay.php:22",
        UE,
    ),
    row(
        "ue-php-typeerror",
        "NOTICE: PHP message: PHP Fatal error:  Uncaught TypeError: total(): Argument #1 must"
        " be of type array, null given in /var/www/html/cart.php:9",
        UE,
    ),
    row("ue-elixir", "** (RuntimeError) cache warmup failed", UE),
    row(
        "ue-cpp-terminate",
        "terminate called after throwing an instance of 'std::runtime_error'\n"
        "  what():  config file missing",
        UE,
    ),
    row(
        "ue-deno",
        "error: Uncaught (in promise) TypeError: Cannot read properties of undefined",
        UE,
    ),
    # boundaries: the specific category wins over unhandled-exception
    row(
        "ue-boundary-module",
        'Exception in thread "main" java.lang.NoClassDefFoundError: com/zaxxer/hikari/HikariConfig',
        MM,
    ),
    row(
        "ue-boundary-disk",
        "Traceback (most recent call last):\n"
        '  File "/app/cache.py", line 20, in put\n'
        "    fh.write(blob)\n"
        "OSError: [Errno 28] No space left on device",
        DF,
    ),
    row(
        "ue-boundary-loop",
        "Traceback (most recent call last):\n"
        '  File "/app/notify.py", line 9, in send\n'
        "    loop.run_until_complete(push())\n"
        "RuntimeError: Event loop is closed",
        ELC,
    ),
    # ---------------------------------------------------------------- event-loop-conflict
    row(
        "elc-asyncio-run",
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
        ELC,
    ),
    row("elc-already-running", "RuntimeError: This event loop is already running", ELC),
    row("elc-uvloop-already-running", "RuntimeError: this event loop is already running.", ELC),
    row("elc-close-running", "RuntimeError: Cannot close a running event loop", ELC),
    row("elc-closed", "RuntimeError: Event loop is closed", ELC),
    row(
        "elc-task-destroyed",
        "Task was destroyed but it is pending!\n"
        "task: <Task pending name='Task-7' coro=<heartbeat() running at /app/hb.py:12>>",
        ELC,
    ),
    row(
        "elc-never-awaited",
        "/app/mailer.py:33: RuntimeWarning: coroutine 'send_email' was never awaited",
        ELC,
        coroutine="send_email",
    ),
    row(
        "elc-different-loop",
        "RuntimeError: Task <Task pending name='Task-12' coro=<fetch() running at"
        " /app/db.py:41>> got Future <Future pending> attached to a different loop",
        ELC,
    ),
    row(
        "elc-no-current-loop-thread",
        "RuntimeError: There is no current event loop in thread 'ThreadPoolExecutor-0_0'.",
        ELC,
    ),
    row("elc-no-running-loop", "RuntimeError: no running event loop", ELC),
    row(
        "elc-aiohttp-timeout",
        "RuntimeError: Timeout context manager should be used inside a task",
        ELC,
    ),
    row(
        "elc-bound-loop",
        "RuntimeError: <asyncio.locks.Event object at 0x7f1a2b3c4d50 [unset]> is bound to a"
        " different event loop",
        ELC,
    ),
    row("elc-reuse-coroutine", "RuntimeError: cannot reuse already awaited coroutine", ELC),
    row(
        "elc-non-thread-safe",
        "RuntimeError: Non-thread-safe operation invoked on an event loop other than the"
        " current one",
        ELC,
    ),
    row("elc-stopped-before", "RuntimeError: Event loop stopped before Future completed.", ELC),
    row(
        "elc-nest-asyncio-uvloop",
        "ValueError: Can't patch loop of type <class 'uvloop.Loop'>",
        ELC,
    ),
    row(
        "elc-asgiref",
        "RuntimeError: You cannot use AsyncToSync in the same thread as an async event loop -"
        " just await the async function directly.",
        ELC,
    ),
    row(
        "elc-django-sync-only",
        "django.core.exceptions.SynchronousOnlyOperation: You cannot call this from an async"
        " context - use a thread or sync_to_async.",
        ELC,
    ),
    row(
        "elc-sqlalchemy-greenlet",
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call"
        " await_only() here. Was IO attempted in an unexpected place?",
        ELC,
    ),
    row(
        "elc-enter-task",
        "RuntimeError: Cannot enter into task <Task pending name='Task-4' coro=<main()>> while"
        " another task <Task pending name='Task-1' coro=<serve()>> is being executed.",
        ELC,
    ),
    row(
        "elc-another-loop",
        "RuntimeError: Cannot run the event loop while another loop is running",
        ELC,
    ),
    # ---------------------------------------------------------------- disk-full
    row("df-python", "OSError: [Errno 28] No space left on device", DF),
    row(
        "df-redis-save",
        "2191:C 09 Mar 2026 11:00:07.034 # Failed opening the temp RDB file temp-2191.rdb"
        " (in server root dir /data) for saving: No space left on device",
        DF,
        path="/data",
    ),
    row("df-node", "Error: ENOSPC: no space left on device, write", DF),
    row("df-npm-code", "npm ERR! code ENOSPC\nnpm ERR! syscall write", DF),
    row(
        "df-postgres-wal",
        "2025-08-01 12:30:00.000 UTC [88] PANIC:  could not write to file"
        ' "pg_wal/xlogtemp.88": No space left on device',
        DF,
    ),
    row(
        "df-postgres-extend",
        '2025-08-01 12:30:00.000 UTC [90] ERROR:  could not extend file "base/16384/24601":'
        " wrote only 4096 of 8192 bytes at block 3310\n"
        "2025-08-01 12:30:00.000 UTC [90] HINT:  Check free disk space.",
        DF,
    ),
    row(
        "df-postgres-lockfile",
        'FATAL:  could not write lock file "postmaster.pid": No space left on device',
        DF,
    ),
    row(
        "df-mysql-binlog",
        "2025-08-01T12:30:00.000000Z 12 [ERROR] [MY-000035] [Server] Disk is full writing"
        " './binlog.000042' (OS errno 28 - No space left on device). Waiting for someone to"
        " free space... Retry in 60 secs.",
        DF,
    ),
    row(
        "df-mysql-tmp",
        "SQLSTATE[HY000]: General error: 1021 Disk full (/tmp/#sql_1_0.MAI); waiting for"
        ' someone to free some space... (errno: 28 "No space left on device")',
        DF,
    ),
    row("df-mysql-table-full", "ERROR 1114 (HY000): The table 'order_items' is full", DF),
    row(
        "df-innodb-errno-text",
        "2025-08-01T12:30:00.000000Z 0 [ERROR] [MY-012639] [InnoDB] Write to file ./ibtmp1"
        " failed at offset 83886080, 1048576 bytes should have been written, only 0 were"
        " written. Operating system error number 28.",
        DF,
    ),
    row(
        "df-mysql-partition",
        "/etc/init.d/mysql: ERROR: The partition with /var/lib/mysql is too full!",
        DF,
    ),
    row(
        "df-mongo-journal",
        "2025-08-01T12:30:00.000+0000 E JOURNAL  [initandlisten] Insufficient free space for"
        " journal files",
        DF,
    ),
    row(
        "df-wiredtiger",
        '{"t":{"$date":"2025-08-01T12:30:00.000+00:00"},"s":"E","c":"WT","msg":"WiredTiger'
        ' error message","attr":{"error":28,"message":"__posix_file_write, 611:'
        " /data/db/journal/WiredTigerLog.0000000003: handle-write: pwrite: failed to write 128"
        ' bytes at offset 1408: No space left on device"}}',
        DF,
    ),
    row(
        "df-es-block",
        "index [logs-2025.08.01] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded"
        " flood-stage watermark, index has read-only-allow-delete block];",
        DF,
    ),
    row(
        "df-es-block-legacy",
        "ClusterBlockException[blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];]",
        DF,
    ),
    row(
        "df-docker-layer",
        "failed to register layer: Error processing tar file(exit status 1): write"
        " /usr/lib/x86_64-linux-gnu/libLLVM.so.17: no space left on device",
        DF,
    ),
    row(
        "df-postgres-shm",
        "2025-08-01 12:30:00.000 UTC [77] ERROR:  could not resize shared memory segment"
        ' "/PostgreSQL.1894422017" to 33554432 bytes: No space left on device',
        DF,
        path="/PostgreSQL.1894422017",
    ),
    row(
        "df-ruby-pg-shm",
        'PG::DiskFull: ERROR:  could not resize shared memory segment "/PostgreSQL.40021" to'
        " 4194304 bytes: No space left on device",
        DF,
    ),
    row("df-sqlite", "sqlite3.OperationalError: database or disk is full", DF),
    row(
        "df-redis-rdb",
        "1:M 01 Aug 2025 12:30:00.000 # Write error saving DB on disk: No space left on device",
        DF,
    ),
    row("df-rust", "Error: failed to persist segment: No space left on device (os error 28)", DF),
    row(
        "df-apt",
        "E: You don't have enough free space in /var/cache/apt/archives/.",
        DF,
    ),
    row("df-dotnet-windows", "System.IO.IOException: There is not enough space on the disk.", DF),
    row(
        "df-clickhouse",
        "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)",
        DF,
    ),
    row("df-quota", "cp: error writing '/home/app/export.tar': Disk quota exceeded", DF),
    # ---------------------------------------------------------------- near misses (clean)
    row(
        "clean-debug-module",
        "2025-08-01 12:30:00,000 DEBUG [app.plugins] optional plugin skipped: No module named"
        " 'ujson'",
        None,
    ),
    row(
        "clean-warn-optional-module",
        "2025-08-01 12:30:00,000 WARNING [app.json] orjson unavailable (No module named"
        " 'orjson'), falling back to the standard json module",
        None,
    ),
    row(
        "clean-warn-handled-traceback",
        "2025-08-01 12:30:00,000 WARNING [app.sync] transient error talking to upstream,"
        " retrying\n"
        "Traceback (most recent call last):\n"
        '  File "/app/sync.py", line 40, in pull\n'
        "    resp = client.get(url)\n"
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        None,
    ),
    row(
        "clean-info-handled-exception",
        '{"level":"info","msg":"retrying job after ValueError: stale cursor","attempt":2}',
        None,
    ),
    row(
        "clean-exception-ignored-at-exit",
        "Exception ignored in: <function BaseSubprocessTransport.__del__ at 0x7f3b2c1d0e50>\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/lib/python3.12/asyncio/base_subprocess.py", line 126, in __del__\n'
        "    self.close()\n"
        "RuntimeError: Event loop is closed",
        None,
    ),
    # (sysctl on a read-only /proc/sys is config-error: limits.sysctl-refused)
    row("clean-zero-errors", "Found 0 errors. Watching for file changes.", None),
    row(
        "clean-nginx-readonly-hint",
        "10-listen-on-ipv6-by-default.sh: info: can not modify"
        " /etc/nginx/conf.d/default.conf (read-only file system?)",
        None,
    ),
    row(
        "clean-nginx-no-files",
        "/docker-entrypoint.sh: No files found in /docker-entrypoint.d/, skipping configuration",
        None,
    ),
    row(
        "clean-entrypoint-optional-tool",
        "entrypoint: jemalloc not found, continuing without it",
        None,
    ),
    row(
        "clean-locale-warning",
        "bash: warning: setlocale: LC_ALL: cannot change locale (en_US.UTF-8)",
        None,
    ),
    row(
        "clean-npm-optional",
        "npm WARN optional SKIPPING OPTIONAL DEPENDENCY: fsevents@2.3.3"
        ' (node_modules/fsevents): wanted {"os":"darwin","arch":"any"}',
        None,
    ),
    row(
        "clean-postgres-fixing-permissions",
        "fixing permissions on existing directory /var/lib/postgresql/data ... ok",
        None,
    ),
    row(
        "clean-mongo-access-control",
        '{"t":{"$date":"2025-08-01T12:30:00.000+00:00"},"s":"W","c":"CONTROL","msg":"Access'
        " control is not enabled for the database. Read and write access to data and"
        ' configuration is unrestricted"}',
        None,
    ),
    row(
        "clean-segv-handler",
        "2025-08-01 12:30:00 INFO crash reporter installed handlers for SIGSEGV and SIGABRT",
        None,
    ),
    row(
        "clean-deprecation-loop",
        "/app/main.py:40: DeprecationWarning: There is no current event loop\n"
        "  loop = asyncio.get_event_loop()",
        None,
    ),
    row("clean-uvloop-policy", "INFO:     Using uvloop as the event loop policy", None),
    row(
        "clean-es-low-watermark",
        '{"@timestamp":"2025-08-01T12:30:00.000Z","log.level":"INFO","message":"low disk'
        " watermark [85%] exceeded on [node-1][/usr/share/elasticsearch/data] free:"
        ' 14gb[14.2%], replicas will not be assigned to this node"}',
        None,
    ),
    row("clean-disk-report", "disk check: 41.7 GB free on /var/lib/data (62%)", None),
    row(
        "clean-debug-enospc",
        "2025-08-01 12:30:00,000 DEBUG [fs] probe write ok, no ENOSPC",
        None,
    ),
    row(
        "clean-debug-segfault-word",
        "DEBUG test harness: simulated Segmentation fault case skipped",
        None,
    ),
]


def _write(rows: list[Row], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i, r in enumerate(rows):
            name = f"s{i}"
            for line in r.lines:
                # the container name of compose's own `exited with code` lines is the replica
                text = line.replace("scanner-1 exited", f"{name}-1 exited")
                if text.startswith(f"{name}-1 exited"):
                    out.write(text + "\n")
                else:
                    out.write(f"{name}-1  | {text}\n")


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, dict[str, str]]]]:
    path = tmp_path_factory.mktemp("variants") / "compose.log"
    _write(ROWS, path)
    ingested = read_inputs([str(path)])
    findings = detect_findings(ingested.logs, ingested.events, compile_rules(load_rules()))
    out: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for service, category, fields in findings.select("service", "category", "fields").iter_rows():
        out.setdefault(service, []).append((category, json.loads(fields or "{}")))
    return out


def test_row_names_are_unique() -> None:
    names = [r.name for r in ROWS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[r.name for r in ROWS])
def test_variant(index: int, found: dict[str, list[tuple[str, dict[str, str]]]]) -> None:
    r = ROWS[index]
    got = found.get(f"s{index}", [])
    categories = {c for c, _ in got}
    if r.category is None:
        assert not got, f"{r.name}: a near miss produced {got}"
        return
    assert categories & MINE == {r.category}, f"{r.name}: expected {r.category}, got {got}"
    if r.fields:
        seen = [f for c, f in got if c == r.category]
        assert any(all(f.get(k) == v for k, v in r.fields.items()) for f in seen), (
            f"{r.name}: expected fields {r.fields}, got {seen}"
        )
