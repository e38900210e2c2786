package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/internal/version"
)

// Limits behind the defaults. A GitHub ID token response is about 1.5 KiB, a
// discovery document or JWKS under 8 KiB and an STS reply under 4 KiB, so
// 1 MiB is generous for every legitimate body and still bounds memory.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultMaxResponseSize = 1 << 20
	dialTimeout            = 5 * time.Second
	tlsHandshakeTimeout    = 5 * time.Second
	responseHeaderTimeout  = 8 * time.Second
	maxRedirects           = 3 // requests per call, redirects included, as net/http counts them
)

// ErrResponseTooLarge is returned by a response body read that passes the cap.
var ErrResponseTooLarge = errors.New("response body exceeds the size limit")

// Options tunes the client. The zero value gives the documented defaults.
type Options struct {
	// Timeout bounds a whole request, body included.
	Timeout time.Duration
	// MaxResponseSize caps every response body.
	MaxResponseSize int64
	// Transport replaces the base transport, for tests that inject latency.
	Transport http.RoundTripper
}

// New returns a client with an overall timeout, dial/TLS/header timeouts, a
// response-size cap, a redirect policy that re-validates every target and a
// versioned User-Agent.
func New(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxResponseSize <= 0 {
		opts.MaxResponseSize = DefaultMaxResponseSize
	}
	base := opts.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = tlsHandshakeTimeout
		t.ResponseHeaderTimeout = responseHeaderTimeout
		t.MaxIdleConnsPerHost = 4
		base = t
	}
	return &http.Client{
		Timeout:       opts.Timeout,
		Transport:     &transport{base: base, limit: opts.MaxResponseSize, userAgent: version.UserAgent()},
		CheckRedirect: checkRedirect,
	}
}

// WrapTransport returns a copy of c whose transport is wrap(c's
// transport). Timeout, redirect policy and the size cap of c are kept;
// c itself is not changed.
func WrapTransport(c *http.Client, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	cc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = wrap(base)
	return &cc
}

// checkRedirect follows at most a few redirects, and only to targets that
// would have been acceptable as a first request: https, or http on loopback.
// A redirect to plain http elsewhere would send bearer tokens in clear.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if err := CheckURL(req.URL); err != nil {
		return fmt.Errorf("refusing redirect: %w", err)
	}
	return nil
}

// CheckURL accepts https URLs, and http URLs whose host is a loopback
// address, which only tests and local demos use. It rejects userinfo, since
// credentials in a URL end up in logs.
func CheckURL(u *url.URL) error {
	if u.User != nil {
		return errors.New("URL must not contain user information")
	}
	if u.Hostname() == "" {
		return errors.New("URL has no host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http is accepted only on loopback addresses, got host %q", u.Hostname())
	default:
		return fmt.Errorf("unsupported URL scheme %q, want https", u.Scheme)
	}
}

// IsLoopback reports whether host is localhost or a loopback IP literal.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type transport struct {
	base      http.RoundTripper
	limit     int64
	userAgent string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if req.Method != http.MethodHead && resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: declared length %d: %w", req.Method, req.URL.Redacted(), resp.ContentLength, ErrResponseTooLarge)
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.limit}
	return resp, nil
}

// limitedBody fails loudly rather than truncating: a silently cut JSON or
// XML body would surface as a confusing parse error far from the cause.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
