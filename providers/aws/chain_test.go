package aws

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

const (
	targetRole  = "arn:aws:iam::444455556666:role/prod-deploy"
	targetExtID = "prod-deploy-7f3a"
)

// withTarget adds a role in another account that trusts sessions of
// testRole, as a hub-and-spoke account layout does.
func withTarget(extID string) func(*stsfake.Config) {
	return func(c *stsfake.Config) {
		c.Roles = append(c.Roles, stsfake.Role{ARN: targetRole, TrustedRoles: []string{testRole}, ExternalID: extID})
	}
}

func TestChainFromTheWebIdentitySession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withTarget(targetExtID))
	cfg := e.config()
	cfg.RoleARN = ""
	cfg.Roles = []string{"prod = " + testRole + " > " + targetRole}
	cfg.RoleExternalID = targetExtID
	parts, err := cfg.Parts()
	if err != nil || len(parts) != 1 {
		t.Fatalf("Parts: %d parts, %v", len(parts), err)
	}
	p := e.provider(t, parts[0])
	if p.Target() != targetRole {
		t.Errorf("Target() = %q, want the last role of the chain", p.Target())
	}
	id, _ := e.identity(time.Time{}, "", nil)
	creds, err := p.Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("STS saw %d requests, want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if first.Action != stsfake.ActionAssumeRoleWithWebIdentity || first.Form.Get("DurationSeconds") != "900" {
		t.Errorf("first hop: %s for %s s; the session that only signs the next hop should be the shortest", first.Action, first.Form.Get("DurationSeconds"))
	}
	if second.Action != stsfake.ActionAssumeRole || second.SourceRoleARN != testRole || second.CallerAccessKeyID != first.Issued.AccessKeyID {
		t.Errorf("second hop: %s from %s signed by %s, want AssumeRole signed by the first session", second.Action, second.SourceRoleARN, second.CallerAccessKeyID)
	}
	if got := second.Form.Get("ExternalId"); got != targetExtID {
		t.Errorf("ExternalId %q, want %q", got, targetExtID)
	}
	if creds.Audit.Target != targetRole || creds.Audit.CredentialSHA256 != exchange.NewSecret(second.Issued.AccessKeyID).SHA256() {
		t.Error("the audit names another session than the exported one")
	}
	// A roles part writes its profile and exports no keys.
	for _, v := range creds.Env {
		if v.Sensitive {
			t.Errorf("a profile part exported %s", v.Name)
		}
	}
	if len(creds.Sections) != 2 || creds.Sections[0].Name != "profile prod" || creds.Sections[1].Name != "prod" {
		t.Fatalf("sections %+v, want [profile prod] and [prod]", creds.Sections)
	}
	keys := map[string]string{}
	for _, k := range creds.Sections[1].Keys {
		keys[k.Name] = k.Value.Reveal()
	}
	if keys["aws_secret_access_key"] != second.Issued.SecretAccessKey || keys["aws_session_token"] != second.Issued.SessionToken {
		t.Error("the credentials file does not hold the chained session")
	}
	if secrets := creds.Secrets(); len(secrets) != 3 {
		t.Errorf("%d secrets to mask, want the three keys", len(secrets))
	}
}

func TestChainFromTheEnvironment(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, withTarget(""))
	earlier, err := e.fake.Issue(testRole, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.RoleARN, cfg.RoleChaining = targetRole, true
	cfg.SourceCredentials = &SourceCredentials{
		AccessKeyID:     exchange.NewSecret(earlier.AccessKeyID),
		SecretAccessKey: exchange.NewSecret(earlier.SecretAccessKey),
		SessionToken:    exchange.NewSecret(earlier.SessionToken),
	}
	id, _ := e.identity(time.Time{}, "", nil)
	creds, err := e.provider(t, cfg).Exchange(t.Context(), id, e.request())
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	if len(reqs) != 1 || reqs[0].Action != stsfake.ActionAssumeRole || reqs[0].CallerAccessKeyID != earlier.AccessKeyID {
		t.Fatalf("STS saw %+v, want one AssumeRole signed by the session in the environment", reqs)
	}
	var keyID string
	for _, v := range creds.Env {
		if v.Name == EnvAccessKeyID {
			keyID = v.Value.Reveal()
		}
	}
	if keyID != reqs[0].Issued.AccessKeyID {
		t.Error("the chained session's keys are not exported")
	}
}

func TestChainFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		extID     string
		source    func(e *testEnv) *SourceCredentials
		wantCode  string
		wantKind  error
		wantHint  string
		wantCalls int
	}{
		"external id mismatch": {
			extID: "another-id", wantCode: "AccessDenied", wantKind: exchange.ErrProviderDenied, wantHint: "role-external-id", wantCalls: 1,
		},
		"environment session expired": {
			source: func(e *testEnv) *SourceCredentials {
				c, err := e.fake.Issue(testRole, time.Minute)
				if err != nil {
					panic(err)
				}
				e.advance(time.Hour)
				return &SourceCredentials{exchange.NewSecret(c.AccessKeyID), exchange.NewSecret(c.SecretAccessKey), exchange.NewSecret(c.SessionToken)}
			},
			wantCode: "ExpiredToken", wantKind: exchange.ErrProviderRejected, wantHint: "expired", wantCalls: 1,
		},
		"environment keys unknown to STS": {
			source: func(*testEnv) *SourceCredentials {
				// Keys STS never issued, shaped to say so.
				return &SourceCredentials{exchange.NewSecret("FAKE-NEVER-ISSUED-KEY"), exchange.NewSecret("FAKE-never-issued-secret"), exchange.NewSecret("FAKE-never-issued-session-token")}
			},
			wantCode: "InvalidClientTokenId", wantKind: exchange.ErrProviderRejected, wantHint: "output-env-credentials", wantCalls: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, withTarget(targetExtID))
			cfg := e.config()
			cfg.RoleExternalID = cmpOr(tc.extID, targetExtID)
			if tc.source != nil {
				cfg.RoleARN, cfg.RoleChaining, cfg.SourceCredentials = targetRole, true, tc.source(e)
			} else {
				cfg.RoleARN, cfg.Roles = "", []string{"prod=" + testRole + ">" + targetRole}
			}
			parts, err := cfg.Parts()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := e.identity(time.Time{}, "", nil)
			_, err = e.provider(t, parts[0]).Exchange(t.Context(), id, e.request())
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) || pe.Code != tc.wantCode || !errors.Is(err, tc.wantKind) || !strings.Contains(pe.Hint, tc.wantHint) {
				t.Fatalf("error %v (hint %q), want %s, %v, a hint about %s", err, hintOf(pe), tc.wantCode, tc.wantKind, tc.wantHint)
			}
			if pe.Details != "" {
				t.Errorf("a chained denial explains the token's claims, which STS did not compare:\n%s", pe.Details)
			}
			var assumeRole int
			for _, r := range e.fake.Requests() {
				if r.Action == stsfake.ActionAssumeRole {
					assumeRole++
				}
			}
			if assumeRole != tc.wantCalls {
				t.Errorf("%d AssumeRole calls, want %d (permanent errors are not retried)", assumeRole, tc.wantCalls)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hintOf(pe *exchange.ProviderError) string {
	if pe == nil {
		return ""
	}
	return pe.Hint
}

func TestRolesAndProfilesValidation(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit func(c *Config)
		want string
	}{
		"no equals":         {func(c *Config) { c.RoleARN, c.Roles = "", []string{testRole} }, "roles: line 1: want profile=role-arn"},
		"bad profile":       {func(c *Config) { c.RoleARN, c.Roles = "", []string{"my profile=" + testRole} }, "roles: line 1: roles profile name"},
		"duplicate profile": {func(c *Config) { c.RoleARN, c.Roles = "", []string{"a=" + testRole, "", "a=" + targetRole} }, "roles: line 3: profile a is already on line 1"},
		"bad arn in chain":  {func(c *Config) { c.RoleARN, c.Roles = "", []string{"a=" + testRole + " > deploy"} }, `roles: line 1 (a): role-to-assume "deploy" is not an ARN`},
		"roles and role":    {func(c *Config) { c.Roles = []string{"a=" + testRole} }, "roles: names every role and its profile"},
		"empty roles":       {func(c *Config) { c.RoleARN, c.Roles = "", []string{"", "# none"} }, "roles: lists no role"},
		"chained too long": {func(c *Config) {
			c.RoleARN, c.Roles, c.DurationSeconds = "", []string{"a=" + testRole + ">" + targetRole}, 7200
		}, "roles: line 1 (a): role-duration-seconds 7200: AWS limits a session obtained by role chaining to 1 hour"},
		"external id without chain": {func(c *Config) { c.RoleExternalID = "abc123" }, "role-external-id: is sent with sts:AssumeRole"},
		"chaining without keys":     {func(c *Config) { c.RoleChaining = true }, "role-chaining: needs the session of an earlier step"},
		"overwrite without profile": {func(c *Config) { c.OverwriteProfile = true }, "overwrite-aws-profile: applies to the profile"},
		"refresh without command":   {func(c *Config) { c.Refresh = true }, "refresh: needs the command"},
		"refresh and outputs": {func(c *Config) {
			c.Refresh, c.OutputCredentials, c.CredentialProcess = true, true, func(string) string { return "x" }
		}, "refresh: exports no keys, so output-credentials"},
		"refresh of a chain": {func(c *Config) {
			c.RoleARN, c.Roles, c.Refresh, c.CredentialProcess = "", []string{"a=" + testRole + ">" + targetRole}, true, func(string) string { return "x" }
		}, "roles: line 1 (a): refresh cannot refresh a chained session"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Config{Region: "us-east-1", RoleARN: testRole}
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRolesParts(t *testing.T) {
	t.Parallel()
	c := Config{Region: "us-east-1", Roles: []string{"dev = " + testRole, "# the production account", "prod=" + testRole + " > " + targetRole}, RoleExternalID: "abc123"}
	parts, err := c.Parts()
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	if parts[0].Profile != "dev" || parts[0].RoleARN != testRole || len(parts[0].chain) != 0 || parts[0].RoleExternalID != "" {
		t.Errorf("part 1: %+v", parts[0])
	}
	if parts[1].Profile != "prod" || parts[1].RoleARN != testRole || len(parts[1].chain) != 1 || parts[1].RoleExternalID != "abc123" {
		t.Errorf("part 2: %+v", parts[1])
	}
	for _, p := range parts {
		if p.outputEnvCredentials() {
			t.Errorf("part %s exports keys to the environment", p.Profile)
		}
	}
}
