package httpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// Proxy sends requests through a forward proxy. Which requests go direct is
// decided by golang.org/x/net/http/httpproxy, as net/http's
// ProxyFromEnvironment decides it: NoProxy, and "localhost" and loopback IP
// addresses always. One rule is added for every proxy, the environment's
// included: a name under .localhost, which [IsLoopback] accepts, goes
// through a proxy only when the proxy is on loopback too. Plain http is
// allowed to loopback hosts because such a request never leaves the
// machine; a remote proxy would carry it, bearer token and all, across the
// network, to a host that is not the one meant.
type Proxy struct {
	// HTTPS is the proxy of https requests; nil sends them direct.
	HTTPS *url.URL
	// HTTP is the proxy of plain http requests, which [CheckURL] allows to
	// loopback hosts only; nil sends them direct.
	HTTP *url.URL
	// NoProxy lists the hosts reached directly, in the syntax of NO_PROXY:
	// comma-separated host names (each matching its subdomains too; with
	// a leading "." only them), IP addresses and CIDR ranges, each
	// optionally with a port, or "*" for every host.
	NoProxy string
}

// ErrProxyRefused is wrapped by a [ProxyError] whose proxy answered with a
// refusal (407 Proxy Authentication Required, 403 from its policy): the
// proxy setting or the proxy's rules must change, so it is never retried.
var ErrProxyRefused = errors.New("the proxy refused the request")

// ProxyError is a request that failed at or through a forward proxy. It
// names the proxy by host and port only: a proxy URL may carry a password.
type ProxyError struct {
	// Proxy is the proxy's host:port.
	Proxy string
	// StatusCode is the proxy's answer to CONNECT, or its 407 to a plain
	// http request; 0 when the request failed some other way (Err).
	StatusCode int
	// Err is the transport's error; nil when StatusCode tells it all.
	Err error
}

func (e *ProxyError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("proxy %s answered HTTP %d %s", e.Proxy, e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("through proxy %s: %v", e.Proxy, e.Err)
}

// Unwrap exposes the transport's error (a refused connection is still a
// network error for [IsNetworkError]) and, for a refusal, [ErrProxyRefused].
func (e *ProxyError) Unwrap() []error {
	var errs []error
	if e.refused() {
		errs = append(errs, ErrProxyRefused)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable implements [Retryable]: a proxy that cannot reach the host
// (502, 503, 504) or is itself unreachable may recover; a refusal will not.
func (e *ProxyError) Retryable() bool {
	if e.StatusCode != 0 {
		return IsTransientStatus(e.StatusCode)
	}
	return IsNetworkError(e.Err)
}

// Timeout reports whether the transport's error was a timeout, so that
// *url.Error.Timeout answers as it would without the proxy's name.
func (e *ProxyError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

func (e *ProxyError) refused() bool {
	return e.StatusCode != 0 && !IsTransientStatus(e.StatusCode)
}

// ParseProxyURL reads a proxy setting the way net/http reads HTTPS_PROXY: a
// URL, or host[:port] for an http proxy. The scheme must be one net/http
// dials (http, https, socks5 or socks5h); the URL must have a host, a port
// in range if any, and nothing after the authority but "/". It may carry
// user:password, which net/http sends as Proxy-Authorization: the caller
// treats that as a secret. Errors never repeat the value, since they would
// repeat the password.
func ParseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if !strings.Contains(s, "://") {
		// host:port (and user:password@host:port) parse as an opaque URL
		// whose scheme is the host; read them as an http proxy, as Go and
		// curl do.
		u, err = url.Parse("http://" + s)
	}
	switch {
	case err != nil || u.Opaque != "":
		return nil, errors.New("is not a URL; want http://host:port or http://user:password@host:port")
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h":
		return nil, errors.New("unsupported proxy scheme; want http://, https:// or socks5://")
	case u.Hostname() == "":
		return nil, errors.New("proxy URL has no host")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return nil, errors.New("a proxy URL is scheme://[user:password@]host[:port], with no path, query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("proxy port is not between 1 and 65535")
		}
	}
	u.Path = ""
	return u, nil
}

// requestProxy returns the proxy func of a transport: p's, or the
// process environment's when p is nil, with loopback names kept local.
func (p *Proxy) requestProxy() func(*http.Request) (*url.URL, error) {
	choose := http.ProxyFromEnvironment
	if p != nil {
		cfg := httpproxy.Config{NoProxy: p.NoProxy}
		if p.HTTPS != nil {
			cfg.HTTPSProxy = p.HTTPS.String()
		}
		if p.HTTP != nil {
			cfg.HTTPProxy = p.HTTP.String()
		}
		f := cfg.ProxyFunc()
		choose = func(req *http.Request) (*url.URL, error) { return f(req.URL) }
	}
	return func(req *http.Request) (*url.URL, error) {
		u, err := choose(req)
		if err != nil || u == nil {
			return u, err
		}
		if IsLoopback(req.URL.Hostname()) && !IsLoopback(u.Hostname()) {
			return nil, nil
		}
		return u, nil
	}
}

// onProxyConnectResponse turns a proxy's refusal of CONNECT into a
// [ProxyError]; net/http would return only the status text, naming neither
// the proxy nor the status code.
func onProxyConnectResponse(_ context.Context, proxyURL *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &ProxyError{Proxy: proxyURL.Host, StatusCode: resp.StatusCode}
}
