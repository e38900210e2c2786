package aws

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

const (
	testRole     = "arn:aws:iam::111122223333:role/gha-deploy"
	testAccount  = "111122223333"
	testAudience = "sts.amazonaws.com"
	testSubject  = "repo:octo-org/octo-repo:ref:refs/heads/main"
	testSession  = "GitHubActions-19677834613-1"
)

// stsFunc adapts a function to stsAPI.
type stsFunc func(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)

func (f stsFunc) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return f(ctx, in, optFns...)
}

// AssumeRole is never called by single-role configurations; a test that
// reaches it has configured a chain it did not fake.
func (f stsFunc) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return nil, errors.New("stsFunc fakes AssumeRoleWithWebIdentity only")
}

// testEnv is a real OIDC issuer on 127.0.0.1 and the wire-level fake STS,
// which the real SDK client reaches through Config.STSEndpoint.
type testEnv struct {
	issuer *exchangetest.Issuer
	fake   *stsfake.Server
	srv    *httptest.Server
	now    time.Time
	skew   *atomic.Int64
	logs   *exchangetest.SyncBuffer
}

func newTestEnv(t *testing.T, mutate ...func(*stsfake.Config)) *testEnv {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	now := time.Now().UTC().Truncate(time.Second)
	skew := new(atomic.Int64)
	cfg := stsfake.Config{
		Issuer:  is.URL,
		KeySet:  is.KeySet(t.Context()),
		RoleARN: testRole,
		Trust:   stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{testSubject}},
		Now:     func() time.Time { return now.Add(time.Duration(skew.Load())) },
	}
	for _, m := range mutate {
		if m != nil {
			m(&cfg)
		}
	}
	fake, err := stsfake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &testEnv{issuer: is, fake: fake, srv: srv, now: now, skew: skew, logs: &exchangetest.SyncBuffer{}}
}

// advance moves the fake STS's clock, not the tokens'.
func (e *testEnv) advance(d time.Duration) { e.skew.Add(int64(d)) }

// config is a valid configuration pointing at the fake.
func (e *testEnv) config() Config {
	return Config{
		Region:      "us-east-1",
		RoleARN:     testRole,
		STSEndpoint: e.srv.URL,
		HTTPClient:  httpclient.New(httpclient.Options{}),
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// provider builds a provider with the real SDK client and millisecond
// retry waits.
func (e *testEnv) provider(t *testing.T, cfg Config) *Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	return p
}

// fastRetries keeps the backoff of the retry tests in milliseconds.
func fastRetries(p *Provider) {
	p.retrier.Policy.InitialDelay = time.Millisecond
	p.retrier.Policy.MaxDelay = 2 * time.Millisecond
}

// identity mints a token at mintedAt (zero means e.now) and returns the
// identity carrying it.
func (e *testEnv) identity(mintedAt time.Time, audience string, overrides map[string]any) (*exchange.Identity, string) {
	if mintedAt.IsZero() {
		mintedAt = e.now
	}
	if audience == "" {
		audience = testAudience
	}
	raw := e.issuer.Mint(audience, mintedAt, overrides)
	claims := exchangetest.GitHubClaims(e.issuer.URL, audience, mintedAt, overrides)
	return exchangetest.Identity(claims, raw), raw
}

func (e *testEnv) request() *exchange.Request {
	return &exchange.Request{Issuer: e.issuer.URL, Audience: testAudience}
}

// issuedSecrets lists every credential value the fake handed out.
func (e *testEnv) issuedSecrets() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		if r.Issued != nil {
			out = append(out, r.Issued.AccessKeyID, r.Issued.SecretAccessKey, r.Issued.SessionToken)
		}
	}
	return out
}
