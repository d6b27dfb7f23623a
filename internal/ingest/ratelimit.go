package ingest

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a tenant's ingest rate: records per second with a burst. A zero
// PerSecond means unlimited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// A RateLimiter admits records per tenant. Records and Setting name what
// is limited in its errors, e.g. "log records" and
// "limits.ingest_log_records_per_second". It is safe for concurrent use.
type RateLimiter struct {
	Records      string
	Setting      string
	BurstSetting string
	Rate         func(tenant string) Rate

	mu       sync.Mutex
	limiters map[string]*tenantRate
}

type tenantRate struct {
	rate    Rate
	limiter *rate.Limiter // nil: unlimited
}

// Admit reserves n records of the tenant's rate or returns a
// *RateLimitError; a refused request consumes nothing.
func (l *RateLimiter) Admit(tenant string, n int) error {
	t := l.tenant(tenant)
	if t.limiter == nil {
		return nil
	}
	now := time.Now()
	r := t.limiter.ReserveN(now, n)
	if !r.OK() {
		return &RateLimitError{l: l, Tenant: tenant, Records: n, TooLarge: true, Rate: t.rate}
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &RateLimitError{l: l, Tenant: tenant, Records: n, RetryAfter: d, Rate: t.rate}
	}
	return nil
}

func (l *RateLimiter) tenant(id string) *tenantRate {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.Rate(id)
	if t, ok := l.limiters[id]; ok && t.rate == r {
		return t
	}
	t := &tenantRate{rate: r}
	if r.PerSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)
	}
	if l.limiters == nil {
		l.limiters = map[string]*tenantRate{}
	}
	l.limiters[id] = t
	return t
}

// RateLimitError reports that a tenant sent more records than its ingest
// rate allows; nothing of the request was stored. Unless TooLarge, the same
// request will be accepted after RetryAfter.
type RateLimitError struct {
	l          *RateLimiter
	Tenant     string
	Records    int
	TooLarge   bool
	RetryAfter time.Duration
	Rate       Rate
}

func (e *RateLimitError) Error() string {
	if e.TooLarge {
		return fmt.Sprintf("request of %d %s exceeds tenant %s's %s (%d): send smaller batches", e.Records, e.l.Records, e.Tenant, e.l.BurstSetting, e.Rate.Burst)
	}
	return fmt.Sprintf("tenant %s is over its %s ingest rate (%s %g, burst %d): retry after %s or raise the limit",
		e.Tenant, e.l.Records, e.l.Setting, e.Rate.PerSecond, e.Rate.Burst, e.RetryAfter.Round(time.Millisecond))
}

// StatusCode is 413 when the request alone exceeds the burst, else 429.
func (e *RateLimitError) StatusCode() int {
	if e.TooLarge {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusTooManyRequests
}

// RetryDelay is how long the sender should wait before retrying.
func (e *RateLimitError) RetryDelay() time.Duration { return e.RetryAfter }
