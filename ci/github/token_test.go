package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

const (
	fakeJWT          = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJGQUtFIn0.FAKE-signature"
	fakeRequestToken = "FAKE-request-token"
	fakeBodyMarker   = "FAKE-body-must-not-leak"
	testAudience     = "sts.amazonaws.com"
)

func testPolicy() httpclient.Policy {
	return httpclient.Policy{MaxAttempts: 3, MaxElapsed: 5 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
}

// newTestEdge returns an edge whose stdout and debug log go to one buffer.
func newTestEdge(t *testing.T, getenv func(string) string) (*Edge, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	e, err := New(Config{
		Getenv:     getenv,
		Stdout:     out,
		HTTPClient: httpclient.New(httpclient.Options{}),
		Retry:      testPolicy(),
		Logger:     slog.New(NewLogHandler(out, slog.LevelDebug)),
		Random:     &seqReader{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, out
}

// tokenServer fakes the runner's token endpoint. It answers statuses[i]
// to the i-th request (the last one repeats) and body to a 200.
func tokenServer(t *testing.T, statuses []int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		q := r.URL.Query()
		for _, c := range []struct{ what, got, want string }{
			{"method", r.Method, http.MethodGet},
			{"api-version", q.Get("api-version"), "2.0"},
			{"audience", q.Get("audience"), testAudience},
			{"Authorization", r.Header.Get("Authorization"), "Bearer " + fakeRequestToken},
			{"Accept", r.Header.Get("Accept"), "application/json"},
		} {
			if c.got != c.want {
				t.Errorf("request %d: %s = %q, want %q", i, c.what, c.got, c.want)
			}
		}
		status := statuses[min(i, len(statuses)-1)]
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		if status == http.StatusOK {
			// A declared length lets the client's cap refuse a huge body
			// before reading it.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprint(w, body)
			return
		}
		fmt.Fprintf(w, `{"message":"%s %s"}`, fakeBodyMarker, fakeRequestToken)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestToken(t *testing.T) {
	t.Parallel()
	okBody := `{"count":1,"value":"` + fakeJWT + `"}`
	tests := []struct {
		name         string
		statuses     []int
		body         string
		getenv       func(srvURL string) map[string]string
		closed       bool
		wantErr      error
		wantMsg      []string
		wantRequests int32
	}{
		{name: "success", statuses: []int{200}, body: okBody, wantRequests: 1},
		{name: "503 then success", statuses: []int{503, 200}, body: okBody, wantRequests: 2},
		{name: "500 until the attempts are spent", statuses: []int{500}, wantErr: exchange.ErrUpstreamUnavailable,
			wantMsg: []string{"HTTP 500", "failed 3 times"}, wantRequests: 3},
		{name: "403 is permanent", statuses: []int{403}, wantErr: exchange.ErrTokenUnavailable,
			wantMsg: []string{"HTTP 403"}, wantRequests: 1},
		{name: "429 then success is retried", statuses: []int{429, 200}, body: okBody, wantRequests: 2},
		{name: "429 until the attempts are spent", statuses: []int{429}, wantErr: exchange.ErrUpstreamUnavailable,
			wantMsg: []string{"HTTP 429", "failed 3 times"}, wantRequests: 3},
		{name: "408 is retried", statuses: []int{408, 200}, body: okBody, wantRequests: 2},
		{name: "missing value", statuses: []int{200}, body: `{"count":1}`, wantErr: exchange.ErrTokenUnavailable,
			wantMsg: []string{"without a token value"}, wantRequests: 1},
		{name: "not JSON", statuses: []int{200}, body: fakeBodyMarker, wantErr: exchange.ErrTokenUnavailable,
			wantMsg: []string{"not the expected JSON"}, wantRequests: 1},
		{name: "body over the library's 64 kB cap", statuses: []int{200},
			body: `{"count":1,"value":"` + strings.Repeat("a", 100_000) + `"}`, wantErr: exchange.ErrTokenUnavailable,
			wantMsg: []string{"64 kB"}, wantRequests: 1},
		{name: "body over the client's 1 MiB cap", statuses: []int{200},
			body: `{"count":1,"value":"` + strings.Repeat("a", 2<<20) + `"}`, wantErr: httpclient.ErrResponseTooLarge,
			wantRequests: 1},
		{name: "missing request variables", getenv: func(string) map[string]string { return map[string]string{} },
			wantErr: exchange.ErrTokenUnavailable, wantMsg: []string{"id-token: write", "fork", "web-identity-token-file"}},
		{name: "missing request token", getenv: func(u string) map[string]string {
			return map[string]string{requestURLVar: u}
		}, wantErr: exchange.ErrTokenUnavailable, wantMsg: []string{requestTokenVar, "id-token: write"}},
		{name: "plain http off loopback", getenv: func(string) map[string]string {
			return map[string]string{requestURLVar: "http://runner.example/x?api-version=2.0", requestTokenVar: fakeRequestToken}
		}, wantErr: exchange.ErrTokenUnavailable},
		{name: "connection refused is retried", closed: true, wantErr: exchange.ErrUpstreamUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			statuses := tc.statuses
			if statuses == nil {
				statuses = []int{200}
			}
			srv, requests := tokenServer(t, statuses, tc.body)
			reqURL := srv.URL + "/_apis/actions/idtoken?api-version=2.0"
			if tc.closed {
				srv.Close()
			}
			vars := map[string]string{requestURLVar: reqURL, requestTokenVar: fakeRequestToken}
			if tc.getenv != nil {
				vars = tc.getenv(reqURL)
			}
			e, out := newTestEdge(t, env(vars))

			tok, err := e.Token(context.Background(), testAudience)

			if got := requests.Load(); got != tc.wantRequests {
				t.Errorf("requests = %d, want %d", got, tc.wantRequests)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				if tok.Reveal() != fakeJWT {
					t.Errorf("token = %q, want the fake JWT", tok.Reveal())
				}
				if !strings.Contains(out.String(), "::add-mask::"+fakeJWT+"\n") {
					t.Errorf("the token was not masked before Token returned; stdout:\n%s", out.String())
				}
			} else {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !tok.IsZero() {
					t.Error("a token was returned with an error")
				}
				for _, m := range tc.wantMsg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				// Only missing request variables mean a missing permission.
				missingVars := tc.getenv != nil && (vars[requestURLVar] == "" || vars[requestTokenVar] == "")
				if errors.Is(err, exchange.ErrTokenPermission) != missingVars {
					t.Errorf("errors.Is(err, ErrTokenPermission) = %v, want %v: %v", !missingVars, missingVars, err)
				}
				for _, leak := range []string{fakeBodyMarker, fakeRequestToken} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("error %q leaks %q", err, leak)
					}
				}
			}
			for _, leak := range []string{fakeBodyMarker, fakeRequestToken} {
				if strings.Contains(out.String(), leak) {
					t.Errorf("stdout leaks %q:\n%s", leak, out.String())
				}
			}
			if tc.wantRequests > 1 && !strings.Contains(out.String(), "::debug::requesting the OIDC token failed; retrying") {
				t.Errorf("retries were not logged at debug:\n%s", out.String())
			}
		})
	}
}

func TestTokenEmptyAudience(t *testing.T) {
	t.Parallel()
	e, _ := newTestEdge(t, env(nil))
	if _, err := e.Token(context.Background(), ""); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("err = %v, want ErrInvalidInput", err)
	}
}

func TestTokenContextCancelled(t *testing.T) {
	t.Parallel()
	srv, _ := tokenServer(t, []int{503}, "")
	e, _ := newTestEdge(t, env(map[string]string{
		requestURLVar:   srv.URL + "/?api-version=2.0",
		requestTokenVar: fakeRequestToken,
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Token(ctx, testAudience); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewRequiresGetenvAndStdout(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Stdout: &syncBuffer{}}); err == nil {
		t.Error("New without Getenv succeeded")
	}
	if _, err := New(Config{Getenv: env(nil)}); err == nil {
		t.Error("New without Stdout succeeded")
	}
}

// TestTokenRetryAfter checks that a 429's Retry-After sets the wait before
// the next attempt (capped by the policy), rather than the backoff's.
func TestTokenRetryAfter(t *testing.T) {
	t.Parallel()
	srv, requests := tokenServer(t, []int{429, 200}, `{"count":1,"value":"`+fakeJWT+`"}`)
	var waits []time.Duration
	policy := httpclient.Policy{MaxAttempts: 3, MaxElapsed: 10 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 5 * time.Second,
		OnRetry: func(_ int, _ error, wait time.Duration) { waits = append(waits, wait) }}
	e, err := New(Config{
		Getenv:     env(map[string]string{requestURLVar: srv.URL + "/_apis/actions/idtoken?api-version=2.0", requestTokenVar: fakeRequestToken}),
		Stdout:     &syncBuffer{},
		HTTPClient: httpclient.New(httpclient.Options{}),
		Retry:      policy,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Token(context.Background(), testAudience); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if requests.Load() != 2 || len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("requests = %d, waits = %v; want 2 requests and one wait of the Retry-After's 1s", requests.Load(), waits)
	}
}
