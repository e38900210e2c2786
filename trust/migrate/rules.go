package migrate

import "github.com/oidc-exchange/oidc-exchange/trust"

// Rule ids, one per kind of long-lived credential, plus the two that make
// the scan itself loud (a workflow it could not read, and a job --write
// leaves as it is) and one for what the migration needs beyond the file
// it rewrites (callers of a reusable workflow). Ids are stable; each has
// a page docs/checks/<id>.md.
const (
	RuleAWSStaticKeys     = "migrate-aws-static-keys"
	RuleGCPCredentialsKey = "migrate-gcp-credentials-json"
	RuleAzureCreds        = "migrate-azure-creds"
	RuleVaultToken        = "migrate-vault-token"
	RuleDeployToken       = "migrate-deploy-token"
	RuleSecretInScript    = "migrate-secret-in-script"
	RuleWorkflowInvalid   = "migrate-workflow-invalid"
	RuleRewriteRefused    = "migrate-rewrite-refused"
	// RuleReusableIDToken is a warning: a job that calls a reusable
	// workflow needing id-token: write does not grant it.
	RuleReusableIDToken = "migrate-reusable-id-token"
)

// Rule describes one rule id: its default severity, and what the reports
// say about it (SARIF rule metadata, the documentation page).
type Rule struct {
	ID, Title string
	// Severity is the severity of the rule's findings; --fail-on compares
	// against it.
	Severity trust.Severity
	// Description says what the rule catches and why it matters; Help is
	// the remedy.
	Description, Help string
}

// DocPath is the rule's documentation page relative to the repository
// root; lint's checks live in the same directory.
func (r Rule) DocPath() string { return "docs/checks/" + r.ID + ".md" }

// Rules lists the rules, in SARIF rule-index order.
//
// The credential rules are high: a stored key works from anywhere until
// someone rotates it, so one leaked log or compromised action hands it
// out. Deploy tokens are medium because many services have no OIDC
// federation to move to yet.
var Rules = []Rule{
	{RuleAWSStaticKeys, "Static AWS access keys from secrets", trust.High,
		"An IAM user's access key pair is stored as repository secrets and given to the job, through configure-aws-credentials, AWS_* environment variables or any other action. The key never expires and works from anywhere.",
		"Replace the keys by OIDC: uses oidc-exchange/oidc-exchange@v1 with role-to-assume, permissions id-token: write, and a role trusting this workflow."},
	{RuleGCPCredentialsKey, "Google service-account key from secrets", trust.High,
		"A service-account JSON key is stored as a secret and given to google-github-actions/auth, setup-gcloud, another action or the environment. Keys are valid until deleted, by default for ever.",
		"Use workload identity federation: oidc-exchange with provider gcp, workload-identity-provider and service-account."},
	{RuleAzureCreds, "Azure client secret from secrets", trust.High,
		"A service principal's client secret is stored as a secret: the creds JSON of azure/login or aks-set-context, or AZURE_CLIENT_SECRET / ARM_CLIENT_SECRET in the environment.",
		"Use azure/login with client-id, tenant-id and subscription-id and a federated identity credential."},
	{RuleVaultToken, "Long-lived Vault token", trust.High,
		"hashicorp/vault-action logs in with a stored Vault token instead of the job's OIDC token.",
		"Use hashicorp/vault-action with method: jwt and a role bound to this workflow's claims."},
	{RuleDeployToken, "Long-lived deploy token", trust.Medium,
		"A deploy action is given a stored API token or password. Some of these services accept GitHub's OIDC token instead.",
		"Check whether the service accepts GitHub OIDC tokens, and use them instead."},
	{RuleSecretInScript, "Cloud secret interpolated into a script", trust.High,
		"A cloud secret is written into a run: script with ${{ }}: it becomes part of the script text, and the migration cannot follow where it goes.",
		"Move the secret to env: or, better, replace it by OIDC; the migration leaves this job untouched."},
	{RuleWorkflowInvalid, "Workflow file could not be read", trust.Medium,
		"A file under .github/workflows is not valid YAML or not a workflow mapping, so it was not scanned: stored keys in it are not reported.",
		"Fix the file (GitHub rejects it too), or move it out of .github/workflows, and scan again."},
	{RuleRewriteRefused, "Job not rewritten", trust.Info,
		"migrate --write leaves this job, and with it its file, as it is; the message gives the reason. The credential findings of the job stay open.",
		"Migrate the job by hand with the replacement step and trust configuration of the report, or remove what stops the rewrite."},
	{RuleReusableIDToken, "Caller of a reusable workflow does not grant id-token: write", trust.Medium,
		"A reusable workflow (on: workflow_call) has a job that gets its credentials by OIDC, after --write or already, so it needs id-token: write, which a called workflow has only when the calling job grants it. Reported on each job of the scanned workflows that calls it (uses: ./.github/workflows/FILE, or OWNER/REPO/.github/workflows/FILE@REF of the scanned repository) without granting it, or on the reusable workflow when no scanned workflow calls it.",
		"Add id-token: write to the permissions of every job that calls the reusable workflow, in this repository and in others; permissions: write-all grants it, no permissions block does not."},
}

// ruleByID returns the rule with id; every finding names one of [Rules].
func ruleByID(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
