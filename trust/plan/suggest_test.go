package plan

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/trust"
)

// githubToken is the identity of a push to main of octo-org/octo-repo, as
// GitHub issues it; each case of TestSuggestionsLintClean changes a few
// claims.
func githubToken(issuer string, change map[string]string) *exchange.Identity {
	claims := map[string]string{
		"repository": "octo-org/octo-repo", "repository_id": "456789",
		"repository_owner": "octo-org", "repository_owner_id": "123456",
		"ref": "refs/heads/main", "event_name": "push",
		"workflow_ref":     "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
	}
	for k, v := range change {
		if v == "" {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	id := &exchange.Identity{Issuer: issuer, Claims: map[string]any{}}
	for k, v := range claims {
		id.Claims[k] = v
	}
	id.Subject = githubfacts.NameSubject("octo-org/octo-repo", githubfacts.RefContext(claims["ref"]))
	if env := claims["environment"]; env != "" {
		id.Subject = githubfacts.NameSubject("octo-org/octo-repo", githubfacts.EnvironmentContext(env))
	}
	if claims["event_name"] == "pull_request" {
		id.Subject = "repo:octo-org/octo-repo:pull_request"
	}
	if sub, ok := change["sub"]; ok {
		id.Subject = sub
	}
	id.Claims["sub"] = id.Subject
	return id
}

// TestSuggestionsLintClean is the contract of the denial suggestions: for
// every identity a provider may be denied, what it shows is what the
// planner writes, and it lints clean like every plan: no finding at all
// when the token carries ids, only the id suggestions when it does not.
// Jobs a plan never trusts get no suggestion, and a reason.
func TestSuggestionsLintClean(t *testing.T) {
	t.Parallel()
	const (
		dotCom  = "https://token.actions.githubusercontent.com"
		slug    = "https://token.actions.githubusercontent.com/octo-enterprise"
		gheCom  = "https://token.actions.octocorp.ghe.com"
		ghes    = "https://ghes.example.com/_services/token"
		gcpPool = "projects/123456789/locations/global/workloadIdentityPools/github"
	)
	tests := []struct {
		name    string
		issuer  string
		change  map[string]string
		refusal string // set when no suggestion is made
	}{
		{name: "push to main", issuer: dotCom},
		{name: "tag", issuer: dotCom, change: map[string]string{"ref": "refs/tags/v1.2.3"}},
		{name: "environment", issuer: dotCom, change: map[string]string{"environment": "production"}},
		{name: "environment with a colon", issuer: dotCom, change: map[string]string{"environment": "prod: eu"}},
		{name: "reusable workflow", issuer: dotCom, change: map[string]string{
			"job_workflow_ref": "octo-org/workflows/.github/workflows/deploy.yml@refs/tags/v2"}},
		{name: "reusable workflow on a branch is not pinned", issuer: dotCom, change: map[string]string{
			"job_workflow_ref": "octo-org/workflows/.github/workflows/deploy.yml@refs/heads/dev"}},
		{name: "GHE.com issuer", issuer: gheCom},
		{name: "enterprise slug issuer", issuer: slug},
		{name: "GHES issuer", issuer: ghes},
		{name: "token without ids", issuer: dotCom, change: map[string]string{"repository_id": "", "repository_owner_id": ""}},
		{name: "pull request", issuer: dotCom, change: map[string]string{"ref": "refs/pull/7/merge", "event_name": "pull_request"},
			refusal: "pull-request contexts are refused"},
		{name: "pull_request_target", issuer: dotCom, change: map[string]string{"event_name": "pull_request_target"},
			refusal: "pull_request_target"},
		{name: "no repository", issuer: dotCom, change: map[string]string{"repository": ""}, refusal: "no repository claim"},
	}
	for _, tt := range tests {
		for _, cloud := range []Cloud{AWS, GCP} {
			t.Run(tt.name+"/"+string(cloud), func(t *testing.T) {
				t.Parallel()
				id := githubToken(tt.issuer, tt.change)
				r := Request{Cloud: cloud}
				audience := DefaultAWSAudience
				if cloud == GCP {
					r.ProjectNumber, r.PoolID, r.ProviderID = "123456789", "github", "octo-repo"
					audience = "https://iam.googleapis.com/" + gcpPool + "/providers/octo-repo"
				}
				s, err := Suggest(r, tt.issuer, audience, id)
				if tt.refusal != "" {
					if err == nil || !strings.Contains(err.Error(), tt.refusal) {
						t.Fatalf("Suggest() = %+v, %v; want a refusal containing %q", s, err, tt.refusal)
					}
					return
				}
				if err != nil {
					t.Fatalf("Suggest(): %v", err)
				}
				p, err := suggestPlan(r, tt.issuer, audience, id)
				if err != nil {
					t.Fatal(err)
				}
				byName := id.Claim("repository_id") == ""
				if s.ByName != byName {
					t.Errorf("ByName = %t, want %t", s.ByName, byName)
				}
				// What the provider shows, rebuilt into the documents the
				// linter reads, and the plan it came from.
				inputs := lintInputs(t, p.request(r, tt.issuer, audience, id), p)
				switch cloud {
				case AWS:
					var cond struct {
						Condition map[string]map[string]any
					}
					if err := json.Unmarshal([]byte("{"+s.AWSCondition+"}"), &cond); err != nil {
						t.Fatalf("AWSCondition is not a JSON member: %v\n%s", err, s.AWSCondition)
					}
					policy := TrustPolicy{Version: "2012-10-17", Statement: []TrustStatement{{
						Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity", Condition: cond.Condition,
						Principal: map[string]string{"Federated": "arn:aws:iam::111122223333:oidc-provider/" + p.prefix()},
					}}}
					data, _ := marshalJSON(policy, "  ")
					inputs = append(inputs, lintInput{"suggested-trust-policy.json", []byte(data)})
					if !slices.Contains(p.Subjects, id.Subject) {
						t.Errorf("the suggestion does not admit the token's sub %q: %q", id.Subject, p.Subjects)
					}
				case GCP:
					w, _ := p.gcpProvider()
					if s.GCPCondition != w.AttributeCondition || s.GCPCondition == "" {
						t.Errorf("GCPCondition = %q, the plan's is %q", s.GCPCondition, w.AttributeCondition)
					}
					if !strings.HasPrefix(s.Principal, "principalSet://iam.googleapis.com/"+gcpPool+"/attribute.") || s.Mapping == "" {
						t.Errorf("Principal = %q, Mapping = %q", s.Principal, s.Mapping)
					}
					wantPin := "assertion.repository_id == '456789'"
					if byName {
						wantPin = "assertion.repository == 'octo-org/octo-repo'"
					}
					if !strings.Contains(s.GCPCondition, wantPin) || !strings.Contains(s.GCPCondition, "assertion.ref == "+celString(id.Claim("ref"))) {
						t.Errorf("GCPCondition %q does not pin %s and the ref", s.GCPCondition, wantPin)
					}
				case Azure:
					t.Fatal("no provider suggests Azure trust")
				}
				opts := trust.DefaultOptions()
				opts.Audience = audience
				for _, in := range inputs {
					findings, err := trust.LintFile(in.name, in.data, opts)
					if err != nil {
						t.Fatalf("LintFile(%s): %v\n%s", in.name, err, in.data)
					}
					for _, f := range findings {
						if byName && slices.Contains(idSuggestions, f.Check) {
							continue
						}
						t.Errorf("%s: %s (%s): %s\n%s", in.name, f.Check, f.Severity, f.Message, in.data)
					}
				}
			})
		}
	}
}

// request is the plan request lintInputs needs to rebuild the binding.
func (p *Plan) request(r Request, issuer, audience string, id *exchange.Identity) Request {
	r.Repository, r.Issuer, r.Audience = p.Repository, issuer, audience
	if id.Claim("repository_owner_id") != "" {
		r.RepositoryID = id.Claim("repository_id")
	}
	return r
}

func (p *Plan) prefix() string { return githubfacts.ConditionKeyPrefix(p.Issuer) }

func (p *Plan) gcpProvider() (WorkloadIdentityProvider, bool) {
	for _, a := range p.Artifacts {
		if w, ok := a.JSON.(WorkloadIdentityProvider); ok {
			return w, true
		}
	}
	return WorkloadIdentityProvider{}, false
}

// TestSuggestLoopbackIssuer keeps the demo's explanation: a GitHub-shaped
// token of a loopback test issuer is planned as github.com's, with the
// condition keys named after its issuer.
func TestSuggestLoopbackIssuer(t *testing.T) {
	t.Parallel()
	const issuer = "http://127.0.0.1:8080"
	s, err := Suggest(Request{Cloud: AWS}, issuer, DefaultAWSAudience, githubToken(issuer, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.AWSCondition, `"127.0.0.1:8080:sub": [`) || strings.Contains(s.AWSCondition, "githubusercontent") {
		t.Errorf("AWSCondition keys are not named after the issuer:\n%s", s.AWSCondition)
	}
}

// TestSuggestCustomisedSubject: a condition on sub in GitHub's default
// format would not admit a token whose repository customised its sub.
func TestSuggestCustomisedSubject(t *testing.T) {
	t.Parallel()
	id := githubToken("https://token.actions.githubusercontent.com", map[string]string{"sub": "repository_owner_id:123456:repository_id:456789:ref:refs/heads/main"})
	if _, err := Suggest(Request{Cloud: AWS}, id.Issuer, DefaultAWSAudience, id); err == nil || !strings.Contains(err.Error(), "customised") {
		t.Errorf("Suggest() error = %v, want the customised sub named", err)
	}
	if _, err := Suggest(Request{Cloud: GCP}, id.Issuer, "aud", id); err != nil {
		t.Errorf("GCP matches claims, not sub: Suggest() = %v", err)
	}
}
