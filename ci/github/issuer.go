package github

import (
	"net"
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Issuers of GitHub's OIDC tokens (github/docs oidc-endpoints).
const (
	// DotComIssuer is the issuer of github.com tokens.
	DotComIssuer = "https://token.actions.githubusercontent.com"
	// dotComServer is github.com's GITHUB_SERVER_URL host.
	dotComServer = "github.com"
	// gheComSuffix marks GHE.com (data residency) tenants, X.ghe.com.
	gheComSuffix = ".ghe.com"
	// maxSlugLength matches exchange.ValidateIssuer's path segments.
	maxSlugLength = 100
)

// DefaultIssuer returns the OIDC issuer of the GitHub deployment at
// serverURL (GITHUB_SERVER_URL):
//
//	"" or https://github.com → https://token.actions.githubusercontent.com
//	https://X.ghe.com        → https://token.actions.X.ghe.com
//	https://HOST (GHES)      → https://HOST/_services/token
//
// A non-empty enterpriseSlug is appended as "/<slug>": the GHEC issuer of
// an enterprise that enabled include_enterprise_slug, or the GHE.com
// enterprise issuer. The slug may hold only letters, digits and hyphens, so
// it cannot change the issuer's path; anything else is an error wrapping
// [exchange.ErrInvalidInput]. serverURL must be a bare https origin (plain
// http only on a loopback host, for tests); the result always passes
// [exchange.ValidateIssuer].
func DefaultIssuer(serverURL, enterpriseSlug string) (string, error) {
	if enterpriseSlug != "" && !validSlug(enterpriseSlug) {
		return "", exchange.InputError("enterprise slug", "%q may contain only letters, digits and hyphens (at most %d)",
			enterpriseSlug, maxSlugLength)
	}
	base, err := issuerBase(serverURL)
	if err != nil {
		return "", err
	}
	if enterpriseSlug != "" {
		base += "/" + enterpriseSlug
	}
	return base, nil
}

func issuerBase(serverURL string) (string, error) {
	if serverURL == "" {
		return DotComIssuer, nil
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", exchange.InputError("server URL", "%q is not a URL", serverURL)
	}
	if err := httpclient.CheckURL(u); err != nil {
		return "", exchange.InputError("server URL", "%q: %v", serverURL, err)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", exchange.InputError("server URL", "%q must be a bare origin such as https://github.com", serverURL)
	}
	hostname := strings.ToLower(u.Hostname())
	if !validHostname(hostname) {
		return "", exchange.InputError("server URL", "%q has an invalid host name", serverURL)
	}
	host := hostname
	if strings.Contains(hostname, ":") {
		host = "[" + hostname + "]"
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	switch {
	case hostname == dotComServer:
		return DotComIssuer, nil
	case strings.HasSuffix(hostname, gheComSuffix):
		tenant := strings.TrimSuffix(hostname, gheComSuffix)
		if !validLabel(tenant) {
			return "", exchange.InputError("server URL", "%q is not a GHE.com tenant (X.ghe.com)", serverURL)
		}
		return "https://token.actions." + tenant + gheComSuffix, nil
	case hostname == strings.TrimPrefix(gheComSuffix, "."):
		return "", exchange.InputError("server URL", "%q is not a GHE.com tenant (X.ghe.com)", serverURL)
	default:
		return u.Scheme + "://" + host + "/_services/token", nil
	}
}

// validSlug checks an enterprise slug: [A-Za-z0-9-]{1,100}.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlugLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validLabel checks one lower-case DNS label.
func validLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validHostname accepts an IP literal or lower-case DNS labels joined by
// dots; internationalised names must be given in their xn-- form.
func validHostname(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !validLabel(l) {
			return false
		}
	}
	return true
}
