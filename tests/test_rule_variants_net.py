"""Network-failure wordings across libraries, libcs, shells and runtimes.

Each row is a message in the shape a real stack prints it (the error wording
is the library's own; hosts, ports, users and the text around it are made
up), and the category the built-in packs must give it. Rows whose category is
None are near misses: harmless lines naming the same words (DEBUG lines,
config dumps, retries that then succeed, counters of 0, docs text) that must
produce no finding of these categories.

All rows run through the real pipeline at once (`read_inputs` ->
`detect_findings`), one compose service per row, so a row can span several
lines (a traceback, a Java stack) and still be one record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentlog.detect import compile_rules, detect_findings, load_rules
from incidentlog.ingest import read_inputs

CR = "connection-refused"
DNS = "dns-resolution"
TO = "timeout"
TLS = "tls-error"
AUTH = "auth-failure"
PIU = "port-in-use"
MINE = {CR, DNS, TO, TLS, AUTH, PIU}

# (category or None, message). "\n" separates lines of one record.
ROWS: list[tuple[str | None, str]] = [
    # ------------------------------------------------------------ connection-refused
    (CR, "Error: connect ECONNREFUSED 172.19.0.4:5432"),
    (CR, "Error: connect ECONNREFUSED ::1:6379"),
    (
        CR,
        "AggregateError [ECONNREFUSED]: \n"
        "    at internalConnectMultiple (node:net:1117:18)\n"
        "    at afterConnectMultiple (node:net:1684:7) {\n"
        "  code: 'ECONNREFUSED',",
    ),
    (
        CR,
        "TypeError: fetch failed\n"
        "    at node:internal/deps/undici/undici:13502:13\n"
        "    at process.processTicksAndRejections (node:internal/process/task_queues:105:5) {\n"
        "  [cause]: Error: connect ECONNREFUSED 172.20.0.7:8080",
    ),
    (
        CR,
        '{"level":50,"msg":"redis down","err":{"type":"Error","message":"connect ECONNREFUSED 10.5.0.3:6379","code":"ECONNREFUSED"}}',
    ),
    (CR, "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 172.18.0.9:6379"),
    (CR, "MongooseServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"),
    (
        CR,
        "ERROR: Error fetching job: Error connecting to Redis on localhost:6380 "
        "(Errno::ECONNREFUSED)",
    ),
    (
        CR,
        "Faraday::ConnectionFailed: Failed to open TCP connection to search:9200 (Connection "
        'refused - connect(2) for "search" port 9200)',
    ),
    (CR, "Errno::ECONNREFUSED: Connection refused - connect(2) for 127.0.0.1:5432"),
    (CR, "Bunny::TCPConnectionFailed: Could not establish TCP connection to mq:5672: refused"),
    (CR, "Error: P1001: Can't reach database server at `pgsql:5432`"),
    (
        CR,
        "Error: P1001: Can't reach database server at `pgsql`:`5432`\n\nPlease make sure your database server is running at `pgsql`:`5432`.",
    ),
    (
        CR,
        'time="2025-08-01T12:30:00Z" level=fatal msg="open db" error="dial tcp 172.23.0.2:5432: connect: connection refused"',
    ),
    (
        CR,
        "failed to connect to `host=ledger user=app database=ledger`: dial error (dial tcp 172.21.0.3:5432: connect: connection refused)",
    ),
    (
        CR,
        "failed to connect to `user=app database=ledger`: 172.21.0.3:5432 (ledger): dial error: dial tcp 172.21.0.3:5432: connect: connection refused",
    ),
    (
        CR,
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 172.22.0.6:50051: connect: connection refused"',
    ),
    (CR, "dial tcp [::1]:9000: connect: connection refused"),
    (
        CR,
        'psycopg2.OperationalError: connection to server at "ledger" (172.18.0.3), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
    ),
    (
        CR,
        'psycopg.OperationalError: connection failed: connection to server at "172.18.0.3", port 5432 failed: Connection refused',
    ),
    (CR, "ConnectionRefusedError: [Errno 111] Connect call failed ('172.18.0.3', 5432)"),
    (
        CR,
        "OSError: Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', 5432), [Errno 99] Cannot assign requested address",
    ),
    (
        CR,
        "redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. Connection refused.",
    ),
    (
        CR,
        "[2025-08-01 12:30:00,000: ERROR/MainProcess] consumer: Cannot connect to amqp://guest:**@broker:5672//: [Errno 111] Connection refused.",
    ),
    (
        CR,
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='search', port=9200): Max retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a>: Failed to establish a new connection: [Errno 111] Connection refused'))",
    ),
    (CR, "httpx.ConnectError: All connection attempts failed"),
    (CR, "httpcore.ConnectError: [Errno 111] Connection refused"),
    (
        CR,
        "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host billing:8000 ssl:default [Connect call failed ('172.18.0.5', 8000)]",
    ),
    (
        CR,
        "django.db.utils.OperationalError: (2002, \"Can't connect to MySQL server on 'mariadb' (115)\")",
    ),
    (
        CR,
        "django.db.utils.OperationalError: (2003, \"Can't connect to MySQL server on 'mariadb' ([Errno 111] Connection refused)\")",
    ),
    (
        CR,
        "MySQLdb.OperationalError: (2002, \"Can't connect to MySQL server on 'mariadb:3306' (111)\")",
    ),
    (
        CR,
        "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2003, \"Can't connect to MySQL server on 'mysql' ([Errno 111] Connection refused)\")",
    ),
    (
        CR,
        "(2002, \"Can't connect to local MySQL server through socket '/run/mysqld/mysqld.sock' (2)\")",
    ),
    (CR, "PDOException: SQLSTATE[HY000] [2002] Connection refused"),
    (
        CR,
        "SQLSTATE[HY000] [2002] No such file or directory (Connection: mysql, SQL: select * from `sessions`)",
    ),
    (
        CR,
        "Warning: mysqli::__construct(): (HY000/2002): Connection refused in /var/www/html/index.php on line 12",
    ),
    (
        CR,
        "com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure\n"
        "\n"
        "The last packet sent successfully to the server was 0 milliseconds ago. The driver has not received any packets from the server.",
    ),
    (
        CR,
        "org.postgresql.util.PSQLException: Connection to pgsql:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
    ),
    (CR, "Caused by: java.net.ConnectException: Connection refused"),
    (
        CR,
        "io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: cache/172.18.0.4:6379",
    ),
    (
        CR,
        "org.springframework.data.redis.RedisConnectionFailureException: Unable to connect to Redis; nested exception is io.lettuce.core.RedisConnectionException: Unable to connect to cache:6379",
    ),
    (
        CR,
        "2025-08-01 12:30:00.000  WARN 1 --- [| adminclient-1] org.apache.kafka.clients.NetworkClient   : [AdminClient clientId=adminclient-1] Connection to node -1 (localhost/127.0.0.1:9092) could not be established. Broker may not be available.",
    ),
    (
        CR,
        'PG::ConnectionBad: could not connect to server: Connection refused\n\tIs the server running on host "pgsql" (172.18.0.2) and accepting\n\tTCP/IP connections on port 5432?',
    ),
    (
        CR,
        'Errno::ECONNREFUSED: Failed to open TCP connection to api:3000 (Connection refused - connect(2) for "api" port 3000)',
    ),
    (
        CR,
        "Redis::CannotConnectError: Error connecting to Redis on cache:6379 (Errno::ECONNREFUSED)",
    ),
    (
        CR,
        "Npgsql.NpgsqlException (0x80004005): Failed to connect to 172.18.0.2:5432\n ---> System.Net.Sockets.SocketException (111): Connection refused",
    ),
    (CR, "System.Net.Http.HttpRequestException: Connection refused (orders:8080)"),
    (
        CR,
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible.",
    ),
    (
        CR,
        "No connection could be made because the target machine actively refused it. (localhost:5432)",
    ),
    (
        CR,
        "Error: error sending request for url (http://catalog:8000/items): error trying to connect: tcp connect error: Connection refused (os error 111)",
    ),
    (CR, "Error: error communicating with database: Connection refused (os error 111)"),
    (
        CR,
        "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server",
    ),
    (CR, "curl: (7) Failed to connect to api port 3000: Connection refused"),
    (CR, "wget: can't connect to remote host (127.0.0.1): Connection refused"),
    (CR, "Connecting to api (api)|172.18.0.6|:8000... failed: Connection refused."),
    (CR, "nc: connect to ledger port 5432 (tcp) failed: Connection refused"),
    (
        CR,
        '2025/08/01 12:30:00 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 172.18.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.4:3000/", host: "localhost"',
    ),
    (
        CR,
        '2025/08/01 12:30:00 [error] 29#29: *7 connect() failed (113: Host is unreachable) while connecting to upstream, client: 172.18.0.1, server: _, request: "GET / HTTP/1.1", upstream: "http://172.18.0.9:80/"',
    ),
    (
        CR,
        '2025/08/01 12:30:00 [error] 29#29: *3 no live upstreams while connecting to upstream, client: 172.18.0.1, server: _, request: "GET /api HTTP/1.1", upstream: "http://backend/api"',
    ),
    (
        CR,
        "2025/08/01 12:30:00 [crit] 29#29: *5 connect() to unix:/run/php/php-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 172.18.0.1",
    ),
    (
        CR,
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
    ),
    (
        CR,
        '[WARNING] 123/123000 (8) : Server app/app1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms.',
    ),
    (
        CR,
        "** (DBConnection.ConnectionError) tcp connect (pgsql:5432): connection refused - :econnrefused",
    ),
    (CR, "Could not connect to Redis at cache:6379: Connection refused"),
    (
        CR,
        "MongoNetworkError: failed to connect to server [mongo:27017] on first connect [Error: connect ECONNREFUSED 172.18.0.3:27017",
    ),
    (CR, "FATAL:  the database system is starting up"),
    (CR, "java.net.ConnectException: Connection refused (Connection refused)"),
    (CR, "CONNECTION REFUSED by upstream 10.0.0.4:443"),
    # ------------------------------------------------------------ dns-resolution
    (
        DNS,
        'psycopg2.OperationalError: could not translate host name "pgsql" to address: Name or service not known',
    ),
    (
        DNS,
        'psycopg2.OperationalError: could not translate host name "pgsql" to address: Name does not resolve',
    ),
    (
        DNS,
        'psycopg2.OperationalError: could not translate host name "pgsql" to address: Temporary failure in name resolution',
    ),
    (DNS, "socket.gaierror: [Errno -2] Name or service not known"),
    (
        DNS,
        "WARN fetch: error sending request for url (https://feeds.example.org/rss): client "
        "error (Connect): dns error: failed to lookup address information: Name does not resolve",
    ),
    (DNS, "socket.gaierror: [Errno -3] Try again"),
    (DNS, "socket.gaierror: [Errno -5] No address associated with hostname"),
    (
        DNS,
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='catalog', port=8000): Max retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Try again'))",
    ),
    (
        DNS,
        "urllib3.exceptions.NameResolutionError: <urllib3.connection.HTTPConnection object at 0x7f>: Failed to resolve 'catalog' ([Errno -2] Name or service not known)",
    ),
    (
        DNS,
        "redis.exceptions.ConnectionError: Error -2 connecting to cache:6379. Name or service not known.",
    ),
    (DNS, "redis.exceptions.ConnectionError: Error -3 connecting to cache:6379. Try again."),
    (
        DNS,
        "redis.exceptions.ConnectionError: Error -2 connecting to cache:6379. Name does not resolve.",
    ),
    (DNS, "kombu.exceptions.OperationalError: [Errno -2] Name or service not known"),
    (
        DNS,
        "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host billing:80 ssl:default [Name or service not known]",
    ),
    (
        DNS,
        "aiohttp.client_exceptions.ClientConnectorDNSError: Cannot connect to host billing:80 ssl:default [Domain name not found]",
    ),
    (DNS, "urllib.error.URLError: <urlopen error [Errno -2] Name or service not known>"),
    (DNS, "django.db.utils.OperationalError: (2005, \"Unknown MySQL server host 'mariadb' (-2)\")"),
    (DNS, "django.db.utils.OperationalError: (2005, \"Unknown server host 'mariadb' (-3)\")"),
    (DNS, "Error: getaddrinfo ENOTFOUND pgsql"),
    (DNS, "Error: getaddrinfo EAI_AGAIN pgsql"),
    (DNS, "MongooseServerSelectionError: getaddrinfo ENOTFOUND mongo"),
    (
        DNS,
        '{"level":"error","message":"getaddrinfo ENOTFOUND queue","code":"ENOTFOUND","hostname":"queue"}',
    ),
    (DNS, "Error: queryA ENOTFOUND api.internal"),
    (DNS, "dial tcp: lookup pgsql on 127.0.0.11:53: no such host"),
    (
        DNS,
        "SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo for mariadb failed: Temporary failure in name resolution",
    ),
    (DNS, "dial tcp: lookup pgsql: no such host"),
    (DNS, "dial tcp: lookup registry.local on 127.0.0.11:53: server misbehaving"),
    (
        DNS,
        "dial tcp: lookup pgsql on 127.0.0.11:53: read udp 127.0.0.1:40000->127.0.0.11:53: i/o timeout",
    ),
    (
        DNS,
        'level=error msg="cannot dial" err="dial tcp: lookup cache on 127.0.0.11:53: no such host"',
    ),
    (DNS, "java.net.UnknownHostException: pgsql: Name or service not known"),
    (DNS, "java.net.UnknownHostException: pgsql: Temporary failure in name resolution"),
    (DNS, "Caused by: java.nio.channels.UnresolvedAddressException"),
    (
        DNS,
        "[2025-08-01 12:30:00,000] WARN Couldn't resolve server broker:9092 from bootstrap.servers as DNS resolution failed for broker (org.apache.kafka.clients.ClientUtils)",
    ),
    (
        DNS,
        "org.apache.kafka.common.config.ConfigException: No resolvable bootstrap urls given in bootstrap.servers",
    ),
    (
        DNS,
        "%3|1722515400.000|FAIL|rdkafka#producer-1| [thrd:broker:9092/bootstrap]: broker:9092/bootstrap: Failed to resolve 'broker:9092': Name or service not known (after 2ms in state CONNECT)",
    ),
    (
        DNS,
        "%3|1722515400.000|FAIL|rdkafka#consumer-1| [thrd:broker:9092/bootstrap]: broker:9092/bootstrap: Failed to resolve 'broker:9092': Try again (after 5004ms in state CONNECT)",
    ),
    (DNS, "ERROR:kafka.conn:DNS lookup failed for broker:9092 (AddressFamily.AF_UNSPEC)"),
    (
        DNS,
        "SocketError: Failed to open TCP connection to api:80 (getaddrinfo: Name does not resolve)",
    ),
    (DNS, "Socket::ResolutionError: getaddrinfo(3): Name or service not known"),
    (
        DNS,
        "PDOException: SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo for mariadb failed: Name or service not known",
    ),
    (
        DNS,
        "SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo failed: Temporary failure in name resolution",
    ),
    (DNS, "php_network_getaddresses: getaddrinfo for mariadb failed: Try again"),
    (DNS, "System.Net.Sockets.SocketException (00000005, 0xFFFDFFFE): Name or service not known"),
    (
        DNS,
        "System.Net.Http.HttpRequestException: Resource temporarily unavailable (orders:80)\n ---> System.Net.Sockets.SocketException (11): Resource temporarily unavailable",
    ),
    (DNS, "System.Net.Sockets.SocketException (11001): No such host is known."),
    (
        DNS,
        "Error: error sending request for url (http://catalog:8000/): error trying to connect: dns error: failed to lookup address information: Name or service not known",
    ),
    (DNS, "error trying to connect: dns error: failed to lookup address information: Try again"),
    (
        DNS,
        "Error: error communicating with database: failed to lookup address information: Name does not resolve",
    ),
    (DNS, "curl: (6) Could not resolve host: catalog"),
    (DNS, "wget: bad address 'catalog:8000'"),
    (DNS, "wget: unable to resolve host address 'catalog'"),
    (DNS, "Resolving catalog (catalog)... failed: Name or service not known."),
    (DNS, "ping: bad address 'pgsql'"),
    (DNS, "nc: bad address 'pgsql'"),
    (DNS, 'nc: getaddrinfo for host "pgsql" port 5432: Name or service not known'),
    (DNS, "** server can't find pgsql: NXDOMAIN"),
    (
        DNS,
        "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
    ),
    (
        DNS,
        '2025/08/01 12:30:00 [emerg] 1#1: host not found in upstream "webapp:3000" in /etc/nginx/conf.d/app.conf:7',
    ),
    (
        DNS,
        '2025/08/01 12:30:00 [error] 24#24: *9 no resolver defined to resolve webapp, client: 172.18.0.1, server: _, request: "GET / HTTP/1.1"',
    ),
    (
        DNS,
        "2025/08/01 12:30:00 [error] 24#24: *9 webapp could not be resolved (3: Host not found), client: 172.18.0.1, server: _",
    ),
    (
        DNS,
        "2025/08/01 12:30:00 [error] 24#24: send() failed (111: Connection refused) while resolving, resolver: 127.0.0.11:53",
    ),
    (DNS, "getaddrinfo: nodename nor servname provided, or not known"),
    (
        DNS,
        "** (DBConnection.ConnectionError) tcp connect (pgsql:5432): non-existing domain - :nxdomain",
    ),
    (
        DNS,
        'details = "DNS resolution failed for catalog:50051: C-ares status is not ARES_SUCCESS qtype=A name=catalog is_balancer=0: Domain name not found"',
    ),
    # ------------------------------------------------------------ timeout
    (TO, "Error: connect ETIMEDOUT 10.0.0.5:443"),
    (TO, "AxiosError: timeout of 5000ms exceeded"),
    (TO, "MongooseError: Operation `users.findOne()` buffering timed out after 10000ms"),
    (TO, "MongooseServerSelectionError: Server selection timed out after 30000 ms"),
    (TO, "Error: Connection terminated due to connection timeout"),
    (TO, "Error: timeout exceeded when trying to connect"),
    (
        TO,
        "TypeError: fetch failed\n"
        "    at node:internal/deps/undici/undici:13502:13 {\n"
        "  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: api.example.test:443, timeout: 10000ms)\n"
        "      at onConnectTimeout (node:internal/deps/undici/undici:2602:28) {\n"
        "    code: 'UND_ERR_CONNECT_TIMEOUT'",
    ),
    (
        TO,
        "HeadersTimeoutError: Headers Timeout Error\n    at Timeout.onParserTimeout (node:internal/deps/undici/undici:8228:32) {\n  code: 'UND_ERR_HEADERS_TIMEOUT'",
    ),
    (TO, "DOMException [TimeoutError]: The operation was aborted due to timeout"),
    (
        TO,
        'level=error msg="request failed" error="Get \\"http://catalog:8000/\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"',
    ),
    (TO, "dial tcp 10.0.0.5:5432: i/o timeout"),
    (
        TO,
        "failed to connect to `host=pgsql user=app database=app`: dial error (timeout: context deadline exceeded)",
    ),
    (TO, "rpc error: code = DeadlineExceeded desc = context deadline exceeded"),
    (
        TO,
        "net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
    ),
    (TO, "net/http: timeout awaiting response headers"),
    (
        TO,
        "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='catalog', port=8000): Read timed out. (read timeout=10)",
    ),
    (
        TO,
        "requests.exceptions.ConnectTimeout: HTTPConnectionPool(host='10.9.0.1', port=80): Max retries exceeded with url: / (Caused by ConnectTimeoutError(<urllib3.connection.HTTPConnection object at 0x7f>, 'Connection to 10.9.0.1 timed out. (connect timeout=5)'))",
    ),
    (TO, "httpx.ReadTimeout: timed out"),
    (TO, "2025-08-01 12:30:00,000 ERROR [app.client] upstream call failed: httpx.ConnectTimeout"),
    (TO, "asyncio.exceptions.TimeoutError"),
    (TO, "TimeoutError: [Errno 110] Connection timed out"),
    (
        TO,
        'psycopg2.OperationalError: connection to server at "pgsql" (10.0.0.5), port 5432 failed: Connection timed out',
    ),
    (TO, "psycopg2.OperationalError: timeout expired"),
    (TO, "redis.exceptions.TimeoutError: Timeout connecting to server"),
    (TO, "redis.exceptions.TimeoutError: Timeout reading from socket"),
    (TO, "aiohttp.client_exceptions.ServerTimeoutError: Timeout on reading data from socket"),
    (
        TO,
        "aiohttp.client_exceptions.ConnectionTimeoutError: Connection timeout to host http://catalog:8000/",
    ),
    (
        TO,
        "pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on 'mariadb' (timed out)\")",
    ),
    (
        TO,
        "pymongo.errors.ServerSelectionTimeoutError: mongo:27017: timed out, Timeout: 30s, Topology Description: <TopologyDescription>",
    ),
    (TO, "[2025-08-01 12:30:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)"),
    (TO, "Thu Aug  1 12:30:00 2025 - *** HARAKIRI ON WORKER 2 (pid: 41, try: 1) ***"),
    (
        TO,
        "[2025-08-01 12:30:00,000: ERROR/MainProcess] Hard time limit (300s) exceeded for tasks.export[0f4c]",
    ),
    (TO, "celery.exceptions.SoftTimeLimitExceeded: SoftTimeLimitExceeded()"),
    (TO, "java.net.SocketTimeoutException: Read timed out"),
    (TO, "java.net.SocketTimeoutException: Connect timed out"),
    (TO, "Caused by: java.net.http.HttpTimeoutException: request timed out"),
    (TO, "io.netty.handler.timeout.ReadTimeoutException: null"),
    (TO, "io.lettuce.core.RedisCommandTimeoutException: Command timed out after 1 minute(s)"),
    (
        TO,
        "org.apache.kafka.common.errors.TimeoutException: Timeout expired while fetching topic metadata",
    ),
    (
        TO,
        "org.apache.kafka.common.errors.TimeoutException: Topic events not present in metadata after 60000 ms.",
    ),
    (
        TO,
        "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listTopics",
    ),
    (TO, "Net::ReadTimeout: Net::ReadTimeout with #<TCPSocket:(closed)>"),
    (TO, "Net::OpenTimeout: execution expired"),
    (
        TO,
        "Rack::Timeout::RequestTimeoutException: Request waited 12ms, then ran for longer than 15000ms",
    ),
    (
        TO,
        "PHP Fatal error:  Maximum execution time of 30 seconds exceeded in /var/www/html/report.php on line 88",
    ),
    (TO, "cURL error 28: Operation timed out after 30001 milliseconds with 0 bytes received"),
    (TO, "SQLSTATE[HY000] [2002] Connection timed out"),
    (
        TO,
        "System.Threading.Tasks.TaskCanceledException: The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.",
    ),
    (
        TO,
        "Npgsql.NpgsqlException (0x80004005): Exception while reading from stream\n ---> System.TimeoutException: Timeout during reading attempt",
    ),
    (
        TO,
        "Microsoft.Data.SqlClient.SqlException (0x80131904): Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.",
    ),
    (TO, "Error: error sending request for url (http://catalog:8000/): operation timed out"),
    (TO, "curl: (28) Connection timed out after 5001 milliseconds"),
    (TO, "curl: (28) Failed to connect to catalog port 8000 after 134 ms: Timeout was reached"),
    (TO, "wget: download timed out"),
    (TO, "wait-for-it.sh: timeout occurred after waiting 15 seconds for pgsql:5432"),
    (
        TO,
        "2025/08/01 12:30:00 Timeout after 30s waiting on dependencies to become available: [tcp://pgsql:5432]",
    ),
    (
        TO,
        '2025/08/01 12:30:00 [error] 30#30: *12 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 172.18.0.1, upstream: "http://172.18.0.4:8000/report"',
    ),
    (
        TO,
        "2025/08/01 12:30:00 [error] 30#30: *12 upstream timed out (110: Operation timed out) while connecting to upstream, client: 172.18.0.1",
    ),
    (TO, "upstream request timeout"),
    (TO, "<html><head><title>504 Gateway Time-out</title></head>"),
    (TO, "2025-08-01 12:30:00.001 UTC [77] ERROR:  canceling statement due to statement timeout"),
    (
        TO,
        "2025-08-01 12:30:00.001 UTC [77] FATAL:  terminating connection due to idle-session timeout",
    ),
    (TO, "java.sql.SQLException: Lock wait timeout exceeded; try restarting transaction"),
    # ------------------------------------------------------------ tls-error
    (
        TLS,
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
    ),
    (
        TLS,
        "requests.exceptions.SSLError: HTTPSConnectionPool(host='vault', port=8200): Max retries exceeded with url: / (Caused by SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')))",
    ),
    (
        TLS,
        "requests.exceptions.SSLError: HTTPSConnectionPool(host='vault', port=8200): Max retries exceeded with url: / (Caused by SSLError(SSLEOFError(8, 'EOF occurred in violation of protocol (_ssl.c:2426)')))",
    ),
    (
        TLS,
        "ssl.SSLError: [SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)",
    ),
    (
        TLS,
        "ssl.SSLError: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)",
    ),
    (
        TLS,
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'vault'. (_ssl.c:1006)",
    ),
    (
        TLS,
        'psycopg2.OperationalError: connection to server at "pgsql" (172.18.0.2), port 5432 failed: server does not support SSL, but SSL was required',
    ),
    (
        TLS,
        'psycopg2.OperationalError: connection to server at "pgsql" (172.18.0.2), port 5432 failed: root certificate file "/root/.postgresql/root.crt" does not exist',
    ),
    (TLS, 'ConnectionError: PostgreSQL server at "pgsql:5432" rejected SSL upgrade'),
    (TLS, "Error: The server does not support SSL connections"),
    (
        TLS,
        "ERROR 2026 (HY000): SSL connection error: error:0A000086:SSL routines::certificate verify failed",
    ),
    (TLS, "Error: self-signed certificate in certificate chain"),
    (TLS, "Error: self signed certificate"),
    (TLS, "Error: unable to verify the first certificate"),
    (
        TLS,
        "Error: certificate has expired\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1659:34) {\n  code: 'CERT_HAS_EXPIRED'",
    ),
    (
        TLS,
        "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: vault. is not in the cert's altnames: DNS:localhost",
    ),
    (
        TLS,
        "Error: write EPROTO 40A8B1F4A17F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:",
    ),
    (TLS, "code: 'ERR_SSL_WRONG_VERSION_NUMBER'"),
    (TLS, "Error: Client network socket disconnected before secure TLS connection was established"),
    (
        TLS,
        "Error: P1011: Error opening a TLS connection: self signed certificate in certificate chain",
    ),
    (TLS, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    (
        TLS,
        'time="2025-08-01T12:30:00Z" level=error msg="push failed" error="Get \\"https://registry.local:5000/v2/\\": x509: certificate signed by unknown authority"',
    ),
    (
        TLS,
        "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2025-08-01T12:30:00Z is after 2025-07-01T00:00:00Z",
    ),
    (TLS, "x509: cannot validate certificate for 10.0.0.8 because it doesn't contain any IP SANs"),
    (TLS, "remote error: tls: handshake failure"),
    (TLS, 'Get "https://registry.local:5000/v2/": http: server gave HTTP response to HTTPS client'),
    (
        TLS,
        'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"',
    ),
    (
        TLS,
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
    ),
    (TLS, "javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?"),
    (
        TLS,
        "Caused by: java.security.cert.CertificateExpiredException: NotAfter: Tue Jul 01 00:00:00 UTC 2025",
    ),
    (TLS, "javax.net.ssl.SSLPeerUnverifiedException: Hostname vault not verified"),
    (TLS, "org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed"),
    (
        TLS,
        "OpenSSL::SSL::SSLError: SSL_connect returned=1 errno=0 peeraddr=10.0.0.8:443 state=error: certificate verify failed (unable to get local issuer certificate)",
    ),
    (
        TLS,
        "OpenSSL::SSL::SSLError: SSL_connect returned=1 errno=0 state=error: wrong version number",
    ),
    (TLS, "cURL error 60: SSL certificate problem: unable to get local issuer certificate"),
    (
        TLS,
        "stream_socket_enable_crypto(): SSL operation failed with code 1. OpenSSL Error messages:\nerror:0A000086:SSL routines::certificate verify failed",
    ),
    (
        TLS,
        "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.\n ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch, RemoteCertificateChainErrors",
    ),
    (
        TLS,
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A connection was successfully established with the server, but then an error occurred during the login process. (provider: SSL Provider, error: 0 - The certificate chain was issued by an authority that is not trusted.)",
    ),
    (
        TLS,
        "Microsoft.Data.SqlClient.SqlException (0x80131904): A connection was successfully established with the server, but then an error occurred during the pre-login handshake. (provider: TCP Provider, error: 35 - An internal exception was caught)",
    ),
    (
        TLS,
        "Error: error sending request for url (https://vault:8200/): error trying to connect: invalid peer certificate: UnknownIssuer",
    ),
    (TLS, "curl: (60) SSL certificate problem: self-signed certificate"),
    (TLS, "curl: (35) error:0A00010B:SSL routines::wrong version number"),
    (TLS, "curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to vault:8200"),
    (
        TLS,
        "curl: (51) SSL: no alternative certificate subject name matches target host name 'vault'",
    ),
    (
        TLS,
        "ERROR: cannot verify vault's certificate, issued by 'CN=dev-ca':\n  Unable to locally verify the issuer's authority.",
    ),
    (
        TLS,
        "ssl_client: vault: handshake failed: error:0A000086:SSL routines::certificate verify failed",
    ),
    (
        TLS,
        "fatal: unable to access 'https://git.local/app.git/': server certificate verification failed. CAfile: none CRLfile: none",
    ),
    (
        TLS,
        "2025/08/01 12:30:00 [error] 31#31: *4 SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream, client: 172.18.0.1",
    ),
    (
        TLS,
        '2025/08/01 12:30:00 [emerg] 1#1: cannot load certificate "/etc/nginx/certs/site.crt": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory)',
    ),
    (
        TLS,
        '{"@timestamp":"2025-08-01T12:30:00.000Z", "log.level": "WARN", "message":"received plaintext http traffic on an https channel, closing connection Netty4HttpChannel{localAddress=/172.18.0.2:9200, remoteAddress=/172.18.0.5:40000}"}',
    ),
    (
        TLS,
        '2025-08-01 12:30:00.000 UTC [1] FATAL:  could not load server certificate file "server.crt": No such file or directory',
    ),
    (
        TLS,
        "2025-08-01 12:30:00.000 [error] <0.900.0> TLS server: In state certify received CLIENT ALERT: Fatal - Unknown CA",
    ),
    (TLS, "MongoServerSelectionError: unable to get local issuer certificate"),
    # ------------------------------------------------------------ auth-failure
    (
        AUTH,
        '2025-08-01 12:30:00.000 UTC [60] FATAL:  password authentication failed for user "app"',
    ),
    (
        AUTH,
        '2025-08-01 12:30:00.000 UTC [60] FATAL:  no pg_hba.conf entry for host "172.18.0.5", user "app", database "app", no encryption',
    ),
    (AUTH, '2025-08-01 12:30:00.000 UTC [60] FATAL:  role "admin" does not exist'),
    (
        AUTH,
        'psycopg2.OperationalError: connection to server at "pgsql" (172.18.0.2), port 5432 failed: fe_sendauth: no password supplied',
    ),
    (AUTH, "psycopg2.OperationalError: SCRAM authentication requires libpq version 10 or above"),
    (AUTH, "Error: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string"),
    (AUTH, 'error: password authentication failed for user "app"'),
    (
        AUTH,
        'failed to connect to `host=pgsql user=app database=app`: failed SASL auth (FATAL: password authentication failed for user "app" (SQLSTATE 28P01))',
    ),
    (AUTH, 'pq: password authentication failed for user "app"'),
    (
        AUTH,
        "org.postgresql.util.PSQLException: The authentication type 10 is not supported. Check that you have configured the pg_hba.conf file to include the client's IPv4 or IPv6 address, and that it is using an authentication scheme supported by the driver.",
    ),
    (
        AUTH,
        'Npgsql.PostgresException (0x80004005): 28P01: password authentication failed for user "app"',
    ),
    (
        AUTH,
        "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (1045, \"Access denied for user 'app'@'172.18.0.5' (using password: YES)\")",
    ),
    (AUTH, "SQLSTATE[HY000] [1045] Access denied for user 'app'@'172.18.0.5' (using password: NO)"),
    (
        AUTH,
        "Error: ER_ACCESS_DENIED_ERROR: Access denied for user 'root'@'172.18.0.6' (using password: YES)",
    ),
    (
        AUTH,
        "Error: ER_NOT_SUPPORTED_AUTH_MODE: Client does not support authentication protocol requested by server; consider upgrading MySQL client",
    ),
    (
        AUTH,
        "SQLSTATE[HY000] [2054] The server requested authentication method unknown to the client",
    ),
    (
        AUTH,
        "django.db.utils.OperationalError: (2059, \"Authentication plugin 'caching_sha2_password' cannot be loaded: /usr/lib/mysql/plugin/caching_sha2_password.so: cannot open shared object file: No such file or directory\")",
    ),
    (
        AUTH,
        "2025-08-01T12:30:00.000000Z 9 [Note] [MY-010926] [Server] Access denied for user 'app'@'172.18.0.5' (using password: YES)",
    ),
    (AUTH, "redis.exceptions.AuthenticationError: Authentication required."),
    (AUTH, "ReplyError: NOAUTH Authentication required."),
    (AUTH, "ReplyError: WRONGPASS invalid username-password pair or user is disabled."),
    (
        AUTH,
        "redis.exceptions.AuthenticationError: AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    ),
    (AUTH, "NOPERM User app has no permissions to run the 'flushall' command"),
    (AUTH, "MongoServerError: Authentication failed."),
    (AUTH, "MongoServerError: Command find requires authentication"),
    (AUTH, "MongoError: command insert requires authentication"),
    (
        AUTH,
        "pymongo.errors.OperationFailure: Authentication failed., full error: {'ok': 0.0, 'errmsg': 'Authentication failed.', 'code': 18, 'codeName': 'AuthenticationFailed'}",
    ),
    (AUTH, 'MongoError: not authorized on app to execute command { find: "users" }'),
    (
        AUTH,
        '{"t":{"$date":"2025-08-01T12:30:00.000+00:00"},"s":"I",  "c":"ACCESS",   "id":20249,   "ctx":"conn9","msg":"Authentication failed","attr":{"mechanism":"SCRAM-SHA-256","principalName":"app","authenticationDatabase":"admin","error":"UserNotFound: Could not find user"}}',
    ),
    (
        AUTH,
        '{"t":{"$date":"2025-08-01T12:30:01.000+00:00"},"s":"I",  "c":"ACCESS",   "id":20249,   "ctx":"conn10","msg":"Authentication failed","attr":{"mechanism":"SCRAM-SHA-256","principalName":"notes","authenticationDatabase":"admin","error":"UserNotFound: Could not find user \\"notes\\" for db \\"admin\\""}}',
    ),
    (
        AUTH,
        "2025-08-01 12:30:00.000 [error] <0.800.0> PLAIN login refused: user 'guest' - invalid credentials",
    ),
    (
        AUTH,
        "pika.exceptions.ProbableAuthenticationError: ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.'",
    ),
    (
        AUTH,
        'Error: Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."',
    ),
    (
        AUTH,
        "2025-08-01 12:30:00.000 [error] <0.801.0> Error on AMQP connection <0.801.0> (172.18.0.5:40000 -> 172.18.0.3:5672, user: 'app', state: opening):\naccess to vhost 'orders' refused for user 'app'",
    ),
    (
        AUTH,
        "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
    ),
    (
        AUTH,
        "[2025-08-01 12:30:00,000] INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] Failed authentication with /172.18.0.7 (channelId=172.18.0.3:9092-172.18.0.7:40000-0) (Authentication failed: Invalid username or password) (org.apache.kafka.common.network.Selector)",
    ),
    (
        AUTH,
        '{"@timestamp":"2025-08-01T12:30:00.000Z", "log.level": "INFO", "message":"Authentication of [kibana_system] was terminated by realm [reserved] - failed to authenticate user [kibana_system]"}',
    ),
    (
        AUTH,
        "[2025-08-01T12:30:00.000+00:00][ERROR][elasticsearch-service] Unable to retrieve version information from Elasticsearch nodes. security_exception: [security_exception] Reason: unable to authenticate user [kibana_system] for REST request [/_nodes?filter_path=nodes.*.version]",
    ),
    (
        AUTH,
        "elasticsearch.AuthenticationException: AuthenticationException(401, 'security_exception', 'missing authentication credentials for REST request [/]')",
    ),
    (
        AUTH,
        "Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 172.18.0.5]",
    ),
    (AUTH, "Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'sa'."),
    (AUTH, "ORA-01017: invalid username/password; logon denied"),
    (AUTH, "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted.')"),
    (
        AUTH,
        "botocore.exceptions.ClientError: An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The Access Key Id you provided does not exist in our records.",
    ),
    (
        AUTH,
        "An error occurred (SignatureDoesNotMatch) when calling the ListBuckets operation: The request signature we calculated does not match the signature you provided.",
    ),
    (
        AUTH,
        "Code: 516. DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)",
    ),
    (
        AUTH,
        "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: http://registry:5000/v2/",
    ),
    (AUTH, "AxiosError: Request failed with status code 401"),
    (
        AUTH,
        'Error response from daemon: Get "https://registry.local/v2/": unauthorized: incorrect username or password',
    ),
    (AUTH, "denied: requested access to the resource is denied"),
    (
        AUTH,
        "Error response from daemon: pull access denied for acme/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ),
    (AUTH, "nats: Authorization Violation"),
    # ------------------------------------------------------------ port-in-use
    (PIU, "Error: listen EADDRINUSE: address already in use :::3000"),
    (PIU, "Error: listen EADDRINUSE: address already in use 0.0.0.0:5173"),
    (PIU, "Error: Port 5173 is already in use"),
    (PIU, "Something is already running on port 3000."),
    (
        PIU,
        "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use",
    ),
    (PIU, "OSError: [Errno 98] Address already in use"),
    (PIU, "OSError: [Errno 98] Address in use"),
    (PIU, "[2025-08-01 12:30:00 +0000] [1] [ERROR] Connection in use: ('0.0.0.0', 8000)"),
    (PIU, "[2025-08-01 12:30:00 +0000] [1] [ERROR] Can't connect to ('0.0.0.0', 8000)"),
    (PIU, "Error: That port is already in use."),
    (
        PIU,
        "Port 5000 is in use by another program. Either identify and stop that program, or start the server with a different port.",
    ),
    (PIU, "bind(): Address already in use [core/socket.c line 230]"),
    (PIU, "bind(): Address in use [core/socket.c line 769]"),
    (PIU, "listen tcp :8080: bind: address already in use"),
    (
        PIU,
        'level=fatal msg="server stopped" error="listen tcp 0.0.0.0:9090: bind: address already in use"',
    ),
    (PIU, "java.net.BindException: Address already in use"),
    (PIU, "Web server failed to start. Port 8080 was already in use."),
    (PIU, "2025/08/01 12:30:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address in use)"),
    (PIU, "nginx: [emerg] bind() to [::]:443 failed (98: Address already in use)"),
    (
        PIU,
        "1:M 01 Aug 2025 12:30:00.000 # Warning: Could not create server TCP listening socket *:6379: bind: Address in use",
    ),
    (PIU, "1:M 01 Aug 2025 12:30:00.000 # Failed listening on port 6379 (tcp), aborting."),
    (
        PIU,
        '2025-08-01 12:30:00.000 UTC [1] LOG:  could not bind IPv4 address "0.0.0.0": Address in use',
    ),
    (
        PIU,
        '2025-08-01 12:30:00.000 UTC [1] LOG:  could not bind IPv4 address "0.0.0.0": Address already in use',
    ),
    (
        PIU,
        "2025-08-01T12:30:00.000000Z 0 [ERROR] [MY-010262] [Server] Can't start server: Bind on TCP/IP port: Address already in use",
    ),
    (
        PIU,
        '{"t":{"$date":"2025-08-01T12:30:00.000+00:00"},"s":"E",  "c":"NETWORK",  "id":23024,   "ctx":"initandlisten","msg":"Failed to set up listener","attr":{"error":{"code":9001,"codeName":"SocketException","errmsg":"Address already in use"}}}',
    ),
    (
        PIU,
        "System.IO.IOException: Failed to bind to address http://[::]:8080: address already in use.\n ---> Microsoft.AspNetCore.Connections.AddressInUseException: Address already in use",
    ),
    (
        PIU,
        "thread 'main' panicked at src/main.rs:20:10:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 98, kind: AddrInUse, message: \"Address in use\" }",
    ),
    (
        PIU,
        "[01-Aug-2025 12:30:00] ERROR: unable to bind listening socket for address '9000': Address already in use (98)",
    ),
    (PIU, 'Address already in use - bind(2) for "0.0.0.0" port 3000 (Errno::EADDRINUSE)'),
    (
        PIU,
        "** (RuntimeError) Running App.Endpoint with Cowboy using http on port 4000 failed, port already in use",
    ),
    (
        PIU,
        "Error response from daemon: driver failed programming external connectivity on endpoint {container} (3f2a9c): Bind for 0.0.0.0:8080 failed: port is already allocated",
    ),
    (
        PIU,
        "Error response from daemon: Ports are not available: exposing port TCP 0.0.0.0:5432 -> 0.0.0.0:0: listen tcp 0.0.0.0:5432: bind: Only one usage of each socket address (protocol/network address/port) is normally permitted.",
    ),
    (PIU, "Error starting userland proxy: listen tcp4 0.0.0.0:6379: bind: address already in use"),
    (
        PIU,
        "[ALERT] (1) : Starting frontend http-in: cannot bind socket (Address already in use) [0.0.0.0:80]",
    ),
    # ------------------------------------------------------------ more shapes
    (
        CR,
        'psycopg2.OperationalError: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory\n\tIs the server running locally and accepting connections on that socket?',
    ),
    (
        CR,
        'PG::ConnectionBad: could not connect to server: No such file or directory\n\tIs the server running locally and accepting\n\tconnections on Unix domain socket "/var/run/postgresql/.s.PGSQL.5432"?',
    ),
    (CR, "Error: connect EHOSTUNREACH 172.18.0.5:5432"),
    (CR, "dial tcp 172.18.0.9:8080: connect: no route to host"),
    (CR, "Caused by: java.net.NoRouteToHostException: No route to host"),
    (
        CR,
        'Errno::EHOSTUNREACH: Failed to open TCP connection to 172.18.0.9:80 (Host is unreachable - connect(2) for "172.18.0.9" port 80)',
    ),
    (
        DNS,
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.internal', port=443): Max retries exceeded with url: / (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x000001>: Failed to establish a new connection: [Errno 11001] getaddrinfo failed'))",
    ),
    (
        DNS,
        "org.apache.kafka.common.config.ConfigException: DNS resolution failed for url in bootstrap.servers: broker:9092",
    ),
    (
        TO,
        "[2025-08-01 12:30:00,000: ERROR/MainProcess] consumer: Cannot connect to amqp://guest:**@mq:5672//: timed out.",
    ),
    (
        TO,
        "[WARNING] 213/123000 (8) : Server app/app1 is DOWN, reason: Layer4 timeout, check duration: 2001ms. 0 active and 0 backup servers left.",
    ),
    (TO, "Error: P1002: The database server at `pgsql`:`5432` was reached but timed out."),
    (
        TO,
        "[2025-08-01 12:30:00,000: ERROR/MainProcess] Timed out waiting for UP message from <ForkProcess(ForkPoolWorker-3, started daemon)>",
    ),
    (TO, "ERROR: timed out waiting for pgsql:5432 after 60s"),
    (TLS, "pq: SSL is not enabled on the server"),
    (TLS, "failed to connect to `host=pgsql user=app database=app`: server refused TLS connection"),
    (TLS, "Error: error performing TLS handshake: invalid peer certificate: UnknownIssuer"),
    (
        AUTH,
        "Error: P1000: Authentication failed against database server at `pgsql`, the provided database credentials for `app` are not valid.",
    ),
    (AUTH, "fatal: Authentication failed for 'https://git.local/team/app.git/'"),
    (
        AUTH,
        'level=warn ts=2025-08-01T12:30:00Z caller=scrape.go:1400 component="scrape manager" scrape_pool=api target=http://api:8000/metrics msg="Scrape failed" err="server returned HTTP status 401 Unauthorized"',
    ),
    (
        CR,
        "cassandra.cluster.NoHostAvailable: ('Unable to connect to any servers', {'172.18.0.3:9042': OSError(None, \"Tried connecting to [('172.18.0.3', 9042)]. Last error: timed out\")})",
    ),
    (
        CR,
        "redis.exceptions.ConnectionError: Error 99 connecting to localhost:6379. Cannot assign requested address.",
    ),
    (
        TO,
        "upstream connect error or disconnect/reset before headers. reset reason: connection timeout",
    ),
    (
        TO,
        'grpc._channel._InactiveRpcError: <_InactiveRpcError of RPC that terminated with:\n\tstatus = StatusCode.DEADLINE_EXCEEDED\n\tdetails = "Deadline Exceeded"',
    ),
    (
        TO,
        "Error: 4 DEADLINE_EXCEEDED: Deadline exceeded after 5.001s,LB pick: 0.001s,remote_addr=172.18.0.6:50051",
    ),
    (TLS, "ssl.SSLError: [SSL] PEM lib (_ssl.c:3900)"),
    (TLS, "ssl.SSLError: [X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3900)"),
    (
        TLS,
        "Caused by: java.security.cert.CertificateException: No subject alternative DNS name matching vault found.",
    ),
    (AUTH, "ERROR 1130 (HY000): Host '172.18.0.5' is not allowed to connect to this MySQL server"),
    (
        AUTH,
        "pymongo.errors.OperationFailure: bad auth : authentication failed, full error: {'ok': 0, 'errmsg': 'bad auth : authentication failed', 'code': 8000, 'codeName': 'AtlasError'}",
    ),
    (
        AUTH,
        'Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1.4.0": denied',
    ),
    (
        PIU,
        "Port 8080 seems to be in use by another process. Quarkus may already be running or the port is used by another application.",
    ),
    (
        PIU,
        "Error response from daemon: driver failed programming external connectivity on endpoint {container} (9b1e04): Error starting userland proxy: listen tcp4 0.0.0.0:5432: bind: address already in use",
    ),
    (
        PIU,
        "Error response from daemon: driver failed programming external connectivity on endpoint {container} (9b1e05): failed to bind host port for 0.0.0.0:80:172.18.0.2:80/tcp: address already in use",
    ),
    (CR, "2025-08-01 12:30:00,000 ERROR [sync] upstream call failed with ECONNREFUSED"),
    (CR, 'level=error msg="push failed" code=ECONNREFUSED target=10.0.0.9:8125'),
    (TO, "2025-08-01 12:30:00,000 ERROR [sync] upstream call failed with ETIMEDOUT after 3 tries"),
    (
        CR,
        "2025/08/01 12:30:00 Problem with dial: dial tcp 172.18.0.4:5432: getsockopt: connection refused. Sleeping 5s",
    ),
    (
        TO,
        "F0801 12:30:00.000000       7 main.go:99] Failed to get storage provider: dial tcp 172.18.0.4:3306: getsockopt: connection timed out",
    ),
    (
        AUTH,
        "Exception: Cannot obtain authorization token: #<Net::HTTPUnauthorized 401 Unauthorized readbody=true>",
    ),
    # ------------------------------------------------------------ structured logs
    (
        DNS,
        '{"level":"error","ts":1722515400.0,"caller":"db/db.go:40","msg":"ping failed","error":"dial tcp: lookup pgsql on 127.0.0.11:53: no such host"}',
    ),
    (
        DNS,
        '{"timestamp":"2025-08-01T12:30:00Z","level":"ERROR","logger":"app.db","message":"connect failed","exc_info":"psycopg2.OperationalError: could not translate host name \\"pgsql\\" to address: Name does not resolve"}',
    ),
    (
        TLS,
        'level=error ts=2025-08-01T12:30:00Z caller=main.go:50 msg="scrape failed" err="Get \\"https://node:9100/metrics\\": x509: certificate signed by unknown authority"',
    ),
    (
        TO,
        '{"level":50,"time":1722515400000,"msg":"request failed","err":{"type":"Error","message":"connect ETIMEDOUT 10.0.0.5:443","code":"ETIMEDOUT"}}',
    ),
    (
        AUTH,
        '{"level":"error","msg":"db connect","error":"pq: password authentication failed for user \\"app\\""}',
    ),
    (
        PIU,
        '{"level":"fatal","msg":"server failed","error":"listen tcp :8080: bind: address already in use"}',
    ),
    (
        CR,
        "WARNING:urllib3.connectionpool:Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f2c>: Failed to establish a new connection: [Errno 111] Connection refused')': /_cluster/health",
    ),
    # ------------------------------------------------------------ near misses
    (
        None,
        "2025-08-01T12:30:00.000000Z 88 [Note] [MY-010914] [Server] Aborted connection 88 to db: 'app' user: 'app' host: '172.18.0.5' (Got timeout reading communication packets).",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app] timed out waiting for a slow client; closing keep-alive connection",
    ),
    (
        None,
        "WARNING:urllib3.connectionpool:Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f2c>: Failed to establish a new connection: [Errno 111] Connection refused')': /_cluster/health",
    ),
    (
        None,
        "WARNING:urllib3.connectionpool:Retrying (Retry(total=2, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NameResolutionError(\"<urllib3.connection.HTTPConnection object at 0x7f2c>: Failed to resolve 'search' ([Errno -3] Try again)\")': /",
    ),
    (
        None,
        "2025/08/01 12:30:00 [crit] 31#31: *9 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: 203.0.113.9, server: 0.0.0.0:443",
    ),
    (
        None,
        "2025/08/01 12:30:00 [crit] 31#31: *12 SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof while reading) while keepalive, client: 203.0.113.9, server: 0.0.0.0:443",
    ),
    (
        None,
        '2025-08-01 12:30:00.000 UTC [1] LOG:  could not bind IPv6 address "::1": Cannot assign requested address',
    ),
    (
        None,
        '172.18.0.1 - - [01/Aug/2025:12:30:00 +0000] "GET /admin HTTP/1.1" 401 179 "-" "curl/8.5.0"',
    ),
    (
        None,
        '172.18.0.1 - - [01/Aug/2025:12:30:02 +0000] "GET /slow HTTP/1.1" 504 167 "-" "curl/8.5.0"',
    ),
    (
        None,
        '{"t":{"$date":"2025-08-01T12:30:00.000+00:00"},"s":"I",  "c":"ACCESS",   "id":5286306, "ctx":"conn3","msg":"Successfully authenticated","attr":{"client":"172.18.0.5:40000","mechanism":"SCRAM-SHA-256","user":"app","db":"admin"}}',
    ),
    (None, "2025-08-01 12:30:00.000 UTC [70] LOG:  connection authorized: user=app database=app"),
    (
        None,
        "[2025-08-01 12:30:00,000] INFO [SocketServer listenerType=ZK_BROKER, nodeId=1] Successfully authenticated client: authenticationID=app; authorizationID=app.",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app] NODE_EXTRA_CA_CERTS set; certificate verification on",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 DEBUG [urllib3.connectionpool] Starting new HTTP connection (1): catalog:8000",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app.settings] http_timeout=30 connect_timeout=5 read_timeout=30 ssl_verify=True",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app.health] connections: ok=412 refused=0 timeouts=0 dns_failures=0",
    ),
    (None, '{"level":"info","msg":"stats","connection_refused":0,"timed_out":0,"tls_errors":0}'),
    (None, "2025-08-01 12:30:00,000 DEBUG [app.db] retrying after ECONNREFUSED (attempt 1/10)"),
    (None, "DEBUG: getaddrinfo ENOTFOUND cache-replica (optional replica skipped)"),
    (
        None,
        'time="2025-08-01T12:30:00Z" level=debug msg="dial tcp 172.18.0.4:5432: connect: connection refused, retrying"',
    ),
    (
        None,
        "  -t, --timeout SECONDS   give up after SECONDS (default: 15); a timed out wait exits 1",
    ),
    (None, "Port 5173 is in use, trying another one..."),
    (None, "The port 8888 is already in use, trying another port."),
    (None, "2025-08-01 12:30:00,000 INFO [app] TLS certificate loaded, expires in 82 days"),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app.auth] user login ok; 0 failed authentication attempts in the last hour",
    ),
    (
        None,
        "2025-08-01T12:30:00.000000Z 0 [Warning] [MY-013360] [Server] Plugin mysql_native_password reported: ''mysql_native_password' is deprecated and will be removed in a future release. Please use caching_sha2_password instead'",
    ),
    (None, '2025-08-01 12:30:00.000 UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432'),
    (None, "1:M 01 Aug 2025 12:30:00.000 * Ready to accept connections tcp"),
    (None, '2025/08/01 12:30:00 [notice] 1#1: using the "epoll" event method'),
    (
        None,
        '172.18.0.1 - - [01/Aug/2025:12:30:00 +0000] "GET /docs/timeout-errors HTTP/1.1" 200 512 "-" "curl/8.5.0"',
    ),
    (None, "2025-08-01 12:30:00,000 INFO [app.http] GET /api/tls-settings 200 3ms"),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [celery.worker] task_time_limit=300 task_soft_time_limit=240",
    ),
    (
        None,
        "2025-08-01 12:30:00,000 INFO [app] retry policy: on ECONNREFUSED or ETIMEDOUT back off 2s",
    ),
    (
        None,
        "2025-08-01 12:30:00.000  INFO 1 --- [main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat started on port(s): 8080 (http)",
    ),
    (
        None,
        "2025-08-01 12:30:00.000  INFO 1 --- [main] com.zaxxer.hikari.HikariDataSource       : HikariPool-1 - Start completed.",
    ),
    (None, "2025-08-01 12:30:00,000 INFO [app] keep-alive timeout set to 75s"),
    (None, "2025-08-01 12:30:00,000 INFO [app] database connection established after 1 retry"),
    (
        None,
        "[2025-08-01 12:30:00,000] INFO ProducerConfig values: request.timeout.ms = 30000 sasl.mechanism = GSSAPI ssl.endpoint.identification.algorithm = https",
    ),
    (None, "2025-08-01 12:30:00,000 INFO [app] Authentication: method=scram-sha-256 users=3"),
]


def _compose_log(rows: list[tuple[str | None, str]]) -> str:
    lines = []
    for i, (_, message) in enumerate(rows):
        container = f"row{i}-1"
        # Docker's own messages name the container they are about (`subject`).
        text = message.replace("{container}", container)
        lines += [f"{container}  | {line}" for line in text.split("\n")]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    path: Path = tmp_path_factory.mktemp("variants") / "compose.log"
    path.write_text(_compose_log(ROWS), encoding="utf-8")
    ingested = read_inputs([str(path)])
    findings = detect_findings(ingested.logs, ingested.events, compile_rules(load_rules()))
    out: dict[str, set[str]] = {}
    for row in findings.select("service", "category").iter_rows(named=True):
        out.setdefault(row["service"], set()).add(row["category"])
    return out


def _ids() -> list[str]:
    return [f"{i}-{cat or 'clean'}" for i, (cat, _) in enumerate(ROWS)]


@pytest.mark.parametrize(
    ("index", "category"), [(i, c) for i, (c, _) in enumerate(ROWS)], ids=_ids()
)
def test_wording_gets_its_category(
    found: dict[str, set[str]], index: int, category: str | None
) -> None:
    got = found.get(f"row{index}", set()) & MINE
    expected = {category} if category else set()
    assert got == expected, ROWS[index][1]


def test_rows_are_distinct_and_cover_every_category() -> None:
    messages = [m for _, m in ROWS]
    assert len(messages) == len(set(messages))
    counts = {c: sum(1 for cat, _ in ROWS if cat == c) for c in MINE}
    assert all(n >= 15 for n in counts.values()), counts
    assert sum(1 for cat, _ in ROWS if cat is None) >= 20


def test_near_misses_produce_no_finding_at_all(found: dict[str, set[str]]) -> None:
    noisy = {
        ROWS[i][1]: sorted(found[f"row{i}"])
        for i, (cat, _) in enumerate(ROWS)
        if cat is None and found.get(f"row{i}")
    }
    assert not noisy, noisy
