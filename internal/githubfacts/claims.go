package githubfacts

// Claim names of GitHub's OIDC tokens that the project's code refers to
// (github/docs "About security hardening with OpenID Connect").
const (
	ClaimSub               = "sub"
	ClaimAud               = "aud"
	ClaimRepository        = "repository"
	ClaimRepositoryID      = "repository_id"
	ClaimRepositoryOwner   = "repository_owner"
	ClaimRepositoryOwnerID = "repository_owner_id"
	ClaimRef               = "ref"
	ClaimEnvironment       = "environment"
	ClaimWorkflowRef       = "workflow_ref"
	ClaimJobWorkflowRef    = "job_workflow_ref"
	ClaimEventName         = "event_name"
)

// StringClaims returns the claims that must be strings when present.
// GitHub encodes ids and booleans as strings; a number or object there
// means the token is not what a policy written against GitHub's
// documentation expects. The slice is new on each call.
func StringClaims() []string {
	return []string{
		ClaimSub, "jti", "actor", "actor_id", ClaimRepository, ClaimRepositoryID, ClaimRepositoryOwner, ClaimRepositoryOwnerID,
		ClaimRef, "ref_type", "sha", "workflow", ClaimWorkflowRef, ClaimJobWorkflowRef, ClaimEnvironment, ClaimEventName,
		"run_id", "run_attempt", "runner_environment", "enterprise", "enterprise_id",
	}
}

// DenialClaims returns the claims trust policies, attribute conditions and
// brokers usually match on, in the order an error shows them when a cloud
// refuses a token: the subject and audience, the repository by name and by
// its ids, then the context. The slice is new on each call.
func DenialClaims() []string {
	return []string{ClaimSub, ClaimAud, ClaimRepository, ClaimRepositoryID, ClaimRepositoryOwnerID, ClaimRef, ClaimEnvironment, ClaimJobWorkflowRef}
}
