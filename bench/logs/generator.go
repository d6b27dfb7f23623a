package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Needle is the token the generator plants, as a whole word (see
// eventstore.Tokenize), in one record of every NeedleEvery. No other
// record can contain it: every variable part of a message is digits, hex
// or a word from a fixed list.
const (
	Needle      = "needle7f3c9a1e"
	NeedleEvery = 1_000_000
)

// Level is a record's severity.
type Level uint8

// Levels, in increasing severity.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
	numLevels
)

var levelNames = [numLevels]string{"DEBUG", "INFO", "WARN", "ERROR"}

// otelSeverity is the OpenTelemetry severity number of each level.
var otelSeverity = [numLevels]int32{5, 9, 13, 17}

func (l Level) String() string { return levelNames[l] }

// AttrKind is the JSON and OTLP type of an attribute's value.
type AttrKind uint8

// Attribute kinds.
const (
	AttrString AttrKind = iota
	AttrInt
	AttrFloat
	AttrBool
)

// Attr is one attribute of a Record. String values live in the record's
// buffer; read them with Record.Str.
type Attr struct {
	Key   string
	Kind  AttrKind
	Int   int64 // AttrInt, and AttrBool as 0 or 1
	Float float64
	str   span
}

// span is a byte range of Record.buf.
type span struct{ start, end int32 }

// Record is one generated log record. Its message and string attribute
// values share one buffer that Generator.Record reuses: a Record is
// overwritten by the next call that fills it, and strings taken from it
// (Message, Str) are copies.
type Record struct {
	Index    int64  // position in the generated sequence
	Time     int64  // Unix ns, whole milliseconds
	Observed int64  // when a collector saw it, Unix ns, at or after Time
	Service  string // the log group
	Host     string // the pod, the record's stream within its group
	Bucket   int    // index of (Service, Host) in Generator.Buckets
	Level    Level
	Template int // index into templates
	TraceID  [16]byte
	SpanID   [8]byte
	HasTrace bool
	Attrs    []Attr
	Needle   bool // the message contains Needle

	buf []byte
	msg span
}

// Message returns a copy of the record's message.
func (r *Record) Message() string { return string(r.message()) }

func (r *Record) message() []byte { return r.buf[r.msg.start:r.msg.end] }

// Str returns a copy of a string attribute's value.
func (r *Record) Str(a *Attr) string { return string(r.bytes(a.str)) }

func (r *Record) bytes(s span) []byte { return r.buf[s.start:s.end] }

// service is a log group of the generated fleet: a service running in a
// few pods, with the messages it logs.
type service struct {
	name      string
	bucket    int // Bucket of its first pod
	weight    int // share of all records, in percent
	logger    string
	version   string
	pods      []string
	templates []weighted // cumulative weights
}

type weighted struct {
	template int
	cum      int
}

// serviceSpecs describes the fleet. Weights sum to 100; the gateway's
// access log dominates, as in most fleets.
var serviceSpecs = []struct {
	name, logger, version string
	weight, pods          int
	templates             map[int]int // template → weight
}{
	{"gateway", "nginx.access", "1.25.4", 28, 4, map[int]int{tAccess: 84, tHealth: 6, tRateLimited: 2, tUpstreamError: 1, tRetry: 2, tGCPause: 1, tFeatureFlag: 4}},
	{"checkout", "com.example.checkout.OrderService", "3.14.2", 12, 3, map[int]int{tRequestDone: 30, tJSONEvent: 18, tDBQuery: 18, tDBSlow: 3, tStackTrace: 2, tUpstreamError: 2, tRetry: 3, tFeatureFlag: 10, tCacheMiss: 12, tPoolExhausted: 1, tKafkaCommit: 3}},
	{"payments", "com.example.payments.ChargeHandler", "2.8.0", 7, 3, map[int]int{tPaymentOK: 45, tPaymentDeclined: 5, tRequestDone: 22, tDBQuery: 14, tDBSlow: 2, tUpstreamError: 2, tStackTrace: 1, tRetry: 3, tJSONEvent: 8}},
	{"catalog", "catalog/handlers", "5.2.11", 14, 4, map[int]int{tRequestDone: 35, tCacheMiss: 32, tDBQuery: 22, tDBSlow: 2, tGoPanic: 1, tPoolExhausted: 1, tGCPause: 1, tFeatureFlag: 7}},
	{"auth", "auth.session", "0.19.3", 10, 3, map[int]int{tLogin: 40, tLoginFailed: 6, tToken: 36, tRequestDone: 10, tRateLimited: 2, tDBQuery: 8, tGoPanic: 1}},
	{"search", "search.query", "7.1.0", 13, 3, map[int]int{tSearch: 60, tRequestDone: 15, tCacheMiss: 15, tGCPause: 2, tRetry: 3, tUpstreamError: 2, tStackTrace: 1}},
	{"inventory", "com.example.inventory.StockListener", "1.3.9", 9, 3, map[int]int{tKafkaCommit: 45, tStockLow: 6, tDBQuery: 25, tDBSlow: 3, tJSONEvent: 15, tStackTrace: 2, tRetry: 4}},
	{"notifications", "notify.mailer", "0.7.2", 7, 2, map[int]int{tEmail: 55, tJSONEvent: 20, tUpstreamError: 4, tRetry: 8, tKafkaCommit: 13}},
}

// Generator produces an endless, deterministic sequence of realistic log
// records: record i depends only on the seed and i, so any goroutine can
// generate any record, in any order, and find the planted needles again.
// A Generator is not safe for concurrent use; each goroutine creates its
// own from the same GeneratorConfig.
type Generator struct {
	cfg          GeneratorConfig
	services     []service
	serviceCum   []int
	stepNs       float64
	needleOffset int64
	pcg          *rand.PCG
	rng          *rand.Rand
	users        *rand.Zipf
	products     *rand.Zipf
	w            writer // reused by Record; a local would escape to the heap
}

// GeneratorConfig says what a Generator produces. Generators with equal
// configs produce equal records.
type GeneratorConfig struct {
	Seed uint64
	// Start is the time of record 0; record i is at Start + i/Rate, plus
	// jitter within its 1/Rate slot, truncated to the millisecond.
	Start time.Time
	// Rate is how many records the fleet logs per second of log time.
	Rate float64
	// NeedleEvery plants Needle in one record of every NeedleEvery (at
	// the same offset in each run of NeedleEvery); 0 plants none.
	NeedleEvery int64
}

// NewGenerator returns a generator for cfg. cfg.Rate must be positive.
func NewGenerator(cfg GeneratorConfig) *Generator {
	g := &Generator{cfg: cfg, stepNs: 1e9 / cfg.Rate, pcg: rand.NewPCG(0, 0)}
	g.rng = rand.New(g.pcg)
	g.users = rand.NewZipf(g.rng, 1.1, 4, 199_999)
	g.products = rand.NewZipf(g.rng, 1.2, 2, 99_999)
	if cfg.NeedleEvery > 0 {
		g.needleOffset = int64(mix(cfg.Seed^0x6e6565646c65) % uint64(cfg.NeedleEvery))
	}
	// The pods' names derive from the seed, the rest of the fleet is fixed.
	g.pcg.Seed(mix(cfg.Seed), mix(^cfg.Seed))
	cum, buckets := 0, 0
	for _, spec := range serviceSpecs {
		s := service{name: spec.name, weight: spec.weight, logger: spec.logger, version: spec.version, bucket: buckets}
		buckets += spec.pods
		rs := string(appendHex(nil, g.rng.Uint64(), 9))
		for range spec.pods {
			pod := make([]byte, 0, 32)
			pod = append(pod, spec.name...)
			pod = append(pod, '-')
			pod = append(pod, rs...)
			pod = append(pod, '-')
			for range 5 {
				pod = append(pod, podAlphabet[g.rng.IntN(len(podAlphabet))])
			}
			s.pods = append(s.pods, string(pod))
		}
		tc := 0
		for t := range templates { // in template order, for determinism
			if w := spec.templates[t]; w > 0 {
				tc += w
				s.templates = append(s.templates, weighted{t, tc})
			}
		}
		g.services = append(g.services, s)
		cum += spec.weight
		g.serviceCum = append(g.serviceCum, cum)
	}
	return g
}

const podAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// Buckets are the (service, pod) pairs, i.e. the (group, stream) pairs,
// in a fixed order; Record.Service and Record.Host are one of them.
func (g *Generator) Buckets() [][2]string {
	var out [][2]string
	for _, s := range g.services {
		for _, p := range s.pods {
			out = append(out, [2]string{s.name, p})
		}
	}
	return out
}

// Services are the log groups, in a fixed order.
func (g *Generator) Services() []string {
	out := make([]string, len(g.services))
	for i, s := range g.services {
		out[i] = s.name
	}
	return out
}

// IsNeedle reports whether record i carries the needle.
func (g *Generator) IsNeedle(i int64) bool {
	return g.cfg.NeedleEvery > 0 && i%g.cfg.NeedleEvery == g.needleOffset
}

// NeedleIndexes returns the records in [from, to) that carry the needle.
func (g *Generator) NeedleIndexes(from, to int64) []int64 {
	var out []int64
	if g.cfg.NeedleEvery <= 0 {
		return out
	}
	first := from - from%g.cfg.NeedleEvery + g.needleOffset
	if first < from {
		first += g.cfg.NeedleEvery
	}
	for i := first; i < to; i += g.cfg.NeedleEvery {
		out = append(out, i)
	}
	return out
}

// TimeOf returns the timestamp of record i, as Record would.
func (g *Generator) TimeOf(i int64) int64 {
	g.seedFor(i)
	return g.timeOf(i)
}

// seedFor puts the random source into record i's state. Record i's
// randomness comes from a stream of its own, so records do not depend on
// the order they are generated in.
func (g *Generator) seedFor(i int64) {
	g.pcg.Seed(g.cfg.Seed^mix(uint64(i)), mix(uint64(i)^0x9e3779b97f4a7c15))
}

// timeOf draws record i's timestamp; it must be the first draw after
// seedFor(i).
func (g *Generator) timeOf(i int64) int64 {
	slot := float64(i) * g.stepNs
	ns := g.cfg.Start.UnixNano() + int64(slot+g.rng.Float64()*g.stepNs)
	return ns - ns%int64(time.Millisecond)
}

// mix is SplitMix64's finaliser: it spreads neighbouring integers over
// the whole 64-bit range.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Record fills r with record i, reusing r's buffers.
func (g *Generator) Record(i int64, r *Record) {
	g.seedFor(i)
	r.Index = i
	r.Time = g.timeOf(i)
	r.Observed = r.Time + int64(g.rng.IntN(1500))*int64(time.Millisecond)
	r.buf = r.buf[:0]
	r.Attrs = r.Attrs[:0]
	r.Needle = g.IsNeedle(i)

	s := &g.services[pickCum(g.rng.IntN(100), g.serviceCum)]
	r.Service = s.name
	pod := g.rng.IntN(len(s.pods))
	r.Host, r.Bucket = s.pods[pod], s.bucket+pod
	r.HasTrace = s.name != "inventory" && s.name != "notifications" || g.rng.IntN(3) == 0
	if r.HasTrace {
		putUint64(r.TraceID[:8], g.rng.Uint64())
		putUint64(r.TraceID[8:], g.rng.Uint64())
		putUint64(r.SpanID[:], g.rng.Uint64())
	} else {
		r.TraceID, r.SpanID = [16]byte{}, [8]byte{}
	}

	// Attributes every service sets.
	r.addStatic("logger", s.logger)
	r.addStatic("service.version", s.version)
	r.addStatic("deployment.environment", "production")
	r.addStatic("cloud.region", regions[pod%len(regions)])

	t := s.templates[pickCumWeighted(g.rng.IntN(s.templates[len(s.templates)-1].cum), s.templates)].template
	r.Template = t
	w := &g.w
	w.g, w.r = g, r
	templates[t].write(w)

	// Extras some requests carry, up to the 15-attribute limit.
	for _, x := range extras {
		if len(r.Attrs) >= 15 {
			break
		}
		if g.rng.IntN(100) < x.percent {
			x.add(w)
		}
	}
	if r.Needle {
		r.buf = append(r.buf, ' ')
		r.buf = append(r.buf, Needle...)
		r.msg.end = int32(len(r.buf))
	}
}

func pickCum(x int, cum []int) int {
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

func pickCumWeighted(x int, ws []weighted) int {
	for i, w := range ws {
		if x < w.cum {
			return i
		}
	}
	return len(ws) - 1
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// writer builds one record's message and attributes.
type writer struct {
	g *Generator
	r *Record
}

func (w *writer) rng() *rand.Rand { return w.g.rng }
func (w *writer) n(k int) int     { return w.g.rng.IntN(k) }
func (w *writer) pick(xs []string) string {
	return xs[w.g.rng.IntN(len(xs))]
}
func (w *writer) mark() int32 { return int32(len(w.r.buf)) }

// beginMessage starts the message; everything appended until endMessage
// is its text.
func (w *writer) beginMessage()             { w.r.msg.start = w.mark() }
func (w *writer) endMessage()               { w.r.msg.end = w.mark() }
func (w *writer) s(text string)             { w.r.buf = append(w.r.buf, text...) }
func (w *writer) b(c byte)                  { w.r.buf = append(w.r.buf, c) }
func (w *writer) int(v int64)               { w.r.buf = strconv.AppendInt(w.r.buf, v, 10) }
func (w *writer) fixed(v float64, prec int) { w.r.buf = strconv.AppendFloat(w.r.buf, v, 'f', prec, 64) }
func (w *writer) ref(sp span)               { w.r.buf = append(w.r.buf, w.r.buf[sp.start:sp.end]...) }

// hex appends n random lowercase hex digits and returns their span.
func (w *writer) hex(n int) span {
	start := w.mark()
	for n > 0 {
		k := min(n, 16)
		w.r.buf = appendHex(w.r.buf, w.g.rng.Uint64(), k)
		n -= k
	}
	return span{start, w.mark()}
}

// str appends text as a value and returns its span.
func (w *writer) str(text string) span {
	start := w.mark()
	w.s(text)
	return span{start, w.mark()}
}

// attr adds a string attribute whose value is sp.
func (w *writer) attr(key string, sp span) {
	w.r.Attrs = append(w.r.Attrs, Attr{Key: key, Kind: AttrString, str: sp})
}

func (w *writer) attrStr(key, value string) { w.attr(key, w.str(value)) }
func (w *writer) attrInt(key string, v int64) {
	w.r.Attrs = append(w.r.Attrs, Attr{Key: key, Kind: AttrInt, Int: v})
}
func (w *writer) attrFloat(key string, v float64) {
	w.r.Attrs = append(w.r.Attrs, Attr{Key: key, Kind: AttrFloat, Float: v})
}
func (w *writer) attrBool(key string, v bool) {
	a := Attr{Key: key, Kind: AttrBool}
	if v {
		a.Int = 1
	}
	w.r.Attrs = append(w.r.Attrs, a)
}

func (r *Record) addStatic(key, value string) {
	start := int32(len(r.buf))
	r.buf = append(r.buf, value...)
	r.Attrs = append(r.Attrs, Attr{Key: key, Kind: AttrString, str: span{start, int32(len(r.buf))}})
}

// requestID adds a request id attribute and returns its span.
func (w *writer) requestID() span {
	sp := w.hex(16)
	w.attr("request_id", sp)
	return sp
}

// userID adds a user id (popular users log more) and returns its span.
func (w *writer) userID() span {
	start := w.mark()
	w.s("u_")
	w.int(int64(w.g.users.Uint64()) + 1000)
	sp := span{start, w.mark()}
	w.attr("user.id", sp)
	return sp
}

func (w *writer) ip() span {
	start := w.mark()
	w.int(10)
	w.b('.')
	w.int(int64(w.n(4) + 40))
	w.b('.')
	w.int(int64(w.n(256)))
	w.b('.')
	w.int(int64(w.n(254) + 1))
	return span{start, w.mark()}
}

func (w *writer) publicIP() span {
	start := w.mark()
	w.int(int64(w.n(200) + 23))
	w.b('.')
	w.int(int64(w.n(256)))
	w.b('.')
	w.int(int64(w.n(256)))
	w.b('.')
	w.int(int64(w.n(254) + 1))
	return span{start, w.mark()}
}

// durationMs draws a latency in ms from a log-normal distribution with
// the given median, rounded to microseconds.
func (w *writer) durationMs(median float64) float64 {
	d := median * math.Exp(w.g.rng.NormFloat64()*0.9)
	return math.Round(d*1000) / 1000
}

func appendHex(b []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := range n {
		b = append(b, digits[(v>>(4*(i%16)))&0xf])
	}
	return b
}

// extras are attributes a share of records carry besides their
// template's, so records vary in shape as real ones do.
var extras = []struct {
	percent int
	add     func(w *writer)
}{
	{30, func(w *writer) { w.attrInt("thread.id", int64(w.n(200)+1)) }},
	{20, func(w *writer) { w.attrStr("tenant", w.pick(tenants)) }},
	{12, func(w *writer) { w.attrStr("feature", w.pick(flags)) }},
	{8, func(w *writer) { w.attrBool("canary", w.n(10) == 0) }},
	{5, func(w *writer) { w.attr("session.id", w.hex(24)) }},
}

var (
	regions    = []string{"eu-west-1", "eu-central-1", "us-east-1"}
	tenants    = []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell", "cyberdyne"}
	flags      = []string{"new-checkout-flow", "one-click-pay", "dark-mode", "search-v2", "recs-ranker-b", "free-shipping-banner", "lazy-images"}
	methods    = []string{"GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH"}
	agents     = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "okhttp/4.12.0", "curl/8.5.0", "Go-http-client/2.0", "python-requests/2.32.3", "ShopApp/5.31.0 (Android 15; Pixel 8)"}
	referers   = []string{"-", "-", "https://shop.example.com/", "https://shop.example.com/cart", "https://www.google.com/", "https://shop.example.com/search"}
	tables     = []string{"orders", "order_items", "customers", "products", "inventory", "payments", "sessions", "addresses", "coupons"}
	dbNames    = []string{"shop", "shop", "billing", "identity"}
	pools      = []string{"redis", "postgres-primary", "postgres-replica", "http:payments.internal:8080", "http:search.internal:9200"}
	upstreams  = []string{"payments.internal:8080", "inventory.internal:8080", "search.internal:9200", "auth.internal:8443", "smtp.mailgw.internal:587", "redis-master.cache:6379", "catalog.internal:8080"}
	netErrors  = []string{"connect: connection refused", "i/o timeout", "context deadline exceeded", "read: connection reset by peer", "no such host", "EOF", "tls: handshake failure", "503 Service Unavailable"}
	declines   = []string{"insufficient_funds", "do_not_honor", "expired_card", "incorrect_cvc", "suspected_fraud", "card_velocity_exceeded"}
	cards      = []string{"visa", "mastercard", "amex", "maestro"}
	currencies = []string{"EUR", "EUR", "EUR", "USD", "GBP", "SEK", "PLN"}
	words      = []string{"red", "running", "shoes", "wireless", "headphones", "usb", "cable", "coffee", "grinder", "linen", "shirt", "kids", "winter", "jacket", "desk", "lamp", "garden", "hose", "yoga", "mat", "organic", "tea", "phone", "case", "leather", "wallet", "water", "bottle", "gaming", "mouse", "4k", "monitor", "backpack", "sunglasses", "vintage", "poster", "dog", "bed", "ceramic", "mug"}
	emailTmpls = []string{"order_confirmation", "shipping_update", "password_reset", "welcome", "abandoned_cart", "invoice"}
	topics     = []string{"orders.placed", "orders.cancelled", "inventory.reserved", "payments.captured", "shipments.created"}
	exceptions = []string{"java.lang.IllegalStateException", "java.lang.NullPointerException", "org.springframework.dao.DataIntegrityViolationException", "java.util.concurrent.TimeoutException", "com.example.common.RetryExhaustedException"}
	javaFrames = []string{"com.example.checkout.OrderService.reserve(OrderService.java:214)", "com.example.checkout.OrderController.place(OrderController.java:88)", "com.example.common.TxTemplate.execute(TxTemplate.java:41)", "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)", "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)", "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)", "com.example.payments.ChargeHandler.capture(ChargeHandler.java:131)", "com.example.inventory.StockListener.onMessage(StockListener.java:77)", "java.base/java.lang.Thread.run(Thread.java:1583)"}
	goFuncs    = []string{"main.(*Handler).ServeHTTP", "catalog/handlers.(*Products).Get", "catalog/store.(*PG).LoadVariants", "auth/session.(*Manager).Refresh", "net/http.serverHandler.ServeHTTP", "net/http.(*conn).serve"}
)

// routes are request paths; "{id}" takes a number.
var routes = []string{"/api/v1/orders/{id}", "/api/v1/orders", "/api/v1/products/{id}", "/api/v1/products/{id}/reviews", "/api/v1/cart", "/api/v1/cart/items", "/api/v1/search", "/api/v1/users/{id}/addresses", "/api/v1/checkout", "/api/v1/payments/{id}/capture", "/api/v2/recommendations", "/graphql", "/static/js/app.4f1c9e.js", "/static/css/main.b81a7d.css", "/images/products/{id}.webp"}

// path appends a concrete path for route r, returning its span.
func (w *writer) path(route string) span {
	start := w.mark()
	for i := 0; i < len(route); i++ {
		if route[i] == '{' && i+3 < len(route) && route[i:i+4] == "{id}" {
			w.int(int64(w.g.products.Uint64()) + 10000)
			i += 3
			continue
		}
		w.b(route[i])
	}
	if route == "/api/v1/search" || route == "/api/v1/orders" {
		w.s("?page=")
		w.int(int64(w.n(5) + 1))
	}
	return span{start, w.mark()}
}

// Template indexes; templates holds them in this order.
const (
	tAccess = iota
	tRequestDone
	tDBSlow
	tDBQuery
	tLogin
	tLoginFailed
	tToken
	tCacheMiss
	tPoolExhausted
	tStackTrace
	tGoPanic
	tUpstreamError
	tJSONEvent
	tPaymentOK
	tPaymentDeclined
	tKafkaCommit
	tSearch
	tEmail
	tRateLimited
	tGCPause
	tHealth
	tFeatureFlag
	tStockLow
	tRetry
)

// template writes one kind of message with its attributes and level.
type template struct {
	name  string
	write func(w *writer)
}

var templates = []template{
	tAccess: {"http access log", func(w *writer) {
		rid, user := w.requestID(), w.userID()
		client := w.publicIP()
		w.attr("client.address", client)
		method := w.pick(methods)
		w.attrStr("http.request.method", method)
		route := w.pick(routes)
		w.attrStr("http.route", route)
		p := w.path(route)
		status := pickStatus(w)
		w.attrInt("http.response.status_code", int64(status))
		size := int64(200 + w.n(60000))
		w.attrInt("http.response.body.size", size)
		d := w.durationMs(35)
		w.attrFloat("duration_ms", d)
		ua := w.pick(agents)
		if w.n(3) == 0 {
			w.attrStr("user_agent.original", ua)
		}
		w.r.Level = levelForStatus(status)
		ts := time.Unix(0, w.r.Time).UTC()
		w.beginMessage()
		w.ref(client)
		w.s(" - ")
		w.ref(user)
		w.s(" [")
		w.r.buf = ts.AppendFormat(w.r.buf, "02/Jan/2006:15:04:05.000 -0700")
		w.s(`] "`)
		w.s(method)
		w.b(' ')
		w.ref(p)
		w.s(` HTTP/`)
		w.s([]string{"1.1", "2.0", "2.0"}[w.n(3)])
		w.s(`" `)
		w.int(int64(status))
		w.b(' ')
		w.int(size)
		w.b(' ')
		w.fixed(d/1000, 3)
		w.s(` "`)
		w.s(w.pick(referers))
		w.s(`" "`)
		w.s(ua)
		w.s(`" rid=`)
		w.ref(rid)
		w.endMessage()
	}},
	tRequestDone: {"request completed", func(w *writer) {
		rid := w.requestID()
		method := w.pick(methods)
		route := w.pick(routes[:12])
		w.attrStr("http.request.method", method)
		w.attrStr("http.route", route)
		p := w.path(route)
		status := pickStatus(w)
		w.attrInt("http.response.status_code", int64(status))
		d := w.durationMs(18)
		w.attrFloat("duration_ms", d)
		w.r.Level = levelForStatus(status)
		w.beginMessage()
		w.s("request completed method=")
		w.s(method)
		w.s(" path=")
		w.ref(p)
		w.s(" status=")
		w.int(int64(status))
		w.s(" duration=")
		w.fixed(d, 1)
		w.s("ms bytes=")
		w.int(int64(100 + w.n(20000)))
		w.s(" request_id=")
		w.ref(rid)
		w.endMessage()
	}},
	tDBSlow: {"slow database query", func(w *writer) {
		rid := w.requestID()
		table := w.pick(tables)
		db := w.pick(dbNames)
		w.attrStr("db.system", "postgresql")
		w.attrStr("db.name", db)
		w.attrStr("db.sql.table", table)
		d := math.Round((500+w.g.rng.ExpFloat64()*900)*10) / 10
		w.attrFloat("duration_ms", d)
		rows := int64(w.n(5000))
		w.attrInt("db.rows", rows)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("slow query (")
		w.fixed(d, 1)
		w.s(" ms > 500 ms) on ")
		w.s(db)
		w.s(": SELECT t.id, t.status, t.updated_at FROM ")
		w.s(table)
		w.s(" t WHERE t.customer_id = $1 AND t.created_at > now() - interval '")
		w.int(int64(w.n(90) + 1))
		w.s(" days' ORDER BY t.created_at DESC LIMIT ")
		w.int(int64(10 * (w.n(10) + 1)))
		w.s(" [rows=")
		w.int(rows)
		w.s(" request_id=")
		w.ref(rid)
		w.s("]")
		w.endMessage()
	}},
	tDBQuery: {"database query", func(w *writer) {
		table := w.pick(tables)
		w.attrStr("db.system", "postgresql")
		w.attrStr("db.sql.table", table)
		d := w.durationMs(1.8)
		w.attrFloat("duration_ms", d)
		conn := int64(w.n(32) + 1)
		w.attrInt("db.connection.id", conn)
		w.r.Level = LevelDebug
		w.beginMessage()
		w.s([]string{"executed query on ", "fetched rows from ", "updated "}[w.n(3)])
		w.s(table)
		w.s(" in ")
		w.fixed(d, 2)
		w.s("ms rows=")
		w.int(int64(w.n(50)))
		w.s(" conn=")
		w.int(conn)
		w.endMessage()
	}},
	tLogin: {"login succeeded", func(w *writer) {
		rid, user := w.requestID(), w.userID()
		ip := w.publicIP()
		w.attr("client.address", ip)
		method := []string{"password", "password", "sso", "passkey", "magic_link"}[w.n(5)]
		w.attrStr("auth.method", method)
		mfa := w.n(3) > 0
		w.attrBool("auth.mfa", mfa)
		sess := w.hex(24)
		w.r.Level = LevelInfo
		w.beginMessage()
		w.s("user login succeeded user_id=")
		w.ref(user)
		w.s(" method=")
		w.s(method)
		w.s(" ip=")
		w.ref(ip)
		w.s(" mfa=")
		w.s(strconv.FormatBool(mfa))
		w.s(" session=")
		w.ref(sess)
		w.s(" request_id=")
		w.ref(rid)
		w.endMessage()
	}},
	tLoginFailed: {"login failed", func(w *writer) {
		user := w.userID()
		ip := w.publicIP()
		w.attr("client.address", ip)
		reason := []string{"invalid_password", "invalid_password", "unknown_user", "account_locked", "mfa_timeout"}[w.n(5)]
		w.attrStr("auth.failure_reason", reason)
		attempt := int64(w.n(5) + 1)
		w.attrInt("auth.attempt", attempt)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("login failed for user ")
		w.ref(user)
		w.s(" from ")
		w.ref(ip)
		w.s(": reason=")
		w.s(reason)
		w.s(" attempt=")
		w.int(attempt)
		w.s("/5")
		w.endMessage()
	}},
	tToken: {"token issued", func(w *writer) {
		client := []string{"web-frontend", "ios-app", "android-app", "partner-api", "backoffice"}[w.n(5)]
		w.attrStr("oauth.client_id", client)
		jti := w.hex(32)
		w.attr("oauth.jti", jti)
		exp := int64([]int{300, 900, 3600, 3600, 86400}[w.n(5)])
		w.attrInt("oauth.expires_in", exp)
		w.r.Level = []Level{LevelDebug, LevelInfo, LevelInfo}[w.n(3)]
		w.beginMessage()
		w.s([]string{"issued access token", "refreshed access token", "issued refresh token"}[w.n(3)])
		w.s(" for client ")
		w.s(client)
		w.s(` scope="`)
		w.s([]string{"orders:read cart:write", "profile:read", "orders:read orders:write payments:write", "catalog:read"}[w.n(4)])
		w.s(`" expires_in=`)
		w.int(exp)
		w.s("s jti=")
		w.ref(jti)
		w.endMessage()
	}},
	tCacheMiss: {"cache miss", func(w *writer) {
		kind := []string{"product", "price", "user-profile", "stock", "recs"}[w.n(5)]
		w.attrStr("cache.backend", "redis")
		key := w.mark()
		w.s(kind)
		w.b(':')
		w.int(int64(w.g.products.Uint64()) + 10000)
		w.s(":v")
		w.int(int64(w.n(9) + 1))
		keySp := span{key, w.mark()}
		w.attr("cache.key", keySp)
		d := w.durationMs(0.4)
		w.attrFloat("duration_ms", d)
		w.r.Level = LevelDebug
		w.beginMessage()
		w.s("cache miss key=")
		w.ref(keySp)
		w.s(" backend=redis ttl=")
		w.int(int64(60 * (w.n(10) + 1)))
		w.s("s latency=")
		w.fixed(d, 2)
		w.s("ms")
		w.endMessage()
	}},
	tPoolExhausted: {"connection pool exhausted", func(w *writer) {
		pool := w.pick(pools)
		w.attrStr("pool.name", pool)
		waiting := int64(w.n(40) + 1)
		w.attrInt("pool.waiting", waiting)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s(pool)
		w.s(" connection pool exhausted (active=64 idle=0 waiting=")
		w.int(waiting)
		w.s("), waited ")
		w.int(int64(w.n(200) + 5))
		w.s("ms for a connection")
		w.endMessage()
	}},
	tStackTrace: {"exception with stack trace", func(w *writer) {
		rid := w.requestID()
		order := w.hex(12)
		w.attr("order.id", order)
		exc := w.pick(exceptions)
		w.attrStr("exception.type", exc)
		w.r.Level = LevelError
		w.beginMessage()
		w.s("Unhandled exception processing order o-")
		w.ref(order)
		w.s(" (request ")
		w.ref(rid)
		w.s("): ")
		w.s(exc)
		w.s(": ")
		w.s([]string{"inventory reservation ", "payment intent ", "cart ", "shipment "}[w.n(4)])
		w.int(int64(w.n(1_000_000)))
		w.s([]string{" expired", " not found", " is locked by another transaction", " timed out after 30000 ms"}[w.n(4)])
		start := w.n(3)
		for _, f := range javaFrames[start : start+4+w.n(3)] {
			w.s("\n\tat ")
			w.s(f)
		}
		w.s("\n\t... ")
		w.int(int64(w.n(80) + 20))
		w.s(" more")
		w.endMessage()
	}},
	tGoPanic: {"recovered Go panic", func(w *writer) {
		rid := w.requestID()
		w.attrStr("exception.type", "runtime.Error")
		w.r.Level = LevelError
		w.beginMessage()
		w.s("panic recovered in handler (request ")
		w.ref(rid)
		w.s("): runtime error: index out of range [")
		n := w.n(8) + 1
		w.int(int64(n))
		w.s("] with length ")
		w.int(int64(n))
		w.s("\n\ngoroutine ")
		w.int(int64(w.n(100000) + 1))
		w.s(" [running]:")
		for i, f := range goFuncs[w.n(2):] {
			w.s("\n")
			w.s(f)
			w.s("(...)\n\t/app/")
			w.s([]string{"handlers/products.go", "store/pg.go", "session/manager.go", "server.go"}[i%4])
			w.b(':')
			w.int(int64(w.n(400) + 20))
			w.s(" +0x")
			w.hex(3)
		}
		w.endMessage()
	}},
	tUpstreamError: {"upstream request failed", func(w *writer) {
		rid := w.requestID()
		up := w.pick(upstreams)
		w.attrStr("server.address", up)
		e := w.pick(netErrors)
		w.attrStr("error.type", e)
		attempt := int64(w.n(3) + 1)
		w.attrInt("retry.attempt", attempt)
		ip := w.ip()
		w.r.Level = LevelError
		w.beginMessage()
		w.s("upstream request failed: ")
		w.s(w.pick(methods))
		w.s(" http://")
		w.s(up)
		w.s("/v1/")
		w.s(w.pick(tables))
		w.s(": dial tcp ")
		w.ref(ip)
		w.b(':')
		w.int(int64([]int{8080, 8443, 9200, 6379, 587}[w.n(5)]))
		w.s(": ")
		w.s(e)
		w.s(" (attempt ")
		w.int(attempt)
		w.s("/3, elapsed ")
		w.fixed(w.durationMs(900)/1000, 3)
		w.s("s, request_id=")
		w.ref(rid)
		w.s(")")
		w.endMessage()
	}},
	tJSONEvent: {"domain event as JSON", func(w *writer) {
		user := w.userID()
		id := w.hex(12)
		w.attr("order.id", id)
		topic := w.pick(topics)
		w.attrStr("event.name", topic)
		total := math.Round(w.g.rng.ExpFloat64()*6000) / 100
		w.attrFloat("order.total", total)
		w.r.Level = LevelInfo
		w.beginMessage()
		w.s(`{"event":"`)
		w.s(topic)
		w.s(`","order_id":"o-`)
		w.ref(id)
		w.s(`","customer_id":"`)
		w.ref(user)
		w.s(`","items":`)
		w.int(int64(w.n(6) + 1))
		w.s(`,"total":`)
		w.fixed(total, 2)
		w.s(`,"currency":"`)
		w.s(w.pick(currencies))
		w.s(`","coupon":`)
		if w.n(4) == 0 {
			w.s(`"SAVE`)
			w.int(int64(5 * (w.n(6) + 1)))
			w.s(`"`)
		} else {
			w.s("null")
		}
		w.s(`}`)
		w.endMessage()
	}},
	tPaymentOK: {"payment authorized", func(w *writer) {
		rid := w.requestID()
		txn := w.hex(20)
		w.attr("payment.transaction_id", txn)
		amount := math.Round(w.g.rng.ExpFloat64()*8000) / 100
		w.attrFloat("payment.amount", amount)
		cur := w.pick(currencies)
		w.attrStr("payment.currency", cur)
		card := w.pick(cards)
		w.attrStr("payment.card_brand", card)
		d := w.durationMs(380)
		w.attrFloat("duration_ms", d)
		w.r.Level = LevelInfo
		w.beginMessage()
		w.s("payment authorized txn=")
		w.ref(txn)
		w.s(" amount=")
		w.fixed(amount, 2)
		w.b(' ')
		w.s(cur)
		w.s(" card=")
		w.s(card)
		w.s(" ****")
		w.int(int64(w.n(9000) + 1000))
		w.s(" 3ds=")
		w.s(strconv.FormatBool(w.n(2) == 0))
		w.s(" provider=")
		w.s([]string{"adyen", "stripe", "worldpay"}[w.n(3)])
		w.s(" latency=")
		w.int(int64(d))
		w.s("ms request_id=")
		w.ref(rid)
		w.endMessage()
	}},
	tPaymentDeclined: {"payment declined", func(w *writer) {
		txn := w.hex(20)
		w.attr("payment.transaction_id", txn)
		reason := w.pick(declines)
		w.attrStr("payment.decline_reason", reason)
		code := int64(w.n(60) + 5)
		w.attrInt("payment.decline_code", code)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("payment declined txn=")
		w.ref(txn)
		w.s(" reason=")
		w.s(reason)
		w.s(" code=")
		w.int(code)
		w.s(" card=")
		w.s(w.pick(cards))
		w.endMessage()
	}},
	tKafkaCommit: {"consumer offsets committed", func(w *writer) {
		topic := w.pick(topics)
		w.attrStr("messaging.destination.name", topic)
		part := int64(w.n(12))
		w.attrInt("messaging.kafka.partition", part)
		offset := int64(w.r.Index/97) + int64(w.n(1000))
		w.attrInt("messaging.kafka.offset", offset)
		lag := int64(w.g.rng.ExpFloat64() * 20)
		w.attrInt("messaging.kafka.consumer.lag", lag)
		w.r.Level = LevelInfo
		w.beginMessage()
		w.s("committed offsets for partition ")
		w.s(topic)
		w.b('-')
		w.int(part)
		w.s(" offset=")
		w.int(offset)
		w.s(" lag=")
		w.int(lag)
		w.s(" group=")
		w.s(w.r.Service)
		w.s("-consumer")
		w.endMessage()
	}},
	tSearch: {"search served", func(w *writer) {
		rid := w.requestID()
		q := w.mark()
		for k := w.n(3) + 1; k > 0; k-- {
			w.s(w.pick(words))
			if k > 1 {
				w.b(' ')
			}
		}
		qs := span{q, w.mark()}
		w.attr("search.query", qs)
		results := int64(w.g.rng.ExpFloat64() * 200)
		w.attrInt("search.results", results)
		d := w.durationMs(22)
		w.attrFloat("duration_ms", d)
		w.r.Level = LevelInfo
		if results == 0 {
			w.r.Level = LevelWarn
		}
		w.beginMessage()
		w.s(`search q="`)
		w.ref(qs)
		w.s(`" results=`)
		w.int(results)
		w.s(" took=")
		w.int(int64(d))
		w.s("ms page=")
		w.int(int64(w.n(4) + 1))
		if w.n(2) == 0 {
			w.s(" filters=size:")
			w.int(int64(w.n(12) + 36))
			w.s(",brand:")
			w.s(w.pick(tenants))
		}
		w.s(" request_id=")
		w.ref(rid)
		w.endMessage()
	}},
	tEmail: {"email sent", func(w *writer) {
		user := w.userID()
		tmpl := w.pick(emailTmpls)
		w.attrStr("email.template", tmpl)
		mid := w.hex(24)
		w.attr("email.message_id", mid)
		w.r.Level = LevelInfo
		w.beginMessage()
		w.s("sent email template=")
		w.s(tmpl)
		w.s(" to=")
		w.ref(user)
		w.s("@example.com message_id=<")
		w.ref(mid)
		w.s("@mail.example.com> provider=ses in ")
		w.int(int64(w.durationMs(120)))
		w.s("ms")
		w.endMessage()
	}},
	tRateLimited: {"rate limited", func(w *writer) {
		key := w.hex(10)
		w.attr("api_key.id", key)
		ip := w.publicIP()
		w.attr("client.address", ip)
		limit := int64([]int{50, 100, 100, 500}[w.n(4)])
		w.attrInt("ratelimit.limit", limit)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("rate limit exceeded for api key ak_")
		w.ref(key)
		w.s(" from ")
		w.ref(ip)
		w.s(" (limit ")
		w.int(limit)
		w.s("/s, burst ")
		w.int(limit * 2)
		w.s("), rejecting request with 429")
		w.endMessage()
	}},
	tGCPause: {"long GC pause", func(w *writer) {
		pause := int64(100 + w.g.rng.ExpFloat64()*150)
		w.attrInt("gc.pause_ms", pause)
		heap := int64(400 + w.n(1600))
		w.attrInt("gc.heap_before_mb", heap)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("GC pause ")
		w.int(pause)
		w.s("ms exceeds 100ms (heap ")
		w.int(heap)
		w.s("MiB -> ")
		w.int(heap * int64(w.n(40)+30) / 100)
		w.s("MiB, ")
		w.int(int64(w.n(64) + 8))
		w.s(" goroutines blocked)")
		w.endMessage()
	}},
	tHealth: {"health check", func(w *writer) {
		ip := w.ip()
		w.attr("client.address", ip)
		w.attrStr("http.route", "/healthz")
		d := w.durationMs(0.3)
		w.attrFloat("duration_ms", d)
		w.attrInt("http.response.status_code", 200)
		w.r.Level = LevelDebug
		w.beginMessage()
		w.s("GET /healthz 200 ")
		w.fixed(d, 3)
		w.s("ms from ")
		w.ref(ip)
		w.s(" kube-probe/1.31")
		w.endMessage()
	}},
	tFeatureFlag: {"feature flag evaluated", func(w *writer) {
		user := w.userID()
		flag := w.pick(flags)
		w.attrStr("feature_flag.key", flag)
		on := w.n(10) == 0
		w.attrBool("feature_flag.value", on)
		w.r.Level = LevelDebug
		w.beginMessage()
		w.s("feature flag ")
		w.s(flag)
		w.s(" evaluated to ")
		w.s(strconv.FormatBool(on))
		w.s(" for user ")
		w.ref(user)
		w.s(" (rule: ")
		w.int(int64(5 * (w.n(10) + 1)))
		w.s("% rollout)")
		w.endMessage()
	}},
	tStockLow: {"stock below threshold", func(w *writer) {
		sku := w.mark()
		w.s("SKU-")
		w.int(int64(w.g.products.Uint64()) + 10000)
		skuSp := span{sku, w.mark()}
		w.attr("product.sku", skuSp)
		left := int64(w.n(10))
		w.attrInt("stock.available", left)
		wh := []string{"ams-1", "ams-2", "fra-1", "dub-1"}[w.n(4)]
		w.attrStr("warehouse", wh)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("stock for ")
		w.ref(skuSp)
		w.s(" below threshold: ")
		w.int(left)
		w.s(" left (threshold 10), warehouse=")
		w.s(wh)
		w.endMessage()
	}},
	tRetry: {"retrying", func(w *writer) {
		rid := w.requestID()
		up := w.pick(upstreams)
		w.attrStr("server.address", up)
		attempt := int64(w.n(4) + 2)
		w.attrInt("retry.attempt", attempt)
		backoff := int64(100 << w.n(5))
		w.attrInt("retry.backoff_ms", backoff)
		w.r.Level = LevelWarn
		w.beginMessage()
		w.s("retrying request to ")
		w.s(up)
		w.s(" (attempt ")
		w.int(attempt)
		w.s(" of 5) after ")
		w.int(backoff)
		w.s("ms: ")
		w.s(w.pick(netErrors))
		w.s(" request_id=")
		w.ref(rid)
		w.endMessage()
	}},
}

// pickStatus draws an HTTP status with a realistic mix: 92 % 2xx and
// 3xx, 6.5 % 4xx, 1.5 % 5xx.
func pickStatus(w *writer) int {
	switch x := w.n(1000); {
	case x < 740:
		return 200
	case x < 800:
		return 201
	case x < 830:
		return 204
	case x < 890:
		return 304
	case x < 920:
		return 302
	case x < 950:
		return 404
	case x < 965:
		return 400
	case x < 975:
		return 401
	case x < 980:
		return 403
	case x < 985:
		return 429
	case x < 993:
		return 500
	case x < 997:
		return 502
	default:
		return 503
	}
}

func levelForStatus(status int) Level {
	switch {
	case status >= 500:
		return LevelError
	case status >= 400:
		return LevelWarn
	}
	return LevelInfo
}
