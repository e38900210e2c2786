package github

import (
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// DefaultIssuer returns the OIDC issuer of the GitHub deployment at
// serverURL (GITHUB_SERVER_URL), as [githubfacts.ServerIssuer] maps it; ""
// means github.com.
//
// A non-empty enterpriseSlug is appended as "/<slug>": the GHEC issuer of
// an enterprise that enabled include_enterprise_slug, or the GHE.com
// enterprise issuer. The slug may hold only letters, digits and hyphens, so
// it cannot change the issuer's path; anything else is an error wrapping
// [exchange.ErrInvalidInput]. serverURL must be a bare https origin (plain
// http only on a loopback host, for tests); the result always passes
// [exchange.ValidateIssuer].
func DefaultIssuer(serverURL, enterpriseSlug string) (string, error) {
	if enterpriseSlug != "" && !githubfacts.ValidSlug(enterpriseSlug) {
		return "", exchange.InputError("enterprise slug", "%q may contain only letters, digits and hyphens (at most %d)",
			enterpriseSlug, githubfacts.MaxSlugLength)
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
		return githubfacts.DotComIssuer, nil
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
	if !githubfacts.ValidHostname(hostname) {
		return "", exchange.InputError("server URL", "%q has an invalid host name", serverURL)
	}
	host := hostname
	if strings.Contains(hostname, ":") {
		host = "[" + hostname + "]"
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	issuer, ok := githubfacts.ServerIssuer(u.Scheme+"://"+host, hostname)
	if !ok {
		return "", exchange.InputError("server URL", "%q is not a GHE.com tenant (X.ghe.com)", serverURL)
	}
	return issuer, nil
}
