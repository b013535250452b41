"""A terminal session pasted whole: each command's output read as an input of its own."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from incidentlog.cli import app
from incidentlog.ingest import IngestResult, read_inputs
from incidentlog.ingest.sessions import (
    Cut,
    cut_markdown,
    cut_session,
    file_service,
    named_service,
)

runner = CliRunner()


def _cut(text: str) -> tuple[list[Cut], int]:
    """A paste's sections and prompt lines ([] and 0: no session)."""
    return cut_session(text.encode()) or ([], 0)


def _read(tmp_path: Path, text: str, name: str = "terminal.txt") -> IngestResult:
    """A paste saved as the user saves it, and read as their input."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_inputs([str(path)])


SESSION = """\
me@box:~/shop$ docker compose version
Docker Compose version v2.29.1
me@box:~/shop$ docker compose logs --no-log-prefix --tail 20 worker
Starting worker 1.4.2
Traceback (most recent call last):
  File "/app/worker.py", line 3, in <module>
    import redis
ModuleNotFoundError: No module named 'redis'
me@box:~/shop$ docker compose ps
NAME             IMAGE         COMMAND             SERVICE   CREATED         STATUS                         PORTS
shop-worker-1    shop-worker   "python worker.py"  worker    5 minutes ago   Restarting (1) 3 seconds ago
shop-redis-1     redis:7       "redis-server"      redis     5 minutes ago   Up 5 minutes (healthy)         6379/tcp
me@box:~/shop$
"""


def test_each_commands_output_is_read_in_its_own_format(tmp_path: Path) -> None:
    result = _read(tmp_path, SESSION)
    formats = {Path(s.source.split(" ")[0]).name: s.format.value for s in result.summary.sources}
    assert formats == {"terminal.txt:4": "raw", "terminal.txt:10": "ps"}
    assert set(result.logs.get_column("service").unique()) == {"worker"}  # named by the command
    assert sorted(result.events.get_column("service").to_list()) == ["redis", "worker"]  # ps rows
    notes = " ".join(result.summary.notes)
    assert "terminal.txt:2 (docker compose version): 1 line not read" in notes
    assert "read as 2 inputs (4 prompt lines not read)" in notes
    read = sum(s.lines for s in result.summary.sources)
    assert read + 4 + 1 == SESSION.count("\n")  # every line: read, a prompt, or not read


def test_the_report_knows_the_states_and_the_cause(tmp_path: Path) -> None:
    path = tmp_path / "terminal.txt"
    path.write_text(SESSION, encoding="utf-8")
    result = runner.invoke(app, ["report", str(path), "--format", "md"])
    assert result.exit_code == 0, result.output
    now = result.stdout.split("## What happened")[0]
    assert "| worker | Restarting (1) 3 seconds ago |" in now
    assert "1 is healthy" in now and "crashed 0 times" not in now
    assert "docker compose build worker" in now
    detect = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    rows = [json.loads(line) for line in detect.stdout.splitlines()]
    assert ("worker", "missing-module") in {(r["service"], r["category"]) for r in rows}


def test_powershell_and_cmd_prompts_cut_too(tmp_path: Path) -> None:
    text = (
        "PS C:\\shop> docker compose logs\n"
        "web-1  | 2025-08-01T10:00:00.000000000Z Error: listen EADDRINUSE: address already in use :::3000\n"
        "C:\\shop>docker ps\n"
        "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n"
    )
    cuts, prompts = _cut(text)
    assert prompts == 2
    assert [(c.command, c.verb, c.first_line) for c in cuts] == [
        ("docker compose logs", "logs", 2),
        ("docker ps", "ps", 4),
    ]


def test_a_prompt_with_a_space_before_its_dollar_cuts_too() -> None:
    # Raspberry Pi OS's default prompt, and many shell themes: `pi@host:~/stack $ `
    text = (
        "pi@monitor:~/stack $ docker logs grafana\n"
        "GF_PATHS_DATA='/var/lib/grafana' is not writable.\n"
        "pi@monitor:~/stack $ docker ps -a\n"
        "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n"
        "pi@monitor:~/stack $\n"
    )
    cuts, prompts = _cut(text)
    assert prompts == 3
    assert [(c.command, c.verb, c.first_line) for c in cuts] == [
        ("docker logs grafana", "logs", 2),
        ("docker ps -a", "ps", 4),
    ]


def test_prompts_that_end_or_start_with_a_glyph_cut_too() -> None:
    # zsh pure / starship (`~/shop main* ❯`) and oh-my-zsh (`➜  shop git:(main) ✗`)
    for prompt in ("~/code/shop main* \u276f ", "\u279c  shop git:(main) \u2717 "):
        text = f"{prompt}docker compose logs api\napi-1  | hello\n{prompt}\n"
        cuts, prompts = _cut(text)
        assert prompts == 2, prompt
        assert [(c.command, c.verb, c.first_line) for c in cuts] == [
            ("docker compose logs api", "logs", 2)
        ], prompt


def test_a_log_that_only_mentions_commands_is_not_a_session(tmp_path: Path) -> None:
    text = (
        "web-1  | $ docker compose ps\n"
        "web-1  | running: docker logs web\n"
        "docker: Error response from daemon: driver failed programming external connectivity\n"
    )
    assert cut_session(text.encode()) is None
    result = _read(tmp_path, text, "compose.log")
    assert [s.source for s in result.summary.sources] == [str(tmp_path / "compose.log")]


def test_the_service_a_logs_command_names() -> None:
    assert named_service("docker compose logs --tail 50 -t web") == "web"
    assert named_service("docker logs -f shop-web-1") == "shop-web-1"
    assert named_service("docker compose -p shop logs --since=10m api") == "api"
    assert named_service("docker compose logs web db") is None
    assert named_service("docker compose ps") is None


def test_a_piped_or_redirected_logs_command_names_its_container() -> None:
    """What follows a pipe, `;` or a redirection is another program's or a file's: it names
    no service (`grep -v /healthz` once gave a service `/healthz`)."""
    assert named_service("docker logs shop-api-1 2>&1 | tail -n 50") == "shop-api-1"
    assert named_service("docker compose logs api | grep -v /healthz") == "api"
    assert named_service("sudo docker logs --tail 100 web > web.txt") == "web"
    assert named_service("docker compose logs; docker compose ps") is None
    assert named_service('docker logs "unclosed') is None


def test_a_session_with_nothing_to_read_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "terminal.txt"
    path.write_text(
        "me@box:~$ docker compose version\nDocker Compose version v2.29.1\nme@box:~$\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["detect", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: a pasted terminal session with no logs, events, inspect or ps output"
    ]


def test_a_prompt_running_another_program_ends_the_output_before_it(tmp_path: Path) -> None:
    """`me@box$ sudo ss -ltnp` is a prompt too: the logs before it end there (its line is
    no part of pg's last record), and what `ss` prints is not read. A prompt chaining
    docker commands that `PROMPT` does not parse (`pull && up -d`) still has its output
    read, and its line is no record."""
    session = (
        "me@box:~/wiki$ docker compose pull && docker compose up -d\n"
        " ✔ Container wiki-pg-1     Started      0.5s\n"
        "me@box:~/wiki$ docker compose logs --tail 5\n"
        "pg-1    | 2026-03-13 21:05:12.411 UTC [34] LOG:  connection received: host=172.30.0.3\n"
        "me@box:~/wiki$ sudo ss -ltnp 'sport = :443'\n"
        "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
        'LISTEN 0      511          0.0.0.0:443        0.0.0.0:*     users:(("nginx",pid=1422))\n'
    )
    cuts, prompts = _cut(session)
    assert prompts == 3
    assert [(c.verb, c.first_line) for c in cuts] == [(None, 2), ("logs", 4), ("sudo", 6)]
    result = _read(tmp_path, session)
    messages = result.logs.get_column("message").to_list()
    assert "LOG:  connection received: host=172.30.0.3" in messages[-1]
    assert not [m for m in messages if "ss -ltnp" in m or "LISTEN" in m or "me@box" in m]
    assert "2 lines not read (not logs, events, inspect or ps)" in " ".join(result.summary.notes)


def test_a_program_that_only_names_a_docker_file_is_not_read(tmp_path: Path) -> None:
    """`grep -n BROKER docker-compose.yml .env` names a docker file but runs no docker: what
    it prints (`.env:3:…`) is no log of a service `unknown`, while a chain that does run
    docker (`cd shop && docker compose up`) is still read."""
    session = (
        "me@box:~/shop$ docker compose logs --tail 2 worker\n"
        "worker-1  | [2024-04-02 06:31:17,904: ERROR/MainProcess] consumer: Cannot connect\n"
        "me@box:~/shop$ grep -n BROKER docker-compose.yml .env\n"
        ".env:3:CELERY_BROKER_URL=redis://redis:6379/0\n"
        "me@box:~/shop$ cd ../mail && sudo docker compose up -d\n"
        " ✔ Container mail-smtp-1  Started      0.5s\n"
    )
    cuts, _ = _cut(session)
    assert [(c.verb, c.first_line) for c in cuts] == [("logs", 2), ("grep", 4), (None, 6)]
    result = _read(tmp_path, session)
    assert set(result.logs.get_column("service").to_list()) == {"worker", "mail-smtp"}
    assert "(grep -n BROKER docker-compose.yml .env): 1 line not read" in " ".join(
        result.summary.notes
    )


def test_an_interrupt_echoed_by_the_terminal_is_no_log_line(tmp_path: Path) -> None:
    """`^C` after `logs -f` is the terminal's, not the last container's: it is neither a
    record nor a piece of the record before it, and it is counted with the prompt lines."""
    session = (
        "me@forge:~/git$ docker compose logs -f\n"
        "server-1  | 2022/12/07 20:25:12 [E] Failed to save configuration: permission denied\n"
        "^C\n"
        "me@forge:~/git$ mount | grep /srv/git\n"
        "10.20.0.2:/export/forge on /srv/git type nfs4 (rw,relatime,vers=4.2)\n"
    )
    cuts, prompts = _cut(session)
    assert prompts == 3
    assert b"^C" not in b"".join(c.data for c in cuts)
    result = _read(tmp_path, session)
    assert result.logs.get_column("message").to_list() == [
        "2022/12/07 20:25:12 [E] Failed to save configuration: permission denied"
    ]
    assert "(3 prompt lines not read)" in " ".join(result.summary.notes)


def test_output_about_images_or_networks_is_not_read(tmp_path: Path) -> None:
    """`docker image inspect` prints JSON that looks like an inspect, but of an image: no
    container's state is read from it, and its lines are counted as not read."""
    session = (
        "me@box:~/shop$ docker compose logs --tail 1 api\n"
        "api-1  | 2026-03-13T21:05:12Z ERROR cannot open /data/db.sqlite: permission denied\n"
        "me@box:~/shop$ docker image inspect shop-api --format '{{json .Config}}'\n"
        '[{"Id": "sha256:0f1e", "Config": {"User": "node", "Cmd": ["node", "server.js"]}}]\n'
        "me@box:~/shop$ sudo docker network ls\n"
        "NETWORK ID     NAME           DRIVER    SCOPE\n"
        "4f1c2d3e4b5a   shop_default   bridge    local\n"
    )
    cuts, _ = _cut(session)
    assert [c.verb for c in cuts] == ["logs", "image", "network"]
    result = _read(tmp_path, session)
    assert set(result.logs.get_column("service").to_list()) == {"api"}
    assert result.events.height == 0
    notes = " ".join(result.summary.notes)
    assert "1 line not read" in notes and "2 lines not read" in notes


def test_a_section_without_a_named_service_takes_its_files_name(tmp_path: Path) -> None:
    """Output of a logs command that names no single service is attributed by the file it
    was pasted in (`api.txt`), never by words of the command (`/healthz)`)."""
    session = (
        "me@box:~/shop$ docker logs $(docker ps -q -f name=api) 2>&1 | grep -v /healthz\n"
        "2026-03-13T21:05:12Z ERROR cannot open /data/db.sqlite: permission denied\n"
        "me@box:~/shop$ docker ps --format '{{.Names}} {{.Status}}'\n"
        "shop-api-1 Restarting (1) 3 seconds ago\n"
    )
    result = _read(tmp_path, session, "api.txt")
    assert set(result.logs.get_column("service").to_list()) == {"api"}


def test_a_ps_service_column_names_the_service_of_a_container_name(tmp_path: Path) -> None:
    """`container_name: LibreChat` on service `api`: the ps table's SERVICE column says so,
    and the logs `docker logs LibreChat` printed are service api's."""
    session = (
        "$ docker compose ps\n"
        "NAME        IMAGE                 COMMAND                  SERVICE   CREATED"
        "          STATUS                           PORTS\n"
        'LibreChat   example/chat:0.7      "docker-entrypoint.s…"   api       48 seconds ago'
        "   Restarting (255) 6 seconds ago\n"
        "$ docker logs LibreChat\n"
        "exec /usr/local/bin/docker-entrypoint.sh: exec format error\n"
    )
    result = _read(tmp_path, session)
    assert result.logs.get_column("service").to_list() == ["api"]
    assert result.events.get_column("service").to_list() == ["api"]


def test_the_bracketed_prompt_of_rhel_and_fedora_cuts_too(tmp_path: Path) -> None:
    """`[admin@bi-01 bi]$` (RHEL, Fedora, Rocky, Alma, Amazon Linux) is a prompt: the ps
    table and the logs after it are two inputs, and the prompt is no record."""
    session = (
        "[admin@bi-01 bi]$ docker compose ps\n"
        "NAME       IMAGE          COMMAND          SERVICE   CREATED      STATUS"
        "                  PORTS\n"
        'bi-db-1    postgres:15    "docker-en…"     db        2 days ago   Up 2 days (healthy)'
        "     5432/tcp\n"
        "[admin@bi-01 bi]$ docker compose logs --tail=1 web\n"
        "bi-web-1  | 2024-09-18 14:20:03,118 ERROR java.lang.OutOfMemoryError: Java heap space\n"
        "[root@bi-01 ~]# df -h /\n"
        "/dev/sda1   40G   39G  1.0G  98% /\n"
        "[admin@bi-01 bi]$\n"
    )
    cuts, prompts = _cut(session)
    assert prompts == 4
    assert [(c.verb, c.first_line) for c in cuts] == [("ps", 2), ("logs", 5), ("df", 7)]
    result = _read(tmp_path, session)
    assert result.logs.get_column("service").to_list() == ["web"]
    assert result.events.get_column("service").to_list() == ["db"]


def test_a_v1_ps_table_takes_the_project_another_section_names(tmp_path: Path) -> None:
    """v1's `docker-compose ps` prints `ci_jenkins_1`; its table comes before the logs, and
    only compose's `Creating network "ci_default"` says the project is `ci`. The table's
    row is resolved with everything the paste shows: service jenkins, no `ci_jenkins`."""
    session = (
        "$ docker-compose up -d\n"
        'Creating network "ci_default" with the default driver\n'
        "Creating ci_jenkins_1 ... done\n"
        "$ docker-compose logs jenkins\n"
        "jenkins_1  | touch: cannot touch '/var/jenkins_home/ref.log': Permission denied\n"
        "$ docker-compose ps\n"
        "    Name                  Command               State     Ports\n"
        "----------------------------------------------------------------\n"
        "ci_jenkins_1   /usr/bin/tini -- /usr/loca ...   Restarting\n"
    )
    result = _read(tmp_path, session)
    assert result.events.select("container", "service", "project").rows() == [
        ("ci_jenkins_1", "jenkins", "ci")
    ]
    assert set(result.logs.get_column("service").to_list()) == {"compose", "jenkins"}
    assert not [n for n in result.summary.notes if "kept as printed" in n]


def test_containers_named_by_several_commands_are_resolved_together(tmp_path: Path) -> None:
    """`docker logs shop-api-1`, `… shop-web-1`, `… shop-db-1`, three sections: the names
    are looked at together, so the prefix three numbered names share is their project."""
    session = "".join(
        f"$ docker logs shop-{name}-1 2>&1 | tail -n 1\n{line}\n"
        for name, line in [
            ("api", "2025-03-01 10:00:01,220 ERROR psycopg2.OperationalError: Connection refused"),
            ("web", "2025/03/01 10:00:03 [error] 7#7: *9 connect() failed (111: refused)"),
            ("db", '2025-03-01 10:00:00.100 UTC [1] FATAL:  could not open file "pg_control"'),
        ]
    )
    result = _read(tmp_path, session)
    assert sorted(result.logs.select("service", "project").unique().rows()) == [
        ("api", "shop"),
        ("db", "shop"),
        ("web", "shop"),
    ]


PLAIN_PROMPTS = """\
$ docker compose logs -t db
db-1  | 2026-03-04T10:00:01.100000000Z initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted
db-1 exited with code 1
$ ls -ld ./pgdata
drwxr-xr-x 2 nobody nogroup 4096 Mar  4 09:58 ./pgdata
$ cat docker-compose.yml
services:
  db:
    image: postgres:16
$ docker compose pull && docker compose up -d
db-1  | 2026-03-04T10:05:00.000000000Z database system is ready to accept connections
"""


def test_bare_dollar_prompts_cut_at_other_programs_too(tmp_path: Path) -> None:
    """`$ docker compose logs` then `$ ls -ld …`: the other programs' output is no log, and
    the logs keep their compose format (read whole, they were one raw input, undated)."""
    result = _read(tmp_path, PLAIN_PROMPTS, "issue.txt")
    formats = {Path(s.source.split(" ")[0]).name: s.format.value for s in result.summary.sources}
    assert formats == {"issue.txt:2": "compose", "issue.txt:11": "compose"}
    assert result.logs.get_column("ts").null_count() == 0  # compose's exit line placed too
    notes = " ".join(result.summary.notes)
    assert "issue.txt:5 (ls -ld ./pgdata): 1 line not read" in notes
    assert result.summary.topology is not None  # (the file `cat` printed: the topology)
    assert result.summary.topology.services == ["db"]
    messages = " ".join(result.logs.get_column("message").to_list())
    assert "nogroup" not in messages and "postgres:16" not in messages


def test_a_bare_dollar_is_a_prompt_only_where_docker_ran_after_one() -> None:
    """A `$ …` line in a session whose prompts are `user@host:~$`, and a `# …` comment,
    are output (a script echoing its commands, a config file), never a cut."""
    text = (
        b"me@box:~/ci$ docker logs runner\n"
        b"$ npm ci\n"
        b"added 312 packages in 9s\n"
        b"# generated by setup.sh\n"
        b"me@box:~/ci$\n"
    )
    cut = cut_session(text)
    assert cut is not None
    cuts, prompts = cut
    assert prompts == 2
    assert [(c.command, c.first_line) for c in cuts] == [("docker logs runner", 2)]
    rooted = b"# docker logs runner\nstarting\n# TYPE DATABASE USER\n$ ls\n"
    cut = cut_session(rooted)
    assert cut is not None
    assert [c.command for c in cut[0]] == ["docker logs runner"]


ISSUE = """\
The api keeps restarting since the upgrade. My docker-compose.yml:

```yaml
services:
  api:
    image: shop/api:3.2
    depends_on:
      - cache
  cache:
    image: redis:7
```

And the logs (`docker compose logs -t`):

~~~
api-1    | 2026-04-02T07:15:00.000000000Z Error: getaddrinfo ENOTFOUND redis
api-1    | 2026-04-02T07:15:00.100000000Z ```js
api-1 exited with code 1
~~~

Any idea?
"""


def test_a_markdown_paste_is_read_block_by_block(tmp_path: Path) -> None:
    """An issue's prose is no log, its ```yaml block is the stack's compose file, its
    log block keeps its compose format (read whole it was one raw input of a service
    named after the file, undated)."""
    result = _read(tmp_path, ISSUE, "issue.md")
    assert [(Path(s.source).name, s.format.value) for s in result.summary.sources] == [
        ("issue.md:16", "compose")
    ]
    assert set(result.logs.get_column("service")) == {"api"}
    assert result.logs.get_column("ts").null_count() == 0
    # a fence line of another kind inside a block is the log's own text
    assert any("```js" in m for m in result.logs.get_column("message").to_list())
    topology = result.summary.topology
    assert topology is not None and topology.depends_on == {"api": ["cache"], "cache": []}
    notes = " ".join(result.summary.notes)
    assert "issue.md:1: 1 line not read (the text around the paste's code blocks)" in notes
    assert "issue.md:13: 1 line not read" in notes and "issue.md:21: 1 line not read" in notes
    assert "a pasted Markdown text, read as 1 input (4 fence lines not read)" in notes


def test_the_report_of_a_markdown_paste_names_the_services(tmp_path: Path) -> None:
    path = tmp_path / "issue.md"
    path.write_text(ISSUE, encoding="utf-8")
    result = runner.invoke(app, ["report", str(path), "--format", "md"])
    assert result.exit_code == 0, result.output
    now = result.stdout.split("## What happened")[0]
    assert "| api | exited with code 1 |" in now
    assert "\n| issue | " not in now
    assert "Point api at `cache:6379`" in now  # (the pasted compose file names the service)
    assert "issue.md:4`" in result.stdout  # the compose file it used, among the evidence


def test_a_markdown_paste_without_logs_says_so(tmp_path: Path) -> None:
    path = tmp_path / "issue.md"
    path.write_text("My file:\n```yaml\nservices:\n  web:\n    image: nginx\n```\n", "utf-8")
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 1
    assert "a pasted Markdown text with a compose file but no logs" in result.output
    assert "Traceback" not in result.output


def test_markdown_blocks_and_fences() -> None:
    text = b"intro\n```\na\n~~~\nb\n```\n\n````console\nc\n"
    blocks, fences = cut_markdown(text)
    assert [(b.first_line, b.fenced, b.data) for b in blocks] == [
        (1, False, b"intro\n"),
        (3, True, b"a\n~~~\nb\n"),  # (tildes do not close a backtick block)
        (9, True, b"c\n"),  # (an unclosed block runs to the end)
    ]
    assert fences == 3


def test_a_log_whose_application_printed_a_fence_is_read_whole(tmp_path: Path) -> None:
    """`docker logs app` of an application that logs Markdown (a chat or LLM answer): the
    text around its fences starts as log lines do, so it is read, not taken for prose."""
    path = tmp_path / "app.log"
    path.write_text(
        "2026-06-01 10:00:01,220 INFO app: answer follows\n"
        "```python\n"
        'print("hello")\n'
        "```\n"
        "2026-06-01 10:00:02,310 ERROR app: upstream model server timed out after 30s\n"
        "[2026-06-01 10:00:03] ERROR app: upstream model server timed out after 30s\n",
        encoding="utf-8",
    )
    result = read_inputs([str(path)])
    messages = result.logs.sort("seq").get_column("message").to_list()
    assert len(messages) == 4 and "timed out" in messages[-1]
    assert "not read (the text around" not in " ".join(result.summary.notes)


STATE_SESSION = """\
$ docker compose logs --tail 5 api
api-1  | 2026-06-02T08:00:01.000000000Z INFO loading model weights (4.1 GB)
api-1  | 2026-06-02T08:00:09.000000000Z INFO allocating cache
$ docker inspect shop-api-1 --format '{{json .State}}'
{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":true,"Dead":false,"Pid":0,"ExitCode":137,"Error":"","StartedAt":"2026-06-02T07:59:58.1Z","FinishedAt":"2026-06-02T08:00:12.4Z"}
$ docker inspect --format '{{json .State.Health}}' shop-db-1
{"Status":"unhealthy","FailingStreak":4,"Log":[{"Start":"2026-06-02T08:00:05Z","End":"2026-06-02T08:00:06Z","ExitCode":1,"Output":"pg_isready: no response"}]}
"""


def test_a_pasted_state_object_is_the_named_containers_state(tmp_path: Path) -> None:
    """`docker inspect NAME --format '{{json .State}}'`, the usual answer to "was it
    OOM-killed?": its OOM kill and exit code are the container's, and the full name the
    command gives is the service the logs print shorter (before: one raw record, and no
    incident found)."""
    result = _read(tmp_path, STATE_SESSION, "session.txt")
    formats = [s.format.value for s in result.summary.sources]
    assert formats == ["inspect", "inspect", "compose"]
    events = result.events.select("container", "service", "action", "exit_code", "status")
    oom = events.filter(pl.col("action") == "oom").rows()
    assert oom == [("shop-api-1", "api", "oom", 137, None)]
    probes = events.filter(pl.col("action") == "probe")
    # (no `db-1` in the logs, but `shop` is the project `shop-api-1` showed)
    assert probes.get_column("service").to_list() == ["db"]
    report = runner.invoke(app, ["report", str(tmp_path / "session.txt"), "--format", "md"])
    assert report.exit_code == 0, report.output
    assert "| api | exited, oom-killed |" in report.stdout
    assert "Raise the memory limit of api" in report.stdout


def test_inspect_commands_name_their_container() -> None:
    assert named_service("docker inspect shop-api-1 --format '{{json .State}}'") == "shop-api-1"
    assert named_service("docker container inspect -f '{{json .State.Health}}' web") == "web"
    assert named_service("docker logs -f web") == "web"  # (`logs -f` takes no value)
    assert named_service("docker inspect api web") is None


DMESG_SESSION = """\
$ docker compose ps
NAME              IMAGE             COMMAND                  SERVICE   CREATED          STATUS                       PORTS
shop-search-1     elasticsearch:8   "/bin/tini -- /usr/l…"   search    10 minutes ago   Exited (137) 2 minutes ago
shop-web-1        shop-web          "node server.js"         web       10 minutes ago   Up 10 minutes
$ sudo dmesg -T | tail -3
[Tue Jun  2 08:00:11 2026] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
[Tue Jun  2 08:00:11 2026] Memory cgroup out of memory: Killed process 4321 (java) total-vm:6212345kB, anon-rss:2093120kB
$ tail -n 2 /var/log/nginx/error.log
2026/06/02 08:00:14 [error] 31#31: *7 connect() failed (111: Connection refused) while connecting to upstream
2026/06/02 08:00:15 [error] 31#31: *8 connect() failed (111: Connection refused) while connecting to upstream
$ cat .env
ES_JAVA_OPTS=-Xms4g -Xmx4g
"""


def test_log_viewers_output_is_read_and_named(tmp_path: Path) -> None:
    """`dmesg` and `tail FILE` print logs: read, as the kernel's and as the file's (its
    folder's, when the file is `error.log`); `cat .env` prints none."""
    result = _read(tmp_path, DMESG_SESSION, "session.txt")
    by_service = dict(result.logs.group_by("service").len().iter_rows())
    assert by_service == {"kernel": 2, "nginx": 2}
    assert "session.txt:12 (cat .env): 1 line not read" in " ".join(result.summary.notes)
    assert named_service("grep -i error /srv/app/logs/worker.log") == "worker"
    assert named_service("journalctl -u docker") is None  # (the journal names its programs)


def test_the_kernels_oom_kill_is_the_container_the_engine_saw_killed(tmp_path: Path) -> None:
    """`dmesg` says the kernel killed `java`, `ps` that search exited with 137 (SIGKILL),
    and no other container did: the kill is search's (before: a service named kernel,
    whose memory limit the report said to raise)."""
    path = tmp_path / "session.txt"
    path.write_text(DMESG_SESSION, encoding="utf-8")
    detect = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    rows = [json.loads(line) for line in detect.stdout.splitlines()]
    assert {(r["service"], r["category"]) for r in rows if r["category"] == "oom-killed"} == {
        ("search", "oom-killed")
    }
    twice = DMESG_SESSION.replace("Up 10 minutes", "Exited (137) 1 minute ago")
    path.write_text(twice, encoding="utf-8")
    detect = runner.invoke(app, ["detect", str(path), "--format", "jsonl"])
    rows = [json.loads(line) for line in detect.stdout.splitlines()]
    assert {r["service"] for r in rows if r["category"] == "oom-killed"} == {"kernel"}


TAILED = """\
==> /srv/shop/logs/api.log <==
2026-12-05T09:12:01.114Z info: server listening on :3000
2026-12-05T09:14:22.871Z error: Error: connect ECONNREFUSED 10.0.3.7:6379
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)

==> /var/log/redis/redis-server.log <==
1:C 05 Dec 2026 09:14:20.002 # Redis is starting
1:M 05 Dec 2026 09:14:20.010 # Fatal error loading the DB: Permission denied. Exiting.
"""


def test_tail_of_several_files_is_read_file_by_file(tmp_path: Path) -> None:
    """`tail -n 50 a.log b.log` prints `==> FILE <==` before each file's lines: each file
    is an input of its own, named by the file (before: one input named after the paste,
    whose service had every file's errors, headers and all)."""
    result = _read(tmp_path, TAILED, "paste.txt")
    messages = dict(result.logs.group_by("service").agg(pl.col("message")).iter_rows())
    assert set(messages) == {"api", "redis-server"}
    assert len(messages["api"]) == 2 and len(messages["redis-server"]) == 2
    assert not [m for ms in messages.values() for m in ms if "==>" in m or not m.strip()]
    sources = [s.source.removeprefix(f"{tmp_path}/") for s in result.summary.sources]
    assert sources == [
        "paste.txt:2 (/srv/shop/logs/api.log)",
        "paste.txt:7 (/var/log/redis/redis-server.log)",
    ]
    assert "read as 2 inputs (2 header lines not read)" in " ".join(result.summary.notes)


def test_a_session_of_log_viewers_alone_is_cut_too(tmp_path: Path) -> None:
    """A session that runs no docker command, only `tail` of the logs, is still a
    session: its prompt lines are no log lines, and what tail printed is read per file."""
    session = "me@box:~/shop$ tail -n 3 logs/*.log\n" + TAILED + "me@box:~/shop$\n"
    cuts, prompts = _cut(session)
    assert prompts == 2 and [c.verb for c in cuts] == ["tail"]
    result = _read(tmp_path, session)
    assert set(result.logs.get_column("service").unique()) == {"api", "redis-server"}
    assert not result.logs.filter(pl.col("message").str.contains("me@box")).height
    assert "(2 prompt lines and 2 header lines not read)" in " ".join(result.summary.notes)


@pytest.mark.parametrize(
    ("file", "service"),
    [
        ("logs/api.log", "api"),
        ("/var/log/nginx/error.log", "nginx"),
        ("worker", "worker"),
        ("logs/*.log", None),
        ("/var/log/syslog", None),
    ],
)
def test_the_service_a_log_files_path_names(file: str, service: str | None) -> None:
    assert file_service(file) == service


LABELLED = """\
api logs:
2026-12-04 18:22:03.977 ERROR 1 --- [main] com.zaxxer.hikari.pool.HikariPool : Exception during pool initialization.
org.postgresql.util.PSQLException: FATAL: password authentication failed for user "orders"

Logs from db:
2026-12-04 18:22:03.970 UTC [58] FATAL:  password authentication failed for user "orders"
"""


@pytest.mark.parametrize(
    ("text", "services"),
    [
        (LABELLED, {"api", "db"}),
        (LABELLED.replace("api logs:", "=== api ===").replace("Logs from db:", "--- db ---"), None),
        (LABELLED.replace("api logs:", "### `api` container logs"), {"api", "db"}),
        (LABELLED.replace("api logs:", "**Full logs:**"), {"unknown", "db"}),
    ],
)
def test_labels_people_write_above_each_services_lines_name_them(
    tmp_path: Path, text: str, services: set[str] | None
) -> None:
    """`api logs:` / `Logs from db:` / `=== api ===` above each service's lines: each is an
    input of that service, the label lines counted (before: one input named after the
    paste, both services' errors its own); a label naming nobody (`Full logs:`) still ends
    the lines before it."""
    result = _read(tmp_path, text, "paste.txt")
    assert set(result.logs.get_column("service").unique()) == (services or {"api", "db"})
    headers = r"^(?:api logs|Logs from|===|---|###|\*\*)"
    assert not result.logs.filter(pl.col("message").str.contains(headers)).height
    assert "(2 header lines not read)" in " ".join(result.summary.notes)


def test_one_ruled_line_is_a_banner_not_a_label(tmp_path: Path) -> None:
    """An application's own `=== config ===` banner, alone, names no section."""
    text = "=== config ===\n2026-12-04 18:22:03 INFO loaded 3 plugins\n"
    result = _read(tmp_path, text, "api.log")
    assert result.logs.get_column("service").to_list() == ["api", "api"]


def test_a_label_above_a_code_block_names_its_service(tmp_path: Path) -> None:
    """In an issue post, `**worker logs:**` above a code block names whose lines it holds."""
    post = (
        "The worker dies on start.\n\n**worker logs:**\n```\n"
        "2026-12-04 18:22:03 ERROR celery: Cannot connect to redis://cache:6379/0\n```\n"
    )
    result = _read(tmp_path, post, "issue.md")
    assert result.logs.get_column("service").to_list() == ["worker"]
