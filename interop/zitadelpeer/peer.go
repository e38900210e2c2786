package zitadelpeer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Config describes the broker: who it trusts, what it demands and which
// client may call it.
type Config struct {
	// Upstream is the issuer of subject tokens (the CI platform). Its
	// discovery document and JWKS are fetched over HTTP, as in production.
	Upstream string
	// Audience is the aud every subject token must carry: the broker's own.
	Audience string
	// Policy maps claim names to the exact values a subject token must
	// have; a missing or different claim is access_denied.
	Policy map[string]string
	// ClientID and ClientSecret are the one confidential client.
	ClientID, ClientSecret string
	// Scopes lists the scopes a request may ask for besides openid.
	Scopes []string
	// Audiences lists the values the audience parameter may take; a request
	// naming another is invalid_target.
	Audiences []string
}

// Request is one call to the token endpoint, as the peer saw it.
type Request struct {
	// Status is the HTTP status zitadel answered.
	Status int
	// ContentType is the request's Content-Type.
	ContentType string
	// BasicAuth reports an Authorization: Basic header.
	BasicAuth bool
	// Params are the form parameter names, sorted; values are not kept
	// because one of them is the subject token.
	Params []string
	// Error is the OAuth error code of a failed answer.
	Error string
}

// Peer is a running zitadel OpenID Provider with token exchange enabled.
type Peer struct {
	server  *httptest.Server
	storage *storage

	mu       sync.Mutex
	requests []Request
	issued   []string
}

// Start runs a peer on 127.0.0.1 until the test ends.
func Start(t testing.TB, cfg Config) *Peer {
	t.Helper()
	p, err := start(cfg)
	if err != nil {
		t.Fatalf("zitadelpeer: %v", err)
	}
	t.Cleanup(p.server.Close)
	return p
}

func start(cfg Config) (*Peer, error) {
	if cfg.Upstream == "" || cfg.Audience == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("the config needs Upstream, Audience, ClientID and ClientSecret")
	}
	// The issuer must be known before the provider exists, so the listener
	// is opened first and the handler set once the provider is built.
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()

	upstream, err := gooidc.NewProvider(gooidc.InsecureIssuerURLContext(context.Background(), cfg.Upstream), cfg.Upstream)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("discovering the upstream issuer: %w", err)
	}
	clients := map[string]*exstorage.Client{cfg.ClientID: exstorage.WebClient(cfg.ClientID, cfg.ClientSecret)}
	st := &storage{
		Storage:  exstorage.NewStorageWithClients(exstorage.NewUserStore(issuer), clients),
		verifier: upstream.Verifier(&gooidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: []string{gooidc.RS256}}),
		cfg:      cfg,
	}
	provider, err := op.NewProvider(&op.Config{
		// A fixed key only encrypts opaque tokens this test never issues.
		CryptoKey:      sha256.Sum256([]byte("oidc-exchange interop")),
		CryptoKeyId:    "interop",
		AuthMethodPost: true,
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating the provider: %w", err)
	}
	p := &Peer{server: srv, storage: st}
	srv.Config.Handler = p.record(provider)
	srv.Start()
	return p, nil
}

// Issuer is the peer's issuer URL; its discovery document names the token
// endpoint.
func (p *Peer) Issuer() string { return p.server.URL }

// TokenEndpoint is the URL token exchange requests go to.
func (p *Peer) TokenEndpoint() string { return p.server.URL + "/oauth/token" }

// Requests lists the token requests seen so far.
func (p *Peer) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Issued lists every token the peer handed out (access, ID and refresh
// tokens), for leak checks.
func (p *Peer) Issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.issued)
}

// Verifier checks a token the peer issued: its signature against the
// peer's JWKS, its issuer and that audience is among its aud.
func (p *Peer) Verifier(ctx context.Context, audience string) (*gooidc.IDTokenVerifier, error) {
	provider, err := gooidc.NewProvider(gooidc.InsecureIssuerURLContext(ctx, p.Issuer()), p.Issuer())
	if err != nil {
		return nil, err
	}
	return provider.Verifier(&gooidc.Config{ClientID: audience, SupportedSigningAlgs: []string{gooidc.RS256}}), nil
}

// record notes each token request and the tokens answered, without
// changing a byte of what zitadel says.
func (p *Peer) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := Request{ContentType: r.Header.Get("Content-Type")}
		_, _, rec.BasicAuth = r.BasicAuth()
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k := range form {
				rec.Params = append(rec.Params, k)
			}
			slices.Sort(rec.Params)
		}
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		rec.Status = cw.status
		var answer struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			Error        string `json:"error"`
		}
		_ = json.Unmarshal(cw.body.Bytes(), &answer)
		rec.Error = answer.Error
		p.mu.Lock()
		defer p.mu.Unlock()
		p.requests = append(p.requests, rec)
		for _, tok := range []string{answer.AccessToken, answer.RefreshToken} {
			if tok != "" {
				p.issued = append(p.issued, tok)
			}
		}
	})
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// storage is zitadel's example in-memory storage (clients, signing key,
// token records) with the token exchange decisions of a workload broker.
type storage struct {
	*exstorage.Storage
	verifier *gooidc.IDTokenVerifier
	cfg      Config
}

var (
	_ op.TokenExchangeStorage               = (*storage)(nil)
	_ op.TokenExchangeTokensVerifierStorage = (*storage)(nil)
)

// GetClientByClientID makes the client's access tokens JWTs, so what the
// peer issues can be verified offline against its JWKS.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (jwtClient) IDTokenLifetime() time.Duration      { return 5 * time.Minute }

// VerifyExchangeSubjectToken accepts only a JWT from the upstream issuer,
// minted for this broker. zitadel turns any error here into 400
// invalid_request "subject_token is invalid".
func (s *storage) VerifyExchangeSubjectToken(ctx context.Context, token string, tokenType oidc.TokenType) (string, string, map[string]any, error) {
	if tokenType != oidc.JWTTokenType && tokenType != oidc.IDTokenType {
		return "", "", nil, fmt.Errorf("subject token type %s is not accepted", tokenType)
	}
	idt, err := s.verifier.Verify(ctx, token)
	if err != nil {
		return "", "", nil, err
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", "", nil, err
	}
	id, _ := claims["jti"].(string)
	if id == "" {
		id = token
	}
	return id, idt.Subject, claims, nil
}

// VerifyExchangeActorToken refuses delegation: a CI job acts for itself.
func (s *storage) VerifyExchangeActorToken(context.Context, string, oidc.TokenType) (string, string, map[string]any, error) {
	return "", "", nil, errors.New("actor tokens are not accepted")
}

// ValidateTokenExchangeRequest is the broker's policy. It returns zitadel's
// typed errors: a plain error would be answered as a 500 server_error,
// which a client rightly retries.
func (s *storage) ValidateTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) error {
	if req.GetRequestedTokenType() == "" {
		req.SetRequestedTokenType(oidc.AccessTokenType)
	}
	claims := req.GetExchangeSubjectTokenClaims()
	var mismatched []string
	for name, want := range s.cfg.Policy {
		if got, _ := claims[name].(string); got != want {
			mismatched = append(mismatched, name)
		}
	}
	if len(mismatched) > 0 {
		slices.Sort(mismatched)
		return oidc.ErrAccessDenied().WithDescription("the subject token does not match the trust policy: %s", strings.Join(mismatched, ", "))
	}
	for _, aud := range req.GetAudience() {
		if !slices.Contains(s.cfg.Audiences, aud) {
			return oidc.ErrInvalidTarget().WithDescription("audience %s is not served", aud)
		}
	}
	for _, scope := range req.GetScopes() {
		if scope != oidc.ScopeOpenID && !slices.Contains(s.cfg.Scopes, scope) {
			return oidc.ErrInvalidScope().WithDescription("scope %s is not allowed", scope)
		}
	}
	return nil
}

// CreateTokenExchangeRequest stores nothing: the test records requests on
// the wire.
func (s *storage) CreateTokenExchangeRequest(context.Context, op.TokenExchangeRequest) error {
	return nil
}

// workloadClaims are the upstream claims carried into issued tokens.
var workloadClaims = []string{"repository", "repository_id", "repository_owner_id", "ref", "run_id"}

// GetPrivateClaimsFromTokenExchangeRequest puts the workload's identity
// into the issued access token.
func (s *storage) GetPrivateClaimsFromTokenExchangeRequest(_ context.Context, req op.TokenExchangeRequest) (map[string]any, error) {
	return s.carried(req), nil
}

// SetUserinfoFromTokenExchangeRequest does the same for an issued ID
// token; the example storage would look the subject up among its demo
// users and fail.
func (s *storage) SetUserinfoFromTokenExchangeRequest(_ context.Context, info *oidc.UserInfo, req op.TokenExchangeRequest) error {
	info.Subject = req.GetSubject()
	for k, v := range s.carried(req) {
		info.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) carried(req op.TokenExchangeRequest) map[string]any {
	out := map[string]any{}
	for _, name := range workloadClaims {
		if v, ok := req.GetExchangeSubjectTokenClaims()[name]; ok {
			out[name] = v
		}
	}
	return out
}
