// Package safeurl keeps notification deliveries (webhooks, Slack,
// PagerDuty) away from addresses they must not reach: link-local
// addresses and cloud metadata endpoints always, loopback and private
// networks unless the operator allows them (self-hosting usually needs
// them). A URL is checked when a subscription is made and again, on the
// address actually dialled, at every delivery, so DNS cannot be used to
// slip past the first check.
package safeurl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrRefused marks a URL or address deliveries may not use.
var ErrRefused = errors.New("delivery address refused")

// Policy says which addresses deliveries may reach.
type Policy struct {
	// AllowPrivate admits loopback, private (RFC 1918, RFC 4193) and
	// carrier-grade NAT addresses.
	AllowPrivate bool
}

// metadata are cloud instance-metadata endpoints outside link-local space.
var metadata = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// CheckAddr says whether a delivery may connect to ip.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return fmt.Errorf("%w: %s is link-local (cloud metadata services live there); deliveries never go to it", ErrRefused, ip)
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is not a unicast address", ErrRefused, ip)
	}
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%w: %s is a cloud metadata endpoint", ErrRefused, ip)
		}
	}
	if (ip.IsLoopback() || ip.IsPrivate() || cgnat.Contains(ip)) && !p.AllowPrivate {
		return fmt.Errorf("%w: %s is a loopback or private address; allow private delivery targets in the configuration to use it", ErrRefused, ip)
	}
	return nil
}

// CheckURL validates a delivery URL: http or https, a host, and every
// address the host resolves to admitted by CheckAddr.
func (p Policy) CheckURL(ctx context.Context, raw string, resolver *net.Resolver) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q is not a URL: %v", ErrRefused, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q: the scheme must be http or https", ErrRefused, raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: %q has no host", ErrRefused, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: %q carries credentials in the URL; put them in the subscription's headers instead", ErrRefused, raw)
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "metadata.google.internal") {
		return fmt.Errorf("%w: %s is a cloud metadata endpoint", ErrRefused, host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip)
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: %s does not resolve: %v", ErrRefused, host, err)
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return fmt.Errorf("%s resolves to %s: %w", host, a, err)
		}
	}
	return nil
}

// Dialer returns a dialer that refuses, at connect time, any address
// CheckAddr refuses: the address a delivery really reaches, whatever DNS
// answered when the subscription was made.
func (p Policy) Dialer(base *net.Dialer) *net.Dialer {
	d := *base
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot check address %q: %v", ErrRefused, address, err)
		}
		return p.CheckAddr(ap.Addr())
	}
	return &d
}
