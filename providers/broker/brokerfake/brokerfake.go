package brokerfake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// Grant and token types of RFC 8693.
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// Error codes the fake answers with (RFC 6749 §5.2, RFC 8693 §2.2.2).
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeInvalidTarget          = "invalid_target"
	CodeAccessDenied           = "access_denied"
	CodeRequestNotSupported    = "request_not_supported"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Paths the fake serves, below [Config.IssuerPath].
const (
	// TokenPath is the token endpoint.
	TokenPath = "/token"
	// WellKnownOAuth is RFC 8414's metadata path, inserted before the
	// issuer's path.
	WellKnownOAuth = "/.well-known/oauth-authorization-server"
	// WellKnownOIDC is OpenID Connect's, appended to the issuer.
	WellKnownOIDC = "/.well-known/openid-configuration"
)

// Limits of the fake.
const (
	// DefaultLifetime is the lifetime of issued tokens when none is set.
	DefaultLifetime = time.Hour
	// maxBodySize bounds a request body.
	maxBodySize = 64 << 10
)

// StatusFor returns the HTTP status the fake answers a code with:
// invalid_client 401, server_error 500, temporarily_unavailable 503, and
// 400 for everything else (RFC 6749 §5.2).
func StatusFor(code string) int {
	switch code {
	case CodeInvalidClient:
		return http.StatusUnauthorized
	case CodeServerError:
		return http.StatusInternalServerError
	case CodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// Format is a request body encoding.
type Format string

// Request formats: the RFC's form body, and the JSON bodies of SaaS
// platforms with snake_case or camelCase names.
const (
	FormatForm      Format = "form"
	FormatJSON      Format = "json"
	FormatJSONCamel Format = "json-camel"
)

// ClientAuth is how a request authenticated its client.
type ClientAuth string

// Client authentication methods.
const (
	AuthNone  ClientAuth = "none"
	AuthBasic ClientAuth = "client_secret_basic"
	AuthPost  ClientAuth = "client_secret_post"
)

// Metadata selects the discovery documents served.
type Metadata string

// Metadata choices.
const (
	// MetadataBoth serves RFC 8414 and OpenID Connect metadata (default).
	MetadataBoth Metadata = ""
	// MetadataOAuth serves only /.well-known/oauth-authorization-server.
	MetadataOAuth Metadata = "oauth"
	// MetadataOIDC serves only /.well-known/openid-configuration.
	MetadataOIDC Metadata = "oidc"
	// MetadataNone serves neither.
	MetadataNone Metadata = "none"
)

// Config configures a [Server].
type Config struct {
	// Issuer is the exact iss of accepted subject tokens. Required.
	Issuer string
	// KeySet verifies subject token signatures, e.g. oidc.NewRemoteKeySet
	// on the issuer's /keys. Required.
	KeySet oidc.KeySet
	// Audience is the aud subject tokens must carry: the broker's own, so
	// a token minted for a cloud cannot be replayed here. Required.
	Audience string
	// Claims are required claim values as glob patterns ([exchange.Glob]);
	// every claim must be a string matching its pattern, else
	// invalid_grant with a description naming the claim.
	Claims map[string]string
	// Formats are the body formats accepted; empty accepts all three.
	Formats []Format
	// ClientID and ClientSecret, when set, require client authentication
	// with exactly these credentials, by one of ClientAuths; a request
	// without them, or with others, gets 401 invalid_client.
	ClientID     string
	ClientSecret string
	// ClientAuths are the accepted methods; empty accepts basic and post.
	ClientAuths []ClientAuth
	// SubjectTokenTypes are accepted subject_token_type values; empty
	// accepts jwt and id_token. Others get invalid_request.
	SubjectTokenTypes []string
	// RequestedTokenTypes are accepted requested_token_type values; empty
	// accepts access_token and jwt. Others get invalid_request. A request
	// without one asks for an access token.
	RequestedTokenTypes []string
	// Audiences and Resources, when set, list the audience and resource
	// parameters the fake issues for; others get invalid_target.
	Audiences []string
	Resources []string
	// Scopes, when set, list the grantable scopes; others get
	// invalid_scope.
	Scopes []string
	// RequiredParams are extension parameters every request must carry
	// with exactly these values, like Dex's connector_id; a missing or
	// different one gets invalid_request.
	RequiredParams map[string]string
	// SingleUseJTI refuses a subject token whose jti was seen before
	// (invalid_grant), and one without a jti.
	SingleUseJTI bool
	// IssuedTokenType, when set, is answered whatever was requested (to
	// test a client's mismatch handling); else the requested type is.
	IssuedTokenType string
	// TokenType is the answer's token_type; "" means "Bearer".
	TokenType string
	// Lifetime is the issued tokens' lifetime; 0 means [DefaultLifetime].
	// A negative value omits expires_in.
	Lifetime time.Duration
	// IssuerPath is the path of the fake's own issuer URL, e.g.
	// "/realms/ci"; the token endpoint is below it, and the RFC 8414
	// metadata path is inserted before it.
	IssuerPath string
	// Metadata selects the discovery documents served.
	Metadata Metadata
	// MetadataIssuer, when set, replaces the issuer the metadata names
	// (to test a client's issuer check); else it is the fake's own URL.
	MetadataIssuer string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Failure is a scripted answer, see [Server.FailNext].
type Failure struct {
	// Status is the HTTP status; 0 means [StatusFor](Code).
	Status int
	// Code, Description and URI fill error, error_description and
	// error_uri.
	Code        string
	Description string
	URI         string
	// RetryAfter, when positive, is sent as Retry-After in seconds.
	RetryAfter int
	// RawBody, when set, replaces the JSON error with this body, sent
	// with ContentType (default text/html), as a proxy's error page, a
	// garbage answer or a 200 with a broken body would be.
	RawBody     string
	ContentType string
}

// Request is one token request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// ContentType is the request's media type.
	ContentType string
	// Format is the body's format as the fake recognised it.
	Format Format
	// Body is the raw body, subject token included.
	Body []byte
	// Params holds the parameters under their RFC (snake_case) names:
	// a JSON string is one value, an array several, a number its JSON
	// text; camelCase names are mapped back.
	Params url.Values
	// ClientAuth is how the client authenticated, and ClientID as whom
	// ("" when anonymous).
	ClientAuth ClientAuth
	ClientID   string
	// Status and Code are what was answered; Code is "" on success.
	Status int
	Code   string
	// Issued is the token issued, "" on failure.
	Issued string
}

// Server is an http.Handler speaking RFC 8693 and RFC 8414. It is safe for
// concurrent use.
type Server struct {
	cfg      Config
	verifier *oidc.IDTokenVerifier
	// anyAudience verifies everything but the audience, to tell a wrong
	// audience apart from a bad token in the description.
	anyAudience *oidc.IDTokenVerifier

	script httpfake.Script[Failure]

	mu       sync.Mutex
	requests []Request
	jtis     map[string]time.Time
}

var _ http.Handler = (*Server)(nil)

// New validates cfg and returns a fake broker.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("brokerfake: Issuer is required")
	case cfg.KeySet == nil:
		return nil, errors.New("brokerfake: KeySet is required")
	case cfg.Audience == "":
		return nil, errors.New("brokerfake: Audience is required: a broker must demand its own audience")
	case (cfg.ClientID == "") != (cfg.ClientSecret == ""):
		return nil, errors.New("brokerfake: ClientID and ClientSecret go together")
	case cfg.IssuerPath != "" && (!strings.HasPrefix(cfg.IssuerPath, "/") || strings.HasSuffix(cfg.IssuerPath, "/")):
		return nil, fmt.Errorf("brokerfake: IssuerPath %q must start with / and not end with one", cfg.IssuerPath)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.TokenType == "" {
		cfg.TokenType = "Bearer"
	}
	if len(cfg.Formats) == 0 {
		cfg.Formats = []Format{FormatForm, FormatJSON, FormatJSONCamel}
	}
	if len(cfg.ClientAuths) == 0 {
		cfg.ClientAuths = []ClientAuth{AuthBasic, AuthPost}
	}
	if len(cfg.SubjectTokenTypes) == 0 {
		cfg.SubjectTokenTypes = []string{TokenTypeJWT, TokenTypeIDToken}
	}
	if len(cfg.RequestedTokenTypes) == 0 {
		cfg.RequestedTokenTypes = []string{TokenTypeAccessToken, TokenTypeJWT}
	}
	// Copied, so a caller changing them later cannot race the handler.
	cfg.Claims = maps.Clone(cfg.Claims)
	cfg.RequiredParams = maps.Clone(cfg.RequiredParams)
	for _, s := range []*[]string{&cfg.Audiences, &cfg.Resources, &cfg.Scopes, &cfg.SubjectTokenTypes, &cfg.RequestedTokenTypes} {
		*s = slices.Clone(*s)
	}
	cfg.Formats = slices.Clone(cfg.Formats)
	cfg.ClientAuths = slices.Clone(cfg.ClientAuths)
	algs := []string{oidc.RS256}
	return &Server{
		cfg:      cfg,
		verifier: oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: algs, Now: cfg.Now}),
		anyAudience: oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{
			// Used only after the audience check failed, to pick the message.
			SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: cfg.Now,
		}),
		jtis: map[string]time.Time{},
	}, nil
}

// Requests returns a copy of every token request received so far, in
// order. Metadata requests are not recorded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r
		out[i].Header = r.Header.Clone()
		out[i].Body = slices.Clone(r.Body)
		out[i].Params = httpfake.CloneValues(r.Params)
	}
	return out
}

// Issued lists every token issued so far, for leak checks.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return httpfake.Issued(s.requests, func(r Request) string { return r.Issued })
}

// FailNext queues scripted answers; each of the next token requests is
// answered with the next one, after being recorded and before any other
// processing.
func (s *Server) FailNext(f ...Failure) { s.script.FailNext(f...) }

// SetLatency makes every token answer take d in all, the fake's own work
// included, to model a remote endpoint.
func (s *Server) SetLatency(d time.Duration) { s.script.SetLatency(d) }

// answer is a response to write.
type answer struct {
	status      int
	body        any
	raw         string
	contentType string
	code        string
	issued      string
	retryAfter  int
	basicRealm  bool
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !httpfake.Loopback(w, r, "brokerfake") {
		return
	}
	p := s.cfg.IssuerPath
	switch {
	case r.URL.Path == WellKnownOAuth+p && s.cfg.Metadata != MetadataOIDC && s.cfg.Metadata != MetadataNone,
		r.URL.Path == p+WellKnownOIDC && s.cfg.Metadata != MetadataOAuth && s.cfg.Metadata != MetadataNone:
		s.metadata(w, r)
		return
	case r.URL.Path != p+TokenPath:
		writeJSON(w, answer{status: http.StatusNotFound, body: map[string]string{"error": "not_found"}})
		return
	}

	rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), ClientAuth: AuthNone}
	rec.ContentType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	rec.Body = body
	var parseErr error
	if readErr == nil {
		rec.Format, rec.Params, parseErr = parseBody(rec.ContentType, body)
	}

	s.mu.Lock()
	scripted, latency := s.script.Next(nil)
	index := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	var a answer
	switch {
	case scripted != nil:
		a = scriptedAnswer(*scripted)
	case r.Method != http.MethodPost:
		a = oauthError(http.StatusMethodNotAllowed, CodeInvalidRequest, "the token endpoint accepts POST only")
	case readErr != nil:
		a = oauthError(http.StatusBadRequest, CodeInvalidRequest, "the request body could not be read")
	case parseErr != nil:
		a = oauthError(http.StatusBadRequest, CodeInvalidRequest, parseErr.Error())
	case !slices.Contains(s.cfg.Formats, rec.Format):
		a = oauthError(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("this broker does not accept %s bodies", rec.Format))
	default:
		var fail *answer
		rec.ClientAuth, rec.ClientID, fail = s.authenticate(r, rec.Params)
		if fail != nil {
			a = *fail
		} else {
			a = s.exchange(r.Context(), rec.Params)
		}
	}

	s.mu.Lock()
	s.requests[index].ClientAuth = rec.ClientAuth
	s.requests[index].ClientID = rec.ClientID
	s.requests[index].Status = a.status
	s.requests[index].Code = a.code
	s.requests[index].Issued = a.issued
	s.mu.Unlock()

	if !httpfake.Pace(r.Context(), start, latency) {
		return
	}
	writeJSON(w, a)
}

// camelToSnake maps camelCase names of a JSON body to the RFC's.
var camelToSnake = map[string]string{
	"grantType":          "grant_type",
	"subjectToken":       "subject_token",
	"subjectTokenType":   "subject_token_type",
	"requestedTokenType": "requested_token_type",
	"actorToken":         "actor_token",
	"actorTokenType":     "actor_token_type",
	"clientId":           "client_id",
	"clientSecret":       "client_secret",
}

// snakeNames are the RFC's names that camelCase bodies spell otherwise.
var snakeNames = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range camelToSnake {
		m[v] = true
	}
	return m
}()

// repeatable are the parameters RFC 8693 allows more than once.
var repeatable = map[string]bool{"audience": true, "resource": true}

// parseBody recognises the format and returns the parameters under their
// RFC names.
func parseBody(contentType string, body []byte) (Format, url.Values, error) {
	switch contentType {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return FormatForm, nil, errors.New("the form body could not be parsed")
		}
		for name, values := range form {
			if len(values) > 1 && !repeatable[name] {
				return FormatForm, form, fmt.Errorf("parameter %s is given %d times", name, len(values))
			}
		}
		return FormatForm, form, nil
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil || m == nil {
			return FormatJSON, nil, errors.New("the JSON body could not be parsed")
		}
		format := FormatJSON
		if _, camel := m["grantType"]; camel {
			format = FormatJSONCamel
		}
		params := url.Values{}
		for k, raw := range m {
			name := k
			if snake, ok := camelToSnake[k]; ok {
				if format != FormatJSONCamel {
					return format, nil, fmt.Errorf("camelCase member %q in a snake_case body", k)
				}
				name = snake
			} else if format == FormatJSONCamel && snakeNames[k] {
				return format, nil, fmt.Errorf("snake_case member %q in a camelCase body", k)
			}
			var (
				one  string
				many []string
			)
			switch {
			case json.Unmarshal(raw, &one) == nil:
				params.Add(name, one)
			case json.Unmarshal(raw, &many) == nil:
				if len(many) > 1 && !repeatable[name] {
					return format, nil, fmt.Errorf("member %q is a list; only audience and resource may be", k)
				}
				for _, v := range many {
					params.Add(name, v)
				}
			default:
				// Numbers (Pulumi's expiration) and the like, as JSON text.
				params.Add(name, string(raw))
			}
		}
		return format, params, nil
	default:
		return "", nil, fmt.Errorf("unsupported content type %q; send application/x-www-form-urlencoded or application/json", contentType)
	}
}

// authenticate checks client authentication as configured. A request
// without credentials to a fake with a client is answered 401
// invalid_client, with WWW-Authenticate when basic is accepted.
func (s *Server) authenticate(r *http.Request, params url.Values) (ClientAuth, string, *answer) {
	method, id, secret := AuthNone, params.Get("client_id"), ""
	basicID, basicSecret, hasBasic := basicCredentials(r)
	switch {
	case hasBasic && params.Has("client_secret"):
		a := s.invalidClient("use one client authentication method, not several")
		return AuthNone, "", &a
	case hasBasic:
		method, id, secret = AuthBasic, basicID, basicSecret
	case params.Has("client_secret"):
		method, secret = AuthPost, params.Get("client_secret")
	}
	if s.cfg.ClientID == "" {
		return method, id, nil
	}
	switch {
	case method == AuthNone:
		a := s.invalidClient("client authentication is required")
		return method, id, &a
	case !slices.Contains(s.cfg.ClientAuths, method):
		a := s.invalidClient(fmt.Sprintf("the client is not registered for %s", method))
		return method, id, &a
	case subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret)) != 1:
		a := s.invalidClient("invalid client credentials")
		return method, id, &a
	}
	return method, id, nil
}

// basicCredentials decodes client_secret_basic: both parts are
// form-urlencoded inside the Basic credentials (RFC 6749 §2.3.1).
func basicCredentials(r *http.Request) (string, string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", "", false
	}
	u, err1 := url.QueryUnescape(user)
	p, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil {
		return user, pass, true
	}
	return u, p, true
}

func (s *Server) invalidClient(description string) answer {
	a := oauthError(http.StatusUnauthorized, CodeInvalidClient, description)
	a.basicRealm = slices.Contains(s.cfg.ClientAuths, AuthBasic)
	return a
}

// tokenAnswer is a successful RFC 8693 answer.
type tokenAnswer struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in,omitempty"`
	Scope           string `json:"scope,omitempty"`
}

// exchange processes an authenticated request in the order a broker
// would: grant, parameters, subject token, policy.
func (s *Server) exchange(ctx context.Context, params url.Values) answer {
	if g := params.Get("grant_type"); g != GrantTokenExchange {
		return oauthError(http.StatusBadRequest, CodeUnsupportedGrantType, fmt.Sprintf("unsupported grant_type %q", g))
	}
	token := params.Get("subject_token")
	if token == "" {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, "missing subject_token")
	}
	if t := params.Get("subject_token_type"); !slices.Contains(s.cfg.SubjectTokenTypes, t) {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("unsupported subject_token_type %q", t))
	}
	requested := params.Get("requested_token_type")
	if requested == "" {
		requested = TokenTypeAccessToken
	}
	if !slices.Contains(s.cfg.RequestedTokenTypes, requested) {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("unsupported requested_token_type %q", requested))
	}
	for _, k := range slices.Sorted(maps.Keys(s.cfg.RequiredParams)) {
		if params.Get(k) != s.cfg.RequiredParams[k] {
			return oauthError(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("missing or unknown %s", k))
		}
	}
	if params.Has("actor_token") {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, "delegation (actor_token) is not supported")
	}
	for _, a := range params["audience"] {
		if len(s.cfg.Audiences) > 0 && !slices.Contains(s.cfg.Audiences, a) {
			return oauthError(http.StatusBadRequest, CodeInvalidTarget, fmt.Sprintf("unknown audience %q", a))
		}
	}
	for _, r := range params["resource"] {
		if len(s.cfg.Resources) > 0 && !slices.Contains(s.cfg.Resources, r) {
			return oauthError(http.StatusBadRequest, CodeInvalidTarget, fmt.Sprintf("unknown resource %q", r))
		}
	}
	scope := strings.Fields(params.Get("scope"))
	for _, sc := range scope {
		if len(s.cfg.Scopes) > 0 && !slices.Contains(s.cfg.Scopes, sc) {
			return oauthError(http.StatusBadRequest, CodeInvalidScope, fmt.Sprintf("scope %q is not granted to this client", sc))
		}
	}

	idt, fail := s.verify(ctx, token)
	if fail != nil {
		return *fail
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token's claims could not be read")
	}
	for _, name := range slices.Sorted(maps.Keys(s.cfg.Claims)) {
		pattern := s.cfg.Claims[name]
		v, ok := claims[name].(string)
		if !ok || !exchange.Glob(pattern, v) {
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, fmt.Sprintf("claim %s does not match the policy (%s)", name, pattern))
		}
	}
	if s.cfg.SingleUseJTI {
		jti, _ := claims["jti"].(string)
		if jti == "" {
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token has no jti")
		}
		now := s.cfg.Now()
		s.mu.Lock()
		for k, exp := range s.jtis {
			if exp.Before(now) {
				delete(s.jtis, k)
			}
		}
		_, replay := s.jtis[jti]
		if !replay {
			s.jtis[jti] = idt.Expiry
		}
		s.mu.Unlock()
		if replay {
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token was already used (jti replay)")
		}
	}

	issued, err := randomToken()
	if err != nil {
		return oauthError(http.StatusInternalServerError, CodeServerError, "could not issue a token")
	}
	ans := tokenAnswer{
		AccessToken:     issued,
		IssuedTokenType: requested,
		TokenType:       s.cfg.TokenType,
		Scope:           strings.Join(scope, " "),
	}
	if s.cfg.IssuedTokenType != "" {
		ans.IssuedTokenType = s.cfg.IssuedTokenType
	}
	if s.cfg.Lifetime > 0 {
		ans.ExpiresIn = int64(s.cfg.Lifetime / time.Second)
	}
	return answer{status: http.StatusOK, body: ans, issued: issued}
}

// verify checks the subject token with go-oidc and maps failures to
// invalid_grant with a description of the cause.
func (s *Server) verify(ctx context.Context, token string) (*oidc.IDToken, *answer) {
	idt, err := s.verifier.Verify(ctx, token)
	if err == nil {
		return idt, nil
	}
	var (
		expired  *oidc.TokenExpiredError
		mismatch *oidc.IssuerMismatchError
	)
	var a answer
	switch {
	case errors.As(err, &expired):
		a = oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token has expired")
	case errors.As(err, &mismatch):
		a = oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token's issuer is not trusted")
	default:
		if _, aerr := s.anyAudience.Verify(ctx, token); aerr == nil {
			a = oauthError(http.StatusBadRequest, CodeInvalidGrant, fmt.Sprintf("the subject token's audience is not %s", s.cfg.Audience))
		} else {
			a = oauthError(http.StatusBadRequest, CodeInvalidGrant, "the subject token could not be verified")
		}
	}
	return nil, &a
}

// metadata serves the discovery documents, naming the fake's own URL as
// issuer unless MetadataIssuer says otherwise.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	issuer := base + s.cfg.IssuerPath
	if s.cfg.MetadataIssuer != "" {
		issuer = s.cfg.MetadataIssuer
	}
	methods := []string{}
	if s.cfg.ClientID == "" {
		methods = append(methods, string(AuthNone))
	}
	for _, m := range s.cfg.ClientAuths {
		methods = append(methods, string(m))
	}
	writeJSON(w, answer{status: http.StatusOK, body: map[string]any{
		"issuer":                                issuer,
		"token_endpoint":                        base + s.cfg.IssuerPath + TokenPath,
		"grant_types_supported":                 []string{GrantTokenExchange},
		"token_endpoint_auth_methods_supported": methods,
	}})
}

func scriptedAnswer(f Failure) answer {
	status := f.Status
	if status == 0 {
		status = StatusFor(f.Code)
	}
	if f.RawBody != "" {
		ct := f.ContentType
		if ct == "" {
			ct = "text/html; charset=utf-8"
		}
		return answer{status: status, raw: f.RawBody, contentType: ct, retryAfter: f.RetryAfter}
	}
	a := oauthError(status, f.Code, f.Description)
	a.body = errorBody{Error: f.Code, ErrorDescription: f.Description, ErrorURI: f.URI}
	a.retryAfter = f.RetryAfter
	a.basicRealm = f.Code == CodeInvalidClient
	return a
}

type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

func oauthError(status int, code, description string) answer {
	return answer{status: status, code: code, body: errorBody{Error: code, ErrorDescription: description}}
}

func writeJSON(w http.ResponseWriter, a answer) {
	h := w.Header()
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	if a.basicRealm {
		h.Set("WWW-Authenticate", `Basic realm="brokerfake"`)
	}
	// Token answers must not be cached (RFC 6749 §5.1).
	h.Set("Cache-Control", "no-store")
	if a.raw != "" {
		h.Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.raw)
		return
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(append(b, '\n'))
}

// randomToken returns an opaque token: a prefix and 32 random bytes.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	return "bft_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
