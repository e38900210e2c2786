package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// tlsThroughProxy starts a TLS server and a recording proxy, and returns
// a client of New that trusts the server's certificate and goes through
// the proxy (with user:password when given), and the server's URL under a
// .localhost name, which net/http proxies.
func tlsThroughProxy(t *testing.T, userinfo string) (*http.Client, *httpfake.Proxy, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	proxy := httpfake.NewProxy(t)
	pu, err := ParseProxyURL(strings.Replace(proxy.URL, "://", "://"+userinfo, 1))
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Proxy: &Proxy{HTTPS: pu}})
	t.Cleanup(c.CloseIdleConnections)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	// httptest's certificate names example.com; the request names
	// tls.localhost, which is what the proxy sees.
	c.Transport.(*transport).base.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots, ServerName: "example.com", MinVersion: tls.VersionTLS12}
	return c, proxy, "https://tls.localhost:" + srv.URL[strings.LastIndex(srv.URL, ":")+1:]
}

func getURL(t *testing.T, c *http.Client, rawURL string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

// TestProxyConnect: https goes through a CONNECT tunnel, with the proxy's
// credentials when the URL has them; the proxy's answers other than 200
// come back typed and named.
func TestProxyConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		userinfo   string
		require    bool
		refuse     int
		wantStatus int // the ProxyError's; 0 for success
		wantRetry  bool
	}{
		{name: "tunnel"},
		{name: "tunnel with credentials", userinfo: "ci:FAKE-proxy-password@", require: true},
		{name: "no credentials", require: true, wantStatus: http.StatusProxyAuthRequired},
		{name: "wrong password", userinfo: "ci:FAKE-wrong-password@", require: true, wantStatus: http.StatusProxyAuthRequired},
		{name: "forbidden by the proxy's rules", refuse: http.StatusForbidden, wantStatus: http.StatusForbidden},
		{name: "proxy cannot reach the host", refuse: http.StatusBadGateway, wantStatus: http.StatusBadGateway, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, proxy, target := tlsThroughProxy(t, tt.userinfo)
			if tt.require {
				proxy.RequireCredentials("ci", "FAKE-proxy-password")
			}
			proxy.Refuse(tt.refuse)
			resp, err := getURL(t, c, target+"/x")
			host := strings.TrimPrefix(target, "https://")
			if diff := cmp.Diff([]httpfake.ProxiedRequest{{Method: http.MethodConnect, Host: host}}, proxy.Requests()); diff != "" {
				t.Errorf("proxied requests (-want +got):\n%s", diff)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "ok /x" {
					t.Errorf("body %q", body)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("GET succeeded through a proxy that refused it")
			}
			var pe *ProxyError
			if !errors.As(err, &pe) || pe.StatusCode != tt.wantStatus || pe.Proxy != proxy.Host() {
				t.Fatalf("error %v, want a ProxyError from %s with %d", err, proxy.Host(), tt.wantStatus)
			}
			if IsRetryable(err) != tt.wantRetry || errors.Is(err, ErrProxyRefused) == tt.wantRetry {
				t.Errorf("retryable %v, refused %v; want %v, %v", IsRetryable(err), errors.Is(err, ErrProxyRefused), tt.wantRetry, !tt.wantRetry)
			}
			if !strings.Contains(err.Error(), proxy.Host()) || strings.Contains(err.Error(), "FAKE-") {
				t.Errorf("error %q does not name the proxy, or shows its password", err)
			}
		})
	}
}

// TestRequestProxyKeepsLoopbackLocal: a loopback target goes through a
// proxy only when the proxy is on loopback too; plain http to it is
// allowed only because it never leaves the machine.
func TestRequestProxyKeepsLoopbackLocal(t *testing.T) {
	t.Parallel()
	remote := &url.URL{Scheme: "http", Host: "proxy.example.com:3128"}
	local := &url.URL{Scheme: "http", Host: "proxy.localhost:3128"}
	tests := []struct {
		proxy  *url.URL
		target string
		want   *url.URL
	}{
		{proxy: remote, target: "http://sts.localhost:8080/", want: nil},
		{proxy: remote, target: "https://sts.localhost/", want: nil},
		{proxy: remote, target: "https://sts.example.com/", want: remote},
		{proxy: local, target: "http://sts.localhost:8080/", want: local},
		{proxy: local, target: "https://sts.example.com/", want: local},
		{proxy: local, target: "http://127.0.0.1:8080/", want: nil},
		{proxy: local, target: "http://localhost:8080/", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.proxy.Host+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.target, http.NoBody)
			got, err := (&Proxy{HTTP: tt.proxy, HTTPS: tt.proxy}).requestProxy()(req)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && got.String() != tt.want.String()) {
				t.Errorf("proxy %v, want %v", got, tt.want)
			}
		})
	}
}
