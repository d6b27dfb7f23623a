package auth

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in      string
		want    []Scope
		errWith []string
	}{
		{in: "ingest,read", want: []Scope{ScopeIngest, ScopeRead}},
		{in: "read, ingest ,read", want: []Scope{ScopeIngest, ScopeRead}},
		{in: "admin", want: []Scope{ScopeAdmin}},
		{in: "", errWith: []string{"no scope", "ingest, read, admin"}},
		{in: " , ", errWith: []string{"no scope"}},
		{in: "read,write", errWith: []string{`"write"`, "ingest, read, admin"}},
		{in: "Read", errWith: []string{`"Read"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			if tt.errWith == nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("ParseScopes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				if back := FormatScopes(got); back != FormatScopes(tt.want) {
					t.Errorf("FormatScopes = %q", back)
				}
				return
			}
			if !errors.Is(err, ErrInvalidScope) {
				t.Fatalf("ParseScopes(%q) = %v, %v; want ErrInvalidScope", tt.in, got, err)
			}
			for _, w := range tt.errWith {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestPrincipalHas(t *testing.T) {
	tests := []struct {
		name   string
		scopes []Scope
		want   map[Scope]bool
	}{
		{"admin implies every scope", []Scope{ScopeAdmin}, map[Scope]bool{ScopeIngest: true, ScopeRead: true, ScopeAdmin: true}},
		{"ingest only", []Scope{ScopeIngest}, map[Scope]bool{ScopeIngest: true, ScopeRead: false, ScopeAdmin: false}},
		{"read only", []Scope{ScopeRead}, map[Scope]bool{ScopeIngest: false, ScopeRead: true, ScopeAdmin: false}},
		{"unknown stored scope grants nothing", []Scope{"write"}, map[Scope]bool{ScopeIngest: false, ScopeRead: false, ScopeAdmin: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Principal{Scopes: tt.scopes}
			for s, want := range tt.want {
				if got := p.Has(s); got != want {
					t.Errorf("Has(%s) = %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestPrincipalContextRoundTrip(t *testing.T) {
	if _, ok := PrincipalFromContext(context.Background()); ok {
		t.Fatal("empty context reported a principal")
	}
	want := Principal{Tenant: "acme", KeyID: "k", Scopes: []Scope{ScopeRead}}
	got, ok := PrincipalFromContext(WithPrincipal(context.Background(), want))
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("PrincipalFromContext = %+v, %v; want %+v, true", got, ok, want)
	}
}
