package oidcfake

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

// Issuer is an OIDC issuer on 127.0.0.1 serving discovery and a JWKS, which
// signs GitHub-shaped ID tokens. Its URL may carry a path (GHES-style
// "/_services/token"), served by stripping the prefix.
type Issuer struct {
	URL    string
	KeyID  string
	Server *httptest.Server

	key   *rsa.PrivateKey
	oidc  *oidctest.Server
	delay atomic.Int64
	fail  atomic.Int64
	// closing ends every delayed answer when Close is called: a client
	// without a deadline (a fake STS fetching keys) must not keep Close
	// waiting for the delay.
	closing   chan struct{}
	closeOnce sync.Once
	// intercept, when set, sees every request first; see SetIntercept.
	intercept atomic.Pointer[Intercept]
}

// Intercept answers a request to the issuer in place of its own handler
// when it returns true; serve is the issuer's own handler, for answers
// that change what it would say.
type Intercept func(w http.ResponseWriter, r *http.Request, serve http.Handler) bool

// SetIntercept installs f in front of the issuer's handler, or removes it
// with nil: tests of discovery and JWKS tricks (another issuer named,
// jwks_uri elsewhere, keys that are not the signing key).
func (is *Issuer) SetIntercept(f Intercept) {
	if f == nil {
		is.intercept.Store(nil)
		return
	}
	is.intercept.Store(&f)
}

// NewIssuer starts an issuer. pathPrefix may be "" or like "/_services/token".
// Call Close when done.
func NewIssuer(pathPrefix string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	is := &Issuer{KeyID: "test-key-1", key: key, closing: make(chan struct{})}
	is.oidc = &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: is.KeyID, Algorithm: oidc.RS256}}}
	var h http.Handler = is.oidc
	if pathPrefix != "" {
		h = http.StripPrefix(pathPrefix, h)
	}
	is.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(is.delay.Load()); d > 0 {
			// A client that gives up ends the wait, so a test of an issuer
			// that never answers can close its server.
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			case <-is.closing:
				return
			}
		}
		if is.fail.Load() > 0 {
			is.fail.Add(-1)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		if f := is.intercept.Load(); f != nil && (*f)(w, r, h) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	is.URL = is.Server.URL + pathPrefix
	is.oidc.SetIssuer(is.URL)
	return is, nil
}

// KeySet is the issuer's JWKS as a go-oidc key set, for fakes that verify
// tokens the way a cloud STS does.
func (is *Issuer) KeySet(ctx context.Context) oidc.KeySet {
	return oidc.NewRemoteKeySet(ctx, is.URL+"/keys")
}

// Close stops the server, cutting short any delayed answer.
func (is *Issuer) Close() {
	is.closeOnce.Do(func() { close(is.closing) })
	is.Server.Close()
}

// SetLatency delays every response, to model a remote issuer.
func (is *Issuer) SetLatency(d time.Duration) { is.delay.Store(int64(d)) }

// FailNext makes the next n requests answer 503.
func (is *Issuer) FailNext(n int) { is.fail.Store(int64(n)) }

// Sign signs arbitrary claims with the issuer's key.
func (is *Issuer) Sign(claims map[string]any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("oidcfake: marshalling claims: %v", err))
	}
	return oidctest.SignIDToken(is.key, is.KeyID, oidc.RS256, string(b))
}

// SignRaw signs header and payload exactly as given, with the issuer's key
// and RS256 whatever the header says, so tests can build tokens no JWT
// library would write: duplicate keys, other algorithms in the header,
// numbers as strings. It returns the compact serialization.
func (is *Issuer) SignRaw(header, payload []byte) string {
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, is.key, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("oidcfake: signing: %v", err))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// PublicKey is the issuer's public signing key, for tests of algorithm
// confusion (an HS256 MAC keyed with it) and embedded keys.
func (is *Issuer) PublicKey() *rsa.PublicKey { return &is.key.PublicKey }

// Mint signs a GitHub-shaped token for audience, issued at now and valid
// for five minutes, with overrides applied on top (a nil value deletes the
// claim).
func (is *Issuer) Mint(audience string, now time.Time, overrides map[string]any) string {
	return is.Sign(GitHubClaims(is.URL, audience, now, overrides))
}

// GitHubClaims returns the claims of a push to main in octo-org/octo-repo,
// shaped like a real GitHub Actions token (ids and booleans as strings).
func GitHubClaims(issuer, audience string, now time.Time, overrides map[string]any) map[string]any {
	c := map[string]any{
		"iss":                   issuer,
		"aud":                   audience,
		"sub":                   "repo:octo-org/octo-repo:ref:refs/heads/main",
		"jti":                   "6cf8862b-b832-4372-9998-22026ecd21a1",
		"iat":                   now.Unix(),
		"nbf":                   now.Add(-5 * time.Minute).Unix(),
		"exp":                   now.Add(5 * time.Minute).Unix(),
		"actor":                 "octocat",
		"actor_id":              "583231",
		"repository":            "octo-org/octo-repo",
		"repository_id":         "456789",
		"repository_owner":      "octo-org",
		"repository_owner_id":   "123456",
		"repository_visibility": "private",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"ref_protected":         "true",
		"sha":                   "15a5ebfa3fb5ddf10c4b4250e14496bec7f03a56",
		"workflow":              "deploy",
		"workflow_ref":          "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"workflow_sha":          "15a5ebfa3fb5ddf10c4b4250e14496bec7f03a56",
		"job_workflow_ref":      "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_sha":      "15a5ebfa3fb5ddf10c4b4250e14496bec7f03a56",
		"event_name":            "push",
		"run_id":                "19677834613",
		"run_number":            "4",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
		"head_ref":              "",
		"base_ref":              "",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return maps.Clone(c)
}
