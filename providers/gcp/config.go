package gcp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// TokenFormat is what the exchange hands to later steps (token-format).
type TokenFormat string

// Token formats, as google-github-actions/auth spells them.
const (
	// TokenFormatAccessToken outputs an OAuth 2.0 access token: the
	// federated token itself without service-account, the service
	// account's (or the delegated user's) token with it.
	TokenFormatAccessToken TokenFormat = "access_token"
	// TokenFormatIDToken outputs a Google-signed ID token of the service
	// account for id-token-audience.
	TokenFormatIDToken TokenFormat = "id_token"
	// TokenFormatNone outputs no token. The exchange still runs, so a
	// misconfigured provider or binding fails in this step, with an
	// explanation, rather than in a later gcloud call; what it issued is
	// discarded. Use it with the credentials file.
	TokenFormatNone TokenFormat = "none"
)

// Defaults and limits. The numbers are Google's, so that a bad value fails
// in Validate, before a token is fetched.
const (
	// DefaultUniverse is the universe domain of the public cloud.
	DefaultUniverse = "googleapis.com"
	// DefaultScope is the scope requested when access-token-scopes is
	// empty, as in google-github-actions/auth.
	DefaultScope = "https://www.googleapis.com/auth/cloud-platform"
	// DefaultAccessTokenLifetime is the lifetime of an impersonated token
	// when none is given; it is also IAM's maximum unless the organisation
	// policy constraints/iam.allowServiceAccountCredentialLifetimeExtension
	// lists the service account.
	DefaultAccessTokenLifetime = time.Hour
	// MaxAccessTokenLifetime is IAM's hard maximum with that policy.
	MaxAccessTokenLifetime = 12 * time.Hour
	// MaxDelegatedLifetime bounds tokens for access-token-subject: Google's
	// OAuth server refuses jwt-bearer assertions valid for more than an hour.
	MaxDelegatedLifetime = time.Hour
	// MaxAccessBoundaryRules is the Credential Access Boundary limit.
	MaxAccessBoundaryRules = 10
	// DefaultRetryMaxAttempts counts the first call of each step.
	DefaultRetryMaxAttempts = httpclient.DefaultMaxAttempts
	// SubjectTokenType is the token type of a CI job's OIDC token at STS.
	SubjectTokenType = "urn:ietf:params:oauth:token-type:jwt"
	// iamService is the service name in full resource names. It names
	// the service, not a host, and stays the same in every universe:
	// STS answers "Invalid value for audience" to //iam.<other universe>/…
	// (google-github-actions/auth #521).
	iamService = "iam.googleapis.com"
)

// Config holds the settings of the GCP provider. The user settings mirror
// the inputs of google-github-actions/auth in kebab-case; each field's
// comment names its input.
//
// Zero values mean the documented defaults. CreateCredentialsFile and
// ExportEnvironmentVariables are pointers because their default, true, is
// not Go's zero value: nil means true, as in the AWS provider.
type Config struct {
	// WorkloadIdentityProvider (workload-identity-provider) is required:
	// projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>.
	WorkloadIdentityProvider string
	// ServiceAccount (service-account) is the email of a service account
	// to impersonate. Without it the federated token is used directly
	// (direct Workload Identity Federation).
	ServiceAccount string
	// TokenFormat (token-format) is access_token (the default), id_token
	// or none.
	TokenFormat TokenFormat
	// AccessTokenLifetime (access-token-lifetime) is the lifetime of an
	// impersonated access token: seconds ("3600s", "3600") or a Go
	// duration ("1h"); "" means one hour. Up to 12 h is accepted, but
	// beyond 1 h IAM refuses unless the organisation policy
	// constraints/iam.allowServiceAccountCredentialLifetimeExtension lists
	// the service account. The lifetime also reaches the credentials file
	// (token_lifetime_seconds), so client libraries refresh with it too.
	AccessTokenLifetime string
	// AccessTokenScopes (access-token-scopes) are the OAuth scopes of the
	// issued access token; empty means [DefaultScope].
	AccessTokenScopes []string
	// AccessTokenSubject (access-token-subject) is a Workspace user to act
	// as through domain-wide delegation: the service account signs a JWT
	// (IAM Credentials signJwt) that the OAuth server trades for the
	// user's token. Needs roles/iam.serviceAccountTokenCreator. A
	// credentials file cannot express delegation: it impersonates the
	// service account itself.
	AccessTokenSubject string
	// Delegates (delegates) is an impersonation chain of service account
	// emails, each allowed to impersonate the next.
	Delegates []string
	// IDTokenAudience (id-token-audience) is required with id_token.
	IDTokenAudience string
	// IDTokenIncludeEmail (id-token-include-email) adds email and
	// email_verified claims to the ID token.
	IDTokenIncludeEmail bool
	// AccessBoundary (access-boundary) is a Credential Access Boundary that
	// downscopes the issued access token: the JSON of the CAB schema, or
	// lines like bucket=NAME:role=roles/storage.objectViewer, optionally
	// ending in :condition=<CEL expression> (see [ParseAccessBoundary]).
	// It cannot be combined with a credentials file: an external_account
	// file cannot express a boundary, and later steps would refresh
	// un-downscoped tokens from it.
	AccessBoundary string
	// CreateCredentialsFile (create-credentials-file) writes an
	// external_account credentials file so client libraries and gcloud
	// refresh tokens by themselves during long jobs. nil means true.
	CreateCredentialsFile *bool
	// ExportEnvironmentVariables (export-environment-variables) exports
	// the file's path and the project id to later steps. nil means true.
	ExportEnvironmentVariables *bool
	// ProjectID (project-id) defaults to the project of the service
	// account's email (x@PROJECT.iam.gserviceaccount.com), never to the
	// provider's project, which is given by number.
	ProjectID string
	// Universe (universe) is the universe domain; "" means
	// [DefaultUniverse]. It selects the sts, iamcredentials and oauth2
	// hosts. Resource names (the STS audience, principal sets) keep
	// iam.googleapis.com in every universe.
	Universe string
	// STSEndpoint (sts-endpoint) replaces https://sts.<universe>; the path
	// /v1/token is appended.
	STSEndpoint string
	// IAMCredentialsEndpoint (iamcredentials-endpoint) replaces
	// https://iamcredentials.<universe>; the path /v1/… is appended.
	IAMCredentialsEndpoint string
	// OAuth2Endpoint (oauth2-endpoint) replaces https://oauth2.<universe>
	// for domain-wide delegation; the path /token is appended.
	OAuth2Endpoint string
	// RetryMaxAttempts (retry-max-attempts) bounds the calls of each step
	// for transient failures, the first included; 0 means
	// [DefaultRetryMaxAttempts].
	RetryMaxAttempts int
	// DisableRetry (disable-retry) makes exactly one call per step.
	DisableRetry bool

	// HTTPClient is the hardened client from internal/httpclient; nil
	// means a new one with the default limits. Infrastructure, not a user
	// setting.
	HTTPClient *http.Client
	// Logger receives debug and retry messages, never secrets; nil
	// discards them. Infrastructure, not a user setting.
	Logger *slog.Logger
}

func (c *Config) createCredentialsFile() bool {
	return c.CreateCredentialsFile == nil || *c.CreateCredentialsFile
}

func (c *Config) exportEnvironmentVariables() bool {
	return c.ExportEnvironmentVariables == nil || *c.ExportEnvironmentVariables
}

func (c *Config) tokenFormat() TokenFormat {
	if c.TokenFormat == "" {
		return TokenFormatAccessToken
	}
	return c.TokenFormat
}

func (c *Config) universe() string {
	if c.Universe == "" {
		return DefaultUniverse
	}
	return c.Universe
}

func (c *Config) scopes() []string {
	if len(c.AccessTokenScopes) == 0 {
		return []string{DefaultScope}
	}
	return append([]string(nil), c.AccessTokenScopes...)
}

// stsTokenURL is where the STS exchange and the downscope exchange go.
func (c *Config) stsTokenURL() string {
	return endpointBase(c.STSEndpoint, "https://sts."+c.universe()) + "/v1/token"
}

// iamCredentialsEndpoint is the base URL of IAM Credentials.
func (c *Config) iamCredentialsEndpoint() string {
	return endpointBase(c.IAMCredentialsEndpoint, "https://iamcredentials."+c.universe())
}

// oauth2TokenURL is the jwt-bearer endpoint of domain-wide delegation.
func (c *Config) oauth2TokenURL() string {
	return endpointBase(c.OAuth2Endpoint, "https://oauth2."+c.universe()) + "/token"
}

// impersonationURL is the generateAccessToken URL written into the
// credentials file.
func (c *Config) impersonationURL() string {
	return c.iamCredentialsEndpoint() + "/v1/" + serviceAccountResource(c.ServiceAccount) + ":generateAccessToken"
}

func endpointBase(override, def string) string {
	if override == "" {
		return def
	}
	return strings.TrimRight(override, "/")
}

func serviceAccountResource(email string) string {
	return "projects/-/serviceAccounts/" + email
}

// DefaultAudience is the audience to request from the CI platform when the
// user sets none: what a workload identity provider accepts without an
// allowed-audiences list, as google-github-actions/auth requests it. It
// keeps iam.googleapis.com in every universe: it is the provider's
// canonical name, not a host.
func DefaultAudience(workloadIdentityProvider string) string {
	return "https://" + iamService + "/" + workloadIdentityProvider
}

// stsAudience is the audience of the STS exchange: the provider's full
// resource name.
func stsAudience(workloadIdentityProvider string) string {
	return "//" + iamService + "/" + workloadIdentityProvider
}

var (
	// Pool and provider ids are 4–32 characters of lowercase letters,
	// digits and dashes; the project is given by number.
	providerRE     = lazyre.New(`^projects/([0-9]{1,20})/locations/global/workloadIdentityPools/([a-z0-9-]{4,32})/providers/([a-z0-9-]{4,32})$`)
	providerLikeRE = lazyre.New(`^projects/([^/]*)/locations/([^/]*)/workloadIdentityPools/([^/]*)/providers/([^/]*)$`)
	// A conservative email: what IAM accepts for service accounts and
	// Workspace users, without anything that could leave a URL path
	// segment or a log line.
	emailRE = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}@[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	// Project ids are 6–30 characters, optionally domain-scoped
	// ("example.com:my-project").
	projectIDRE = lazyre.New(`^([a-z0-9][a-z0-9.-]{0,62}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	universeRE  = lazyre.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	saDomainRE  = lazyre.New(`^([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$`)
)

// ValidateWorkloadIdentityProvider checks a provider's full resource name
// and says precisely what is wrong with the usual mistakes: a // or https
// prefix, a project id in place of the number, a location other than
// global.
func ValidateWorkloadIdentityProvider(s string) error {
	const input = "workload-identity-provider"
	switch {
	case s == "":
		return exchange.InputError(input, "is required, e.g. projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo")
	case providerRE().MatchString(s):
		return nil
	case strings.HasPrefix(s, "//") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		return exchange.InputError(input, "%q must start at projects/: drop the //iam.googleapis.com/ or https:// prefix", s)
	}
	m := providerLikeRE().FindStringSubmatch(s)
	if m == nil {
		return exchange.InputError(input, "%q is not a provider resource name; want projects/<NUMBER>/locations/global/workloadIdentityPools/<POOL>/providers/<PROVIDER>", s)
	}
	switch {
	case !isDigits(m[1]):
		return exchange.InputError(input, "%q names the project %q; use the project number (gcloud projects describe %s --format='value(projectNumber)')", s, m[1], m[1])
	case m[2] != "global":
		return exchange.InputError(input, "%q has location %q; workload identity pools are always global", s, m[2])
	default:
		return exchange.InputError(input, "%q has a malformed pool or provider id; both are 4–32 lowercase letters, digits and dashes", s)
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ValidateEmail checks a service account or user email for setting input.
func ValidateEmail(input, s string) error {
	switch {
	case s == "":
		return exchange.InputError(input, "is empty")
	case len(s) > 254 || !emailRE().MatchString(s):
		return exchange.InputError(input, "%q is not an email address like deploy@my-project.iam.gserviceaccount.com", s)
	}
	return nil
}

// ProjectIDFromServiceAccount derives the project id from a user-managed
// service account's email (name@PROJECT.iam.gserviceaccount.com), or
// returns "" when the email does not name one.
func ProjectIDFromServiceAccount(email string) string {
	_, domain, ok := strings.Cut(email, "@")
	if !ok {
		return ""
	}
	if m := saDomainRE().FindStringSubmatch(domain); m != nil {
		return m[1]
	}
	return ""
}

// ParseLifetime reads access-token-lifetime: whole seconds as "3600s" or
// "3600", or a Go duration such as "1h" or "90m". "" gives 0, the default.
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		// Bounded before converting so a huge number cannot overflow.
		if n > 1<<31 || n < -1<<31 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; use seconds like 3600s", s)
		}
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// Validate checks every user setting without any network call and reports
// every problem at once. Errors wrap [exchange.ErrInvalidInput] and name the
// input to fix.
func (c *Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolved holds what validation parsed, so that nothing parses it again.
type resolved struct {
	// lifetime is AccessTokenLifetime, or its default.
	lifetime time.Duration
	// boundary is the parsed AccessBoundary, nil without one.
	boundary *AccessBoundary
	// stsOverride is sts-endpoint's token URL, nil without one: the
	// downscope exchange, which the auth library sends to the default
	// STS, is redirected there.
	stsOverride *url.URL
}

// resolve validates c like [Config.Validate] and returns what it parsed.
func (c *Config) resolve() (resolved, error) {
	r := resolved{lifetime: DefaultAccessTokenLifetime}
	var errs []error
	// errors.Join drops the nils: every check adds its result.
	add := func(err error) { errs = append(errs, err) }
	add(ValidateWorkloadIdentityProvider(c.WorkloadIdentityProvider))
	sa := c.ServiceAccount != ""
	if sa {
		add(ValidateEmail("service-account", c.ServiceAccount))
	}

	format := c.tokenFormat()
	switch format {
	case TokenFormatAccessToken, TokenFormatNone:
	case TokenFormatIDToken:
		if !sa {
			add(exchange.InputError("token-format", "id_token needs %s: ID tokens are minted for a service account (direct federation has no ID tokens)", exchange.Setting("service-account")))
		}
		if strings.TrimSpace(c.IDTokenAudience) == "" {
			add(exchange.InputError("id-token-audience", "is required with %s id_token, e.g. the URL of the Cloud Run service to call", exchange.Setting("token-format")))
		}
	default:
		add(exchange.InputError("token-format", "%q is not access_token, id_token or none", string(c.TokenFormat)))
	}
	if format != TokenFormatIDToken {
		if c.IDTokenAudience != "" {
			add(exchange.InputError("id-token-audience", "is used only with %s id_token", exchange.Setting("token-format")))
		}
		if c.IDTokenIncludeEmail {
			add(exchange.InputError("id-token-include-email", "is used only with %s id_token", exchange.Setting("token-format")))
		}
	}
	if c.IDTokenAudience != "" && !printable(c.IDTokenAudience) {
		add(exchange.InputError("id-token-audience", "%q contains whitespace or control characters", c.IDTokenAudience))
	}

	lifetime, err := ParseLifetime(c.AccessTokenLifetime)
	if err != nil {
		add(exchange.InputError("access-token-lifetime", "%v", err))
	} else if lifetime > 0 {
		r.lifetime = lifetime
	}
	if lifetime > MaxAccessTokenLifetime {
		add(exchange.InputError("access-token-lifetime", "%s is above IAM's maximum of 12h (43200s)", lifetime))
	}

	for _, s := range c.AccessTokenScopes {
		if s == "" || !printable(s) {
			add(exchange.InputError("access-token-scopes", "%q is not a scope; give one scope per line or comma, e.g. %s", s, DefaultScope))
		}
	}
	if dup := firstDuplicate(c.AccessTokenScopes); dup != "" {
		add(exchange.InputError("access-token-scopes", "%q is listed twice", dup))
	}

	if c.AccessTokenSubject != "" {
		add(ValidateEmail("access-token-subject", c.AccessTokenSubject))
		if !sa {
			add(exchange.InputError("access-token-subject", "needs %s: domain-wide delegation is granted to a service account", exchange.Setting("service-account")))
		}
		if format != TokenFormatAccessToken {
			add(exchange.InputError("access-token-subject", "gives an access token; it needs %s access_token", exchange.Setting("token-format")))
		}
		if err == nil && lifetime > MaxDelegatedLifetime {
			add(exchange.InputError("access-token-lifetime", "%s is too long for %s: Google issues domain-wide delegation tokens for at most 1h", lifetime, exchange.Setting("access-token-subject")))
		}
	}
	for _, d := range c.Delegates {
		add(ValidateEmail("delegates", d))
	}
	if len(c.Delegates) > 0 && !sa {
		add(exchange.InputError("delegates", "is an impersonation chain and needs %s", exchange.Setting("service-account")))
	}

	if c.AccessBoundary != "" {
		var berr error
		r.boundary, berr = ParseAccessBoundary(c.AccessBoundary)
		add(berr)
		switch {
		case format != TokenFormatAccessToken:
			add(exchange.InputError("access-boundary", "downscopes an access token; it needs %s access_token", exchange.Setting("token-format")))
		case c.AccessTokenSubject != "":
			add(exchange.InputError("access-boundary", "cannot downscope a domain-wide delegation token; drop %s or %s", exchange.Setting("access-token-subject"), exchange.Setting("access-boundary")))
		}
		if c.createCredentialsFile() {
			add(exchange.InputError("access-boundary", "cannot be combined with a credentials file: an external_account file cannot carry the boundary, so later steps would refresh un-downscoped tokens from it; set create-credentials-file: false"))
		}
	}

	if c.ProjectID != "" && !projectIDRE().MatchString(c.ProjectID) {
		add(exchange.InputError("project-id", "%q is not a project id (6–30 lowercase letters, digits and dashes, starting with a letter)", c.ProjectID))
	}
	if c.Universe != "" && !universeRE().MatchString(c.Universe) {
		add(exchange.InputError("universe", "%q is not a domain name like googleapis.com", c.Universe))
	}
	if sts, err := validateEndpoint("sts-endpoint", c.STSEndpoint); err != nil {
		add(err)
	} else if sts != nil {
		// Not JoinPath: on a URL without a path it leaves the path
		// relative ("v1/token"), which no server matches.
		token := *sts
		token.Path, token.RawPath = strings.TrimRight(token.Path, "/")+"/v1/token", ""
		r.stsOverride = &token
	}
	_, err = validateEndpoint("iamcredentials-endpoint", c.IAMCredentialsEndpoint)
	add(err)
	_, err = validateEndpoint("oauth2-endpoint", c.OAuth2Endpoint)
	add(err)
	if c.RetryMaxAttempts < 0 {
		add(exchange.InputError("retry-max-attempts", "%d must be at least 1 (use %s to make a single call)", c.RetryMaxAttempts, exchange.Setting("disable-retry")))
	}
	return r, errors.Join(errs...)
}

// printable reports whether s has no whitespace or control characters.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

func firstDuplicate(list []string) string {
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}

// validateEndpoint accepts a base URL as [upstream.ParseEndpoint] does,
// without a query, and none of the paths the provider itself appends
// (google-github-actions/auth's overrides end in /v1).
func validateEndpoint(input, s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := upstream.ParseEndpoint(input, s, upstream.NoQuery)
	if err != nil {
		return nil, err
	}
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(p, "/v1") || strings.HasSuffix(p, "/token") {
		return nil, exchange.InputError(input, "%q: give the base URL, e.g. %s://%s; the API path is appended", s, u.Scheme, u.Host)
	}
	return u, nil
}

// WithInfrastructure returns c with the HTTP client and logger the program
// shares, for the registry.
func (c Config) WithInfrastructure(client *http.Client, logger *slog.Logger) Config {
	c.HTTPClient, c.Logger = client, logger
	return c
}
