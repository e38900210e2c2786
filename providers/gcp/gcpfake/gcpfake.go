package gcpfake

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
)

// Grant and token types of the protocols.
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// Endpoint names one kind of call, in [Request] and [Failure].
type Endpoint string

// The endpoints the fake serves.
const (
	// EndpointSTS is POST /v1/token with a CI token: federation.
	EndpointSTS Endpoint = "sts"
	// EndpointDownscope is POST /v1/token with an access token and an
	// access boundary.
	EndpointDownscope Endpoint = "downscope"
	// EndpointGenerateAccessToken and the next two are IAM Credentials,
	// POST /v1/projects/-/serviceAccounts/{email}:{method}.
	EndpointGenerateAccessToken Endpoint = "generateAccessToken"
	EndpointGenerateIDToken     Endpoint = "generateIdToken"
	EndpointSignJWT             Endpoint = "signJwt"
	// EndpointOAuth2 is POST /token, the jwt-bearer grant.
	EndpointOAuth2 Endpoint = "oauth2"
	// EndpointUnknown is any other path.
	EndpointUnknown Endpoint = "unknown"
)

// Error codes of STS and the OAuth server (RFC 6749, RFC 8693).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidGrant         = "invalid_grant"
	CodeInvalidTarget        = "invalid_target"
	CodeInvalidScope         = "invalid_scope"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeServerError          = "server_error"
	CodeTemporarilyUnavail   = "temporarily_unavailable"
)

// Statuses of Google API errors (google.rpc.Code names).
const (
	StatusInvalidArgument   = "INVALID_ARGUMENT"
	StatusUnauthenticated   = "UNAUTHENTICATED"
	StatusPermissionDenied  = "PERMISSION_DENIED"
	StatusNotFound          = "NOT_FOUND"
	StatusResourceExhausted = "RESOURCE_EXHAUSTED"
	StatusInternal          = "INTERNAL"
	StatusUnavailable       = "UNAVAILABLE"
	StatusDeadlineExceeded  = "DEADLINE_EXCEEDED"
)

// Messages Google answers with, where tests and users recognise them.
const (
	MessageConditionRejected = "The given credential is rejected by the attribute condition."
	MessageInvalidTarget     = `The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.`
	MessageInvalidAudience   = `Invalid value for "audience". This value should be the full resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats.`
	MessageUnauthenticated   = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	MessageUnauthorizedDWD   = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
)

// Limits Google applies.
const (
	// DefaultMaxAccessTokenLifetime is IAM's maximum lifetime without the
	// organisation policy that extends it.
	DefaultMaxAccessTokenLifetime = time.Hour
	// maxFederatedLifetime bounds a federated token: at most an hour, and
	// never longer than the subject token lives.
	maxFederatedLifetime = time.Hour
	// maxAssertionLifetime is the OAuth server's limit on exp - iat.
	maxAssertionLifetime = time.Hour
	// idTokenLifetime is the lifetime of Google-signed ID tokens.
	idTokenLifetime = time.Hour
	// maxBodySize bounds a request body.
	maxBodySize = 64 << 10
	// maxBoundaryRules is the Credential Access Boundary limit.
	maxBoundaryRules = 10
	// iamService is the service name in resource names.
	iamService = "iam.googleapis.com"
	// googleIssuer is the iss of Google-signed ID tokens.
	googleIssuer = "https://accounts.google.com"
)

// StatusFor returns the HTTP status Google answers a code or status
// with: 401 for unauthorized_client and UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500
// server_error and INTERNAL, 503 temporarily_unavailable and UNAVAILABLE,
// 504 DEADLINE_EXCEEDED, 400 for everything else.
func StatusFor(code string) int {
	switch code {
	case CodeUnauthorizedClient, StatusUnauthenticated:
		return http.StatusUnauthorized
	case StatusPermissionDenied:
		return http.StatusForbidden
	case StatusNotFound:
		return http.StatusNotFound
	case StatusResourceExhausted:
		return http.StatusTooManyRequests
	case CodeServerError, StatusInternal:
		return http.StatusInternalServerError
	case CodeTemporarilyUnavail, StatusUnavailable:
		return http.StatusServiceUnavailable
	case StatusDeadlineExceeded:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadRequest
	}
}

// ServiceAccount is a service account and its IAM bindings. Principals
// are written as in IAM policies:
//
//	principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/SUB
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/attribute.repository_id/123
//	principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/*
//
// The provider maps google.subject=assertion.sub and
// attribute.NAME=assertion.NAME for every string claim.
type ServiceAccount struct {
	// WorkloadIdentityUsers hold roles/iam.workloadIdentityUser:
	// generateAccessToken and generateIdToken.
	WorkloadIdentityUsers []string
	// TokenCreators hold roles/iam.serviceAccountTokenCreator: also
	// signJwt.
	TokenCreators []string
	// DelegatedSubjects are the Workspace users the service account may
	// act as through domain-wide delegation.
	DelegatedSubjects []string
}

// Config configures a [Server].
type Config struct {
	// Issuer is the exact iss of accepted tokens, the provider's issuer
	// URI.
	Issuer string
	// KeySet verifies token signatures, e.g. oidc.NewRemoteKeySet on the
	// issuer's /keys. Required.
	KeySet oidc.KeySet
	// Provider is the one workload identity provider that exists,
	// projects/N/locations/global/workloadIdentityPools/P/providers/X.
	Provider string
	// AllowedAudiences are the audiences the provider accepts in tokens;
	// empty means Google's default, the provider's name with the
	// https://iam.googleapis.com/ or //iam.googleapis.com/ prefix.
	AllowedAudiences []string
	// Condition is the attribute condition as required claim values:
	// every claim must be a string matching its glob pattern. Empty
	// admits every token, like a provider without a condition.
	Condition map[string]string
	// ServiceAccounts maps emails to service accounts; others do not
	// exist.
	ServiceAccounts map[string]ServiceAccount
	// MaxAccessTokenLifetime is the longest generateAccessToken lifetime
	// accepted; 0 means [DefaultMaxAccessTokenLifetime].
	MaxAccessTokenLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Failure is a scripted error answer, see [Server.FailNext].
type Failure struct {
	// Endpoint limits the failure to one endpoint; "" means the next
	// request of any kind.
	Endpoint Endpoint
	// Status is the HTTP status; 0 means [StatusFor](Code).
	Status int
	// Code is the OAuth error code (STS, OAuth server) or the Google
	// status (IAM Credentials); "" derives one from Status.
	Code    string
	Message string
	// RetryAfter, when positive, is sent as Retry-After in seconds.
	RetryAfter int
	// RawBody, when set, replaces the JSON error with this text/html
	// body, as a proxy's error page would.
	RawBody string
}

// Request is one request the fake received.
type Request struct {
	Endpoint Endpoint
	Method   string
	Path     string
	Header   http.Header
	// Form holds the fields of an STS or OAuth request: the form body,
	// or a JSON body's camelCase fields under their form names
	// (grantType → grant_type; an options object is re-encoded).
	Form url.Values
	// JSON is the decoded JSON body (IAM Credentials, JSON STS requests).
	JSON map[string]any
	// ContentType is the request's media type.
	ContentType string
	// ServiceAccount is the email of an IAM Credentials path.
	ServiceAccount string
	// Status and Code are what was answered; Code is "" on success.
	Status int
	Code   string
	// Issued is the token issued, "" on failure.
	Issued string
}

// TokenKind says what issued a token.
type TokenKind string

// Token kinds.
const (
	KindFederated      TokenKind = "federated"
	KindDownscoped     TokenKind = "downscoped"
	KindServiceAccount TokenKind = "service_account"
	KindIDToken        TokenKind = "id_token"
	KindSignedJWT      TokenKind = "signed_jwt"
	KindUser           TokenKind = "user"
)

// TokenInfo describes a token the fake issued.
type TokenInfo struct {
	Kind TokenKind
	// Subject is the federated principal's google.subject.
	Subject string
	// Attributes are the federated principal's mapped attributes.
	Attributes map[string]string
	// ServiceAccount is the impersonated service account.
	ServiceAccount string
	// User is the delegated Workspace user.
	User string
	// Scopes of an access token; Audience of an ID token.
	Scopes   []string
	Audience string
	Expiry   time.Time
	// AccessBoundary is the options JSON a downscoped token was issued
	// with.
	AccessBoundary string
}

// Server is an http.Handler speaking STS, IAM Credentials and the OAuth
// jwt-bearer grant. It is safe for concurrent use.
type Server struct {
	cfg      Config
	pool     string
	verifier *oidc.IDTokenVerifier

	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error

	script httpfake.Script[Failure]

	mu       sync.Mutex
	requests []Request
	tokens   map[string]*TokenInfo
}

var _ http.Handler = (*Server)(nil)

var providerRE = regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$`)

// New validates cfg and returns a fake.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("gcpfake: Issuer is required")
	case cfg.KeySet == nil:
		return nil, errors.New("gcpfake: KeySet is required")
	case !providerRE.MatchString(cfg.Provider):
		return nil, fmt.Errorf("gcpfake: Provider %q is not a workload identity provider resource name", cfg.Provider)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAccessTokenLifetime == 0 {
		cfg.MaxAccessTokenLifetime = DefaultMaxAccessTokenLifetime
	}
	if len(cfg.AllowedAudiences) == 0 {
		cfg.AllowedAudiences = []string{"https://" + iamService + "/" + cfg.Provider, "//" + iamService + "/" + cfg.Provider}
	}
	// Copied, so a caller changing its maps later cannot race the handler.
	cfg.ServiceAccounts = maps.Clone(cfg.ServiceAccounts)
	cfg.Condition = maps.Clone(cfg.Condition)
	cfg.AllowedAudiences = slices.Clone(cfg.AllowedAudiences)
	s := &Server{cfg: cfg, tokens: map[string]*TokenInfo{}}
	s.pool = cfg.Provider[:strings.LastIndex(cfg.Provider, "/providers/")]
	algs := []string{oidc.RS256}
	// The audience is checked against the allowed list below, which
	// go-oidc's single ClientID cannot express.
	s.verifier = oidc.NewVerifier(cfg.Issuer, cfg.KeySet, &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: cfg.Now})
	return s, nil
}

// Pool is the provider's pool resource name.
func (s *Server) Pool() string { return s.pool }

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r
		out[i].Header = r.Header.Clone()
		out[i].Form = httpfake.CloneValues(r.Form)
	}
	return out
}

// Token looks up a token the fake issued.
func (s *Server) Token(value string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok {
		return TokenInfo{}, false
	}
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	return c, true
}

// Issued lists every token issued so far, for leak checks.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return httpfake.Issued(s.requests, func(r Request) string { return r.Issued })
}

// FailNext queues failures. Each is answered to the next request of its
// endpoint (any endpoint when Endpoint is ""), after the request is
// recorded and before any other processing.
func (s *Server) FailNext(f ...Failure) { s.script.FailNext(f...) }

// SetLatency makes every answer take d in all, the fake's own work
// included, to model a remote endpoint.
func (s *Server) SetLatency(d time.Duration) { s.script.SetLatency(d) }

// answer is a response to write.
type answer struct {
	status     int
	body       any
	raw        string
	code       string
	issued     string
	retryAfter int
}

var iamPathRE = regexp.MustCompile(`^/v1/projects/-/serviceAccounts/([^/:]+):(generateAccessToken|generateIdToken|signJwt)$`)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !httpfake.Loopback(w, r, "gcpfake") {
		return
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Endpoint: EndpointUnknown}
	rec.ContentType, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch r.URL.Path {
	case "/v1/token":
		rec.Endpoint = EndpointSTS
	case "/token":
		rec.Endpoint = EndpointOAuth2
	default:
		if m := iamPathRE.FindStringSubmatch(r.URL.Path); m != nil {
			rec.Endpoint = Endpoint(m[2])
			rec.ServiceAccount = m[1]
		}
	}
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	parseErr := rec.parse(body)
	if rec.Endpoint == EndpointSTS && rec.Form.Get("subject_token_type") == TokenTypeAccessToken {
		rec.Endpoint = EndpointDownscope
	}

	s.mu.Lock()
	scripted, latency := s.script.Next(func(f Failure) bool { return f.Endpoint == "" || f.Endpoint == rec.Endpoint })
	index := len(s.requests)
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	var a answer
	switch {
	case scripted != nil:
		a = s.failure(rec.Endpoint, *scripted)
	case r.Method != http.MethodPost:
		a = s.errorFor(rec.Endpoint, http.StatusMethodNotAllowed, "", "the fake accepts POST only")
	case readErr != nil:
		a = s.errorFor(rec.Endpoint, http.StatusBadRequest, "", "the request body could not be read")
	case rec.Endpoint == EndpointUnknown:
		a = apiError(http.StatusNotFound, StatusNotFound, "The requested URL was not found on this server.")
	case parseErr != nil:
		a = s.errorFor(rec.Endpoint, http.StatusBadRequest, "", parseErr.Error())
	case rec.Endpoint == EndpointSTS || rec.Endpoint == EndpointDownscope:
		a = s.sts(r.Context(), rec.Form)
	case rec.Endpoint == EndpointOAuth2:
		a = s.oauth2(r, rec.Form)
	default:
		a = s.iam(rec, r.Header.Get("Authorization"))
	}

	s.mu.Lock()
	s.requests[index].Status = a.status
	s.requests[index].Code = a.code
	s.requests[index].Issued = a.issued
	s.mu.Unlock()

	if !httpfake.Pace(r.Context(), start, latency) {
		return
	}
	writeJSON(w, a)
}

// jsonToForm maps the camelCase fields of a JSON STS request to their
// form names.
var jsonToForm = map[string]string{
	"grantType":          "grant_type",
	"subjectToken":       "subject_token",
	"subjectTokenType":   "subject_token_type",
	"requestedTokenType": "requested_token_type",
	"audience":           "audience",
	"scope":              "scope",
	"options":            "options",
	"actorToken":         "actor_token",
	"actorTokenType":     "actor_token_type",
}

// parse fills Form or JSON from the body.
func (rec *Request) parse(body []byte) error {
	switch rec.Endpoint {
	case EndpointSTS, EndpointDownscope, EndpointOAuth2:
		if rec.ContentType == "application/json" {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				return errors.New("the JSON body could not be parsed")
			}
			rec.JSON = m
			rec.Form = url.Values{}
			for k, v := range m {
				name, ok := jsonToForm[k]
				if !ok {
					return fmt.Errorf("unknown field %q", k)
				}
				switch v := v.(type) {
				case string:
					rec.Form.Set(name, v)
				case []any:
					// scope as a list
					parts := make([]string, 0, len(v))
					for _, e := range v {
						str, ok := e.(string)
						if !ok {
							return fmt.Errorf("field %q is not a list of strings", k)
						}
						parts = append(parts, str)
					}
					rec.Form.Set(name, strings.Join(parts, " "))
				default:
					b, err := json.Marshal(v)
					if err != nil {
						return fmt.Errorf("field %q is not encodable", k)
					}
					rec.Form.Set(name, string(b))
				}
			}
			return nil
		}
		if rec.ContentType != "application/x-www-form-urlencoded" {
			return errors.New("the request must be application/x-www-form-urlencoded or application/json")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return errors.New("the form body could not be parsed")
		}
		rec.Form = form
		for name, values := range form {
			if len(values) != 1 {
				return fmt.Errorf("parameter %s is given %d times", name, len(values))
			}
		}
	case EndpointGenerateAccessToken, EndpointGenerateIDToken, EndpointSignJWT:
		if len(body) == 0 {
			rec.JSON = map[string]any{}
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return errors.New("invalid JSON payload received")
		}
		rec.JSON = m
	case EndpointUnknown:
		// Answered 404 without looking at the body.
	}
	return nil
}

// failure renders a scripted failure in the endpoint's error shape.
func (s *Server) failure(ep Endpoint, f Failure) answer {
	status := f.Status
	if status == 0 {
		status = StatusFor(f.Code)
	}
	a := s.errorFor(ep, status, f.Code, f.Message)
	a.retryAfter = f.RetryAfter
	if f.RawBody != "" {
		a.body, a.raw, a.code = nil, f.RawBody, ""
	}
	return a
}

// errorFor renders an error in the shape of the endpoint: OAuth JSON for
// STS and the OAuth server, Google API JSON for IAM Credentials.
func (s *Server) errorFor(ep Endpoint, status int, code, message string) answer {
	switch ep {
	case EndpointSTS, EndpointDownscope, EndpointOAuth2:
		if code == "" {
			code = oauthCodeFor(status)
		}
		return oauthError(status, code, message)
	default:
		if code == "" {
			code = apiStatusFor(status)
		}
		return apiError(status, code, message)
	}
}

func oauthCodeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return CodeUnauthorizedClient
	case status == http.StatusServiceUnavailable:
		return CodeTemporarilyUnavail
	case status >= 500:
		return CodeServerError
	default:
		return CodeInvalidRequest
	}
}

func apiStatusFor(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return StatusUnauthenticated
	case http.StatusForbidden:
		return StatusPermissionDenied
	case http.StatusNotFound:
		return StatusNotFound
	case http.StatusTooManyRequests:
		return StatusResourceExhausted
	case http.StatusServiceUnavailable:
		return StatusUnavailable
	case http.StatusGatewayTimeout:
		return StatusDeadlineExceeded
	}
	if status >= 500 {
		return StatusInternal
	}
	return StatusInvalidArgument
}

type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

func oauthError(status int, code, description string) answer {
	return answer{status: status, code: code, body: oauthErrorBody{Error: code, ErrorDescription: description}}
}

type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

func apiError(status int, code, message string) answer {
	return answer{status: status, code: code, body: apiErrorBody{Error: apiErrorDetail{Code: status, Message: message, Status: code}}}
}

func writeJSON(w http.ResponseWriter, a answer) {
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	if a.raw != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.raw)
		return
	}
	b, err := json.Marshal(a.body)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(a.status)
	_, _ = w.Write(append(b, '\n'))
}

// stsResponse is a successful token exchange.
type stsResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

// sts serves POST /v1/token.
func (s *Server) sts(ctx context.Context, form url.Values) answer {
	if g := form.Get("grant_type"); g != GrantTokenExchange {
		return oauthError(http.StatusBadRequest, CodeUnsupportedGrantType, fmt.Sprintf("Unsupported grant type: %q.", g))
	}
	if form.Get("subject_token") == "" {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, "Missing required parameter: subject_token.")
	}
	if rt := form.Get("requested_token_type"); rt != TokenTypeAccessToken {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("Invalid value for \"requested_token_type\": %q.", rt))
	}
	switch form.Get("subject_token_type") {
	case TokenTypeJWT, TokenTypeIDToken:
		return s.federate(ctx, form)
	case TokenTypeAccessToken:
		return s.downscope(form)
	default:
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, "Invalid value for \"subject_token_type\".")
	}
}

// federate exchanges a CI token for a federated token.
func (s *Server) federate(ctx context.Context, form url.Values) answer {
	aud := form.Get("audience")
	name, ok := strings.CutPrefix(aud, "//"+iamService+"/")
	if !ok || !providerRE.MatchString(name) {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, MessageInvalidAudience)
	}
	if name != s.cfg.Provider {
		return oauthError(http.StatusBadRequest, CodeInvalidTarget, MessageInvalidTarget)
	}
	now := s.cfg.Now()
	subject := form.Get("subject_token")
	if iss, ok := unverifiedIssuer(subject); ok && iss != s.cfg.Issuer {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, fmt.Sprintf("The issuer in ID Token %s does not match the expected ones: %s.", iss, s.cfg.Issuer))
	}
	idt, err := s.verifier.Verify(ctx, subject)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, "The ID Token has expired.")
		default:
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, "Invalid JWT signature or format.")
		}
	}
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(s.cfg.AllowedAudiences, a) }) {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, fmt.Sprintf("The audience in ID Token %v does not match the expected audience.", idt.Audience))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "The ID Token could not be parsed.")
	}
	attrs := map[string]string{}
	for k, v := range claims {
		if str, ok := v.(string); ok {
			attrs[k] = str
		}
	}
	for claim, pattern := range s.cfg.Condition {
		v, ok := attrs[claim]
		if !ok || !exchange.Glob(pattern, v) {
			return oauthError(http.StatusBadRequest, CodeInvalidGrant, MessageConditionRejected)
		}
	}
	var boundary string
	if opts := form.Get("options"); opts != "" {
		var a *answer
		if boundary, a = parseOptions(opts, false); a != nil {
			return *a
		}
	}
	life := min(maxFederatedLifetime, idt.Expiry.Sub(now).Truncate(time.Second))
	if life <= 0 {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "The ID Token has expired.")
	}
	info := &TokenInfo{
		Kind: KindFederated, Subject: idt.Subject, Attributes: attrs,
		Scopes: scopes(form.Get("scope")), Expiry: now.Add(life), AccessBoundary: boundary,
	}
	return s.issueSTS("ya29.d.fake-federated-", info, life)
}

// downscope exchanges an access token for a downscoped one.
func (s *Server) downscope(form url.Values) answer {
	src, ok := s.live(form.Get("subject_token"))
	if !ok || (src.Kind != KindFederated && src.Kind != KindServiceAccount && src.Kind != KindDownscoped) {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "The access token is invalid, expired, or cannot be downscoped.")
	}
	opts := form.Get("options")
	if opts == "" {
		return oauthError(http.StatusBadRequest, CodeInvalidRequest, "Missing required parameter: options.")
	}
	boundary, a := parseOptions(opts, true)
	if a != nil {
		return *a
	}
	info := *src
	info.Kind = KindDownscoped
	info.AccessBoundary = boundary
	info.Scopes = slices.Clone(src.Scopes)
	return s.issueSTS("ya29.d.fake-downscoped-", &info, src.Expiry.Sub(s.cfg.Now()).Truncate(time.Second))
}

// parseOptions checks the options JSON of an exchange and returns the
// access boundary it holds, re-encoded compactly.
func parseOptions(opts string, requireBoundary bool) (string, *answer) {
	bad := func(msg string) (string, *answer) {
		a := oauthError(http.StatusBadRequest, CodeInvalidRequest, msg)
		return "", &a
	}
	var doc struct {
		AccessBoundary *struct {
			AccessBoundaryRules []struct {
				AvailableResource     string   `json:"availableResource"`
				AvailablePermissions  []string `json:"availablePermissions"`
				AvailabilityCondition *struct {
					Expression string `json:"expression"`
				} `json:"availabilityCondition"`
			} `json:"accessBoundaryRules"`
		} `json:"accessBoundary"`
		UserProject string `json:"userProject"`
	}
	if err := json.Unmarshal([]byte(opts), &doc); err != nil {
		return bad("The options parameter is not valid JSON.")
	}
	if doc.AccessBoundary == nil {
		if requireBoundary {
			return bad("The options parameter must contain an accessBoundary.")
		}
		return "", nil
	}
	rules := doc.AccessBoundary.AccessBoundaryRules
	if len(rules) == 0 || len(rules) > maxBoundaryRules {
		return bad(fmt.Sprintf("The access boundary must have between 1 and %d rules.", maxBoundaryRules))
	}
	for _, r := range rules {
		if !strings.HasPrefix(r.AvailableResource, "//storage.googleapis.com/projects/_/buckets/") {
			return bad(fmt.Sprintf("Unsupported availableResource %q.", r.AvailableResource))
		}
		if len(r.AvailablePermissions) == 0 {
			return bad("availablePermissions must not be empty.")
		}
		for _, p := range r.AvailablePermissions {
			if !strings.HasPrefix(p, "inRole:roles/") && !strings.HasPrefix(p, "inRole:projects/") && !strings.HasPrefix(p, "inRole:organizations/") {
				return bad(fmt.Sprintf("Invalid permission %q.", p))
			}
		}
		if c := r.AvailabilityCondition; c != nil && strings.TrimSpace(c.Expression) == "" {
			return bad("availabilityCondition.expression must not be empty.")
		}
	}
	return opts, nil
}

func (s *Server) issueSTS(prefix string, info *TokenInfo, life time.Duration) answer {
	tok, err := randomToken(prefix)
	if err != nil {
		return oauthError(http.StatusInternalServerError, CodeServerError, "An internal error occurred.")
	}
	s.remember(tok, info)
	return answer{status: http.StatusOK, issued: tok, body: stsResponse{
		AccessToken: tok, IssuedTokenType: TokenTypeAccessToken, TokenType: "Bearer", ExpiresIn: int64(life / time.Second),
	}}
}

func (s *Server) remember(tok string, info *TokenInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = info
}

// live returns a token the fake issued that has not expired.
func (s *Server) live(tok string) (*TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.tokens[tok]
	if !ok || !info.Expiry.After(s.cfg.Now()) {
		return nil, false
	}
	return info, true
}

func scopes(s string) []string { return strings.Fields(s) }

// permissionFor is what IAM checks for each method.
var permissionFor = map[Endpoint]string{
	EndpointGenerateAccessToken: "iam.serviceAccounts.getAccessToken",
	EndpointGenerateIDToken:     "iam.serviceAccounts.getOpenIdToken",
	EndpointSignJWT:             "iam.serviceAccounts.signJwt",
}

// iam serves the IAM Credentials methods.
func (s *Server) iam(rec Request, authorization string) answer {
	bearer, ok := strings.CutPrefix(authorization, "Bearer ")
	caller, live := s.live(bearer)
	if !ok || !live || caller.Kind != KindFederated {
		return apiError(http.StatusUnauthorized, StatusUnauthenticated, MessageUnauthenticated)
	}
	email := rec.ServiceAccount
	denied := apiError(http.StatusForbidden, StatusPermissionDenied,
		fmt.Sprintf("Permission '%s' denied on resource (or it may not exist).", permissionFor[rec.Endpoint]))
	sa, exists := s.cfg.ServiceAccounts[email]
	if !exists || !s.allowed(sa, rec.Endpoint, caller) {
		return denied
	}
	name := "projects/-/serviceAccounts/" + email
	if n, ok := rec.JSON["name"]; ok && n != name {
		return apiError(http.StatusBadRequest, StatusInvalidArgument, "The name in the body does not match the URL.")
	}
	if d, ok := rec.JSON["delegates"]; ok {
		list, ok := stringList(d)
		if !ok {
			return apiError(http.StatusBadRequest, StatusInvalidArgument, "Invalid value at 'delegates'.")
		}
		for _, del := range list {
			e, ok := strings.CutPrefix(del, "projects/-/serviceAccounts/")
			if _, known := s.cfg.ServiceAccounts[e]; !ok || !known {
				return denied
			}
		}
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	switch rec.Endpoint {
	case EndpointGenerateAccessToken:
		scope, ok := stringList(rec.JSON["scope"])
		if !ok || len(scope) == 0 {
			return apiError(http.StatusBadRequest, StatusInvalidArgument, "Scope required.")
		}
		life := time.Hour
		if l, ok := rec.JSON["lifetime"]; ok {
			str, _ := l.(string)
			d, err := time.ParseDuration(str)
			if err != nil || !strings.HasSuffix(str, "s") || d <= 0 {
				return apiError(http.StatusBadRequest, StatusInvalidArgument, "Invalid value at 'lifetime'.")
			}
			if d > s.cfg.MaxAccessTokenLifetime {
				return apiError(http.StatusBadRequest, StatusInvalidArgument, fmt.Sprintf("The lifetime is invalid or exceeds the maximum allowed lifetime of %ds.", int(s.cfg.MaxAccessTokenLifetime.Seconds())))
			}
			life = d
		}
		tok, err := randomToken("ya29.c.fake-sa-")
		if err != nil {
			return apiError(http.StatusInternalServerError, StatusInternal, "Internal error.")
		}
		exp := now.Add(life)
		s.remember(tok, &TokenInfo{Kind: KindServiceAccount, ServiceAccount: email, Subject: caller.Subject, Scopes: scope, Expiry: exp})
		return answer{status: http.StatusOK, issued: tok, body: map[string]string{"accessToken": tok, "expireTime": exp.Format(time.RFC3339)}}
	case EndpointGenerateIDToken:
		aud, _ := rec.JSON["audience"].(string)
		if aud == "" {
			return apiError(http.StatusBadRequest, StatusInvalidArgument, "Audience required.")
		}
		claims := map[string]any{
			"iss": googleIssuer, "aud": aud, "azp": uniqueID(email), "sub": uniqueID(email),
			"iat": now.Unix(), "exp": now.Add(idTokenLifetime).Unix(),
		}
		if inc, _ := rec.JSON["includeEmail"].(bool); inc {
			claims["email"] = email
			claims["email_verified"] = true
		}
		tok, err := s.sign(email, claims)
		if err != nil {
			return apiError(http.StatusInternalServerError, StatusInternal, "Internal error.")
		}
		s.remember(tok, &TokenInfo{Kind: KindIDToken, ServiceAccount: email, Subject: caller.Subject, Audience: aud, Expiry: now.Add(idTokenLifetime)})
		return answer{status: http.StatusOK, issued: tok, body: map[string]string{"token": tok}}
	default: // signJwt
		payload, _ := rec.JSON["payload"].(string)
		var claims map[string]any
		if payload == "" || json.Unmarshal([]byte(payload), &claims) != nil {
			return apiError(http.StatusBadRequest, StatusInvalidArgument, "The payload is not a JSON object.")
		}
		tok, err := s.sign(email, claims)
		if err != nil {
			return apiError(http.StatusInternalServerError, StatusInternal, "Internal error.")
		}
		s.remember(tok, &TokenInfo{Kind: KindSignedJWT, ServiceAccount: email, Subject: caller.Subject, Expiry: now.Add(maxAssertionLifetime)})
		return answer{status: http.StatusOK, issued: tok, body: map[string]string{"keyId": keyID(email), "signedJwt": tok}}
	}
}

// allowed checks the caller's principal against the bindings.
func (s *Server) allowed(sa ServiceAccount, ep Endpoint, caller *TokenInfo) bool {
	members := slices.Clone(sa.TokenCreators)
	if ep != EndpointSignJWT {
		members = append(members, sa.WorkloadIdentityUsers...)
	}
	return slices.ContainsFunc(members, func(m string) bool { return s.matches(m, caller) })
}

// matches reports whether an IAM member names the federated caller.
func (s *Server) matches(member string, caller *TokenInfo) bool {
	set := "principalSet://" + iamService + "/" + s.pool + "/"
	switch {
	case member == "principal://"+iamService+"/"+s.pool+"/subject/"+caller.Subject:
		return true
	case member == set+"*":
		return true
	case strings.HasPrefix(member, set+"attribute."):
		name, value, ok := strings.Cut(strings.TrimPrefix(member, set+"attribute."), "/")
		return ok && caller.Attributes[name] == value
	}
	return false
}

// oauth2 serves POST /token, the jwt-bearer grant.
func (s *Server) oauth2(r *http.Request, form url.Values) answer {
	if g := form.Get("grant_type"); g != GrantJWTBearer {
		return oauthError(http.StatusBadRequest, CodeUnsupportedGrantType, fmt.Sprintf("Invalid grant_type: %s", g))
	}
	assertion := form.Get("assertion")
	iss, ok := unverifiedIssuer(assertion)
	sa, known := s.cfg.ServiceAccounts[iss]
	if !ok || !known {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "Invalid JWT Signature.")
	}
	key, err := s.signingKey()
	if err != nil {
		return oauthError(http.StatusInternalServerError, CodeServerError, "Internal error.")
	}
	v := oidc.NewVerifier(iss, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}}, &oidc.Config{
		// The audience is checked below against this endpoint's URL.
		SkipClientIDCheck: true, SupportedSigningAlgs: []string{oidc.RS256}, Now: s.cfg.Now,
	})
	tok, err := v.Verify(r.Context(), assertion)
	if err != nil {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "Invalid JWT Signature.")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	self := scheme + "://" + r.Host + r.URL.Path
	if !slices.Contains(tok.Audience, self) && !slices.Contains(tok.Audience, "https://oauth2.googleapis.com/token") {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "Invalid JWT: Failed audience check.")
	}
	var claims struct {
		Scope string `json:"scope"`
		Exp   int64  `json:"exp"`
		Iat   int64  `json:"iat"`
	}
	if err := tok.Claims(&claims); err != nil || claims.Iat == 0 || claims.Exp-claims.Iat > int64(maxAssertionLifetime/time.Second) {
		return oauthError(http.StatusBadRequest, CodeInvalidGrant, "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	if claims.Scope == "" {
		return oauthError(http.StatusBadRequest, CodeInvalidScope, "Empty or missing scope not allowed.")
	}
	if tok.Subject == "" || !slices.Contains(sa.DelegatedSubjects, tok.Subject) {
		return oauthError(http.StatusUnauthorized, CodeUnauthorizedClient, MessageUnauthorizedDWD)
	}
	access, err := randomToken("ya29.a0.fake-user-")
	if err != nil {
		return oauthError(http.StatusInternalServerError, CodeServerError, "Internal error.")
	}
	life := time.Hour - time.Second
	s.remember(access, &TokenInfo{Kind: KindUser, ServiceAccount: iss, User: tok.Subject, Scopes: strings.Fields(claims.Scope), Expiry: s.cfg.Now().Add(life)})
	return answer{status: http.StatusOK, issued: access, body: map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int64(life / time.Second),
	}}
}

// unverifiedIssuer reads iss from a JWT, only to pick the key to verify
// it with.
func unverifiedIssuer(jwt string) (string, bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" {
		return "", false
	}
	return c.Iss, true
}

// PublicKey is the key every service account of this fake signs with, to
// verify ID tokens and signed JWTs in tests.
func (s *Server) PublicKey() (*rsa.PublicKey, error) {
	k, err := s.signingKey()
	if err != nil {
		return nil, err
	}
	return &k.PublicKey, nil
}

// signingKey is generated on first use: most tests never sign anything.
func (s *Server) signingKey() (*rsa.PrivateKey, error) {
	s.keyOnce.Do(func() { s.key, s.keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return s.key, s.keyErr
}

func (s *Server) sign(email string, claims map[string]any) (string, error) {
	key, err := s.signingKey()
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID(email)))
	if err != nil {
		return "", fmt.Errorf("creating signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return sig.CompactSerialize()
}

// keyID is a stable key id per service account.
func keyID(email string) string {
	sum := sha256.Sum256([]byte("key:" + email))
	return hex.EncodeToString(sum[:20])
}

// uniqueID is a stable 21-digit numeric id per service account, like
// Google's.
func uniqueID(email string) string {
	sum := sha256.Sum256([]byte("id:" + email))
	return fmt.Sprintf("1%020d", binary.BigEndian.Uint64(sum[:8]))
}

// randomToken returns prefix plus 32 random bytes, base64url: opaque and
// different on every call.
func randomToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading randomness: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, v == nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
