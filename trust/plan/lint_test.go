package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/trust"
)

// idSuggestions are the findings a plan without ids may trigger: each says
// "pin ids instead of names", which is exactly what the plan's own warning
// says. Anything else is a plan bug (or a lint bug, to be argued).
var idSuggestions = []string{"github-names-not-ids", "gcp-condition-names", "gcp-binding-names"}

// lintInput is one document the linter reads, built from a plan.
type lintInput struct {
	name string
	data []byte
}

// lintInputs renders the artifacts the linter understands, in the shapes
// it reads: the AWS trust policy as is and inside `aws iam get-role`
// output (for the session limit); the GCP provider as `gcloud …
// providers describe --format=json` prints it and the service account's
// policy as `gcloud iam service-accounts get-iam-policy --format=json`
// prints it after the binding; the Azure credential as
// `az ad app federated-credential list` prints it.
func lintInputs(t *testing.T, req Request, p *Plan) []lintInput {
	t.Helper()
	enc := func(v any) []byte {
		s, err := marshalJSON(v, "  ")
		if err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	}
	var out []lintInput
	for _, a := range p.Artifacts {
		switch v := a.JSON.(type) {
		case TrustPolicy:
			out = append(out, lintInput{"trust-policy.json", []byte(a.Content)})
			role := map[string]any{"Role": map[string]any{
				"Path": "/", "RoleName": "github-role", "RoleId": "AROAEXAMPLEEXAMPLE",
				"Arn":                      "arn:aws:iam::111122223333:role/github-role",
				"MaxSessionDuration":       DefaultMaxSessionDuration,
				"AssumeRolePolicyDocument": v,
			}}
			out = append(out, lintInput{"get-role.json", enc(role)})
		case WorkloadIdentityProvider:
			out = append(out, lintInput{"provider.json", []byte(a.Content)})
			pin := "attribute.repository/" + req.Repository
			if req.RepositoryID != "" {
				pin = "attribute.repository_id/" + req.RepositoryID
			}
			pool, _, ok := strings.Cut(v.Name, "/providers/")
			if !ok {
				t.Fatalf("provider name %q has no /providers/ segment", v.Name)
			}
			policy := map[string]any{
				"bindings": []any{map[string]any{
					"members": []string{"principalSet://iam.googleapis.com/" + pool + "/" + pin},
					"role":    "roles/iam.workloadIdentityUser",
				}},
				"etag":    "BwYexample=",
				"version": 1,
			}
			out = append(out, lintInput{"sa-iam-policy.json", enc(policy)})
		case FederatedCredential:
			list := []map[string]any{{
				"audiences":   v.Audiences,
				"description": v.Description,
				"id":          "7d1e7c5a-0000-4000-8000-000000000001",
				"issuer":      v.Issuer,
				"name":        v.Name,
				"subject":     v.Subject,
			}}
			out = append(out, lintInput{"federated-credentials.json", enc(list)})
		case OIDCProviderInput, nil:
			// Not a format the linter reads, or not JSON.
		default:
			t.Fatalf("artifact %s has unexpected JSON type %T", a.Name, a.JSON)
		}
	}
	return out
}

// TestPlansLintClean is the planner's contract: every plan it emits passes
// the linter. Hundreds of deterministic pseudo-random requests cover each
// cloud, owners and repositories, ids present or absent, ref, wildcard
// ref, environment (with hostile names) or both, job_workflow_ref on a
// branch, tag or sha, every issuer kind and every subject format. With ids
// no finding at Low or above is allowed; without ids only the findings
// that suggest ids ([idSuggestions]) are.
func TestPlansLintClean(t *testing.T) {
	t.Parallel()
	cases := generateRequests(450)
	for _, g := range goldenRequests {
		cases = append(cases, genCase{name: "golden-" + g.name, req: g.req})
	}
	for _, env := range hostileEnvironments() {
		for _, cloud := range Clouds {
			cases = append(cases, genCase{name: fmt.Sprintf("hostile-%s-%q", cloud, env),
				req: Request{Cloud: cloud, Repository: "o/r", RepositoryID: "2", OwnerID: "1", Environment: env}})
		}
	}

	type tally struct{ cases, docs int }
	counts := map[string]*tally{}
	seen := map[string]int{} // check → findings tolerated or reported
	for _, c := range cases {
		p, err := Build(c.req)
		if err != nil {
			t.Errorf("%s: Build(%+v): %v", c.name, c.req, err)
			continue
		}
		key := fmt.Sprintf("%s ids=%t", c.req.Cloud, c.req.RepositoryID != "")
		if counts[key] == nil {
			counts[key] = &tally{}
		}
		counts[key].cases++
		opts := trust.DefaultOptions()
		if c.req.Cloud == AWS {
			opts.Audience = p.Audience
		}
		for _, in := range lintInputs(t, c.req, p) {
			counts[key].docs++
			findings, err := trust.LintFile(in.name, in.data, opts)
			if err != nil {
				t.Errorf("%s: LintFile(%s): %v\n%s", c.name, in.name, err, in.data)
				continue
			}
			for _, f := range findings {
				seen[fmt.Sprintf("%s %s (ids=%t)", f.Check, f.Severity, c.req.RepositoryID != "")]++
				// A default plan (ids pinned, subject form chosen by plan) must
				// lint with no finding at all; only plans the user steered to
				// names (--allow-names, --subject-format name) may draw the
				// informational id suggestion.
				// GHES issues no immutable subjects, so an Azure credential
				// (one exact subject) there can only name the repository.
				kind, _ := githubfacts.ClassifyIssuer(p.Issuer)
				strict := !c.req.AllowNames && c.req.SubjectFormat == SubjectAuto && kind.ImmutableSubjects()
				if f.Severity < trust.Low && !strict {
					continue
				}
				if c.req.RepositoryID == "" && slices.Contains(idSuggestions, f.Check) {
					continue
				}
				t.Errorf("%s: %s: %s (%s) at %s: %s\nrequest: %+v\n%s", c.name, in.name, f.Check, f.Severity, f.Path, f.Message, c.req, in.data)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%-16s %4d plans, %4d documents linted", k, counts[k].cases, counts[k].docs)
	}
	for _, k := range slices.Sorted(maps.Keys(seen)) {
		t.Logf("finding %s: %d", k, seen[k])
	}
}

// TestLintHarnessBites guards TestPlansLintClean against passing
// vacuously: the same inputs, broken on purpose, must draw findings.
func TestLintHarnessBites(t *testing.T) {
	t.Parallel()
	breakers := map[Cloud]func(a *Artifact){
		AWS: func(a *Artifact) {
			if tp, ok := a.JSON.(TrustPolicy); ok {
				cond := map[string]map[string]any{"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
				tp.Statement = []TrustStatement{{Effect: tp.Statement[0].Effect, Principal: tp.Statement[0].Principal,
					Action: tp.Statement[0].Action, Condition: cond}}
				a.JSON = tp
				a.Content, _ = marshalJSON(tp, "  ")
			}
		},
		GCP: func(a *Artifact) {
			if d, ok := a.JSON.(WorkloadIdentityProvider); ok {
				d.AttributeCondition = "assertion.ref == 'refs/heads/main'"
				a.JSON = d
				a.Content, _ = marshalJSON(d, "  ")
			}
		},
		Azure: func(a *Artifact) {
			if f, ok := a.JSON.(FederatedCredential); ok {
				f.Subject = "repository_owner:octo-org:environment:prod"
				a.JSON = f
			}
		},
	}
	for _, cloud := range Clouds {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			req := Request{Cloud: cloud, Repository: "octo-org/octo-repo", RepositoryID: "2", OwnerID: "1", Ref: "refs/heads/main"}
			p, err := Build(req)
			if err != nil {
				t.Fatal(err)
			}
			for i := range p.Artifacts {
				breakers[cloud](&p.Artifacts[i])
			}
			worst := trust.Severity(0)
			for _, in := range lintInputs(t, req, p) {
				findings, err := trust.LintFile(in.name, in.data, trust.DefaultOptions())
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range findings {
					worst = max(worst, f.Severity)
				}
			}
			if worst < trust.High {
				t.Errorf("a broken %s plan drew at worst %v, want high or critical", cloud, worst)
			}
		})
	}
}
