package exchange_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

const githubIssuer = "https://token.actions.githubusercontent.com"

// realGitHubKeySet loads GitHub's published JWKS (testdata provenance in
// the repository's testdata/README.md).
func realGitHubKeySet(t *testing.T) oidc.KeySet {
	t.Helper()
	b, err := os.ReadFile("testdata/github-actions-jwks-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var keys []crypto.PublicKey
	for _, k := range set.Keys {
		keys = append(keys, k.Key)
	}
	return &oidc.StaticKeySet{PublicKeys: keys}
}

func realGitHubToken(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/github-actions-idtoken-2025-03-29.jwt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestVerifyRealGitHubToken(t *testing.T) {
	t.Parallel()
	inside := time.Unix(1743246227+60, 0) // iat + 1 min
	after := time.Unix(1743267827+1, 0)   // exp + 1 s
	tests := []struct {
		name     string
		audience string
		now      time.Time
		wantErr  error
	}{
		{name: "valid inside lifetime", audience: "https://example.com", now: inside},
		{name: "wrong audience", audience: "sts.amazonaws.com", now: inside, wantErr: exchange.ErrAudienceMismatch},
		{name: "expired", audience: "https://example.com", now: after, wantErr: exchange.ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := exchange.NewVerifier(exchange.VerifierConfig{
				Issuer: mustIssuer(t, githubIssuer), Audience: tc.audience, KeySet: realGitHubKeySet(t),
				Now: func() time.Time { return tc.now },
			})
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(t.Context(), realGitHubToken(t))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if got, want := id.Subject, "repo:rgl/github-actions-validate-jwt:ref:refs/heads/main"; got != want {
				t.Errorf("sub = %q, want %q", got, want)
			}
			if got := id.Claim("repository"); got != "rgl/github-actions-validate-jwt" {
				t.Errorf("repository = %q", got)
			}
		})
	}
}

func TestVerifyRealGitHubTokenTampered(t *testing.T) {
	t.Parallel()
	raw := realGitHubToken(t)
	parts := strings.Split(raw, ".")
	// Flip one signature character: the payload still peeks fine, the
	// signature must not verify.
	sig := []byte(parts[2])
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	v, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: mustIssuer(t, githubIssuer), Audience: "https://example.com", KeySet: realGitHubKeySet(t),
		Now: func() time.Time { return time.Unix(1743246300, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Peek(tampered); err != nil {
		t.Fatalf("Peek() of a well-formed payload failed: %v", err)
	}
	if _, err := v.Verify(t.Context(), tampered); !errors.Is(err, exchange.ErrTokenInvalid) {
		t.Fatalf("Verify(tampered) error = %v, want ErrTokenInvalid", err)
	}
}

func fastRetry() httpclient.Policy {
	return httpclient.Policy{MaxAttempts: 3, MaxElapsed: 5 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

func TestVerifyWithDiscovery(t *testing.T) {
	t.Parallel()
	const aud = "sts.amazonaws.com"
	now := time.Now()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		prefix     string
		token      func(is *exchangetest.Issuer) string
		failFirst  int
		wantPeek   error
		wantVerify error
	}{
		{name: "valid", token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now, nil) }},
		{name: "GHES issuer path", prefix: "/_services/token", token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now, nil) }},
		{name: "enterprise slug path", prefix: "/octo-enterprise", token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now, nil) }},
		{name: "discovery 503 twice then ok", failFirst: 2, token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now, nil) }},
		{name: "discovery keeps failing", failFirst: 100, token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now, nil) }, wantVerify: exchange.ErrUpstreamUnavailable},
		{name: "signed by another key", token: func(is *exchangetest.Issuer) string {
			b, _ := json.Marshal(exchangetest.GitHubClaims(is.URL, aud, now, nil))
			return oidctest.SignIDToken(otherKey, is.KeyID, oidc.RS256, string(b))
		}, wantVerify: exchange.ErrTokenInvalid},
		{name: "wrong audience", token: func(is *exchangetest.Issuer) string { return is.Mint("https://github.com/octo-org", now, nil) }, wantPeek: exchange.ErrAudienceMismatch},
		{name: "audience list containing ours and another", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"aud": []string{"other", aud}})
		}, wantPeek: exchange.ErrAudienceMismatch},
		{name: "audience list of ours alone", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"aud": []string{aud}})
		}},
		{name: "wrong issuer", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"iss": githubIssuer})
		}, wantPeek: exchange.ErrIssuerMismatch},
		{name: "expired", token: func(is *exchangetest.Issuer) string { return is.Mint(aud, now.Add(-time.Hour), nil) }, wantPeek: exchange.ErrTokenExpired},
		{name: "not yet valid", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"nbf": now.Add(time.Hour).Unix()})
		}, wantPeek: exchange.ErrTokenInvalid},
		{name: "no sub (runner credential shape)", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"sub": nil})
		}, wantPeek: exchange.ErrTokenInvalid},
		{name: "numeric repository_id", token: func(is *exchangetest.Issuer) string {
			return is.Mint(aud, now, map[string]any{"repository_id": 456789})
		}, wantPeek: exchange.ErrTokenInvalid},
		{name: "not a JWT", token: func(*exchangetest.Issuer) string { return "not.a.jwt" }, wantPeek: exchange.ErrTokenInvalid},
		{name: "HS256 refused", token: func(is *exchangetest.Issuer) string {
			b, _ := json.Marshal(exchangetest.GitHubClaims(is.URL, aud, now, nil))
			return oidctest.SignIDToken([]byte("0123456789abcdef0123456789abcdef"), is.KeyID, "HS256", string(b))
		}, wantPeek: exchange.ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			is := exchangetest.StartIssuer(t, tc.prefix)
			is.FailNext(tc.failFirst)
			v, err := exchange.NewVerifier(exchange.VerifierConfig{
				Issuer: mustIssuer(t, is.URL), Audience: aud, HTTPClient: httpclient.New(httpclient.Options{}), Retry: fastRetry(),
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := tc.token(is)
			_, err = v.Peek(raw)
			if !errors.Is(err, tc.wantPeek) || (tc.wantPeek == nil && err != nil) {
				t.Fatalf("Peek() error = %v, want %v", err, tc.wantPeek)
			}
			if tc.wantPeek != nil {
				return
			}
			_, err = v.Verify(context.Background(), raw)
			if !errors.Is(err, tc.wantVerify) || (tc.wantVerify == nil && err != nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tc.wantVerify)
			}
			if err != nil && strings.Contains(err.Error(), raw) {
				t.Fatal("error message contains the token")
			}
		})
	}
}

func TestValidateIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer string
		ok     bool
	}{
		{"https://token.actions.githubusercontent.com", true},
		{"https://token.actions.githubusercontent.com/octo-enterprise", true},
		{"https://token.actions.octo.ghe.com", true},
		{"https://ghes.example.com/_services/token", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080/_services/token", true},
		{"http://[::1]:8080", true},
		{"http://token.actions.githubusercontent.com", false},
		{"https://token.actions.githubusercontent.com/", false},
		{"https://token.actions.githubusercontent.com?x=1", false},
		{"https://token.actions.githubusercontent.com#f", false},
		{"https://user:pw@token.actions.githubusercontent.com", false},
		{"https://token.actions.githubusercontent.com/../evil", false},
		{"https://token.actions.githubusercontent.com/a b", false},
		{"ftp://example.com", false},
		{"", false},
		{"token.actions.githubusercontent.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.issuer, func(t *testing.T) {
			t.Parallel()
			err := exchange.ValidateIssuer(tc.issuer)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateIssuer(%q) = %v, want ok=%v", tc.issuer, err, tc.ok)
			}
			if err != nil && !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
		})
	}
}

func FuzzValidateIssuer(f *testing.F) {
	for _, s := range []string{"https://token.actions.githubusercontent.com", "http://127.0.0.1:1/x", "https://a/_services/token", "https://a/../b", "http://10.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, issuer string) {
		if exchange.ValidateIssuer(issuer) != nil {
			return
		}
		// Whatever passes must be https, or http on loopback, with no
		// query, fragment, userinfo or dot-segments.
		if strings.Contains(issuer, "..") || strings.ContainsAny(issuer, "?#@") {
			t.Fatalf("accepted %q", issuer)
		}
		if !strings.HasPrefix(issuer, "https://") && !strings.HasPrefix(issuer, "http://") {
			t.Fatalf("accepted non-http(s) %q", issuer)
		}
	})
}

// mustIssuer parses an issuer the test knows to be valid.
func mustIssuer(t testing.TB, s string) exchange.Issuer {
	t.Helper()
	iss, err := exchange.ParseIssuer(s)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
