package gcp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func validConfig() Config {
	return Config{WorkloadIdentityProvider: testProvider}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const boundary = "bucket=b-1:role=roles/storage.objectViewer"
	noFile := func(c *Config) { c.CreateCredentialsFile = new(false) }
	tests := []struct {
		name string
		edit func(*Config)
		// inputs lists every input the error must name; nil means valid.
		inputs []string
	}{
		{"minimal", func(*Config) {}, nil},
		{"everything", func(c *Config) {
			c.ServiceAccount = testSA
			c.AccessTokenLifetime = "43200s"
			c.AccessTokenScopes = []string{cloudPlatform, "openid"}
			c.Delegates = []string{"a@p-123456.iam.gserviceaccount.com"}
			c.AccessBoundary = boundary
			c.CreateCredentialsFile = new(false)
			c.ExportEnvironmentVariables = new(false)
			c.ProjectID = "example.com:my-project"
			c.Universe = "s3nsapis.fr"
			c.STSEndpoint = "https://sts.s3nsapis.fr"
			c.IAMCredentialsEndpoint = "https://private.googleapis.com/iamcredentials/"
			c.OAuth2Endpoint = "http://127.0.0.1:8080"
			c.RetryMaxAttempts = 5
		}, nil},

		{"provider missing", func(c *Config) { c.WorkloadIdentityProvider = "" }, []string{"workload-identity-provider"}},
		{"provider with // prefix", func(c *Config) { c.WorkloadIdentityProvider = "//iam.googleapis.com/" + testProvider }, []string{"workload-identity-provider"}},
		{"provider with https prefix", func(c *Config) { c.WorkloadIdentityProvider = testAudience }, []string{"workload-identity-provider"}},
		{"provider with project id", func(c *Config) {
			c.WorkloadIdentityProvider = "projects/my-project/locations/global/workloadIdentityPools/github/providers/octo-repo"
		}, []string{"workload-identity-provider"}},
		{"provider regional", func(c *Config) {
			c.WorkloadIdentityProvider = "projects/1/locations/europe-west1/workloadIdentityPools/github/providers/octo-repo"
		}, []string{"workload-identity-provider"}},
		{"provider short pool", func(c *Config) {
			c.WorkloadIdentityProvider = "projects/1/locations/global/workloadIdentityPools/gh/providers/octo-repo"
		}, []string{"workload-identity-provider"}},
		{"provider uppercase", func(c *Config) { c.WorkloadIdentityProvider = strings.ToUpper(testProvider) }, []string{"workload-identity-provider"}},
		{"provider pool only", func(c *Config) { c.WorkloadIdentityProvider = testPool }, []string{"workload-identity-provider"}},
		{"provider newline", func(c *Config) { c.WorkloadIdentityProvider = testProvider + "\n" }, []string{"workload-identity-provider"}},

		{"service account not email", func(c *Config) { c.ServiceAccount = "deploy" }, []string{"service-account"}},
		{"service account path", func(c *Config) { c.ServiceAccount = "a/b@p.iam.gserviceaccount.com" }, []string{"service-account"}},
		{"service account default compute", func(c *Config) { c.ServiceAccount = "123456789-compute@developer.gserviceaccount.com" }, nil},

		{"token format bad", func(c *Config) { c.TokenFormat = "jwt" }, []string{"token-format"}},
		{"token format none", func(c *Config) { c.TokenFormat = TokenFormatNone }, nil},
		{"id token without service account", func(c *Config) {
			c.TokenFormat = TokenFormatIDToken
			c.IDTokenAudience = "aud"
		}, []string{"token-format"}},
		{"id token without audience", func(c *Config) {
			c.ServiceAccount = testSA
			c.TokenFormat = TokenFormatIDToken
		}, []string{"id-token-audience"}},
		{"id token", func(c *Config) {
			c.ServiceAccount = testSA
			c.TokenFormat = TokenFormatIDToken
			c.IDTokenAudience = "https://run.example"
			c.IDTokenIncludeEmail = true
		}, nil},
		{"id token audience with access token", func(c *Config) { c.IDTokenAudience = "aud" }, []string{"id-token-audience"}},
		{"include email with access token", func(c *Config) { c.IDTokenIncludeEmail = true }, []string{"id-token-include-email"}},
		{"id token audience with space", func(c *Config) {
			c.ServiceAccount = testSA
			c.TokenFormat = TokenFormatIDToken
			c.IDTokenAudience = "a b"
		}, []string{"id-token-audience"}},

		{"lifetime seconds", func(c *Config) { c.AccessTokenLifetime = "3600" }, nil},
		{"lifetime go duration", func(c *Config) { c.AccessTokenLifetime = "1h30m" }, nil},
		{"lifetime 12h", func(c *Config) { c.AccessTokenLifetime = "12h" }, nil},
		{"lifetime above 12h", func(c *Config) { c.AccessTokenLifetime = "43201s" }, []string{"access-token-lifetime"}},
		{"lifetime zero", func(c *Config) { c.AccessTokenLifetime = "0s" }, []string{"access-token-lifetime"}},
		{"lifetime negative", func(c *Config) { c.AccessTokenLifetime = "-5" }, []string{"access-token-lifetime"}},
		{"lifetime fraction", func(c *Config) { c.AccessTokenLifetime = "1.5s" }, []string{"access-token-lifetime"}},
		{"lifetime words", func(c *Config) { c.AccessTokenLifetime = "one hour" }, []string{"access-token-lifetime"}},
		{"lifetime huge", func(c *Config) { c.AccessTokenLifetime = "99999999999999999" }, []string{"access-token-lifetime"}},

		{"scope empty entry", func(c *Config) { c.AccessTokenScopes = []string{""} }, []string{"access-token-scopes"}},
		{"scope with space", func(c *Config) { c.AccessTokenScopes = []string{"a b"} }, []string{"access-token-scopes"}},
		{"scope duplicate", func(c *Config) { c.AccessTokenScopes = []string{cloudPlatform, cloudPlatform} }, []string{"access-token-scopes"}},

		{"subject", func(c *Config) {
			c.ServiceAccount = testSA
			c.AccessTokenSubject = testUser
		}, nil},
		{"subject without service account", func(c *Config) { c.AccessTokenSubject = testUser }, []string{"access-token-subject"}},
		{"subject not email", func(c *Config) {
			c.ServiceAccount = testSA
			c.AccessTokenSubject = "admin"
		}, []string{"access-token-subject"}},
		{"subject with id token", func(c *Config) {
			c.ServiceAccount = testSA
			c.TokenFormat = TokenFormatIDToken
			c.IDTokenAudience = "a"
			c.AccessTokenSubject = testUser
		}, []string{"access-token-subject"}},
		{"subject above 1h", func(c *Config) {
			c.ServiceAccount = testSA
			c.AccessTokenSubject = testUser
			c.AccessTokenLifetime = "2h"
		}, []string{"access-token-lifetime"}},

		{"delegates without service account", func(c *Config) { c.Delegates = []string{testSA} }, []string{"delegates"}},
		{"delegate not email", func(c *Config) {
			c.ServiceAccount = testSA
			c.Delegates = []string{"x"}
		}, []string{"delegates"}},

		{"boundary needs no file", func(c *Config) { c.AccessBoundary = boundary }, []string{"access-boundary"}},
		{"boundary without file", func(c *Config) { noFile(c); c.AccessBoundary = boundary }, nil},
		{"boundary malformed", func(c *Config) { noFile(c); c.AccessBoundary = "bucket=B:role=x" }, []string{"access-boundary"}},
		{"boundary with id token", func(c *Config) {
			noFile(c)
			c.ServiceAccount = testSA
			c.TokenFormat = TokenFormatIDToken
			c.IDTokenAudience = "a"
			c.AccessBoundary = boundary
		}, []string{"access-boundary"}},
		{"boundary with none", func(c *Config) { noFile(c); c.TokenFormat = TokenFormatNone; c.AccessBoundary = boundary }, []string{"access-boundary"}},
		{"boundary with subject", func(c *Config) {
			noFile(c)
			c.ServiceAccount = testSA
			c.AccessTokenSubject = testUser
			c.AccessBoundary = boundary
		}, []string{"access-boundary"}},

		{"project id uppercase", func(c *Config) { c.ProjectID = "My-Project" }, []string{"project-id"}},
		{"project id short", func(c *Config) { c.ProjectID = "abc" }, []string{"project-id"}},
		{"project id newline", func(c *Config) { c.ProjectID = "my-project\nX=1" }, []string{"project-id"}},

		{"universe bad", func(c *Config) { c.Universe = "https://googleapis.com" }, []string{"universe"}},
		{"universe single label", func(c *Config) { c.Universe = "localhost" }, []string{"universe"}},

		{"sts endpoint http", func(c *Config) { c.STSEndpoint = "http://sts.example.com" }, []string{"sts-endpoint"}},
		{"sts endpoint query", func(c *Config) { c.STSEndpoint = "https://sts.example.com?x=1" }, []string{"sts-endpoint"}},
		{"sts endpoint with /v1", func(c *Config) { c.STSEndpoint = "https://sts.googleapis.com/v1" }, []string{"sts-endpoint"}},
		{"sts endpoint userinfo", func(c *Config) { c.STSEndpoint = "https://u:p@sts.example.com" }, []string{"sts-endpoint"}},
		{"iamcredentials endpoint ftp", func(c *Config) { c.IAMCredentialsEndpoint = "ftp://x" }, []string{"iamcredentials-endpoint"}},
		{"oauth2 endpoint with /token", func(c *Config) { c.OAuth2Endpoint = "https://oauth2.googleapis.com/token" }, []string{"oauth2-endpoint"}},

		{"retry negative", func(c *Config) { c.RetryMaxAttempts = -1 }, []string{"retry-max-attempts"}},

		{"every problem at once", func(c *Config) {
			c.WorkloadIdentityProvider = "x"
			c.ServiceAccount = "y"
			c.AccessTokenLifetime = "z"
			c.Universe = "?"
		}, []string{"workload-identity-provider", "service-account", "access-token-lifetime", "universe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.inputs == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("Validate() = %v, want ErrInvalidInput", err)
			}
			for _, in := range tt.inputs {
				if !strings.Contains(err.Error(), in+":") {
					t.Errorf("Validate() = %v, want it to name %s", err, in)
				}
			}
			if strings.Count(err.Error(), "\n")+1 < len(tt.inputs) {
				t.Errorf("Validate() reported fewer problems than %d:\n%v", len(tt.inputs), err)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider string
		want     string
	}{
		{"//iam.googleapis.com/" + testProvider, "drop the //iam.googleapis.com/ or https:// prefix"},
		{"projects/my-project/locations/global/workloadIdentityPools/github/providers/octo-repo", "use the project number"},
		{"projects/1/locations/us/workloadIdentityPools/github/providers/octo-repo", "always global"},
		{"projects/1/locations/global/workloadIdentityPools/GitHub/providers/octo-repo", "4–32 lowercase letters"},
	}
	for _, tt := range tests {
		err := ValidateWorkloadIdentityProvider(tt.provider)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateWorkloadIdentityProvider(%q) = %v, want it to say %q", tt.provider, err, tt.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := validConfig()
	r, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"audience":       DefaultAudience(c.WorkloadIdentityProvider),
		"sts audience":   stsAudience(c.WorkloadIdentityProvider),
		"token url":      c.stsTokenURL(),
		"iamcredentials": c.iamCredentialsEndpoint(),
		"oauth2":         c.oauth2TokenURL(),
		"format":         string(c.tokenFormat()),
		"lifetime":       r.lifetime.String(),
		"scopes":         c.scopes(),
		"file":           c.createCredentialsFile(),
		"export":         c.exportEnvironmentVariables(),
	}
	want := map[string]any{
		"audience":       testAudience,
		"sts audience":   testSTSAud,
		"token url":      "https://sts.googleapis.com/v1/token",
		"iamcredentials": "https://iamcredentials.googleapis.com",
		"oauth2":         "https://oauth2.googleapis.com/token",
		"format":         "access_token",
		"lifetime":       "1h0m0s",
		"scopes":         []string{cloudPlatform},
		"file":           true,
		"export":         true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}

	// Another universe moves the hosts, not the resource names.
	c.Universe = "s3nsapis.fr"
	c.ServiceAccount = testSA
	if got, want := c.stsTokenURL(), "https://sts.s3nsapis.fr/v1/token"; got != want {
		t.Errorf("sts token URL = %s, want %s", got, want)
	}
	if got, want := c.impersonationURL(), "https://iamcredentials.s3nsapis.fr/v1/projects/-/serviceAccounts/"+testSA+":generateAccessToken"; got != want {
		t.Errorf("impersonation URL = %s, want %s", got, want)
	}
	if got := DefaultAudience(c.WorkloadIdentityProvider); got != testAudience {
		t.Errorf("DefaultAudience = %s, want %s in every universe", got, testAudience)
	}
	// Overrides are base URLs; a trailing slash does not double up.
	c.STSEndpoint = "https://sts.example.com/proxy/"
	if got, want := c.stsTokenURL(), "https://sts.example.com/proxy/v1/token"; got != want {
		t.Errorf("sts token URL = %s, want %s", got, want)
	}
}

func TestProjectIDFromServiceAccount(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		testSA: testProject,
		"x@my-project-123.iam.gserviceaccount.com":       "my-project-123",
		"123-compute@developer.gserviceaccount.com":      "",
		"my-project@appspot.gserviceaccount.com":         "",
		"x@p.iam.gserviceaccount.com":                    "",
		"x@evil.com.iam.gserviceaccount.com.example.org": "",
		"no-at-sign": "",
		"":           "",
	}
	for in, want := range tests {
		if got := ProjectIDFromServiceAccount(in); got != want {
			t.Errorf("ProjectIDFromServiceAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"3600s", time.Hour, true},
		{"3600", time.Hour, true},
		{" 90m ", 90 * time.Minute, true},
		{"12h", 12 * time.Hour, true},
		{"0", 0, false},
		{"1ms", 0, false},
		{"-1h", 0, false},
		{"1e3", 0, false},
		{"s", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseLifetime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Fatalf("New(Config{}) = %v, want ErrInvalidInput", err)
	}
}

func TestTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		edit func(*Config)
		want string
	}{
		{func(*Config) {}, testProvider},
		{func(c *Config) { c.ServiceAccount = testSA }, testProvider + " as " + testSA},
	}
	for _, tt := range tests {
		c := validConfig()
		tt.edit(&c)
		p, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		var _ exchange.Targeter = p
		if got := p.Target(); got != tt.want {
			t.Errorf("Target() = %q, want %q", got, tt.want)
		}
	}
}

// TestResolveSTSOverride: sts-endpoint is parsed once, into the token URL
// the downscope exchange is redirected to.
func TestResolveSTSOverride(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		want     string
	}{
		{"", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/token"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/token"},
		{"https://sts.example.com/google/", "https://sts.example.com/google/v1/token"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			t.Parallel()
			c := Config{WorkloadIdentityProvider: testProvider, STSEndpoint: tt.endpoint}
			r, err := c.resolve()
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r.stsOverride != nil {
				got = r.stsOverride.String()
			}
			if got != tt.want {
				t.Errorf("stsOverride = %q, want %q", got, tt.want)
			}
			if got != "" && got != c.stsTokenURL() {
				t.Errorf("stsOverride %q and stsTokenURL %q disagree", got, c.stsTokenURL())
			}
		})
	}
}
