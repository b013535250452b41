"""Redaction: every secret shape is masked, ordinary text is left alone."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentlog.redact import HINTS, MASK, redact, redact_expr

SECRETS = [
    # (text, secret that must disappear, text that must remain)
    ("postgres://app:hunter2@db:5432/app", "hunter2", "postgres://app:***@db:5432/app"),
    ("redis://:s3cr3tpw@redis:6379/0", "s3cr3tpw", "redis://:***@redis:6379/0"),
    ("Authorization: Bearer abc.def-123_x", "abc.def-123_x", "Authorization: Bearer ***"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz' http://x", "dXNlcjpwYXNz", "Basic ***"),
    ("sent bearer 0123456789abcdefABCDEF to upstream", "0123456789abcdefABCDEF", "bearer ***"),
    ("GET /cb?api_key=abcd1234&page=2", "abcd1234", "api_key=***&page=2"),
    ("token=tok_998877 user=bob", "tok_998877", "user=bob"),
    ("client_secret: zz-top-secret-99", "zz-top-secret-99", "client_secret: ***"),
    # a word that is also prose, as the start of a value, is still masked where it is one
    ("token: nothing-to-see-42", "nothing-to-see-42", "token: ***"),
    # a header named Cookie still is one, after a path or not
    ("GET /app Cookie: sid=9f8e7d6c5b4a", "9f8e7d6c5b4a", "Cookie: ***"),
    ("PGPASSWORD=hunter2 psql -h db", "hunter2", "PGPASSWORD=*** psql -h db"),
    ("passwd=letmein", "letmein", "passwd=***"),
    ("password=$2b$12$R9h/cIPz0gi.URNNX3kh2O", "R9h/cIPz0gi", "password=***"),  # a hash
    ('{"user": "bob", "password": "hunter2"}', "hunter2", '"password": "***"'),
    ("X-Api-Key: 9f8e7d6c5b4a", "9f8e7d6c5b4a", "X-Api-Key: ***"),
    ("using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE", "using key *** for s3"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = ***",
    ),
    (
        "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM expired",
        "SflKxwRJSMeKKF2QT4fwpM",
        "session *** expired",
    ),
    ("GITHUB_TOKEN ghp_" + "a1B2" * 9 + " set", "ghp_", "GITHUB_TOKEN *** set"),
    ("slack xoxb-123456789012-abcdefABCDEF posted", "xoxb-", "slack *** posted"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_", "stripe ***"),
    ("maps key AIzaSyA1234567890abcdefghijklmnopqrstuv ok", "AIzaSy", "maps key *** ok"),
    ("//registry.npmjs.org/:_authToken=npm_" + "a1B2" * 9, "npm_a1B2", "_authToken=***"),
    ("NPM_TOKEN npm_" + "Z9y8" * 9 + " set", "npm_Z9y8", "NPM_TOKEN *** set"),
    ("clone with glpat-AbCdEf0123456789xyzW", "glpat-", "clone with ***"),
    ("SECRET_KEY=django-insecure-7h1s1s", "django-insecure", "SECRET_KEY=***"),
    ("SECRET_KEY_BASE: 9f8e7d6c5b4a39281", "9f8e7d6c5b4a39281", "SECRET_KEY_BASE: ***"),
    ("ENCRYPTION_KEY=0a1b2c3d4e5f", "0a1b2c3d4e5f", "ENCRYPTION_KEY=***"),
    ("+ curl -sf -u admin:s3cretpass http://grafana:3000/api/health", "s3cretpass", "-u admin:***"),
    ("curl --user 'ci:tok3n' https://x", "tok3n", "--user 'ci:***"),
    # a value in a code span is masked up to the span's closing backtick, which stays
    ("run `export DB_PASSWORD=hunter2` first", "hunter2", "`export DB_PASSWORD=***` first"),
    # a value that only starts like code is a value (`os.environ` is followed by a word)
    ("password=os.environment-hunter", "environment-hunter", "password=***"),
    # the characters redaction holds keys apart with cannot unmask a secret
    ("password\ue0ff\ue0fe=hunter2", "hunter2", "password"),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS)
def test_secret_is_masked(text: str, secret: str, kept: str) -> None:
    out = redact(text)
    assert secret not in out
    assert kept in out


def test_private_key_block_multiline() -> None:
    text = (
        "loaded key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nq83hd92\n"
        "-----END RSA PRIVATE KEY-----\nlistening on :443"
    )
    out = redact(text)
    assert "MIIEpAIBAAKCAQEA7" not in out and "q83hd92" not in out
    assert out == (
        "loaded key\n-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\n"
        "listening on :443"
    )


def test_truncated_private_key_is_masked_to_the_end() -> None:
    out = redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA")
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in out


@pytest.mark.parametrize(
    "text",
    [
        'FATAL:  password authentication failed for user "app"',
        "0 errors, token bucket refilled",
        "Bearer authentication failed",
        'psycopg2.OperationalError: connection to server at "postgres", port 5432 failed',
        "GET /api/v1/items?page=2 HTTP/1.1 200",
        "http://gateway:8080/v1/rates",
        "secret_name: db-credentials",
        "Basic auth enabled for /admin",
        # where a secret comes from is no secret: variable references, a required
        # variable's message
        "required variable POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in .env}",
        "environment: DB_PASSWORD: ${DB_PASSWORD}",
        "export API_TOKEN=$(cat /run/secrets/api_token)",
        "PGPASSWORD=$POSTGRES_PASSWORD psql -h db",
        # nor is the code a traceback prints where the secret is read or made
        '    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
        "    password = os.getenv('DB_PASSWORD')",
        "  token: process.env.API_TOKEN,",
        '    config.secret_key_base = ENV.fetch("SECRET_KEY_BASE")',
        "SECRET_KEY = env('SECRET_KEY')",
        "API_KEY = settings.API_KEY",
        "SECRET_KEY = get_random_secret_key()",
        # whether a password was sent is no password
        "Access denied for user 'shop'@'172.20.0.5' (using password: YES)",
        "Access denied for user 'root'@'localhost' (using password: NO)",
        # a Rails task, in a code span whose closing backtick stays
        "Missing `secret_key_base` for 'production' environment, set this string with"
        " `bin/rails credentials:edit`",
        # prose after a key: a word no secret is
        "could not refresh the access token: connection refused by auth:8443",
        "login failed, password: invalid for user 'shop'",
        "api key: missing (set API_KEY)",
        # a file named like a key, then the error about it: the error is no value
        "Failed to create cookie file '/var/lib/rabbitmq/.erlang.cookie': eacces",
        "open /run/secrets/db.password: no such file or directory",
        "cannot read /etc/ssl/private/server.key: permission denied",
    ],
)
def test_ordinary_text_untouched(text: str) -> None:
    assert redact(text) == text


def test_expression_on_a_frame_matches_the_string_helper() -> None:
    texts = [s[0] for s in SECRETS] + ["plain line", None]
    frame = pl.DataFrame({"message": texts}, schema={"message": pl.String})
    out = frame.select(redact_expr("message")).get_column("message").to_list()
    assert out[:-1] == [redact(t) for t in texts[:-1] if t is not None]
    assert out[-1] is None
    assert frame.select(redact_expr()).columns == ["message"]


def test_redaction_is_idempotent() -> None:
    for text, _secret, _kept in SECRETS:
        once = redact(text)
        assert redact(once) == once
        assert MASK in once


@settings(deadline=None)  # the first call compiles the joined regex
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_and_is_stable(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    if not any(h in text.lower() for h in HINTS) and len(text.strip()) < 40:
        assert once == text  # no family's literal and too short to be key material
