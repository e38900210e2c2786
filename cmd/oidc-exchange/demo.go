package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/internal/sandbox"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

const (
	demoRole     = "arn:aws:iam::111122223333:role/deploy"
	demoSubject  = "repo:octo-org/octo-repo:ref:refs/heads/main"
	demoAudience = "sts.amazonaws.com"
)

// world is a local sandbox of everything an exchange talks to: an OIDC
// issuer, GitHub's ID-token endpoint and AWS STS, all on 127.0.0.1, plus a
// runner's file-command files in a temp dir. The demo, the end-to-end tests
// and the benchmarks share it.
type world struct {
	issuer *sandbox.Issuer
	tokens *sandbox.TokenEndpoint
	sts    *stsfake.Server
	stsSrv *httptest.Server
	dir    string
	files  map[string]string
	claims map[string]any
}

// newWorld starts the sandbox; trustedSubjects is the role's sub condition.
func newWorld(trustedSubjects []string, claims map[string]any) (*world, error) {
	is, err := sandbox.NewIssuer("")
	if err != nil {
		return nil, err
	}
	w := &world{issuer: is, claims: claims}
	w.tokens = sandbox.NewTokenEndpoint("demo-request-token", func(aud string) string {
		return is.Mint(aud, time.Now(), w.claims)
	})
	w.sts, err = stsfake.New(stsfake.Config{
		Issuer:  is.URL,
		KeySet:  oidc.NewRemoteKeySet(context.Background(), is.URL+"/keys"),
		RoleARN: demoRole,
		Trust:   stsfake.TrustPolicy{Audience: demoAudience, Subjects: trustedSubjects},
	})
	if err != nil {
		w.close()
		return nil, err
	}
	w.stsSrv = httptest.NewServer(w.sts)
	w.dir, err = os.MkdirTemp("", "oidc-exchange-demo-")
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	if w.stsSrv != nil {
		w.stsSrv.Close()
	}
	if w.tokens != nil {
		w.tokens.Close()
	}
	w.issuer.Close()
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// setLatency models remote services: every request to every endpoint waits.
func (w *world) setLatency(d time.Duration) {
	w.issuer.SetLatency(d)
	w.tokens.SetLatency(d)
	w.sts.SetLatency(d)
}

// stepEnv returns the environment the runner gives a container action's
// main step, with fresh file-command files.
func (w *world) stepEnv(stage string, inputs map[string]string) (map[string]string, error) {
	w.files = map[string]string{}
	for _, name := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "GITHUB_PATH"} {
		p := filepath.Join(w.dir, stage+"_"+strings.ToLower(name))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, err
		}
		w.files[name] = p
	}
	env := map[string]string{
		"GITHUB_ACTIONS":                 "true",
		"CI":                             "true",
		"GITHUB_SERVER_URL":              "https://github.com",
		"GITHUB_REPOSITORY":              "octo-org/octo-repo",
		"GITHUB_REPOSITORY_OWNER":        "octo-org",
		"GITHUB_RUN_ID":                  "19677834613",
		"GITHUB_RUN_ATTEMPT":             "1",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   w.tokens.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.tokens.RequestToken,
		"RUNNER_TEMP":                    w.dir,
	}
	for k, v := range w.files {
		env[k] = v
	}
	defaults := map[string]string{
		"provider":               "aws",
		"aws-region":             "eu-west-1",
		"oidc-issuer":            w.issuer.URL,
		"sts-endpoint":           w.stsSrv.URL,
		"role-to-assume":         demoRole,
		"role-duration-seconds":  "3600",
		"output-env-credentials": "true",
	}
	for k, v := range inputs {
		defaults[k] = v
	}
	for k, v := range defaults {
		env[inputEnvName(k)] = v
	}
	return env, nil
}

type demoScenario struct {
	name     string
	summary  string
	subjects []string
	claims   map[string]any
	inputs   map[string]string
}

func demoScenarios() map[string]demoScenario {
	return map[string]demoScenario{
		"aws": {
			name:     "aws",
			summary:  "a push to main assumes arn:aws:iam::111122223333:role/deploy",
			subjects: []string{demoSubject},
			inputs: map[string]string{
				"expect-claims":      "repository_owner_id=123456\nref=refs/heads/main",
				"output-credentials": "true",
			},
		},
		"aws-denied": {
			name:     "aws-denied",
			summary:  "the role trusts only the production environment; STS says AccessDenied and oidc-exchange explains why",
			subjects: []string{"repo:octo-org/octo-repo:environment:production"},
		},
		"aws-claims": {
			name:     "aws-claims",
			summary:  "expect-claims requires ref=refs/heads/release; the job fails before the token leaves the runner",
			subjects: []string{demoSubject},
			inputs:   map[string]string{"expect-claims": "ref=refs/heads/release\nrepository_owner_id=123456"},
		},
	}
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "Run the real pipeline end to end in a local sandbox: an OIDC issuer, GitHub's token\nendpoint and AWS STS (Query/XML) run in this process on 127.0.0.1. No account is needed.\nScenarios: aws (default), aws-denied, aws-claims.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{msg: err.Error()}
	}
	name := "aws"
	if fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	sc, ok := demoScenarios()[name]
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown demo scenario %q, valid scenarios are %q", name, sortedKeys(demoScenarios()))}
	}
	w, err := newWorld(sc.subjects, sc.claims)
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer w.close()
	stepEnv, err := w.stepEnv("main", sc.inputs)
	if err != nil {
		return err
	}
	stepEnv[inputEnvName("audit-log")] = filepath.Join(w.dir, "audit.jsonl")

	var stdout, stderr bytes.Buffer
	stepErr := realMain(ctx, &env{
		args:   []string{"oidc-exchange"},
		getenv: func(k string) string { return stepEnv[k] },
		stdout: &stdout,
		stderr: &stderr,
		stdin:  strings.NewReader(""),
	})

	out := e.stdout
	fmt.Fprintf(out, "oidc-exchange demo %q: %s.\n", sc.name, sc.summary)
	fmt.Fprintln(out, "LOCAL SANDBOX: the OIDC issuer, GitHub's ID-token endpoint and AWS STS run in this process on 127.0.0.1;")
	fmt.Fprintln(out, "the action itself runs unchanged (real go-oidc verification, real AWS SDK client, real runner file commands).")
	masks := collectMasks(stdout.String())
	section(out, "Step log, as the runner shows it (workflow commands rendered, masks applied)")
	fmt.Fprint(out, runnerView(stdout.String()+stderr.String(), masks))
	section(out, "Exported to later steps (GITHUB_ENV), secret values redacted")
	printFileCommands(out, w.files["GITHUB_ENV"], masks)
	section(out, "Step outputs (GITHUB_OUTPUT), secret values redacted")
	printFileCommands(out, w.files["GITHUB_OUTPUT"], masks)
	section(out, "Job summary (GITHUB_STEP_SUMMARY)")
	summary, _ := os.ReadFile(w.files["GITHUB_STEP_SUMMARY"])
	fmt.Fprint(out, applyMasks(string(summary), masks))
	section(out, "Audit log file (audit-log input)")
	audit, _ := os.ReadFile(filepath.Join(w.dir, "audit.jsonl"))
	fmt.Fprint(out, applyMasks(string(audit), masks))
	section(out, "Result")
	fmt.Fprintf(out, "exit code %d", exitCode(stepErr))
	if stepErr != nil {
		fmt.Fprintf(out, " (%v)", stepErr)
	}
	fmt.Fprintf(out, "; %d secret values masked; STS saw %d request(s).\n", len(masks), len(w.sts.Requests()))
	if name == "aws" && stepErr != nil {
		return stepErr
	}
	return nil
}

func section(w interface{ Write([]byte) (int, error) }, title string) {
	fmt.Fprintf(w, "\n── %s ──\n", title)
}

// collectMasks reads ::add-mask:: commands the way the runner does.
func collectMasks(log string) []string {
	var masks []string
	for _, line := range strings.Split(log, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "::add-mask::"); ok {
			v = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(v)
			for _, part := range append([]string{v}, strings.Split(v, "\n")...) {
				if part = strings.TrimSpace(part); part != "" {
					masks = append(masks, part)
				}
			}
		}
	}
	// Longest first, so a value is masked before any of its lines.
	sort.Slice(masks, func(i, j int) bool { return len(masks[i]) > len(masks[j]) })
	return masks
}

// runnerView renders a step's raw output roughly as the runner's log view
// does: commands are consumed, annotations shown, masks applied.
func runnerView(log string, masks []string) string {
	var b strings.Builder
	stopToken := ""
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if stopToken != "" {
			if trimmed == "::"+stopToken+"::" {
				stopToken = ""
				continue
			}
			b.WriteString(applyMasks(line, masks) + "\n")
			continue
		}
		name, data, isCmd := strings.Cut(strings.TrimPrefix(trimmed, "::"), "::")
		if !strings.HasPrefix(trimmed, "::") || !isCmd {
			b.WriteString(applyMasks(line, masks) + "\n")
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		data = applyMasks(unescape.Replace(data), masks)
		switch name {
		case "add-mask":
			b.WriteString("[masked a secret]\n")
		case "stop-commands":
			stopToken = data
		case "group":
			b.WriteString("▸ " + data + "\n")
		case "endgroup", "debug":
		case "error":
			b.WriteString("Error: " + data + "\n")
		case "warning":
			b.WriteString("Warning: " + data + "\n")
		default:
			b.WriteString(applyMasks(line, masks) + "\n")
		}
	}
	return b.String()
}

func applyMasks(s string, masks []string) string {
	for _, m := range masks {
		s = strings.ReplaceAll(s, m, "***")
	}
	return s
}

// printFileCommands lists NAME=value pairs from a file-command file in
// the runner's heredoc format.
func printFileCommands(w interface{ Write([]byte) (int, error) }, path string, masks []string) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(w, "(unreadable: %v)\n", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			continue
		}
		var value []string
		for sc.Scan() && sc.Text() != delim {
			value = append(value, sc.Text())
		}
		fmt.Fprintf(w, "%s=%s\n", name, applyMasks(strings.Join(value, "\n"), masks))
		n++
	}
	if n == 0 {
		fmt.Fprintln(w, "(nothing)")
	}
}
