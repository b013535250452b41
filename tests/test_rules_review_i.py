"""Rules added or sharpened by the fix-i review: each row is a failure (or a near miss)
in our own words around the real wording, with the one rule of `RULES` that must find it
(`None`: none of them) and the fields it must extract."""

from __future__ import annotations

import re

import pytest

from incidentlog.detect import load_rules
from tests.rule_table import Found, Row, check_row, findings_by_row, row

ROWS: list[Row] = [
    row(
        "boto3-aws-key-unknown",
        "botocore.exceptions.ClientError: An error occurred (InvalidAccessKeyId) when calling"
        " the GetObject operation: The AWS Access Key Id you provided does not exist in our records.",
        "network.s3-access-key-unknown",
        operation="GetObject",
    ),
    row(
        "java-sdk-key-unknown",
        "com.amazonaws.services.s3.model.AmazonS3Exception: The AWS Access Key Id you provided"
        " does not exist in our records. (Service: Amazon S3; Status Code: 403; Error Code:"
        " InvalidAccessKeyId; Request ID: 7Q2XK1)",
        "network.s3-access-key-unknown",
    ),
    row(
        "minio-key-unknown",
        "botocore.exceptions.ClientError: An error occurred (InvalidAccessKeyId) when calling"
        " the ListObjectsV2 operation: The Access Key Id you provided does not exist in our records.",
        "network.minio-access-key-unknown",
    ),
    row(
        "mc-key-unknown",
        "mc: <ERROR> Unable to list folder. The Access Key Id you provided does not exist in our"
        " records.",
        "network.minio-access-key-unknown",
    ),
    row(
        "boto3-signature",
        "botocore.exceptions.ClientError: An error occurred (SignatureDoesNotMatch) when calling"
        " the PutObject operation: The request signature we calculated does not match the"
        " signature you provided. Check your key and signing method.",
        "network.s3-signature-mismatch",
        operation="PutObject",
    ),
    row(
        "node-sdk-signature",
        "SignatureDoesNotMatch: The request signature we calculated does not match the"
        " signature you provided. Check your key and signing method.",
        "network.s3-signature-mismatch",
    ),
    row(
        "clock-skew-is-not-a-key",
        "botocore.exceptions.ClientError: An error occurred (RequestTimeTooSkewed) when calling"
        " the PutObject operation: The difference between the request time and the current"
        " time is too large.",
        None,
    ),
    row(
        "postgres-server-echo",
        'ERROR:  relation "ledger_entries" does not exist\n'
        "STATEMENT:  SELECT id, amount FROM ledger_entries WHERE account = 7",
        None,  # (the server repeats its client's failure: the client's finding)
    ),
    row(
        "postgres-server-runs-the-init-script",
        'psql:/docker-entrypoint-initdb.d/10_plans.sql:4: ERROR:  relation "plans" does not exist',
        "postgres.init-script-failed",
        path="/docker-entrypoint-initdb.d/10_plans.sql",
    ),
    row(
        "seed-container-psql-keeps-its-finding",
        'psql:/seed/10_plans.sql:4: ERROR:  relation "plans" does not exist',
        "frameworks.missing-table",
        table="plans",
    ),
    row(
        "systemd-unit-running-compose",
        "myshop.service: Main process exited, code=exited, status=1/FAILURE",
        "compose.systemd-unit-exited",
        unit="myshop",
        exit_code="1",
    ),
    row(
        "systemd-unit-gives-up",
        "myshop.service: Start request repeated too quickly.",
        "compose.systemd-unit-exited",
        unit="myshop",
    ),
    row(
        "supervisord-stays-a-process-manager-crash",
        "2026-03-02 06:30:58,101 INFO exited: celery (exit status 1; not expected)",
        "frameworks.process-manager-crash",
        program="celery",
    ),
    row(
        "docs-mention-only-at-debug",
        "DEBUG retry policy: do not retry InvalidAccessKeyId",
        None,
    ),
]

RULES = {
    "network.s3-access-key-unknown",
    "network.minio-access-key-unknown",
    "network.s3-signature-mismatch",
    "network.client-auth",
    "frameworks.missing-table",
    "postgres.init-script-failed",
    "compose.systemd-unit-exited",
    "frameworks.process-manager-crash",
}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> Found:
    return findings_by_row(ROWS, tmp_path_factory.mktemp("review-i"))


@pytest.mark.parametrize("index", range(len(ROWS)), ids=[r.name for r in ROWS])
def test_row(index: int, found: Found) -> None:
    check_row(ROWS, index, found, RULES)


def test_no_rule_advises_down_v_without_saying_it_deletes_every_volume() -> None:
    """`docker compose down -v` deletes every volume of the project, the database's
    with the rest: a rule may name it only as what not to run instead of one volume."""
    for rule in load_rules().rules:
        for clause in re.split(r"[;:]\s|\.\s", rule.remediation):
            if "down -v" in clause:
                assert re.search(r"\bdeletes? (?:every volume|the data)", clause), (rule.id, clause)
