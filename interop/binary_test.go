package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

// binary is the oidc-exchange executable built once for the suite, the way
// the Dockerfile builds it.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// zitadel logs every refused request through the default slog logger;
	// the tests assert on the answers instead.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	dir, err := os.MkdirTemp("", "oidc-exchange-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "oidc-exchange")
	build := exec.CommandContext(context.Background(), "go", "build", "-C", "..", "-trimpath", "-o", binary, "./cmd/oidc-exchange")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building oidc-exchange: %v\n", err)
		return 1
	}
	if _, err := findDex(); err != nil {
		// Shown by the README's test command, which runs this package in
		// local directory mode; a t.Skip message alone needs -v.
		fmt.Fprintf(os.Stderr, "interop: the Dex suite is skipped: %v\n", err)
	}
	return m.Run()
}

// allowedCommands are the only workflow commands the action may issue.
var allowedCommands = []string{"add-mask", "debug", "warning", "error", "notice", "group", "endgroup", "stop-commands"}

// execStage runs one stage of the action as the runner's container would: the
// built binary, argv[0] the entrypoint, the step's env and working
// directory. It returns the process's exit code.
func execStage(t *testing.T, r *githubtest.Runner, a githubtest.Action, stage githubtest.Stage, inputs map[string]string) (*githubtest.StepResult, int) {
	t.Helper()
	step := r.Step(stage, inputs)
	argv0 := "/oidc-exchange"
	if stage == githubtest.Post {
		argv0 = a.Runs.PostEntrypoint
	}
	cmd := exec.CommandContext(t.Context(), binary, step.Args...)
	cmd.Args[0] = argv0
	cmd.Env = step.Environ()
	cmd.Dir = step.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("running %s: %v", stage, err)
		}
		code = exit.ExitCode()
	}
	res := r.Finish(step, stdout.Bytes(), stderr.Bytes())
	res.AssertNoProblems(t)
	return res, code
}

// newActionRunner simulates a job with id-token: write on a current
// runner, whose tokens come from is, using this repository's action.yml.
func newActionRunner(t *testing.T, is *exchangetest.Issuer, claims map[string]any) (*githubtest.Runner, githubtest.Action) {
	t.Helper()
	a := githubtest.LoadAction(t, "../action.yml")
	defaults := a.InputDefaults()
	defaults["oidc-issuer"] = is.URL
	r := githubtest.New(t, githubtest.Options{
		InputDefaults: defaults, Args: a.Runs.Args, IDTokenPermission: true, MountRunnerTemp: true,
		Mint: func(aud string) string { return is.Mint(aud, time.Now(), claims) },
	})
	return r, a
}

// TestActionAgainstZitadel runs the action's main and post stages, as a
// process in the simulated runner, against zitadel.
func TestActionAgainstZitadel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		inputs   map[string]string
		claims   map[string]any
		wantExit int
		// wantAud is the aud the exported JWT must carry.
		wantAud   string
		wantInLog []string
	}{
		{name: "access token exported", wantAud: clientID},
		{
			name:   "ID token with scope",
			inputs: map[string]string{"requested-token-type": "urn:ietf:params:oauth:token-type:id_token", "subject-token-type": "urn:ietf:params:oauth:token-type:id_token", "broker-scope": "openid deploy"},
			// An ID token is for the client that asked for it.
			wantAud: clientID,
		},
		{
			name:     "wrong client secret",
			inputs:   map[string]string{"broker-client-secret": "FAKE-wrong-secret-0c1d"},
			wantExit: 2, wantInLog: []string{"invalid_client"},
		},
		{
			name:     "another repository",
			claims:   map[string]any{"repository_id": "999"},
			wantExit: 4, wantInLog: []string{"access_denied", "repository_id", "999"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			r, a := newActionRunner(t, w.issuer, tt.claims)
			inputs := map[string]string{
				"provider": "broker", "audience": brokerAudience, "broker-url": w.peer.TokenEndpoint(),
				"broker-client-id": clientID, "broker-client-secret": clientSecret,
			}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			res, code := execStage(t, r, a, githubtest.Main, inputs)
			secrets := append([]string{clientSecret, "FAKE-wrong-secret-0c1d", r.Token.RequestToken()}, r.Token.Issued()...)
			secrets = append(secrets, w.peer.Issued()...)
			res.AssertNoLeak(t, secrets...)
			res.AssertNoInjectedCommands(t, allowedCommands...)
			if code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantExit, res.MaskedStdout)
			}
			for _, want := range tt.wantInLog {
				if !strings.Contains(res.MaskedStdout, want) {
					t.Errorf("log lacks %q:\n%s", want, res.MaskedStdout)
				}
			}
			if tt.wantExit != 0 {
				if len(res.Outputs) != 0 || res.Env["BROKER_TOKEN"] != "" {
					t.Error("a failed exchange exported something")
				}
			} else {
				token := res.Env["BROKER_TOKEN"]
				if token == "" || res.Outputs["token"] != token || !slices.Contains(w.peer.Issued(), token) {
					t.Fatalf("BROKER_TOKEN and the token output must carry the token zitadel issued (env %d bytes)", len(token))
				}
				if !slices.Contains(res.Masks, token) {
					t.Error("the issued token was not masked")
				}
				v, err := w.peer.Verifier(t.Context(), tt.wantAud)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.Verify(t.Context(), token); err != nil {
					t.Errorf("the exported token does not verify against zitadel: %v", err)
				}
			}

			post, code := execStage(t, r, a, githubtest.Post, nil)
			if code != 0 {
				t.Fatalf("post exited %d\n%s", code, post.MaskedStdout)
			}
			post.AssertNoLeak(t, secrets...)
			if tt.wantExit == 0 {
				if v, ok := post.Env["BROKER_TOKEN"]; !ok || v != "" {
					t.Error("post did not blank BROKER_TOKEN for later steps")
				}
			}
		})
	}
}

// TestCLIAgainstZitadel runs `oidc-exchange broker` with a token file, the
// secret from the environment and the token endpoint from discovery.
func TestCLIAgainstZitadel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	subject := w.issuer.Mint(brokerAudience, time.Now(), nil)
	if err := os.WriteFile(tokenFile, []byte(subject), 0o600); err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.CommandContext(t.Context(), binary, "broker", "--discovery", w.peer.Issuer(), "--audience", brokerAudience,
		"--client-id", clientID, "--token-file", tokenFile, "--oidc-issuer", w.issuer.URL,
		"--scope", "openid deploy", "--format", "json", "--audit-log", audit)
	cmd.Env = []string{"OIDC_EXCHANGE_BROKER_CLIENT_SECRET=" + clientSecret, "PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oidc-exchange broker: %v\n%s", err, stderr.String())
	}
	var out struct {
		Env     map[string]string `json:"env"`
		Outputs map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		// stdout holds the token: report its size, not its content.
		t.Fatalf("stdout (%d bytes) is not the JSON document: %v", stdout.Len(), err)
	}
	token := out.Outputs["token"]
	if !slices.Contains(w.peer.Issued(), token) || out.Env["BROKER_TOKEN"] != token {
		t.Fatalf("the printed token is not the one zitadel issued: env %v, outputs %v", keys(out.Env), keys(out.Outputs))
	}
	if out.Outputs["issued-token-type"] != "urn:ietf:params:oauth:token-type:access_token" || out.Outputs["token-type"] != "Bearer" {
		t.Errorf("issued-token-type %q, token-type %q", out.Outputs["issued-token-type"], out.Outputs["token-type"])
	}
	v, err := w.peer.Verifier(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), token); err != nil {
		t.Errorf("the printed token does not verify against zitadel: %v", err)
	}
	logged, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{clientSecret, subject, token} {
		if strings.Contains(stderr.String(), secret) || strings.Contains(string(logged), secret) {
			t.Error("a secret reached stderr or the audit log")
		}
	}
	if !strings.Contains(string(logged), `"credential_sha256":"`) || !strings.Contains(string(logged), `"scopes":["openid","deploy"]`) {
		t.Errorf("audit record lacks the token's hash or the scopes:\n%s", logged)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
