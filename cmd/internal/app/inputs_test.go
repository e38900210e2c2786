package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// TestReadActionConfig covers every input rule of action mode: how each
// input is read, defaulted and validated, and which input an error names.
func TestReadActionConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"INPUT_AWS-REGION":     "eu-west-1",
		"INPUT_ROLE-TO-ASSUME": "arn:aws:iam::111122223333:role/deploy",
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // input names the error must mention
		check   func(t *testing.T, c *actionConfig)
	}{
		{name: "minimal", check: func(t *testing.T, c *actionConfig) {
			if c.provider != "aws" || c.audience != "sts.amazonaws.com" || c.issuer.String() != "https://token.actions.githubusercontent.com" {
				t.Errorf("defaults: %+v", c)
			}
			// Unset means true, unless the credentials go to profiles.
			if c.providerCfg.AWS.OutputEnvCredentials != nil {
				t.Error("output-env-credentials is set though the job did not set it")
			}
		}},
		{name: "China region audience", env: map[string]string{"INPUT_AWS-REGION": "cn-north-1"}, check: func(t *testing.T, c *actionConfig) {
			if c.audience != "sts.amazonaws.com.cn" {
				t.Errorf("audience = %q", c.audience)
			}
		}},
		{name: "explicit audience wins", env: map[string]string{"INPUT_AUDIENCE": "custom"}, check: func(t *testing.T, c *actionConfig) {
			if c.audience != "custom" {
				t.Errorf("audience = %q", c.audience)
			}
		}},
		{name: "job-level AWS_REGION", env: map[string]string{"INPUT_AWS-REGION": "", "AWS_REGION": "us-east-2"}, check: func(t *testing.T, c *actionConfig) {
			if c.providerCfg.AWS.Region != "us-east-2" {
				t.Errorf("region = %q", c.providerCfg.AWS.Region)
			}
		}},
		{name: "missing region", env: map[string]string{"INPUT_AWS-REGION": ""}, wantErr: []string{"aws-region"}},
		{name: "bad region", env: map[string]string{"INPUT_AWS-REGION": "EU_WEST"}, wantErr: []string{"aws-region"}},
		{name: "missing role", env: map[string]string{"INPUT_ROLE-TO-ASSUME": ""}, wantErr: []string{"role-to-assume"}},
		{name: "bare role name", env: map[string]string{"INPUT_ROLE-TO-ASSUME": "deploy"}, wantErr: []string{"role-to-assume"}},
		{name: "unknown provider", env: map[string]string{"INPUT_PROVIDER": "azure"}, wantErr: []string{"provider", "valid providers"}},
		{name: "strict booleans", env: map[string]string{"INPUT_OUTPUT-CREDENTIALS": "yes", "INPUT_MASK-AWS-ACCOUNT-ID": "1", "INPUT_DISABLE-RETRY": "on"},
			wantErr: []string{"output-credentials", "mask-aws-account-id", "disable-retry"}},
		{name: "boolean spellings", env: map[string]string{"INPUT_OUTPUT-CREDENTIALS": "True", "INPUT_OUTPUT-ENV-CREDENTIALS": "FALSE", "INPUT_UNSET-CURRENT-CREDENTIALS": "TRUE"},
			check: func(t *testing.T, c *actionConfig) {
				if !c.providerCfg.AWS.OutputCredentials || *c.providerCfg.AWS.OutputEnvCredentials || !c.unsetCurrent() {
					t.Errorf("booleans: %+v", c.providerCfg.AWS)
				}
			}},
		{name: "duration not a number", env: map[string]string{"INPUT_ROLE-DURATION-SECONDS": "1h"}, wantErr: []string{"role-duration-seconds"}},
		{name: "duration too short", env: map[string]string{"INPUT_ROLE-DURATION-SECONDS": "899"}, wantErr: []string{"role-duration-seconds"}},
		{name: "duration too long", env: map[string]string{"INPUT_ROLE-DURATION-SECONDS": "43201"}, wantErr: []string{"role-duration-seconds"}},
		{name: "session name charset", env: map[string]string{"INPUT_ROLE-SESSION-NAME": "has space"}, wantErr: []string{"role-session-name"}},
		{name: "session name too short", env: map[string]string{"INPUT_ROLE-SESSION-NAME": "a"}, wantErr: []string{"role-session-name"}},
		{name: "inline policy not JSON", env: map[string]string{"INPUT_INLINE-SESSION-POLICY": "{nope"}, wantErr: []string{"inline-session-policy"}},
		{name: "managed policies list", env: map[string]string{"INPUT_MANAGED-SESSION-POLICIES": "arn:aws:iam::aws:policy/ReadOnlyAccess\n\narn:aws:iam::111122223333:policy/x, "},
			check: func(t *testing.T, c *actionConfig) {
				if diff := cmp.Diff([]string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/x"}, c.providerCfg.AWS.ManagedSessionPolicies); diff != "" {
					t.Error(diff)
				}
			}},
		{name: "bad managed policy", env: map[string]string{"INPUT_MANAGED-SESSION-POLICIES": "ReadOnlyAccess"}, wantErr: []string{"managed-session-policies"}},
		{name: "allowed accounts", env: map[string]string{"INPUT_ALLOWED-ACCOUNT-IDS": "111122223333, 444455556666"}, check: func(t *testing.T, c *actionConfig) {
			if len(c.providerCfg.AWS.AllowedAccountIDs) != 2 {
				t.Errorf("allowed = %v", c.providerCfg.AWS.AllowedAccountIDs)
			}
		}},
		{name: "bad allowed account", env: map[string]string{"INPUT_ALLOWED-ACCOUNT-IDS": "1234"}, wantErr: []string{"allowed-account-ids"}},
		{name: "endpoint precedence: input", env: map[string]string{"INPUT_STS-ENDPOINT": "https://sts.vpce.example", "AWS_ENDPOINT_URL_STS": "https://a.example", "AWS_ENDPOINT_URL": "https://b.example"},
			check: func(t *testing.T, c *actionConfig) { wantEndpoint(t, c, "https://sts.vpce.example") }},
		{name: "endpoint precedence: AWS_ENDPOINT_URL_STS", env: map[string]string{"AWS_ENDPOINT_URL_STS": "https://a.example", "AWS_ENDPOINT_URL": "https://b.example"},
			check: func(t *testing.T, c *actionConfig) { wantEndpoint(t, c, "https://a.example") }},
		{name: "endpoint precedence: AWS_ENDPOINT_URL", env: map[string]string{"AWS_ENDPOINT_URL": "https://b.example"},
			check: func(t *testing.T, c *actionConfig) { wantEndpoint(t, c, "https://b.example") }},
		{name: "plain http endpoint refused", env: map[string]string{"INPUT_STS-ENDPOINT": "http://sts.example"}, wantErr: []string{"sts-endpoint"}},
		{name: "retry attempts", env: map[string]string{"INPUT_RETRY-MAX-ATTEMPTS": "x"}, wantErr: []string{"retry-max-attempts"}},
		{name: "timeout", env: map[string]string{"INPUT_ACTION-TIMEOUT-S": "90"}, check: func(t *testing.T, c *actionConfig) {
			if c.timeout != 90*time.Second {
				t.Errorf("timeout = %v", c.timeout)
			}
		}},
		{name: "negative timeout", env: map[string]string{"INPUT_ACTION-TIMEOUT-S": "-1"}, wantErr: []string{"action-timeout-s"}},
		{name: "GHES issuer", env: map[string]string{"GITHUB_SERVER_URL": "https://ghes.example.com"}, check: func(t *testing.T, c *actionConfig) {
			if c.issuer.String() != "https://ghes.example.com/_services/token" {
				t.Errorf("issuer = %q", c.issuer)
			}
		}},
		{name: "GHE.com issuer with enterprise slug", env: map[string]string{"GITHUB_SERVER_URL": "https://octo.ghe.com", "INPUT_OIDC-ENTERPRISE-SLUG": "octo"},
			check: func(t *testing.T, c *actionConfig) {
				if c.issuer.String() != "https://token.actions.octo.ghe.com/octo" {
					t.Errorf("issuer = %q", c.issuer)
				}
			}},
		{name: "bad slug", env: map[string]string{"INPUT_OIDC-ENTERPRISE-SLUG": "a/b"}, wantErr: []string{"slug"}},
		{name: "explicit issuer validated", env: map[string]string{"INPUT_OIDC-ISSUER": "http://issuer.example"}, wantErr: []string{"oidc-issuer"}},
		{name: "bad expect-claims", env: map[string]string{"INPUT_EXPECT-CLAIMS": "ref"}, wantErr: []string{"expect-claims"}},
		{name: "every error at once", env: map[string]string{"INPUT_AWS-REGION": "", "INPUT_ROLE-DURATION-SECONDS": "5", "INPUT_EXPECT-CLAIMS": "x"},
			wantErr: []string{"aws-region", "role-duration-seconds", "expect-claims"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tc.env {
				vars[k] = v
			}
			getenv := func(k string) string { return vars[k] }
			c, err := readActionConfig(t.Context(), getenv, nil, nil, nil)
			if len(tc.wantErr) > 0 {
				if !errors.Is(err, exchange.ErrInvalidInput) {
					t.Fatalf("error = %v, want ErrInvalidInput", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func wantEndpoint(t *testing.T, c *actionConfig, want string) {
	t.Helper()
	if got := c.providerCfg.AWS.STSEndpoint; got != want {
		t.Errorf("sts endpoint = %q, want %q", got, want)
	}
}
