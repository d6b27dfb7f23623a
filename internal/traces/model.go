package traces

import (
	"time"
)

// Span kinds, OpenTelemetry numbering (eventstore.Record.Kind).
const (
	KindUnspecified int8 = 0
	KindInternal    int8 = 1
	KindServer      int8 = 2
	KindClient      int8 = 3
	KindProducer    int8 = 4
	KindConsumer    int8 = 5
)

// Span status codes (eventstore.Record.StatusCode).
const (
	StatusUnset int8 = 0
	StatusOK    int8 = 1
	StatusError int8 = 2
)

// SearchQuery selects traces: a trace matches when one of its spans
// satisfies every condition given.
type SearchQuery struct {
	Service     string // span's service; "" = any
	Operation   string // span name; "" = any
	Conditions  []Condition
	MinDuration time.Duration // span duration; 0 = no bound
	MaxDuration time.Duration // 0 = no bound
	ErrorsOnly  bool          // span status error
	Start, End  time.Time     // span start within [Start, End)
	Limit       int           // traces; 0 = the default (20)
}

// Condition compares a span attribute (or resource attribute) with a
// value. Op is one of = != < <= > >= (numeric when both sides are numbers,
// text otherwise) or "exists".
type Condition struct {
	Key   string
	Op    string
	Value string
}

// Summary describes one trace found by a search.
type Summary struct {
	TraceID       [16]byte
	RootService   string // the root span's service, or the earliest span's if the root has not arrived
	RootOperation string
	Start         time.Time     // earliest span start
	Duration      time.Duration // latest span end − earliest start
	SpanCount     int
	ErrorCount    int
	Services      []string // sorted
}

// Operation is a span name a service produced, with its kind.
type Operation struct {
	Name string
	Kind int8
}

// ServiceMap is the graph of services and what they call over a time range.
type ServiceMap struct {
	Nodes []Node
	Edges []Edge
}

// Node types.
const (
	NodeService  = "service"
	NodeDatabase = "database"
	NodeQueue    = "queue"
	NodeExternal = "external"
	NodeClient   = "client" // the callers of root spans
)

// ClientNode names the node of the callers of root spans (type
// NodeClient); the parentheses keep it apart from a service named client.
const ClientNode = "(client)"

// Node is a service or something services call. Its statistics are those
// of the spans it served (server and consumer spans, or root spans); nodes
// inferred from calls have only edge statistics.
type Node struct {
	Name     string
	Type     string
	Requests int64
	Errors   int64
	Latency  Latency
}

// Edge is calls from one node to another, measured on the caller's side
// (client and producer spans), so network time is included.
type Edge struct {
	Source   string
	Target   string
	Requests int64
	Errors   int64
	Latency  Latency
}

// Latency holds quantiles of durations.
type Latency struct {
	P50, P90, P99 time.Duration
}
