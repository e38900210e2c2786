package trust

import (
	"slices"
	"strings"
)

// Check describes one rule of the linter. IDs are stable: a check may be
// retired but its ID is never reused or renamed, because users suppress
// and track findings by it.
//
// The scheme is <scope>-<subject>[-<problem>] in lower-case kebab case, where
// scope says whose semantics the rule encodes: aws, gcp or azure (a cloud's
// trust configuration), github (GitHub's token claims, whatever the cloud)
// or json (the document itself).
type Check struct {
	// ID is the stable identifier, e.g. "aws-sub-missing".
	ID string
	// Title is a one-line summary.
	Title string
	// Severity is the default severity. A finding may be lower where the
	// check's page says so (for example when [Options.Privileged] is false).
	Severity Severity
	// Platform is "aws", "gcp", "azure", or "any".
	Platform string
	// Description says what the check catches and why it matters.
	Description string
	// Fix is the generic remedy; findings may carry a more specific one.
	Fix string
}

// DocPath is the check's documentation page relative to the repository
// root, e.g. "docs/checks/aws-sub-missing.md".
func (c Check) DocPath() string { return "docs/checks/" + c.ID + ".md" }

// Check IDs. Keep in sync with [Checks] and docs/checks/.
const (
	idJSONDuplicateKey        = "json-duplicate-key"
	idJSONTemplatePlaceholder = "json-template-placeholder"

	idIssuerUnknown      = "github-issuer-unknown"
	idPullRequestTrust   = "github-pull-request-trust"
	idWorkflowRefPinning = "github-workflow-ref-unpinned"
	idNamesNotIDs        = "github-names-not-ids"

	idAWSPrincipalWildcard   = "aws-principal-wildcard"
	idAWSAudNotPinned        = "aws-aud-not-pinned"
	idAWSAudUnexpected       = "aws-aud-unexpected"
	idAWSSubMissing          = "aws-sub-missing"
	idAWSSubAnyRepo          = "aws-sub-any-repo"
	idAWSSubOrgWide          = "aws-sub-org-wide"
	idAWSSubAnyRef           = "aws-sub-any-ref"
	idAWSStringEqualsPattern = "aws-stringequals-wildcard"
	idAWSOperatorFailsOpen   = "aws-operator-fails-open"
	idAWSKeyPrefixMismatch   = "aws-key-prefix-mismatch"
	idAWSUnconditionedAllow  = "aws-unconditioned-allow"
	idAWSMaxSessionLong      = "aws-max-session-long"

	idGCPConditionMissing = "gcp-condition-missing"
	idGCPConditionTrivial = "gcp-condition-trivial"
	idGCPConditionNames   = "gcp-condition-names"
	idGCPSubjectUnmapped  = "gcp-subject-unmapped"
	idGCPAudienceShared   = "gcp-audience-shared"
	idGCPProviderDisabled = "gcp-provider-disabled"
	idGCPBindingWildcard  = "gcp-binding-wildcard"
	idGCPBindingNames     = "gcp-binding-names"

	idAzureAudience         = "azure-audience-unexpected"
	idAzureSubjectWildcard  = "azure-subject-wildcard"
	idAzureSubjectUnpinned  = "azure-subject-unpinned"
	idAzureExpressionOpen   = "azure-expression-unpinned"
	idAzureExpressionAnyRef = "azure-expression-any-ref"
)

// Checks returns the catalogue, sorted by ID. Every check has a page at
// [Check.DocPath]. The slice is new on every call; callers may keep or
// modify it.
func Checks() []Check {
	cs := []Check{
		{
			ID: idJSONDuplicateKey, Title: "Duplicate JSON object key", Severity: High, Platform: "any",
			Description: "An object repeats a key, e.g. two StringEquals blocks under one Condition. Go's encoding/json, " +
				"most other decoders and, as reported, IAM keep only the last value, so the first block silently " +
				"disappears (alphagov/govuk-infrastructure PR #879).",
			Fix: "Merge the duplicates into one object: put every key of one operator under a single StringEquals (or StringLike) block.",
		},
		{
			ID: idJSONTemplatePlaceholder, Title: "Value is an unrendered template placeholder", Severity: Medium, Platform: "any",
			Description: "A value holds a template placeholder (${VAR}, {{ .x }}, <ACCOUNT_ID>), as in a Terraform, " +
				"CloudFormation or Helm source or a README example, so the linter cannot see what the rendered trust admits. " +
				"It checks what it can: an AWS principal that is a placeholder is read as the GitHub issuer its condition " +
				"keys name, a GCP member's templated pool is skipped, a templated GCP or Azure issuer is checked as GitHub's. " +
				"Medium where the placeholder decides who is admitted (a binding member's attribute or subject, an AWS " +
				"condition value, a GCP attribute condition, an Azure subject, expression or audience, an issuer, or a " +
				"principal whose issuer cannot be inferred), and that value is not judged as literal text; info where it " +
				"only names the account, project, pool or a GitHub issuer and everything else was checked.",
			Fix: "Lint the rendered document (terraform show -json, aws iam get-role, gcloud … get-iam-policy) rather than the template.",
		},
		{
			ID: idIssuerUnknown, Title: "Issuer is not a GitHub Actions issuer", Severity: Info, Platform: "any",
			Description: "The provider ARN, issuer URL or federated principal is not one of GitHub's OIDC issuers " +
				"(token.actions.githubusercontent.com, an enterprise slug issuer, GHE.com, or GHES <host>/_services/token), " +
				"so the GitHub-specific checks were skipped. Near misses such as a trailing slash or http:// never match GitHub's iss.",
			Fix: "If this trust is meant for GitHub Actions, use https://token.actions.githubusercontent.com (or your " +
				"enterprise's issuer) exactly; otherwise review it against that CI system's guidance.",
		},
		{
			ID: idPullRequestTrust, Title: "Trust admits pull-request runs", Severity: High, Platform: "any",
			Description: "The trust admits the pull_request subject (repo:OWNER/REPO:pull_request), refs/pull/ refs, or " +
				"pull_request_target/workflow_run events. Pull-request code is unreviewed; a privileged role must not be " +
				"reachable from it. High for privileged roles, medium when Options.Privileged is false.",
			Fix: "Trust only protected refs or an environment with required reviewers (repo:OWNER/REPO:environment:prod); " +
				"give pull-request jobs a separate, read-only role.",
		},
		{
			ID: idWorkflowRefPinning, Title: "Reusable-workflow trust is not pinned to a protected ref or SHA", Severity: High, Platform: "any",
			Description: "job_workflow_ref names the called (reusable) workflow. A wildcard in its path or ref (…@*) lets a " +
				"caller choose another workflow or a ref it can push; a branch other than main/master can be pushed by " +
				"anyone with write access (medium).",
			Fix: "Pin job_workflow_ref to OWNER/REPO/.github/workflows/FILE.yml@refs/heads/main, a refs/tags/ release or a " +
				"40-hex commit SHA, and pair it with an owner-ID constraint on the caller.",
		},
		{
			ID: idNamesNotIDs, Title: "Trust matches names, not immutable IDs", Severity: Info, Platform: "any",
			Description: "Owner and repository names are recycled: after a rename or deletion someone else can register the " +
				"name and receive identical sub and repository values (Astrix 2026). repository_id and " +
				"repository_owner_id are never reused.",
			Fix: "Use the immutable subject repo:OWNER@OWNER_ID/REPO@REPO_ID:… or add repository_id / repository_owner_id " +
				"conditions (AWS <issuer>:repository_id, GCP assertion.repository_id).",
		},
		{
			ID: idAWSPrincipalWildcard, Title: "Trust policy principal is *", Severity: Critical, Platform: "aws",
			Description: "A statement allowing sts:AssumeRoleWithWebIdentity names Principal \"*\" (or Federated/AWS \"*\") " +
				"instead of the account's GitHub OIDC provider ARN, so any identity may try the role and only the " +
				"conditions stand in the way.",
			Fix: "Set Principal.Federated to arn:aws:iam::ACCOUNT_ID:oidc-provider/token.actions.githubusercontent.com " +
				"(or your enterprise, GHE.com or GHES issuer).",
		},
		{
			ID: idAWSAudNotPinned, Title: "aud is not pinned with StringEquals", Severity: Medium, Platform: "aws",
			Description: "Without StringEquals on <issuer>:aud the role accepts every audience in the OIDC provider's client " +
				"ID list, so a token minted for another relying party can be replayed to it.",
			Fix: "Add \"StringEquals\": {\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\"} (with your issuer's prefix).",
		},
		{
			ID: idAWSAudUnexpected, Title: "aud condition is not the expected audience", Severity: Low, Platform: "aws",
			Description: "The aud condition pins values other than the expected audience (sts.amazonaws.com unless another " +
				"is configured). configure-aws-credentials requests sts.amazonaws.com, so the role either never matches " +
				"or also trusts audiences other tools use.",
			Fix: "Pin aud to exactly the audience your workflow requests (sts.amazonaws.com by default), or lint with that audience.",
		},
		{
			ID: idAWSSubMissing, Title: "No sub condition: any GitHub repository can assume the role", Severity: Critical, Platform: "aws",
			Description: "GitHub's issuer is shared by every repository on GitHub. A statement that pins neither <issuer>:sub " +
				"nor a repository key lets any of them assume the role (Datadog Security Labs 2023, Tinder 2023, Unit 42 2025).",
			Fix: "Add StringEquals on <issuer>:sub with repo:OWNER/REPO:ref:refs/heads/main or repo:OWNER/REPO:environment:NAME.",
		},
		{
			ID: idAWSSubAnyRepo, Title: "sub matches repositories of any owner", Severity: Critical, Platform: "aws",
			Description: "Patterns such as *, repo:*, repo:org* (a prefix that also matches org-evil) or a wildcard in the " +
				"owner admit repositories outside your organisation.",
			Fix: "Write the owner and repository literally: repo:OWNER/REPO:ref:refs/heads/main.",
		},
		{
			ID: idAWSSubOrgWide, Title: "sub matches every repository of the owner", Severity: Critical, Platform: "aws",
			Description: "repo:org/* (or repo:org/prefix*) admits every current and future repository of the owner, " +
				"including ones any member can create. Critical for privileged roles, high when Options.Privileged is false.",
			Fix: "List the repositories that need the role: repo:OWNER/REPO:ref:refs/heads/main, one value per repository.",
		},
		{
			ID: idAWSSubAnyRef, Title: "sub pins the repository but not one branch, tag or environment", Severity: Medium, Platform: "aws",
			Description: "repo:org/repo:* (or …:ref:refs/heads/*, …:environment:*, or a repository pin without a ref) admits " +
				"pull requests, every branch and every environment, so anyone who can push a branch gets the role.",
			Fix: "Pin the context: repo:OWNER/REPO:ref:refs/heads/main or repo:OWNER/REPO:environment:prod.",
		},
		{
			ID: idAWSStringEqualsPattern, Title: "Wildcard inside StringEquals never matches", Severity: Medium, Platform: "aws",
			Description: "StringEquals compares literally; * and ? are ordinary characters there, so the value never matches " +
				"(aws-actions/configure-aws-credentials #1137).",
			Fix: "Write the exact value under StringEquals, or move a deliberate pattern to StringLike and keep it narrow.",
		},
		{
			ID: idAWSOperatorFailsOpen, Title: "Condition operator fails open on a GitHub key", Severity: High, Platform: "aws",
			Description: "ForAllValues: is true when the key is absent, …IfExists passes when it is absent, and negated " +
				"operators (StringNotEquals, StringNotLike) admit everything but the listed values (github/docs #15769, " +
				"configure-aws-credentials README).",
			Fix: "Use plain StringEquals (or StringLike) on sub, aud and repository keys.",
		},
		{
			ID: idAWSKeyPrefixMismatch, Title: "Condition key prefix differs from the provider", Severity: High, Platform: "aws",
			Description: "Condition keys are named after the provider's URL: with an enterprise issuer they are " +
				"token.actions.githubusercontent.com/<slug>:sub. A key written for another host or path is absent from the " +
				"request, so the condition never applies: StringEquals/StringLike then refuse every token, IfExists and " +
				"negated operators let every token through.",
			Fix: "Rename the keys to the provider's host and path, e.g. token.actions.githubusercontent.com/octo-enterprise:sub.",
		},
		{
			ID: idAWSUnconditionedAllow, Title: "Another Allow statement has no conditions", Severity: High, Platform: "aws",
			Description: "Statements are ORed: an Allow for the federated principal without a Condition block bypasses the " +
				"conditions on every other statement.",
			Fix: "Delete the unconditioned statement or give it the same aud and sub conditions.",
		},
		{
			ID: idAWSMaxSessionLong, Title: "MaxSessionDuration is over one hour", Severity: Low, Platform: "aws",
			Description: "A CI job rarely needs credentials for longer than the default hour; longer sessions widen the window " +
				"in which leaked credentials work.",
			Fix: "Set MaxSessionDuration to 3600 or less and request shorter sessions (role-duration-seconds).",
		},
		{
			ID: idGCPConditionMissing, Title: "Provider has no attribute condition", Severity: Critical, Platform: "gcp",
			Description: "Without an attribute condition the provider admits tokens from every GitHub repository into the pool " +
				"and only IAM bindings filter afterwards (google-github-actions/auth: \"Always add an Attribute Condition\").",
			Fix: "Set --attribute-condition=\"assertion.repository_owner_id == 'OWNER_ID'\" (add assertion.repository_id for one repository).",
		},
		{
			ID: idGCPConditionTrivial, Title: "Attribute condition is trivially true or does not pin the owner", Severity: Critical, Platform: "gcp",
			Description: "Conditions such as true, 1 == 1, assertion.sub != '' or ones that only test ref, or only negate, " +
				"admit any repository on GitHub. Every alternative (||) must pin the owner or the repository to a literal.",
			Fix: "Compare owner or repository IDs with literals: assertion.repository_owner_id == '123456' && assertion.repository_id == '789012'.",
		},
		{
			ID: idGCPConditionNames, Title: "Attribute condition pins names, not IDs", Severity: Medium, Platform: "gcp",
			Description: "The condition pins repository_owner, repository or a name-form sub. Names are recycled after a rename " +
				"or deletion (google-github-actions/auth SECURITY_CONSIDERATIONS, Astrix 2026).",
			Fix: "Use assertion.repository_owner_id and assertion.repository_id instead of names.",
		},
		{
			ID: idGCPSubjectUnmapped, Title: "google.subject is not mapped from assertion.sub", Severity: Low, Platform: "gcp",
			Description: "google.subject names the principal in Cloud Audit Logs and principal:// bindings. Mapped from " +
				"anything but assertion.sub, logs cannot tell which repository, ref or environment acted.",
			Fix: "Add google.subject=assertion.sub to --attribute-mapping.",
		},
		{
			ID: idGCPAudienceShared, Title: "Allowed audience is shared with other relying parties", Severity: Low, Platform: "gcp",
			Description: "With allowedAudiences empty GCP accepts only the provider's own resource name as aud, which nothing " +
				"else accepts. Listing sts.amazonaws.com, api://AzureADTokenExchange, GitHub's default https://github.com/OWNER " +
				"or a wildcard lets a token minted for another service be replayed here.",
			Fix: "Leave allowedAudiences empty (the provider-specific default) or use a value unique to this provider.",
		},
		{
			ID: idGCPProviderDisabled, Title: "Provider is disabled or deleted", Severity: Info, Platform: "gcp",
			Description: "The provider is not ACTIVE. Its other findings still apply: enabling or undeleting it restores this configuration.",
			Fix:         "Fix the findings before enabling it again, or delete it for good.",
		},
		{
			ID: idGCPBindingWildcard, Title: "IAM binding grants the whole pool (principalSet …/*)", Severity: Critical, Platform: "gcp",
			Description: "principalSet://…/workloadIdentityPools/POOL/* admits every identity the pool accepts; with a loose " +
				"attribute condition that is every GitHub repository (google-github-actions/auth SECURITY_CONSIDERATIONS: never use * in bindings).",
			Fix: "Bind principalSet://…/workloadIdentityPools/POOL/attribute.repository_id/REPO_ID (mapping attribute.repository_id=assertion.repository_id).",
		},
		{
			ID: idGCPBindingNames, Title: "IAM binding on a repository or owner name", Severity: Medium, Platform: "gcp",
			Description: "Bindings on attribute.repository/OWNER/REPO or attribute.repository_owner/OWNER follow the name, " +
				"which someone else can register after a rename or deletion.",
			Fix: "Bind attribute.repository_id/REPO_ID or attribute.repository_owner_id/OWNER_ID instead.",
		},
		{
			ID: idAzureAudience, Title: "Audience is not api://AzureADTokenExchange", Severity: Medium, Platform: "azure",
			Description: "azure/login requests api://AzureADTokenExchange. Any other value either never matches or is an " +
				"audience other relying parties accept, so their tokens could be replayed here.",
			Fix: "Set audiences to [\"api://AzureADTokenExchange\"].",
		},
		{
			ID: idAzureSubjectWildcard, Title: "Wildcard in an exact-match subject", Severity: Medium, Platform: "azure",
			Description: "Classic federated credential subjects, and eq comparisons in flexible expressions, match exactly " +
				"(and case-sensitively since August 2024, Azure/login #515, #517): * and ? never match.",
			Fix: "Write the exact subject, or use a flexible credential with matches and a pattern that pins owner and repository.",
		},
		{
			ID: idAzureSubjectUnpinned, Title: "Subject does not pin owner and repository", Severity: High, Platform: "azure",
			Description: "A subject without the repository (for example a customised sub such as repository_owner:ORG:environment:prod), " +
				"or a credential with neither subject nor expression, admits other repositories.",
			Fix: "Include the repository: repo:OWNER/REPO:environment:prod (or repository_id in a customised sub).",
		},
		{
			ID: idAzureExpressionOpen, Title: "Flexible expression does not pin owner and repository literally", Severity: High, Platform: "azure",
			Description: "claims['sub'] matches 'repo:org/*' admits every repository of the org, a wildcard in the owner admits " +
				"other owners, and an alternative (or) without a sub or repository pin admits anything.",
			Fix: "Write owner and repository literally: claims['sub'] matches 'repo:OWNER/REPO:environment:prod'.",
		},
		{
			ID: idAzureExpressionAnyRef, Title: "Flexible expression matches every ref of a repository", Severity: Medium, Platform: "azure",
			Description: "repo:OWNER/REPO:* or …:ref:refs/heads/* admits pull requests and every branch, so anyone who can push " +
				"a branch gets the identity.",
			Fix: "Pin the branch or environment: claims['sub'] eq 'repo:OWNER/REPO:environment:prod'.",
		},
	}
	slices.SortFunc(cs, func(a, b Check) int { return strings.Compare(a.ID, b.ID) })
	return cs
}
