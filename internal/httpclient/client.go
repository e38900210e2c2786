package httpclient

import (
	"context"
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
	// Proxy does not apply to it.
	Transport http.RoundTripper
	// Proxy routes requests through a forward proxy; nil leaves the choice
	// to the process environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as
	// net/http does.
	Proxy *Proxy
}

// New returns a client with an overall timeout, dial/TLS/header timeouts, a
// response-size cap, a redirect policy that re-validates every target, a
// versioned User-Agent, and the proxy of opts (or of the environment),
// whose failures name it.
func New(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxResponseSize <= 0 {
		opts.MaxResponseSize = DefaultMaxResponseSize
	}
	tr := &transport{base: opts.Transport, limit: opts.MaxResponseSize, userAgent: version.UserAgent()}
	if tr.base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = dialLocalhostNames((&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext)
		t.TLSHandshakeTimeout = tlsHandshakeTimeout
		t.ResponseHeaderTimeout = responseHeaderTimeout
		t.MaxIdleConnsPerHost = 4
		t.Proxy = opts.Proxy.requestProxy()
		t.OnProxyConnectResponse = onProxyConnectResponse
		tr.base, tr.proxy = t, t.Proxy
	}
	return &http.Client{
		Timeout:       opts.Timeout,
		Transport:     tr,
		CheckRedirect: checkRedirect,
	}
}

// dialLocalhostNames dials a name under .localhost at "localhost", which
// RFC 6761 §6.3 asks resolvers to treat as the loopback address and which
// is resolved as it always was. The system resolver would send such a name
// to DNS, whose answer could be any address: [CheckURL] allows plain http
// to these names as to loopback, so they must reach loopback.
func dialLocalhostNames(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && isLocalhostSubdomain(host) {
			addr = net.JoinHostPort("localhost", port)
		}
		return dial(ctx, network, addr)
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

// IsLoopback reports whether host is localhost, a name under .localhost
// (loopback by RFC 6761, and dialled so by [New]'s transport) or a loopback
// IP literal.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || isLocalhostSubdomain(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocalhostSubdomain reports whether host is a DNS name under
// .localhost: labels of letters, digits and hyphens, none empty, no
// trailing dot.
func isLocalhostSubdomain(host string) bool {
	const suffix = ".localhost"
	if len(host) <= len(suffix) || len(host) > 253 || !strings.EqualFold(host[len(host)-len(suffix):], suffix) {
		return false
	}
	for label := range strings.SplitSeq(host[:len(host)-len(suffix)], ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

type transport struct {
	base      http.RoundTripper
	limit     int64
	userAgent string
	// proxy is the base transport's proxy func, nil for an injected base:
	// failures through a proxy are reported with its name.
	proxy func(*http.Request) (*url.URL, error)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, t.viaProxy(req, err)
	}
	if resp.StatusCode == http.StatusProxyAuthRequired && req.URL.Scheme == "http" {
		// Only a proxy answers 407, and a plain http request through a
		// proxy gets the proxy's answer as its own (https ones get it to
		// CONNECT): turn it into the error it is.
		if p := t.proxyOf(req); p != nil {
			resp.Body.Close()
			return nil, &ProxyError{Proxy: p.Host, StatusCode: resp.StatusCode}
		}
	}
	if req.Method != http.MethodHead && resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: declared length %d: %w", req.Method, req.URL.Redacted(), resp.ContentLength, ErrResponseTooLarge)
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.limit}
	return resp, nil
}

// viaProxy names the proxy in a failure of a request that went through
// one: a refused connection, a TLS error from an intercepting proxy or a
// reset would otherwise look like the destination's.
func (t *transport) viaProxy(req *http.Request, err error) error {
	var pe *ProxyError
	if errors.As(err, &pe) {
		return err
	}
	if p := t.proxyOf(req); p != nil {
		return &ProxyError{Proxy: p.Host, Err: err}
	}
	return err
}

func (t *transport) proxyOf(req *http.Request) *url.URL {
	if t.proxy == nil {
		return nil
	}
	p, err := t.proxy(req)
	if err != nil {
		return nil
	}
	return p
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
