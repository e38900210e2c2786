package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials/externalaccount"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

const suggestedIDs = "assertion.repository_owner_id == '123456' && assertion.repository_id == '456789'"

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fake      func(*gcpfake.Config)
		cfg       func(*Config)
		claims    map[string]any
		mintedAgo time.Duration
		failures  []gcpfake.Failure
		wantKind  error
		wantCode  string
		wantCalls []string
		// wantExplain must all appear in Explain(err).
		wantExplain []string
		// wantMessage must appear in err.Error().
		wantMessage string
	}{
		{
			name:      "attribute condition",
			claims:    map[string]any{"repository_owner_id": "999999"},
			wantKind:  exchange.ErrProviderDenied,
			wantCode:  "invalid_grant",
			wantCalls: []string{"sts"},
			wantExplain: []string{
				"attribute condition does not admit these claims",
				"repository_owner_id  999999", "job_workflow_ref", "environment",
				"Workload identity provider: " + testProvider,
				"allowed audiences must include " + testAudience,
				"assertion.repository_owner_id == '999999' && assertion.repository_id == '456789'",
			},
			wantMessage: "The given credential is rejected by the attribute condition.",
		},
		{
			name:        "expired token",
			mintedAgo:   10 * time.Minute,
			wantKind:    exchange.ErrTokenExpired,
			wantCode:    "invalid_grant",
			wantCalls:   []string{"sts"},
			wantExplain: []string{"expired before STS accepted it"},
		},
		{
			name:        "no such provider",
			fake:        func(c *gcpfake.Config) { c.Provider = strings.Replace(testProvider, "octo-repo", "other-repo", 1) },
			wantKind:    exchange.ErrProviderRejected,
			wantCode:    "invalid_target",
			wantCalls:   []string{"sts"},
			wantExplain: []string{"STS knows no enabled workload identity provider " + testProvider, "project number"},
			wantMessage: "pool or provider is disabled or deleted",
		},
		{
			name:        "malformed request",
			failures:    []gcpfake.Failure{{Endpoint: gcpfake.EndpointSTS, Code: "invalid_request", Message: gcpfake.MessageInvalidAudience}},
			wantKind:    exchange.ErrProviderRejected,
			wantCode:    "invalid_request",
			wantCalls:   []string{"sts"},
			wantExplain: []string{"full resource name with the project number"},
		},
		{
			name:      "missing workloadIdentityUser",
			fake:      func(c *gcpfake.Config) { c.ServiceAccounts[testSA] = gcpfake.ServiceAccount{} },
			wantKind:  exchange.ErrProviderDenied,
			wantCode:  "PERMISSION_DENIED",
			wantCalls: []string{"sts", "generateAccessToken"},
			wantExplain: []string{
				"lacks iam.serviceAccounts.getAccessToken on " + testSA,
				"roles/iam.workloadIdentityUser or roles/iam.serviceAccountTokenCreator",
				"Grant roles/iam.workloadIdentityUser on the service account " + testSA,
				testRepoSet,
				"gcloud iam service-accounts add-iam-policy-binding " + testSA + " --role=roles/iam.workloadIdentityUser --member='" + testRepoSet + "'",
				"attribute.repository_id=assertion.repository_id",
				"repository_owner_id  123456",
				"Workload identity provider: " + testProvider,
				suggestedIDs,
			},
			wantMessage: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
		},
		{
			name:        "unknown service account",
			cfg:         func(c *Config) { c.ServiceAccount = "nobody@my-project.iam.gserviceaccount.com" },
			wantKind:    exchange.ErrProviderDenied,
			wantCode:    "PERMISSION_DENIED",
			wantCalls:   []string{"sts", "generateAccessToken"},
			wantExplain: []string{"or the service account does not exist"},
		},
		{
			name: "id token denied",
			fake: func(c *gcpfake.Config) { c.ServiceAccounts[testSA] = gcpfake.ServiceAccount{} },
			cfg: func(c *Config) {
				c.TokenFormat = TokenFormatIDToken
				c.IDTokenAudience = "aud"
			},
			wantKind:    exchange.ErrProviderDenied,
			wantCode:    "PERMISSION_DENIED",
			wantCalls:   []string{"sts", "generateIdToken"},
			wantExplain: []string{"lacks iam.serviceAccounts.getOpenIdToken", testRepoSet},
			wantMessage: "Permission 'iam.serviceAccounts.getOpenIdToken' denied",
		},
		{
			name: "signJwt needs token creator",
			cfg:  func(c *Config) { c.AccessTokenSubject = testUser },
			// WorkloadIdentityUsers only: no signJwt.
			wantKind:  exchange.ErrProviderDenied,
			wantCode:  "PERMISSION_DENIED",
			wantCalls: []string{"sts", "signJwt"},
			wantExplain: []string{
				"roles/iam.serviceAccountTokenCreator (roles/iam.workloadIdentityUser does not include iam.serviceAccounts.signJwt)",
				"--role=roles/iam.serviceAccountTokenCreator",
			},
		},
		{
			name: "delegation not granted",
			fake: func(c *gcpfake.Config) {
				c.ServiceAccounts[testSA] = gcpfake.ServiceAccount{TokenCreators: []string{testRepoSet}}
			},
			cfg:         func(c *Config) { c.AccessTokenSubject = testUser },
			wantKind:    exchange.ErrProviderDenied,
			wantCode:    "unauthorized_client",
			wantCalls:   []string{"sts", "signJwt", "oauth2"},
			wantExplain: []string{"Domain-wide delegation", testSA},
		},
		{
			name:        "lifetime above the policy",
			cfg:         func(c *Config) { c.AccessTokenLifetime = "2h" },
			wantKind:    exchange.ErrProviderRejected,
			wantCode:    "INVALID_ARGUMENT",
			wantCalls:   []string{"sts", "generateAccessToken"},
			wantExplain: []string{"constraints/iam.allowServiceAccountCredentialLifetimeExtension"},
		},
		{
			name:        "service account not found",
			failures:    []gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusNotFound, Message: "Not found; Gaia id not found for email"}},
			wantKind:    exchange.ErrProviderRejected,
			wantCode:    "NOT_FOUND",
			wantCalls:   []string{"sts", "generateAccessToken"},
			wantExplain: []string{"does not exist"},
		},
		{
			name:        "federated token refused",
			failures:    []gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusUnauthenticated, Message: gcpfake.MessageUnauthenticated}},
			wantKind:    exchange.ErrProviderDenied,
			wantCode:    "UNAUTHENTICATED",
			wantCalls:   []string{"sts", "generateAccessToken"},
			wantExplain: []string{"iamcredentials-endpoint"},
		},
		{
			name: "access boundary refused",
			cfg: func(c *Config) {
				c.AccessBoundary = `{"accessBoundary":{"accessBoundaryRules":[{"availableResource":"//compute.googleapis.com/projects/p/zones/z/instances/i","availablePermissions":["inRole:roles/compute.viewer"]}]}}`
			},
			wantKind:    exchange.ErrProviderRejected,
			wantCode:    "invalid_request",
			wantCalls:   []string{"sts", "generateAccessToken", "downscope"},
			wantExplain: []string{"STS refused the access boundary"},
			wantMessage: "Unsupported availableResource",
		},
		{
			name: "proxy error page",
			failures: []gcpfake.Failure{
				{Endpoint: gcpfake.EndpointSTS, Status: 502, RawBody: "<html>bad gateway</html>"},
				{Endpoint: gcpfake.EndpointSTS, Status: 502, RawBody: "<html>bad gateway</html>"},
				{Endpoint: gcpfake.EndpointSTS, Status: 502, RawBody: "<html>bad gateway</html>"},
			},
			wantKind:    exchange.ErrProviderUnavailable,
			wantCode:    "ProviderUnavailable",
			wantCalls:   []string{"sts", "sts", "sts"},
			wantMessage: "HTTP 502 Bad Gateway",
			wantExplain: []string{"(3 attempts failed)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, tt.fake)
			cfg := e.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p := e.provider(t, cfg)
			e.fake.FailNext(tt.failures...)
			id, token := e.identity(e.now.Add(-tt.mintedAgo), tt.claims)

			creds, err := p.Exchange(t.Context(), id, e.request())
			if err == nil {
				t.Fatalf("Exchange() succeeded: %v", view(creds.Outputs))
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error %v is not %v", err, tt.wantKind)
			}
			if got := exchange.ErrorCode(err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantCalls, e.endpoints()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			explain := exchange.Explain(err)
			for _, want := range tt.wantExplain {
				if !strings.Contains(explain, want) {
					t.Errorf("Explain() lacks %q:\n%s", want, explain)
				}
			}
			if tt.wantMessage != "" && !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q lacks %q", err, tt.wantMessage)
			}
			secrets := append([]string{token}, e.fake.Issued()...)
			assertNoSecrets(t, "error", err.Error(), secrets...)
			assertNoSecrets(t, "Explain()", explain, secrets...)
			assertNoSecrets(t, "error (%#v)", fmt.Sprintf("%#v %+v", err, err), secrets...)
			assertNoSecrets(t, "logs", e.logs.String(), secrets...)
			if strings.Contains(err.Error(), "{") {
				t.Errorf("error quotes a JSON body: %v", err)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	unavailable := func(ep gcpfake.Endpoint, n int) []gcpfake.Failure {
		var out []gcpfake.Failure
		for range n {
			out = append(out, gcpfake.Failure{Endpoint: ep, Code: gcpfake.CodeTemporarilyUnavail})
		}
		return out
	}
	tests := []struct {
		name      string
		cfg       func(*Config)
		failures  []gcpfake.Failure
		wantErr   error
		wantCalls []string
	}{
		{"STS 503 then success", nil, unavailable(gcpfake.EndpointSTS, 1), nil, []string{"sts", "sts", "generateAccessToken"}},
		{"STS 429 with Retry-After", nil, []gcpfake.Failure{{Endpoint: gcpfake.EndpointSTS, Status: 429, Code: "rate_limited", RetryAfter: 1}}, nil,
			[]string{"sts", "sts", "generateAccessToken"}},
		{"STS 500 persists", nil, []gcpfake.Failure{
			{Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeServerError}, {Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeServerError},
			{Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeServerError}, {Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeServerError},
		}, exchange.ErrProviderUnavailable, []string{"sts", "sts", "sts"}},
		{"STS 400 is not retried", nil, []gcpfake.Failure{{Endpoint: gcpfake.EndpointSTS, Code: gcpfake.CodeInvalidRequest}}, exchange.ErrProviderRejected, []string{"sts"}},
		{"IAM 403 is not retried", nil, []gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusPermissionDenied}}, exchange.ErrProviderDenied,
			[]string{"sts", "generateAccessToken"}},
		// gax would retry 503 on its own for up to a minute; exactly three
		// calls show its retryer is off and ours is the only loop.
		{"IAM 503 persists", nil, unavailable(gcpfake.EndpointGenerateAccessToken, 5), exchange.ErrProviderUnavailable,
			[]string{"sts", "generateAccessToken", "generateAccessToken", "generateAccessToken"}},
		{"IAM 429 then success", nil, []gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusResourceExhausted}}, nil,
			[]string{"sts", "generateAccessToken", "generateAccessToken"}},
		{"IAM 504 then success", nil, []gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusDeadlineExceeded}}, nil,
			[]string{"sts", "generateAccessToken", "generateAccessToken"}},
		{"disable-retry", func(c *Config) { c.DisableRetry = true }, unavailable(gcpfake.EndpointSTS, 1), exchange.ErrProviderUnavailable, []string{"sts"}},
		{"retry-max-attempts 5", func(c *Config) { c.RetryMaxAttempts = 5 }, unavailable(gcpfake.EndpointSTS, 9), exchange.ErrProviderUnavailable,
			[]string{"sts", "sts", "sts", "sts", "sts"}},
		{"IAM 503 then success, then downscope", func(c *Config) { c.AccessBoundary = "bucket=b-1:role=roles/storage.objectViewer" },
			[]gcpfake.Failure{{Endpoint: gcpfake.EndpointGenerateAccessToken, Code: gcpfake.StatusUnavailable}},
			nil, []string{"sts", "generateAccessToken", "generateAccessToken", "downscope"}},
		{"downscope 503 persists", func(c *Config) { c.AccessBoundary = "bucket=b-1:role=roles/storage.objectViewer" },
			unavailable(gcpfake.EndpointDownscope, 3),
			exchange.ErrProviderUnavailable, []string{"sts", "generateAccessToken", "downscope", "downscope", "downscope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			cfg := e.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p := e.provider(t, cfg)
			e.fake.FailNext(tt.failures...)
			id, _ := e.identity(time.Time{}, nil)
			_, err := p.Exchange(t.Context(), id, e.request())
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Exchange() = %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, e.endpoints()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			var pe *exchange.ProviderError
			if errors.As(err, &pe) && pe.Temporary {
				t.Errorf("the final error is still marked temporary; an outer loop would retry it")
			}
		})
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	dead := httptest.NewServer(nil)
	dead.Close()
	cfg := e.config()
	cfg.STSEndpoint = dead.URL
	p := e.provider(t, cfg)
	attempts := 0
	p.retrier.Policy.OnRetry = func(int, error, time.Duration) { attempts++ }
	id, _ := e.identity(time.Time{}, nil)
	_, err := p.Exchange(t.Context(), id, e.request())
	if !errors.Is(err, exchange.ErrProviderUnavailable) || exchange.ErrorCode(err) != "NetworkError" {
		t.Fatalf("Exchange() = %v, want a NetworkError (unavailable)", err)
	}
	if attempts != 2 {
		t.Errorf("retried %d times, want 2", attempts)
	}
}

// Func-type fakes for the paths a wire-level fake cannot reach.
type federatorFunc func(ctx context.Context, subject externalaccount.SubjectTokenProvider, scopes []string) (*auth.Token, error)

func (f federatorFunc) Federate(ctx context.Context, subject externalaccount.SubjectTokenProvider, scopes []string) (*auth.Token, error) {
	return f(ctx, subject, scopes)
}

func fakeProvider(t *testing.T, sts federatorFunc) *Provider {
	t.Helper()
	p, err := newProvider(Config{WorkloadIdentityProvider: testProvider, CreateCredentialsFile: new(false)}, &clients{sts: sts})
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	return p
}

func TestClassifyWithoutHTTP(t *testing.T) {
	t.Parallel()
	const body = `{"access_token":"ya29.SECRET-FROM-BODY"}`
	id := exchangetest.Identity(map[string]any{"sub": testSubject}, "eyJ.SUBJECT.TOKEN")
	tests := []struct {
		name     string
		sts      federatorFunc
		id       *exchange.Identity
		wantIs   error
		wantCode string
		calls    int
	}{
		{"library error quoting a body", func(context.Context, externalaccount.SubjectTokenProvider, []string) (*auth.Token, error) {
			return nil, errors.New("credentials: failed to unmarshal response body: " + body)
		}, id, exchange.ErrProviderAnswer, "InvalidResponse", 1},
		{"empty token", func(context.Context, externalaccount.SubjectTokenProvider, []string) (*auth.Token, error) {
			return &auth.Token{}, nil
		}, id, exchange.ErrProviderAnswer, "InvalidResponse", 1},
		{"subject token unavailable", func(ctx context.Context, s externalaccount.SubjectTokenProvider, _ []string) (*auth.Token, error) {
			_, err := s.SubjectToken(ctx, nil)
			return nil, err
		}, &exchange.Identity{Subject: testSubject}, exchange.ErrTokenUnavailable, "TokenUnavailable", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			p := fakeProvider(t, func(ctx context.Context, s externalaccount.SubjectTokenProvider, scopes []string) (*auth.Token, error) {
				calls++
				return tt.sts(ctx, s, scopes)
			})
			_, err := p.Exchange(t.Context(), tt.id, &exchange.Request{})
			if !errors.Is(err, tt.wantIs) || exchange.ErrorCode(err) != tt.wantCode {
				t.Fatalf("Exchange() = %v (code %q), want %v (code %q)", err, exchange.ErrorCode(err), tt.wantIs, tt.wantCode)
			}
			if calls != tt.calls {
				t.Errorf("STS called %d times, want %d", calls, tt.calls)
			}
			assertNoSecrets(t, "error", fmt.Sprintf("%v %+v %s", err, err, exchange.Explain(err)), "SECRET-FROM-BODY", "SUBJECT.TOKEN")
		})
	}
}

func TestCancelledContextIsNotBlamedOnGoogle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	p := fakeProvider(t, func(context.Context, externalaccount.SubjectTokenProvider, []string) (*auth.Token, error) {
		cancel()
		return nil, context.Canceled
	})
	id := exchangetest.Identity(map[string]any{"sub": testSubject}, "tok")
	_, err := p.Exchange(ctx, id, &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.Is(err, context.Canceled) || errors.As(err, &pe) {
		t.Fatalf("Exchange() = %v, want the cancellation, not a provider error", err)
	}
}
