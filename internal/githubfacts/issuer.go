package githubfacts

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
)

// Issuers of GitHub's OIDC tokens (github/docs oidc-endpoints).
const (
	// DotComIssuer is the issuer of github.com tokens.
	DotComIssuer = "https://token.actions.githubusercontent.com"
	// dotComIssuerHost is its host: enterprises that enable
	// include_enterprise_slug get DotComIssuer + "/<slug>".
	dotComIssuerHost = "token.actions.githubusercontent.com"
	// dotComServer is github.com's GITHUB_SERVER_URL host.
	dotComServer = "github.com"
	// gheComSuffix marks GHE.com (data residency) tenants, X.ghe.com; their
	// issuer is https://token.actions.X.ghe.com[/X].
	gheComSuffix       = ".ghe.com"
	gheComIssuerPrefix = "token.actions."
	// GHESTokenPath is the path of a GitHub Enterprise Server's issuer,
	// https://HOST/_services/token.
	GHESTokenPath = "/_services/token"
	// MaxSlugLength bounds an enterprise slug, and any issuer path segment
	// the verifier accepts.
	MaxSlugLength = 100
)

// IssuerKind tells which GitHub deployment an issuer belongs to.
type IssuerKind int

// Issuer kinds. The zero value is NotGitHub, so a failed classification
// never passes for a GitHub issuer.
const (
	NotGitHub      IssuerKind = iota
	DotCom                    // https://token.actions.githubusercontent.com
	EnterpriseSlug            // https://token.actions.githubusercontent.com/<slug>
	GHECom                    // https://token.actions.<x>.ghe.com[/<x>]
	GHES                      // https://<host>/_services/token
)

// ImmutableSubjects reports whether the deployment issues the immutable
// repo:OWNER@OWNER_ID/REPO@REPO_ID subject: github.com and GHE.com do,
// GHES does not (GitHub's rollout excludes it).
func (k IssuerKind) ImmutableSubjects() bool { return k != GHES && k != NotGitHub }

// ValidSlug reports whether s is an enterprise slug: 1 to [MaxSlugLength]
// letters, digits and hyphens. The charset keeps
// "token.actions.githubusercontent.com/../evil" from passing as a slug.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlugLength {
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

// ValidLabel reports whether s is one lower-case DNS label.
func ValidLabel(s string) bool {
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

// ValidHostname reports whether h is an IP literal or lower-case DNS
// labels joined by dots; internationalised names must be in their xn--
// form.
func ValidHostname(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !ValidLabel(l) {
			return false
		}
	}
	return true
}

// gheComTenant returns X of an issuer host token.actions.X.ghe.com.
func gheComTenant(host string) (string, bool) {
	rest, ok := strings.CutPrefix(host, gheComIssuerPrefix)
	if !ok {
		return "", false
	}
	tenant, ok := strings.CutSuffix(rest, gheComSuffix)
	return tenant, ok && ValidLabel(tenant)
}

// ServerIssuer returns the issuer of the GitHub deployment whose web
// origin (GITHUB_SERVER_URL) is origin, with hostname its lower-case host
// name:
//
//	https://github.com  → https://token.actions.githubusercontent.com
//	https://X.ghe.com   → https://token.actions.X.ghe.com
//	https://HOST (GHES) → https://HOST/_services/token
//
// It reports false for ghe.com itself and for an invalid GHE.com tenant.
// The caller has checked that origin is a bare origin.
func ServerIssuer(origin, hostname string) (string, bool) {
	switch {
	case hostname == dotComServer:
		return DotComIssuer, true
	case strings.HasSuffix(hostname, gheComSuffix):
		tenant := strings.TrimSuffix(hostname, gheComSuffix)
		if !ValidLabel(tenant) {
			return "", false
		}
		return "https://" + gheComIssuerPrefix + tenant + gheComSuffix, true
	case hostname == strings.TrimPrefix(gheComSuffix, "."):
		return "", false
	}
	return origin + GHESTokenPath, true
}

// ClassifyHostPath recognises an issuer written without its scheme, the
// way AWS names OIDC providers and condition-key prefixes
// ("token.actions.githubusercontent.com/octo-enterprise"). The host is
// compared case-insensitively, the path exactly. It is the lenient reading
// a linter needs for configurations written by others: a GHES host may
// carry a port, and a GHE.com issuer any slug.
func ClassifyHostPath(hp string) IssuerKind {
	host, path, _ := strings.Cut(hp, "/")
	host = strings.ToLower(host)
	switch {
	case host == dotComIssuerHost && path == "":
		return DotCom
	case host == dotComIssuerHost:
		if ValidSlug(path) {
			return EnterpriseSlug
		}
	case strings.HasPrefix(host, gheComIssuerPrefix) && strings.HasSuffix(host, gheComSuffix):
		if _, ok := gheComTenant(host); ok && (path == "" || ValidSlug(path)) {
			return GHECom
		}
	case "/"+path == GHESTokenPath && ghesHost(host):
		return GHES
	}
	return NotGitHub
}

// ghesHost accepts a lower-case host name with an optional port.
func ghesHost(host string) bool {
	if h, port, ok := strings.Cut(host, ":"); ok {
		if port == "" || strings.ContainsFunc(port, func(r rune) bool { return r < '0' || r > '9' }) {
			return false
		}
		host = h
	}
	return host != "" && !strings.HasPrefix(host, ".") && !strings.HasSuffix(host, ".") &&
		!strings.HasPrefix(host, "-") && !strings.HasSuffix(host, "-") &&
		!strings.ContainsFunc(host, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-') })
}

// ClassifyIssuer is the strict reading of an issuer URL, for writing trust
// that must match the token's iss exactly: a plain https URL, lower-case
// host without a port, no trailing slash, and a path that is empty, an
// enterprise slug, the GHE.com tenant or GHES's /_services/token.
func ClassifyIssuer(issuer string) (IssuerKind, error) {
	const accepted = "expected https://token.actions.githubusercontent.com[/ENTERPRISE-SLUG], " +
		"https://token.actions.SUBDOMAIN.ghe.com[/SUBDOMAIN] or https://HOST/_services/token (GHES)"
	if issuer == "" || strings.ContainsFunc(issuer, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return NotGitHub, fmt.Errorf("%q contains whitespace or control characters", issuer)
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return NotGitHub, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		strings.ContainsAny(issuer, "?#") || u.Opaque != "" || u.RawPath != "" {
		return NotGitHub, fmt.Errorf("%q is not a plain https URL; %s", issuer, accepted)
	}
	if strings.HasSuffix(u.Path, "/") {
		return NotGitHub, fmt.Errorf("%q must not end with a slash: the token's iss never does", issuer)
	}
	host := u.Host
	if u.Port() != "" || !ValidHostname(host) || !strings.Contains(host, ".") {
		return NotGitHub, fmt.Errorf("host %q is not a plain lower-case DNS name; %s", host, accepted)
	}
	path := u.Path
	switch kind := ClassifyHostPath(host + path); {
	case kind == DotCom, kind == EnterpriseSlug, kind == GHES:
		return kind, nil
	case host == dotComIssuerHost:
		return NotGitHub, fmt.Errorf("enterprise slug in %q must be one segment of [A-Za-z0-9-]", issuer)
	}
	if tenant, ok := gheComTenant(host); ok {
		if path == "" || path == "/"+tenant {
			return GHECom, nil
		}
		return NotGitHub, fmt.Errorf("a GHE.com issuer's path is empty or /%s, got %q", tenant, path)
	}
	return NotGitHub, fmt.Errorf("%q is not a GitHub Actions issuer; %s", issuer, accepted)
}

// ConditionKeyPrefix is the prefix of IAM's condition keys for an OIDC
// provider, and the provider's name: the issuer without its scheme, path
// included, so an enterprise slug issuer gives
// "token.actions.githubusercontent.com/<slug>". A condition written for the
// bare host never applies to such a provider.
func ConditionKeyPrefix(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/")
	}
	return u.Host + strings.TrimSuffix(u.Path, "/")
}
