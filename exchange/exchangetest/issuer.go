package exchangetest

import (
	"context"

	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/oidcfake"
)

// Issuer is an OIDC issuer on 127.0.0.1 that signs GitHub-shaped tokens;
// see [oidcfake.Issuer].
type Issuer = oidcfake.Issuer

// NewIssuer starts an issuer; pathPrefix may be "" or like
// "/_services/token". Call Close when done.
func NewIssuer(pathPrefix string) (*Issuer, error) { return oidcfake.NewIssuer(pathPrefix) }

// StartIssuer starts an issuer that is closed when the test ends.
func StartIssuer(t testing.TB, pathPrefix string) *Issuer {
	t.Helper()
	is, err := oidcfake.NewIssuer(pathPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	return is
}

// GitHubClaims returns the claims of a push to main in octo-org/octo-repo;
// see [oidcfake.GitHubClaims].
func GitHubClaims(issuer, audience string, now time.Time, overrides map[string]any) map[string]any {
	return oidcfake.GitHubClaims(issuer, audience, now, overrides)
}

// Identity is an identity with the given claims whose SubjectToken always
// returns raw, for provider tests that call Exchange without a pipeline.
func Identity(claims map[string]any, raw string) *exchange.Identity {
	id := exchange.IdentityFromClaims(claims)
	id.Source = staticToken(raw)
	return id
}

// staticToken never refreshes: a test's token does not expire mid-test.
type staticToken string

func (s staticToken) SubjectToken(context.Context) (exchange.Secret, error) {
	return exchange.NewSecret(string(s)), nil
}
