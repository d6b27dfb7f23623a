package safeurl

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	for addr, want := range map[string][2]bool{ // refused without, with AllowPrivate
		"169.254.169.254": {true, true},
		"169.254.1.1":     {true, true},
		"fe80::1":         {true, true},
		"fd00:ec2::254":   {true, true},
		"100.100.100.200": {true, true},
		"0.0.0.0":         {true, true},
		"224.0.0.1":       {true, true},
		"127.0.0.1":       {true, false},
		"::1":             {true, false},
		"10.1.2.3":        {true, false},
		"192.168.0.10":    {true, false},
		"172.16.5.4":      {true, false},
		"fd12:3456::1":    {true, false},
		"100.64.0.1":      {true, false},
		"::ffff:10.0.0.1": {true, false},
		"93.184.215.14":   {false, false},
		"2606:4700::1111": {false, false},
	} {
		ip := netip.MustParseAddr(addr)
		for i, allow := range []bool{false, true} {
			err := Policy{AllowPrivate: allow}.CheckAddr(ip)
			if (err != nil) != want[i] || err != nil && !errors.Is(err, ErrRefused) {
				t.Errorf("%s allowPrivate=%v: %v, want refused=%v", addr, allow, err, want[i])
			}
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	p := Policy{}
	for raw, want := range map[string]string{
		"ftp://example.com/x":                     "scheme",
		"http:///path":                            "no host",
		"https://user:pw@example.com/":            "credentials",
		"http://169.254.169.254/latest/meta-data": "link-local",
		"http://metadata.google.internal/":        "metadata",
		"http://127.0.0.1:9000/hook":              "loopback or private",
		"http://[::1]/":                           "loopback or private",
		"http://localhost/":                       "loopback or private",
		"http://no-such-host.invalid/":            "does not resolve",
	} {
		err := p.CheckURL(ctx, raw, nil)
		if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a refusal mentioning %q", raw, err, want)
		}
	}
	if err := (Policy{AllowPrivate: true}).CheckURL(ctx, "http://127.0.0.1:9000/hook", nil); err != nil {
		t.Errorf("loopback with AllowPrivate: %v", err)
	}
	if err := p.CheckURL(ctx, "https://93.184.215.14/hook", nil); err != nil {
		t.Errorf("public address: %v", err)
	}
}

// TestDialerChecksTheConnectedAddress shows a delivery to a host that
// resolves to loopback is refused at connect time, whatever the URL says.
func TestDialerChecksTheConnectedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	client := func(p Policy) *http.Client {
		return &http.Client{Transport: &http.Transport{DialContext: p.Dialer(&net.Dialer{Timeout: time.Second}).DialContext}}
	}
	_, err := client(Policy{}).Get(srv.URL)
	if err == nil || !errors.Is(err, ErrRefused) {
		t.Fatalf("dial to %s without AllowPrivate: %v", srv.URL, err)
	}
	resp, err := client(Policy{AllowPrivate: true}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	resp.Body.Close()
}
