package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// Suggestion is the trust that admits the job a verified token came from,
// taken from the plan [Build] writes for that job: what a provider shows
// when a cloud denies the token. Coming from the planner, it lints clean
// like every plan.
type Suggestion struct {
	// AWSCondition is the Condition block of the role's trust policy,
	// `"Condition": {…}` and a newline, ready to paste. AWS only.
	AWSCondition string
	// GCPCondition is the provider's attribute condition. GCP only.
	GCPCondition string
	// Principal is the principal set to bind on the service account, and
	// Mapping the attribute mapping it relies on
	// ("attribute.repository_id=assertion.repository_id"). GCP only.
	Principal, Mapping string
	// ByName is set when the token carries no repository ids, so the
	// suggestion pins names, which can be re-registered.
	ByName bool
}

// Suggest plans the trust that admits the job a verified token came from:
// its repository (by id when the token carries the ids), its ref or
// environment, and the reusable workflow that defined the job.
//
// r names the cloud and, where the suggestion shows them, the cloud's
// resources (GCP project number, pool and provider); the token decides the
// rest. issuer and audience are the ones the run verified the token
// against. A GitHub-shaped token from an issuer that is not GitHub's (a
// loopback test issuer) is planned as github.com's, with the AWS
// condition keys named after its issuer.
//
// Suggest fails, with a reason for the user, on what a plan refuses to
// trust (a pull request) and when the plan would not admit this token (a
// customised sub, an event whose token carries the base branch's ref).
func Suggest(r Request, issuer, audience string, id *exchange.Identity) (*Suggestion, error) {
	p, err := suggestPlan(r, issuer, audience, id)
	if err != nil {
		return nil, err
	}
	s := &Suggestion{Principal: p.Principal, ByName: r.RepositoryID == "" && !hasIDs(id)}
	for _, a := range p.Artifacts {
		switch v := a.JSON.(type) {
		case TrustPolicy:
			cond := v.Statement[0].Condition
			if from, to := githubfacts.ConditionKeyPrefix(p.Issuer), githubfacts.ConditionKeyPrefix(issuer); from != to {
				cond = rekey(cond, from+":", to+":")
			}
			text, err := marshalJSON(cond, "  ")
			if err != nil {
				return nil, fmt.Errorf("encoding the condition: %w", err)
			}
			s.AWSCondition = `"Condition": ` + text + "\n"
		case WorkloadIdentityProvider:
			s.GCPCondition = v.AttributeCondition
			for k, m := range v.AttributeMapping {
				if strings.HasPrefix(k, "attribute.") && strings.Contains(p.Principal, "/"+k+"/") {
					s.Mapping = k + "=" + m
				}
			}
		}
	}
	return s, nil
}

func hasIDs(id *exchange.Identity) bool {
	return id.Claim(githubfacts.ClaimRepositoryID) != "" && id.Claim(githubfacts.ClaimRepositoryOwnerID) != ""
}

// suggestPlan is the plan behind [Suggest]; the tests lint it whole.
func suggestPlan(r Request, issuer, audience string, id *exchange.Identity) (*Plan, error) {
	r.Issuer, r.Audience = issuer, audience
	if _, err := githubfacts.ClassifyIssuer(issuer); err != nil {
		r.Issuer = ""
	}
	r.Repository = id.Claim(githubfacts.ClaimRepository)
	if r.Repository == "" {
		return nil, errors.New("the token has no repository claim")
	}
	if hasIDs(id) {
		r.RepositoryID, r.OwnerID = id.Claim(githubfacts.ClaimRepositoryID), id.Claim(githubfacts.ClaimRepositoryOwnerID)
	} else {
		r.AllowNames = true
	}
	r.Ref, r.Environment = id.Claim(githubfacts.ClaimRef), id.Claim(githubfacts.ClaimEnvironment)
	if err := validateRef(r.Ref, false); err != nil {
		if r.Environment == "" {
			return nil, fmt.Errorf("ref %q: %w", exchange.Sanitize(r.Ref), err)
		}
		// The environment decides the sub; the ref is pinned only where
		// the plan can pin it.
		r.Ref = ""
	}
	switch event := id.Claim(githubfacts.ClaimEventName); event {
	case "pull_request_target", "workflow_run":
		return nil, fmt.Errorf("the job ran on %s, whose token carries the base branch's ref while the job may run code from a pull request", event)
	}
	// A job defined in its own workflow file has job_workflow_ref equal to
	// workflow_ref; only a reusable workflow is worth pinning, and only
	// where the plan can pin it (not on a branch anyone may push).
	if jwr := id.Claim(githubfacts.ClaimJobWorkflowRef); jwr != "" && jwr != id.Claim(githubfacts.ClaimWorkflowRef) &&
		validateJobWorkflowRef(jwr) == nil {
		r.JobWorkflowRef = jwr
	}
	p, err := Build(r)
	if err != nil {
		return nil, err
	}
	if len(p.Subjects) > 0 && !slices.Contains(p.Subjects, id.Subject) {
		return nil, fmt.Errorf("the token's sub %q is not in GitHub's default format (the repository customised it), so a condition on sub must follow that format",
			exchange.Sanitize(id.Subject))
	}
	return p, nil
}

// rekey renames the condition keys that start with from.
func rekey(cond map[string]map[string]any, from, to string) map[string]map[string]any {
	out := make(map[string]map[string]any, len(cond))
	for op, keys := range cond {
		out[op] = make(map[string]any, len(keys))
		for k, v := range keys {
			if rest, ok := strings.CutPrefix(k, from); ok {
				k = to + rest
			}
			out[op][k] = v
		}
	}
	return out
}
