package app

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/cmd/internal/apptest"
	"github.com/oidc-exchange/oidc-exchange/internal/httpfake"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
)

// peerInputs reads the inputs of configure-aws-credentials v6, as its
// action.yml declares them (testdata names the commit).
func peerInputs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/configure-aws-credentials-v6-inputs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			names = append(names, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// peerCase is how a workflow written for configure-aws-credentials that
// sets one input fares with this action.
type peerCase struct {
	// value is set for the input; extra inputs go with it.
	value string
	extra map[string]string
	// prepare readies the job (files, environment) and may add inputs.
	prepare func(t *testing.T, h *harness, inputs map[string]string)
	// wantExit is exitOK for a supported input, exitInput for a refused
	// one or a value that is wrong here.
	wantExit int
	// wantInLog must be in the masked log.
	wantInLog string
	// check inspects a successful run.
	check func(t *testing.T, h *harness, res *githubtest.StepResult)
	// opts sets up the job.
	opts harnessOptions
}

// chainedRole trusts sessions of apptest.Role: a production account's
// deploy role, say.
const chainedRole = "arn:aws:iam::444455556666:role/prod-deploy"

// peerCases answers every input of configure-aws-credentials v6.
func peerCases() map[string]peerCase {
	refused := func(value string) peerCase {
		return peerCase{value: value, wantExit: exitInput, wantInLog: "not supported"}
	}
	ok := func(value string) peerCase { return peerCase{value: value, wantExit: exitOK} }
	return map[string]peerCase{
		"aws-region":                    ok("eu-central-1"),
		"role-to-assume":                ok(apptest.Role),
		"audience":                      ok(apptest.Audience),
		"mask-aws-account-id":           ok("true"),
		"role-duration-seconds":         ok("900"),
		"role-session-name":             ok("deploy-site"),
		"role-skip-session-tagging":     ok("true"),
		"inline-session-policy":         ok(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		"managed-session-policies":      ok("arn:aws:iam::aws:policy/ReadOnlyAccess"),
		"output-credentials":            ok("true"),
		"output-env-credentials":        ok("false"),
		"unset-current-credentials":     ok("true"),
		"disable-retry":                 ok("true"),
		"retry-max-attempts":            ok("2"),
		"allowed-account-ids":           ok(peerAccount),
		"action-timeout-s":              ok("20"),
		"sts-endpoint":                  {wantExit: exitOK, prepare: func(_ *testing.T, h *harness, in map[string]string) { in["sts-endpoint"] = h.stsURL }},
		"aws-access-key-id":             refused("FAKE-stored-access-key-id"),
		"aws-secret-access-key":         refused("FAKE-stored-secret-access-key"),
		"aws-session-token":             refused("FAKE-stored-session-token"),
		"custom-tags":                   refused(`{"team":"platform"}`),
		"transitive-tag-keys":           refused("Repository"),
		"use-existing-credentials":      refused("true"),
		"special-characters-workaround": refused("true"),
		"force-skip-oidc":               refused("true"),
		// Without a chained hop there is no sts:AssumeRole to send it with.
		"role-external-id": {value: "deploy-ext-id", wantExit: exitInput, wantInLog: "role-chaining"},
		"role-chaining": {
			// An earlier step assumed the first role and exported its keys.
			value: "true", extra: map[string]string{"role-to-assume": chainedRole}, wantExit: exitOK,
			opts: harnessOptions{stsRoles: []stsfake.Role{{ARN: chainedRole, TrustedRoles: []string{apptest.Role}}}},
			prepare: func(t *testing.T, h *harness, _ map[string]string) {
				if res, err := h.run(githubtest.Main, nil); err != nil {
					t.Fatalf("the first step: %v\n%s", err, res.MaskedStdout)
				}
			},
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				reqs := h.sts.Requests()
				last := reqs[len(reqs)-1]
				if last.Action != stsfake.ActionAssumeRole || last.CallerAccessKeyID != reqs[0].Issued.AccessKeyID ||
					res.Env["AWS_ACCESS_KEY_ID"] != last.Issued.AccessKeyID {
					t.Error("the step did not chain from the first step's session into the exported one")
				}
			},
		},
		"web-identity-token-file": {
			// A token an earlier step (or the kubelet) wrote, relative
			// to the workspace; the job has no id-token permission.
			value: "oidc/token", wantExit: exitOK, opts: harnessOptions{noIDToken: true},
			prepare: func(t *testing.T, h *harness, _ map[string]string) {
				writeToken(t, filepath.Join(h.runner.HostWorkspace(), "oidc", "token"), h.issuer.Mint(apptest.Audience, time.Now(), nil))
			},
		},
		"aws-profile": {
			value: "dev", wantExit: exitOK,
			check: func(t *testing.T, h *harness, res *githubtest.StepResult) {
				if _, ok := res.Env["AWS_ACCESS_KEY_ID"]; ok {
					t.Error("aws-profile exported keys to the environment")
				}
				creds := string(h.runner.ReadFromHostStep(t, res.Env["AWS_SHARED_CREDENTIALS_FILE"]))
				if !strings.Contains(creds, "[dev]") {
					t.Errorf("the credentials file has no [dev] profile")
				}
			},
		},
		"overwrite-aws-profile": {value: "true", extra: map[string]string{"aws-profile": "dev"}, wantExit: exitOK},
		"http-proxy":            proxyCase(false),
		"no-proxy":              proxyCase(true),
	}
}

// TestPeerInputsAnswered walks every input of configure-aws-credentials v6:
// each is declared in action.yml (so the runner passes it rather than
// warning and dropping it), each is answered by a table (supported, or
// refused with what to do instead), the README's migration table says the
// same, and a job that sets it either succeeds or fails with exit 2 before
// STS is called, exporting nothing.
func TestPeerInputsAnswered(t *testing.T) {
	t.Parallel()
	action := githubtest.LoadAction(t, "../../../action.yml")
	decls := declarations(t)
	readme := peerREADMERows(t)
	cases := peerCases()
	for _, name := range peerInputs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, ok := action.Inputs[name]; !ok {
				t.Errorf("action.yml does not declare %s: the runner would drop it with a warning", name)
			}
			ds := decls[name]
			if len(ds) == 0 {
				t.Fatalf("no table reads %s", name)
			}
			refused := ds[0].spec.Refused != ""
			switch row, ok := readme[name]; {
			case !ok:
				t.Errorf("the README's configure-aws-credentials table has no row for %s", name)
			case refused != strings.HasPrefix(row, "Refused"):
				t.Errorf("README says %q for %s; the table says refused=%v", row, name, refused)
			}
			c, ok := cases[name]
			if !ok {
				t.Fatalf("no case for %s in peerCases", name)
			}
			if refused && c.wantExit != exitInput {
				t.Errorf("%s is refused, but its case expects exit %d", name, c.wantExit)
			}
			h := newHarness(t, c.opts)
			inputs := map[string]string{}
			if c.value != "" {
				inputs[name] = c.value
			}
			for k, v := range c.extra {
				inputs[k] = v
			}
			if c.prepare != nil {
				c.prepare(t, h, inputs)
			}
			res, err := h.run(githubtest.Main, inputs)
			if got := exitCode(err); got != c.wantExit {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, c.wantExit, res.MaskedStdout)
			}
			if c.wantInLog != "" && !strings.Contains(res.MaskedStdout, c.wantInLog) {
				t.Errorf("log lacks %q:\n%s", c.wantInLog, res.MaskedStdout)
			}
			secrets := h.secrets()
			if c.wantExit != exitOK {
				if !strings.Contains(res.MaskedStdout, name) {
					t.Errorf("the error does not name %s:\n%s", name, res.MaskedStdout)
				}
				if n := len(h.sts.Requests()); n != 0 {
					t.Errorf("STS saw %d requests for a refused input", n)
				}
				if len(res.Env) != 0 || len(res.Outputs) != 0 {
					t.Errorf("a refused run exported env %v outputs %v", res.Env, res.Outputs)
				}
				if ds[0].spec.Secret {
					// A refused stored key is still a secret: masked first.
					secrets = append(secrets, c.value)
				}
			}
			res.AssertNoLeak(t, secrets...)
			if c.check != nil {
				c.check(t, h, res)
			}
		})
	}
}

// proxyCase runs the job with a loopback proxy as http-proxy and STS
// named sts.localhost, which the proxy resolves (Go never proxies
// 127.0.0.1 or localhost themselves); with bypass, no-proxy names STS, so
// it must not pass the proxy. proxy_test.go covers every call apart.
func proxyCase(bypass bool) peerCase {
	var proxy *httpfake.Proxy
	return peerCase{
		wantExit: exitOK,
		prepare: func(t *testing.T, h *harness, in map[string]string) {
			proxy = httpfake.NewProxy(t)
			in["http-proxy"] = proxy.URL
			in["sts-endpoint"] = strings.Replace(h.stsURL, "127.0.0.1", "sts.localhost", 1)
			if bypass {
				in["no-proxy"] = "sts.localhost"
			}
		},
		check: func(t *testing.T, h *harness, _ *githubtest.StepResult) {
			stsHost := strings.Replace(strings.TrimPrefix(h.stsURL, "http://"), "127.0.0.1", "sts.localhost", 1)
			passed := slices.ContainsFunc(proxy.Requests(), func(r httpfake.ProxiedRequest) bool { return r.Host == stsHost })
			if passed == bypass {
				t.Errorf("STS through the proxy: %v, want %v (no-proxy set: %v)", passed, !bypass, bypass)
			}
		},
	}
}

// peerREADMERows maps each input of the README's configure-aws-credentials
// table to its answer column.
func peerREADMERows(t *testing.T) map[string]string {
	t.Helper()
	const heading = "### Every configure-aws-credentials input"
	out := map[string]string{}
	for _, row := range readmeTables(t, heading)[heading] {
		if len(row) < 2 {
			t.Errorf("short row %q", row)
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(row[0], -1) {
			out[m[1]] = strings.TrimSpace(row[1])
		}
	}
	return out
}

// peerAccount is the account of apptest.Role.
var peerAccount = strings.Split(apptest.Role, ":")[4]
