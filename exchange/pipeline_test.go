package exchange_test

import (
	"context"
	"errors"
	"flag"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testAudience = "sts.amazonaws.com"

type fixture struct {
	issuer   *exchangetest.Issuer
	events   *exchangetest.Events
	tokens   *exchangetest.StaticTokens
	masker   *exchangetest.RecordingMasker
	exporter *exchangetest.RecordingExporter
	reporter *exchangetest.RecordingReporter
	calls    atomic.Int32
}

func fakeCredentials() *exchange.Credentials {
	return &exchange.Credentials{
		Env: []exchange.Variable{
			exchange.PlainVariable("AWS_REGION", "eu-west-1"),
			exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", exchange.NewSecret("FAKE-secret\nsecond-line")),
		},
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Audit:  exchange.ProviderAudit{Target: "arn:aws:iam::111122223333:role/deploy", CredentialSHA256: exchange.SHA256Hex("FAKE-id")},
	}
}

func newPipeline(t *testing.T, mint func(is *exchangetest.Issuer, aud string) string, provider func(ctx context.Context, id *exchange.Identity) (*exchange.Credentials, error), expect string) (*exchange.Pipeline, *fixture) {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	f := &fixture{issuer: is, events: &exchangetest.Events{}}
	f.tokens = &exchangetest.StaticTokens{Events: f.events, Mint: func(aud string) string { return mint(is, aud) }}
	f.masker = &exchangetest.RecordingMasker{Events: f.events}
	f.exporter = &exchangetest.RecordingExporter{Events: f.events}
	f.reporter = &exchangetest.RecordingReporter{Events: f.events}
	v, err := exchange.NewVerifier(exchange.VerifierConfig{
		Issuer: mustIssuer(t, is.URL), Audience: testAudience, HTTPClient: httpclient.New(httpclient.Options{}),
		Retry: httpclient.Policy{MaxAttempts: 2, InitialDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := exchange.ParseExpectations(expect)
	if err != nil {
		t.Fatal(err)
	}
	p := &exchange.Pipeline{
		Platform: "test", Tokens: f.tokens, Verifier: v, Expectations: es, ProviderName: "fake",
		Provider: exchangetest.ProviderFunc(func(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error) {
			f.calls.Add(1)
			f.events.Add("provider")
			if req.Issuer != is.URL || req.Audience != testAudience {
				return nil, errors.New("request lacks issuer or audience")
			}
			return provider(ctx, id)
		}),
		Masker: f.masker, Exporter: f.exporter, Reporters: []exchange.Reporter{f.reporter},
	}
	return p, f
}

func mintValid(is *exchangetest.Issuer, aud string) string { return is.Mint(aud, time.Now(), nil) }

func succeed(context.Context, *exchange.Identity) (*exchange.Credentials, error) {
	return fakeCredentials(), nil
}

func TestPipelineSuccessOrder(t *testing.T) {
	t.Parallel()
	p, f := newPipeline(t, mintValid, succeed, "ref=refs/heads/main\nrepository_owner_id=123456")
	res, err := p.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"token:" + testAudience, "provider", "mask", "mask", "mask", "mask", "export", "audit:success"}
	if diff := cmp.Diff(want, f.events.List()); diff != "" {
		t.Errorf("event order (-want +got):\n%s", diff)
	}
	// The whole value, each line, and Go's JSON form are masked.
	if diff := cmp.Diff([]string{"FAKE-secret\nsecond-line", "FAKE-secret", "second-line", `FAKE-secret\nsecond-line`}, f.masker.Values); diff != "" {
		t.Errorf("masked values (-want +got):\n%s", diff)
	}
	rec := res.Audit
	if rec.Outcome != exchange.OutcomeSuccess || !rec.TokenVerified || rec.Repository != "octo-org/octo-repo" ||
		rec.Target != "arn:aws:iam::111122223333:role/deploy" || rec.ExpiresAt != "2030-01-02T03:04:05Z" || len(rec.TokenSHA256) != 64 {
		t.Errorf("audit record incomplete: %+v", rec)
	}
	if len(f.exporter.Exported) != 1 {
		t.Fatalf("exported %d times", len(f.exporter.Exported))
	}
}

func TestPipelineFailuresExportNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		mint         func(is *exchangetest.Issuer, aud string) string
		provider     func(ctx context.Context, id *exchange.Identity) (*exchange.Credentials, error)
		expect       string
		wantErr      error
		wantClass    exchange.Class
		wantCalls    int32
		wantVerified bool
		tokenFailure error
	}{
		{name: "claim expectation fails before the provider", mint: mintValid, provider: succeed, expect: "ref=refs/heads/release",
			wantErr: exchange.ErrPolicyDenied, wantClass: exchange.ClassDenied, wantCalls: 0},
		{name: "wrong audience fails before the provider", mint: func(is *exchangetest.Issuer, _ string) string { return is.Mint("other", time.Now(), nil) },
			provider: succeed, wantErr: exchange.ErrAudienceMismatch, wantClass: exchange.ClassToken, wantCalls: 0},
		{name: "expired token fails before the provider", mint: func(is *exchangetest.Issuer, aud string) string { return is.Mint(aud, time.Now().Add(-time.Hour), nil) },
			provider: succeed, wantErr: exchange.ErrTokenExpired, wantClass: exchange.ClassToken, wantCalls: 0},
		{name: "no token", tokenFailure: exchange.ErrTokenUnavailable, mint: mintValid, provider: succeed,
			wantErr: exchange.ErrTokenUnavailable, wantClass: exchange.ClassToken, wantCalls: 0},
		{name: "bad signature withholds credentials the provider returned", mint: func(is *exchangetest.Issuer, aud string) string {
			raw := is.Mint(aud, time.Now(), nil)
			return raw[:len(raw)-4] + "AAAA"
		}, provider: succeed, wantErr: exchange.ErrTokenInvalid, wantClass: exchange.ClassToken, wantCalls: 1},
		{name: "one-character secret is an invalid answer, never a mask", mint: mintValid, provider: func(context.Context, *exchange.Identity) (*exchange.Credentials, error) {
			c := fakeCredentials()
			c.Env = append(c.Env, exchange.SecretVariable("TOKEN", exchange.NewSecret("1")))
			return c, nil
		}, wantErr: exchange.ErrProviderAnswer, wantClass: exchange.ClassInput, wantCalls: 1, wantVerified: true},
		{name: "a short line of a secret is an invalid answer", mint: mintValid, provider: func(context.Context, *exchange.Identity) (*exchange.Credentials, error) {
			c := fakeCredentials()
			c.Env = append(c.Env, exchange.SecretVariable("TOKEN", exchange.NewSecret("a-long-enough-first-line\n}")))
			return c, nil
		}, wantErr: exchange.ErrProviderAnswer, wantClass: exchange.ClassInput, wantCalls: 1, wantVerified: true},
		{name: "provider denial", mint: mintValid, provider: func(context.Context, *exchange.Identity) (*exchange.Credentials, error) {
			return nil, &exchange.ProviderError{Provider: "fake", Code: "AccessDenied", Kind: exchange.ErrProviderDenied}
		}, wantErr: exchange.ErrProviderDenied, wantClass: exchange.ClassDenied, wantCalls: 1, wantVerified: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, f := newPipeline(t, tc.mint, tc.provider, tc.expect)
			f.tokens.Err = tc.tokenFailure
			res, err := p.Run(t.Context())
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run() error = %v, want %v", err, tc.wantErr)
			}
			if got := f.calls.Load(); got != tc.wantCalls {
				t.Errorf("provider called %d times, want %d", got, tc.wantCalls)
			}
			if len(f.exporter.Exported) != 0 {
				t.Error("credentials exported on failure")
			}
			for _, m := range f.masker.Values {
				if len(m) < exchange.MinSecretLength {
					t.Errorf("registered the mask %q, shorter than %d", m, exchange.MinSecretLength)
				}
			}
			if len(f.reporter.Records) != 1 || res.Audit.Outcome != exchange.OutcomeFailure || res.Audit.ErrorClass != tc.wantClass {
				t.Errorf("audit = %+v, want one failure record of class %q", res.Audit, tc.wantClass)
			}
			if res.Audit.TokenVerified != tc.wantVerified {
				t.Errorf("token_verified = %v, want %v", res.Audit.TokenVerified, tc.wantVerified)
			}
		})
	}
}

func TestPipelineVerificationFailureCancelsProvider(t *testing.T) {
	t.Parallel()
	p, f := newPipeline(t, func(is *exchangetest.Issuer, aud string) string {
		raw := is.Mint(aud, time.Now(), nil)
		return raw[:len(raw)-4] + "AAAA"
	}, func(ctx context.Context, _ *exchange.Identity) (*exchange.Credentials, error) {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(10 * time.Second):
			return fakeCredentials(), nil
		}
	}, "")
	start := time.Now()
	_, err := p.Run(t.Context())
	if !errors.Is(err, exchange.ErrTokenInvalid) {
		t.Fatalf("Run() error = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("a failed signature check did not cancel the provider call")
	}
	if len(f.exporter.Exported) != 0 {
		t.Fatal("exported")
	}
}

func TestPipelineRefreshesNearExpiryToken(t *testing.T) {
	t.Parallel()
	var minted atomic.Int32
	p, f := newPipeline(t, func(is *exchangetest.Issuer, aud string) string {
		// The first token is close to expiry, later ones are fresh.
		if minted.Add(1) == 1 {
			return is.Mint(aud, time.Now(), map[string]any{"exp": time.Now().Add(20 * time.Second).Unix(), "jti": "first"})
		}
		return is.Mint(aud, time.Now(), map[string]any{"jti": "second"})
	}, func(ctx context.Context, id *exchange.Identity) (*exchange.Credentials, error) {
		tok, err := id.SubjectToken(ctx)
		if err != nil {
			return nil, err
		}
		if tok.IsZero() || id.Claim("jti") != "second" {
			return nil, errors.New("provider did not get the fresh token")
		}
		return fakeCredentials(), nil
	}, "")
	if _, err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f.tokens.Calls() != 2 {
		t.Fatalf("token fetched %d times, want 2", f.tokens.Calls())
	}
}

func TestPipelineExportFailure(t *testing.T) {
	t.Parallel()
	p, f := newPipeline(t, mintValid, succeed, "")
	f.exporter.Err = exchangetest.ErrFake
	res, err := p.Run(t.Context())
	if !errors.Is(err, exchange.ErrExport) || res.Audit.Outcome != exchange.OutcomeFailure {
		t.Fatalf("Run() = %v, audit %+v", err, res.Audit)
	}
}

func TestAuditGolden(t *testing.T) {
	t.Parallel()
	rec := &exchange.AuditRecord{
		Schema: exchange.AuditSchema, Time: "2026-11-29T12:00:00Z", Outcome: exchange.OutcomeSuccess, CI: "github-actions",
		Issuer: githubIssuer, Subject: "repo:octo-org/octo-repo:environment:prod|x", Audience: testAudience, TokenVerified: true,
		Repository: "octo-org/octo-repo", RepositoryID: "456789", RepositoryOwnerID: "123456", Ref: "refs/heads/main",
		SHA: "15a5ebfa3fb5ddf10c4b4250e14496bec7f03a56", Environment: "prod\n::error::injected`<b>",
		RunID: "1", RunAttempt: "2", JTI: "jti-1", TokenSHA256: strings.Repeat("a", 64), Provider: "aws",
		Target: "arn:aws:iam::111122223333:role/deploy", SessionName: "GitHubActions-1-2", Scopes: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		CredentialSHA256: strings.Repeat("b", 64), ExpiresAt: "2026-11-29T13:00:00Z", Version: "test",
		LatencyMS: exchange.Latency{Token: 20, Verify: 21, Exchange: 22, Export: 1, Total: 45},
	}
	for name, got := range map[string]string{"audit.json.golden": string(rec.JSON()) + "\n", "summary.md.golden": rec.Markdown()} {
		exchangetest.Golden(t, name, got, *update)
	}
	if strings.Contains(rec.Markdown(), "\n::") {
		t.Error("summary lets a claim start a line with ::")
	}
}

// TestPipelineRefreshIsRefusedBeforeSending gives the provider a refresh
// that returns an unsigned token: the grammar refuses it where it enters,
// so the provider never holds it, and the run fails with a token error.
func TestPipelineRefreshIsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	var minted atomic.Int32
	var sent []string
	p, f := newPipeline(t, func(is *exchangetest.Issuer, aud string) string {
		if minted.Add(1) == 1 {
			return is.Mint(aud, time.Now(), map[string]any{"exp": time.Now().Add(20 * time.Second).Unix()})
		}
		// alg none: header.payload. with an empty signature.
		parts := strings.Split(is.Mint(aud, time.Now(), nil), ".")
		return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	}, func(ctx context.Context, id *exchange.Identity) (*exchange.Credentials, error) {
		tok, err := id.SubjectToken(ctx)
		if err != nil {
			return nil, err
		}
		sent = append(sent, tok.Reveal())
		return fakeCredentials(), nil
	}, "")
	_, err := p.Run(t.Context())
	if !errors.Is(err, exchange.ErrTokenInvalid) {
		t.Fatalf("Run() = %v, want ErrTokenInvalid", err)
	}
	if f.tokens.Calls() != 2 || len(sent) != 0 {
		t.Errorf("tokens fetched %d, handed to the provider %d; want 2 fetched and none handed over", f.tokens.Calls(), len(sent))
	}
	if len(f.exporter.Exported) != 0 {
		t.Error("exported after a refused refresh")
	}
}
