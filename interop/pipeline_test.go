package interop

import (
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
)

// job is the CI side of one exchange.
type job struct {
	// audience is requested from the CI platform and verified by us.
	audience string
	// claims override the issuer's defaults (a push to main of
	// octo-org/octo-repo).
	claims map[string]any
	// ourClockLag sets our clock that far behind the token's issue time,
	// so a token the broker sees as expired is still valid to our verifier
	// (clock skew, or a token held too long).
	ourClockLag time.Duration
	// replay, when set, is sent instead of a freshly minted token.
	replay string
}

// outcome is what one pipeline run left behind.
type outcome struct {
	err      error
	masked   []string
	exported []*exchange.Credentials
	audit    *exchange.AuditRecord
	token    string // the subject token sent
}

// runPipeline trades a token minted by is through the production pipeline
// and broker provider, with recording edges in place of the runner.
func runPipeline(t *testing.T, is *exchangetest.Issuer, cfg broker.Config, j job) outcome {
	t.Helper()
	ctx := t.Context()
	client := httpclient.New(httpclient.Options{})
	mintAt := time.Now().Add(-j.ourClockLag)
	now := func() time.Time { return mintAt.Add(time.Second) }
	var sent string
	tokens := &exchangetest.StaticTokens{Mint: func(aud string) string {
		sent = j.replay
		if sent == "" {
			sent = is.Mint(aud, mintAt, j.claims)
		}
		return sent
	}}
	issuer, err := exchange.ParseIssuer(is.URL)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := exchange.NewVerifier(exchange.VerifierConfig{Issuer: issuer, Audience: j.audience, HTTPClient: client, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	built, err := providers.NewAll(ctx, providers.Broker, providers.Config{Broker: cfg, HTTPClient: client})
	if err != nil || len(built) != 1 {
		t.Fatalf("providers.NewAll: %d providers, %v", len(built), err)
	}
	provider := built[0]
	masker := &exchangetest.RecordingMasker{}
	exporter := &exchangetest.RecordingExporter{}
	reporter := &exchangetest.RecordingReporter{}
	p := &exchange.Pipeline{
		Platform: "github-actions", Tokens: tokens, Verifier: verifier, ProviderName: string(providers.Broker),
		Provider: provider, Masker: masker, Exporter: exporter, Reporters: []exchange.Reporter{reporter}, Now: now,
	}
	_, err = p.Run(ctx)
	o := outcome{err: err, masked: masker.Values, exported: exporter.Exported, token: sent}
	if len(reporter.Records) == 1 {
		o.audit = reporter.Records[0]
	} else {
		t.Errorf("%d audit records, want 1", len(reporter.Records))
	}
	return o
}

// output returns the named step output of c.
func output(t *testing.T, c *exchange.Credentials, name string) string {
	t.Helper()
	for _, v := range c.Outputs {
		if v.Name == name {
			return v.Value.Reveal()
		}
	}
	t.Fatalf("no output %q", name)
	return ""
}
