"""Rules added or sharpened by the fix-g blind review: each row is a failure (or a near
miss) in our own words around the real wording, with the rule that must find it and
the fields it must extract (`None`: no finding of the rules listed in `RULES`)."""

from __future__ import annotations

import pytest

from tests.rule_table import Found, Row, check_row, findings_by_row, row

ROWS: list[Row] = [
    row(
        "bash-redirect-dump",
        "/usr/local/bin/nightly.sh: line 14: /backups/app-2026.sql.gz: Permission denied",
        "shell.redirect-not-writable",
        path="/backups/app-2026.sql.gz",
    ),
    row(
        "dash-redirect-log",
        "/etc/periodic/daily/rotate: 3: /var/log/jobs/rotate.log: Permission denied",
        None,  # (not a `.sh`/sh/bash prefix: the generic permission rule's, not ours)
    ),
    row(
        "sh-redirect-csv",
        "sh: 1: /exports/orders.csv: Permission denied",
        "shell.redirect-not-writable",
        path="/exports/orders.csv",
    ),
    row(
        "script-not-executable-stays",
        "/entrypoint.sh: line 3: /app/start.sh: Permission denied",
        "shell.not-executable",
        path="/app/start.sh",
    ),
]

ROWS += [
    row(
        "zk-canonicalize",
        "java.lang.IllegalArgumentException: Unable to canonicalize address zookeeper:2181"
        " because it's not resolvable",
        "java.unknown-host",
        host="zookeeper",
        port="2181",
    ),
    row(
        "zk-static-host-provider",
        "[2026-01-01 00:00:01,000] ERROR Unable to resolve address: zk-0/<unresolved>:2181"
        " (org.apache.zookeeper.client.StaticHostProvider)",
        "java.unknown-host",
        host="zk-0",
        port="2181",
    ),
    row(
        "java-unknown-host-stays",
        "java.net.UnknownHostException: kafka: Name or service not known",
        "java.unknown-host",
        host="kafka",
    ),
    row(
        "traefik3-acme",
        '2026-01-01T00:00:02Z ERR Unable to obtain ACME certificate for domains error="unable'
        " to generate a certificate for the domains [docs.example.org]: error: one or more"
        ' domains had a problem" providerName=le.acme',
        "network.acme-issuance",
        host="docs.example.org",
    ),
    row(
        "traefik3-acme-domains-field",
        '2026-01-01T00:00:02Z ERR Unable to obtain ACME certificate for domains error="rate'
        ' limited" domains=["shop.example.org","www.shop.example.org"] providerName=le.acme',
        "network.acme-issuance",
        host="shop.example.org",
    ),
    row(
        "traefik2-acme-stays",
        'time="2026-01-01T00:00:02Z" level=error msg="Unable to obtain ACME certificate for'
        ' domains \\"old.example.org\\": unable to generate a certificate"',
        "network.acme-issuance",
        host="old.example.org",
    ),
    row(
        "redis6-auth-no-password",
        "redis.exceptions.AuthenticationError: AUTH <password> called without any password"
        " configured for the default user. Are you sure your configuration is correct?",
        "redis.auth-no-password-set",
    ),
    row(
        "redis5-auth-no-password",
        "ReplyError: ERR Client sent AUTH, but no password is set",
        "redis.auth-no-password-set",
    ),
    row(
        "redis-noauth-stays",
        "ReplyError: NOAUTH Authentication required.",
        None,
    ),
    row(
        "minio-fs-drive",
        "ERROR Unable to use the drive /export: Drive /export: found backend type fs, expected"
        " xl or xl-single: Invalid arguments specified",
        "system.minio-fs-backend",
        path="/export",
    ),
    row(
        "minio-fs-disk-old",
        "ERROR Unable to initialize backend: Disk /data: found backend type fs, expected xl",
        "system.minio-fs-backend",
        path="/data",
    ),
]

ROWS += [
    row(
        "es-heap-mismatch",
        "bootstrap check failure [1] of [1]: initial heap size [536870912] not equal to maximum"
        " heap size [2147483648]; this can cause resize pauses",
        "elasticsearch.heap-size-mismatch",
        initial="536870912",
        maximum="2147483648",
    ),
    row(
        "es-seccomp",
        "bootstrap check failure [1] of [1]: system call filters failed to install; check the"
        " logs and fix your configuration or disable system call filters at your own risk",
        "elasticsearch.bootstrap-check",
        check="system call filters failed to install",
    ),
    row(
        "es-memlock-is-limits",
        "bootstrap check failure [1] of [1]: memory locking requested for elasticsearch"
        " process but memory is not locked",
        "limits.bootstrap-check",
    ),
    row(
        "es-json-check-ends-at-quote",
        '{"log.level":"ERROR", "message":"node validation exception\\nbootstrap check failure'
        ' [1] of [1]: system call filters failed to install", "ecs.version": "1.2.0"}',
        "elasticsearch.bootstrap-check",
        check="system call filters failed to install",
    ),
    row(
        "es-max-map-count-not-generic",
        "bootstrap check failure [1] of [1]: max virtual memory areas vm.max_map_count [65530]"
        " is too low, increase to at least [262144]",
        "elasticsearch.max-map-count",
    ),
    row(
        "caddy-rate-limited",
        '{"level":"error","logger":"tls.obtain","msg":"could not get certificate from issuer",'
        '"identifier":"a.example.org","error":"HTTP 429 urn:ietf:params:acme:error:rateLimited'
        ' - too many certificates (5) already issued"}',
        "network.acme-rate-limited",
        host="a.example.org",
    ),
    row(
        "traefik-rate-limited",
        '2026-01-01T00:00:02Z ERR Unable to obtain ACME certificate for domains error="unable to'
        " generate a certificate for the domains [b.example.org]: acme: error: 429 ::"
        ' urn:ietf:params:acme:error:rateLimited :: too many certificates"',
        "network.acme-rate-limited",
        host="b.example.org",
    ),
    row(
        "kafka-advertised-meta",
        "java.lang.IllegalArgumentException: requirement failed: advertised.listeners cannot"
        " use the nonroutable meta-address 0.0.0.0. Use a routable IP address.",
        "kafka.advertised-meta-address",
    ),
    row(
        "dotnet-connection-string-null",
        "Unhandled exception. System.ArgumentNullException: Value cannot be null. (Parameter"
        " 'connectionString')",
        "frameworks.dotnet-connection-string-missing",
    ),
]

ROWS += [
    row(
        "traefik2-port-missing",
        'time="2026-01-01T00:00:01Z" level=error msg="service \\"grafana\\" error: port is'
        ' missing" providerName=docker container=grafana-mon-1f2e',
        "network.traefik-port-missing",
        name="grafana",
    ),
    row(
        "keycloak-permission-alone",
        "2026-01-01 00:00:09,002 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler]"
        " (main) ERROR: /opt/keycloak/data/import/realm.json (Permission denied)",
        "java.access-denied",
        path="/opt/keycloak/data/import/realm.json",
    ),
    row(
        "java-fnf-permission-stays",
        "java.io.FileNotFoundException: /var/log/app/app.log (Permission denied)",
        "java.access-denied",
        path="/var/log/app/app.log",
    ),
    row(
        "postgres-init-script",
        "psql:/docker-entrypoint-initdb.d/02-seed.sql:118: ERROR:  duplicate key value violates"
        ' unique constraint "users_email_key"',
        "postgres.init-script-failed",
        path="/docker-entrypoint-initdb.d/02-seed.sql",
        line="118",
    ),
]

RULES = {
    "network.traefik-port-missing",
    "java.access-denied",
    "postgres.init-script-failed",
    "elasticsearch.heap-size-mismatch",
    "elasticsearch.bootstrap-check",
    "elasticsearch.max-map-count",
    "limits.bootstrap-check",
    "network.acme-rate-limited",
    "kafka.advertised-meta-address",
    "frameworks.dotnet-connection-string-missing",
    "shell.redirect-not-writable",
    "shell.not-executable",
    "java.unknown-host",
    "network.acme-issuance",
    "redis.auth-no-password-set",
    "network.broker-auth",
    "system.minio-fs-backend",
}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Found:
    return findings_by_row(ROWS, tmp_path_factory.mktemp("review-g"))


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[r.name for r in ROWS])
def test_row(index: int, found: Found) -> None:
    check_row(ROWS, index, found, RULES)
