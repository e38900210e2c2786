package gcp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials/downscope"
	"cloud.google.com/go/auth/credentials/externalaccount"
	credentials "cloud.google.com/go/iam/credentials/apiv1"
	"cloud.google.com/go/iam/credentials/apiv1/credentialspb"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/googleapis/gax-go/v2"
	"github.com/googleapis/gax-go/v2/callctx"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// providerName is the registry name written into errors and credentials.
const providerName = "gcp"

// Names of the step outputs and exported variables.
const (
	// OutputAuthToken is the federated token of direct Workload Identity
	// Federation (no service-account), masked.
	OutputAuthToken = "auth-token"
	// OutputAccessToken is the service account's (or the delegated
	// user's) access token, masked.
	OutputAccessToken = "access-token"
	// OutputIDToken is the service account's ID token, masked.
	OutputIDToken = "id-token"
	// OutputAccessTokenExpiration is the expiry of auth-token or
	// access-token, RFC 3339 UTC.
	OutputAccessTokenExpiration = "access-token-expiration"
	// OutputCredentialsFilePath is set by the CI edge to the credentials
	// file's path (see [exchange.File.PathOutputs]).
	OutputCredentialsFilePath = "credentials-file-path"
	// OutputProjectID is the project id, when known.
	OutputProjectID = "project-id"

	EnvCloudSDKCoreProject = "CLOUDSDK_CORE_PROJECT"
	EnvCloudSDKProject     = "CLOUDSDK_PROJECT"
	EnvGCloudProject       = "GCLOUD_PROJECT"
	EnvGCPProject          = "GCP_PROJECT"
	EnvGoogleCloudProject  = "GOOGLE_CLOUD_PROJECT"
)

// ProjectVariables lists the environment variables that receive the
// project id when export-environment-variables is set, the same ones
// google-github-actions/auth sets. Tokens are never exported as
// environment variables, only as masked outputs.
func ProjectVariables() []string {
	return []string{EnvCloudSDKCoreProject, EnvCloudSDKProject, EnvGCloudProject, EnvGCPProject, EnvGoogleCloudProject}
}

// The calls the provider makes, each behind a one-method, consumer-side
// interface so tests can pass two-line func-type fakes. The production
// implementations are Google's libraries: cloud.google.com/go/auth for
// STS, cloud.google.com/go/iam/credentials/apiv1 for IAM Credentials and
// golang.org/x/oauth2 for the OAuth server.
type (
	// federator is the STS token exchange: CI token in, federated token out.
	federator interface {
		Federate(ctx context.Context, subject externalaccount.SubjectTokenProvider, scopes []string) (*auth.Token, error)
	}
	// downscoper applies a Credential Access Boundary to an access token.
	downscoper interface {
		Downscope(ctx context.Context, source *auth.Token, rules []downscope.AccessBoundaryRule) (*auth.Token, error)
	}
	// jwtBearer trades a signed JWT for an access token (RFC 7523).
	jwtBearer interface {
		Exchange(ctx context.Context, assertion string) (*oauth2.Token, error)
	}
	accessTokenAPI interface {
		GenerateAccessToken(ctx context.Context, req *credentialspb.GenerateAccessTokenRequest, opts ...gax.CallOption) (*credentialspb.GenerateAccessTokenResponse, error)
	}
	idTokenAPI interface {
		GenerateIdToken(ctx context.Context, req *credentialspb.GenerateIdTokenRequest, opts ...gax.CallOption) (*credentialspb.GenerateIdTokenResponse, error)
	}
	signJWTAPI interface {
		SignJwt(ctx context.Context, req *credentialspb.SignJwtRequest, opts ...gax.CallOption) (*credentialspb.SignJwtResponse, error)
	}
)

// clients bundles the seams; New fills them with the real libraries.
type clients struct {
	sts          federator
	downscope    downscoper
	accessTokens accessTokenAPI
	idTokens     idTokenAPI
	signer       signJWTAPI
	jwtBearer    jwtBearer
}

// Provider trades a CI job's OIDC token for Google credentials: an STS
// token exchange against a workload identity provider, then optionally
// service account impersonation (access or ID token), domain-wide
// delegation and a Credential Access Boundary.
type Provider struct {
	cfg       Config
	c         clients
	logger    *slog.Logger
	retrier   *upstream.Retrier
	now       func() time.Time
	format    TokenFormat
	lifetime  time.Duration
	scopes    []string
	boundary  *AccessBoundary
	projectID string
	file      bool
	exportEnv bool
}

var (
	_ exchange.Provider = (*Provider)(nil)
	_ exchange.Targeter = (*Provider)(nil)
)

// New validates cfg and returns a provider that calls Google.
func New(cfg Config) (*Provider, error) {
	return newProvider(cfg, nil)
}

// googleClients are the real clients, for a validated cfg.
func googleClients(cfg Config, r resolved) (clients, error) {
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = httpclient.New(httpclient.Options{})
	}
	// STS and the OAuth server answer errors in RFC 6749 JSON, which the
	// Google libraries report untyped and with the raw body; oauthErrors
	// types them first.
	oauthClient := httpclient.WrapTransport(httpClient, func(rt http.RoundTripper) http.RoundTripper { return oauthErrors{base: rt} })
	downscopeClient := oauthClient
	if r.stsOverride != nil {
		from := &url.URL{Scheme: "https", Host: "sts." + cfg.universe(), Path: "/v1/token"}
		downscopeClient = httpclient.WrapTransport(oauthClient, func(rt http.RoundTripper) http.RoundTripper {
			return rewriteURL{base: rt, from: from, to: r.stsOverride}
		})
	}
	// The REST transport of apiv1: it adds under 1 MB over
	// google.golang.org/api/iamcredentials/v1 (see the package doc). With
	// WithHTTPClient the library adds no credentials of its own: the
	// federated token is set per call.
	iam, err := credentials.NewIamCredentialsRESTClient(context.Background(),
		option.WithHTTPClient(httpClient),
		option.WithEndpoint(cfg.iamCredentialsEndpoint()),
		option.WithLogger(discardLogger),
	)
	if err != nil {
		return clients{}, fmt.Errorf("creating the IAM Credentials client: %w", err)
	}
	// The generated defaults retry 503 and 504 for up to 60 seconds with
	// their own backoff; inside our loop that would multiply attempts and
	// outlive the CI token. Clearing them leaves one request per call and
	// the timeout to the hardened HTTP client.
	*iam.CallOptions = credentials.IamCredentialsCallOptions{}
	return clients{
		sts: &stsFederator{
			client: oauthClient, tokenURL: cfg.stsTokenURL(),
			audience: stsAudience(cfg.WorkloadIdentityProvider), universe: cfg.universe(),
		},
		downscope:    &stsDownscoper{client: downscopeClient, universe: cfg.universe()},
		accessTokens: iam,
		idTokens:     iam,
		signer:       iam,
		jwtBearer:    &oauthJWTBearer{client: oauthClient, tokenURL: cfg.oauth2TokenURL()},
	}, nil
}

// newProvider validates cfg, once, and builds a provider around c, or
// around Google's clients when c is nil (New); tests pass fakes.
func newProvider(cfg Config, c *clients) (*Provider, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if c == nil {
		google, err := googleClients(cfg, r)
		if err != nil {
			return nil, err
		}
		c = &google
	}
	return build(cfg, r, *c)
}

// build makes the provider from a validated cfg and what validation
// parsed.
func build(cfg Config, r resolved, c clients) (*Provider, error) {
	p := &Provider{
		cfg:       cfg,
		c:         c,
		logger:    cfg.Logger,
		now:       time.Now,
		format:    cfg.tokenFormat(),
		lifetime:  r.lifetime,
		boundary:  r.boundary,
		scopes:    cfg.scopes(),
		file:      cfg.createCredentialsFile(),
		exportEnv: cfg.exportEnvironmentVariables(),
		projectID: cfg.ProjectID,
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.projectID == "" {
		p.projectID = ProjectIDFromServiceAccount(cfg.ServiceAccount)
	}
	p.retrier = upstream.NewRetrier("Google", cmp.Or(cfg.RetryMaxAttempts, DefaultRetryMaxAttempts), cfg.DisableRetry, p.logger)
	return p, nil
}

// Target is what the audit record names, also when the exchange fails:
// the provider resource, "<provider> as <service account>" when
// impersonating, with " for <user>" added for domain-wide delegation.
func (p *Provider) Target() string {
	t := p.cfg.WorkloadIdentityProvider
	if p.cfg.ServiceAccount != "" {
		t += " as " + p.cfg.ServiceAccount
	}
	if p.cfg.AccessTokenSubject != "" {
		t += " for " + p.cfg.AccessTokenSubject
	}
	return t
}

// issued is a token the exchange produced.
type issued struct {
	value  exchange.Secret
	expiry time.Time
}

// Exchange implements [exchange.Provider]: the STS exchange, then
// impersonation, domain-wide delegation and downscoping as configured.
// Each call is retried on its own, only for transient failures.
func (p *Provider) Exchange(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error) {
	if p == nil || p.c.sts == nil {
		return nil, errors.New("gcp provider is not initialised; use New")
	}
	if id == nil {
		return nil, errors.New("gcp provider: no identity")
	}
	if req == nil {
		return nil, errors.New("gcp provider: no request")
	}
	// The file is rendered first: without a credential source it cannot
	// exist, and that must fail before any token is issued. It is
	// returned, and so written, only once everything succeeded.
	var files []exchange.File
	if p.file {
		content, err := credentialsFile(&p.cfg, p.lifetime, req.CredentialSource)
		if err != nil {
			return nil, err
		}
		f := exchange.File{
			Prefix:      CredentialsFilePrefix,
			Ext:         CredentialsFileExt,
			Content:     content,
			PathOutputs: []string{OutputCredentialsFilePath},
		}
		if p.exportEnv {
			f.PathEnv = CredentialsFileVariables()
		}
		files = append(files, f)
	}

	fed, err := p.federate(ctx, id, req)
	if err != nil {
		return nil, err
	}
	tok := fed
	var idToken *issued
	switch {
	case p.cfg.ServiceAccount == "":
	case p.cfg.AccessTokenSubject != "":
		tok, err = p.delegate(ctx, id, req, fed)
	case p.format == TokenFormatIDToken:
		idToken, err = p.generateIDToken(ctx, id, req, fed)
	default:
		tok, err = p.generateAccessToken(ctx, id, req, fed)
	}
	if err != nil {
		return nil, err
	}
	if p.boundary != nil {
		if tok, err = p.downscope(ctx, id, req, tok); err != nil {
			return nil, err
		}
	}
	return p.credentials(tok, idToken, files), nil
}

// federate is the STS exchange through the auth library.
func (p *Provider) federate(ctx context.Context, id *exchange.Identity, req *exchange.Request) (issued, error) {
	// With impersonation the federated token only calls IAM Credentials,
	// for which cloud-platform is what Google's libraries request too.
	scopes := p.scopes
	if p.cfg.ServiceAccount != "" {
		scopes = []string{DefaultScope}
	}
	p.logger.Debug("exchanging the OIDC token at STS", "provider", p.cfg.WorkloadIdentityProvider, "scopes", scopes)
	var out issued
	err := p.retry(ctx, stepSTS, id, req, func(ctx context.Context) error {
		tok, err := p.c.sts.Federate(ctx, subjectSupplier{id: id}, scopes)
		if err != nil {
			return err
		}
		if tok == nil || tok.Value == "" {
			return errUnexpected
		}
		out = issued{value: exchange.NewSecret(tok.Value), expiry: tok.Expiry.UTC()}
		return nil
	})
	return out, err
}

// withBearer authenticates an IAM Credentials call with the federated
// token. gax merges context headers into the request, so one client
// serves every exchange.
func withBearer(ctx context.Context, tok issued) context.Context {
	return callctx.SetHeaders(ctx, "authorization", "Bearer "+tok.value.Reveal())
}

func (p *Provider) delegates() []string {
	out := make([]string, 0, len(p.cfg.Delegates))
	for _, d := range p.cfg.Delegates {
		out = append(out, serviceAccountResource(d))
	}
	return out
}

func (p *Provider) generateAccessToken(ctx context.Context, id *exchange.Identity, req *exchange.Request, fed issued) (issued, error) {
	call := &credentialspb.GenerateAccessTokenRequest{
		Name:      serviceAccountResource(p.cfg.ServiceAccount),
		Delegates: p.delegates(),
		Scope:     p.scopes,
		Lifetime:  durationpb.New(p.lifetime),
	}
	p.logger.Debug("impersonating the service account", "service_account", p.cfg.ServiceAccount,
		"lifetime", p.lifetime.String(), "scopes", p.scopes, "delegates", len(call.Delegates))
	var out issued
	err := p.retry(ctx, stepAccessToken, id, req, func(ctx context.Context) error {
		resp, err := p.c.accessTokens.GenerateAccessToken(withBearer(ctx, fed), call)
		if err != nil {
			return err
		}
		if resp.GetAccessToken() == "" || resp.GetExpireTime() == nil {
			return errUnexpected
		}
		out = issued{value: exchange.NewSecret(resp.GetAccessToken()), expiry: resp.GetExpireTime().AsTime().UTC()}
		return nil
	})
	return out, err
}

func (p *Provider) generateIDToken(ctx context.Context, id *exchange.Identity, req *exchange.Request, fed issued) (*issued, error) {
	call := &credentialspb.GenerateIdTokenRequest{
		Name:         serviceAccountResource(p.cfg.ServiceAccount),
		Delegates:    p.delegates(),
		Audience:     p.cfg.IDTokenAudience,
		IncludeEmail: p.cfg.IDTokenIncludeEmail,
	}
	p.logger.Debug("minting an ID token for the service account", "service_account", p.cfg.ServiceAccount,
		"audience", p.cfg.IDTokenAudience, "include_email", p.cfg.IDTokenIncludeEmail)
	var out *issued
	err := p.retry(ctx, stepIDToken, id, req, func(ctx context.Context) error {
		resp, err := p.c.idTokens.GenerateIdToken(withBearer(ctx, fed), call)
		if err != nil {
			return err
		}
		if resp.GetToken() == "" {
			return errUnexpected
		}
		out = &issued{value: exchange.NewSecret(resp.GetToken()), expiry: jwtExpiry(resp.GetToken())}
		return nil
	})
	return out, err
}

// delegate is domain-wide delegation: IAM Credentials signs an assertion
// as the service account for the subject, and the OAuth server trades it
// for the subject's token (RFC 7523).
func (p *Provider) delegate(ctx context.Context, id *exchange.Identity, req *exchange.Request, fed issued) (issued, error) {
	now := p.now().UTC()
	// Google refuses assertions valid for more than an hour, so a longer
	// access-token-lifetime is clamped here rather than refused there.
	life := min(p.lifetime, MaxDelegatedLifetime)
	payload, err := json.Marshal(map[string]any{
		"iss":   p.cfg.ServiceAccount,
		"sub":   p.cfg.AccessTokenSubject,
		"scope": strings.Join(p.scopes, " "),
		"aud":   p.cfg.oauth2TokenURL(),
		"iat":   now.Unix(),
		"exp":   now.Add(life).Unix(),
	})
	if err != nil {
		return issued{}, fmt.Errorf("encoding the delegation claims: %w", err)
	}
	call := &credentialspb.SignJwtRequest{
		Name:      serviceAccountResource(p.cfg.ServiceAccount),
		Delegates: p.delegates(),
		Payload:   string(payload),
	}
	p.logger.Debug("signing a domain-wide delegation assertion", "service_account", p.cfg.ServiceAccount,
		"subject", p.cfg.AccessTokenSubject, "scopes", p.scopes)
	var assertion exchange.Secret
	err = p.retry(ctx, stepSignJWT, id, req, func(ctx context.Context) error {
		resp, err := p.c.signer.SignJwt(withBearer(ctx, fed), call)
		if err != nil {
			return err
		}
		if resp.GetSignedJwt() == "" {
			return errUnexpected
		}
		assertion = exchange.NewSecret(resp.GetSignedJwt())
		return nil
	})
	if err != nil {
		return issued{}, err
	}
	var out issued
	err = p.retry(ctx, stepJWTBearer, id, req, func(ctx context.Context) error {
		tok, err := p.c.jwtBearer.Exchange(ctx, assertion.Reveal())
		if err != nil {
			return err
		}
		if tok == nil || tok.AccessToken == "" {
			return errUnexpected
		}
		out = issued{value: exchange.NewSecret(tok.AccessToken), expiry: tok.Expiry.UTC()}
		return nil
	})
	return out, err
}

// downscope applies the access boundary through the auth library's
// downscope package: a second STS exchange with subject_token_type
// access_token and the boundary in options.
func (p *Provider) downscope(ctx context.Context, id *exchange.Identity, req *exchange.Request, tok issued) (issued, error) {
	p.logger.Debug("applying the access boundary", "rules", len(p.boundary.Rules), "sha256", p.boundary.SHA256())
	source := &auth.Token{Value: tok.value.Reveal(), Type: "Bearer", Expiry: tok.expiry}
	var out issued
	err := p.retry(ctx, stepDownscope, id, req, func(ctx context.Context) error {
		t, err := p.c.downscope.Downscope(ctx, source, p.boundary.Rules)
		if err != nil {
			return err
		}
		if t == nil || t.Value == "" {
			return errUnexpected
		}
		out = issued{value: exchange.NewSecret(t.Value), expiry: t.Expiry.UTC()}
		return nil
	})
	return out, err
}

// credentials turns the issued tokens into outputs, variables and the
// file.
func (p *Provider) credentials(tok issued, idToken *issued, files []exchange.File) *exchange.Credentials {
	final := tok
	if idToken != nil {
		final = *idToken
	}
	creds := &exchange.Credentials{
		Provider: providerName,
		Files:    files,
		Expiry:   final.expiry,
		Audit: exchange.ProviderAudit{
			Target:           p.Target(),
			CredentialSHA256: final.value.SHA256(),
		},
	}
	if idToken == nil {
		creds.Audit.Scopes = slices.Clone(p.scopes)
	}
	if p.boundary != nil {
		creds.Audit.AccessBoundarySHA256 = p.boundary.SHA256()
	}
	expiration := func() exchange.Variable {
		return exchange.PlainVariable(OutputAccessTokenExpiration, final.expiry.Format(time.RFC3339))
	}
	switch {
	case p.format == TokenFormatNone:
	case idToken != nil:
		creds.Outputs = append(creds.Outputs, exchange.SecretVariable(OutputIDToken, idToken.value))
	case p.cfg.ServiceAccount == "":
		creds.Outputs = append(creds.Outputs, exchange.SecretVariable(OutputAuthToken, tok.value), expiration())
	default:
		creds.Outputs = append(creds.Outputs, exchange.SecretVariable(OutputAccessToken, tok.value), expiration())
	}
	if p.projectID != "" {
		creds.Outputs = append(creds.Outputs, exchange.PlainVariable(OutputProjectID, p.projectID))
		if p.exportEnv {
			for _, name := range ProjectVariables() {
				creds.Env = append(creds.Env, exchange.PlainVariable(name, p.projectID))
			}
		}
	}
	p.logger.Debug("issued Google credentials", "target", p.Target(), "expires_at", final.expiry.Format(time.RFC3339),
		"credentials_file", len(files) > 0)
	return creds
}

// jwtExpiry reads exp from an ID token Google just issued, for the output
// and the audit record; generateIdToken returns no expiry of its own. It is
// not a verification: go-jose parses, nothing here is trusted. Zero when
// absent or unreadable.
func jwtExpiry(token string) time.Time {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return time.Time{}
	}
	var claims jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.Expiry == nil {
		return time.Time{}
	}
	return claims.Expiry.Time().UTC()
}
