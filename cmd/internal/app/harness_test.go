package app

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// allowedCommands are the only workflow commands the action may issue.
var allowedCommands = []string{"add-mask", "debug", "warning", "error", "notice", "group", "endgroup", "stop-commands"}

// harness is one simulated job: an issuer, a fake STS, and the runner.
type harness struct {
	t      testing.TB
	issuer *exchangetest.Issuer
	sts    *stsfake.Server
	stsURL string
	gcp    *gcpfake.Server
	gcpURL string
	broker *brokerfake.Server
	brkURL string
	runner *githubtest.Runner
	action githubtest.Action
	claims map[string]any
	mintAt time.Time
	// lastRun is how long the last container run took (runContainer).
	lastRun time.Duration
	// realRetry is harnessOptions.realRetry.
	realRetry bool
	// executable is what refresh installs (the release binary); empty
	// means the test binary, which cannot serve as credential_process.
	executable string
}

type harnessOptions struct {
	trustedSubjects []string
	claims          map[string]any
	mintAt          time.Time
	noIDToken       bool
	maxSession      int
	mountRunnerTemp bool
	debug           bool
	stsLatency      time.Duration
	// gcpCondition is the provider's attribute condition; nil pins the
	// demo repository's owner and repository ids.
	gcpCondition map[string]string
	// gcpSAUsers may impersonate the service account; nil means the demo
	// repository's principal set.
	gcpSAUsers []string
	// broker tunes the RFC 8693 fake; nil means the demo broker.
	broker func(c *brokerfake.Config)
	// mode is how the action runs; the zero value simulates the container.
	mode githubtest.Mode
	// runnerUser owns the runner's files, as uid 1001 does on hosted runners.
	runnerUser *githubtest.Owner
	// context overrides GITHUB_* and RUNNER_* variables of the runner.
	context map[string]string
	// realRetry runs with the production retry policy instead of
	// fastRetry, for tests of time bounds.
	realRetry bool
	// stsRoles are roles besides apptest.Role, e.g. one that trusts its
	// sessions (role chaining).
	stsRoles []stsfake.Role
	// stsFront, when set, wraps the fake STS's handler, for answers no
	// STS would give (a body that is not XML, an HTML error page).
	stsFront func(sts http.Handler) http.Handler
	// mint, when set, is the token endpoint's token for an audience,
	// instead of a GitHub-shaped token from the issuer.
	mint func(is *exchangetest.Issuer, audience string) string
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	is := exchangetest.StartIssuer(t, "")
	if o.trustedSubjects == nil {
		o.trustedSubjects = []string{"repo:octo-org/octo-repo:ref:refs/heads/main"}
	}
	sts, err := stsfake.New(stsfake.Config{
		Issuer: is.URL, KeySet: is.KeySet(context.Background()),
		RoleARN: apptest.Role, Trust: stsfake.TrustPolicy{Audience: apptest.Audience, Subjects: o.trustedSubjects},
		MaxSessionDuration: o.maxSession, Roles: o.stsRoles,
	})
	if err != nil {
		t.Fatal(err)
	}
	sts.SetLatency(o.stsLatency)
	var stsHandler http.Handler = sts
	if o.stsFront != nil {
		stsHandler = o.stsFront(sts)
	}
	srv := httptest.NewServer(stsHandler)
	t.Cleanup(srv.Close)
	wo := apptest.DefaultOptions()
	if o.gcpCondition != nil {
		wo.GCPCondition = o.gcpCondition
	}
	if o.gcpSAUsers != nil {
		wo.GCPSAUsers = o.gcpSAUsers
	}
	gfake, err := gcpfake.New(gcpfake.Config{
		Issuer: is.URL, KeySet: is.KeySet(context.Background()), Provider: apptest.GCPProvider,
		Condition: wo.GCPCondition, ServiceAccounts: map[string]gcpfake.ServiceAccount{apptest.ServiceAccount: {WorkloadIdentityUsers: wo.GCPSAUsers}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gsrv := httptest.NewServer(gfake)
	t.Cleanup(gsrv.Close)
	bcfg := brokerfake.Config{Issuer: is.URL, KeySet: is.KeySet(context.Background()), Audience: apptest.BrokerAudience,
		Claims: wo.BrokerClaims, ClientID: apptest.BrokerClient, ClientSecret: apptest.BrokerSecret}
	if o.broker != nil {
		o.broker(&bcfg)
	}
	bfake, err := brokerfake.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	bsrv := httptest.NewServer(bfake)
	t.Cleanup(bsrv.Close)
	h := &harness{t: t, issuer: is, sts: sts, stsURL: srv.URL, gcp: gfake, gcpURL: gsrv.URL, broker: bfake, brkURL: bsrv.URL,
		action: githubtest.LoadAction(t, actionFile(o.mode)), claims: o.claims, mintAt: o.mintAt, realRetry: o.realRetry}
	defaults := h.action.InputDefaults()
	// Every test talks to its own loopback endpoints.
	defaults["oidc-issuer"] = is.URL
	defaults["sts-endpoint"] = srv.URL
	defaults["aws-region"] = "eu-west-1"
	defaults["role-to-assume"] = apptest.Role
	defaults["workload-identity-provider"] = apptest.GCPProvider
	defaults["iamcredentials-endpoint"] = gsrv.URL
	h.runner = githubtest.New(t, githubtest.Options{
		Mode:              o.mode,
		RunnerUser:        o.runnerUser,
		Context:           o.context,
		InputDefaults:     defaults,
		Args:              h.action.Runs.Args,
		IDTokenPermission: !o.noIDToken,
		MountRunnerTemp:   o.mountRunnerTemp,
		Debug:             o.debug,
		Mint: func(aud string) string {
			if o.mint != nil {
				return o.mint(is, aud)
			}
			at := h.mintAt
			if at.IsZero() {
				at = time.Now()
			}
			return is.Mint(aud, at, h.claims)
		},
	})
	return h
}

// actionFile is the action.yml a mode runs: the native action's own for
// Native, whose inputs mirror the container action's.
func actionFile(m githubtest.Mode) string {
	if m == githubtest.Native {
		return "../../../native/action.yml"
	}
	return "../../../action.yml"
}

// fastRetry keeps transient-failure tests quick.
var fastRetry = httpclient.Policy{MaxAttempts: 3, MaxElapsed: 5 * time.Second, InitialDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

// run runs one stage of the action in-process, exactly as the runner's
// container would: same args, the step's env, separate streams.
func (h *harness) run(stage githubtest.Stage, inputs map[string]string) (*githubtest.StepResult, error) {
	h.t.Helper()
	step := h.runner.Step(stage, inputs)
	stdout, stderr, err := h.exec(step)
	res := h.runner.Finish(step, stdout, stderr)
	res.AssertNoProblems(h.t)
	return res, err
}

// exec runs a prepared step in-process and returns its streams; it touches
// nothing of the runner, so steps of different jobs may run at once.
func (h *harness) exec(step *githubtest.StepEnv) (stdout, stderr []byte, err error) {
	argv0 := "/oidc-exchange"
	if step.Stage == githubtest.Post {
		argv0 = h.action.Runs.PostEntrypoint
	}
	var out, errOut bytes.Buffer
	retry := fastRetry
	hk := &hooks{retry: &retry}
	if h.realRetry {
		hk = &hooks{}
	}
	hk.executable = h.executable
	err = realMain(context.Background(), &env{
		args:   append([]string{argv0}, step.Args...),
		getenv: step.Getenv,
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errOut,
		hooks:  hk,
	})
	return out.Bytes(), errOut.Bytes(), err
}

// secrets lists every secret the job saw: tokens, the request token and
// every credential STS issued.
func (h *harness) secrets() []string {
	s := append([]string{h.runner.Token.RequestToken()}, h.runner.Token.Issued()...)
	for _, r := range h.sts.Requests() {
		if r.Issued != nil {
			s = append(s, r.Issued.AccessKeyID, r.Issued.SecretAccessKey, r.Issued.SessionToken)
		}
	}
	s = append(s, h.gcp.Issued()...)
	s = append(append(s, h.broker.Issued()...), apptest.BrokerSecret)
	// A value shorter than this is not a credential: a hostile answer's
	// "1" is refused, never masked, and cannot be kept out of a log.
	return slices.DeleteFunc(s, func(v string) bool { return len(v) < exchange.MinSecretLength })
}

var (
	sha256RE  = regexp.MustCompile(`[0-9a-f]{64}`)
	latencyRE = regexp.MustCompile(`(token|verify|exchange|export|total)( |":)\d+`)
	timeRE    = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	loopRE    = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	sessionRE = regexp.MustCompile(`GitHubActions-\d+-\d+`)
)

// normalize removes what differs between runs (ports, times, hashes of
// per-run keys) so golden files stay stable. Golden files hold no secret:
// callers redact secret values before this.
func normalize(s string) string {
	s = sha256RE.ReplaceAllString(s, "<sha256>")
	s = latencyRE.ReplaceAllString(s, "$1$2<ms>")
	s = timeRE.ReplaceAllString(s, "<time>")
	s = loopRE.ReplaceAllString(s, "<loopback>")
	return sessionRE.ReplaceAllString(s, "GitHubActions-<run>-<attempt>")
}
