package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

var _ stsAPI = (*sts.Client)(nil)

// view renders variables as NAME=value, with sensitive values as
// NAME=*secret*, so expectations stay readable.
func view(vars []exchange.Variable) []string {
	out := make([]string, 0, len(vars))
	for _, v := range vars {
		if v.Sensitive {
			out = append(out, v.Name+"=*"+v.Value.Reveal()+"*")
			continue
		}
		out = append(out, v.Name+"="+v.Value.Reveal())
	}
	return out
}

func TestExchange(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *stsfake.Config) { c.MaxSessionDuration = 7200 })
	cfg := e.config()
	cfg.DurationSeconds = 7200
	cfg.InlineSessionPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]\n}\n"
	cfg.ManagedSessionPolicies = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/ci/Deploy"}
	cfg.OutputCredentials = true
	cfg.AllowedAccountIDs = []string{"444455556666", testAccount}
	p := e.provider(t, cfg)
	id, token := e.identity(time.Time{}, "", nil)

	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatalf("Exchange() = %v\n%s", err, exchange.Explain(err))
	}

	// The exact form the SDK sent.
	reqs := e.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("STS got %d requests, want 1", len(reqs))
	}
	const compacted = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	wantForm := url.Values{
		"Action":                  {"AssumeRoleWithWebIdentity"},
		"Version":                 {"2011-06-15"},
		"RoleArn":                 {testRole},
		"RoleSessionName":         {testSession},
		"WebIdentityToken":        {token},
		"DurationSeconds":         {"7200"},
		"Policy":                  {compacted},
		"PolicyArns.member.1.arn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		"PolicyArns.member.2.arn": {"arn:aws:iam::111122223333:policy/ci/Deploy"},
	}
	if diff := cmp.Diff(wantForm, reqs[0].Form); diff != "" {
		t.Errorf("form body (-want +got):\n%s", diff)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/" {
		t.Errorf("request line = %s %s, want POST /", r.Method, r.Path)
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		t.Errorf("request is signed: Authorization %q", auth)
	}
	if ua := r.Header.Get("User-Agent"); !strings.Contains(ua, "app/"+appID) {
		t.Errorf("User-Agent %q lacks app/%s", ua, appID)
	}

	issued := r.Issued
	wantEnv := []string{
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=*" + issued.AccessKeyID + "*",
		"AWS_SECRET_ACCESS_KEY=*" + issued.SecretAccessKey + "*",
		"AWS_SESSION_TOKEN=*" + issued.SessionToken + "*",
	}
	if diff := cmp.Diff(wantEnv, view(creds.Env)); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	expiry := e.now.Add(2 * time.Hour)
	wantOutputs := []string{
		"aws-account-id=" + testAccount,
		"authenticated-arn=arn:aws:sts::111122223333:assumed-role/gha-deploy/" + testSession,
		"aws-access-key-id=*" + issued.AccessKeyID + "*",
		"aws-secret-access-key=*" + issued.SecretAccessKey + "*",
		"aws-session-token=*" + issued.SessionToken + "*",
		"aws-expiration=" + expiry.Format(time.RFC3339),
	}
	if diff := cmp.Diff(wantOutputs, view(creds.Outputs)); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	if !creds.Expiry.Equal(expiry) {
		t.Errorf("Expiry = %v, want %v", creds.Expiry, expiry)
	}
	wantAudit := exchange.ProviderAudit{
		Target:              testRole,
		SessionName:         testSession,
		SessionPolicySHA256: exchange.SHA256Hex(compacted),
		CredentialSHA256:    exchange.SHA256Hex(issued.AccessKeyID),
		Scopes:              cfg.ManagedSessionPolicies,
	}
	if diff := cmp.Diff(wantAudit, creds.Audit); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
	if creds.Provider != "aws" {
		t.Errorf("Provider = %q", creds.Provider)
	}
}

func TestExchangeMinimalForm(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	p := e.provider(t, e.config())
	id, token := e.identity(time.Time{}, "", nil)
	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"Action":           {"AssumeRoleWithWebIdentity"},
		"Version":          {"2011-06-15"},
		"RoleArn":          {testRole},
		"RoleSessionName":  {testSession},
		"WebIdentityToken": {token},
		"DurationSeconds":  {"3600"},
	}
	if diff := cmp.Diff(want, e.fake.Requests()[0].Form); diff != "" {
		t.Errorf("form body (-want +got):\n%s", diff)
	}
	if creds.Audit.SessionPolicySHA256 != "" || creds.Audit.Scopes != nil {
		t.Errorf("Audit = %+v, want no policies", creds.Audit)
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	// One fake for every case; the credentials differ per call, so the
	// expectations name only which variables exist and which are masked.
	e := newTestEnv(t, nil)
	tests := []struct {
		name        string
		outputCreds bool
		envCreds    *bool
		mask        bool
		env         []string
		outputs     []string
	}{
		{
			name:    "defaults",
			env:     []string{"AWS_REGION", "AWS_DEFAULT_REGION", "*AWS_ACCESS_KEY_ID", "*AWS_SECRET_ACCESS_KEY", "*AWS_SESSION_TOKEN"},
			outputs: []string{"aws-account-id", "authenticated-arn"},
		},
		{
			name:     "env credentials explicitly on",
			envCreds: new(true),
			env:      []string{"AWS_REGION", "AWS_DEFAULT_REGION", "*AWS_ACCESS_KEY_ID", "*AWS_SECRET_ACCESS_KEY", "*AWS_SESSION_TOKEN"},
			outputs:  []string{"aws-account-id", "authenticated-arn"},
		},
		{
			name:     "no env credentials",
			envCreds: new(false),
			env:      []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
			outputs:  []string{"aws-account-id", "authenticated-arn"},
		},
		{
			name:        "output credentials",
			outputCreds: true,
			env:         []string{"AWS_REGION", "AWS_DEFAULT_REGION", "*AWS_ACCESS_KEY_ID", "*AWS_SECRET_ACCESS_KEY", "*AWS_SESSION_TOKEN"},
			outputs:     []string{"aws-account-id", "authenticated-arn", "*aws-access-key-id", "*aws-secret-access-key", "*aws-session-token", "aws-expiration"},
		},
		{
			name:        "outputs only",
			outputCreds: true,
			envCreds:    new(false),
			env:         []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
			outputs:     []string{"aws-account-id", "authenticated-arn", "*aws-access-key-id", "*aws-secret-access-key", "*aws-session-token", "aws-expiration"},
		},
		{
			name:    "mask account id",
			mask:    true,
			env:     []string{"AWS_REGION", "AWS_DEFAULT_REGION", "*AWS_ACCESS_KEY_ID", "*AWS_SECRET_ACCESS_KEY", "*AWS_SESSION_TOKEN"},
			outputs: []string{"*aws-account-id", "*authenticated-arn"},
		},
		{
			name:        "mask everything, outputs only",
			outputCreds: true,
			envCreds:    new(false),
			mask:        true,
			env:         []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
			outputs:     []string{"*aws-account-id", "*authenticated-arn", "*aws-access-key-id", "*aws-secret-access-key", "*aws-session-token", "aws-expiration"},
		},
	}
	names := func(vars []exchange.Variable) []string {
		var out []string
		for _, v := range vars {
			n := v.Name
			if v.Sensitive {
				n = "*" + n
			}
			out = append(out, n)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := e.config()
			cfg.OutputCredentials = tt.outputCreds
			cfg.OutputEnvCredentials = tt.envCreds
			cfg.MaskAccountID = tt.mask
			logs := &exchangetest.SyncBuffer{}
			cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			p := e.provider(t, cfg)
			id, _ := e.identity(time.Time{}, "", nil)
			creds, err := p.Exchange(t.Context(), id, e.request())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.env, names(creds.Env)); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.outputs, names(creds.Outputs)); diff != "" {
				t.Errorf("Outputs (-want +got):\n%s", diff)
			}
			for _, v := range creds.Outputs {
				if v.Name != OutputExpiration {
					continue
				}
				s := v.Value.Reveal()
				if strings.Contains(s, `"`) {
					t.Errorf("aws-expiration %s has quotes", s)
				}
				if ts, err := time.Parse(time.RFC3339, s); err != nil || !ts.Equal(creds.Expiry) || !strings.HasSuffix(s, "Z") {
					t.Errorf("aws-expiration %s is not the UTC RFC 3339 expiry %v", s, creds.Expiry)
				}
			}
			if tt.mask && strings.Contains(logs.String(), testAccount) {
				t.Errorf("logs show the masked account id:\n%s", logs)
			}
		})
	}
}

// failure builds a scripted STS error.
func failure(code string) stsfake.Failure {
	return stsfake.Failure{Code: code, Message: "scripted " + code}
}

func repeat(f stsfake.Failure, n int) []stsfake.Failure {
	out := make([]stsfake.Failure, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   []stsfake.Failure
		edit     func(*Config)
		token    func(e *testEnv) (*exchange.Identity, string)
		requests int
		kind     error // nil: success
		code     string
		explain  []string
	}{
		{
			name: "access denied by the trust policy",
			token: func(e *testEnv) (*exchange.Identity, string) {
				return e.identity(time.Time{}, "", map[string]any{
					"sub": "repo:octo-org/octo-repo:environment:prod", "environment": "prod",
				})
			},
			requests: 1, kind: exchange.ErrProviderDenied, code: "AccessDenied",
			explain: []string{
				"the role's trust policy does not allow this repository, ref or environment",
				"claim",
				"repo:octo-org/octo-repo:environment:prod",
				"job_workflow_ref     octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
				"repository_owner_id  123456",
				"Role: " + testRole,
				"The trust-policy condition oidc-exchange plan writes for this job:",
				`"StringEquals": {`,
				`"repo:octo-org@123456/octo-repo@456789:environment:prod",`,
				`"repo:octo-org/octo-repo:environment:prod"`,
				`:aud": "sts.amazonaws.com"`,
				`:ref": "refs/heads/main"`,
				`:repository_id": "456789"`,
			},
		},
		{
			name:     "IDP rejected claim",
			script:   []stsfake.Failure{failure("IDPRejectedClaim")},
			requests: 1, kind: exchange.ErrProviderDenied, code: "IDPRejectedClaim",
			explain: []string{"Role: " + testRole, `"StringEquals": {`},
		},
		{
			name:     "throttled twice then success",
			script:   repeat(stsfake.Failure{Code: "Throttling", Message: "Rate exceeded"}, 2),
			requests: 3,
		},
		{
			name:     "IDP communication error retried",
			script:   []stsfake.Failure{failure("IDPCommunicationError")},
			requests: 2,
		},
		{
			name:     "internal failure until attempts are spent",
			script:   repeat(failure("InternalFailure"), 3),
			requests: 3, kind: exchange.ErrProviderUnavailable, code: "InternalFailure",
			explain: []string{"3 attempts failed"},
		},
		{
			name:     "retry-max-attempts bounds the calls",
			script:   repeat(failure("ServiceUnavailable"), 5),
			edit:     func(c *Config) { c.RetryMaxAttempts = 2 },
			requests: 2, kind: exchange.ErrProviderUnavailable, code: "ServiceUnavailable",
		},
		{
			name:     "unknown 5xx code",
			script:   repeat(stsfake.Failure{Status: 502, Code: "BadGateway", Message: "x"}, 3),
			requests: 3, kind: exchange.ErrProviderUnavailable, code: "BadGateway",
		},
		{
			name:     "disable-retry",
			script:   []stsfake.Failure{failure("Throttling")},
			edit:     func(c *Config) { c.DisableRetry = true; c.RetryMaxAttempts = 5 },
			requests: 1, kind: exchange.ErrProviderUnavailable, code: "Throttling",
			explain: []string{"1 attempts failed"},
		},
		{
			name: "expired token",
			token: func(e *testEnv) (*exchange.Identity, string) {
				return e.identity(e.now.Add(-10*time.Minute), "", nil)
			},
			requests: 1, kind: exchange.ErrTokenExpired, code: "ExpiredTokenException",
		},
		{
			name:     "expired token, legacy code",
			script:   []stsfake.Failure{failure("ExpiredToken")},
			requests: 1, kind: exchange.ErrTokenExpired, code: "ExpiredToken",
		},
		{
			name: "invalid identity token",
			token: func(e *testEnv) (*exchange.Identity, string) {
				return e.identity(time.Time{}, "https://github.com/octo-org", nil)
			},
			requests: 1, kind: exchange.ErrTokenInvalid, code: "InvalidIdentityToken",
			explain: []string{"IAM OIDC identity provider", `audiences include "sts.amazonaws.com"`},
		},
		{
			name:     "validation error",
			edit:     func(c *Config) { c.DurationSeconds = 7200 },
			requests: 1, kind: exchange.ErrProviderRejected, code: "ValidationError",
			explain: []string{"MaxSessionDuration"},
		},
		{
			name:     "malformed policy",
			script:   []stsfake.Failure{failure("MalformedPolicyDocument")},
			requests: 1, kind: exchange.ErrProviderRejected, code: "MalformedPolicyDocument",
			explain: []string{"inline-session-policy"},
		},
		{
			name:     "packed policy too large",
			script:   []stsfake.Failure{failure("PackedPolicyTooLarge")},
			requests: 1, kind: exchange.ErrProviderRejected, code: "PackedPolicyTooLarge",
			explain: []string{"managed-session-policies"},
		},
		{
			name:     "region disabled",
			script:   []stsfake.Failure{failure("RegionDisabledException")},
			requests: 1, kind: exchange.ErrProviderRejected, code: "RegionDisabledException",
			explain: []string{"us-east-1"},
		},
		{
			name:     "unknown 4xx",
			script:   []stsfake.Failure{{Status: 400, Code: "SomethingNew", Message: "x"}},
			requests: 1, kind: exchange.ErrProviderRejected, code: "SomethingNew",
		},
		{
			name:     "account not allowed",
			edit:     func(c *Config) { c.AllowedAccountIDs = []string{"444455556666"} },
			requests: 1, kind: exchange.ErrProviderDenied, code: "AccountNotAllowed",
			explain: []string{"allowed-account-ids"},
		},
		{
			name:     "account allowed",
			edit:     func(c *Config) { c.AllowedAccountIDs = []string{testAccount} },
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.fake.FailNext(tt.script...)
			cfg := e.config()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			p := e.provider(t, cfg)
			tokenFn := tt.token
			if tokenFn == nil {
				tokenFn = func(e *testEnv) (*exchange.Identity, string) { return e.identity(time.Time{}, "", nil) }
			}
			id, _ := tokenFn(e)

			creds, err := p.Exchange(t.Context(), id, e.request())

			if got := len(e.fake.Requests()); got != tt.requests {
				t.Errorf("STS got %d requests, want %d", got, tt.requests)
			}
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Exchange() = %v, want success", err)
				}
				if creds == nil {
					t.Fatal("Exchange() returned no credentials")
				}
				return
			}
			if creds != nil && (len(creds.Env) > 0 || len(creds.Outputs) > 0) {
				t.Errorf("Exchange() returned exportable credentials with error %v", err)
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Exchange() = %v, want errors.Is %v", err, tt.kind)
			}
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("Exchange() = %T, want a *ProviderError", err)
			}
			if pe.Code != tt.code || pe.Provider != "aws" {
				t.Errorf("ProviderError = %s/%s, want aws/%s", pe.Provider, pe.Code, tt.code)
			}
			if pe.Temporary || httpclient.IsRetryable(err) {
				t.Error("the final error is still marked retryable")
			}
			if pe.Hint == "" {
				t.Error("no hint")
			}
			explain := exchange.Explain(err)
			for _, want := range tt.explain {
				if !strings.Contains(explain, want) {
					t.Errorf("Explain() lacks %q:\n%s", want, explain)
				}
			}
			if exchange.Classify(err) == exchange.ClassInternal {
				t.Errorf("Classify(%v) = internal", err)
			}
		})
	}
}

func TestDenialUsesRequestIssuer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	e.fake.FailNext(failure("AccessDenied"))
	p := e.provider(t, e.config())
	id, _ := e.identity(time.Time{}, "", nil)
	_, err := p.Exchange(t.Context(), id, &exchange.Request{
		Issuer: "https://token.actions.githubusercontent.com/octo-enterprise", Audience: testAudience,
	})
	if want := `"token.actions.githubusercontent.com/octo-enterprise:sub": [`; !strings.Contains(exchange.Explain(err), want) {
		t.Errorf("Explain() lacks %s:\n%s", want, exchange.Explain(err))
	}
}

func TestMaskedAccountStaysOutOfErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	cfg := e.config()
	cfg.MaskAccountID = true
	cfg.AllowedAccountIDs = []string{"444455556666"}
	p := e.provider(t, cfg)
	id, _ := e.identity(time.Time{}, "", nil)
	_, err := p.Exchange(t.Context(), id, e.request())
	if !errors.Is(err, exchange.ErrProviderDenied) {
		t.Fatalf("Exchange() = %v", err)
	}
	for _, s := range []string{err.Error(), exchange.Explain(err), e.logs.String()} {
		if strings.Contains(s, testAccount) {
			t.Errorf("the masked account id shows:\n%s", s)
		}
	}

	e.fake.FailNext(failure("AccessDenied"))
	cfg.AllowedAccountIDs = nil
	p = e.provider(t, cfg)
	_, err = p.Exchange(t.Context(), id, e.request())
	if !strings.Contains(exchange.Explain(err), "Role: arn:aws:iam::***:role/gha-deploy") {
		t.Errorf("Explain() does not hide the account:\n%s", exchange.Explain(err))
	}
}

// TestNoSecretsInErrors runs every failure path and checks that neither
// the token nor any credential STS issued appears in an error, its
// explanation or the logs.
func TestNoSecretsInErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []stsfake.Failure
		edit   func(*Config)
		sub    string
	}{
		{name: "access denied", sub: "repo:evil/repo:ref:refs/heads/main"},
		{name: "account not allowed, credentials issued", edit: func(c *Config) { c.AllowedAccountIDs = []string{"444455556666"} }},
		{name: "throttled", script: repeat(failure("Throttling"), 3)},
		{name: "rejected", script: []stsfake.Failure{failure("ValidationError")}},
		{name: "invalid token", script: []stsfake.Failure{failure("InvalidIdentityToken")}},
		{name: "expired", script: []stsfake.Failure{failure("ExpiredTokenException")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.fake.FailNext(tt.script...)
			cfg := e.config()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			p := e.provider(t, cfg)
			var overrides map[string]any
			if tt.sub != "" {
				overrides = map[string]any{"sub": tt.sub}
			}
			id, token := e.identity(time.Time{}, "", overrides)
			_, err := p.Exchange(t.Context(), id, e.request())
			if err == nil {
				t.Fatal("Exchange() succeeded")
			}
			var pe *exchange.ProviderError
			errors.As(err, &pe)
			texts := map[string]string{
				"Error":   err.Error(),
				"Explain": exchange.Explain(err),
				"%+v":     fmt.Sprintf("%+v", err),
				"cause":   fmt.Sprint(pe.Err),
				"logs":    e.logs.String(),
			}
			secrets := append(e.issuedSecrets(), token)
			// A JWT's signature alone is a distinctive, secret-bearing part.
			secrets = append(secrets, token[strings.LastIndex(token, ".")+1:])
			for where, text := range texts {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s contains a secret:\n%s", where, text)
					}
				}
			}
		})
	}
}

func TestSessionName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		literal string
		claims  map[string]any
		want    string
	}{
		{name: "literal", literal: "deploy@prod", want: "deploy@prod"},
		{name: "from claims", claims: map[string]any{"run_id": "42", "run_attempt": "3"}, want: "GitHubActions-42-3"},
		{name: "missing attempt", claims: map[string]any{"run_id": "42"}, want: FallbackSessionName},
		{name: "no claims", claims: map[string]any{}, want: FallbackSessionName},
		{name: "hostile claims", claims: map[string]any{"run_id": "1 2/3\n", "run_attempt": "{{.x}}"}, want: "GitHubActions-1-2-3----.x--"},
		{name: "numbers", claims: map[string]any{"run_id": float64(7), "run_attempt": float64(1)}, want: "GitHubActions-7-1"},
		{name: "truncated", claims: map[string]any{"run_id": strings.Repeat("9", 80), "run_attempt": "1"}, want: "GitHubActions-" + strings.Repeat("9", 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got string
			client := stsFunc(func(_ context.Context, in *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
				got = aws.ToString(in.RoleSessionName)
				return okOutput(got), nil
			})
			cfg := validConfig()
			cfg.SessionName = tt.literal
			p, err := newProvider(cfg, client)
			if err != nil {
				t.Fatal(err)
			}
			claims := tt.claims
			if claims == nil {
				claims = map[string]any{}
			}
			creds, err := p.Exchange(t.Context(), exchangetest.Identity(claims, "tok"), &exchange.Request{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || creds.Audit.SessionName != tt.want {
				t.Errorf("session name = %q (audit %q), want %q", got, creds.Audit.SessionName, tt.want)
			}
		})
	}
}

// okOutput is a well-formed STS answer for a session.
func okOutput(session string) *sts.AssumeRoleWithWebIdentityOutput {
	return &sts.AssumeRoleWithWebIdentityOutput{
		AssumedRoleUser: &types.AssumedRoleUser{
			Arn:           aws.String("arn:aws:sts::111122223333:assumed-role/gha-deploy/" + session),
			AssumedRoleId: aws.String("AROAEXAMPLE:" + session),
		},
		Credentials: &types.Credentials{
			AccessKeyId:     aws.String("ASIAEXAMPLE000000001"),
			SecretAccessKey: aws.String("secret/with+chars/0123456789abcdefghijklm"),
			SessionToken:    aws.String("IQoJb3JpZ2luX2VjEXAMPLE-session-token"),
			Expiration:      aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		},
	}
}

// TestMalformedAnswers checks answers that are not usable credentials:
// each fails at once, permanently (ErrProviderAnswer), names the endpoint,
// exports nothing, and still hands the audit record the session's name and
// key hash when there is a key.
func TestMalformedAnswers(t *testing.T) {
	t.Parallel()
	const custom = "https://sts.example.test"
	tests := []struct {
		name     string
		endpoint string
		allowed  []string
		edit     func(*sts.AssumeRoleWithWebIdentityOutput)
		code     string
	}{
		{"no credentials", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.Credentials = nil }, "InvalidAnswer"},
		{"no user", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.AssumedRoleUser = nil }, "InvalidAnswer"},
		{"empty arn", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.AssumedRoleUser.Arn = aws.String("") }, "InvalidAnswer"},
		{"no secret", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.Credentials.SecretAccessKey = nil }, "InvalidAnswer"},
		{"no expiration", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.Credentials.Expiration = nil }, "InvalidAnswer"},
		{"expired", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.Credentials.Expiration = aws.Time(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
		}, "InvalidAnswer"},
		{"one-character key id", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.Credentials.AccessKeyId = aws.String("1") }, "InvalidAnswer"},
		{"one-character secret", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) { o.Credentials.SecretAccessKey = aws.String("1") }, "InvalidAnswer"},
		{"secret with a line break", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.Credentials.SecretAccessKey = aws.String("secret/with+chars/0123456789\n1")
		}, "InvalidAnswer"},
		{"token with a workflow command", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.Credentials.SessionToken = aws.String("IQoJb3JpZ2lu\n::add-mask::a")
		}, "InvalidAnswer"},
		{"key id with a space", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.Credentials.AccessKeyId = aws.String("ASIA EXAMPLE 0000001")
		}, "InvalidAnswer"},
		{"bad arn", "", nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.AssumedRoleUser.Arn = aws.String("arn:aws:iam::111122223333:role/x")
		}, "InvalidAnswer"},
		{"custom endpoint, no user, allowed-account-ids", custom, []string{"111122223333"}, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.AssumedRoleUser = nil
		}, "AccountUnknown"},
		{"custom endpoint, one-character secret", custom, nil, func(o *sts.AssumeRoleWithWebIdentityOutput) {
			o.Credentials.SecretAccessKey = aws.String("x")
		}, "InvalidAnswer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			client := stsFunc(func(context.Context, *sts.AssumeRoleWithWebIdentityInput, ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
				calls++
				out := okOutput("s1")
				tt.edit(out)
				return out, nil
			})
			cfg := validConfig()
			cfg.STSEndpoint, cfg.AllowedAccountIDs = tt.endpoint, tt.allowed
			p, err := newProvider(cfg, client)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) || pe.Code != tt.code || !errors.Is(err, exchange.ErrProviderAnswer) {
				t.Fatalf("Exchange() error = %v; want a permanent %s error", err, tt.code)
			}
			if exchange.Classify(err) != exchange.ClassInput {
				t.Errorf("class %s, want input: retrying cannot fix the answer", exchange.Classify(err))
			}
			if tt.endpoint != "" && !strings.Contains(err.Error()+pe.Hint, tt.endpoint) {
				t.Errorf("neither %q nor its hint names the endpoint %s", err, tt.endpoint)
			}
			if creds != nil && (len(creds.Env) > 0 || len(creds.Outputs) > 0 || len(creds.Files) > 0) {
				t.Errorf("the failed answer left something to export: %+v", creds)
			}
			if creds == nil || creds.Audit.SessionName == "" {
				t.Errorf("no audit of the session: %+v", creds)
			}
			if calls != 1 {
				t.Errorf("%d calls, want 1", calls)
			}
		})
	}
}

// TestCustomEndpointWithoutAccount takes the answers of S3-compatible
// stores' STS: SeaweedFS sends no AssumedRoleUser, MinIO an empty Arn.
// With a custom sts-endpoint the credentials are exported without the
// account outputs, and the audit names the session and the key.
func TestCustomEndpointWithoutAccount(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*sts.AssumeRoleWithWebIdentityOutput){
		"seaweedfs": func(o *sts.AssumeRoleWithWebIdentityOutput) { o.AssumedRoleUser = nil },
		"minio":     func(o *sts.AssumeRoleWithWebIdentityOutput) { o.AssumedRoleUser.Arn = aws.String("") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := stsFunc(func(context.Context, *sts.AssumeRoleWithWebIdentityInput, ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
				out := okOutput("s1")
				edit(out)
				return out, nil
			})
			cfg := validConfig()
			cfg.STSEndpoint = "https://s3.example.test:8333"
			p, err := newProvider(cfg, client)
			if err != nil {
				t.Fatal(err)
			}
			creds, err := p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			names := map[string]bool{}
			for _, v := range append(creds.Env, creds.Outputs...) {
				names[v.Name] = true
			}
			if !names[EnvAccessKeyID] || !names[EnvSecretAccessKey] || !names[EnvSessionToken] || names[OutputAccountID] || names[OutputAuthenticated] {
				t.Errorf("exported %v; want the credentials and no account outputs", names)
			}
			if creds.Audit.CredentialSHA256 == "" || creds.Audit.SessionName == "" {
				t.Errorf("audit %+v lacks the key hash or the session name", creds.Audit)
			}
		})
	}
}

// roundTripFunc lets a test stand in for the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNetworkErrorsAreRetried(t *testing.T) {
	t.Parallel()
	calls := 0
	cfg := validConfig()
	cfg.STSEndpoint = "http://127.0.0.1:1"
	cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	})}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	_, err = p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.As(err, &pe) || pe.Code != "NetworkError" || !errors.Is(err, exchange.ErrProviderUnavailable) {
		t.Fatalf("Exchange() = %v, want a NetworkError", err)
	}
	if calls != 3 {
		t.Errorf("%d calls, want 3", calls)
	}
}

// TestNonXMLErrorIsTransient covers a proxy or load balancer answering
// with HTML: the status decides.
func TestNonXMLErrorIsTransient(t *testing.T) {
	t.Parallel()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	}))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.STSEndpoint = srv.URL
	cfg.HTTPClient = srv.Client()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	_, err = p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.As(err, &pe) || !errors.Is(err, exchange.ErrProviderUnavailable) || pe.Code != "" || pe.Message != "HTTP 502 Bad Gateway" {
		t.Fatalf("Exchange() = %v, want an unavailable HTTP 502", err)
	}
	if calls != 3 {
		t.Errorf("%d calls, want 3", calls)
	}
}

func TestRetryAfterIsKept(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>busy</Message></Error></ErrorResponse>`))
	}))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.STSEndpoint = srv.URL
	cfg.HTTPClient = srv.Client()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	p.retrier.Policy.MaxAttempts = 2
	p.retrier.Policy.MaxDelay = time.Millisecond
	p.retrier.Policy.OnRetry = func(_ int, _ error, wait time.Duration) { waits = append(waits, wait) }
	_, err = p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
	if !errors.Is(err, exchange.ErrProviderUnavailable) {
		t.Fatalf("Exchange() = %v", err)
	}
	var te *httpclient.TransientError
	if !errors.As(err, &te) || te.RetryAfter != 7*time.Second {
		t.Errorf("Retry-After not kept: %v", err)
	}
	// The server asked for 7 s; MaxDelay caps it.
	if diff := cmp.Diff([]time.Duration{time.Millisecond}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	client := stsFunc(func(ctx context.Context, _ *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		calls++
		cancel()
		return nil, fmt.Errorf("sending: %w", ctx.Err())
	})
	p, err := newProvider(validConfig(), client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Exchange(ctx, exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.Is(err, context.Canceled) || errors.As(err, &pe) {
		t.Errorf("Exchange() = %v, want a plain cancellation", err)
	}
	if calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
}

func TestTokenSentOnEveryAttempt(t *testing.T) {
	t.Parallel()
	var tokens []string
	client := stsFunc(func(_ context.Context, in *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		tokens = append(tokens, aws.ToString(in.WebIdentityToken))
		if len(tokens) < 2 {
			return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
		}
		return okOutput("s1"), nil
	})
	p, err := newProvider(validConfig(), client)
	if err != nil {
		t.Fatal(err)
	}
	fastRetries(p)
	if _, err := p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tok", "tok"}, tokens); diff != "" {
		t.Errorf("tokens sent (-want +got):\n%s", diff)
	}

	// An identity without a token supplier fails before any call.
	tokens = nil
	_, err = p.Exchange(t.Context(), &exchange.Identity{}, &exchange.Request{})
	if !errors.Is(err, exchange.ErrTokenUnavailable) || len(tokens) != 0 {
		t.Errorf("Exchange() = %v after %d calls, want ErrTokenUnavailable before any", err, len(tokens))
	}
}

// TestUnknownClientError covers an error that is neither an STS answer nor
// a network failure, an answer the SDK could not read: permanent, never
// retried, and not "unavailable" (retrying the job would not help).
func TestUnknownClientError(t *testing.T) {
	t.Parallel()
	calls := 0
	client := stsFunc(func(context.Context, *sts.AssumeRoleWithWebIdentityInput, ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		calls++
		return nil, errors.New("deserialization failed")
	})
	p, err := newProvider(validConfig(), client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{})
	var pe *exchange.ProviderError
	if !errors.As(err, &pe) || pe.Code != "InvalidAnswer" || !errors.Is(err, exchange.ErrProviderAnswer) || calls != 1 {
		t.Errorf("Exchange() = %v after %d calls, want one permanent InvalidAnswer", err, calls)
	}
}

func TestZeroProvider(t *testing.T) {
	t.Parallel()
	var p Provider
	if _, err := p.Exchange(t.Context(), exchangetest.Identity(map[string]any{}, "tok"), &exchange.Request{}); err == nil {
		t.Error("a zero Provider exchanged")
	}
	q, err := newProvider(validConfig(), stsFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Exchange(t.Context(), nil, nil); err == nil {
		t.Error("a nil identity exchanged")
	}
}

// BenchmarkExchange measures one exchange through the real SDK client
// against the wire-level fake, with the fake's latency modelling STS.
func BenchmarkExchange(b *testing.B) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(latency.String(), func(b *testing.B) {
			is, err := exchangetest.NewIssuer("")
			if err != nil {
				b.Fatal(err)
			}
			defer is.Close()
			now := time.Now()
			fake, err := stsfake.New(stsfake.Config{
				Issuer:  is.URL,
				KeySet:  is.KeySet(b.Context()),
				RoleARN: testRole,
				Trust:   stsfake.TrustPolicy{Audience: testAudience, Subjects: []string{testSubject}},
			})
			if err != nil {
				b.Fatal(err)
			}
			fake.SetLatency(latency)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			p, err := New(Config{Region: "us-east-1", RoleARN: testRole, STSEndpoint: srv.URL, HTTPClient: httpclient.New(httpclient.Options{})})
			if err != nil {
				b.Fatal(err)
			}
			raw := is.Mint(testAudience, now, nil)
			id := exchangetest.Identity(exchangetest.GitHubClaims(is.URL, testAudience, now, nil), raw)
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Exchange(b.Context(), id, &exchange.Request{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
