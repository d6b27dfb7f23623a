package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/tenant"
)

const (
	// cacheTTL bounds how long a cached answer (are any keys active? is this
	// key valid? does this tenant exist?) is trusted: a revoke or a first key
	// takes effect within it, and hot requests skip the database.
	cacheTTL = time.Second
	// touchInterval is how often a key's last_used_at is written at most.
	touchInterval = time.Minute
	// touchTimeout bounds one last_used_at write.
	touchTimeout = 5 * time.Second
	// touchQueue holds pending last_used_at writes; when full, a write is
	// skipped and retried on a later request.
	touchQueue = 256
)

// Authenticator resolves HTTP requests to Principals. It is safe for
// concurrent use. It owns a goroutine that records key use; call Close when
// done, before closing the meta store.
type Authenticator struct {
	tenants *Tenants
	keys    *Keys
	now     func() time.Time
	log     *slog.Logger
	results [numResults]prometheus.Counter

	active atomic.Pointer[activeState]

	mu         sync.RWMutex
	keyCache   map[[sha256.Size]byte]*keyState
	tenantSeen map[string]time.Time // tenants known to exist, and when that was checked

	touches   chan touch
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type activeState struct {
	any       bool
	checkedAt time.Time
}

// keyState is a cached key lookup. key, found and checkedAt are guarded by
// Authenticator.mu; lastTouch outlives refreshes so the once-a-minute limit
// holds across them.
type keyState struct {
	key       Key
	found     bool // false: no key has this hash
	checkedAt time.Time
	lastTouch atomic.Int64 // unix ns of the last queued last_used_at write
}

type touch struct {
	keyID string
	at    time.Time
}

// Results of mirador_auth_requests_total.
const (
	resultOK = iota
	resultUnauthenticated
	resultInvalidCredentials
	resultForbidden
	resultUnknownTenant
	resultError
	numResults
)

var resultNames = [numResults]string{"ok", "unauthenticated", "invalid_credentials", "forbidden", "unknown_tenant", "error"}

// NewAuthenticator returns an Authenticator over tenants and keys, registering
// its metrics with reg (which may be nil). Call Close when done.
func NewAuthenticator(tenants *Tenants, keys *Keys, reg prometheus.Registerer) *Authenticator {
	a := &Authenticator{
		tenants:    tenants,
		keys:       keys,
		now:        time.Now,
		log:        slog.Default().With("component", "auth"),
		keyCache:   make(map[[sha256.Size]byte]*keyState),
		tenantSeen: make(map[string]time.Time),
		touches:    make(chan touch, touchQueue),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	requests := registerCounterVec(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mirador_auth_requests_total",
		Help: "Requests authenticated, by result: ok, unauthenticated, invalid_credentials, forbidden (scope or X-Scope-OrgID), unknown_tenant (X-Scope-OrgID names no existing tenant, or is malformed), error (meta store failure).",
	}, []string{"result"}))
	for i, name := range resultNames {
		a.results[i] = requests.WithLabelValues(name)
	}
	go a.recordUse()
	return a
}

// registerCounterVec registers c, or returns the collector already registered
// under its name, so that two Authenticators can share a registry.
func registerCounterVec(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		slog.Default().Warn("auth metrics not registered", "err", err)
	}
	return c
}

// Close stops recording key use, after writing what is pending. It is safe to
// call more than once. Authenticate keeps working after Close, but last_used_at
// is no longer updated.
func (a *Authenticator) Close() error {
	a.closeOnce.Do(func() { close(a.stop) })
	<-a.done
	return nil
}

// Authenticate resolves r to a Principal. With no active key every request is
// anonymous, with every scope, on tenant default or the one X-Scope-OrgID
// names. Otherwise r must carry a key (ErrUnauthenticated) that is valid
// (ErrInvalidCredentials); X-Scope-OrgID may name another tenant only for an
// admin key (ErrForbidden), and the tenant must exist (ErrUnknownTenant) and be
// valid (tenant.ErrInvalidID). It counts the result in
// mirador_auth_requests_total.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	p, err := a.authenticate(r)
	a.count(err)
	return p, err
}

func (a *Authenticator) count(err error) {
	a.results[resultOf(err)].Inc()
}

func resultOf(err error) int {
	switch {
	case err == nil:
		return resultOK
	case errors.Is(err, ErrUnauthenticated):
		return resultUnauthenticated
	case errors.Is(err, ErrInvalidCredentials):
		return resultInvalidCredentials
	case errors.Is(err, ErrForbidden):
		return resultForbidden
	case errors.Is(err, ErrUnknownTenant), errors.Is(err, tenant.ErrInvalidID):
		return resultUnknownTenant
	default:
		return resultError
	}
}

func (a *Authenticator) authenticate(r *http.Request) (Principal, error) {
	ctx := r.Context()
	now := a.now()
	org := orgID(r)

	active, err := a.anyActive(ctx, now)
	if err != nil {
		return Principal{}, err
	}
	if !active {
		id := tenant.Default
		if org != "" {
			if err := a.checkTenant(ctx, org, now); err != nil {
				return Principal{}, err
			}
			id = org
		}
		return Principal{Tenant: id, Scopes: allScopes, Anonymous: true}, nil
	}

	secret, err := credentials(r)
	if err != nil {
		return Principal{}, err
	}
	key, err := a.lookup(ctx, secret, now)
	if err != nil {
		return Principal{}, err
	}
	id := key.Tenant
	if org != "" && org != key.Tenant {
		if !hasScope(key.Scopes, ScopeAdmin) {
			return Principal{}, fmt.Errorf("%w: %s can only select another tenant with an admin key; key %s belongs to tenant %q",
				ErrForbidden, OrgIDHeader, key.ID, key.Tenant)
		}
		if err := a.checkTenant(ctx, org, now); err != nil {
			return Principal{}, err
		}
		id = org
	}
	return Principal{Tenant: id, KeyID: key.ID, Scopes: key.Scopes}, nil
}

// anyActive reports whether authentication is on, from a cache at most
// cacheTTL old.
func (a *Authenticator) anyActive(ctx context.Context, now time.Time) (bool, error) {
	if s := a.active.Load(); s != nil && fresh(s.checkedAt, now) {
		return s.any, nil
	}
	on, err := a.keys.AnyActive(ctx)
	if err != nil {
		return false, err
	}
	a.active.Store(&activeState{any: on, checkedAt: now})
	return on, nil
}

func fresh(checkedAt, now time.Time) bool {
	age := now.Sub(checkedAt)
	return age >= 0 && age < cacheTTL
}

// lookup returns the active key whose secret is secret, and queues a
// last_used_at write for it at most once per touchInterval.
func (a *Authenticator) lookup(ctx context.Context, secret string, now time.Time) (Key, error) {
	hash := hashSecret(secret)
	a.mu.RLock()
	st := a.keyCache[hash]
	var key Key
	var found, ok bool
	if st != nil && fresh(st.checkedAt, now) {
		key, found, ok = st.key, st.found, true
	}
	a.mu.RUnlock()

	if !ok {
		var err error
		key, found, err = a.keys.byHash(ctx, hashHex(hash))
		if err != nil {
			return Key{}, err
		}
		st = a.remember(hash, key, found, now)
	}
	if !found || !key.Active() {
		// Never echo the credential: the message must be safe to log.
		return Key{}, fmt.Errorf("%w: the key is unknown or revoked; see 'mirador keys list', or %s", ErrInvalidCredentials, createKeyHint)
	}
	a.maybeTouch(st, key.ID, now)
	return key, nil
}

// remember caches a lookup and returns its state. A hash that matches no key
// gets no new entry, so random guesses cannot grow the cache: it holds at most
// one entry per key.
func (a *Authenticator) remember(hash [sha256.Size]byte, key Key, found bool, now time.Time) *keyState {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.keyCache[hash]
	if st == nil {
		if !found {
			return nil
		}
		st = &keyState{}
		if key.LastUsedAt != nil {
			st.lastTouch.Store(key.LastUsedAt.UnixNano())
		}
		a.keyCache[hash] = st
	}
	st.key, st.found, st.checkedAt = key, found, now
	return st
}

// maybeTouch queues a last_used_at write unless one was queued for this key
// within touchInterval. It never blocks.
func (a *Authenticator) maybeTouch(st *keyState, keyID string, now time.Time) {
	last := st.lastTouch.Load()
	ns := now.UnixNano()
	if ns-last < int64(touchInterval) || !st.lastTouch.CompareAndSwap(last, ns) {
		return
	}
	select {
	case a.touches <- touch{keyID: keyID, at: now}:
	default:
		st.lastTouch.CompareAndSwap(ns, last) // queue full: let a later request retry
	}
}

// recordUse writes queued last_used_at updates until Close, then drains the queue.
func (a *Authenticator) recordUse() {
	defer close(a.done)
	for {
		select {
		case t := <-a.touches:
			a.writeTouch(t)
		case <-a.stop:
			for {
				select {
				case t := <-a.touches:
					a.writeTouch(t)
				default:
					return
				}
			}
		}
	}
}

func (a *Authenticator) writeTouch(t touch) {
	ctx, cancel := context.WithTimeout(context.Background(), touchTimeout)
	defer cancel()
	if err := a.keys.touch(ctx, t.keyID, t.at); err != nil {
		a.log.Warn("could not record API key use", "key_id", t.keyID, "err", err)
	}
}

// checkTenant returns nil if id is a valid, existing tenant, caching positive
// answers for cacheTTL.
func (a *Authenticator) checkTenant(ctx context.Context, id string, now time.Time) error {
	if err := tenant.Validate(id); err != nil {
		return fmt.Errorf("%s: %w", OrgIDHeader, err)
	}
	a.mu.RLock()
	at, ok := a.tenantSeen[id]
	a.mu.RUnlock()
	if ok && fresh(at, now) {
		return nil
	}
	exists, err := a.tenants.Exists(ctx, id)
	if err != nil {
		return err
	}
	if !exists {
		return unknownTenantError(id)
	}
	a.mu.Lock()
	a.tenantSeen[id] = now
	a.mu.Unlock()
	return nil
}
