package httpfake

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"time"
)

// ProxiedRequest is what a [Proxy] records of a request it carried: never
// a body or a header, which may hold tokens.
type ProxiedRequest struct {
	// Method is the request's method; CONNECT for a tunnel.
	Method string
	// Host is the destination as the client named it, host:port.
	Host string
	// Path is the destination's path; "" for a tunnel, whose requests
	// the proxy cannot see.
	Path string
}

// Proxy is a forward proxy on 127.0.0.1 that records every request it
// carries: plain http requests in absolute form, and CONNECT tunnels. It
// resolves names under .localhost to 127.0.0.1 itself, so a test can name
// its loopback servers (http://sts.localhost:PORT) where net/http would
// reach 127.0.0.1 and localhost directly, never through a proxy.
type Proxy struct {
	// URL is the proxy's http://127.0.0.1:PORT.
	URL string

	server *httptest.Server
	dialer net.Dialer
	fwd    *httputil.ReverseProxy

	mu     sync.Mutex
	seen   []ProxiedRequest
	auth   string // the Proxy-Authorization to demand; "" demands none
	refuse int    // a status to answer every request with; 0 carries them
}

// NewProxy starts a proxy; it stops when the test ends.
func NewProxy(t interface {
	Helper()
	Cleanup(func())
},
) *Proxy {
	t.Helper()
	p := &Proxy{dialer: net.Dialer{Timeout: 5 * time.Second}}
	p.fwd = &httputil.ReverseProxy{
		// The request is already in absolute form; it goes on as it came,
		// less the hop-by-hop headers ReverseProxy removes
		// (Proxy-Authorization among them).
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL = r.In.URL
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{DialContext: p.dial},
	}
	p.server = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.server.URL
	t.Cleanup(p.server.Close)
	return p
}

// Host is the proxy's 127.0.0.1:PORT.
func (p *Proxy) Host() string { return strings.TrimPrefix(p.URL, "http://") }

// RequireCredentials makes the proxy answer 407 to a request without this
// user and password in Proxy-Authorization.
func (p *Proxy) RequireCredentials(user, password string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// Refuse makes the proxy answer every request with status (407, 403, 502,
// …) after recording it; 0 carries requests again.
func (p *Proxy) Refuse(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = status
}

// Requests returns what the proxy carried or refused, in order.
func (p *Proxy) Requests() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxiedRequest(nil), p.seen...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if !Loopback(w, r, "httpfake proxy") {
		return
	}
	rec := ProxiedRequest{Method: r.Method, Host: r.Host}
	if r.Method != http.MethodConnect {
		if !r.URL.IsAbs() {
			http.Error(w, "httpfake proxy: not a proxy request", http.StatusBadRequest)
			return
		}
		rec.Host, rec.Path = r.URL.Host, r.URL.Path
	}
	p.mu.Lock()
	p.seen = append(p.seen, rec)
	auth, refuse := p.auth, p.refuse
	p.mu.Unlock()
	switch {
	case refuse != 0:
		http.Error(w, http.StatusText(refuse), refuse)
		return
	case auth != "" && r.Header.Get("Proxy-Authorization") != auth:
		w.Header().Set("Proxy-Authenticate", `Basic realm="httpfake"`)
		http.Error(w, http.StatusText(http.StatusProxyAuthRequired), http.StatusProxyAuthRequired)
		return
	case r.Method == http.MethodConnect:
		p.tunnel(w, r)
	default:
		p.fwd.ServeHTTP(w, r)
	}
}

// tunnel connects the client to r.Host and copies both ways until either
// side closes.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	dst, err := p.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		http.Error(w, "httpfake proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer dst.Close()
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n"); err != nil || rw.Flush() != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(dst, rw)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(conn, dst)
		done <- struct{}{}
	}()
	<-done
}

// dial reaches loopback only: names under .localhost and localhost
// itself at 127.0.0.1, IP literals if they are loopback.
func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(host)
	switch ip := net.ParseIP(host); {
	case lower == "localhost" || strings.HasSuffix(lower, ".localhost"):
		host = "127.0.0.1"
	case ip == nil || !ip.IsLoopback():
		return nil, &net.AddrError{Err: "httpfake proxy reaches loopback only", Addr: addr}
	}
	return p.dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
}
