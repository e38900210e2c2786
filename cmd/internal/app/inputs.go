package app

import (
	"log/slog"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github"
	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers"
)

// common holds the settings every provider shares.
type common struct {
	provider     providers.Type
	audience     string
	issuer       exchange.Issuer
	slug         string
	expectations exchange.Expectations
	auditLog     string
	tokenFile    string
	timeout      time.Duration
	logLevel     slog.Level
	// proxy is http-proxy and no-proxy, completed by resolveProxy.
	proxy httpclient.Proxy
}

// commonInputs declares the settings every provider shares, once, as the
// providers declare theirs; see [input.Input].
func commonInputs() []input.Input[common] {
	return []input.Input[common]{
		{Spec: input.Spec{Name: "provider", Default: string(providers.AWS),
			Doc: "credential provider: aws, gcp or broker (any RFC 8693 token exchange)"},
			Set: func(c *common, v string) (err error) { c.provider, err = providers.ParseType(v); return err }},
		{Spec: input.Spec{Name: "audience", Flag: "audience",
			Doc: "audience requested from the CI platform and required in the token; default: the provider's (required for broker)"},
			Set: input.ToString(func(c *common) *string { return &c.audience })},
		{Spec: input.Spec{Name: "oidc-issuer", Flag: "oidc-issuer",
			Doc: "exact issuer the token must come from; default derived from GITHUB_SERVER_URL"},
			Set: func(c *common, v string) (err error) { c.issuer, err = exchange.ParseIssuer(v); return err }},
		{Spec: input.Spec{Name: "oidc-enterprise-slug", Flag: "oidc-enterprise-slug",
			Doc: "enterprise slug of a unique-issuer enterprise (GHEC or GHE.com), appended to the default issuer"},
			Set: input.ToString(func(c *common) *string { return &c.slug })},
		{Spec: input.Spec{Name: "expect-claims", Flag: "expect-claim", Kind: input.Lines,
			Doc: "claim=pattern the token must match before it is sent anywhere"},
			Set: func(c *common, v string) (err error) { c.expectations, err = exchange.ParseExpectations(v); return err }},
		{Spec: input.Spec{Name: shell.TokenFileSetting, Flag: "token-file",
			Doc: "read the OIDC token from this file (re-read on each use), or - for standard input (CLI only), instead of asking the CI platform; verified like any other"},
			Set: input.ToString(func(c *common) *string { return &c.tokenFile })},
		{Spec: input.Spec{Name: "audit-log", Flag: "audit-log",
			Doc: "also append the audit record (one JSON line) to this file"},
			Set: input.ToString(func(c *common) *string { return &c.auditLog })},
		{Spec: input.Spec{Name: "action-timeout-s", Flag: "timeout", Kind: input.Duration, Default: "0",
			Doc: "time limit of the whole run, in seconds or as a duration like 45s; 0 means the built-in 30 s"},
			Set: func(c *common, v string) (err error) { c.timeout, err = input.ParseDuration(v); return err }},
		{Spec: input.Spec{Name: "http-proxy", Flag: "http-proxy",
			Doc: "proxy for every request (token endpoint, discovery, JWKS, the provider), as http://[user:password@]host:port; default: $HTTPS_PROXY for https requests"},
			Set: setProxy},
		{Spec: input.Spec{Name: "no-proxy", Flag: "no-proxy", Env: []string{"no_proxy", "NO_PROXY"},
			Doc: "comma-separated hosts (and their subdomains), IPs and CIDR ranges reached without the proxy"},
			Set: input.ToString(func(c *common) *string { return &c.proxy.NoProxy })},
		{Spec: input.Spec{Flag: "log-level", Default: "info",
			Doc: "debug, info, warn or error; logs go to stderr"},
			Set: func(c *common, v string) error { return c.logLevel.UnmarshalText([]byte(v)) }},
	}
}

// only keeps the settings of ins named (by [input.Spec.Label]) in names.
func only[C any](ins []input.Input[C], names ...string) []input.Input[C] {
	var out []input.Input[C]
	for _, in := range ins {
		for _, n := range names {
			if in.Label() == n {
				out = append(out, in)
			}
		}
	}
	return out
}

// budget is the run's time limit.
func (c *common) budget() time.Duration {
	if c.timeout == 0 {
		return exchange.DefaultRunBudget
	}
	return c.timeout
}

// resolveIssuer picks the expected issuer: the setting, else the default
// of the GitHub deployment the job runs on.
func (c *common) resolveIssuer(getenv func(string) string) error {
	if c.issuer != (exchange.Issuer{}) {
		return nil
	}
	s, err := github.DefaultIssuer(getenv("GITHUB_SERVER_URL"), c.slug)
	if err != nil {
		return err
	}
	c.issuer, err = exchange.ParseIssuer(s)
	return err
}

// inputEnvName is how the runner passes an input to a container action:
// INPUT_<NAME>, upper-cased, spaces to underscores, hyphens kept.
func inputEnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// actionSource reads the action's inputs; CLI-only settings are not
// offered.
func actionSource(getenv func(string) string) input.Source {
	return func(s *input.Spec) (string, bool, error) {
		if s.Name == "" {
			return "", false, nil
		}
		return getenv(inputEnvName(s.Name)), true, nil
	}
}
