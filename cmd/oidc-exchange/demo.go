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
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

const (
	demoRole     = "arn:aws:iam::111122223333:role/deploy"
	demoSubject  = "repo:octo-org/octo-repo:ref:refs/heads/main"
	demoAudience = "sts.amazonaws.com"
	demoProvider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-org"
	demoPool     = "projects/123456789/locations/global/workloadIdentityPools/github"
	demoSA       = "deployer@my-project.iam.gserviceaccount.com"
	// demoBrokerAudience is the broker's own audience: tokens minted for a
	// cloud cannot be replayed to it.
	demoBrokerAudience = "https://broker.octo-org.example"
	demoBrokerClient   = "github-actions"
)

// demoBrokerSecret is the sandbox broker's client secret: fake, and masked
// like any secret input.
const demoBrokerSecret = "FAKE-demo-client-secret"

// demoRepoSet is the principal set of octo-org/octo-repo by repository id.
const demoRepoSet = "principalSet://iam.googleapis.com/" + demoPool + "/attribute.repository_id/456789"

// worldOptions shape the sandbox's trust: the AWS role's sub condition,
// the GCP provider's attribute condition and who may impersonate the
// service account.
type worldOptions struct {
	awsSubjects  []string
	gcpCondition map[string]string
	gcpSAUsers   []string
	// brokerClaims are the broker's policy: required claim globs.
	brokerClaims map[string]string
	claims       map[string]any
}

func defaultWorldOptions() worldOptions {
	return worldOptions{
		awsSubjects:  []string{demoSubject},
		gcpCondition: map[string]string{"repository_owner_id": "123456", "repository_id": "456789"},
		gcpSAUsers:   []string{demoRepoSet},
		brokerClaims: map[string]string{"repository_owner_id": "123456", "ref": "refs/heads/main"},
	}
}

// world is a local sandbox of everything an exchange talks to: an OIDC
// issuer, GitHub's ID-token endpoint, AWS STS and Google's STS and IAM
// Credentials, all on 127.0.0.1, plus a runner's file-command files in a
// temp dir. The demo, the end-to-end tests and the benchmarks share it.
type world struct {
	issuer *sandbox.Issuer
	tokens *sandbox.TokenEndpoint
	sts    *stsfake.Server
	stsSrv *httptest.Server
	gcp    *gcpfake.Server
	gcpSrv *httptest.Server
	broker *brokerfake.Server
	brkSrv *httptest.Server
	dir    string
	files  map[string]string
	claims map[string]any
}

// newWorld starts the sandbox.
func newWorld(o worldOptions) (*world, error) {
	is, err := sandbox.NewIssuer("")
	if err != nil {
		return nil, err
	}
	w := &world{issuer: is, claims: o.claims}
	w.tokens = sandbox.NewTokenEndpoint("demo-request-token", func(aud string) string {
		return is.Mint(aud, time.Now(), w.claims)
	})
	keys := oidc.NewRemoteKeySet(context.Background(), is.URL+"/keys")
	w.sts, err = stsfake.New(stsfake.Config{
		Issuer:  is.URL,
		KeySet:  keys,
		RoleARN: demoRole,
		Trust:   stsfake.TrustPolicy{Audience: demoAudience, Subjects: o.awsSubjects},
	})
	if err != nil {
		w.close()
		return nil, err
	}
	w.stsSrv = httptest.NewServer(w.sts)
	w.gcp, err = gcpfake.New(gcpfake.Config{
		Issuer:          is.URL,
		KeySet:          keys,
		Provider:        demoProvider,
		Condition:       o.gcpCondition,
		ServiceAccounts: map[string]gcpfake.ServiceAccount{demoSA: {WorkloadIdentityUsers: o.gcpSAUsers}},
	})
	if err != nil {
		w.close()
		return nil, err
	}
	w.gcpSrv = httptest.NewServer(w.gcp)
	w.broker, err = brokerfake.New(brokerfake.Config{
		Issuer: is.URL, KeySet: keys, Audience: demoBrokerAudience, Claims: o.brokerClaims,
		ClientID: demoBrokerClient, ClientSecret: demoBrokerSecret, SingleUseJTI: false,
	})
	if err != nil {
		w.close()
		return nil, err
	}
	w.brkSrv = httptest.NewServer(w.broker)
	w.dir, err = os.MkdirTemp("", "oidc-exchange-demo-")
	if err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	for _, srv := range []*httptest.Server{w.stsSrv, w.gcpSrv, w.brkSrv} {
		if srv != nil {
			srv.Close()
		}
	}
	if w.tokens != nil {
		w.tokens.Close()
	}
	w.issuer.Close()
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// setLatency models remote services: every request to every endpoint
// takes d in all.
func (w *world) setLatency(d time.Duration) {
	w.issuer.SetLatency(d)
	w.tokens.SetLatency(d)
	w.sts.SetLatency(d)
	w.gcp.SetLatency(d)
	w.broker.SetLatency(d)
}

// stepEnv returns the environment the runner gives a container action's
// main step, with fresh file-command files. The runner temp is "mounted":
// RUNNER_TEMP is a directory whose path ends in /github/runner_temp, as
// the CI edge expects inside the container.
func (w *world) stepEnv(stage string, inputs map[string]string) (map[string]string, error) {
	w.files = map[string]string{}
	step := filepath.Join(w.dir, stage)
	temp := filepath.Join(step, "github", "runner_temp")
	workspace := filepath.Join(step, "github", "workspace")
	for _, d := range []string{temp, workspace} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY", "GITHUB_PATH"} {
		p := filepath.Join(step, strings.ToLower(name))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
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
		"GITHUB_WORKSPACE":               workspace,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   w.tokens.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.tokens.RequestToken,
		"RUNNER_TEMP":                    temp,
	}
	for k, v := range w.files {
		env[k] = v
	}
	defaults := map[string]string{
		"provider":                   "aws",
		"aws-region":                 "eu-west-1",
		"oidc-issuer":                w.issuer.URL,
		"role-to-assume":             demoRole,
		"workload-identity-provider": demoProvider,
		"iamcredentials-endpoint":    w.gcpSrv.URL,
		"broker-url":                 w.brkSrv.URL + brokerfake.TokenPath,
		"broker-client-id":           demoBrokerClient,
		"broker-client-secret":       demoBrokerSecret,
	}
	for k, v := range inputs {
		defaults[k] = v
	}
	if defaults["provider"] == "broker" && inputs["audience"] == "" {
		defaults["audience"] = demoBrokerAudience
	}
	if defaults["provider"] == "gcp" {
		defaults["sts-endpoint"] = firstNonEmpty(inputs["sts-endpoint"], w.gcpSrv.URL)
	} else {
		defaults["sts-endpoint"] = firstNonEmpty(inputs["sts-endpoint"], w.stsSrv.URL)
	}
	for k, v := range defaults {
		env[inputEnvName(k)] = v
	}
	return env, nil
}

// hostTemp is the host path of the step's runner temp: the sandbox has
// no container, so host and container see the same directory.
func (w *world) hostTemp(stepEnv map[string]string) string { return stepEnv["RUNNER_TEMP"] }

type demoScenario struct {
	name    string
	summary string
	world   func(o *worldOptions)
	inputs  map[string]string
}

func demoScenarios() map[string]demoScenario {
	return map[string]demoScenario{
		"aws": {
			name:    "aws",
			summary: "a push to main assumes arn:aws:iam::111122223333:role/deploy",
			inputs: map[string]string{
				"expect-claims":      "repository_owner_id=123456\nref=refs/heads/main",
				"output-credentials": "true",
			},
		},
		"aws-denied": {
			name:    "aws-denied",
			summary: "the role trusts only the production environment; STS says AccessDenied and oidc-exchange explains why",
			world:   func(o *worldOptions) { o.awsSubjects = []string{"repo:octo-org/octo-repo:environment:production"} },
		},
		"aws-claims": {
			name:    "aws-claims",
			summary: "expect-claims requires ref=refs/heads/release; the job fails before the token leaves the runner",
			inputs:  map[string]string{"expect-claims": "ref=refs/heads/release\nrepository_owner_id=123456"},
		},
		"gcp": {
			name: "gcp",
			summary: "a push to main federates through a Workload Identity Provider pinned to the repository's ids, " +
				"impersonates " + demoSA + " and writes a self-refreshing credentials file",
			inputs: map[string]string{"provider": "gcp", "service-account": demoSA},
		},
		"broker": {
			name: "broker",
			summary: "a push to main trades its token, minted for the broker's own audience, at an RFC 8693 endpoint " +
				"that authenticates this client and checks repository_owner_id and ref",
			inputs: map[string]string{"provider": "broker", "broker-scope": "deploy"},
		},
		"gcp-denied": {
			name:    "gcp-denied",
			summary: "the provider's attribute condition admits another repository id; STS says invalid_grant and oidc-exchange explains why",
			world:   func(o *worldOptions) { o.gcpCondition = map[string]string{"repository_id": "999999"} },
			inputs:  map[string]string{"provider": "gcp", "service-account": demoSA},
		},
	}
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "Run the real pipeline end to end in a local sandbox: an OIDC issuer, GitHub's token\nendpoint and AWS STS (Query/XML) run in this process on 127.0.0.1. No account is needed.\nScenarios: aws (default), aws-denied, aws-claims, gcp, gcp-denied, broker.")
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
	o := defaultWorldOptions()
	if sc.world != nil {
		sc.world(&o)
	}
	w, err := newWorld(o)
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer w.close()
	stepEnv, err := w.stepEnv("main", sc.inputs)
	if err != nil {
		return err
	}
	// Relative, as a workflow would write it: the workspace is where the
	// runner starts the container.
	stepEnv[inputEnvName("audit-log")] = "audit.jsonl"

	var stdout, stderr bytes.Buffer
	stepErr := realMain(ctx, &env{
		args:   []string{"oidc-exchange", "--runner-temp=" + w.hostTemp(stepEnv)},
		getenv: func(k string) string { return stepEnv[k] },
		stdout: &stdout,
		stderr: &stderr,
		stdin:  strings.NewReader(""),
	})

	out := e.stdout
	fmt.Fprintf(out, "oidc-exchange demo %q: %s.\n", sc.name, sc.summary)
	fmt.Fprintln(out, "LOCAL SANDBOX: the OIDC issuer, GitHub's ID-token endpoint, AWS STS, Google's STS and IAM Credentials and an RFC 8693 broker run in this process on 127.0.0.1;")
	fmt.Fprintln(out, "the action itself runs unchanged (real go-oidc verification, the real AWS and Google client libraries, real runner file commands).")
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
	audit, _ := os.ReadFile(filepath.Join(stepEnv["GITHUB_WORKSPACE"], "audit.jsonl"))
	fmt.Fprint(out, applyMasks(string(audit), masks))
	section(out, "Result")
	fmt.Fprintf(out, "exit code %d", exitCode(stepErr))
	if stepErr != nil {
		fmt.Fprintf(out, " (%v)", stepErr)
	}
	calls := len(w.sts.Requests())
	switch {
	case strings.HasPrefix(name, "gcp"):
		calls = len(w.gcp.Requests())
	case strings.HasPrefix(name, "broker"):
		calls = len(w.broker.Requests())
	}
	fmt.Fprintf(out, "; %d secret values masked; the cloud saw %d request(s).\n", len(masks), calls)
	if files := credentialFiles(stepEnv["RUNNER_TEMP"]); len(files) > 0 {
		fmt.Fprintf(out, "Credentials file (mode %s, contents not shown: it holds the runner's request token): %s\n", files[0].mode, files[0].path)
	}
	if (name == "aws" || name == "gcp" || name == "broker") && stepErr != nil {
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

type fileInfo struct {
	path string
	mode os.FileMode
}

// credentialFiles lists the files the action left in the runner temp.
func credentialFiles(dir string) []fileInfo {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []fileInfo
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			out = append(out, fileInfo{path: filepath.Join(dir, e.Name()), mode: fi.Mode().Perm()})
		}
	}
	return out
}
