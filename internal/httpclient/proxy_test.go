package httpclient_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// named returns srv's URL with its host renamed to name.localhost, which
// net/http proxies (unlike 127.0.0.1 and localhost) and the client dials
// at loopback.
func named(t *testing.T, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = name + ".localhost:" + u.Port()
	return u.String()
}

func mustProxyURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := httpclient.ParseProxyURL(raw)
	if err != nil {
		t.Fatalf("ParseProxyURL(%q): %v", raw, err)
	}
	return u
}

// TestProxyRoutes sends requests to a loopback server through a recording
// proxy and checks which of them it carried.
func TestProxyRoutes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}))
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	tests := []struct {
		name    string
		target  string
		noProxy string
		// want is the proxy's record; nil when the request went direct.
		want []httpfake.ProxiedRequest
	}{
		{name: "a name under .localhost goes through", target: named(t, srv.URL, "sts") + "/token",
			want: []httpfake.ProxiedRequest{{Method: http.MethodGet, Host: "sts.localhost:" + port, Path: "/token"}}},
		{name: "no-proxy names the host", target: named(t, srv.URL, "sts") + "/token", noProxy: "sts.localhost"},
		{name: "no-proxy names the parent domain", target: named(t, srv.URL, "sts") + "/token", noProxy: "localhost"},
		{name: "no-proxy with the port", target: named(t, srv.URL, "sts") + "/token", noProxy: "sts.localhost:" + port},
		{name: "no-proxy with another port", target: named(t, srv.URL, "sts") + "/token", noProxy: "sts.localhost:1",
			want: []httpfake.ProxiedRequest{{Method: http.MethodGet, Host: "sts.localhost:" + port, Path: "/token"}}},
		{name: "no-proxy star", target: named(t, srv.URL, "sts") + "/token", noProxy: "*"},
		{name: "no-proxy names another host", target: named(t, srv.URL, "sts") + "/token", noProxy: "issuer.localhost, .example.com",
			want: []httpfake.ProxiedRequest{{Method: http.MethodGet, Host: "sts.localhost:" + port, Path: "/token"}}},
		{name: "127.0.0.1 is never proxied", target: srv.URL + "/token"},
		{name: "localhost is never proxied", target: "http://localhost:" + port + "/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy := httpfake.NewProxy(t)
			pu := mustProxyURL(t, proxy.URL)
			c := newClient(t, httpclient.Options{Proxy: &httpclient.Proxy{HTTP: pu, HTTPS: pu, NoProxy: tt.noProxy}})
			resp, err := get(t, c, tt.target)
			if err != nil {
				t.Fatalf("GET %s: %v", tt.target, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(body) != "ok /token" {
				t.Fatalf("body %q, %v", body, err)
			}
			if diff := cmp.Diff(tt.want, proxy.Requests()); diff != "" {
				t.Errorf("proxied requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestProxyDialsLocalhostNamesAtLoopback: a name under .localhost reaches
// loopback without a proxy, whatever DNS would say of it.
func TestProxyDialsLocalhostNamesAtLoopback(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	for _, opts := range []httpclient.Options{{Proxy: &httpclient.Proxy{}}, {}} {
		resp, err := get(t, newClient(t, opts), named(t, srv.URL, "Direct.Example")+"/")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
	}
}

// TestProxyRefusesPlainRequest: a 407 to a plain http request is the
// proxy's, and says so; it is permanent.
func TestProxyRefusesPlainRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	proxy := httpfake.NewProxy(t)
	proxy.RequireCredentials("ci", "FAKE-proxy-password")
	for _, tc := range []struct {
		name, proxyURL string
		wantErr        bool
	}{
		{name: "no credentials", proxyURL: proxy.URL, wantErr: true},
		{name: "wrong password", proxyURL: strings.Replace(proxy.URL, "://", "://ci:FAKE-wrong-password@", 1), wantErr: true},
		{name: "right password", proxyURL: strings.Replace(proxy.URL, "://", "://ci:FAKE-proxy-password@", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pu := mustProxyURL(t, tc.proxyURL)
			c := newClient(t, httpclient.Options{Proxy: &httpclient.Proxy{HTTP: pu}})
			resp, err := get(t, c, named(t, srv.URL, "svc")+"/")
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("GET succeeded through a proxy that refused it")
			}
			checkRefusal(t, err, proxy.Host(), http.StatusProxyAuthRequired)
		})
	}
}

// checkRefusal holds a proxy's refusal to what callers rely on: typed,
// permanent, naming the proxy and nothing of its credentials.
func checkRefusal(t *testing.T, err error, host string, status int) {
	t.Helper()
	var pe *httpclient.ProxyError
	if !errors.As(err, &pe) || pe.StatusCode != status || pe.Proxy != host {
		t.Fatalf("error %v (%T), want a ProxyError from %s with status %d", err, err, host, status)
	}
	if !errors.Is(err, httpclient.ErrProxyRefused) {
		t.Errorf("error %v does not wrap ErrProxyRefused", err)
	}
	if httpclient.IsRetryable(err) || httpclient.IsNetworkError(err) {
		t.Errorf("a refusal is retryable (%v) or a network error (%v)", httpclient.IsRetryable(err), httpclient.IsNetworkError(err))
	}
	if !strings.Contains(err.Error(), host) || strings.Contains(err.Error(), "FAKE-") {
		t.Errorf("error %q does not name the proxy %s, or shows its credentials", err, host)
	}
}

// TestProxyDown: a proxy nobody listens at is a network failure, named.
func TestProxyDown(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	addr := refusedAddr(t)
	pu := mustProxyURL(t, "http://ci:FAKE-proxy-password@"+addr)
	c := newClient(t, httpclient.Options{Proxy: &httpclient.Proxy{HTTP: pu}})
	resp, err := get(t, c, named(t, srv.URL, "svc")+"/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("GET succeeded through a proxy that is down")
	}
	var pe *httpclient.ProxyError
	if !errors.As(err, &pe) || pe.Proxy != addr || pe.StatusCode != 0 {
		t.Fatalf("error %v, want a ProxyError naming %s", err, addr)
	}
	if !httpclient.IsNetworkError(err) || !httpclient.IsRetryable(err) || errors.Is(err, httpclient.ErrProxyRefused) {
		t.Errorf("a proxy that is down: network %v, retryable %v, refused %v; want true, true, false",
			httpclient.IsNetworkError(err), httpclient.IsRetryable(err), errors.Is(err, httpclient.ErrProxyRefused))
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "FAKE-") {
		t.Errorf("error %q does not name the proxy, or shows its password", err)
	}
}

// parseProxyCases are shared by TestParseProxyURL and the fuzz corpus.
var parseProxyCases = []struct {
	raw  string
	want string // the parsed URL; "" for an error
}{
	{raw: "http://127.0.0.1:3128", want: "http://127.0.0.1:3128"},
	{raw: "http://proxy.localhost:3128/", want: "http://proxy.localhost:3128"},
	{raw: "https://proxy.localhost", want: "https://proxy.localhost"},
	{raw: "socks5://127.0.0.1:1080", want: "socks5://127.0.0.1:1080"},
	{raw: "socks5h://127.0.0.1:1080", want: "socks5h://127.0.0.1:1080"},
	{raw: "HTTP://127.0.0.1:3128", want: "http://127.0.0.1:3128"},
	{raw: "127.0.0.1:3128", want: "http://127.0.0.1:3128"},
	{raw: "proxy.localhost:3128", want: "http://proxy.localhost:3128"},
	{raw: "proxy.localhost", want: "http://proxy.localhost"},
	{raw: "[::1]:3128", want: "http://[::1]:3128"},
	{raw: "http://ci:FAKE-pass@127.0.0.1:3128", want: "http://ci:FAKE-pass@127.0.0.1:3128"},
	{raw: "ci:FAKE-pass@127.0.0.1:3128", want: "http://ci:FAKE-pass@127.0.0.1:3128"},
	{raw: "http://ci:FAKE%40pass@127.0.0.1:3128", want: "http://ci:FAKE%40pass@127.0.0.1:3128"},
	{raw: "http://token@127.0.0.1:3128", want: "http://token@127.0.0.1:3128"},
	{raw: ""},
	{raw: "http://"},
	{raw: "https://"},
	{raw: "http://:3128"},
	{raw: "ftp://127.0.0.1"},
	{raw: "socks4://127.0.0.1:1080"},
	{raw: "file:///etc/passwd"},
	{raw: "http://127.0.0.1:3128/path"},
	{raw: "http://127.0.0.1:3128?q=1"},
	{raw: "http://127.0.0.1:3128/?"},
	{raw: "http://127.0.0.1:3128#frag"},
	{raw: "http://127.0.0.1:0"},
	{raw: "http://127.0.0.1:65536"},
	{raw: "http://127.0.0.1:port"},
	{raw: "http://ci:FAKE pass@127.0.0.1"},
	{raw: "http://ci:FAKE%zzpass@127.0.0.1"},
	{raw: "http:127.0.0.1"},
	{raw: "http:/127.0.0.1"},
	{raw: "user:FAKE@127.0.0.1", want: "http://user:FAKE@127.0.0.1"}, // user:password@host, as curl reads it
}

func TestParseProxyURL(t *testing.T) {
	t.Parallel()
	for _, tt := range parseProxyCases {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			u, err := httpclient.ParseProxyURL(tt.raw)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("ParseProxyURL(%q) = %v, want an error", tt.raw, u)
			case tt.want != "" && err != nil:
				t.Fatalf("ParseProxyURL(%q): %v", tt.raw, err)
			case err != nil:
				if strings.Contains(err.Error(), "FAKE") || (len(tt.raw) > 4 && strings.Contains(err.Error(), tt.raw)) {
					t.Errorf("error %q repeats the value", err)
				}
			case u.String() != tt.want:
				t.Errorf("ParseProxyURL(%q) = %s, want %s", tt.raw, u, tt.want)
			}
		})
	}
}

// FuzzParseProxyURL: what ParseProxyURL accepts is a proxy net/http can
// dial, and what it refuses it refuses without repeating the value, which
// may hold a password: every message is one the table cases met.
func FuzzParseProxyURL(f *testing.F) {
	messages := map[string]bool{}
	for _, tt := range parseProxyCases {
		f.Add(tt.raw)
		if _, err := httpclient.ParseProxyURL(tt.raw); err != nil {
			messages[err.Error()] = true
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := httpclient.ParseProxyURL(raw)
		if err != nil {
			if !messages[err.Error()] {
				t.Fatalf("ParseProxyURL(%q): unexpected message %q", raw, err)
			}
			return
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			t.Fatalf("accepted %q with scheme %q", raw, u.Scheme)
		}
		if u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("accepted %q as %#v", raw, u)
		}
		// net/http reads the proxy from its string form again.
		again, err := url.Parse(u.String())
		if err != nil || again.Host != u.Host || again.Scheme != u.Scheme {
			t.Fatalf("%q does not round-trip: %v", u.String(), err)
		}
	})
}
