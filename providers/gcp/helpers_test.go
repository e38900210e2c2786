package gcp

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	testProvider  = "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-repo"
	testPool      = "projects/123456789/locations/global/workloadIdentityPools/github"
	testSA        = "deploy@my-project.iam.gserviceaccount.com"
	testProject   = "my-project"
	testUser      = "admin@example.com"
	testSubject   = "repo:octo-org/octo-repo:ref:refs/heads/main"
	testRepoSet   = "principalSet://iam.googleapis.com/" + testPool + "/attribute.repository_id/456789"
	testAudience  = "https://iam.googleapis.com/" + testProvider
	testSTSAud    = "//iam.googleapis.com/" + testProvider
	cloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
)

// testEnv is a real OIDC issuer on 127.0.0.1 and the wire-level fake,
// which the real Google libraries reach through the endpoint overrides.
type testEnv struct {
	issuer *exchangetest.Issuer
	fake   *gcpfake.Server
	srv    *httptest.Server
	now    time.Time
	logs   *exchangetest.SyncBuffer
}

func newTestEnv(t *testing.T, mutate func(*gcpfake.Config)) *testEnv {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	cfg := gcpfake.Config{
		Issuer:    is.URL,
		KeySet:    is.KeySet(t.Context()),
		Provider:  testProvider,
		Condition: map[string]string{"repository_owner_id": "123456"},
		ServiceAccounts: map[string]gcpfake.ServiceAccount{
			testSA: {WorkloadIdentityUsers: []string{testRepoSet}},
		},
		Now: func() time.Time { return now },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	fake, err := gcpfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &testEnv{issuer: is, fake: fake, srv: srv, now: now, logs: &exchangetest.SyncBuffer{}}
}

// config is a valid configuration pointing at the fake, without a
// credentials file.
func (e *testEnv) config() Config {
	return Config{
		WorkloadIdentityProvider: testProvider,
		ServiceAccount:           testSA,
		CreateCredentialsFile:    new(false),
		STSEndpoint:              e.srv.URL,
		IAMCredentialsEndpoint:   e.srv.URL,
		OAuth2Endpoint:           e.srv.URL,
		HTTPClient:               httpclient.New(httpclient.Options{}),
		Logger:                   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// provider builds a provider with the real libraries and millisecond
// retry waits.
func (e *testEnv) provider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	p.now = func() time.Time { return e.now }
	return p
}

// fastRetries keeps the backoff of the retry tests in milliseconds.
func fastRetries(p *Provider) {
	p.retrier.Policy.InitialDelay = time.Millisecond
	p.retrier.Policy.MaxDelay = 2 * time.Millisecond
}

// identity mints a token at mintedAt (zero means e.now) and returns the
// identity carrying it.
func (e *testEnv) identity(mintedAt time.Time, overrides map[string]any) (*exchange.Identity, string) {
	if mintedAt.IsZero() {
		mintedAt = e.now
	}
	raw := e.issuer.Mint(testAudience, mintedAt, overrides)
	claims := exchangetest.GitHubClaims(e.issuer.URL, testAudience, mintedAt, overrides)
	return exchangetest.Identity(asJSON(claims), raw), raw
}

// asJSON round-trips claims through JSON, so numbers arrive as the
// verifier's payload parsing gives them (json.Number), not as int64.
func asJSON(claims map[string]any) map[string]any {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}

func (e *testEnv) request() *exchange.Request {
	return &exchange.Request{Issuer: e.issuer.URL, Audience: testAudience}
}

// endpoints lists the endpoints the fake was called at, in order.
func (e *testEnv) endpoints() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		out = append(out, string(r.Endpoint))
	}
	return out
}

// view renders variables as NAME=value, with sensitive values as
// NAME=*secret*, so expectations stay readable.
func view(vars []exchange.Variable) []string {
	var out []string
	for _, v := range vars {
		if v.Sensitive {
			out = append(out, v.Name+"=*"+v.Value.Reveal()+"*")
			continue
		}
		out = append(out, v.Name+"="+v.Value.Reveal())
	}
	return out
}

// assertNoSecrets fails when any secret appears in s.
func assertNoSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret (%.12s…):\n%s", what, sec, s)
		}
	}
}

// credentialsFileFor validates cfg and renders its credentials file, as
// the provider does after a successful exchange.
func credentialsFileFor(cfg Config, src *exchange.CredentialSource) (exchange.Secret, error) {
	r, err := cfg.resolve()
	if err != nil {
		return exchange.Secret{}, err
	}
	return credentialsFile(&cfg, r.lifetime, src)
}
