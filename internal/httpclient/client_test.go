package httpclient_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/version"
)

// newClient builds a client under test and drops its idle connections when
// the test ends, so that httptest servers close promptly.
func newClient(t *testing.T, opts httpclient.Options) *http.Client {
	t.Helper()
	c := httpclient.New(opts)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// newServer starts an httptest server on 127.0.0.1 (httptest's default
// listener) and closes it when the test ends.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, rawURL string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, http.NoBody)
	if err != nil {
		t.Fatalf("NewRequestWithContext(%q): %v", rawURL, err)
	}
	return c.Do(req)
}

// recordingTransport records the host of every request that reaches the
// base transport, i.e. every request the client actually sends.
type recordingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	urls []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.Host)
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func (r *recordingTransport) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls...)
}

func TestNewUserAgent(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Echo every User-Agent value, one a line, to catch duplicates.
		_, _ = io.WriteString(w, strings.Join(r.Header.Values("User-Agent"), "\n"))
	}))
	c := newClient(t, httpclient.Options{})

	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{name: "none set gets the versioned agent", header: nil, want: version.UserAgent()},
		{name: "caller's agent is kept", header: http.Header{"User-Agent": {"custom/1.0"}}, want: "custom/1.0"},
		{name: "empty value is replaced", header: http.Header{"User-Agent": {""}}, want: version.UserAgent()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, http.NoBody)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			before := req.Header.Clone()
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("User-Agent seen by the server (-want +got):\n%s", diff)
			}
			// A RoundTripper must not modify the caller's request.
			if diff := cmp.Diff(before, req.Header); diff != "" {
				t.Errorf("caller's request headers changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestNewUserAgentOnRedirectHops(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var agents []string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	c := newClient(t, httpclient.Options{})
	resp, err := get(t, c, srv.URL+"/start")
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{version.UserAgent(), version.UserAgent()}, agents); diff != "" {
		t.Errorf("User-Agent per hop (-want +got):\n%s", diff)
	}
}

// sizedHandler answers /declared/N with a Content-Length of N and /chunked/N
// with N bytes and no length (chunked transfer encoding).
func sizedHandler(t *testing.T) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode, num, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		n, err := strconv.Atoi(num)
		if err != nil {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		body := bytes.Repeat([]byte("a"), n)
		switch mode {
		case "declared":
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.WriteHeader(http.StatusOK)
		case "chunked":
			w.WriteHeader(http.StatusOK)
			// Flushing before the body commits to chunked encoding.
			w.(http.Flusher).Flush()
		default:
			http.Error(w, "bad mode", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(body)
	})
}

func TestNewResponseSizeCap(t *testing.T) {
	t.Parallel()
	srv := newServer(t, sizedHandler(t))

	const limit = 64
	tests := []struct {
		name        string
		limit       int64 // 0 means the default
		path        string
		wantDoErr   bool // the declared length alone fails the request
		wantReadErr bool // the body read fails
		wantLen     int
		wantCL      int64 // resp.ContentLength, to prove which path ran
	}{
		{name: "declared under the cap", limit: limit, path: "/declared/10", wantLen: 10, wantCL: 10},
		{name: "declared exactly at the cap", limit: limit, path: "/declared/64", wantLen: limit, wantCL: limit},
		{name: "declared one over the cap", limit: limit, path: "/declared/65", wantDoErr: true},
		{name: "declared far over the cap", limit: limit, path: "/declared/100000", wantDoErr: true},
		{name: "empty body", limit: limit, path: "/declared/0", wantLen: 0, wantCL: 0},
		{name: "chunked under the cap", limit: limit, path: "/chunked/10", wantLen: 10, wantCL: -1},
		{name: "chunked exactly at the cap", limit: limit, path: "/chunked/64", wantLen: limit, wantCL: -1},
		{name: "chunked one over the cap", limit: limit, path: "/chunked/65", wantReadErr: true, wantCL: -1},
		{name: "chunked far over the cap", limit: limit, path: "/chunked/300000", wantReadErr: true, wantCL: -1},
		{name: "default cap, declared exactly at it", path: "/declared/1048576", wantLen: httpclient.DefaultMaxResponseSize, wantCL: httpclient.DefaultMaxResponseSize},
		{name: "default cap, declared one over", path: "/declared/1048577", wantDoErr: true},
		{name: "default cap, chunked exactly at it", path: "/chunked/1048576", wantLen: httpclient.DefaultMaxResponseSize, wantCL: -1},
		{name: "default cap, chunked one over", path: "/chunked/1048577", wantReadErr: true, wantCL: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, httpclient.Options{MaxResponseSize: tt.limit})
			resp, err := get(t, c, srv.URL+tt.path)
			if tt.wantDoErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("Do succeeded, want an error wrapping ErrResponseTooLarge")
				}
				if !errors.Is(err, httpclient.ErrResponseTooLarge) {
					t.Fatalf("Do error = %v, want one wrapping ErrResponseTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer resp.Body.Close()
			if resp.ContentLength != tt.wantCL {
				t.Errorf("ContentLength = %d, want %d", resp.ContentLength, tt.wantCL)
			}
			got, err := io.ReadAll(resp.Body)
			if tt.wantReadErr {
				if !errors.Is(err, httpclient.ErrResponseTooLarge) {
					t.Fatalf("ReadAll error = %v, want ErrResponseTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if diff := cmp.Diff(strings.Repeat("a", tt.wantLen), string(got)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			// Further reads keep reporting EOF, not an overflow.
			if n, err := resp.Body.Read(make([]byte, 8)); n != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
			}
		})
	}
}

// TestNewResponseSizeCapAfterDecompression checks that the cap applies to
// what the caller reads, so a small gzip body cannot inflate past it.
func TestNewResponseSizeCapAfterDecompression(t *testing.T) {
	t.Parallel()
	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	if _, err := zw.Write(make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	const limit = 4 << 10
	if compressed.Len() >= limit {
		t.Fatalf("test setup: compressed body is %d bytes, want under %d", compressed.Len(), limit)
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "client did not ask for gzip", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(compressed.Len()))
		_, _ = w.Write(compressed.Bytes())
	}))
	c := newClient(t, httpclient.Options{MaxResponseSize: limit})
	resp, err := get(t, c, srv.URL)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Uncompressed {
		t.Fatalf("status %d, Uncompressed %v; want 200 and a transparently decompressed body", resp.StatusCode, resp.Uncompressed)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, httpclient.ErrResponseTooLarge) {
		t.Fatalf("ReadAll error = %v, want ErrResponseTooLarge", err)
	}
}

// TestNewHeadWithLargeContentLength: a HEAD answer has no body, so the
// Content-Length it declares (the size a GET would return) should not trip
// a cap that documents itself as applying to body reads.
func TestNewHeadWithLargeContentLength(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
	}))
	c := newClient(t, httpclient.Options{MaxResponseSize: 10})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("HEAD: %v", err)
	}
	resp.Body.Close()
}

// redirectHandler answers /hop/N (N > 0) with a 302 to /hop/N-1, /hop/0
// with 200, and /to?u=URL with a 302 to URL.
func redirectHandler(hits *int64, mu *sync.Mutex) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*hits++
		mu.Unlock()
		if r.URL.Path == "/to" {
			w.Header().Set("Location", r.URL.Query().Get("u"))
			w.WriteHeader(http.StatusFound)
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "landed")
	})
}

type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits int64
}

func (s *countingServer) count() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func newCountingServer(t *testing.T, tls bool) *countingServer {
	t.Helper()
	s := &countingServer{}
	h := redirectHandler(&s.hits, &s.mu)
	if tls {
		s.Server = newTLSServer(t, h)
	} else {
		s.Server = newServer(t, h)
	}
	return s
}

func TestNewRedirectPolicy(t *testing.T) {
	t.Parallel()

	// Servers are shared by the subtests but each subtest has its own, so
	// hit counts are per subtest.
	tests := []struct {
		name string
		tls  bool
		// path builds the first request's path from the plain-http
		// server's URL (for cross-server redirects).
		path     func(plainURL string) string
		wantErr  string // substring of the refusal; empty means success
		wantHits int64  // requests that reached the first server
		// wantSent is the number of requests that reached the base
		// transport, all servers included.
		wantSent int
	}{
		{
			name:     "https to https, one redirect",
			tls:      true,
			path:     func(string) string { return "/hop/1" },
			wantHits: 2, wantSent: 2,
		},
		{
			name:     "https to https, two redirects",
			tls:      true,
			path:     func(string) string { return "/hop/2" },
			wantHits: 3, wantSent: 3,
		},
		{
			name:     "https, third redirect is refused",
			tls:      true,
			path:     func(string) string { return "/hop/3" },
			wantErr:  "stopped after 3 redirects",
			wantHits: 3, wantSent: 3,
		},
		{
			name:     "many redirects are refused at the third",
			tls:      true,
			path:     func(string) string { return "/hop/50" },
			wantErr:  "stopped after 3 redirects",
			wantHits: 3, wantSent: 3,
		},
		{
			name:     "http loopback to http loopback",
			tls:      false,
			path:     func(string) string { return "/hop/1" },
			wantHits: 2, wantSent: 2,
		},
		{
			name:     "https to http loopback is allowed",
			tls:      true,
			path:     func(plain string) string { return "/to?u=" + url.QueryEscape(plain+"/hop/0") },
			wantHits: 1, wantSent: 2,
		},
		{
			name:     "https to plain http elsewhere is refused before any dial",
			tls:      true,
			path:     func(string) string { return "/to?u=" + url.QueryEscape("http://example.invalid/") },
			wantErr:  "refusing redirect",
			wantHits: 1, wantSent: 1,
		},
		{
			name:     "http loopback to plain http elsewhere is refused",
			tls:      false,
			path:     func(string) string { return "/to?u=" + url.QueryEscape("http://example.invalid:8080/x") },
			wantErr:  "refusing redirect",
			wantHits: 1, wantSent: 1,
		},
		{
			name:     "redirect with user information is refused",
			tls:      true,
			path:     func(string) string { return "/to?u=" + url.QueryEscape("https://user:pw@example.invalid/") },
			wantErr:  "refusing redirect",
			wantHits: 1, wantSent: 1,
		},
		{
			name:     "redirect to another scheme is refused",
			tls:      true,
			path:     func(string) string { return "/to?u=" + url.QueryEscape("ftp://example.invalid/") },
			wantErr:  "refusing redirect",
			wantHits: 1, wantSent: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := newCountingServer(t, tt.tls)
			plain := newCountingServer(t, false)
			// The TLS server's own client transport trusts its
			// certificate and speaks plain http too.
			rec := &recordingTransport{base: first.Client().Transport}
			c := newClient(t, httpclient.Options{Transport: rec})

			resp, err := get(t, c, first.URL+tt.path(plain.URL))
			if resp != nil {
				defer resp.Body.Close()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
				if resp.StatusCode != http.StatusOK || string(body) != "landed" {
					t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, "landed")
				}
			} else {
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Fatalf("Do error = %v (%T), want a *url.Error", err, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Do error = %q, want it to contain %q", err, tt.wantErr)
				}
				// net/http hands back the last redirect response.
				if resp == nil || resp.StatusCode != http.StatusFound {
					t.Errorf("response = %v, want the refused 302", resp)
				}
			}
			if got := first.count(); got != tt.wantHits {
				t.Errorf("first server saw %d requests, want %d", got, tt.wantHits)
			}
			sent := rec.sent()
			if len(sent) != tt.wantSent {
				t.Errorf("transport sent %d requests, want %d: %q", len(sent), tt.wantSent, sent)
			}
			for _, host := range sent {
				if strings.Contains(host, "example.invalid") {
					t.Errorf("a request to %q reached the transport; the redirect must be refused first", host)
				}
			}
		})
	}
}

// slowServer answers after release is closed or the client goes away.
// bodyFirst sends the headers and part of the body before waiting.
func slowServer(t *testing.T, bodyFirst bool) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bodyFirst {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	// Cleanups run last-in first-out: release the handlers, then close.
	t.Cleanup(func() { close(release) })
	return srv
}

func TestNewTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 75 * time.Millisecond
	tests := []struct {
		name      string
		bodyFirst bool
	}{
		{name: "slow headers", bodyFirst: false},
		{name: "slow body", bodyFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := slowServer(t, tt.bodyFirst)
			c := newClient(t, httpclient.Options{Timeout: timeout})
			start := time.Now()
			resp, err := get(t, c, srv.URL)
			if err == nil {
				// Headers arrived; the timeout must then cut the body read.
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if !tt.bodyFirst {
					t.Errorf("Do succeeded although the server never answered")
				}
			}
			elapsed := time.Since(start)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("error = %v, want a net.Error with Timeout() true", err)
			}
			if elapsed < timeout {
				t.Errorf("failed after %v, before the %v timeout", elapsed, timeout)
			}
			if elapsed > 3*time.Second {
				t.Errorf("failed after %v, want shortly after the %v timeout", elapsed, timeout)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{host: "localhost", want: true},
		{host: "127.0.0.1", want: true},
		{host: "127.0.0.2", want: true},
		{host: "127.255.255.254", want: true},
		{host: "::1", want: true},
		{host: "::ffff:127.0.0.1", want: true},
		{host: "", want: false},
		{host: "[::1]", want: false}, // takes a hostname, not a bracketed host
		{host: "0.0.0.0", want: false},
		{host: "::", want: false},
		{host: "10.0.0.1", want: false},
		{host: "192.168.1.1", want: false},
		{host: "128.0.0.1", want: false},
		{host: "example.com", want: false},
		{host: "localhost.example.com", want: false},
		{host: "127.0.0.1.nip.io", want: false},
		{host: "127.1", want: false},
		{host: "localhost:80", want: false},
		// RFC 6761: names under .localhost are loopback, and New's
		// transport dials them so.
		{host: "sts.localhost", want: true},
		{host: "STS.LocalHost", want: true},
		{host: "a.b-c.localhost", want: true},
		{host: "localhost.localhost", want: true},
		{host: ".localhost", want: false},
		{host: "localhost.", want: false},
		{host: "sts.localhost.", want: false},
		{host: "a..localhost", want: false},
		{host: "-a.localhost", want: false},
		{host: "a-.localhost", want: false},
		{host: "a_b.localhost", want: false},
		{host: "a b.localhost", want: false},
		{host: "xlocalhost", want: false},
		{host: "sts.localhost.example.com", want: false},
		{host: strings.Repeat("a", 64) + ".localhost", want: false},
		{host: strings.Repeat("a.", 123) + "localhost", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			if got := httpclient.IsLoopback(tt.host); got != tt.want {
				t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

// checkURLCases is shared by TestCheckURL and the fuzz seed corpus.
var checkURLCases = []struct {
	name   string
	raw    string
	wantOK bool
}{
	{name: "https", raw: "https://example.com/", wantOK: true},
	{name: "https with port, path and query", raw: "https://example.com:8443/a/b?c=d", wantOK: true},
	{name: "https on loopback", raw: "https://127.0.0.1:8443/", wantOK: true},
	{name: "https on an IPv6 literal", raw: "https://[2001:db8::1]/", wantOK: true},
	{name: "uppercase scheme is normalised by url.Parse", raw: "HTTPS://example.com/", wantOK: true},
	{name: "http on 127.0.0.1", raw: "http://127.0.0.1:8080/token", wantOK: true},
	{name: "http on 127.0.0.2", raw: "http://127.0.0.2/", wantOK: true},
	{name: "http on [::1]", raw: "http://[::1]:9000/", wantOK: true},
	{name: "http on localhost", raw: "http://localhost/", wantOK: true},
	{name: "http on localhost with port", raw: "http://localhost:1234/x", wantOK: true},
	{name: "http on a name under .localhost", raw: "http://sts.localhost:8080/", wantOK: true},
	{name: "http elsewhere", raw: "http://example.com/", wantOK: false},
	{name: "http on a name ending in localhost", raw: "http://evil-localhost/", wantOK: false},
	{name: "http on localhost under a domain", raw: "http://sts.localhost.example.com/", wantOK: false},
	{name: "http on a private address", raw: "http://10.0.0.1/", wantOK: false},
	{name: "http on the unspecified address", raw: "http://0.0.0.0:8080/", wantOK: false},
	{name: "http on [::]", raw: "http://[::]/", wantOK: false},
	{name: "http on a name starting with 127", raw: "http://127.0.0.1.example.com/", wantOK: false},
	{name: "http on a name starting with localhost", raw: "http://localhost.example.com/", wantOK: false},
	{name: "http on a loopback zone", raw: "http://[::1%25lo]/", wantOK: false},
	{name: "https with a user", raw: "https://user@example.com/", wantOK: false},
	{name: "https with user and password", raw: "https://user:pass@example.com/", wantOK: false},
	{name: "https with an empty user", raw: "https://@example.com/", wantOK: false},
	{name: "http loopback with user and password", raw: "http://user:pass@127.0.0.1/", wantOK: false},
	{name: "empty host", raw: "https:///path", wantOK: false},
	{name: "scheme only", raw: "https://", wantOK: false},
	{name: "empty", raw: "", wantOK: false},
	{name: "relative path", raw: "/relative/path", wantOK: false},
	{name: "scheme-relative", raw: "//example.com/", wantOK: false},
	{name: "opaque https", raw: "https:example.com", wantOK: false},
	{
		name: "https with port but no hostname", raw: "https://:443/", wantOK: false,
	},
	{name: "http with port but no hostname", raw: "http://:80/", wantOK: false},
	{name: "ftp", raw: "ftp://example.com/", wantOK: false},
	{name: "file", raw: "file:///etc/passwd", wantOK: false},
	{name: "ws on loopback", raw: "ws://127.0.0.1/", wantOK: false},
	{name: "wss", raw: "wss://example.com/", wantOK: false},
	{name: "javascript", raw: "javascript://example.com/%0aalert(1)", wantOK: false},
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tt := range checkURLCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.raw)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", tt.raw, err)
			}
			err = httpclient.CheckURL(u)
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("CheckURL(%q) = %v, want accepted=%v", tt.raw, err, tt.wantOK)
			}
			if err != nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && strings.Contains(err.Error(), pw) {
					t.Errorf("CheckURL(%q) error %q leaks the password", tt.raw, err)
				}
			}
		})
	}
}

// FuzzCheckURL checks the security property of CheckURL: whatever it
// accepts is https, or http on a loopback host, and carries no userinfo.
func FuzzCheckURL(f *testing.F) {
	for _, tt := range checkURLCases {
		f.Add(tt.raw)
	}
	for _, s := range []string{
		"http://127.0.0.1:0/", "http://[::ffff:127.0.0.1]/", "http://LOCALHOST/", "http://localhost./",
		"https://a@b@c/", "http://127.0.0.1@example.com/", "http://example.com#@127.0.0.1/",
		"http://example.com\\@127.0.0.1/", "https://example.com:99999/", "http://%6c%6fcalhost/",
		"http://a.localhost/", "http://a%2elocalhost/", "http://a.localhost%00/", "http://.localhost/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if err := httpclient.CheckURL(u); err != nil {
			return
		}
		if u.User != nil {
			t.Fatalf("CheckURL accepted %q with userinfo (user %q)", raw, u.User.Username())
		}
		if u.Host == "" {
			t.Fatalf("CheckURL accepted %q without a host", raw)
		}
		switch u.Scheme {
		case "https":
		case "http":
			h := u.Hostname()
			lower := strings.ToLower(h)
			if lower != "localhost" && (!strings.HasSuffix(lower, ".localhost") || strings.Contains(lower, "..") || strings.HasPrefix(lower, ".")) {
				ip := net.ParseIP(h)
				if ip == nil || !ip.IsLoopback() {
					t.Fatalf("CheckURL accepted plain http %q on non-loopback host %q", raw, h)
				}
			}
		default:
			t.Fatalf("CheckURL accepted %q with scheme %q", raw, u.Scheme)
		}
	})
}
