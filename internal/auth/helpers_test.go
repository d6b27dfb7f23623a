package auth

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/meta"
)

// fixture is a meta store in a temp dir with Tenants, Keys and an
// Authenticator over it, all on one fake clock.
type fixture struct {
	path    string
	store   *meta.Store
	tenants *Tenants
	keys    *Keys
	auth    *Authenticator
	reg     *prometheus.Registry
	clock   *fakeClock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	store, err := meta.Open(context.Background(), meta.Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f := &fixture{path: path, store: store, tenants: NewTenants(store), keys: NewKeys(store), reg: prometheus.NewRegistry(), clock: clock}
	f.tenants.now, f.keys.now = clock.Now, clock.Now
	f.auth = NewAuthenticator(f.tenants, f.keys, f.reg)
	f.auth.now = clock.Now
	t.Cleanup(func() {
		f.auth.Close()
		store.Close()
	})
	return f
}

// createKey creates a key, creating its tenant first if needed.
func (f *fixture) createKey(t testing.TB, tenantID string, scopes ...Scope) (Key, string) {
	t.Helper()
	ctx := context.Background()
	if ok, err := f.tenants.Exists(ctx, tenantID); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := f.tenants.Create(ctx, tenantID); err != nil {
			t.Fatal(err)
		}
	}
	key, secret, err := f.keys.Create(ctx, tenantID, "test", scopes)
	if err != nil {
		t.Fatal(err)
	}
	return key, secret
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
