// Package wal is the event store's write-ahead log: a directory of numbered
// segment files (<dir>/0000000000.wal, …) holding checksummed records of
// opaque payloads. It owns the on-disk framing, group commit, crash recovery
// of a torn tail and segment lifecycle; it knows nothing of what the payloads
// mean and imports nothing of Mirador's.
//
// # Format
//
// A segment is a sequence of records, each an 8-byte header — the payload
// length (uint32, little endian) then the CRC-32C (Castagnoli) of the payload
// (uint32, little endian) — followed by the payload. Lengths of zero or above
// 256 MiB are corruption: a zero-filled tail, which some file systems leave
// after a crash, must not replay as empty records.
//
// # Group commit
//
// Append copies its record into a shared buffer under a mutex and wakes one
// flusher goroutine, which writes everything buffered with one write(2) and,
// under SyncAlways, one fsync, then releases every appender of that batch.
// While it waits for the disk, new appends accumulate for the next batch, so
// throughput is the disk's fsync rate times the batch size rather than one
// fsync per record. Under SyncInterval and SyncNever an Append that finds
// no write in progress writes its record itself, saving two goroutine
// hand-offs (about a third of the latency of an uncontended 64 KiB append);
// SyncAlways always goes through the flusher, so a waiting Append can honour
// its context during a slow fsync.
//
// # Failure
//
// A failed write or fsync poisons the WAL: that batch's appenders and every
// later Append and Cut return an error wrapping ErrFailed. A failed fsync
// cannot be retried safely: the kernel may already have dropped the dirty
// pages and cleared the error, so a second fsync would report durability
// that does not exist (the PostgreSQL "fsyncgate" lesson). The process must
// restart and replay the log instead.
//
// The framing is written here by hand because it is a few dozen lines and no
// maintained library offers a segment log with this recovery contract.
package wal
