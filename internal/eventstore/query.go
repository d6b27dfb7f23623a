package eventstore

// Column selects record fields a scan must fill in. Fields not selected
// are left zero in the records handed to the visitor, so a query that
// needs only Time and SeverityText never decodes bodies.
type Column uint32

// Columns of a Record.
const (
	ColTime Column = 1 << iota
	ColObservedTime
	ColGroup
	ColStream
	ColSeverity // SeverityText and SeverityNumber
	ColBody
	ColAttributes
	ColResource
	ColTraceID
	ColSpanID
	ColSpan       // ParentSpanID, Name, Kind, Duration, StatusCode, StatusMessage
	ColSpanEvents // Events, Links

	ColAll Column = 1<<iota - 1
)

// Query says which records a scan visits. The store uses every field to
// prune (parts, row groups, blocks) and guarantees that each visited record
// satisfies Tenant, Dataset, Groups, Streams, the time range and TraceID.
// Needles and AttrEquals only prune: a visited record may still not
// contain them, so the caller filters again.
type Query struct {
	Tenant  string
	Dataset string
	Groups  []string // nil: every group
	Streams []string // nil: every stream
	Start   int64    // Unix ns, inclusive; 0 = unbounded
	End     int64    // Unix ns, exclusive; 0 = unbounded

	// Needles are whole tokens (see Tokenize) that every wanted record's
	// Body contains; blocks whose token bloom lacks one are skipped.
	Needles []string
	// AttrEquals are key/value pairs every wanted record has among its
	// Attributes or Resource (compared as Value.String()); blocks whose
	// bloom lacks one are skipped.
	AttrEquals []Attr
	// TraceIDs, if any, limit the scan to these traces and use the
	// trace-id index instead of time pruning.
	TraceIDs [][16]byte

	Columns Column // fields to fill in; ColTime is always filled

	// Detail, if set, sees each stored record with its cheap columns
	// filled (all selected but Body, Attributes, Resource, Events and
	// Links) and says whether it needs those too. Records it refuses are
	// still visited, without them, so a scan that needs a few records'
	// attributes does not parse every record's. It runs concurrently.
	// Records still in the head always come whole.
	Detail func(*Record) bool

	// Budget. Zero values mean unlimited. A scan that reaches one stops
	// early and reports Partial.
	MaxRecords int64 // records read (before the caller's filter)
	MaxBytes   int64 // uncompressed bytes of the selected columns read
	Workers    int   // parallel visitors; 0 = one per CPU
}

// Batch is a run of records of one part (in the part's order, see
// writePart) or of a head (in arrival order). A Batch and the records in it are only valid during the
// Visit call that receives it; a visitor that keeps a record copies it.
type Batch struct {
	Records []Record
}

// A Visitor consumes the batches of a scan. The store calls each Visitor
// from one goroutine at a time, but different Visitors of the same scan run
// in parallel. Returning an error stops the scan and is returned by Scan;
// returning ErrStop stops it without error.
type Visitor interface {
	Visit(b *Batch) error
}

// ScanStats describes what a scan did.
type ScanStats struct {
	RecordsScanned int64 // records handed to visitors
	BytesScanned   int64 // uncompressed bytes of the selected columns
	PartsScanned   int
	PartsPruned    int    // skipped by group, time, stream or trace id
	BlocksPruned   int    // skipped by min/max or bloom
	Partial        bool   // stopped by budget or deadline before visiting everything
	PartialReason  string // which budget, for the user, e.g. "scanned 1000000000 records (eventstore.query_max_records)"
}
