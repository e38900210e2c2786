package gcp

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	googlecreds "cloud.google.com/go/auth/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/oidcfake"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

// fakeURLSource is what the GitHub edge describes: the runner's ID-token
// URL with the audience, and its request token. The values are fake.
func fakeURLSource() *exchange.CredentialSource {
	return &exchange.CredentialSource{
		URL:       "https://pipelines.actions.githubusercontent.com/FAKE/idtoken?api-version=2.0&audience=" + "https%3A%2F%2Fiam.googleapis.com%2F" + strings.ReplaceAll(testProvider, "/", "%2F"),
		Headers:   map[string]exchange.Secret{"Authorization": exchange.NewSecret("Bearer FAKE-request-token")},
		JSONField: "value",
	}
}

func TestCredentialsFileGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		edit   func(*Config)
		src    *exchange.CredentialSource
	}{
		{"credfile-impersonation.golden", func(c *Config) {
			c.ServiceAccount = testSA
			c.AccessTokenLifetime = "7200s"
		}, fakeURLSource()},
		{"credfile-direct.golden", func(*Config) {}, fakeURLSource()},
		{"credfile-token-file.golden", func(c *Config) { c.ServiceAccount = testSA }, &exchange.CredentialSource{File: "/var/run/ci/FAKE-token"}},
		{"credfile-universe.golden", func(c *Config) {
			c.ServiceAccount = testSA
			c.Universe = "s3nsapis.fr"
			c.IAMCredentialsEndpoint = "https://iamcredentials.example.internal"
		}, &exchange.CredentialSource{File: "/tmp/FAKE-token.json", JSONField: "token"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.edit(&c)
			got, err := credentialsFileFor(c, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			exchangetest.Golden(t, tt.golden, got.Reveal(), *update)
			var doc map[string]any
			if err := json.Unmarshal([]byte(got.Reveal()), &doc); err != nil {
				t.Fatalf("the file is not JSON: %v", err)
			}
			if got.String() != exchange.Redacted {
				t.Errorf("the file prints as %q", got.String())
			}
		})
	}
}

func TestCredentialsFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Config)
		src   *exchange.CredentialSource
		input bool
		want  string
	}{
		{"no source", func(*Config) {}, nil, true, "create-credentials-file"},
		{"boundary", func(c *Config) {
			c.CreateCredentialsFile = new(false)
			c.AccessBoundary = "bucket=b-1:role=roles/storage.objectViewer"
		}, fakeURLSource(), true, "access-boundary"},
		{"invalid config", func(c *Config) { c.WorkloadIdentityProvider = "" }, fakeURLSource(), true, "workload-identity-provider"},
		{"both url and file", func(*Config) {}, &exchange.CredentialSource{URL: "https://x", File: "/y"}, false, "both"},
		{"neither", func(*Config) {}, &exchange.CredentialSource{}, false, "neither"},
		{"plain http url", func(*Config) {}, &exchange.CredentialSource{URL: "http://runner.example/token"}, false, "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.edit(&c)
			_, err := credentialsFileFor(c, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CredentialsFile() = %v, want an error about %q", err, tt.want)
			}
			if errors.Is(err, exchange.ErrInvalidInput) != tt.input {
				t.Errorf("CredentialsFile() = %v, input error %v, want %v", err, !tt.input, tt.input)
			}
			assertNoSecrets(t, "error", err.Error(), "FAKE-request-token")
		})
	}
}

// TestCredentialsFileRefreshes proves the file does what it is for: Google's
// own client library reads it, fetches a fresh CI token from the URL with
// the request token, exchanges it at STS and impersonates the service
// account for the configured lifetime, with no help from us.
func TestCredentialsFileRefreshes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(c *gcpfake.Config) { c.MaxAccessTokenLifetime = 2 * time.Hour })
	const requestToken = "FAKE-request-token"
	te := oidcfake.NewTokenEndpoint(requestToken, func(aud string) string { return e.issuer.Mint(aud, e.now, nil) })
	t.Cleanup(te.Close)

	cfg := e.config()
	cfg.AccessTokenLifetime = "7200s"
	src := &exchange.CredentialSource{
		URL:       te.URL + "&audience=" + url.QueryEscape(testAudience),
		Headers:   map[string]exchange.Secret{"Authorization": exchange.NewSecret("Bearer " + requestToken)},
		JSONField: "value",
	}
	content, err := credentialsFileFor(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := googlecreds.NewCredentialsFromJSON(googlecreds.ExternalAccount, []byte(content.Reveal()), &googlecreds.DetectOptions{
		Scopes: []string{cloudPlatform},
		Client: httpclient.New(httpclient.Options{}),
		Logger: discardLogger,
	})
	if err != nil {
		t.Fatalf("the library does not accept the file: %v", err)
	}
	tok, err := creds.Token(t.Context())
	if err != nil {
		t.Fatalf("the library could not get a token from the file: %v", err)
	}
	if diff := cmp.Diff([]string{"sts", "generateAccessToken"}, e.endpoints()); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	reqs := e.fake.Requests()
	if tok.Value != reqs[1].Issued {
		t.Errorf("the library's token is not the impersonated one")
	}
	if got := reqs[1].JSON["lifetime"]; got != "7200s" {
		t.Errorf("the file's lifetime did not reach generateAccessToken: %v", got)
	}
	if te.Hits() != 1 {
		t.Errorf("the CI token endpoint was called %d times, want 1", te.Hits())
	}
}
