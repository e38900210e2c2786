package trust

import (
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// normalHostPath lower-cases the host of a host/path so prefixes compare
// the way AWS does.
func normalHostPath(hp string) string {
	host, path, ok := strings.Cut(hp, "/")
	if !ok {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + "/" + path
}

// classifyIssuerURL recognises an issuer URL (GCP issuerUri, Azure issuer).
// For URLs that are not GitHub issuers it returns a short reason that
// points out near misses, since a trailing slash or http:// makes a trust
// that looks right never match.
func classifyIssuerURL(raw string) (githubfacts.IssuerKind, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return githubfacts.NotGitHub, "not an absolute URL"
	}
	hp := u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	kind := githubfacts.ClassifyHostPath(hp)
	if kind == githubfacts.NotGitHub {
		return kind, "not a GitHub Actions issuer"
	}
	// From here the URL names a GitHub issuer, but only the exact form
	// matches the token's iss.
	switch {
	case u.Scheme != "https":
		return githubfacts.NotGitHub, "GitHub issuers use https://, so this never matches the token's iss"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "#") || strings.HasSuffix(raw, "?"):
		return githubfacts.NotGitHub, "a GitHub issuer has no userinfo, query or fragment, so this never matches the token's iss"
	case strings.HasSuffix(u.Path, "/"):
		return githubfacts.NotGitHub, "GitHub's iss has no trailing slash, so this never matches"
	case u.Host != strings.ToLower(u.Host):
		return githubfacts.NotGitHub, "GitHub's iss is lower-case and matching is exact, so this never matches"
	}
	return kind, ""
}
