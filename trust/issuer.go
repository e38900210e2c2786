package trust

import (
	"net/url"
	"regexp"
	"strings"
)

// issuerKind tells which GitHub deployment an issuer belongs to.
type issuerKind int

const (
	issuerNotGitHub  issuerKind = iota
	issuerShared                // https://token.actions.githubusercontent.com
	issuerEnterprise            // https://token.actions.githubusercontent.com/<slug>
	issuerGHECom                // https://token.actions.<x>.ghe.com[/<x>]
	issuerGHES                  // https://<host>/_services/token
)

const sharedIssuerHost = "token.actions.githubusercontent.com"

var (
	// slugRE is the enterprise slug charset: restricting it keeps
	// "token.actions.githubusercontent.com/../evil" from passing as a slug
	// (github-actions-runtime.md §1.1, jsr PR #1489).
	slugRE   = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	gheComRE = regexp.MustCompile(`^token\.actions\.([a-z0-9-]+)\.ghe\.com$`)
	hostRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?$`)
)

// classifyHostPath recognises an issuer written without its scheme, the
// way AWS names OIDC providers and condition-key prefixes
// ("token.actions.githubusercontent.com/octo-enterprise"). The host is
// compared case-insensitively, the path exactly.
func classifyHostPath(hp string) issuerKind {
	host, path, _ := strings.Cut(hp, "/")
	host = strings.ToLower(host)
	switch {
	case host == sharedIssuerHost && path == "":
		return issuerShared
	case host == sharedIssuerHost:
		if slugRE.MatchString(path) {
			return issuerEnterprise
		}
	case gheComRE.MatchString(host):
		if path == "" || slugRE.MatchString(path) {
			return issuerGHECom
		}
	case path == "_services/token" && hostRE.MatchString(host):
		return issuerGHES
	}
	return issuerNotGitHub
}

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
func classifyIssuerURL(raw string) (issuerKind, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return issuerNotGitHub, "not an absolute URL"
	}
	hp := u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	kind := classifyHostPath(hp)
	if kind == issuerNotGitHub {
		return kind, "not a GitHub Actions issuer"
	}
	// From here the URL names a GitHub issuer, but only the exact form
	// matches the token's iss.
	switch {
	case u.Scheme != "https":
		return issuerNotGitHub, "GitHub issuers use https://, so this never matches the token's iss"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "#") || strings.HasSuffix(raw, "?"):
		return issuerNotGitHub, "a GitHub issuer has no userinfo, query or fragment, so this never matches the token's iss"
	case strings.HasSuffix(u.Path, "/"):
		return issuerNotGitHub, "GitHub's iss has no trailing slash, so this never matches"
	case u.Host != strings.ToLower(u.Host):
		return issuerNotGitHub, "GitHub's iss is lower-case and matching is exact, so this never matches"
	}
	return kind, ""
}
