package auth

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// The per-request cost of authentication on the hot paths. The cache is on
// the real clock, so about once a second an iteration pays a meta store
// query; that cost is part of the figure.

func BenchmarkAuthenticateCachedKey(b *testing.B) {
	f := newFixture(b)
	f.auth.now = time.Now
	_, secret := f.createKey(b, "default", ScopeIngest)
	r := request{bearer: secret, orgID: "default"}.build()
	benchmarkAuthenticate(b, f, r)
}

func BenchmarkAuthenticateAnonymous(b *testing.B) {
	f := newFixture(b)
	f.auth.now = time.Now
	r := request{}.build()
	benchmarkAuthenticate(b, f, r)
}

func benchmarkAuthenticate(b *testing.B, f *fixture, r *http.Request) {
	if _, err := f.auth.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.auth.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.auth.Authenticate(r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkKeyLookupInStore is what a cache miss costs: one indexed query.
func BenchmarkKeyLookupInStore(b *testing.B) {
	f := newFixture(b)
	_, secret := f.createKey(b, "default", ScopeIngest)
	hash := hashHex(hashSecret(secret))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := f.keys.byHash(ctx, hash); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}
