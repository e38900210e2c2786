package interop

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/interop/zitadelpeer"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
)

const (
	brokerAudience = "https://broker.interop.test"
	clientID       = "ci-broker-client"
	clientSecret   = "interop-client-secret-8f3a1c"
	apiAudience    = "https://api.interop.test"
)

// world is one upstream issuer (the CI platform) and one zitadel broker
// that trusts only octo-org/octo-repo by id.
type world struct {
	issuer *exchangetest.Issuer
	peer   *zitadelpeer.Peer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	peer := zitadelpeer.Start(t, zitadelpeer.Config{
		Upstream: is.URL, Audience: brokerAudience,
		Policy:   map[string]string{"repository_owner_id": "123456", "repository_id": "456789"},
		ClientID: clientID, ClientSecret: clientSecret,
		Scopes: []string{"deploy"}, Audiences: []string{apiAudience},
	})
	return &world{issuer: is, peer: peer}
}

func (w *world) config() broker.Config {
	return broker.Config{
		URL: w.peer.TokenEndpoint(), ClientID: clientID, ClientSecret: exchange.NewSecret(clientSecret),
		RetryMaxAttempts: 1,
	}
}

// TestZitadelIssues exchanges real signed tokens at zitadel and verifies
// what comes back against zitadel's own JWKS: the exported token is the
// one zitadel minted, for our workload, with the type we asked for.
//
//nolint:paralleltest,tparallel // the subtests share one peer and count its requests from len(w.peer.Requests()): they must run one at a time
func TestZitadelIssues(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name string
		cfg  func(c *broker.Config)
		// verifyAs is the aud the issued JWT must carry.
		verifyAs                  string
		wantIssued, wantTokenType string
		wantScopes, wantAudiences []string
		// wantExpiresAtWithinMinutes bounds expires-at; 0 for an ID token,
		// for which zitadel sends no expires_in.
		wantExpiresAtWithinMinutes int
	}{
		{
			name: "access token, client_secret_basic, form", verifyAs: clientID,
			wantIssued: broker.TokenTypeAccessToken, wantTokenType: "Bearer",
			wantExpiresAtWithinMinutes: 6,
		},
		{
			name: "ID token requested for an id_token subject",
			cfg: func(c *broker.Config) {
				c.SubjectTokenType = broker.TokenTypeIDToken
				c.RequestedTokenType = broker.TokenTypeIDToken
			},
			verifyAs: clientID, wantIssued: broker.TokenTypeIDToken, wantTokenType: "N_A",
		},
		{
			name: "scope and audience parameters are honoured",
			cfg: func(c *broker.Config) {
				c.Scope = "openid deploy"
				c.Audiences = []string{apiAudience}
			},
			verifyAs: apiAudience, wantIssued: broker.TokenTypeAccessToken, wantTokenType: "Bearer",
			wantScopes: []string{"openid", "deploy"}, wantAudiences: []string{apiAudience},
			wantExpiresAtWithinMinutes: 6,
		},
		{
			name: "token endpoint found through the issuer's discovery",
			cfg: func(c *broker.Config) {
				c.URL, c.Discovery = "", w.peer.Issuer()
			},
			verifyAs: clientID, wantIssued: broker.TokenTypeAccessToken, wantTokenType: "Bearer",
			wantExpiresAtWithinMinutes: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := w.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			before := len(w.peer.Requests())
			o := runPipeline(t, w.issuer, cfg, job{audience: brokerAudience})
			if o.err != nil {
				t.Fatalf("Run() = %v\n%s", o.err, exchange.Explain(o.err))
			}
			reqs := w.peer.Requests()[before:]
			if len(reqs) != 1 || reqs[0].Status != 200 {
				t.Fatalf("peer saw %+v, want one 200", reqs)
			}
			// client_secret_basic, our default and all zitadel reads.
			if !reqs[0].BasicAuth {
				t.Error("the client did not authenticate with HTTP Basic")
			}
			if len(o.exported) != 1 {
				t.Fatalf("exported %d times, want 1", len(o.exported))
			}
			creds := o.exported[0]
			token := output(t, creds, broker.OutputToken)
			if !slices.Contains(w.peer.Issued(), token) {
				t.Fatal("the exported token is not one the peer issued")
			}
			if !slices.Contains(o.masked, token) {
				t.Error("the issued token was not masked")
			}
			if got := output(t, creds, broker.OutputIssuedTokenType); got != tt.wantIssued {
				t.Errorf("issued-token-type = %q, want %q", got, tt.wantIssued)
			}
			if got := output(t, creds, broker.OutputTokenType); got != tt.wantTokenType {
				t.Errorf("token-type = %q, want %q", got, tt.wantTokenType)
			}
			if env := creds.Env; len(env) != 1 || env[0].Name != broker.DefaultExportEnv || env[0].Value.Reveal() != token || !env[0].Sensitive {
				t.Errorf("env = %+v, want only a sensitive %s carrying the token", env, broker.DefaultExportEnv)
			}
			if tt.wantExpiresAtWithinMinutes == 0 {
				if got := output(t, creds, broker.OutputExpiresAt); got != "" {
					t.Errorf("expires-at = %q, want none", got)
				}
			} else {
				at, err := time.Parse(time.RFC3339, output(t, creds, broker.OutputExpiresAt))
				if err != nil {
					t.Fatalf("expires-at: %v", err)
				}
				if d := time.Until(at); d <= 0 || d > time.Duration(tt.wantExpiresAtWithinMinutes)*time.Minute {
					t.Errorf("expires-at is %v away, want within %d min", d, tt.wantExpiresAtWithinMinutes)
				}
			}

			v, err := w.peer.Verifier(t.Context(), tt.verifyAs)
			if err != nil {
				t.Fatal(err)
			}
			issued, err := v.Verify(t.Context(), token)
			if err != nil {
				t.Fatalf("the issued token does not verify against zitadel's JWKS: %v", err)
			}
			var claims map[string]any
			if err := issued.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if issued.Subject != "repo:octo-org/octo-repo:ref:refs/heads/main" || claims["repository_id"] != "456789" {
				t.Errorf("issued sub %q, repository_id %v: want the workload's", issued.Subject, claims["repository_id"])
			}

			a := o.audit
			if a == nil {
				return
			}
			if a.Outcome != "success" || a.CredentialSHA256 != exchange.SHA256Hex(token) {
				t.Errorf("audit outcome %q, credential sha256 %q: want success and the token's hash", a.Outcome, a.CredentialSHA256)
			}
			if !slices.Equal(a.Scopes, tt.wantScopes) || !slices.Equal(a.RequestedAudiences, tt.wantAudiences) {
				t.Errorf("audit scopes %v, audiences %v; want %v, %v", a.Scopes, a.RequestedAudiences, tt.wantScopes, tt.wantAudiences)
			}
			if !strings.Contains(a.Target, "127.0.0.1") {
				t.Errorf("audit target %q does not name the broker host", a.Target)
			}
		})
	}
}

// TestZitadelRefuses covers zitadel's failures and how we report them:
// nothing is exported, the right class is returned at once (no retry), and
// a denial shows the token's claims.
//
//nolint:paralleltest,tparallel // the subtests share one peer and count its requests from len(w.peer.Requests()): they must run one at a time
func TestZitadelRefuses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name        string
		cfg         func(c *broker.Config)
		audience    string
		claims      map[string]any
		ourClockLag time.Duration
		// peerStatus and peerError are what zitadel answered; 0 means the
		// request never reached it.
		peerStatus int
		peerError  string
		wantKind   error
		wantInErr  []string
	}{
		{
			name:       "wrong client secret",
			cfg:        func(c *broker.Config) { c.ClientSecret = exchange.NewSecret("not-the-secret") },
			peerStatus: 401, peerError: "invalid_client", wantKind: exchange.ErrProviderRejected,
			wantInErr: []string{"invalid_client"},
		},
		{
			// zitadel reads token-exchange client credentials from HTTP
			// Basic only (op.ParseTokenExchangeRequest), although its
			// discovery document lists client_secret_post.
			name:       "client_secret_post is not read by zitadel's token exchange",
			cfg:        func(c *broker.Config) { c.ClientAuth = broker.ClientAuthPost },
			peerStatus: 401, peerError: "invalid_client", wantKind: exchange.ErrProviderRejected,
		},
		{
			// zitadel's token endpoint parses forms only.
			name:       "JSON body is not understood",
			cfg:        func(c *broker.Config) { c.RequestFormat = broker.FormatJSON },
			peerStatus: 400, peerError: "invalid_request", wantKind: exchange.ErrProviderRejected,
		},
		{
			// zitadel says only "subject_token is invalid"; the token had
			// expired by our clock too when it answered, so we say so.
			name:        "token expired by the time the broker sees it",
			ourClockLag: 20 * time.Minute,
			peerStatus:  400, peerError: "invalid_request", wantKind: exchange.ErrTokenExpired,
			wantInErr: []string{"subject_token is invalid", "runner's clock"},
		},
		{
			// Unlike Dex, this broker checks the subject token's audience:
			// a token minted for AWS cannot be replayed to it.
			name:       "token minted for another audience",
			audience:   "sts.amazonaws.com",
			peerStatus: 400, peerError: "invalid_request", wantKind: exchange.ErrProviderRejected,
		},
		{
			name:       "another repository is denied with its claims shown",
			claims:     map[string]any{"repository": "octo-org/other", "repository_id": "999", "sub": "repo:octo-org/other:ref:refs/heads/main"},
			peerStatus: 400, peerError: "access_denied", wantKind: exchange.ErrProviderDenied,
			wantInErr: []string{"repository_id", "999", "repo:octo-org/other:ref:refs/heads/main", "trust policy"},
		},
		{
			name:       "scope the client may not have",
			cfg:        func(c *broker.Config) { c.Scope = "admin" },
			peerStatus: 400, peerError: "invalid_scope", wantKind: exchange.ErrProviderRejected,
		},
		{
			name:       "audience the broker does not serve",
			cfg:        func(c *broker.Config) { c.Audiences = []string{"https://elsewhere.test"} },
			peerStatus: 400, peerError: "invalid_target", wantKind: exchange.ErrProviderDenied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := w.config()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			audience := tt.audience
			if audience == "" {
				audience = brokerAudience
			}
			before := len(w.peer.Requests())
			o := runPipeline(t, w.issuer, cfg, job{audience: audience, claims: tt.claims, ourClockLag: tt.ourClockLag})
			if o.err == nil {
				t.Fatal("Run() succeeded, want a failure")
			}
			if !errors.Is(o.err, tt.wantKind) {
				t.Errorf("Run() = %v, want %v", o.err, tt.wantKind)
			}
			if len(o.exported) != 0 {
				t.Error("credentials were exported after a failure")
			}
			reqs := w.peer.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("peer saw %d requests, want exactly 1 (permanent errors are not retried)", len(reqs))
			}
			if reqs[0].Status != tt.peerStatus || reqs[0].Error != tt.peerError {
				t.Errorf("peer answered %d %q, want %d %q", reqs[0].Status, reqs[0].Error, tt.peerStatus, tt.peerError)
			}
			msg := o.err.Error() + "\n" + exchange.Explain(o.err)
			for _, want := range tt.wantInErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not mention %q:\n%s", want, msg)
				}
			}
			for _, secret := range append([]string{clientSecret, o.token}, w.peer.Issued()...) {
				if secret != "" && strings.Contains(msg, secret) {
					t.Errorf("a secret reached the error message:\n%s", msg)
				}
			}
			if o.audit != nil && o.audit.Outcome == "success" {
				t.Errorf("audit outcome %q after a failure", o.audit.Outcome)
			}
		})
	}
}

// TestZitadelAcceptsReplay documents a property of the broker, not of our
// client: the very same subject token is accepted twice, because zitadel
// leaves single use to the storage and this one, like Dex, keeps no jti
// cache. Our audit record carries the token's jti and hash so a broker or
// a SIEM can correlate replays.
func TestZitadelAcceptsReplay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	replay := w.issuer.Mint(brokerAudience, time.Now(), nil)
	var hashes []string
	for i := range 2 {
		o := runPipeline(t, w.issuer, w.config(), job{audience: brokerAudience, replay: replay})
		if o.err != nil {
			t.Fatalf("exchange %d: %v", i+1, o.err)
		}
		if o.audit == nil || o.audit.JTI == "" || o.audit.TokenSHA256 != exchange.SHA256Hex(replay) {
			t.Fatalf("exchange %d: audit record %+v does not identify the subject token", i+1, o.audit)
		}
		hashes = append(hashes, o.audit.CredentialSHA256)
	}
	if len(w.peer.Issued()) != 2 || hashes[0] == hashes[1] {
		t.Errorf("peer issued %d tokens (hashes %v) for one subject token sent twice, want 2 distinct", len(w.peer.Issued()), hashes)
	}
}

// TestZitadelAdvertisesPost pins the other half of the client_secret_post
// deviation: discovery lists the method that token exchange then ignores,
// so a client cannot learn from metadata to use Basic.
func TestZitadelAdvertisesPost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	provider, err := gooidc.NewProvider(gooidc.InsecureIssuerURLContext(t.Context(), w.peer.Issuer()), w.peer.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		TokenEndpoint string   `json:"token_endpoint"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		GrantTypes    []string `json:"grant_types_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.TokenEndpoint != w.peer.TokenEndpoint() {
		t.Errorf("token_endpoint = %q, want %q", meta.TokenEndpoint, w.peer.TokenEndpoint())
	}
	if !slices.Contains(meta.AuthMethods, "client_secret_post") || !slices.Contains(meta.GrantTypes, broker.GrantTypeTokenExchange) {
		t.Errorf("discovery lists auth methods %v and grants %v, want client_secret_post and token exchange", meta.AuthMethods, meta.GrantTypes)
	}
}
