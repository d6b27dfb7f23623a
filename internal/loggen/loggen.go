// Package loggen generates realistic log records for benchmarks: many
// message templates with variable parts (request ids, users, durations,
// IPs, paths, status codes), 5 to 15 attributes, several services and a
// realistic mix of severities. It is deterministic for a seed, and can
// plant a needle token in exactly one record of every million.
//
// It is used by the event store's Go benchmarks and by bench/logs; no
// server code imports it.
package loggen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Needle is the token planted once per NeedleEvery records.
const (
	Needle      = "needle7f3c9a1e"
	NeedleEvery = 1_000_000
)

// Services are the log groups records belong to.
var Services = []string{"checkout", "payments", "catalog", "auth", "search", "shipping", "notifications", "gateway"}

var (
	paths   = []string{"/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/users/{id}", "/api/v1/search", "/healthz", "/api/v1/payments", "/api/v1/items/{id}/reviews", "/static/app.js", "/api/v2/checkout"}
	methods = []string{"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"}
	tables  = []string{"orders", "users", "items", "payments", "sessions", "inventory"}
	caches  = []string{"user-profile", "item-detail", "price", "session", "recommendations"}
	errs    = []string{"connection reset by peer", "context deadline exceeded", "no such host", "too many open files", "invalid token signature", "insufficient funds", "duplicate key value violates unique constraint"}
	regions = []string{"eu-west-1", "us-east-1", "ap-southeast-2"}
	agents  = []string{"Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "okhttp/4.12.0", "Go-http-client/2.0", "python-requests/2.31"}
)

// Generator produces records. It is not safe for concurrent use; give each
// goroutine its own (with its own seed).
type Generator struct {
	rng   *rand.Rand
	n     int64
	start time.Time
	step  time.Duration
	hosts []string
}

// New returns a generator whose records start at start and advance by step.
func New(seed uint64, start time.Time, step time.Duration) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1)), start: start, step: step}
	for i := range 24 {
		g.hosts = append(g.hosts, fmt.Sprintf("ip-10-0-%d-%d", i/8, 10+i))
	}
	return g
}

func (g *Generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *Generator) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 10+g.rng.IntN(190), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

func (g *Generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) severity() (string, int32) {
	switch x := g.rng.IntN(100); {
	case x < 2:
		return "ERROR", 17
	case x < 8:
		return "WARN", 13
	case x < 25:
		return "DEBUG", 5
	}
	return "INFO", 9
}

// Next returns the next record. Its strings are fresh; the caller may keep it.
func (g *Generator) Next() eventstore.Record {
	i := g.n
	g.n++
	service := Services[g.rng.IntN(len(Services))]
	host := g.pick(g.hosts)
	level, sev := g.severity()
	reqID := g.hex(16)
	user := "u" + strconv.Itoa(g.rng.IntN(50000))
	path := strings.ReplaceAll(g.pick(paths), "{id}", strconv.Itoa(g.rng.IntN(100000)))
	ms := g.rng.ExpFloat64() * 40
	attrs := []eventstore.Attr{
		{Key: "request_id", Value: eventstore.StringValue(reqID)},
		{Key: "user.id", Value: eventstore.StringValue(user)},
		{Key: "region", Value: eventstore.StringValue(g.pick(regions))},
		{Key: "duration_ms", Value: eventstore.FloatValue(float64(int(ms*100)) / 100)},
		{Key: "thread", Value: eventstore.IntValue(int64(g.rng.IntN(64)))},
	}
	var body string
	switch level {
	case "ERROR":
		err := g.pick(errs)
		body = fmt.Sprintf("request %s failed: %s (upstream %s:%d, attempt %d)", reqID, err, g.ip(), 8000+g.rng.IntN(100), 1+g.rng.IntN(3))
		attrs = append(attrs, eventstore.Attr{Key: "error.type", Value: eventstore.StringValue(strings.Fields(err)[0])},
			eventstore.Attr{Key: "retryable", Value: eventstore.BoolValue(g.rng.IntN(2) == 0)})
	default:
		switch g.rng.IntN(6) {
		case 0, 1:
			status := []int{200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 429, 500, 502}[g.rng.IntN(14)]
			body = fmt.Sprintf(`%s - %s [%s] "%s %s HTTP/1.1" %d %d %.3f "%s"`, g.ip(), user, g.timeAt(i).Format("02/Jan/2006:15:04:05 -0700"),
				g.pick(methods), path, status, 200+g.rng.IntN(50000), ms/1000, g.pick(agents))
			attrs = append(attrs, eventstore.Attr{Key: "http.status_code", Value: eventstore.IntValue(int64(status))},
				eventstore.Attr{Key: "http.route", Value: eventstore.StringValue(path)})
		case 2:
			body = fmt.Sprintf("slow query on %s took %.1fms rows=%d plan=%s", g.pick(tables), ms*10, g.rng.IntN(5000), g.hex(8))
			attrs = append(attrs, eventstore.Attr{Key: "db.system", Value: eventstore.StringValue("postgresql")})
		case 3:
			body = fmt.Sprintf("cache miss key=%s:%d ttl=%ds", g.pick(caches), g.rng.IntN(100000), 60*(1+g.rng.IntN(10)))
		case 4:
			body = fmt.Sprintf(`{"event":"order.updated","order_id":"o-%s","amount":%.2f,"currency":"EUR","items":%d,"user":%q}`,
				g.hex(10), g.rng.Float64()*300, 1+g.rng.IntN(9), user)
		default:
			body = fmt.Sprintf("user %s logged in from %s via %s session=%s", user, g.ip(), []string{"password", "sso", "token"}[g.rng.IntN(3)], g.hex(12))
			attrs = append(attrs, eventstore.Attr{Key: "auth.method", Value: eventstore.StringValue("password")})
		}
	}
	for k := g.rng.IntN(6); k > 0; k-- {
		attrs = append(attrs, eventstore.Attr{Key: "tag." + strconv.Itoa(k), Value: eventstore.StringValue(g.hex(4))})
	}
	if i%NeedleEvery == NeedleEvery/2 {
		body += " " + Needle
	}
	ts := g.timeAt(i)
	rec := eventstore.Record{
		Time: ts.UnixNano(), ObservedTime: ts.UnixNano() + int64(g.rng.IntN(1000))*int64(time.Millisecond),
		Group: service, Stream: service + "/" + host, SeverityText: level, SeverityNumber: sev, Body: body, Attributes: attrs,
		Resource: []eventstore.Attr{{Key: "service.name", Value: eventstore.StringValue(service)}, {Key: "host.name", Value: eventstore.StringValue(host)}},
	}
	if g.rng.IntN(4) == 0 {
		copy(rec.TraceID[:], g.hex(16))
		copy(rec.SpanID[:], g.hex(8))
	}
	return rec
}

func (g *Generator) timeAt(i int64) time.Time { return g.start.Add(time.Duration(i) * g.step) }

// NDJSON renders r as one line of the NDJSON ingest format (without the
// newline): the shape users send, for compression comparisons and loads.
func NDJSON(b []byte, r *eventstore.Record) []byte {
	b = append(b, `{"@timestamp":"`...)
	b = time.Unix(0, r.Time).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = strconv.AppendQuote(b, r.SeverityText)
	b = append(b, `,"message":`...)
	b = eventstore.AppendJSONString(b, r.Body)
	for _, a := range append(append([]eventstore.Attr(nil), r.Attributes...), r.Resource...) {
		b = append(b, ',')
		b = eventstore.AppendJSONString(b, a.Key)
		b = append(b, ':')
		switch a.Value.Kind {
		case eventstore.KindString:
			b = eventstore.AppendJSONString(b, a.Value.Str)
		default:
			b = append(b, a.Value.String()...)
		}
	}
	return append(b, '}')
}
