// Package loki decodes Loki's push API — protobuf (snappy block-compressed)
// and JSON — and turns pushed streams into log records: the stream's labels
// are the record's resource and its stream identity, structured metadata
// its attributes, and one label names the log group.
//
// It uses Loki's own push message definitions (github.com/grafana/loki/pkg/push)
// for the protobuf encoding, and Prometheus's parser for the label strings
// protobuf streams carry. It imports the event store's record type only.
package loki
