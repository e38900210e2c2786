package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
)

const (
	// dexEnv names a Dex binary to use instead of the one build.sh caches.
	dexEnv = "OIDC_EXCHANGE_DEX"
	// dexRequiredEnv, set by .ci/run, turns "Dex is not built" from a skip
	// into a failure, so CI cannot pass without running the suite.
	dexRequiredEnv = "OIDC_EXCHANGE_DEX_REQUIRED"
	dexConnector   = "github-actions"
)

// errDexNotBuilt says how to build Dex.
var errDexNotBuilt = errors.New("run interop/dexbuild/build.sh once (a few minutes), or set " + dexEnv + " to a Dex binary")

// findDex returns the Dex binary named by OIDC_EXCHANGE_DEX, else the one
// interop/dexbuild/build.sh cached, which the script itself locates.
func findDex() (string, error) {
	if bin := os.Getenv(dexEnv); bin != "" {
		return bin, nil
	}
	out, err := exec.CommandContext(context.Background(), filepath.Join("dexbuild", "build.sh"), "--path").Output()
	if err != nil {
		return "", fmt.Errorf("locating the Dex cache with dexbuild/build.sh --path: %w", err)
	}
	bin := strings.TrimSpace(string(out))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("Dex is not built (%s is missing): %w", bin, errDexNotBuilt)
	}
	return bin, nil
}

// dexBinary returns the Dex binary, or skips the test saying how to build
// it; under OIDC_EXCHANGE_DEX_REQUIRED (.ci/run) it fails instead.
func dexBinary(t *testing.T) string {
	t.Helper()
	bin, err := findDex()
	if err != nil {
		if os.Getenv(dexRequiredEnv) != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

// dexPeer is a Dex process on 127.0.0.1 that trusts one upstream issuer.
type dexPeer struct {
	issuer string
	log    *exchangetest.SyncBuffer
}

func (d *dexPeer) tokenEndpoint() string { return d.issuer + "/token" }

// startDex renders interop/dexbuild/config.yaml.tmpl and runs Dex until the
// test ends; its log is printed if the test fails.
func startDex(t *testing.T, upstream string) *dexPeer {
	t.Helper()
	bin := dexBinary(t)
	tmpl, err := template.ParseFiles(filepath.Join("dexbuild", "config.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	// A free port is found by binding and closing; another process may take
	// it before Dex binds, so a start that fails is tried again.
	for range 3 {
		d, err := tryStartDex(t, bin, tmpl, upstream)
		if err == nil {
			return d
		}
		lastErr = err
	}
	t.Fatalf("starting Dex: %v", lastErr)
	return nil
}

func tryStartDex(t *testing.T, bin string, tmpl *template.Template, upstream string) (*dexPeer, error) {
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	listen := l.Addr().String()
	l.Close()
	d := &dexPeer{issuer: "http://" + listen + "/dex", log: &exchangetest.SyncBuffer{}}
	var cfg bytes.Buffer
	if err := tmpl.Execute(&cfg, map[string]string{
		"Issuer": d.issuer, "Listen": listen, "Upstream": upstream, "Audience": brokerAudience,
		"ClientID": clientID, "ClientSecret": clientSecret, "ConnectorID": dexConnector,
	}); err != nil {
		return nil, err
	}
	path := filepath.Join(t.TempDir(), "dex.yaml")
	if err := os.WriteFile(path, cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	// Dex lives as long as the test that started it: t.Context() ends only
	// after its subtests, just before the cleanup below stops Dex. ctx
	// below bounds only the wait for discovery.
	cmd := exec.CommandContext(t.Context(), bin, "serve", path)
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// exited is closed once Wait has returned waitErr, so both the poll
	// below and stop can wait for it.
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.issuer+"/.well-known/openid-configuration", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			stop()
			return nil, fmt.Errorf("dex exited (%w):\n%s", waitErr, d.log.String())
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("dex did not serve discovery within 30 s:\n%s", d.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("Dex log:\n%s", d.log.String())
		}
	})
	return d, nil
}

func newDexWorld(t *testing.T) (*exchangetest.Issuer, *dexPeer) {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	return is, startDex(t, is.URL)
}

// dexConfig is what Dex demands of a client: client authentication, the
// connector_id extension parameter and an id_token subject type.
func dexConfig(d *dexPeer) broker.Config {
	return broker.Config{
		URL: d.tokenEndpoint(), ClientID: clientID, ClientSecret: exchange.NewSecret(clientSecret),
		SubjectTokenType: broker.TokenTypeIDToken, ExtraParams: "connector_id=" + dexConnector,
		RetryMaxAttempts: 1,
	}
}

// TestDexIssues exchanges real signed tokens at Dex and verifies what comes
// back against Dex's own JWKS.
func TestDexIssues(t *testing.T) {
	t.Parallel()
	is, dex := newDexWorld(t)
	tests := []struct {
		name       string
		cfg        func(c *broker.Config)
		wantIssued string
	}{
		{name: "access token", wantIssued: broker.TokenTypeAccessToken},
		{
			name:       "ID token with the profile scope",
			cfg:        func(c *broker.Config) { c.RequestedTokenType, c.Scope = broker.TokenTypeIDToken, "openid profile" },
			wantIssued: broker.TokenTypeIDToken,
		},
		{
			name:       "client_secret_post and discovery",
			cfg:        func(c *broker.Config) { c.ClientAuth, c.URL, c.Discovery = broker.ClientAuthPost, "", dex.issuer },
			wantIssued: broker.TokenTypeAccessToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := dexConfig(dex)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			o := runPipeline(t, is, cfg, job{audience: brokerAudience})
			if o.err != nil {
				t.Fatalf("Run() = %v\n%s", o.err, exchange.Explain(o.err))
			}
			if len(o.exported) != 1 {
				t.Fatalf("exported %d times, want 1", len(o.exported))
			}
			creds := o.exported[0]
			token := output(t, creds, broker.OutputToken)
			if got := output(t, creds, broker.OutputIssuedTokenType); got != tt.wantIssued {
				t.Errorf("issued-token-type = %q, want %q", got, tt.wantIssued)
			}
			if got := output(t, creds, broker.OutputTokenType); got != "Bearer" {
				t.Errorf("token-type = %q, want Bearer (Dex says bearer)", got)
			}
			at, err := time.Parse(time.RFC3339, output(t, creds, broker.OutputExpiresAt))
			if err != nil || time.Until(at) <= 0 || time.Until(at) > 11*time.Minute {
				t.Errorf("expires-at %v (%v), want within the configured 10 min", at, err)
			}
			provider, err := gooidc.NewProvider(gooidc.InsecureIssuerURLContext(t.Context(), dex.issuer), dex.issuer)
			if err != nil {
				t.Fatal(err)
			}
			issued, err := provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(t.Context(), token)
			if err != nil {
				t.Fatalf("the exported token does not verify against Dex's JWKS: %v", err)
			}
			// Dex's sub is its own encoding (base64url of a protobuf) of
			// the upstream sub and the connector id.
			inner, err := base64.RawURLEncoding.DecodeString(issued.Subject)
			if err != nil || !bytes.Contains(inner, []byte("repo:octo-org/octo-repo:ref:refs/heads/main")) || !bytes.Contains(inner, []byte(dexConnector)) {
				t.Errorf("issued sub %q does not encode the workload's sub and the connector (%v)", issued.Subject, err)
			}
			var claims struct {
				Name string `json:"name"`
			}
			if err := issued.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			// The connector's userNameKey is repository; Dex releases it
			// as name under the profile scope only.
			wantName := ""
			if strings.Contains(cfg.Scope, "profile") {
				wantName = "octo-org/octo-repo"
			}
			if claims.Name != wantName {
				t.Errorf("issued name = %q, want %q", claims.Name, wantName)
			}
			if !slices.Contains(o.masked, token) || o.audit == nil || o.audit.CredentialSHA256 != exchange.SHA256Hex(token) {
				t.Error("the token was not masked or the audit record lacks its hash")
			}
		})
	}
}

// TestDexRefuses covers Dex's refusals and the ways Dex departs from RFC
// 8693, each checked so a Dex upgrade that changes one is noticed.
func TestDexRefuses(t *testing.T) {
	t.Parallel()
	is, dex := newDexWorld(t)
	tests := []struct {
		name        string
		cfg         func(c *broker.Config)
		ourClockLag time.Duration
		wantStatus  int
		wantCode    string
		wantKind    error
		wantInErr   []string
	}{
		{
			name:       "wrong client secret",
			cfg:        func(c *broker.Config) { c.ClientSecret = exchange.NewSecret("not-the-secret") },
			wantStatus: 401, wantCode: "invalid_client", wantKind: exchange.ErrProviderRejected,
		},
		{
			// Deviation: RFC 8693 §2.2.2 says invalid_request (400); Dex
			// answers 401 access_denied. The token had expired by our
			// clock too when Dex answered, so we say so.
			name:        "token expired by the time Dex sees it",
			ourClockLag: 20 * time.Minute,
			wantStatus:  401, wantCode: "access_denied", wantKind: exchange.ErrTokenExpired,
			wantInErr: []string{"OIDC token has expired", "runner's clock"},
		},
		{
			name:       "missing connector_id",
			cfg:        func(c *broker.Config) { c.ExtraParams = "" },
			wantStatus: 400, wantCode: "invalid_request", wantKind: exchange.ErrProviderRejected,
			wantInErr: []string{"connector_id"},
		},
		{
			// Dex accepts only id_token and access_token subject types.
			name:       "jwt subject token type",
			cfg:        func(c *broker.Config) { c.SubjectTokenType = broker.TokenTypeJWT },
			wantStatus: 400, wantCode: "request_not_supported", wantKind: exchange.ErrProviderRejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := dexConfig(dex)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			o := runPipeline(t, is, cfg, job{audience: brokerAudience, ourClockLag: tt.ourClockLag})
			if o.err == nil {
				t.Fatal("Run() succeeded, want a failure")
			}
			if !errors.Is(o.err, tt.wantKind) {
				t.Errorf("Run() = %v, want %v", o.err, tt.wantKind)
			}
			var oe *broker.OAuthError
			if !errors.As(o.err, &oe) {
				t.Fatalf("Run() = %v, want an OAuth error answer", o.err)
			}
			if oe.Status != tt.wantStatus || oe.Code != tt.wantCode {
				t.Errorf("Dex answered %d %q, want %d %q", oe.Status, oe.Code, tt.wantStatus, tt.wantCode)
			}
			if len(o.exported) != 0 {
				t.Error("credentials were exported after a failure")
			}
			msg := o.err.Error() + "\n" + exchange.Explain(o.err)
			for _, want := range tt.wantInErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not mention %q:\n%s", want, msg)
				}
			}
			for _, secret := range []string{clientSecret, o.token} {
				if strings.Contains(msg, secret) {
					t.Error("a secret reached the error message")
				}
			}
		})
	}
}

// TestDexDeviations pins two of Dex's departures from what a strict broker
// does, so our documentation stays true: it does not check the subject
// token's audience, and it accepts the same subject token twice.
func TestDexDeviations(t *testing.T) {
	t.Parallel()
	is, dex := newDexWorld(t)
	t.Run("subject token audience not checked", func(t *testing.T) {
		t.Parallel()
		// A token minted for AWS is exchanged: Dex's connector verifies
		// with SkipClientIDCheck. This is why oidc-exchange insists that a
		// broker's audience be requested explicitly.
		o := runPipeline(t, is, dexConfig(dex), job{audience: "sts.amazonaws.com"})
		if o.err != nil {
			t.Fatalf("Dex refused a token for another audience (%v): update the documented deviation", o.err)
		}
	})
	t.Run("replay accepted", func(t *testing.T) {
		// Parallel with the other subtest: its token is its own, and Dex
		// keeps no per-token state that the two could share.
		t.Parallel()
		replay := is.Mint(brokerAudience, time.Now(), nil)
		for i := range 2 {
			if o := runPipeline(t, is, dexConfig(dex), job{audience: brokerAudience, replay: replay}); o.err != nil {
				t.Fatalf("exchange %d of one token: %v (Dex now refuses replay: update the documented deviation)", i+1, o.err)
			}
		}
	})
}

// TestActionAgainstDex runs the action's main and post stages, as a process
// in the simulated runner, against Dex, with the inputs the README's Dex
// example uses.
func TestActionAgainstDex(t *testing.T) {
	t.Parallel()
	is, dex := newDexWorld(t)
	r, a := newActionRunner(t, is, nil)
	res, code := execStage(t, r, a, githubtest.Main, map[string]string{
		"provider": "broker", "audience": brokerAudience, "broker-url": dex.tokenEndpoint(),
		"subject-token-type": broker.TokenTypeIDToken, "broker-scope": "openid",
		"broker-client-id": clientID, "broker-client-secret": clientSecret,
		"broker-extra-params": "connector_id=" + dexConnector,
	})
	token := res.Env["BROKER_TOKEN"]
	secrets := append([]string{clientSecret, token, r.Token.RequestToken()}, r.Token.Issued()...)
	res.AssertNoLeak(t, secrets...)
	res.AssertNoInjectedCommands(t, allowedCommands...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, res.MaskedStdout)
	}
	if token == "" || res.Outputs["token"] != token || !slices.Contains(res.Masks, token) {
		t.Fatal("BROKER_TOKEN and the token output must carry the masked token")
	}
	provider, err := gooidc.NewProvider(gooidc.InsecureIssuerURLContext(t.Context(), dex.issuer), dex.issuer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Verifier(&gooidc.Config{ClientID: clientID}).Verify(t.Context(), token); err != nil {
		t.Errorf("the exported token does not verify against Dex: %v", err)
	}
	post, code := execStage(t, r, a, githubtest.Post, nil)
	if code != 0 {
		t.Fatalf("post exited %d\n%s", code, post.MaskedStdout)
	}
	post.AssertNoLeak(t, secrets...)
	if v, ok := post.Env["BROKER_TOKEN"]; !ok || v != "" {
		t.Error("post did not blank BROKER_TOKEN for later steps")
	}
}
