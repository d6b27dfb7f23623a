// Package otlp receives OpenTelemetry Protocol exports over HTTP (protobuf
// and JSON, optionally gzip-compressed, at the standard /v1/<signal> paths)
// and gRPC, decodes them with the OpenTelemetry Collector's pdata, and hands
// them to a consumer per signal.
//
// Transport concerns live here: content types, compression, body limits,
// the OTLP response and error encodings (ExportResponse with partial
// success, google.rpc.Status), and mapping consumer errors onto HTTP and
// gRPC status codes. Authentication is the caller's: it wraps the HTTP
// handler and installs gRPC interceptors. Signals without a consumer answer
// 404 (HTTP) or Unimplemented (gRPC) with a message that says so.
//
// This package imports nothing of Mirador's.
package otlp
