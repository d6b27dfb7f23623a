// Package xray reads AWS X-Ray segment documents — from the daemon's UDP
// protocol and from the PutTraceSegments API — into span records of the
// event store's spans dataset, following the record contract of package
// traces (see internal/traces/doc.go).
//
// A segment becomes a server span whose Group is the segment's name (the
// service); each nested subsegment becomes a span of the same service. A
// standalone subsegment names no service: the Decoder remembers the service
// of every segment and subsegment it decoded and uses it; when the parent is
// unknown the span goes to "unknown_service" with aws.xray.standalone=true
// and the trace reader re-homes it.
//
// X-Ray's fields map onto OpenTelemetry semantic conventions where one
// exists (http.request.method, url.full, db.system, rpc.system, peer.service,
// cloud.*, host.*, k8s.*); the rest keep their X-Ray meaning under aws.* and
// aws.xray.* so an X-Ray-shaped document can be rebuilt.
//
// The segment format is decoded by hand with encoding/json: no maintained
// library turns X-Ray documents into anything but the collector's pdata,
// and going through pdata would cost a second conversion per span.
//
// This package must not import package traces (traces wires it in) nor any
// HTTP or API package.
package xray
