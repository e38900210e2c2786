package app

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
)

// TestActionBrokerScenarios runs the RFC 8693 broker through the runner
// simulation; the leak check covers the client secret and issued tokens.
func TestActionBrokerScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		broker    func(c *brokerfake.Config)
		inputs    map[string]string
		wantExit  int
		wantInLog []string
		check     func(t *testing.T, h *harness, res *githubtest.StepResult)
	}{
		{
			name: "form with client_secret_basic", wantExit: exitOK,
			inputs: map[string]string{"broker-scope": "deploy", "broker-audience": "deploy-api"},
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				issued := h.broker.Issued()
				if len(issued) != 1 || res.Env["BROKER_TOKEN"] != issued[0] || res.Outputs["token"] != issued[0] {
					t.Errorf("token not exported: env %v outputs %v", slices.Sorted(maps.Keys(res.Env)), slices.Sorted(maps.Keys(res.Outputs)))
				}
				req := h.broker.Requests()[0]
				if req.Format != brokerfake.FormatForm || req.ClientAuth != brokerfake.AuthBasic {
					t.Errorf("request format %q auth %q", req.Format, req.ClientAuth)
				}
				if !strings.Contains(res.MaskedStdout, `"requested_audiences":["deploy-api"]`) {
					t.Error("audit record lacks the requested audience")
				}
			},
		},
		{
			name: "SaaS JSON variant with client_secret_post and a custom variable", wantExit: exitOK,
			inputs: map[string]string{"broker-request-format": "json", "broker-client-auth": "client_secret_post", "export-env": "PULUMI_ACCESS_TOKEN"},
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				req := h.broker.Requests()[0]
				if req.Format != brokerfake.FormatJSON || req.ClientAuth != brokerfake.AuthPost || res.Env["PULUMI_ACCESS_TOKEN"] == "" {
					t.Errorf("request format %q auth %q env %v", req.Format, req.ClientAuth, slices.Sorted(maps.Keys(res.Env)))
				}
			},
		},
		{
			name: "wrong client secret", wantExit: exitInput,
			inputs:    map[string]string{"broker-client-secret": "FAKE-wrong-secret"},
			wantInLog: []string{"invalid_client"},
		},
		{
			name: "broker policy denies the repository", wantExit: exitDenied,
			broker:    func(c *brokerfake.Config) { c.Claims = map[string]string{"repository_owner_id": "999"} },
			wantInLog: []string{"invalid_grant", "repository_owner_id", "123456"},
		},
		{
			name: "no audience: a broker must demand its own", wantExit: exitInput,
			inputs:    map[string]string{"audience": "-"},
			wantInLog: []string{"audience"},
		},
		{
			name: "token minted for a cloud is refused", wantExit: exitDenied,
			inputs: map[string]string{"audience": "sts.amazonaws.com"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{broker: tc.broker})
			inputs := map[string]string{
				"provider": "broker", "audience": apptest.BrokerAudience, "broker-url": h.brkURL + brokerfake.TokenPath,
				"broker-client-id": apptest.BrokerClient, "broker-client-secret": apptest.BrokerSecret,
			}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			if inputs["audience"] == "-" {
				inputs["audience"] = ""
			}
			res, err := h.run(githubtest.Main, inputs)
			if got := exitCode(err); got != tc.wantExit {
				t.Fatalf("exit %d (%v), want %d\nlog:\n%s", got, err, tc.wantExit, res.MaskedStdout)
			}
			for _, want := range tc.wantInLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			secrets := append(h.secrets(), "FAKE-wrong-secret")
			res.AssertNoLeak(t, secrets...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			if tc.wantExit != exitOK && (len(res.Outputs) != 0 || res.Env["BROKER_TOKEN"] != "") {
				t.Error("a failed exchange exported something")
			}
			if tc.check != nil {
				tc.check(t, h, res)
			}
			post, err := h.run(githubtest.Post, nil)
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			post.AssertNoLeak(t, secrets...)
		})
	}
}
