package broker

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

func TestMetadataURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://idp.example", []string{"https://idp.example/.well-known/oauth-authorization-server", "https://idp.example/.well-known/openid-configuration"}},
		{"https://idp.example/", []string{"https://idp.example/.well-known/oauth-authorization-server", "https://idp.example/.well-known/openid-configuration"}},
		{"https://idp.example/realms/ci", []string{"https://idp.example/.well-known/oauth-authorization-server/realms/ci", "https://idp.example/realms/ci/.well-known/openid-configuration"}},
		{"http://127.0.0.1:5556/dex", []string{"http://127.0.0.1:5556/.well-known/oauth-authorization-server/dex", "http://127.0.0.1:5556/dex/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.issuer)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, metadataURLs(u)); diff != "" {
			t.Errorf("metadataURLs(%s) (-want +got):\n%s", tt.issuer, diff)
		}
	}
}

// countMetadata counts metadata requests before passing them on.
func countMetadata(n *atomic.Int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/.well-known/") {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		metadata   brokerfake.Metadata
		issuerPath string
		// wantMetadataHits is per exchange: the first one only.
		wantMetadataHits int64
	}{
		{"both documents", brokerfake.MetadataBoth, "", 1},
		{"RFC 8414 only", brokerfake.MetadataOAuth, "", 1},
		{"OpenID Connect only, after a 404", brokerfake.MetadataOIDC, "", 2},
		{"issuer with a path, RFC 8414 inserted", brokerfake.MetadataOAuth, "/realms/ci", 1},
		{"issuer with a path, OpenID Connect appended", brokerfake.MetadataOIDC, "/realms/ci", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			e := newWrappedTestEnv(t, func(c *brokerfake.Config) { c.Metadata, c.IssuerPath = tt.metadata, tt.issuerPath }, countMetadata(&hits))
			cfg := e.config()
			cfg.URL = ""
			cfg.Discovery = e.srv.URL + tt.issuerPath
			p := e.provider(t, cfg)
			if got := p.Target(); got != cfg.Discovery {
				t.Errorf("Target() before discovery = %q, want %q", got, cfg.Discovery)
			}
			for range 2 {
				id, _ := e.identity()
				if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
					t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
				}
			}
			if got := hits.Load(); got != tt.wantMetadataHits {
				t.Errorf("metadata fetched %d times, want %d (cached after the first exchange)", got, tt.wantMetadataHits)
			}
			wantEndpoint := e.srv.URL + tt.issuerPath + brokerfake.TokenPath
			if got := p.Target(); got != wantEndpoint {
				t.Errorf("Target() after discovery = %q, want %q", got, wantEndpoint)
			}
			reqs := e.fake.Requests()
			if len(reqs) != 2 || reqs[0].Path != tt.issuerPath+brokerfake.TokenPath {
				t.Errorf("token requests %+v, want two to %s", len(reqs), tt.issuerPath+brokerfake.TokenPath)
			}
		})
	}
}

func TestDiscoveryFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		handler  func(base string) http.HandlerFunc
		wantKind error
		wantCode string
		wantHits int64
	}{
		{"issuer mismatch", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				reply(w, 200, `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`)
			}
		}, exchange.ErrProviderRejected, codeIssuerMismatch, 1},
		{"no metadata", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
		}, exchange.ErrProviderRejected, codeMetadataNotFound, 2},
		{"token endpoint over http elsewhere", func(base string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				reply(w, 200, `{"issuer":"`+base+`","token_endpoint":"http://broker.example/token"}`)
			}
		}, exchange.ErrProviderRejected, codeInsecureTokenEndpoint, 1},
		{"no token endpoint", func(base string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, `{"issuer":"`+base+`"}`) }
		}, exchange.ErrProviderRejected, codeInvalidMetadata, 1},
		{"not JSON", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, `<html>`) }
		}, exchange.ErrProviderRejected, codeInvalidMetadata, 1},
		{"unavailable", func(string) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }
		}, exchange.ErrProviderUnavailable, "HTTP_503", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tt.handler("http://"+r.Host)(w, r)
			}))
			t.Cleanup(srv.Close)
			p := newProvider(t, Config{Discovery: srv.URL})
			_, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantKind)
			}
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode {
				t.Errorf("error %v, want code %s", err, tt.wantCode)
			}
			if !strings.HasPrefix(err.Error(), "discovering the token endpoint of "+srv.URL) {
				t.Errorf("Error() = %q", err.Error())
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("metadata requests = %d, want %d", got, tt.wantHits)
			}
			if got := p.Target(); got != srv.URL {
				t.Errorf("Target() after a failed discovery = %q, want the issuer", got)
			}
		})
	}
}

// TestDiscoveryNotCachedOnFailure: a later exchange tries again.
func TestDiscoveryNotCachedOnFailure(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	down.Store(true)
	e := newWrappedTestEnv(t, nil, func(fake http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() && strings.Contains(r.URL.Path, "/.well-known/") {
				http.NotFound(w, r)
				return
			}
			fake.ServeHTTP(w, r)
		})
	})
	cfg := e.config()
	cfg.URL, cfg.Discovery = "", e.srv.URL
	p := e.provider(t, cfg)
	id, _ := e.identity()
	if _, err := p.Exchange(t.Context(), id, e.request()); err == nil {
		t.Fatal("first Exchange() succeeded without metadata")
	}
	down.Store(false)
	if _, err := p.Exchange(t.Context(), id, e.request()); err != nil {
		t.Fatalf("second Exchange() = %v", err)
	}
}
