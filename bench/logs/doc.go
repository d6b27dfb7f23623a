// Command logs is Mirador's logs benchmark driver: it builds and starts a
// real mirador server as a child process, drives its logs pillar over
// loopback from this separate process the way log shippers and users do,
// and reports the figures people compare log stores by (Loki,
// VictoriaLogs, Elasticsearch): ingest per CPU core, bytes on disk, query
// latency, memory.
//
//	go run ./bench/logs [--records 10000000] [--senders 4] [--batch 2000] [--binary bin/mirador] [--keep]
//
// # Workload
//
// generator.go produces an endless, deterministic sequence of realistic
// records (record i depends only on the seed and i, so any goroutine can
// make any record and the driver knows where the needles are): eight
// services of a web shop, the log groups, in 25 pods, the streams; 24
// message templates from nginx access lines to Java stack traces and JSON
// domain events with request ids, user ids, IPs, paths, status codes and
// durations; 5–15 typed attributes; a realistic mix of severities;
// timestamps advancing at --log-rate records per second of log time and
// ending a minute before the run. The token needle7f3c9a1e is planted as a
// whole word in exactly one record of every million.
//
// # Phases
//
//  1. Ingest over NDJSON (POST /api/v1/logs/ingest?group=G&stream=S):
//     1 − --otlp-fraction of the records, from --senders concurrent
//     senders, one (group, stream) per request, --batch lines on average.
//  2. Ingest over OTLP/HTTP protobuf (POST /v1/logs on the OTLP port): the
//     rest, --batch records per request, one ResourceLogs per pod.
//     For both: records/s wall-clock and per server CPU core (the server's
//     utime + stime from /proc/<pid>/stat, so the driver's own CPU is not
//     counted; it is reported beside), request latency, the server's peak
//     RSS during the phase (VmHWM, reset through /proc/<pid>/clear_refs),
//     and a CPU profile of the server from its /debug/pprof.
//     Requests are generated before each phase starts if they fit in a
//     third of the available memory (--pregenerate), so the driver only
//     sends while the clock runs.
//  3. Disk: the driver waits until the event store's heads are flushed
//     (its /metrics) and its parts stayed unchanged for --settle, stops the
//     server with SIGTERM, and sizes <data-dir>/events/ (parts, WAL, rest):
//     bytes per record and the compression ratio against the raw NDJSON of
//     the same records.
//  4. Queries over all records: the needle search
//     `filter @message like /\bneedle7f3c9a1e\b/ | fields @timestamp, @message`
//     and `stats count() by bin(1m), level`, each once cold (a new server
//     started after the store's files were evicted from the page cache with
//     posix_fadvise, which needs no root) and --query-runs times warm,
//     with median and p99. Every answer is checked: the needle search
//     must return exactly the planted records, the stats every (minute,
//     level) count of what was ingested.
//
// The report (stdout and --report, by default bench/logs/REPORT.md) holds
// every figure against the aims: ≥ 250k records/s per core, ≥ 12×
// compression, needle < 300 ms and stats < 1 s warm, RSS < 1 GiB. The
// driver reports; it asserts nothing, so a slow machine gives slow
// figures, not a failure. A request the server fails is an error that
// quotes the request and the response. The driver stops the server and
// removes its temporary directory on exit, on error and on Ctrl-C, unless
// --keep.
package main
