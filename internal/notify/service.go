package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/safeurl"
)

// Protocols of subscriptions.
const (
	ProtocolWebhook   = "webhook"
	ProtocolSlack     = "slack"
	ProtocolEmail     = "email"
	ProtocolPagerDuty = "pagerduty"
	ProtocolLog       = "log"
)

// Protocols lists the protocols a subscription may use.
var Protocols = []string{ProtocolWebhook, ProtocolSlack, ProtocolEmail, ProtocolPagerDuty, ProtocolLog}

// Errors callers test with errors.Is.
var (
	ErrTopicNotFound        = errors.New("topic not found")
	ErrSubscriptionNotFound = errors.New("subscription not found")
	ErrInvalid              = errors.New("invalid request")
	ErrBadToken             = errors.New("confirmation token is wrong or expired")
)

// Options configure a Service.
type Options struct {
	DB *sql.DB // the meta store, migrated
	// Senders deliver per protocol; a protocol without a sender cannot be
	// subscribed to.
	Senders map[string]channel.Sender
	// URLPolicy checks webhook and Slack URLs when a subscription is made
	// (the senders' HTTP client checks the dialled address again).
	URLPolicy safeurl.Policy
	Resolver  *net.Resolver
	// ValidateLogGroup checks the endpoint of a log subscription.
	ValidateLogGroup func(name string) error
	// PublicURL is the server's externally reachable base URL, for
	// confirmation and unsubscribe links.
	PublicURL string
	Region    string // for ARNs
	AccountID string // for ARNs

	Workers       int           // concurrent deliveries; default 8
	PollInterval  time.Duration // how often due rows are looked for without a wake-up; default 1s
	SendTimeout   time.Duration // per attempt; default 15s
	DefaultRetry  func(protocol string) RetryPolicy
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	jitterDisable bool // tests
}

// Service manages topics and subscriptions and delivers the outbox. It is
// safe for concurrent use.
type Service struct {
	opts Options
	db   *sql.DB

	wake     chan struct{}
	mu       sync.Mutex
	inflight map[string]bool     // subscriptions with a delivery under way
	seq      int64               // the last outbox seq handed out
	records  chan *attemptRecord // to the recorder, while Run runs
	policies sync.Map            // filter policy source → *filterpolicy.Policy

	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	enqueued   *prometheus.CounterVec
}

// New returns a Service; Run delivers.
func New(opts Options) *Service {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 15 * time.Second
	}
	if opts.DefaultRetry == nil {
		opts.DefaultRetry = DefaultRetryPolicy
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	f := promauto.With(opts.Registerer)
	s := &Service{
		opts: opts, db: opts.DB,
		wake:     make(chan struct{}, 1),
		inflight: map[string]bool{},
		deliveries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_notify_delivery_attempts_total",
			Help: "Delivery attempts by protocol and outcome (delivered, retry, dead).",
		}, []string{"protocol", "outcome"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mirador_notify_delivery_duration_seconds",
			Help:    "Time one delivery attempt took, by protocol.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"protocol"}),
		enqueued: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mirador_notify_outbox_enqueued_total",
			Help: "Outbox rows written (one per message per matching subscription), by tenant.",
		}, []string{"tenant"}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mirador_notify_outbox_pending",
		Help: "Outbox rows waiting for delivery.",
	}, func() float64 {
		var n float64
		_ = s.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending'`).Scan(&n)
		return n
	})
	return s
}

// TopicARN returns the ARN of a topic.
func (s *Service) TopicARN(topic string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.opts.Region, s.opts.AccountID, topic)
}

// SubscriptionARN returns the ARN of a subscription.
func (s *Service) SubscriptionARN(topic, id string) string { return s.TopicARN(topic) + ":" + id }

var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// ParseTopic accepts a topic name or a topic ARN and returns the name.
func ParseTopic(ref string) (string, error) {
	name := ref
	if m := arnTopic.FindStringSubmatch(ref); m != nil {
		name = m[1]
	}
	if !topicName.MatchString(name) {
		return "", fmt.Errorf("%w: topic %q: names are 1 to 256 letters, digits, '-' and '_' (or a topic ARN)", ErrInvalid, ref)
	}
	return name, nil
}

var arnTopic = regexp.MustCompile(`^arn:[^:]+:sns:[^:]*:[^:]*:([^:]+)$`)

// newID returns a random UUID (version 4), the shape SNS gives message and
// subscription ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// randomToken returns n random bytes, hex-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Wake tells the dispatcher that rows were committed, so it looks at once
// rather than at its next poll.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return meta.InTx(ctx, s.db, fn)
}
