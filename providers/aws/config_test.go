package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func validConfig() Config {
	return Config{Region: "us-east-1", RoleARN: testRole}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Config)
		input string // "" means valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"everything", func(c *Config) {
			c.SessionName = "deploy@prod=1,a.b+c_d-e"
			c.DurationSeconds = 43200
			c.InlineSessionPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}\n"
			c.ManagedSessionPolicies = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::111122223333:policy/team/Deploy"}
			c.AllowedAccountIDs = []string{"111122223333", "444455556666"}
			c.STSEndpoint = "https://sts.us-east-1.amazonaws.com"
			c.RetryMaxAttempts = 5
			c.OutputEnvCredentials = new(false)
		}, ""},

		{"region missing", func(c *Config) { c.Region = "" }, "aws-region"},
		{"region uppercase", func(c *Config) { c.Region = "US-EAST-1" }, "aws-region"},
		{"region with space", func(c *Config) { c.Region = "us east 1" }, "aws-region"},
		{"region china", func(c *Config) { c.Region = "cn-north-1" }, ""},

		{"role missing", func(c *Config) { c.RoleARN = "" }, "role-to-assume"},
		{"role bare name", func(c *Config) { c.RoleARN = "gha-deploy" }, "role-to-assume"},
		{"role truncated", func(c *Config) { c.RoleARN = "arn:aws:iam::111122223333" }, "role-to-assume"},
		{"role user", func(c *Config) { c.RoleARN = "arn:aws:iam::111122223333:user/bob" }, "role-to-assume"},
		{"role other service", func(c *Config) { c.RoleARN = "arn:aws:sts::111122223333:role/x" }, "role-to-assume"},
		{"role short account", func(c *Config) { c.RoleARN = "arn:aws:iam::1111:role/x" }, "role-to-assume"},
		{"role with region", func(c *Config) { c.RoleARN = "arn:aws:iam:us-east-1:111122223333:role/x" }, "role-to-assume"},
		{"role empty name", func(c *Config) { c.RoleARN = "arn:aws:iam::111122223333:role/" }, "role-to-assume"},
		{"role no partition", func(c *Config) { c.RoleARN = "arn::iam::111122223333:role/x" }, "role-to-assume"},
		{"role with path", func(c *Config) { c.RoleARN = "arn:aws:iam::111122223333:role/ci/gha-deploy" }, ""},
		{"role gov cloud", func(c *Config) { c.RoleARN = "arn:aws-us-gov:iam::111122223333:role/x" }, ""},

		{"session space", func(c *Config) { c.SessionName = "my session" }, "role-session-name"},
		{"session one char", func(c *Config) { c.SessionName = "a" }, "role-session-name"},
		{"session 65 chars", func(c *Config) { c.SessionName = strings.Repeat("a", 65) }, "role-session-name"},
		{"session 64 chars", func(c *Config) { c.SessionName = strings.Repeat("a", 64) }, ""},
		{"session slash", func(c *Config) { c.SessionName = "a/b" }, "role-session-name"},
		{"session newline", func(c *Config) { c.SessionName = "ab\n::error::x" }, "role-session-name"},

		{"duration 899", func(c *Config) { c.DurationSeconds = 899 }, "role-duration-seconds"},
		{"duration 900", func(c *Config) { c.DurationSeconds = 900 }, ""},
		{"duration 43201", func(c *Config) { c.DurationSeconds = 43201 }, "role-duration-seconds"},
		{"duration negative", func(c *Config) { c.DurationSeconds = -1 }, "role-duration-seconds"},

		{"policy not json", func(c *Config) { c.InlineSessionPolicy = "{Version: 1}" }, "inline-session-policy"},
		{"policy array", func(c *Config) { c.InlineSessionPolicy = "[]" }, "inline-session-policy"},
		{"policy string", func(c *Config) { c.InlineSessionPolicy = `"x"` }, "inline-session-policy"},
		{"policy too long", func(c *Config) {
			c.InlineSessionPolicy = `{"Sid":"` + strings.Repeat("x", 2048) + `"}`
		}, "inline-session-policy"},
		{"policy blank", func(c *Config) { c.InlineSessionPolicy = "  \n" }, ""},

		{"managed not arn", func(c *Config) { c.ManagedSessionPolicies = []string{"ReadOnlyAccess"} }, "managed-session-policies"},
		{"managed role arn", func(c *Config) { c.ManagedSessionPolicies = []string{testRole} }, "managed-session-policies"},
		{"managed bad account", func(c *Config) {
			c.ManagedSessionPolicies = []string{"arn:aws:iam::amazon:policy/x"}
		}, "managed-session-policies"},
		{"managed empty entry", func(c *Config) { c.ManagedSessionPolicies = []string{""} }, "managed-session-policies"},
		{"managed duplicate", func(c *Config) {
			c.ManagedSessionPolicies = []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/A"}
		}, "managed-session-policies"},
		{"managed eleven", func(c *Config) {
			for i := range 11 {
				c.ManagedSessionPolicies = append(c.ManagedSessionPolicies, "arn:aws:iam::aws:policy/P"+strings.Repeat("x", i))
			}
		}, "managed-session-policies"},
		{"managed ten", func(c *Config) {
			for i := range 10 {
				c.ManagedSessionPolicies = append(c.ManagedSessionPolicies, "arn:aws:iam::aws:policy/P"+strings.Repeat("x", i))
			}
		}, ""},

		{"account 11 digits", func(c *Config) { c.AllowedAccountIDs = []string{"11112222333"} }, "allowed-account-ids"},
		{"account with dashes", func(c *Config) { c.AllowedAccountIDs = []string{"1111-2222-3333"} }, "allowed-account-ids"},
		{"account blank", func(c *Config) { c.AllowedAccountIDs = []string{""} }, "allowed-account-ids"},

		{"endpoint http remote", func(c *Config) { c.STSEndpoint = "http://sts.amazonaws.com" }, "sts-endpoint"},
		{"endpoint http loopback", func(c *Config) { c.STSEndpoint = "http://127.0.0.1:8080" }, ""},
		{"endpoint http localhost", func(c *Config) { c.STSEndpoint = "http://localhost:8080" }, ""},
		{"endpoint ftp", func(c *Config) { c.STSEndpoint = "ftp://127.0.0.1" }, "sts-endpoint"},
		{"endpoint userinfo", func(c *Config) { c.STSEndpoint = "https://user:pw@sts.amazonaws.com" }, "sts-endpoint"},
		{"endpoint no host", func(c *Config) { c.STSEndpoint = "https://" }, "sts-endpoint"},
		{"endpoint query", func(c *Config) { c.STSEndpoint = "https://sts.amazonaws.com/?x=1" }, "sts-endpoint"},
		{"endpoint not url", func(c *Config) { c.STSEndpoint = "://" }, "sts-endpoint"},
		{"endpoint vpc", func(c *Config) {
			c.STSEndpoint = "https://vpce-0abc-def.sts.us-east-1.vpce.amazonaws.com"
		}, ""},

		{"retry negative", func(c *Config) { c.RetryMaxAttempts = -1 }, "retry-max-attempts"},
		{"retry one", func(c *Config) { c.RetryMaxAttempts = 1 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.input == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("Validate() = %v, want an ErrInvalidInput", err)
			}
			if !strings.HasPrefix(err.Error(), tt.input+": ") {
				t.Errorf("Validate() = %q, want it to name %s", err, tt.input)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("Validate() = %q spans lines", err)
			}
			if _, nerr := New(cfg); !errors.Is(nerr, exchange.ErrInvalidInput) {
				t.Errorf("New() = %v, want the same input error", nerr)
			}
		})
	}
}

func TestValidateBareRoleNameHint(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.RoleARN = "gha-deploy"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "full role ARN") {
		t.Errorf("Validate() = %v, want a hint to give the full role ARN", err)
	}
}

func TestCompactPolicy(t *testing.T) {
	t.Parallel()
	got, err := compactPolicy("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ {\"Effect\": \"Deny\"} ]\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}`; got != want {
		t.Errorf("compactPolicy() = %s, want %s", got, want)
	}
}

func TestDefaultAudience(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{
		"us-east-1":      "sts.amazonaws.com",
		"eu-central-1":   "sts.amazonaws.com",
		"us-gov-west-1":  "sts.amazonaws.com",
		"cn-north-1":     "sts.amazonaws.com.cn",
		"cn-northwest-1": "sts.amazonaws.com.cn",
	} {
		if got := DefaultAudience(region); got != want {
			t.Errorf("DefaultAudience(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestCleanupVariables(t *testing.T) {
	t.Parallel()
	want := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"}
	if diff := cmp.Diff(want, CleanupVariables()); diff != "" {
		t.Errorf("CleanupVariables() (-want +got):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p, err := newProvider(validConfig(), stsFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Duration, Attempts int
		EnvCreds           bool
	}{p.cfg.DurationSeconds, p.retrier.Policy.MaxAttempts, p.envCreds}
	want := struct {
		Duration, Attempts int
		EnvCreds           bool
	}{3600, 3, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}

	cfg := validConfig()
	cfg.DisableRetry = true
	cfg.RetryMaxAttempts = 7
	cfg.OutputEnvCredentials = new(false)
	p, err = newProvider(cfg, stsFunc(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.retrier.Policy.MaxAttempts != 1 || p.envCreds {
		t.Errorf("DisableRetry/OutputEnvCredentials=false gave attempts %d, env credentials %v", p.retrier.Policy.MaxAttempts, p.envCreds)
	}
}
