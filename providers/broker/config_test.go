package broker

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func validConfig() Config {
	return Config{URL: "https://broker.example/token"}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	secret := exchange.NewSecret("fake-secret")
	tests := []struct {
		name  string
		edit  func(*Config)
		input string // "" means valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"everything", func(c *Config) {
			c.Audiences = []string{"deploy-api", "urn:pulumi:org:acme"}
			c.Resources = []string{"https://api.example.com/x?y=1", "urn:example:resource"}
			c.Scope = "read write:all"
			c.RequestedTokenType = TokenTypeJWT
			c.SubjectTokenType = TokenTypeIDToken
			c.RequestFormat = FormatJSONCamel
			c.ClientID, c.ClientSecret, c.ClientAuth = "client", secret, ClientAuthPost
			c.ExtraParams = "connector_id=github\nprovider_name="
			c.ExportEnv = "PULUMI_ACCESS_TOKEN"
			c.RetryMaxAttempts = 5
		}, ""},

		{"url and discovery", func(c *Config) { c.Discovery = "https://idp.example" }, "broker-url"},
		{"neither url nor discovery", func(c *Config) { c.URL = "" }, "broker-url"},
		{"discovery only", func(c *Config) { c.URL, c.Discovery = "", "https://idp.example/realms/ci" }, ""},
		{"url http elsewhere", func(c *Config) { c.URL = "http://broker.example/token" }, "broker-url"},
		{"url http loopback", func(c *Config) { c.URL = "http://127.0.0.1:8080/token" }, ""},
		{"url http localhost", func(c *Config) { c.URL = "http://localhost:8080/token" }, ""},
		{"url with query", func(c *Config) { c.URL = "https://broker.example/token?tenant=a" }, ""},
		{"url with fragment", func(c *Config) { c.URL = "https://broker.example/token#x" }, "broker-url"},
		{"url with userinfo", func(c *Config) { c.URL = "https://u:p@broker.example/token" }, "broker-url"},
		{"url relative", func(c *Config) { c.URL = "/token" }, "broker-url"},
		{"url ftp", func(c *Config) { c.URL = "ftp://broker.example/token" }, "broker-url"},
		{"discovery http elsewhere", func(c *Config) { c.URL, c.Discovery = "", "http://idp.example" }, "broker-discovery"},
		{"discovery with query", func(c *Config) { c.URL, c.Discovery = "", "https://idp.example/?a=b" }, "broker-discovery"},
		{"discovery with fragment", func(c *Config) { c.URL, c.Discovery = "", "https://idp.example/#a" }, "broker-discovery"},

		{"empty audience", func(c *Config) { c.Audiences = []string{"a", " "} }, "broker-audience"},
		{"audience with newline", func(c *Config) { c.Audiences = []string{"a\nb"} }, "broker-audience"},
		{"relative resource", func(c *Config) { c.Resources = []string{"api.example.com"} }, "broker-resource"},
		{"resource with fragment", func(c *Config) { c.Resources = []string{"https://api.example.com/#x"} }, "broker-resource"},
		{"resource with space", func(c *Config) { c.Resources = []string{"https://api.example.com/a b"} }, "broker-resource"},

		{"scope multiline", func(c *Config) { c.Scope = "a\nb" }, ""},
		{"scope with quote", func(c *Config) { c.Scope = `a "b"` }, "broker-scope"},
		{"scope with backslash", func(c *Config) { c.Scope = `a\b` }, "broker-scope"},
		{"scope non-ASCII", func(c *Config) { c.Scope = "lecture.é" }, "broker-scope"},

		{"subject jwt", func(c *Config) { c.SubjectTokenType = TokenTypeJWT }, ""},
		{"subject access_token", func(c *Config) { c.SubjectTokenType = TokenTypeAccessToken }, "subject-token-type"},
		{"subject garbage", func(c *Config) { c.SubjectTokenType = "jwt" }, "subject-token-type"},
		{"requested vendor urn", func(c *Config) { c.RequestedTokenType = "urn:pulumi:token-type:access_token:team" }, ""},
		{"requested bare word", func(c *Config) { c.RequestedTokenType = "access_token" }, "requested-token-type"},
		{"requested with space", func(c *Config) { c.RequestedTokenType = "urn:x: y" }, "requested-token-type"},
		{"requested refresh token", func(c *Config) { c.RequestedTokenType = TokenTypeRefreshToken }, "requested-token-type"},

		{"format json", func(c *Config) { c.RequestFormat = FormatJSON }, ""},
		{"format unknown", func(c *Config) { c.RequestFormat = "xml" }, "broker-request-format"},
		{"format camel spelled otherwise", func(c *Config) { c.RequestFormat = "jsonCamel" }, "broker-request-format"},

		{"client id alone", func(c *Config) { c.ClientID = "public" }, ""},
		{"secret without id", func(c *Config) { c.ClientSecret = secret }, "broker-client-secret"},
		{"secret with newline", func(c *Config) { c.ClientID, c.ClientSecret = "c", exchange.NewSecret("s\n") }, "broker-client-secret"},
		{"basic default with secret", func(c *Config) { c.ClientID, c.ClientSecret = "c", secret }, ""},
		{"basic without secret", func(c *Config) { c.ClientID, c.ClientAuth = "c", ClientAuthBasic }, "broker-client-auth"},
		{"post without secret", func(c *Config) { c.ClientID, c.ClientAuth = "c", ClientAuthPost }, "broker-client-auth"},
		{"none with secret", func(c *Config) { c.ClientID, c.ClientSecret, c.ClientAuth = "c", secret, ClientAuthNone }, "broker-client-auth"},
		{"none with id", func(c *Config) { c.ClientID, c.ClientAuth = "c", ClientAuthNone }, ""},
		{"auth unknown", func(c *Config) { c.ClientID, c.ClientSecret, c.ClientAuth = "c", secret, "private_key_jwt" }, "broker-client-auth"},
		{"client id with newline", func(c *Config) { c.ClientID = "c\n" }, "broker-client-id"},

		{"extra reserved", func(c *Config) { c.ExtraParams = "audience=x" }, "broker-extra-params"},
		{"extra reserved camel", func(c *Config) { c.ExtraParams = "subjectToken=x" }, "broker-extra-params"},
		{"extra bad key", func(c *Config) { c.ExtraParams = "a b=x" }, "broker-extra-params"},
		{"extra control character in a value", func(c *Config) { c.ExtraParams = "k=a\x7fb" }, "broker-extra-params"},
		{"extra not key=value", func(c *Config) { c.ExtraParams = "k=v\nconnector_id" }, "broker-extra-params"},
		{"extra too many", func(c *Config) {
			for i := range MaxExtraParams + 1 {
				c.ExtraParams += fmt.Sprintf("k%d=v\n", i)
			}
		}, "broker-extra-params"},

		{"export env lower case", func(c *Config) { c.ExportEnv = "my_token" }, ""},
		{"export env dash", func(c *Config) { c.ExportEnv = "MY-TOKEN" }, "export-env"},
		{"export env digit first", func(c *Config) { c.ExportEnv = "1TOKEN" }, "export-env"},
		{"export env newline", func(c *Config) { c.ExportEnv = "A\nB=c" }, "export-env"},
		{"export env runner's", func(c *Config) { c.ExportEnv = "GITHUB_TOKEN" }, "export-env"},
		{"export env actions'", func(c *Config) { c.ExportEnv = "actions_id_token_request_token" }, "export-env"},
		{"export env NODE_OPTIONS", func(c *Config) { c.ExportEnv = "NODE_OPTIONS" }, "export-env"},
		{"export env PATH", func(c *Config) { c.ExportEnv = "PATH" }, "export-env"},

		{"retries negative", func(c *Config) { c.RetryMaxAttempts = -1 }, "retry-max-attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.input == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("Validate() = %v, want ErrInvalidInput", err)
			}
			if !strings.HasPrefix(err.Error(), tt.input+":") {
				t.Errorf("Validate() = %q, want it to name %s", err, tt.input)
			}
			if strings.Contains(err.Error(), "fake-secret") {
				t.Errorf("Validate() quotes the secret: %v", err)
			}
		})
	}
}

// TestValidateJoinsEveryError: one run reports every problem.
func TestValidateJoinsEveryError(t *testing.T) {
	t.Parallel()
	c := Config{
		Resources:     []string{"relative"},
		RequestFormat: "xml",
		ClientSecret:  exchange.NewSecret("fake-secret"),
		ExportEnv:     "1X",
	}
	err := c.Validate()
	var got []string
	for _, line := range strings.Split(err.Error(), "\n") {
		got = append(got, strings.SplitN(line, ":", 2)[0])
	}
	want := []string{"broker-url", "broker-resource", "broker-request-format", "broker-client-secret", "export-env"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs named (-want +got):\n%s\n%v", diff, err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p := newProvider(t, validConfig())
	got := struct {
		Format                  RequestFormat
		Auth                    ClientAuth
		Requested, Subject, Env string
		Attempts                int
	}{p.format, p.auth, p.requestedType, p.subjectType, p.exportEnv, p.retrier.Policy.MaxAttempts}
	want := got
	want.Format, want.Auth, want.Requested, want.Subject, want.Env, want.Attempts = FormatForm, ClientAuthNone, TokenTypeAccessToken, TokenTypeJWT, DefaultExportEnv, DefaultRetryMaxAttempts
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	c := validConfig()
	c.ClientID, c.ClientSecret = "c", exchange.NewSecret("fake-secret")
	if p := newProvider(t, c); p.auth != ClientAuthBasic {
		t.Errorf("auth with a secret = %q, want %q", p.auth, ClientAuthBasic)
	}
}

func TestParseExtraParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    []Param
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"one", "connector_id=github-actions", []Param{{"connector_id", "github-actions"}}, false},
		{"trimmed, comments, CRLF, blank lines", "# Dex\r\n  connector_id = github \r\n\n\tprovider_name=gh\n", []Param{{"connector_id", "github"}, {"provider_name", "gh"}}, false},
		{"value with =", "filter=a=b", []Param{{"filter", "a=b"}}, false},
		{"empty value", "project_key=", []Param{{"project_key", ""}}, false},
		{"repeated", "tag=a\ntag=b", []Param{{"tag", "a"}, {"tag", "b"}}, false},
		{"dotted and colon keys", "x.y=1\nurn:k=2", []Param{{"x.y", "1"}, {"urn:k", "2"}}, false},
		{"no =", "connector_id", nil, true},
		{"empty key", "=x", nil, true},
		{"key with space", "a b=c", nil, true},
		{"reserved grant_type", "grant_type=x", nil, true},
		{"reserved subject_token", "subject_token=x", nil, true},
		{"reserved camel", "requestedTokenType=x", nil, true},
		{"reserved other case", "Client_Secret=x", nil, true},
		{"reserved scope", "scope=x", nil, true},
		{"reserved resource", "resource=x", nil, true},
		{"reserved actor", "actor_token=x", nil, true},
		{"control character", "k=a\x00b", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExtraParams(tt.text)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseExtraParams() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, exchange.ErrInvalidInput) || !strings.HasPrefix(err.Error(), "broker-extra-params: line ") {
					t.Errorf("error %q, want an input error naming the line", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseExtraParams() (-want +got):\n%s", diff)
			}
		})
	}
	many := strings.Repeat("k=v\n", MaxExtraParams+1)
	if _, err := ParseExtraParams(many); !errors.Is(err, exchange.ErrInvalidInput) {
		t.Errorf("%d params: %v, want ErrInvalidInput", MaxExtraParams+1, err)
	}
}
