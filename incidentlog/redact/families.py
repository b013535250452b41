"""The secret families redaction knows, as data: one Rust-syntax regex each.

The families follow the rule sets secret scanners maintain (gitleaks,
detect-secrets): provider tokens recognised by their fixed prefixes, and
generic shapes (a value after a secret-like key, credentials in URLs and on
command lines, HTTP headers, private keys). The regexes are written here from
the providers' documented formats; a redaction may mask a little more than
the secret (a false positive costs a `***`, a miss leaks a credential).

Each regex may name two groups that are kept around the mask: `pre` (what
introduces the secret: a key, a header, a URL scheme) and `post` (what closes
it: a quote, the `@` of a URL, a PEM END line). Everything else it matches
becomes `***`. `hints` are lowercase literals every match contains (ASCII
case-insensitively), so text without any of them is known clean without
running the regexes (`redact_series`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

__all__ = ["CODE_REFERENCE", "FAMILIES", "KEY_NAMES", "Family"]


@dataclass(frozen=True)
class Family:
    """One kind of secret: what it is, its regex, and literals every match contains."""

    name: str
    group: str
    """What README lists it under: AI providers, cloud, registries and code hosts, ..."""
    pattern: str
    hints: tuple[str, ...]


_B: Final = r"(?-u:\b)"
"""An ASCII word boundary (a Unicode one would keep the regex off the fast DFA)."""
_TOKEN: Final = r"[A-Za-z0-9_-]"
KEY_NAMES: Final = (
    r"api[_-]?key|apikey|api[_-]?secret|api[_-]?token"
    r"|access[_-]?key|access[_-]?token|auth[_-]?token|auth[_-]?key|refresh[_-]?token"
    r"|id[_-]?token|bearer[_-]?token|session[_-]?(?:token|key|secret|id)|security[_-]?token"
    r"|token|secret|client[_-]?secret|app[_-]?secret|consumer[_-]?secret"
    r"|secret[_-]?key(?:[_-]?base)?|(?:encryption|signing|master|private|priv|account|service"
    r"|client|db|database)[_-]?key"
    r"|password|passwd|passphrase|pwd|[_.-]pass|[_.-]pw|credentials?|cookie|set-cookie"
    r"|webhook[_-]?(?:secret|url)"
)
"""Names of settings that hold a secret (`DJANGO_SECRET_KEY`, `SECRET_KEY_BASE`, `DB_PASS`,
`jwt_secret`, `X-Api-Key`, ...): the key ends with one of them, after any prefix
(`secret_name` and `max_tokens` are not secret-like)."""

_KEY: Final = rf"(?:{KEY_NAMES}|{_B}(?:pass|pw))"
_KEY_SEPARATOR: Final = r"(?:\\?[\"'])?\s*(?:[=:]>?|=>)\s*"

_CODE_ACCESSORS: Final = (
    r"os\.environ\b|os\.getenv\(|os\.Getenv\(|getenv\(|process\.env\b|ENV\[|ENV\.fetch\("
    r"|System\.getenv\(|Environment\.GetEnvironmentVariable\(|env::var\(|env(?:\.str)?\("
    r"|config\(|settings\.[A-Z_]|Rails\.application\.|secrets\.token_|SecureRandom\.|crypto\."
    r"|get_random_secret_key\("
)
"""Where code reads or makes a secret (`os.environ["X"]`, `ENV.fetch(`, `process.env.X`,
`secrets.token_hex(`): a source line a traceback prints, not the secret."""
CODE_REFERENCE: Final = (
    rf"(?i)({_KEY}(?:\\?[\"'])?)(\s*(?:[=:]>?|=>)\s*(?-i:{_CODE_ACCESSORS})"
    r"|:(?:edit|show|diff)(?-u:\b)|:\s*(?-i:YES|NO)\)"
    r"|:\s+(?:invalid|expired|missing|required|not|is|was|has|had|failed|refused|error"
    r"|connection|denied|rejected|revoked|none|null|unset|empty|too|must|cannot|could"
    r"|should|will|does|did|verification|validation|mismatch|incorrect|wrong)(?-u:\b))"
    r"|(/[\w./-]*\.(?:cookie|key|pem|token|secret|pass|password|credentials?)[\"']?)(:)"
)
"""A secret-like key followed by a code reference, a Rails task (`credentials:edit`),
MySQL's word for whether a password was sent (`(using password: YES)`) or a word of
prose (`access token: expired`, `password: invalid for user …`): group 1 is the key,
group 2 the rest; or a file's path named like a key, then the colon of the error
about it (`'/var/lib/rabbitmq/.erlang.cookie': eacces`): groups 3 and 4. Redaction holds
the two apart while it runs, so the key/value families do not take the code or the
error for a value."""


_QUOTED_VALUES: Final = (
    ("double-quoted", r"""")(?:[^"\\\n]|\\.)*(?P<post>")"""),
    ("single-quoted", r"""')[^'\n]*(?P<post>')"""),
    ("escaped-quotes", r"""\\")(?:[^"\\\n]|\\[^"\n])*(?P<post>\\")"""),
)
"""After `(?P<pre>key=` : the opening quote (kept), the value (masked), the closing quote."""


def _keyed(
    name: str, group: str, key: str, bare: str, hints: tuple[str, ...]
) -> tuple[Family, ...]:
    """A secret after `key` (a regex ending with its separator): quoted values, spaces and
    all, between kept quotes (double, single, JSON-escaped), then a `bare` value."""
    quoted = tuple(
        Family(f"{name}-{kind}", group, rf"(?i)(?P<pre>{key}{rest}", hints)
        for kind, rest in _QUOTED_VALUES
    )
    return (*quoted, Family(name, group, rf"(?i)(?P<pre>{key}){bare}", hints))


_KV_HINTS: Final = (
    *("pass", "pwd", "pw", "secret", "token", "key", "cookie", "credential", "webhook"),
)
_HEADER_VALUE: Final = r"""[^\s"'\\](?:[^\n"'\\]*[^\s"'\\])?"""
"""A header's value: the rest of the line (up to a quote)."""

_CLI_VALUE: Final = r"""(?:'[^'\n]*'|"[^"\n]*"|[^\s'"-][^\s'"]*)"""
"""A command-line argument: quoted, or a word that is not the next option."""

_PEM: Final = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END: Final = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"

_LONG_OPTIONS: Final = (
    r"password|passwd|pass|passphrase|pwd|secret|token|api-key|apikey|access-token|auth-token"
    r"|client-secret|secret-key|access-key|private-key|requirepass|masterauth"
    r"|http-password|ftp-password|proxy-password|db-password|ssh-pass|storepass|keypass"
)

_FAMILIES: Final[tuple[Family, ...]] = (
    # ---- private keys: the whole block, first, so nothing inside is matched again
    Family(
        "private-key",
        "private keys",
        rf"(?s)(?P<pre>{_PEM}).*?(?:(?P<post>{_PEM_END})|\z)",
        ("private key",),
    ),
    # ---- AI providers
    Family(
        "anthropic-key",
        "AI providers",
        rf"{_B}sk-ant-(?:api|admin|oat|ort|sid)\d*-{_TOKEN}{{20,}}",
        ("sk-ant-",),
    ),
    Family(
        "openai-key",
        "AI providers",
        rf"{_B}sk-(?:proj-|svcacct-|admin-|None-)?{_TOKEN}{{20,}}",
        ("sk-",),
    ),
    Family("google-api-key", "AI providers", rf"{_B}AIza{_TOKEN}{{35}}", ("aiza",)),
    Family(
        "google-oauth",
        "AI providers",
        rf"{_B}(?:ya29\.{_TOKEN}{{20,}}|GOCSPX-{_TOKEN}{{20,}}|1//0{_TOKEN}{{30,}})",
        ("ya29.", "gocspx-", "1//0"),
    ),
    Family(
        "ai-provider-token",
        "AI providers",
        rf"{_B}(?:hf_[A-Za-z0-9]{{30,}}|r8_[A-Za-z0-9]{{30,}}|gsk_[A-Za-z0-9]{{40,}}"
        rf"|xai-[A-Za-z0-9]{{60,}}|pplx-[A-Za-z0-9]{{40,}}|lsv2_(?:pt|sk)_[a-f0-9]{{32}}_[a-f0-9]{{6,}})",
        ("hf_", "r8_", "gsk_", "xai-", "pplx-", "lsv2_"),
    ),
    # ---- cloud providers
    Family(
        "aws-access-key",
        "cloud",
        rf"{_B}(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{{16}}{_B}",
        ("akia", "asia", "abia", "acca", "a3t"),
    ),
    Family(
        "aws-secret-key",
        "cloud",
        r"(?i)(?P<pre>aws_?secret_?access_?key(?:\\?[\"'])?\s*[=:]\s*(?:\\?[\"'])?)[A-Za-z0-9/+=]{40}",
        ("secret",),
    ),
    Family(
        "azure-connection-string",
        "cloud",
        r"(?i)(?P<pre>(?:AccountKey|SharedAccessKey|SharedSecretValue|SharedAccessSignature"
        r"|ClientSecret)\s*=\s*)[^;\"'\s\\]+",
        ("accountkey", "sharedaccess", "sharedsecret", "clientsecret"),
    ),
    Family(
        "azure-client-secret",
        "cloud",
        r"\dQ~[A-Za-z0-9_~.-]{31,34}",
        ("q~",),
    ),
    Family(
        "digitalocean-token",
        "cloud",
        rf"{_B}do[por]_v1_[a-f0-9]{{64}}",
        ("_v1_",),
    ),
    Family(
        "cloud-token",
        "cloud",
        rf"{_B}(?:LTAI[A-Za-z0-9]{{20}}|hv[sbr]\.{_TOKEN}{{24,}}|[A-Za-z0-9]{{14}}\.atlasv1\.[A-Za-z0-9_=-]{{60,}}"
        rf"|HRKU-{_TOKEN}{{30,}}|dp\.(?:st|ct|sa|scim|audit|pt)\.{_TOKEN}{{40,}})",
        ("ltai", "hvs.", "hvb.", "hvr.", "atlasv1", "hrku-", "dp."),
    ),
    # ---- package registries and code hosts
    Family("pypi-token", "registries", rf"{_B}pypi-AgE{_TOKEN}{{50,}}", ("pypi-age",)),
    Family("npm-token", "registries", rf"{_B}npm_[A-Za-z0-9]{{36}}", ("npm_",)),
    Family("docker-hub-token", "registries", rf"{_B}dckr_(?:pat|oat)_{_TOKEN}{{20,}}", ("dckr_",)),
    Family(
        "registry-token",
        "registries",
        rf"{_B}(?:rubygems_[a-f0-9]{{48}}|oy2[a-z0-9]{{43}}|CLOJARS_[a-z0-9]{{60}})",
        ("rubygems_", "oy2", "clojars_"),
    ),
    Family(
        "github-token",
        "registries",
        rf"{_B}(?:gh[pousr]_[A-Za-z0-9]{{36,}}|github_pat_[A-Za-z0-9_]{{22,}})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Family(
        "gitlab-token",
        "registries",
        rf"{_B}(?:gl(?:pat|dt|ptt|rt|cbt|imt|oas|ft|soat|agent|ffct)-{_TOKEN}{{20,}}"
        rf"|GR1348941{_TOKEN}{{20,}})",
        ("glpat-", "gldt-", "glptt-", "glrt-", "glcbt-", "glimt-", "gloas-", "glft-"),
    ),
    Family(
        "atlassian-token",
        "registries",
        rf"{_B}(?:ATATT3|ATBB|ATCTT3)[A-Za-z0-9_=.-]{{20,}}",
        ("atatt3", "atbb", "atctt3"),
    ),
    # ---- chat: Slack, Discord, Teams, Telegram
    Family(
        "slack-token",
        "chat",
        rf"{_B}(?:xox[abposre]-[A-Za-z0-9-]{{10,}}|xapp-\d-[A-Za-z0-9-]{{10,}})",
        ("xox", "xapp-"),
    ),
    Family(
        "slack-webhook",
        "chat",
        r"(?i)(?P<pre>hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]+",
        ("hooks.slack",),
    ),
    Family(
        "discord-webhook",
        "chat",
        r"(?i)(?P<pre>discord(?:app)?\.com/api/(?:v\d+/)?webhooks/)[0-9]+/[A-Za-z0-9_-]+",
        ("discord",),
    ),
    Family(
        "teams-webhook",
        "chat",
        r"(?i)(?P<pre>\.webhook\.office\.com/webhookb2/)[A-Za-z0-9@/_.-]+",
        ("webhook.office",),
    ),
    Family(
        "telegram-bot-token",
        "chat",
        rf"(?P<pre>:)AA{_TOKEN}{{33}}{_B}",
        (":aa",),
    ),
    # ---- payments and SaaS
    Family(
        "stripe-key",
        "payments and SaaS",
        rf"{_B}(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{{10,}}|whsec_[A-Za-z0-9]{{20,}})",
        ("_live_", "_test_", "whsec_"),
    ),
    Family(
        "saas-token",
        "payments and SaaS",
        rf"{_B}(?:sq0(?:atp|csp)-{_TOKEN}{{22,}}|SG\.{_TOKEN}{{16,}}\.{_TOKEN}{{20,}}"
        rf"|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{{32}}|glc_[A-Za-z0-9+/]{{32,}}={{0,2}}"
        rf"|glsa_[A-Za-z0-9]{{32}}_[A-Fa-f0-9]{{8}}|sntr[ysu]s?_[A-Za-z0-9_=+/-]{{20,}}"
        rf"|NRAK-[A-Z0-9]{{27}}|lin_api_[A-Za-z0-9]{{40}}|PMAK-[a-f0-9]{{24}}-[a-f0-9]{{34}}"
        rf"|AGE-SECRET-KEY-1[0-9A-Z]{{58}}|key-[0-9a-f]{{32}}"
        r"|access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32})",
        (
            "sq0",
            "sg.",
            "shpat_",
            "shpca_",
            "shppa_",
            "shpss_",
            "glc_",
            "glsa_",
            "sntr",
            "nrak-",
            "lin_api_",
            "pmak-",
            "age-secret-key-",
            "key-",
            "access_token$",
        ),
    ),
    Family(
        "jwt",
        "generic",
        rf"{_B}eyJ{_TOKEN}{{8,}}\.{_TOKEN}{{8,}}\.{_TOKEN}*",
        ("eyj",),
    ),
    # ---- HTTP headers
    *_keyed(
        "authorization-header",
        "HTTP",
        r"(?-u:\b)(?:proxy-)?authorization(?:\\?[\"'])?\s*[:=]\s*"
        r"(?:(?:bearer|basic|token|digest|bot|negotiate|ntlm|apikey|sso-key|aws4-hmac-sha256)\s+)?",
        _HEADER_VALUE,
        ("authorization",),
    ),
    *_keyed(
        "cookie-header",
        "HTTP",
        # (not a file's name: `.erlang.cookie: eacces`, `/run/x.cookie: …`)
        r"(?:^|[^.\w/-])(?:set-)?cookie(?:\\?[\"'])?\s*[:=]\s*",
        _HEADER_VALUE,
        ("cookie",),
    ),
    Family(
        "bearer-token",
        "HTTP",
        r"(?i)(?P<pre>(?-u:\b)bearer\s+)[A-Za-z0-9\-._~+/]{16,}=*",
        ("bearer",),
    ),
    # ---- URLs
    Family(
        "url-password",
        "URLs",
        r"(?P<pre>://[^:/@\s]*:)[^/\s?#]+(?P<post>@)",
        ("://",),
    ),
    Family(
        "url-token-user",
        "URLs",
        r"(?P<pre>://)[A-Za-z0-9_.~%+-]{16,}(?P<post>@)",
        ("://",),
    ),
    Family(
        "url-query-secret",
        "URLs",
        r"(?i)(?P<pre>[?&;](?:sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential"
        r"|x-goog-signature|x-goog-credential|access_token|id_token|refresh_token|client_secret"
        r"|api_?key|apikey|key|token|auth|code|password|passwd|pwd|secret|sas|sessionid|session)=)"
        r"[^&\s\"'#\\]+",
        (
            "sig=",
            "signature=",
            "security-token=",
            "credential=",
            "token=",
            "secret=",
            "key=",
            "auth=",
            "code=",
            "pass",
            "pwd=",
            "sas=",
            "session",
        ),
    ),
    # ---- command lines
    Family(
        "mysql-password",
        "command lines",
        r"(?i)(?P<pre>(?-u:\b)(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh"
        r"|mariadb|mariadb-dump|mariadb-admin)(?-u:\b)[^\n|;&]*?\s-p)(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"]+)",
        ("mysql", "mariadb"),
    ),
    Family(
        "cli-password-option",
        "command lines",
        rf"(?i)(?P<pre>--?(?:{_LONG_OPTIONS})(?:=|\s+)){_CLI_VALUE}",
        ("pass", "pwd", "secret", "token", "key", "auth"),
    ),
    Family(
        "cli-secret-flag",
        "command lines",
        r"(?i)(?P<pre>(?-u:\b)(?:(?:redis-cli|keydb-cli|valkey-cli)(?-u:\b)[^\n|;&]*?\s-a"
        r"|sshpass\s+-p|docker\s+login(?-u:\b)[^\n|;&]*?\s-p|htpasswd\s+-[a-zA-Z]*b[a-zA-Z]*\s+\S+\s+\S+)"
        r"\s*)(?:'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"-][^\s'\"]*)",
        ("-cli", "sshpass", "docker", "htpasswd"),
    ),
    Family(
        "curl-user",
        "command lines",
        r"(?P<pre>(?-u:\b)(?:curl|wget)(?-u:\b)[^\n]*?\s(?:-u|--user|--proxy-user)\s*[\"']?[^:\s\"']+:)[^\s\"']+",
        ("curl", "wget"),
    ),
    # ---- a value after a secret-like key: quoted (spaces and all), then bare
    *_keyed(
        "key-value-secret",
        "generic",
        rf"{_KEY}{_KEY_SEPARATOR}",
        # not a reference to where the secret is: `${DB_PASSWORD}`, `$(cat …)`, `$TOKEN`,
        # or the message of a required variable (`${POSTGRES_PASSWORD:?set it}`)
        # (a backtick ends it: the value of a code span, whose closing backtick stays)
        r"""(?:\*\*\*|[^\s&,;"'`*\\$?][^\s&,;"'`\\]*|\$[^\s&,;"'`\\{(A-Za-z_][^\s&,;"'`\\]*)""",
        _KV_HINTS,
    ),
)


_CLASS_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\([sSd])")
_ASCII_CLASSES: Final = {"s": r"[\t\n\x0b\x0c\r ]", "S": r"[^\t\n\x0b\x0c\r ]", "d": "[0-9]"}


def _ascii(pattern: str) -> str:
    """`\\s`, `\\S` and `\\d` as ASCII classes: Unicode ones make the joined regex ten
    times slower to compile, and log separators are ASCII."""
    return _CLASS_ESCAPE.sub(lambda m: m.group(1) + _ASCII_CLASSES[m.group(2)], pattern)


FAMILIES: Final = tuple(replace(f, pattern=_ascii(f.pattern)) for f in _FAMILIES)
"""Every family, in the order they are tried: blocks and fixed-prefix tokens before
the generic key/value shapes."""
