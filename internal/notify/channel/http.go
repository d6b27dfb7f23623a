package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/miradorhq/mirador/internal/notify/safeurl"
)

// UserAgent is sent with every HTTP delivery.
const UserAgent = "Mirador-Notifications/1.0"

// NewHTTPClient returns the client HTTP senders share: it dials only
// addresses policy admits (checked on the address really dialled, so DNS
// rebinding cannot reach what the subscription check refused) and does not
// follow redirects, which could lead anywhere.
func NewHTTPClient(policy safeurl.Policy, timeout time.Duration) *http.Client {
	dialer := policy.Dialer(&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second})
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: timeout,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Post sends body to url with headers and classifies the answer: 2xx is
// delivered; 408, 429, 5xx, timeouts and connection errors are worth a
// retry; a refused address and any other status are permanent.
func Post(ctx context.Context, client *http.Client, url, contentType string, headers map[string]string, body []byte) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("build request: %w", err), Permanent: true}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: err, Permanent: errors.Is(err, safeurl.ErrRefused)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Result{Status: resp.StatusCode}
	}
	err = fmt.Errorf("endpoint answered %s: %s", resp.Status, bytes.TrimSpace(snippet))
	retry := resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return Result{Status: resp.StatusCode, Err: err, Permanent: !retry}
}
