// Package traces is the traces pillar: spans from OTLP, Zipkin and X-Ray
// stored as records of the event store's "spans" dataset, looked up by
// trace id, searched, aggregated into a service map and into RED metrics.
//
// # Span records
//
// Every receiver produces the same eventstore.Record for a span:
//
//   - Group: the service (resource attribute service.name, or
//     "unknown_service"); Stream: the resource identity, as for logs.
//   - Time: span start (Unix ns); Duration: end − start (ns).
//   - TraceID, SpanID, ParentSpanID (zero for a root span), Name, Kind
//     (OpenTelemetry numbering: 1 internal, 2 server, 3 client,
//     4 producer, 5 consumer; 0 unspecified), StatusCode (0 unset, 1 ok,
//     2 error) and StatusMessage, Events, Links.
//   - Attributes: the span's attributes, keyed by OpenTelemetry semantic
//     conventions where the source has an equivalent (http.request.method,
//     url.full, http.response.status_code, db.system, db.statement,
//     server.address, peer.service, rpc.system …). Resource: the resource
//     attributes, service.name included.
//   - Body: empty. SeverityText: empty.
//
// The service map reads these attributes on client and producer spans to
// name the node a call goes to: peer.service first, then db.system (a
// database, named by db.name or server.address), then messaging.system
// (a queue, named by messaging.destination.name), then server.address
// (an external host).
//
// The same span may be stored twice: an X-Ray segment sent in progress and
// again complete, or a batch an exporter retried. Readers keep, per span
// id, the record that is not in progress (attribute aws.xray.in_progress)
// and among those the one observed last.
package traces
