package broker

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// providerName is the registry name written into errors and credentials.
const providerName = "broker"

// maxResponseSize bounds what is read of any answer, whatever client was
// injected: a token answer is a few KiB, a metadata document under 8 KiB.
const maxResponseSize = httpclient.DefaultMaxResponseSize

// Provider exchanges a CI job's OIDC token at an RFC 8693 token endpoint.
// It is safe for concurrent use.
type Provider struct {
	cfg     Config
	logger  *slog.Logger
	retrier *upstream.Retrier
	// client follows redirects only as the injected client does (metadata
	// GETs); post never follows one: a 307 or 308 would resend the subject
	// token and the client secret to wherever it points.
	client *http.Client
	post   *http.Client

	format        RequestFormat
	auth          ClientAuth
	requestedType string
	subjectType   string
	scope         string
	exportEnv     string
	extraParams   []Param
	// issuer is the discovery issuer, nil when URL is configured.
	issuer *url.URL
	now    func() time.Time

	// discover serialises discovery, so concurrent exchanges fetch the
	// metadata once; mu guards endpoint, which is nil until known.
	discover sync.Mutex
	mu       sync.Mutex
	endpoint *url.URL
}

var (
	_ exchange.Provider = (*Provider)(nil)
	_ exchange.Targeter = (*Provider)(nil)
)

// New validates cfg and returns a provider. It makes no network call:
// discovery, when configured, happens on the first exchange.
func New(cfg Config) (*Provider, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = httpclient.New(httpclient.Options{})
	}
	// Copied, so a caller changing its slices later cannot change requests.
	cfg.Audiences, cfg.Resources = slices.Clone(cfg.Audiences), slices.Clone(cfg.Resources)
	post := *client
	post.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	p := &Provider{
		cfg:           cfg,
		logger:        cfg.Logger,
		client:        client,
		post:          &post,
		format:        cmp.Or(cfg.RequestFormat, FormatForm),
		requestedType: cmp.Or(cfg.RequestedTokenType, TokenTypeAccessToken),
		subjectType:   cmp.Or(cfg.SubjectTokenType, TokenTypeJWT),
		scope:         strings.Join(strings.Fields(cfg.Scope), " "),
		exportEnv:     cmp.Or(cfg.ExportEnv, DefaultExportEnv),
		now:           time.Now,
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.auth = cfg.ClientAuth
	if p.auth == "" {
		p.auth = ClientAuthNone
		if !cfg.ClientSecret.IsZero() {
			p.auth = ClientAuthBasic
		}
	}
	p.endpoint, p.issuer, p.extraParams = r.endpoint, r.issuer, r.extraParams
	p.retrier = upstream.NewRetrier("broker", cmp.Or(cfg.RetryMaxAttempts, DefaultRetryMaxAttempts), cfg.DisableRetry, p.logger)
	return p, nil
}

// Target is the token endpoint as scheme://host/path (no query), or the
// discovery issuer until discovery has named the endpoint, so the audit
// record of a failed exchange still says which broker was asked.
func (p *Provider) Target() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endpoint != nil {
		return display(p.endpoint)
	}
	return display(p.issuer)
}

func display(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Exchange implements [exchange.Provider]. It discovers the token endpoint
// if needed, posts the RFC 8693 request (asking the identity for its
// current token on every attempt), retries only transient failures, and
// returns the issued token as the export-env variable and the token output.
func (p *Provider) Exchange(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error) {
	if p == nil || p.post == nil {
		return nil, errors.New("broker provider is not initialised; use New")
	}
	if id == nil {
		return nil, errors.New("broker provider: no identity")
	}
	if req == nil {
		return nil, errors.New("broker provider: no request")
	}
	endpoint, err := p.tokenEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	extraKeys := make([]string, 0, len(p.extraParams))
	for _, e := range p.extraParams {
		extraKeys = append(extraKeys, e.Key)
	}
	p.logger.Debug("exchanging the token at the broker", "target", display(endpoint), "format", p.format,
		"client_auth", p.auth, "client_id", p.cfg.ClientID, "audiences", p.cfg.Audiences, "resources", p.cfg.Resources,
		"scope", p.scope, "requested_token_type", p.requestedType, "subject_token_type", p.subjectType, "extra_params", extraKeys)

	var answer *tokenResponse
	err = p.retrier.Do(ctx, "exchanging the token at "+display(endpoint), func(actx context.Context) error {
		// Asked for on every attempt: the identity swaps in a fresh token
		// when the held one is about to expire.
		token, err := id.SubjectToken(actx)
		if err != nil {
			return fmt.Errorf("getting the OIDC token: %w", err)
		}
		a, err := p.call(actx, endpoint, token)
		if err != nil {
			return p.classify(ctx, err, id, req)
		}
		answer = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.credentials(answer, endpoint)
}

// camelNames renames the RFC's parameters for FormatJSONCamel.
var camelNames = map[string]string{
	"grant_type":           "grantType",
	"subject_token":        "subjectToken",
	"subject_token_type":   "subjectTokenType",
	"requested_token_type": "requestedTokenType",
	"client_id":            "clientId",
	"client_secret":        "clientSecret",
}

// params lists the request's parameters in the order they are sent: the
// RFC's (grant, subject token and its type, requested type, audiences,
// resources, scope), client credentials in the body, then extras.
func (p *Provider) params(subject string) []Param {
	ps := []Param{
		{"grant_type", GrantTypeTokenExchange},
		{"subject_token", subject},
		{"subject_token_type", p.subjectType},
		{"requested_token_type", p.requestedType},
	}
	for _, a := range p.cfg.Audiences {
		ps = append(ps, Param{"audience", a})
	}
	for _, r := range p.cfg.Resources {
		ps = append(ps, Param{"resource", r})
	}
	if p.scope != "" {
		ps = append(ps, Param{"scope", p.scope})
	}
	switch {
	case p.auth == ClientAuthPost:
		ps = append(ps, Param{"client_id", p.cfg.ClientID}, Param{"client_secret", p.cfg.ClientSecret.Reveal()})
	case p.auth == ClientAuthNone && p.cfg.ClientID != "":
		ps = append(ps, Param{"client_id", p.cfg.ClientID})
	}
	if p.format == FormatJSONCamel {
		for i := range ps {
			if c, ok := camelNames[ps[i].Key]; ok {
				ps[i].Key = c
			}
		}
	}
	return append(ps, p.extraParams...)
}

// encodeBody renders the parameters in the configured format and returns
// the body and its content type.
func encodeBody(format RequestFormat, ps []Param) ([]byte, string, error) {
	if format == FormatForm {
		var b strings.Builder
		for i, p := range ps {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(p.Key))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(p.Value))
		}
		return []byte(b.String()), "application/x-www-form-urlencoded", nil
	}
	// One member per name, in order of first appearance: a string when the
	// name is given once, an array of strings when it is repeated.
	var order []string
	values := map[string][]string{}
	for _, p := range ps {
		if _, seen := values[p.Key]; !seen {
			order = append(order, p.Key)
		}
		values[p.Key] = append(values[p.Key], p.Value)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, "", err
		}
		buf.Truncate(buf.Len() - 1) // Encode appends a newline
		buf.WriteByte(':')
		var v any = values[k]
		if len(values[k]) == 1 {
			v = values[k][0]
		}
		if err := enc.Encode(v); err != nil {
			return nil, "", err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), "application/json", nil
}

// basicAuth is the Authorization value of client_secret_basic: both parts
// form-urlencoded before they are joined (RFC 6749 §2.3.1), which many
// clients forget and which matters for secrets holding ':' or '%'.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// call makes one token request. Its errors are *OAuthError for an answer
// other than 2xx, *invalidResponseError for a 2xx that is not a token
// answer, and transport errors; none holds a body or a secret.
func (p *Provider) call(ctx context.Context, endpoint *url.URL, subject exchange.Secret) (*tokenResponse, error) {
	body, contentType, err := encodeBody(p.format, p.params(subject.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	hr.Header.Set("Content-Type", contentType)
	hr.Header.Set("Accept", "application/json")
	if p.auth == ClientAuthBasic {
		hr.Header.Set("Authorization", basicAuth(p.cfg.ClientID, p.cfg.ClientSecret.Reveal()))
	}
	resp, err := p.post.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readCapped(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		scrub := scrubber(subject.Reveal(), p.cfg.ClientSecret.Reveal())
		return nil, upstream.ParseOAuthError(resp.StatusCode, resp.Header, data, scrub)
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return nil, &invalidResponseError{reason: fmt.Sprintf("the answer is not JSON (Content-Type %q)", exchange.Sanitize(exchange.Truncate(resp.Header.Get("Content-Type"), 64)))}
	}
	return parseTokenResponse(data)
}

// readCapped reads a body up to maxResponseSize, failing beyond it even
// when the injected client has no cap of its own.
func readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResponseSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxResponseSize {
		return nil, httpclient.ErrResponseTooLarge
	}
	return data, nil
}

// isJSON accepts application/json and application/*+json media types.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// credentials checks the answer and turns it into exported variables.
func (p *Provider) credentials(a *tokenResponse, endpoint *url.URL) (*exchange.Credentials, error) {
	issued := a.IssuedTokenType
	switch {
	case issued == "" && p.requestedType == TokenTypeAccessToken:
		// RFC 8693 §2.2.1 requires issued_token_type, but brokers that
		// grew out of RFC 6749 token endpoints omit it; an access token is
		// what such an endpoint issues, and what was asked for.
		issued = TokenTypeAccessToken
	case issued == "":
		return nil, &exchange.ProviderError{
			Provider: providerName, Code: codeInvalidResponse, Kind: exchange.ErrProviderRejected,
			Message: "the answer has no issued_token_type, so it cannot be told to be the requested " + p.requestedType,
			Hint:    "the broker did not say what it issued; request " + TokenTypeAccessToken + " (requested-token-type) or fix the broker",
		}
	case !acceptableIssued(p.requestedType, issued):
		return nil, &exchange.ProviderError{
			Provider: providerName, Code: codeIssuedTokenTypeMismatch, Kind: exchange.ErrProviderRejected,
			Message: fmt.Sprintf("requested %s, the broker issued %s", p.requestedType, exchange.Sanitize(issued)),
			Hint:    "the broker issued another kind of token than requested-token-type asks for; nothing was exported. Set requested-token-type to what the broker issues for this client, or configure the broker",
		}
	}
	var expiry time.Time
	expiresAt := ""
	if a.ExpiresIn > 0 {
		expiry = p.now().Add(time.Duration(a.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
		expiresAt = expiry.Format(time.RFC3339)
	}
	scopes := strings.Fields(a.Scope)
	if a.Scope == "" {
		scopes = strings.Fields(p.scope)
	}
	creds := &exchange.Credentials{
		Provider: providerName,
		Env:      []exchange.Variable{exchange.SecretVariable(p.exportEnv, a.AccessToken)},
		Outputs: []exchange.Variable{
			exchange.SecretVariable(OutputToken, a.AccessToken),
			exchange.PlainVariable(OutputTokenType, a.TokenType),
			exchange.PlainVariable(OutputIssuedTokenType, issued),
			exchange.PlainVariable(OutputExpiresAt, expiresAt),
		},
		Expiry: expiry,
		Audit: exchange.ProviderAudit{
			Target:           display(endpoint),
			CredentialSHA256: a.AccessToken.SHA256(),
			Scopes:           scopes,
			Audiences:        slices.Clone(p.cfg.Audiences),
			Resources:        slices.Clone(p.cfg.Resources),
		},
	}
	p.logger.Debug("the broker issued a token", "issued_token_type", issued, "token_type", a.TokenType,
		"expires_at", expiresAt, "scope", a.Scope, "token_sha256", creds.Audit.CredentialSHA256,
		"refresh_token_dropped", !a.refreshToken.IsZero())
	return creds, nil
}

// ietfTokenType is the prefix of the token types RFC 8693 registers.
const ietfTokenType = "urn:ietf:params:oauth:token-type:"

// acceptableIssued says whether an answer's issued_token_type fulfils the
// request. Equal types always do. A request for an access token accepts a
// JWT too: many brokers issue JWT access tokens and say so. A request for
// a vendor's own type (urn:pulumi:token-type:access_token:organization)
// accepts the RFC's access_token and jwt too, since what such a vendor
// issues is its access token. Every other answer is a mismatch: an ID
// token, a refresh token or a SAML assertion exported where an access
// token was expected would be used as one.
func acceptableIssued(requested, issued string) bool {
	switch {
	case issued == requested:
		return true
	case requested == TokenTypeAccessToken:
		return issued == TokenTypeJWT
	case !strings.HasPrefix(requested, ietfTokenType):
		return issued == TokenTypeAccessToken || issued == TokenTypeJWT
	default:
		return false
	}
}
