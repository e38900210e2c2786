package apptest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/internal/oidcfake"
	"github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake"
)

// The sandbox's cloud: one AWS role, one GCP provider and service account,
// one broker client, all trusting pushes to octo-org/octo-repo's main.
const (
	// Role is the AWS role the sandbox's STS lets the job assume.
	Role = "arn:aws:iam::111122223333:role/deploy"
	// Subject is the sub of a push to main, which the role trusts.
	Subject = "repo:octo-org/octo-repo:ref:refs/heads/main"
	// Audience is the audience AWS expects.
	Audience = "sts.amazonaws.com"
	// GCPProvider is the Workload Identity Provider's resource name.
	GCPProvider = "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo-org"
	// GCPPool is the provider's pool.
	GCPPool = "projects/123456789/locations/global/workloadIdentityPools/github"
	// ServiceAccount is the service account the job may impersonate.
	ServiceAccount = "deployer@my-project.iam.gserviceaccount.com"
	// BrokerAudience is the broker's own audience: tokens minted for a
	// cloud cannot be replayed to it.
	BrokerAudience = "https://broker.octo-org.example"
	// BrokerClient is the broker's client id for the job.
	BrokerClient = "github-actions"
)

// BrokerSecret is the sandbox broker's client secret: fake, and masked
// like any secret input.
const BrokerSecret = "FAKE-demo-client-secret"

// RepoSet is the principal set of octo-org/octo-repo by repository id.
const RepoSet = "principalSet://iam.googleapis.com/" + GCPPool + "/attribute.repository_id/456789"

// Options shape the sandbox's trust: the AWS role's sub condition,
// the GCP provider's attribute condition and who may impersonate the
// service account.
type Options struct {
	// AWSSubjects are the sub values the AWS role's trust policy allows.
	AWSSubjects []string
	// GCPCondition is the provider's attribute condition: claim → value.
	GCPCondition map[string]string
	// GCPSAUsers may impersonate the service account.
	GCPSAUsers []string
	// BrokerClaims are the broker's policy: required claim globs.
	BrokerClaims map[string]string
	// Claims override the GitHub-shaped claims of every minted token.
	Claims map[string]any
	// AWSRoles are roles besides Role (several roles in one step).
	AWSRoles []stsfake.Role
}

// DefaultOptions trust a push to main everywhere: the demo's happy path.
func DefaultOptions() Options {
	return Options{
		AWSSubjects:  []string{Subject},
		GCPCondition: map[string]string{"repository_owner_id": "123456", "repository_id": "456789"},
		GCPSAUsers:   []string{RepoSet},
		BrokerClaims: map[string]string{"repository_owner_id": "123456", "ref": "refs/heads/main"},
	}
}

// World is a local sandbox of everything an exchange talks to: an OIDC
// issuer, GitHub's ID-token endpoint, AWS STS, Google's STS and IAM
// Credentials and an RFC 8693 broker, all on 127.0.0.1, plus a runner's
// file-command files in a temp dir. The demo, the end-to-end tests and the
// benchmarks share it.
type World struct {
	Issuer       *oidcfake.Issuer
	Tokens       *oidcfake.TokenEndpoint
	STS          *stsfake.Server
	STSServer    *httptest.Server
	GCP          *gcpfake.Server
	GCPServer    *httptest.Server
	Broker       *brokerfake.Server
	BrokerServer *httptest.Server
	// Dir holds the steps' runner files; Close removes it.
	Dir string
	// Files are the file-command files of the last StepEnv, by variable.
	Files map[string]string
	// Claims override the GitHub-shaped claims of every minted token.
	Claims map[string]any
	// AWSRoles are roles besides Role (several roles in one step).
	AWSRoles []stsfake.Role
}

// New starts the sandbox.
func New(o Options) (*World, error) {
	is, err := oidcfake.NewIssuer("")
	if err != nil {
		return nil, err
	}
	w := &World{Issuer: is, Claims: o.Claims}
	w.Tokens = oidcfake.NewTokenEndpoint("demo-request-token", func(aud string) string {
		return is.Mint(aud, time.Now(), w.Claims)
	})
	keys := oidc.NewRemoteKeySet(context.Background(), is.URL+"/keys")
	w.STS, err = stsfake.New(stsfake.Config{
		Issuer:  is.URL,
		KeySet:  keys,
		RoleARN: Role,
		Trust:   stsfake.TrustPolicy{Audience: Audience, Subjects: o.AWSSubjects},
		Roles:   o.AWSRoles,
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	w.STSServer = httptest.NewServer(w.STS)
	w.GCP, err = gcpfake.New(gcpfake.Config{
		Issuer:          is.URL,
		KeySet:          keys,
		Provider:        GCPProvider,
		Condition:       o.GCPCondition,
		ServiceAccounts: map[string]gcpfake.ServiceAccount{ServiceAccount: {WorkloadIdentityUsers: o.GCPSAUsers}},
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	w.GCPServer = httptest.NewServer(w.GCP)
	w.Broker, err = brokerfake.New(brokerfake.Config{
		Issuer: is.URL, KeySet: keys, Audience: BrokerAudience, Claims: o.BrokerClaims,
		ClientID: BrokerClient, ClientSecret: BrokerSecret, SingleUseJTI: false,
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	w.BrokerServer = httptest.NewServer(w.Broker)
	w.Dir, err = os.MkdirTemp("", "oidc-exchange-demo-")
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops every server and removes the runner files.
func (w *World) Close() {
	for _, srv := range []*httptest.Server{w.STSServer, w.GCPServer, w.BrokerServer} {
		if srv != nil {
			srv.Close()
		}
	}
	if w.Tokens != nil {
		w.Tokens.Close()
	}
	w.Issuer.Close()
	if w.Dir != "" {
		os.RemoveAll(w.Dir)
	}
}

// SetLatency models remote services: every request to every endpoint
// takes d in all.
func (w *World) SetLatency(d time.Duration) {
	w.Issuer.SetLatency(d)
	w.Tokens.SetLatency(d)
	w.STS.SetLatency(d)
	w.GCP.SetLatency(d)
	w.Broker.SetLatency(d)
}

// StepEnv returns the environment the runner gives a container action's
// main step, with fresh file-command files. The runner temp is "mounted":
// RUNNER_TEMP is a directory whose path ends in /github/runner_temp, as
// the CI edge expects inside the container.
func (w *World) StepEnv(stage string, inputs map[string]string) (map[string]string, error) {
	w.Files = map[string]string{}
	step := filepath.Join(w.Dir, stage)
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
		w.Files[name] = p
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
		"ACTIONS_ID_TOKEN_REQUEST_URL":   w.Tokens.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.Tokens.RequestToken,
		"RUNNER_TEMP":                    temp,
	}
	for k, v := range w.Files {
		env[k] = v
	}
	defaults := map[string]string{
		"provider":                   "aws",
		"aws-region":                 "eu-west-1",
		"oidc-issuer":                w.Issuer.URL,
		"role-to-assume":             Role,
		"workload-identity-provider": GCPProvider,
		"iamcredentials-endpoint":    w.GCPServer.URL,
		"broker-url":                 w.BrokerServer.URL + brokerfake.TokenPath,
		"broker-client-id":           BrokerClient,
		"broker-client-secret":       BrokerSecret,
	}
	for k, v := range inputs {
		defaults[k] = v
	}
	if defaults["provider"] == "broker" && inputs["audience"] == "" {
		defaults["audience"] = BrokerAudience
	}
	if defaults["provider"] == "gcp" {
		defaults["sts-endpoint"] = firstNonEmpty(inputs["sts-endpoint"], w.GCPServer.URL)
	} else {
		defaults["sts-endpoint"] = firstNonEmpty(inputs["sts-endpoint"], w.STSServer.URL)
	}
	for k, v := range defaults {
		env[inputEnvName(k)] = v
	}
	return env, nil
}

// HostTemp is the host path of the step's runner temp: the sandbox has
// no container, so host and container see the same directory.
func (w *World) HostTemp(stepEnv map[string]string) string { return stepEnv["RUNNER_TEMP"] }

// inputEnvName is the runner's variable for an action input.
func inputEnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
