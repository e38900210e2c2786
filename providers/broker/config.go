package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// RequestFormat is how the exchange request's parameters are encoded
// (broker-request-format).
type RequestFormat string

// Request formats. Whatever the format, the parameters, their order and
// their values are the same; only the encoding and, for FormatJSONCamel,
// the names of the RFC's own parameters differ.
const (
	// FormatForm is RFC 8693 itself: an application/x-www-form-urlencoded
	// body, repeated parameters for several audiences or resources. The
	// default, and what Keycloak, Dex, Okta-style IdPs and GCP STS accept.
	FormatForm RequestFormat = "form"
	// FormatJSON is an application/json object with the RFC's snake_case
	// names, as Pulumi Cloud, Octopus Deploy and JFrog take it. A
	// parameter given once is a JSON string, one given several times
	// (audience, resource, a repeated extra parameter) an array of strings:
	// a JSON object cannot repeat a key, and every such endpoint takes a
	// single audience as a plain string.
	FormatJSON RequestFormat = "json"
	// FormatJSONCamel is FormatJSON with camelCase names for the RFC's
	// parameters (grantType, subjectToken, subjectTokenType,
	// requestedTokenType, actorToken…, clientId, clientSecret), as
	// google-github-actions/auth sends them to GCP STS. audience, resource
	// and scope are single words and keep their names; extra parameters
	// are sent exactly as configured.
	FormatJSONCamel RequestFormat = "json-camel"
)

// RequestFormats lists the valid request formats.
func RequestFormats() []RequestFormat {
	return []RequestFormat{FormatForm, FormatJSON, FormatJSONCamel}
}

// ClientAuth is how the client authenticates to the token endpoint
// (broker-client-auth), by the names of RFC 7591's
// token_endpoint_auth_method.
type ClientAuth string

// Client authentication methods.
const (
	// ClientAuthBasic sends the client id and secret as HTTP Basic
	// credentials, each form-urlencoded first (RFC 6749 §2.3.1). The
	// default when a secret is set: it keeps the secret out of the body.
	ClientAuthBasic ClientAuth = "client_secret_basic"
	// ClientAuthPost sends client_id and client_secret in the body.
	ClientAuthPost ClientAuth = "client_secret_post"
	// ClientAuthNone sends no secret; a client id alone, if set, goes in
	// the body as client_id (a public client). The default without a
	// secret.
	ClientAuthNone ClientAuth = "none"
)

// ClientAuths lists the valid client authentication methods.
func ClientAuths() []ClientAuth { return []ClientAuth{ClientAuthBasic, ClientAuthPost, ClientAuthNone} }

// Token types registered by RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeSAML1        = "urn:ietf:params:oauth:token-type:saml1"
	TokenTypeSAML2        = "urn:ietf:params:oauth:token-type:saml2"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// GrantTypeTokenExchange is the grant_type of every request.
const GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// DefaultExportEnv is the environment variable that carries the issued
// token to later steps when export-env is not set.
const DefaultExportEnv = "BROKER_TOKEN"

// Names of the step outputs.
const (
	// OutputToken is the issued token (masked).
	OutputToken = "token"
	// OutputTokenType is the answer's token_type, e.g. Bearer or N_A.
	OutputTokenType = "token-type"
	// OutputIssuedTokenType is the answer's issued_token_type.
	OutputIssuedTokenType = "issued-token-type"
	// OutputExpiresAt is the token's expiry in RFC 3339 (UTC) when the
	// broker sent expires_in, and "" when it did not: the output is always
	// set, so a workflow can test it without knowing the broker.
	OutputExpiresAt = "expires-at"
)

// Defaults and limits.
const (
	// DefaultRetryMaxAttempts counts the first call.
	DefaultRetryMaxAttempts = httpclient.DefaultMaxAttempts
	// MaxExtraParams bounds broker-extra-params; real brokers take one or
	// two (Dex's connector_id, JFrog's provider_name).
	MaxExtraParams = 32
	// maxParamValue bounds one parameter value.
	maxParamValue = 4096
	// maxTokenTypeLength bounds a token type URI.
	maxTokenTypeLength = 256
)

// Param is one extra request parameter (broker-extra-params), sent after
// the RFC's own parameters in every format, under its name as given.
type Param struct {
	Key   string
	Value string
}

// Config holds the settings of the broker provider; each field's comment
// names its input. Zero values mean the documented defaults.
type Config struct {
	// URL (broker-url) is the token endpoint: https, or http on a loopback
	// address only. It may carry a query (RFC 6749 §3.2), never a
	// fragment or user information. Exactly one of URL or Discovery.
	URL string
	// Discovery (broker-discovery) is the broker's issuer URL. The token
	// endpoint is read from its RFC 8414 metadata,
	// /.well-known/oauth-authorization-server (inserted before the
	// issuer's path, as RFC 8414 §3.1 says), falling back to OpenID
	// Connect's <issuer>/.well-known/openid-configuration. The document's
	// issuer must equal this value exactly. Fetched once per provider.
	Discovery string
	// Audiences (broker-audience) are sent as audience parameters: logical
	// names of the services the token is for.
	Audiences []string
	// Resources (broker-resource) are sent as resource parameters: absolute
	// URIs without a fragment (RFC 8693 §2.1).
	Resources []string
	// Scope (broker-scope) is the space-delimited scope parameter.
	Scope string
	// RequestedTokenType (requested-token-type) is what to ask for;
	// "" means [TokenTypeAccessToken]. Any RFC 8693 token type, or a
	// vendor's own URI (Pulumi's urn:pulumi:token-type:access_token:organization).
	RequestedTokenType string
	// SubjectTokenType (subject-token-type) describes the CI token:
	// [TokenTypeJWT] (the default) or [TokenTypeIDToken], which Dex,
	// Pulumi and JFrog require.
	SubjectTokenType string
	// RequestFormat (broker-request-format) is the body encoding; ""
	// means [FormatForm].
	RequestFormat RequestFormat
	// ClientID (broker-client-id) identifies the client, for brokers that
	// authenticate clients (Dex, Keycloak).
	ClientID string
	// ClientSecret (broker-client-secret) requires ClientID.
	ClientSecret exchange.Secret
	// ClientAuth (broker-client-auth) is how the secret is sent; ""
	// means [ClientAuthBasic] with a secret and [ClientAuthNone] without.
	ClientAuth ClientAuth
	// ExtraParams (broker-extra-params) are sent after the RFC's
	// parameters, e.g. Dex's connector_id: one key=value a line, as
	// [ParseExtraParams] reads them.
	ExtraParams string
	// ExportEnv (export-env) names the environment variable that carries
	// the token to later steps; "" means [DefaultExportEnv].
	ExportEnv string
	// RetryMaxAttempts (retry-max-attempts) bounds the calls for transient
	// failures (5xx, 408, 429, network errors), the first included; 0
	// means [DefaultRetryMaxAttempts].
	RetryMaxAttempts int
	// DisableRetry (disable-retry) makes exactly one call.
	DisableRetry bool

	// HTTPClient is the hardened client from internal/httpclient; nil
	// means a new one with the default limits. Redirects of the token
	// request are never followed whatever the client says. Infrastructure,
	// not a user setting.
	HTTPClient *http.Client
	// Logger receives debug and retry messages, never a token, a secret
	// or a body; nil discards them. Infrastructure, not a user setting.
	Logger *slog.Logger
}

var (
	envNameRE   = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
	paramKeyRE  = lazyre.New(`^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$`)
	schemeURIRE = lazyre.New(`^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$`)
)

// reservedParams are the parameters this package sends itself, written
// without underscores and in lower case, so both the RFC's snake_case and
// the camelCase spelling of each are refused as extra parameters.
var reservedParams = map[string]string{
	"granttype":           "",
	"subjecttoken":        "",
	"subjecttokentype":    "subject-token-type",
	"requestedtokentype":  "requested-token-type",
	"audience":            "broker-audience",
	"resource":            "broker-resource",
	"scope":               "broker-scope",
	"actortoken":          "",
	"actortokentype":      "",
	"clientid":            "broker-client-id",
	"clientsecret":        "broker-client-secret",
	"clientassertion":     "",
	"clientassertiontype": "",
}

// reservedEnv are variables an export must not replace: the runner's own,
// and those that change how later processes start.
var (
	reservedEnvPrefixes = []string{"GITHUB_", "RUNNER_", "ACTIONS_"}
	reservedEnvNames    = []string{"NODE_OPTIONS", "PATH", "BASH_ENV", "ENV", "LD_PRELOAD", "LD_LIBRARY_PATH"}
)

// Validate checks every user setting without any network call and reports
// every problem at once. Errors wrap [exchange.ErrInvalidInput] and name
// the input to fix.
func (c *Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolved holds what validation parsed, so that nothing parses it again:
// the token endpoint (URL) or the issuer whose metadata names it
// (Discovery), exactly one of them, and the extra parameters.
type resolved struct {
	endpoint, issuer *url.URL
	extraParams      []Param
}

// resolve validates c like [Config.Validate] and returns what it parsed.
func (c *Config) resolve() (resolved, error) {
	var r resolved
	var errs []error
	// errors.Join drops the nils: every check adds its result.
	add := func(err error) { errs = append(errs, err) }
	switch {
	case c.URL != "" && c.Discovery != "":
		add(exchange.InputError("broker-url", "exactly one of %s or %s, got both", exchange.Setting("broker-url"), exchange.Setting("broker-discovery")))
	case c.URL == "" && c.Discovery == "":
		add(exchange.InputError("broker-url", "exactly one of %s or %s, got neither", exchange.Setting("broker-url"), exchange.Setting("broker-discovery")))
	case c.URL != "":
		var err error
		r.endpoint, err = upstream.ParseEndpoint("broker-url", c.URL, upstream.QueryAllowed)
		add(err)
	default:
		var err error
		r.issuer, err = upstream.ParseEndpoint("broker-discovery", c.Discovery, upstream.NoQuery)
		add(err)
	}
	for _, a := range c.Audiences {
		switch {
		case strings.TrimSpace(a) == "":
			add(exchange.InputError("broker-audience", "an audience is empty"))
		case len(a) > maxParamValue || strings.ContainsFunc(a, unicode.IsControl):
			add(exchange.InputError("broker-audience", "%q must be at most %d characters without control characters", exchange.Sanitize(a), maxParamValue))
		}
	}
	for _, r := range c.Resources {
		add(validateResource(r))
	}
	add(validateScope(c.Scope))
	if t := c.SubjectTokenType; t != "" && t != TokenTypeJWT && t != TokenTypeIDToken {
		add(exchange.InputError("subject-token-type", "%q is not the type of a CI OIDC token; use %s (the default) or %s (Dex, Pulumi and JFrog want the latter)",
			exchange.Sanitize(t), TokenTypeJWT, TokenTypeIDToken))
	}
	switch t := c.RequestedTokenType; {
	case t == TokenTypeRefreshToken:
		// A refresh token mints access tokens for as long as the broker
		// lets it live, often days: exported to later steps, it is the
		// stored key this tool exists to delete.
		add(exchange.InputError("requested-token-type", "%s is a long-lived credential and is never requested; ask for %s (the default) and re-run the exchange when it expires",
			TokenTypeRefreshToken, TokenTypeAccessToken))
	case t != "" && (len(t) > maxTokenTypeLength || !schemeURIRE().MatchString(t)):
		add(exchange.InputError("requested-token-type", "%q is not a token type URI like %s or a vendor's urn:…", exchange.Sanitize(t), TokenTypeAccessToken))
	}
	if f := c.RequestFormat; f != "" && !slices.Contains(RequestFormats(), f) {
		add(exchange.InputError("broker-request-format", "unknown format %q, valid formats are %q", exchange.Sanitize(string(f)), RequestFormats()))
	}
	add(c.validateClient())
	var err error
	r.extraParams, err = ParseExtraParams(c.ExtraParams)
	add(err)
	add(validateExportEnv(c.ExportEnv))
	if c.RetryMaxAttempts < 0 {
		add(exchange.InputError("retry-max-attempts", "%d must be at least 1 (use %s to make a single call)", c.RetryMaxAttempts, exchange.Setting("disable-retry")))
	}
	return r, errors.Join(errs...)
}

func (c *Config) validateClient() error {
	var errs []error
	if c.ClientID != "" && (len(c.ClientID) > maxParamValue || strings.ContainsFunc(c.ClientID, unicode.IsControl)) {
		errs = append(errs, exchange.InputError("broker-client-id", "must be at most %d characters without control characters", maxParamValue))
	}
	hasSecret := !c.ClientSecret.IsZero()
	if hasSecret && c.ClientID == "" {
		errs = append(errs, exchange.InputError("broker-client-secret", "is set without %s; a secret authenticates a client id", exchange.Setting("broker-client-id")))
	}
	if hasSecret && strings.ContainsFunc(c.ClientSecret.Reveal(), unicode.IsControl) {
		// Never quote the secret, not even sanitized.
		errs = append(errs, exchange.InputError("broker-client-secret", "contains a control character (a trailing newline from a file?)"))
	}
	switch c.ClientAuth {
	case "":
	case ClientAuthBasic, ClientAuthPost:
		if !hasSecret {
			errs = append(errs, exchange.InputError("broker-client-auth", "%s needs %s and %s", c.ClientAuth, exchange.Setting("broker-client-id"), exchange.Setting("broker-client-secret")))
		}
	case ClientAuthNone:
		if hasSecret {
			errs = append(errs, exchange.InputError("broker-client-auth", "is none but %s is set; the secret would not be sent: remove it or choose %s or %s", exchange.Setting("broker-client-secret"), ClientAuthBasic, ClientAuthPost))
		}
	default:
		errs = append(errs, exchange.InputError("broker-client-auth", "unknown method %q, valid methods are %q", exchange.Sanitize(string(c.ClientAuth)), ClientAuths()))
	}
	return errors.Join(errs...)
}

func validateResource(r string) error {
	const input = "broker-resource"
	u, err := url.Parse(r)
	switch {
	case err != nil || strings.ContainsFunc(r, unicode.IsSpace) || strings.ContainsFunc(r, unicode.IsControl):
		return exchange.InputError(input, "%q is not a URI", exchange.Sanitize(r))
	case !u.IsAbs():
		return exchange.InputError(input, "%q is not an absolute URI (RFC 8693 §2.1); give a scheme, e.g. https://api.example.com", exchange.Sanitize(r))
	case u.Fragment != "" || strings.Contains(r, "#"):
		return exchange.InputError(input, "%q must not have a fragment (RFC 8693 §2.1)", exchange.Sanitize(r))
	case len(r) > maxParamValue:
		return exchange.InputError(input, "is longer than %d characters", maxParamValue)
	}
	return nil
}

// validateScope checks scope-tokens as RFC 6749 §3.3 defines them:
// %x21 / %x23-5B / %x5D-7E. Any run of white space separates them; the
// scope is sent with single spaces.
func validateScope(scope string) error {
	if len(scope) > maxParamValue {
		return exchange.InputError("broker-scope", "is longer than %d characters", maxParamValue)
	}
	for _, tok := range strings.Fields(scope) {
		for _, r := range tok {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return exchange.InputError("broker-scope", "%q has a character RFC 6749 §3.3 does not allow in a scope (printable ASCII except \" and \\)", exchange.Sanitize(tok))
			}
		}
	}
	return nil
}

func validateExportEnv(name string) error {
	const input = "export-env"
	if name == "" {
		return nil
	}
	if !envNameRE().MatchString(name) {
		return exchange.InputError(input, "%q is not an environment variable name (^[A-Za-z_][A-Za-z0-9_]*$)", exchange.Sanitize(name))
	}
	upper := strings.ToUpper(name)
	for _, p := range reservedEnvPrefixes {
		if strings.HasPrefix(upper, p) {
			return exchange.InputError(input, "%q is reserved for the runner (%s*); choose another name, e.g. %s", name, p, DefaultExportEnv)
		}
	}
	if slices.Contains(reservedEnvNames, upper) {
		return exchange.InputError(input, "%q changes how later processes start; choose another name, e.g. %s", name, DefaultExportEnv)
	}
	return nil
}

// ParseExtraParams reads broker-extra-params: one key=value a line, both
// trimmed; blank lines and lines starting with # are ignored. A key may
// repeat (sent repeated, or as a JSON array). The RFC's own parameters
// are refused in either spelling (grant_type, subjectToken, audience, …):
// they have inputs of their own, and a second copy would let a broker
// pick either one.
func ParseExtraParams(text string) ([]Param, error) {
	var out []Param
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, exchange.InputError("broker-extra-params", "line %d: want key=value, got %q", n+1, exchange.Sanitize(line))
		}
		p := Param{Key: strings.TrimSpace(key), Value: strings.TrimSpace(value)}
		if err := validateParam(p, fmt.Sprintf("line %d: ", n+1)); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) > MaxExtraParams {
		return nil, exchange.InputError("broker-extra-params", "%d parameters given; at most %d are accepted", len(out), MaxExtraParams)
	}
	return out, nil
}

func validateParam(p Param, where string) error {
	const input = "broker-extra-params"
	if !paramKeyRE().MatchString(p.Key) {
		return exchange.InputError(input, "%s%q is not a parameter name (letters, digits and _.:-, starting with a letter or _)", where, exchange.Sanitize(p.Key))
	}
	norm := strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "", ":", "").Replace(p.Key))
	if use, reserved := reservedParams[norm]; reserved {
		if use != "" {
			return exchange.InputError(input, "%s%q is sent by oidc-exchange itself; use %s instead", where, p.Key, exchange.Setting(use))
		}
		return exchange.InputError(input, "%s%q is sent by oidc-exchange itself and cannot be set", where, p.Key)
	}
	if len(p.Value) > maxParamValue || strings.ContainsFunc(p.Value, unicode.IsControl) {
		return exchange.InputError(input, "%sthe value of %q must be at most %d characters without control characters", where, p.Key, maxParamValue)
	}
	return nil
}

// WithInfrastructure returns c with the HTTP client and logger the program
// shares, for the registry.
func (c Config) WithInfrastructure(client *http.Client, logger *slog.Logger) Config {
	c.HTTPClient, c.Logger = client, logger
	return c
}
