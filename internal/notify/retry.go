package notify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// RetryPolicy is SNS's healthyRetryPolicy: after the first attempt, up to
// NumRetries retries — NumNoDelayRetries at once, NumMinDelayRetries
// MinDelayTarget apart, then a backoff phase from MinDelayTarget to
// MaxDelayTarget shaped by BackoffFunction, then NumMaxDelayRetries
// MaxDelayTarget apart. Delays are in seconds; each gets ±20% jitter so
// retries from many messages do not arrive together.
type RetryPolicy struct {
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	BackoffFunction    string `json:"backoffFunction"`
}

// Backoff functions.
const (
	BackoffLinear      = "linear"
	BackoffArithmetic  = "arithmetic"
	BackoffGeometric   = "geometric"
	BackoffExponential = "exponential"
)

// DefaultRetryPolicy is the policy of a subscription that sets none. For
// HTTP-based protocols: 12 retries over about half an hour, one at 5 s,
// nine backing off exponentially to 5 minutes, two at 5 minutes — more
// patient than SNS's HTTP default (3 retries 20 s apart), since an alert
// lost to a receiver's short outage is the failure users complain of. For
// e-mail, SNS's own default for customer-managed endpoints: 50 attempts
// over about six hours.
func DefaultRetryPolicy(protocol string) RetryPolicy {
	if protocol == ProtocolEmail {
		return RetryPolicy{NumRetries: 50, NumMinDelayRetries: 2, NumMaxDelayRetries: 38, MinDelayTarget: 10, MaxDelayTarget: 600, BackoffFunction: BackoffExponential}
	}
	return RetryPolicy{NumRetries: 12, NumMinDelayRetries: 1, NumMaxDelayRetries: 2, MinDelayTarget: 5, MaxDelayTarget: 300, BackoffFunction: BackoffExponential}
}

// Validate checks p against SNS's bounds, naming the field.
func (p RetryPolicy) Validate() error {
	switch {
	case p.NumRetries < 0 || p.NumRetries > 100:
		return fmt.Errorf("%w: retryPolicy.numRetries %d: must be from 0 to 100", ErrInvalid, p.NumRetries)
	case p.NumNoDelayRetries < 0 || p.NumMinDelayRetries < 0 || p.NumMaxDelayRetries < 0:
		return fmt.Errorf("%w: retryPolicy: numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries must not be negative", ErrInvalid)
	case p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries > p.NumRetries:
		return fmt.Errorf("%w: retryPolicy: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries (%d) exceeds numRetries (%d)", ErrInvalid, p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries, p.NumRetries)
	case p.NumRetries > 0 && (p.MinDelayTarget < 1 || p.MinDelayTarget > p.MaxDelayTarget):
		return fmt.Errorf("%w: retryPolicy.minDelayTarget %d: must be from 1 to maxDelayTarget (%d)", ErrInvalid, p.MinDelayTarget, p.MaxDelayTarget)
	case p.MaxDelayTarget > 3600:
		return fmt.Errorf("%w: retryPolicy.maxDelayTarget %d: at most 3600 seconds", ErrInvalid, p.MaxDelayTarget)
	}
	switch p.BackoffFunction {
	case "", BackoffLinear, BackoffArithmetic, BackoffGeometric, BackoffExponential:
	default:
		return fmt.Errorf("%w: retryPolicy.backoffFunction %q: want linear, arithmetic, geometric or exponential", ErrInvalid, p.BackoffFunction)
	}
	if total := p.total(); total > time.Hour {
		return fmt.Errorf("%w: retryPolicy: retries would span %s; SNS allows at most 3600 seconds", ErrInvalid, total.Round(time.Second))
	}
	return nil
}

func (p RetryPolicy) total() time.Duration {
	var d time.Duration
	for k := 1; k <= p.NumRetries; k++ {
		d += p.delay(k)
	}
	return d
}

// Delay returns how long to wait before retry k (1-based), with jitter.
// ok is false once the retries are used up.
func (p RetryPolicy) Delay(k int, jitter bool) (d time.Duration, ok bool) {
	if k > p.NumRetries {
		return 0, false
	}
	d = p.delay(k)
	if jitter && d > 0 {
		d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
	return d, true
}

func (p RetryPolicy) delay(k int) time.Duration {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	switch {
	case k <= p.NumNoDelayRetries:
		return 0
	case k <= p.NumNoDelayRetries+p.NumMinDelayRetries:
		return sec(lo)
	case k > p.NumRetries-p.NumMaxDelayRetries:
		return sec(hi)
	}
	i := float64(k - p.NumNoDelayRetries - p.NumMinDelayRetries) // 1..backoff
	n := float64(backoff)
	var f float64 // 0..1: how far from min to max
	switch p.BackoffFunction {
	case BackoffArithmetic:
		f = (i * (i + 1) / 2) / (n * (n + 1) / 2)
	case BackoffGeometric:
		return sec(lo * math.Pow(hi/lo, i/n))
	case BackoffExponential:
		f = (math.Exp2(i) - 1) / (math.Exp2(n) - 1)
	default: // linear
		f = i / n
	}
	return sec(lo + (hi-lo)*f)
}
