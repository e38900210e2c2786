package githubtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"
)

func testClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

func newEndpoint(t *testing.T) *TokenEndpoint {
	t.Helper()
	e := newTokenEndpoint(t, func(aud string) string { return "FAKE-JWT-for-" + aud }, "https://github.com/octo-org")
	e.requestToken = "FAKE-REQUEST-TOKEN"
	return e
}

func get(t *testing.T, rawURL, auth string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := testClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestTokenEndpointURL(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t)
	u, err := url.Parse(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("endpoint host = %q, want 127.0.0.1", u.Hostname())
	}
	if got := u.Query().Get("api-version"); got != "2.0" {
		t.Errorf("api-version = %q, want 2.0 already in the URL", got)
	}
	if !strings.HasSuffix(u.Path, "/idtoken") {
		t.Errorf("path %q does not look like the real endpoint", u.Path)
	}
}

func TestTokenEndpointChecks(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t)
	base := strings.TrimSuffix(e.URL(), "?api-version=2.0")
	tests := []struct {
		name       string
		url        string
		auth       string
		wantStatus int
		wantValue  string
	}{
		{"ok", e.URL() + "&audience=sts.amazonaws.com", "Bearer FAKE-REQUEST-TOKEN", 200, "FAKE-JWT-for-sts.amazonaws.com"},
		{"scheme is case-insensitive", e.URL() + "&audience=a", "bearer FAKE-REQUEST-TOKEN", 200, "FAKE-JWT-for-a"},
		{"default audience", e.URL(), "Bearer FAKE-REQUEST-TOKEN", 200, "FAKE-JWT-for-https://github.com/octo-org"},
		{"encoded audience", e.URL() + "&audience=" + url.QueryEscape("https://x/y?z"), "Bearer FAKE-REQUEST-TOKEN", 200, "FAKE-JWT-for-https://x/y?z"},
		{"no authorization", e.URL() + "&audience=a", "", 401, ""},
		{"wrong token", e.URL() + "&audience=a", "Bearer nope", 401, ""},
		{"basic auth", e.URL() + "&audience=a", "Basic FAKE-REQUEST-TOKEN", 401, ""},
		{"api-version dropped", base + "?audience=a", "Bearer FAKE-REQUEST-TOKEN", 400, ""},
		{"api-version changed", base + "?api-version=1.0&audience=a", "Bearer FAKE-REQUEST-TOKEN", 400, ""},
		{"wrong path", e.BaseURL() + "/idtoken?api-version=2.0", "Bearer FAKE-REQUEST-TOKEN", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, header, body := get(t, tt.url, tt.auth)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", status, tt.wantStatus, body)
			}
			if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type = %q", ct)
			}
			if status == 401 && header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if tt.wantValue == "" {
				return
			}
			var resp struct {
				Count int    `json:"count"`
				Value string `json:"value"`
			}
			if err := json.Unmarshal([]byte(body), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Value != tt.wantValue || resp.Count != len(tt.wantValue) {
				t.Errorf("response = %+v, want value %q", resp, tt.wantValue)
			}
		})
	}
}

func TestTokenEndpointRecordsRequests(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t)
	get(t, e.URL()+"&audience=one", "Bearer FAKE-REQUEST-TOKEN")
	get(t, e.URL()+"&audience=two", "Bearer wrong")
	get(t, e.URL(), "Bearer FAKE-REQUEST-TOKEN")
	want := []TokenRequest{
		{Audience: "one", HasAudience: true, Authorized: true, Status: 200},
		{Audience: "two", HasAudience: true, Authorized: false, Status: 401},
		{Audience: "", HasAudience: false, Authorized: true, Status: 200},
	}
	if diff := cmp.Diff(want, e.Requests()); diff != "" {
		t.Errorf("Requests() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one", "two", ""}, e.Audiences()); diff != "" {
		t.Errorf("Audiences() mismatch (-want +got):\n%s", diff)
	}
	if e.Count() != 3 {
		t.Errorf("Count() = %d", e.Count())
	}
	if diff := cmp.Diff([]string{"FAKE-JWT-for-one", "FAKE-JWT-for-https://github.com/octo-org"}, e.Issued()); diff != "" {
		t.Errorf("Issued() mismatch (-want +got):\n%s", diff)
	}
}

func TestTokenEndpointMethod(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer FAKE-REQUEST-TOKEN")
	resp, err := testClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
		t.Errorf("POST: status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestTokenEndpointFaults drives the scripted failures through the real
// client our action uses, go-githubactions.
func TestTokenEndpointFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    func(e *TokenEndpoint)
		wantToken string
		wantErr   func(error) bool
		timeout   time.Duration
	}{
		{
			name:      "normal",
			script:    func(*TokenEndpoint) {},
			wantToken: "FAKE-JWT-for-aud",
		},
		{
			name:   "queued 503",
			script: func(e *TokenEndpoint) { e.FailNext(503) },
			wantErr: func(err error) bool {
				var rf *githubactions.RequestFailedError
				return errors.As(err, &rf) && rf.StatusCode == 503
			},
		},
		{
			name:   "standing 403",
			script: func(e *TokenEndpoint) { e.SetFault(Fault{Status: 403}) },
			wantErr: func(err error) bool {
				var rf *githubactions.RequestFailedError
				return errors.As(err, &rf) && rf.StatusCode == 403
			},
		},
		{
			// go-githubactions turns a missing value into "" and no error;
			// the edge must check.
			name:      "missing value",
			script:    func(e *TokenEndpoint) { e.Enqueue(Fault{MissingValue: true}) },
			wantToken: "",
		},
		{
			name:      "empty value",
			script:    func(e *TokenEndpoint) { e.Enqueue(Fault{EmptyValue: true}) },
			wantToken: "",
		},
		{
			name:    "oversized body",
			script:  func(e *TokenEndpoint) { e.Enqueue(Fault{OversizedBody: true}) },
			wantErr: func(err error) bool { return err != nil },
		},
		{
			name:    "slow",
			script:  func(e *TokenEndpoint) { e.Enqueue(Fault{Delay: time.Minute}) },
			wantErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			timeout: 200 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEndpoint(t)
			tt.script(e)
			env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": e.URL(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": e.RequestToken()}
			a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }))
			if tt.timeout == 0 {
				tt.timeout = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			got, err := a.GetIDToken(ctx, "aud")
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("GetIDToken() error = %v, not the expected one", err)
				}
			} else if err != nil {
				t.Fatalf("GetIDToken() error = %v", err)
			}
			if got != tt.wantToken {
				t.Errorf("GetIDToken() = %q, want %q", got, tt.wantToken)
			}
			// Queued faults are used once; the next request is normal.
			if tt.name == "queued 503" {
				if got, err := a.GetIDToken(context.Background(), "aud"); err != nil || got != "FAKE-JWT-for-aud" {
					t.Errorf("after the queue: %q, %v", got, err)
				}
			}
		})
	}
}

func TestFakeJWTShape(t *testing.T) {
	t.Parallel()
	parts := strings.Split(fakeJWT("sts.amazonaws.com"), ".")
	if len(parts) != 3 {
		t.Fatalf("fake JWT has %d parts", len(parts))
	}
}
